"""Training the click segmentation network with simulated clicks.

Each batch: object crops as for the objectness networks; a first positive click
inside the object (at least half its deepest distance from the edge), sometimes
a few random extra clicks; then 0-2 rounds in which the network's own
prediction (no gradient) gets a corrective click at the centre of its largest
error, as in RITM's iterative training (0-4 rounds in the second half of
training, where many-click behaviour is learnt; ``--max-rounds``,
``--late-max-rounds`` and ``--max-clicks`` change these counts); finally a gradient step on the
prediction from all clicks and the previous prediction as the mask plane.
With ``--perturb-p P`` a share P of the samples instead get the target perturbed
(grown, shrunk, or with a blob added or cut across the outline) as their previous
mask plus the protocol's click on it, so the network also learns to undo a
previous mask that is far off (a first mask that spread over the background,
say) and not only the small errors of its own output on object-centred crops.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from ..core.click_simulation import first_click, next_click
from ..nets import ClickNet, click_planes
from .data import folder_means, load_fit_and_validation, make_batch, spread_indices
from .losses import batch_iou, edge_weights, map_loss
from .objectness import BOUNDARY_POS_WEIGHT

#: Up to this many corrective rounds are simulated before the gradient step...
MAX_ROUNDS = 2
#: ...and up to this many in the second half of training (NoC counts clicks up to 20).
LATE_MAX_ROUNDS = 4
#: Most clicks a training sample carries.
MAX_TRAIN_CLICKS = 10


def max_rounds(step: int, steps: int, early: int = MAX_ROUNDS, late: int = LATE_MAX_ROUNDS) -> int:
    """Most corrective rounds simulated at ``step`` of ``steps``: ``early`` in the first half, ``late`` after."""
    return late if step >= steps // 2 else early


def build_click(init=None, pretrained=None) -> ClickNet:
    """A fresh ClickNet: from objectness weights (``init``, safetensors) or an ImageNet encoder (``pretrained``).

    The click planes' stem always starts at zero, so the network starts as the RGB one.
    """
    from ..core.weights import resolve_weights_path
    from safetensors.torch import load_file

    model = ClickNet()
    if init is not None:
        state = load_file(str(resolve_weights_path(init)))
        own = model.state_dict()
        missing = [k for k in own if k not in state and not k.startswith("encoder.extra_stem")]
        if missing:
            raise ValueError(f"{init} is not an objectness weights file (missing {missing[:3]})")
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    elif pretrained is not None:
        model.encoder.load_imagenet(torch.load(pretrained, map_location="cpu", weights_only=True))
    return model


def random_extra_clicks(rng: np.random.Generator, mask: np.ndarray, count: int) -> list:
    """``count`` random clicks: positive inside the object, negative in a band around it."""
    near = ndimage.binary_dilation(mask, iterations=max(3, int(0.1 * mask.shape[0]))) & ~mask
    out = []
    for _ in range(count):
        region = mask if rng.random() < 0.5 else near
        ys, xs = np.nonzero(region)
        if len(ys):
            i = rng.integers(len(ys))
            out.append((xs[i] + 0.5, ys[i] + 0.5, 1.0 if region is mask else -1.0))
    return out


def perturbed_mask(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """``mask`` made wrong in one of four ways, as a previous mask to correct.

    Parameters
    ----------
    mask : (H, W) bool, not empty

    Returns
    -------
    (H, W) bool
        The mask grown by 10-50 % of the object's size (square root of its area,
        pixels), shrunk by 5-25 %, or with a disc of radius 15-50 % of its size,
        centred on a random outline pixel, added to it or cut out of it.
    """
    size = float(np.sqrt(mask.sum()))
    kind = rng.integers(4)
    if kind == 0:
        return ndimage.distance_transform_edt(~mask) <= rng.uniform(0.1, 0.5) * size
    if kind == 1:
        shrunk = ndimage.distance_transform_edt(mask) > rng.uniform(0.05, 0.25) * size
        return shrunk if shrunk.any() else mask.copy()
    outline = mask & ~ndimage.binary_erosion(mask)
    ys, xs = np.nonzero(outline)
    i = rng.integers(len(ys))
    rows, cols = np.ogrid[: mask.shape[0], : mask.shape[1]]
    disc = (rows - ys[i]) ** 2 + (cols - xs[i]) ** 2 <= (rng.uniform(0.15, 0.5) * size) ** 2
    return mask | disc if kind == 2 else mask & ~disc


def perturb_previous(rng: np.random.Generator, previous: torch.Tensor, click_lists, targets: np.ndarray,
                     share: float, max_clicks: int = MAX_TRAIN_CLICKS) -> torch.Tensor:
    """Replace a random ``share`` of the previous masks by perturbed targets, each with the protocol's click on it.

    Parameters
    ----------
    previous : (N, 1, H, W) float tensor of 0 / 1
    click_lists : N lists of (x, y, sign), extended in place for the chosen samples
    targets : (N, H, W) bool
    share : probability that a sample is chosen

    Returns
    -------
    (N, 1, H, W) float tensor: ``previous`` with the chosen samples' planes replaced.
    """
    previous = previous.clone()
    for i, (clicks, target) in enumerate(zip(click_lists, targets)):
        if rng.random() >= share or not target.any():
            continue
        wrong = perturbed_mask(rng, target)
        previous[i, 0] = torch.from_numpy(wrong.astype(np.float32)).to(previous.device)
        add_corrections([clicks], wrong[None], target[None], max_clicks)
    return previous


def clicks_tensor(click_lists, device) -> torch.Tensor:
    """Pad per-sample lists of (x, y, sign) to an (N, K, 3) tensor."""
    k = max(1, max(len(c) for c in click_lists))
    out = torch.zeros((len(click_lists), k, 3), device=device)
    for i, clicks in enumerate(click_lists):
        if clicks:
            out[i, : len(clicks)] = torch.tensor(clicks, dtype=torch.float32, device=device)
    return out


def add_corrections(click_lists, predictions: np.ndarray, targets: np.ndarray,
                    max_clicks: int = MAX_TRAIN_CLICKS) -> None:
    """Append the protocol's next click to every sample with fewer than ``max_clicks`` clicks and an error."""
    for clicks, pred, target in zip(click_lists, predictions, targets):
        if len(clicks) >= max_clicks:
            continue
        c = next_click(pred, target)
        if c is not None:  # simulated clicks sit at pixel centres, as the click planes expect
            clicks.append((c.x, c.y, 1.0 if c.positive else -1.0))


def forward_with_clicks(model, images, click_lists, previous):
    size = images.shape[-2:]
    planes = click_planes(clicks_tensor(click_lists, images.device), size, previous)
    return model(torch.cat([images, planes], dim=1))


def run(args) -> dict:
    """Entry point of ``python -m segwidgets.train click``."""
    from .loop import train

    torch.set_num_threads(args.threads)
    fit, validation = load_fit_and_validation(args)
    model = build_click(args.init, args.pretrained).to(args.device)

    sizes = list(range(args.size - args.size_jitter, args.size + args.size_jitter + 1, 32)) or [args.size]

    def loss_fn(rng, step):
        size = int(rng.choice(sizes))
        images, masks, edges = (t.to(args.device) for t in make_batch(rng, fit, args.batch_size, size))
        targets = masks[:, 0].cpu().numpy() > 0.5
        click_lists = []
        for target in targets:
            c = first_click(target, rng)
            extra = random_extra_clicks(rng, target, rng.integers(0, 3)) if rng.random() < 0.3 else []
            click_lists.append([(c.x, c.y, 1.0)] + extra)
        previous = torch.zeros_like(masks)
        rounds = rng.integers(0, max_rounds(step, args.steps, args.max_rounds, args.late_max_rounds) + 1)
        with torch.no_grad():
            for _ in range(rounds):
                logits = forward_with_clicks(model, images, click_lists, previous)
                previous = (logits[:, :1] > 0).float()
                add_corrections(click_lists, previous[:, 0].cpu().numpy() > 0.5, targets, args.max_clicks)
        if args.perturb_p > 0:
            previous = perturb_previous(rng, previous, click_lists, targets, args.perturb_p, args.max_clicks)
        logits = forward_with_clicks(model, images, click_lists, previous)
        lp = map_loss(logits[:, :1], masks, weight=edge_weights(edges, args.edge_weight))
        lb = map_loss(logits[:, 1:], edges, pos_weight=BOUNDARY_POS_WEIGHT)
        return lp + 0.5 * lb, {"lp": lp.item(), "lb": lb.item()}

    val_rng = np.random.default_rng(1234)
    val_items = [validation[i] for i in spread_indices(len(validation), 96)]  # from every folder
    val_batches = [make_batch(val_rng, val_items, 0, args.size, augment=False, indices=range(i, min(i + 16, len(val_items))))
                   for i in range(0, len(val_items), 16)]

    def evaluate():
        """Mean IoU after 1, 3 and 5 protocol clicks (network alone) on validation crops."""
        curves = []
        for images, masks, _ in val_batches:
            images = images.to(args.device)
            targets = masks[:, 0].numpy() > 0.5
            click_lists = [[] for _ in targets]
            add_corrections(click_lists, np.zeros_like(targets), targets)
            previous = torch.zeros_like(masks).to(args.device)
            batch_curve = []
            for _ in range(5):
                logits = forward_with_clicks(model, images, click_lists, previous)
                previous = (logits[:, :1] > 0).float()
                batch_curve.append(batch_iou(logits[:, :1], masks.to(args.device)).cpu().numpy())
                add_corrections(click_lists, previous[:, 0].cpu().numpy() > 0.5, targets)
            curves.append(np.stack(batch_curve, 1))
        curves = np.concatenate(curves)
        return {**{f"val_iou@{k}": round(float(curves[:, k - 1].mean()), 4) for k in (1, 3, 5)},
                **folder_means(curves[:, 2], val_items, "val_iou@3")}

    return train(model, loss_fn, evaluate, args.out, steps=args.steps, lr=args.lr, eval_every=args.eval_every,
                 checkpoint_every=args.checkpoint_every, weights_name="click.safetensors", resume=not args.restart,
                 eval_at_start=args.init is not None)
