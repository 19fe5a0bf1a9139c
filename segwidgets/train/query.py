"""Training the query-object finder on synthetic pairs (``python -m segwidgets.train query``).

Pairs are drawn on the fly by :func:`segwidgets.data.query_pairs.make_pair` from
the ``fit`` part of the train split (validation pairs from the ``validation``
part, drawn once; the test split is never read). Each batch: search composites
(N, 3, S, S); the query at every scale of ``pipelines.query.SCALES`` around its
own size, padded (black, bottom/right, as the encoder pads) to one size per
scale so the N queries encode in one pass and correlate in one grouped
convolution; the target is the pasted object's visible mask.

Losses on the fused heat map ``h = sigmoid(logits)`` at the search resolution:
- ``double_margin`` (default): object pixels pushed above ``POSITIVE_MARGIN``,
  the rest below ``NEGATIVE_MARGIN`` (squared hinge, each side averaged over its
  own pixels so small objects count as much as large ones); values already past
  their margin cost nothing, so the network spends its capacity on the hard pixels;
- ``l2``: plain mean squared error against the mask (the baseline).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..data.query_pairs import QueryPair, load_cutouts, make_pair
from ..nets.query import QUERY_STRIDE, QueryNet
from ..pipelines.query import SCALES, scaled_sizes
from .data import load_fit_and_validation
from .loop import write_run_card

#: Double-margin loss: object pixels should score at least this, others at most NEGATIVE_MARGIN.
POSITIVE_MARGIN, NEGATIVE_MARGIN = 0.8, 0.2
LOSSES = ("double_margin", "l2")


def double_margin_loss(heat: torch.Tensor, target: torch.Tensor,
                       positive: float = POSITIVE_MARGIN, negative: float = NEGATIVE_MARGIN) -> torch.Tensor:
    """Squared hinge below ``positive`` on object pixels plus above ``negative`` elsewhere.

    ``heat``, ``target``: (N, 1, H, W), heat in [0, 1], target {0, 1}. Each term is
    averaged over its own pixels per image, then over the batch.
    """
    pos = target > 0.5
    up = F.relu(positive - heat) ** 2
    down = F.relu(heat - negative) ** 2
    dims = (1, 2, 3)
    pos_term = (up * pos).sum(dims) / pos.sum(dims).clamp_min(1)
    neg_term = (down * ~pos).sum(dims) / (~pos).sum(dims).clamp_min(1)
    return (pos_term + neg_term).mean()


def l2_loss(heat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the heat map against the mask (the baseline)."""
    return F.mse_loss(heat, target)


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb, np.float32) / 255.0).permute(2, 0, 1)


def encode_queries(model: QueryNet, queries: list[np.ndarray], search_hw, device) -> tuple[list, list]:
    """Embed each query at every scale; per scale one padded batch.

    Returns ``(features, supports)``: per scale an (N, C, kh, kw) embedding (zero
    outside each query's own cells) and its (N, 1, kh, kw) support.
    """
    sizes = [scaled_sizes(q.shape[:2], max(q.shape[:2]), search_hw) for q in queries]
    features, supports = [], []
    for k in range(len(SCALES)):
        scaled = [np.asarray(Image.fromarray(q).resize((w, h), Image.BILINEAR)) for q, (h, w) in
                  zip(queries, (s[k] for s in sizes))]
        ch = max(s.shape[0] for s in scaled)
        cw = max(s.shape[1] for s in scaled)
        canvas = torch.zeros(len(scaled), 3, ch, cw)
        for i, s in enumerate(scaled):
            canvas[i, :, :s.shape[0], :s.shape[1]] = _tensor(s)
        embedding, _ = model.encode(canvas.to(device))
        support = torch.zeros(len(scaled), 1, *embedding.shape[-2:], device=device)
        for i, s in enumerate(scaled):
            support[i, :, :-(-s.shape[0] // QUERY_STRIDE), :-(-s.shape[1] // QUERY_STRIDE)] = 1
        features.append(embedding * support)
        supports.append(support)
    return features, supports


def pair_batch(pairs: list[QueryPair], device):
    """Search images (N, 3, H, W), masks (N, 1, H, W) and the query list of a batch of pairs."""
    search = torch.stack([_tensor(p.search) for p in pairs]).to(device)
    masks = torch.stack([torch.from_numpy(p.mask[None].astype(np.float32)) for p in pairs]).to(device)
    return search, masks, [p.query for p in pairs]


def predict(model: QueryNet, search: torch.Tensor, queries: list[np.ndarray]):
    """(per-scale correlation maps (N, S, h, w), heat logits at search size (N, 1, H, W))."""
    features, supports = encode_queries(model, queries, search.shape[-2:], search.device)
    per_scale, logits = model(search, features, supports)
    return per_scale, F.interpolate(logits, size=search.shape[-2:], mode="bilinear", align_corners=False)


def heat_metrics(heat: torch.Tensor, masks: torch.Tensor) -> dict:
    """Peak inside the object (fraction of pairs) and IoU of ``heat > 0.5`` with the mask."""
    n = heat.shape[0]
    flat = heat.flatten(1)
    peak_hit = masks.flatten(1).gather(1, flat.argmax(1, keepdim=True)).squeeze(1)
    pred = heat > 0.5
    target = masks > 0.5
    inter = (pred & target).flatten(1).sum(1).float()
    union = (pred | target).flatten(1).sum(1).float().clamp_min(1)
    return {"peak_hit": float(peak_hit.mean()), "heat_iou": float((inter / union).mean()), "pairs": n}


def build_query(pretrained=None, init=None) -> QueryNet:
    """A fresh QueryNet: from our weights (``init``, safetensors) or an ImageNet encoder (``pretrained``)."""
    from ..core.weights import load_weights

    model = QueryNet()
    if init is not None:
        load_weights(model, init)
    elif pretrained is not None:
        model.encoder.load_imagenet(torch.load(pretrained, map_location="cpu", weights_only=True))
    return model


def write_model_card(out: Path, args, metrics: dict, seconds: float) -> None:
    """``out/MODEL_CARD.md``: data, split, steps, hardware, time and validation numbers of this run."""
    write_run_card(out, "Query-object finder (`query.safetensors`)",
                   f"python -m segwidgets.train query --out {out} --steps {args.steps} --batch-size {args.batch_size} "
                   f"--size {args.size} --loss {args.loss}",
                   [f"data: synthetic pairs from the `fit` part of the train split of every folder under {args.data} "
                    f"(validation pairs from its `validation` part; the test split is never read)",
                    f"loss: {args.loss}; scales {SCALES}; search crops {args.size} px"],
                   args, metrics, seconds)


def run(args) -> dict:
    """Entry point of ``python -m segwidgets.train query``."""
    from .loop import train

    torch.set_num_threads(args.threads)
    fit, validation = load_fit_and_validation(args, load_cutouts, "objects")
    model = build_query(args.pretrained, args.init).to(args.device)
    loss_of = double_margin_loss if args.loss == "double_margin" else l2_loss
    shape = (args.size, args.size)
    query_side = (0.15 * args.size, 0.5 * args.size)

    def loss_fn(rng, step):
        pairs = [make_pair(rng, fit, shape, query_side=query_side) for _ in range(args.batch_size)]
        search, masks, queries = pair_batch(pairs, args.device)
        _, logits = predict(model, search, queries)
        heat = torch.sigmoid(logits)
        loss = loss_of(heat, masks)
        return loss, {"hit": heat_metrics(heat.detach(), masks)["peak_hit"]}

    val_rng = np.random.default_rng(4321)
    val_pairs = [make_pair(val_rng, validation, shape, query_side=query_side) for _ in range(args.val_pairs)]

    def evaluate():
        """Peak hit rate and heat-map IoU on the fixed validation pairs, and both losses."""
        totals = {"peak_hit": 0.0, "heat_iou": 0.0, "double_margin": 0.0, "l2": 0.0}
        for i in range(0, len(val_pairs), 8):
            search, masks, queries = pair_batch(val_pairs[i:i + 8], args.device)
            heat = torch.sigmoid(predict(model, search, queries)[1])
            m = heat_metrics(heat, masks)
            n = m["pairs"]
            totals["peak_hit"] += m["peak_hit"] * n
            totals["heat_iou"] += m["heat_iou"] * n
            totals["double_margin"] += float(double_margin_loss(heat, masks)) * n
            totals["l2"] += float(l2_loss(heat, masks)) * n
        return {f"val_{k}": round(v / len(val_pairs), 4) for k, v in totals.items()}

    t0 = time.time()
    metrics = train(model, loss_fn, evaluate, args.out, steps=args.steps, lr=args.lr, eval_every=args.eval_every,
                    checkpoint_every=args.checkpoint_every, weights_name="query.safetensors", resume=not args.restart)
    write_model_card(Path(args.out), args, metrics, time.time() - t0)
    return metrics
