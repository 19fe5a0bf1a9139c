"""Boundary-aware object segmentation: the networks alone (a) vs the full pipeline (b).

On the test split (sorted index % 10 == 0) of each dataset, in automatic mode
(no box) and box mode (tight box from the ground truth), prints mean IoU and
mean boundary F-score (2 px tolerance) of
  (a) P > 0.5 (probability network, same crop as (b)), and
  (b) the full pipeline (crop expansion + graph cut with the refinement map),
then the median seconds per image end to end on images resized to ~0.5 MP.

    python benchmarks/bench_boundary_aware.py [--data DIR] [--datasets ccp_person human ecssd]
        [--split test] [--limit N] [--json PATH]

``--split validation`` scores the held-out part of the train split instead
(for choosing settings without touching the test split).
"""
from __future__ import annotations

import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import SHARED_DATA, add_engine_arguments, load_resized, parser, print_table, write_json  # noqa: E402

from segwidgets.core.engine import Engine  # noqa: E402
from segwidgets.core.image import as_rgb_image, box_from_mask  # noqa: E402
from segwidgets.data import list_pairs, load_mask, split_pairs  # noqa: E402
from segwidgets.eval import boundary_f_score, iou  # noqa: E402
from segwidgets.graphcut import GraphCutSettings  # noqa: E402
from segwidgets.graphcut.settings import options_from_strings  # noqa: E402
from segwidgets.pipelines import segment_object  # noqa: E402
from segwidgets.pipelines.boundary_aware import DEFAULT_GRAPH_CUT  # noqa: E402

MODES = ("auto", "box")


def score(dataset_dir, split, limit, engine, settings):
    pairs = split_pairs(list_pairs(dataset_dir / "images", dataset_dir / "masks"), split)[:limit]
    rows = {mode: {"a_iou": [], "b_iou": [], "a_bf": [], "b_bf": [], "seconds": []} for mode in MODES}
    for image_path, mask_path in pairs:
        image = as_rgb_image(image_path)
        target, ignore = load_mask(mask_path)
        if not target.any():
            continue
        for mode in MODES:
            box = box_from_mask(target) if mode == "box" else None
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = segment_object(image, box=box, engine=engine, **settings)
            r = rows[mode]
            r["seconds"].append(time.perf_counter() - start)
            r["a_iou"].append(iou(result.net_mask, target, ignore))
            r["b_iou"].append(iou(result.mask, target, ignore))
            r["a_bf"].append(boundary_f_score(result.net_mask, target, 2.0))
            r["b_bf"].append(boundary_f_score(result.mask, target, 2.0))
    return len(pairs), {mode: {k: float(np.mean(v)) for k, v in r.items()} for mode, r in rows.items()}


def time_half_megapixel(dataset_dir, split, engine, settings, count=5, repeats=2):
    """Median seconds per image end to end, images resized to ~0.5 MP."""
    pairs = split_pairs(list_pairs(dataset_dir / "images", dataset_dir / "masks"), split)[:count]
    times = {mode: [] for mode in MODES}
    for image_path, mask_path in pairs:
        image, target, _ = load_resized(image_path, mask_path)
        size = (image.shape[1], image.shape[0])
        for mode in MODES:
            box = box_from_mask(target) if mode == "box" else None
            for _ in range(repeats):
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    segment_object(image, box=box, engine=engine, **settings)
                times[mode].append(time.perf_counter() - start)
    return {mode: float(np.median(t)) for mode, t in times.items()}, size


def main(argv=None):
    p = parser(__doc__.split("\n")[0], SHARED_DATA / "seg")
    p.add_argument("--datasets", nargs="+", default=["ccp_person", "human", "ecssd"])
    p.add_argument("--split", default="test", choices=["test", "validation"])
    add_engine_arguments(p)
    p.add_argument("--weights", default=None,
                   help="weights file for the network 'objectness' (default: the shipped one); the pipeline averages "
                        "it with the other shipped networks unless --set models=objectness")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="segment_object options or GraphCutSettings fields, e.g. band=0.05 gamma=20 prior_weight=0.6 "
                        "net_size=224,256 models=objectness")
    p.add_argument("--no-timing", action="store_true")
    args = p.parse_args(argv)
    settings = options_from_strings(args.set, DEFAULT_GRAPH_CUT)
    engine = Engine(args.device, cpu_threads=args.threads)
    if args.weights:
        engine.load_weights("objectness", args.weights)
    shown = {k: (v.to_dict() if isinstance(v, GraphCutSettings) else v) for k, v in settings.items()}
    figures = {"split": args.split, "settings": shown, "device": str(engine.device)}
    table = []
    for name in args.datasets:
        count, results = score(args.data / name, args.split, args.limit, engine, settings)
        for mode, r in results.items():
            table.append([name, mode, count, r["a_iou"], r["b_iou"], r["b_iou"] - r["a_iou"], r["a_bf"], r["b_bf"],
                          r["b_bf"] - r["a_bf"], r["seconds"]])
            figures[f"{name}/{mode}"] = {"images": count, **r}
    print(f"split: {args.split}; device: {engine.device}; cpu threads: {engine.cpu_threads}; settings: {args.set or 'defaults'}")
    print_table(["dataset", "mode", "images", "IoU (a) P>0.5", "IoU (b) full", "b-a", "BF (a)", "BF (b)", "b-a",
                 "mean s/img"], table)
    if not args.no_timing:
        times, size = time_half_megapixel(args.data / args.datasets[0], args.split, engine, settings)
        print(f"\nend-to-end seconds per image at {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.2f} MP), "
              f"median of 5 images x 2 runs on {engine.device}: " + ", ".join(f"{m} {t:.3f} s" for m, t in times.items()))
        figures["seconds_0p5mp"] = times
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
