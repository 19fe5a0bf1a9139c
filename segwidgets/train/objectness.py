"""Training the probability + boundary networks on object crops.

Targets: the mask (probability head) and a band of +-2 px around its edge at
the training resolution (boundary head). With teachers (``--teachers``), both
targets are blended with the teachers' averaged maps (:func:`distillation_targets`):
one network learning what several averaged say.
"""
from __future__ import annotations

import numpy as np
import torch

from ..nets import ObjectnessNet
from .data import folder_means, load_fit_and_validation, make_batch
from .losses import batch_iou, edge_weights, map_loss

#: Positive weight of the boundary loss: edge pixels are a few % of a crop.
BOUNDARY_POS_WEIGHT = 4.0


def build_objectness(pretrained=None, init=None) -> ObjectnessNet:
    """A network from objectness weights (``init``, safetensors, e.g. the shipped ones) or a fresh one whose
    encoder comes from a torchvision MobileNetV2 state-dict file (``pretrained``) if given."""
    from ..core.weights import load_weights

    model = ObjectnessNet()
    if init is not None:
        load_weights(model, init)
    elif pretrained is not None:
        model.encoder.load_imagenet(torch.load(pretrained, map_location="cpu", weights_only=True))
    return model


def objectness_losses(model, images, masks, edges, edge_weight: float = 0.0, targets=None):
    """Logits and the P and B losses; ``edge_weight`` > 0 weights P's cross-entropy by ``1 + edge_weight`` in
    the edge band (:func:`losses.edge_weights`). ``targets``: (P, B) soft targets, each (N, 1, H, W) in [0, 1],
    used instead of ``masks`` and ``edges`` (which still place the edge weights)."""
    logits = model(images)
    p_target, b_target = targets if targets is not None else (masks, edges)
    lp = map_loss(logits[:, :1], p_target, weight=edge_weights(edges, edge_weight))
    lb = map_loss(logits[:, 1:], b_target, pos_weight=BOUNDARY_POS_WEIGHT)
    return logits, lp, lb


@torch.no_grad()
def distillation_targets(teachers, images, masks, edges, share: float):
    """Soft targets ``(1 - share) * ground truth + share * the teachers' mean probability``.

    Parameters
    ----------
    teachers : sequence of nn.Module in eval mode, each mapping (N, 3, H, W) to (N, 2, H, W) logits
    images : (N, 3, H, W) float in [0, 1]
    masks, edges : (N, 1, H, W) float in {0, 1}
    share : float in [0, 1]

    Returns
    -------
    (P target, B target), each (N, 1, H, W) float in [0, 1].
    """
    mean = torch.stack([torch.sigmoid(t(images).float()) for t in teachers]).mean(0)
    return (1 - share) * masks + share * mean[:, :1], (1 - share) * edges + share * mean[:, 1:]


def run(args) -> dict:
    """Entry point of ``python -m segwidgets.train objectness``."""
    from .loop import train

    torch.set_num_threads(args.threads)
    fit, validation = load_fit_and_validation(args)
    model = build_objectness(args.pretrained, args.init).to(args.device)
    teachers = [build_objectness(init=path).to(args.device).eval() for path in args.teachers]

    def loss_fn(rng, step):
        images, masks, edges = (t.to(args.device) for t in make_batch(rng, fit, args.batch_size, args.size))
        targets = distillation_targets(teachers, images, masks, edges, args.distill) if teachers else None
        logits, lp, lb = objectness_losses(model, images, masks, edges, args.edge_weight, targets)
        return lp + lb, {"lp": lp.item(), "lb": lb.item()}

    val_rng = np.random.default_rng(1234)
    val_batches = [make_batch(val_rng, validation, 0, args.size, augment=False, indices=range(i, min(i + 16, len(validation))))
                   for i in range(0, len(validation), 16)]

    def evaluate():
        ious, edge_ious, lps, lbs = [], [], [], []
        for images, masks, edges in val_batches:
            images, masks, edges = images.to(args.device), masks.to(args.device), edges.to(args.device)
            logits, lp, lb = objectness_losses(model, images, masks, edges, args.edge_weight)
            ious.append(batch_iou(logits[:, :1], masks))
            edge_ious.append(batch_iou(logits[:, 1:], edges))
            lps.append(lp.item())
            lbs.append(lb.item())
        ious = torch.cat(ious).cpu().numpy()
        return {"val_iou": round(float(ious.mean()), 4), "val_edge_iou": round(torch.cat(edge_ious).mean().item(), 4),
                "val_loss_p": round(float(np.mean(lps)), 4), "val_loss_b": round(float(np.mean(lbs)), 4),
                **folder_means(ious, validation, "val_iou")}

    return train(model, loss_fn, evaluate, args.out, steps=args.steps, lr=args.lr, eval_every=args.eval_every,
                 checkpoint_every=args.checkpoint_every, weights_name="objectness.safetensors", resume=not args.restart,
                 eval_at_start=args.init is not None)
