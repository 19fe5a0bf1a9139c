"""Training the feature-masking segment classifier and the per-pixel baseline on ``ccp_person``.

``python -m segwidgets.train semantic --out DIR [--head masking|pixel]``.

Both heads see the same images (the ``fit`` part of the train split, whole photos at
their own size, mirrored at random, colour-jittered) for the same number of steps.
The masking head is trained on candidate segments (``pipelines.segments``, the same
generator inference uses; computed once per image and kept in ``--cache``), a
random subset per image per step, each with a soft target: the fraction of its
pixels in each class (its overlap with the ground truth). The pixel head is trained
with per-pixel cross-entropy. Validation: mean IoU over the 8 classes on the
``validation`` part, labelling pixels exactly as ``pipelines.semantic`` does.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..data.semantic import CLASS_NAMES, load_labelled
from ..eval.metrics import class_ious, confusion_matrix
from ..nets.semantic import CLASS_COUNT, FeatureMaskingNet, PixelHeadNet
from ..pipelines.segments import Segments, candidate_segments
from ..pipelines.semantic import STRIDE, pixel_probabilities, segment_grid, softmax
from .data import color_jitter
from .loop import write_run_card

WEIGHTS_NAMES = {"masking": "semantic.safetensors", "pixel": "semantic_pixel.safetensors"}


def segment_targets(segments: Segments, classes: np.ndarray, class_count: int = CLASS_COUNT) -> np.ndarray:
    """(N, class_count) float32: the fraction of each segment's pixels in each ground-truth class."""
    counts = np.zeros((segments.count, class_count), np.float64)
    for layer in segments.layers:
        covered = layer >= 0
        index = layer[covered].astype(np.int64) * class_count + classes[covered]
        counts += np.bincount(index, minlength=segments.count * class_count).reshape(-1, class_count)
    return (counts / np.maximum(counts.sum(1, keepdims=True), 1)).astype(np.float32)


class CandidateCache:
    """Candidate segments and their targets per image, computed once (kept in memory and, given a
    folder, as ``NAME.npz`` there so later runs and the other head's comparisons reuse them)."""

    def __init__(self, folder=None):
        self.folder = Path(folder) if folder else None
        self._memory: dict[str, tuple[Segments, np.ndarray]] = {}
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def get(self, example) -> tuple[Segments, np.ndarray]:
        if example.name in self._memory:
            return self._memory[example.name]
        path = self.folder / f"{example.name}.npz" if self.folder else None
        segments = None
        if path is not None and path.exists():
            with np.load(path) as stored:
                if stored["layers"].shape[1:] == example.classes.shape:
                    segments = Segments(stored["layers"], tuple(str(s) for s in stored["sources"]))
        if segments is None:
            segments = candidate_segments(example.image)
            if path is not None:
                tmp = path.with_suffix(".tmp.npz")
                np.savez_compressed(tmp, layers=segments.layers, sources=np.array(segments.sources))
                os.replace(tmp, path)
        entry = (segments, segment_targets(segments, example.classes))
        self._memory[example.name] = entry
        return entry


def _pad_stack(images: list[torch.Tensor], fill: float) -> torch.Tensor:
    h = max(t.shape[-2] for t in images)
    w = max(t.shape[-1] for t in images)
    return torch.stack([F.pad(t, (0, w - t.shape[-1], 0, h - t.shape[-2]), value=fill) for t in images])


def _image_tensor(rng, image: np.ndarray, flip: bool, augment: bool) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(image[:, ::-1] if flip else image)).permute(2, 0, 1).float() / 255.0
    return color_jitter(rng, tensor) if augment else tensor


def masking_batch(rng, examples, cache: CandidateCache, batch_size: int, segments_per_image: int):
    """Images (B, 3, H, W) (padded), grid masks (N, gh, gw), boxes (N, 4), image index (N,), targets (N, C)."""
    images, masks, boxes, owners, targets = [], [], [], [], []
    for b, index in enumerate(rng.integers(0, len(examples), batch_size)):
        example = examples[index]
        segments, fractions = cache.get(example)
        flip = rng.random() < 0.5
        if flip:
            segments = Segments(np.ascontiguousarray(segments.layers[:, :, ::-1]), segments.sources)
        h, w = example.classes.shape
        grid = (-(-h // STRIDE), -(-w // STRIDE))
        grid_masks, grid_box = segment_grid(segments, grid)
        chosen = rng.choice(segments.count, min(segments_per_image, segments.count), replace=False)
        images.append(_image_tensor(rng, example.image, flip, True))
        masks.append(grid_masks[chosen])
        boxes.append(grid_box[chosen])
        owners.append(np.full(len(chosen), b))
        targets.append(fractions[chosen])
    gh = max(m.shape[1] for m in masks)
    gw = max(m.shape[2] for m in masks)
    masks = [np.pad(m, ((0, 0), (0, gh - m.shape[1]), (0, gw - m.shape[2]))) for m in masks]
    return (_pad_stack(images, 0.0), torch.from_numpy(np.concatenate(masks)).float(),
            torch.from_numpy(np.concatenate(boxes)).float(), torch.from_numpy(np.concatenate(owners)),
            torch.from_numpy(np.concatenate(targets)))


def pixel_batch(rng, examples, batch_size: int):
    """Images (B, 3, H, W) and class maps (B, H, W) long, padding marked -1 (ignored)."""
    images, labels = [], []
    for index in rng.integers(0, len(examples), batch_size):
        example = examples[index]
        flip = rng.random() < 0.5
        images.append(_image_tensor(rng, example.image, flip, True))
        classes = example.classes[:, ::-1] if flip else example.classes
        labels.append(torch.from_numpy(np.ascontiguousarray(classes)).long())
    return _pad_stack(images, 0.0), _pad_stack(labels, -1)


def masking_predict(model: FeatureMaskingNet, image: np.ndarray, segments: Segments, labelling: str = "vote",
                    device="cpu") -> np.ndarray:
    """(h, w) class map of one image by the masking head, labelled as ``pipelines.semantic`` does."""
    x = torch.tensor(image).permute(2, 0, 1)[None].float().to(device) / 255.0
    features = model.encode(x)
    grid_masks, boxes = segment_grid(segments, features.shape[-2:])
    boxes = torch.from_numpy(boxes).float().to(device)
    logits = model.classify(features, torch.from_numpy(grid_masks).float().to(device), boxes)
    scores = softmax(logits.float().cpu().numpy())
    return pixel_probabilities(segments, scores, labelling).argmax(0)


def pixel_predict(model: PixelHeadNet, image: np.ndarray, device="cpu") -> np.ndarray:
    """(h, w) class map of one image by the per-pixel head."""
    x = torch.tensor(image).permute(2, 0, 1)[None].float().to(device) / 255.0
    return model(x)[0].argmax(0).cpu().numpy()


def build_semantic(head: str, pretrained=None, init=None):
    """A fresh network of ``head`` ("masking" or "pixel"): ImageNet encoder from ``pretrained``,
    or every weight from ``init`` (a .safetensors file of the same head)."""
    from ..core.weights import load_weights

    model = FeatureMaskingNet() if head == "masking" else PixelHeadNet()
    if init is not None:
        load_weights(model, init)
    elif pretrained is not None:
        model.encoder.load_imagenet(torch.load(pretrained, map_location="cpu", weights_only=True))
    return model


def write_model_card(out: Path, args, metrics: dict, seconds: float, fit_count: int, val_count: int) -> None:
    """``out/MODEL_CARD.md``: data, split, steps, hardware, time and validation numbers of this run."""
    write_run_card(out, f"Semantic segmentation, {args.head} head (`{WEIGHTS_NAMES[args.head]}`)",
                   f"python -m segwidgets.train semantic --head {args.head} --out {out} --steps {args.steps} "
                   f"--batch-size {args.batch_size}",
                   [f"data: {args.data}, label maps grouped into {len(CLASS_NAMES)} classes ({', '.join(CLASS_NAMES)}); "
                    f"{fit_count} `fit` images of the train split, {val_count} `validation` images; test split never read"],
                   args, metrics, seconds)


def run(args) -> dict:
    """Entry point of ``python -m segwidgets.train semantic``."""
    from .loop import train

    torch.set_num_threads(args.threads)
    fit = load_labelled(args.data, "fit", args.limit)
    validation = load_labelled(args.data, "validation", args.limit)[:args.val_images]
    print(f"training on {len(fit)} images, validating on {len(validation)} (test split never read)")
    model = build_semantic(args.head, args.pretrained, args.init).to(args.device)
    cache = CandidateCache(args.cache or Path(args.out) / "candidates")

    if args.head == "masking":
        def loss_fn(rng, step):
            images, masks, boxes, owners, targets = masking_batch(rng, fit, cache, args.batch_size, args.segments)
            logits = model(images.to(args.device), masks.to(args.device), boxes.to(args.device), owners.to(args.device))
            loss = -(targets.to(args.device) * F.log_softmax(logits, 1)).sum(1).mean()
            hit = (logits.argmax(1).cpu() == targets.argmax(1)).float().mean().item()
            return loss, {"acc": hit}
    else:
        def loss_fn(rng, step):
            images, labels = pixel_batch(rng, fit, args.batch_size)
            logits = model(images.to(args.device))
            loss = F.cross_entropy(logits, labels.to(args.device), ignore_index=-1)
            return loss, {}

    def evaluate():
        confusion = np.zeros((CLASS_COUNT, CLASS_COUNT), np.int64)
        for example in tqdm(validation, desc="validating", leave=False):
            if args.head == "masking":
                predicted = masking_predict(model, example.image, cache.get(example)[0], device=args.device)
            else:
                predicted = pixel_predict(model, example.image, args.device)
            confusion += confusion_matrix(predicted, example.classes, CLASS_COUNT)
        ious = class_ious(confusion)
        return {"val_miou": round(float(np.nanmean(ious)), 4),
                "val_class_iou": [None if np.isnan(v) else round(float(v), 3) for v in ious]}

    t0 = time.time()
    metrics = train(model, loss_fn, evaluate, args.out, steps=args.steps, lr=args.lr, eval_every=args.eval_every,
                    checkpoint_every=args.checkpoint_every, weights_name=WEIGHTS_NAMES[args.head],
                    resume=not args.restart)
    write_model_card(Path(args.out), args, metrics, time.time() - t0, len(fit), len(validation))
    return metrics
