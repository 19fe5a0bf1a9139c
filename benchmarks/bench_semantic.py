"""Semantic segmentation on the ccp_person test split: feature masking against a per-pixel head, in one run.

(a) **ours**: ``pipelines.semantic.segment_semantic`` (candidate segments, features computed once,
    each segment's mask projected onto the feature grid, pyramid pooling, classes by score-weighted
    vote; the "best segment" labelling is scored too).
(b) **pixel head**: the standard alternative on the same encoder and features, a convolutional head
    scoring every grid cell, upsampled; trained by the same command for the same number of steps
    (``python -m segwidgets.train semantic --head pixel``).

Figures: mean IoU over the 8 classes and per class on the **test** split of ``seg/ccp_person``
(index % 10 == 0; never trained on), seconds per image.

Efficiency: the time to classify 200 segments of one image by feature masking (the image encoded
once, then one batched pass over the masks) against the per-segment alternative it replaces:
each segment's bounding-box crop, pixels outside the mask set to the mean colour, resized to
224 x 224 and run through the same encoder and classifier (batches of 16). Candidate generation
is the same for both and timed separately. One CPU thread unless ``--threads``.

    python benchmarks/bench_semantic.py [--data DIR] [--limit N] [--json PATH] [--threads N]
                                        [--weights PATH] [--pixel-weights PATH] [--speed-images N]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, add_engine_arguments, parser, print_table, write_json  # noqa: E402

from segwidgets.core.crops import CropWindow  # noqa: E402
from segwidgets.core.engine import Engine  # noqa: E402
from segwidgets.data.semantic import CLASS_NAMES, load_labelled  # noqa: E402
from segwidgets.eval.metrics import class_ious, confusion_matrix  # noqa: E402
from segwidgets.pipelines.segments import Segments, candidate_segments  # noqa: E402
from segwidgets.pipelines.semantic import STRIDE, segment_grid, segment_semantic  # noqa: E402

CROP_SIDE = 224
CROP_BATCH = 16
SPEED_SEGMENTS = 200


def per_segment_encoding(model, image: np.ndarray, segments: Segments, torch) -> np.ndarray:
    """Class logits of every segment by encoding its own masked, resized crop (the slow alternative)."""
    mean = image.reshape(-1, 3).mean(0)
    crops = []
    for k in range(segments.count):
        mask = segments.mask(k)
        ys, xs = np.nonzero(mask)
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        masked = np.where(mask[..., None], image, mean).astype(np.float32)
        window = CropWindow(box, (CROP_SIDE, CROP_SIDE), image.shape[:2])
        crops.append(window.to_local_map(masked) / 255.0)
    grid = -(-CROP_SIDE // STRIDE)
    full = torch.ones(1, grid, grid)
    whole = torch.tensor([[0.0, 0.0, grid - 1.0, grid - 1.0]])
    logits = []
    with torch.inference_mode():
        for start in range(0, len(crops), CROP_BATCH):
            batch = torch.from_numpy(np.stack(crops[start:start + CROP_BATCH])).permute(0, 3, 1, 2).float()
            features = model.encode(batch)
            n = batch.shape[0]
            logits.append(model.classify(features, full.expand(n, -1, -1), whole.expand(n, -1),
                                         torch.arange(n)))
    return torch.cat(logits).numpy()


def feature_masking(model, image: np.ndarray, segments: Segments, torch) -> np.ndarray:
    """Class logits of every segment from one encoding of the image."""
    with torch.inference_mode():
        x = torch.tensor(image).permute(2, 0, 1)[None].float() / 255.0
        features = model.encode(x)
        masks, boxes = segment_grid(segments, features.shape[-2:])
        return model.classify(features, torch.from_numpy(masks).float(), torch.from_numpy(boxes).float()).numpy()


def subset(segments: Segments, count: int, rng) -> Segments:
    """``count`` segments drawn at random, renumbered 0..count-1 (other pixels uncovered)."""
    chosen = np.sort(rng.choice(segments.count, min(count, segments.count), replace=False))
    renumber = np.full(segments.count + 1, -1, np.int32)
    renumber[chosen] = np.arange(len(chosen))
    layers = renumber[segments.layers]  # -1 maps through the last entry (-1)
    keep = (layers >= 0).any(axis=(1, 2))
    return Segments(layers[keep], tuple(s for s, k in zip(segments.sources, keep) if k))


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0], SHARED_DATA / "seg" / "ccp_person")
    add_engine_arguments(p)
    p.add_argument("--weights", default=None, help="feature-masking weights (default: the shipped semantic.safetensors)")
    p.add_argument("--pixel-weights", default="semantic_pixel.safetensors",
                   help="per-pixel head weights (default: the shipped semantic_pixel.safetensors)")
    p.add_argument("--speed-images", type=int, default=3, help="images timed for the 200-segment comparison")
    args = p.parse_args(argv)

    import torch

    threads = args.threads or 1
    torch.set_num_threads(threads)
    engine = Engine(args.device or "cpu", cpu_threads=threads)
    if args.weights:
        engine.load_weights("semantic", args.weights)
    engine.load_weights("semantic_pixel", args.pixel_weights)
    examples = load_labelled(args.data, "test", args.limit)
    classes = len(CLASS_NAMES)
    confusions = {name: np.zeros((classes, classes), np.int64) for name in ("ours", "ours_best", "pixel_head")}
    seconds = {name: 0.0 for name in confusions}
    candidate_seconds, segment_counts = 0.0, []
    print(f"{len(examples)} test images of {args.data}, {threads} CPU thread(s)")
    for i, example in enumerate(examples):
        engine.evict()
        t0 = time.perf_counter()
        ours = segment_semantic(example.image, engine=engine)
        seconds["ours"] += time.perf_counter() - t0
        candidate_seconds += ours.timings["segments"]
        segment_counts.append(ours.segments.count)
        t0 = time.perf_counter()
        best = segment_semantic(example.image, engine=engine, labelling="best")  # features cached: labels only
        # features and candidates come from the engine's cache: add what the first call spent on them
        seconds["ours_best"] += time.perf_counter() - t0 + ours.timings["features"] + ours.timings["segments"]
        t0 = time.perf_counter()
        pixel = engine.infer("semantic_pixel", example.image)["scores"].argmax(-1)
        seconds["pixel_head"] += time.perf_counter() - t0
        for name, labels in (("ours", ours.labels), ("ours_best", best.labels), ("pixel_head", pixel)):
            confusions[name] += confusion_matrix(labels, example.classes, classes)
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{len(examples)} images", flush=True)

    ious = {name: class_ious(c) for name, c in confusions.items()}
    labels = {"ours": "ours (feature masking, vote)", "ours_best": "ours (best segment)", "pixel_head": "pixel head"}
    print("\nMean IoU over the 8 classes (test split)")
    print_table(["method", "mIoU", "pixel accuracy", "s / image"],
                [[labels[n], float(np.nanmean(ious[n])), float(np.trace(c) / c.sum()), seconds[n] / len(examples)]
                 for n, c in confusions.items()])
    print("\nIoU per class")
    print_table(["class"] + [labels[n] for n in confusions],
                [[name] + [float(ious[n][k]) for n in confusions] for k, name in enumerate(CLASS_NAMES)])
    print(f"\ncandidate segments per image: mean {np.mean(segment_counts):.0f} "
          f"(min {min(segment_counts)}, max {max(segment_counts)}), {candidate_seconds / len(examples):.3f} s / image")

    # -- efficiency: 200 segments, one encoding against one encoding per segment --------------
    model = engine.model("semantic").float().eval()
    rng = np.random.default_rng(0)
    masking_times, crop_times, agreement = [], [], []
    for example in examples[:args.speed_images]:
        segments = subset(candidate_segments(example.image), SPEED_SEGMENTS, rng)
        t0 = time.perf_counter()
        fast = feature_masking(model, example.image, segments, torch)
        masking_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        slow = per_segment_encoding(model, example.image, segments, torch)
        crop_times.append(time.perf_counter() - t0)
        agreement.append(float((fast.argmax(1) == slow.argmax(1)).mean()))
    speedup = float(np.sum(crop_times) / np.sum(masking_times))
    print(f"\n{SPEED_SEGMENTS} segments per image, {len(masking_times)} images")
    print_table(["method", "s / 200 segments", "speed-up"],
                [["feature masking (encode once)", float(np.mean(masking_times)), speedup],
                 [f"encoder on each masked crop ({CROP_SIDE} px)", float(np.mean(crop_times)), 1.0]])
    print(f"(the two agree on the top class of {np.mean(agreement):.1%} of the segments)")

    def figures(name):
        return {"miou": float(np.nanmean(ious[name])), "pixel_accuracy": float(np.trace(confusions[name]) / confusions[name].sum()),
                "per_class": {c: (None if np.isnan(v) else float(v)) for c, v in zip(CLASS_NAMES, ious[name])},
                "seconds_per_image": seconds[name] / len(examples)}

    write_json(args.json, {"ours": figures("ours"), "ours_best_segment": figures("ours_best"),
                           "pixel_head": figures("pixel_head"), "speedup": speedup,
                           "seconds_200_segments": {"feature_masking": float(np.mean(masking_times)),
                                                    "per_segment_encoding": float(np.mean(crop_times))},
                           "images": len(examples), "threads": threads})
    return 0


if __name__ == "__main__":
    sys.exit(main())
