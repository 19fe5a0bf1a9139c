"""IterationSlider stepping speed on ~1 MP images vs re-running the solver.

For each image (upscaled to about 1 megapixel, box from the ground truth):
run 10 graph-cut iterations, open an IterationSlider on the trace, then time
``slider.show(i)`` for every iteration: first visits (layers derived from the
recorded models) and revisits (cached). The peer is what a slider without a
trace would do: re-run the solver up to iteration i to show it.
Target: every step under 150 ms on this CPU.

    python benchmarks/bench_slider.py [--data DIR] [--limit N] [--json PATH]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, parser, print_table, write_json  # noqa: E402

from segwidgets.core.image import as_rgb_image, box_from_mask  # noqa: E402
from segwidgets.data import list_pairs, load_mask  # noqa: E402
from segwidgets.graphcut import graph_cut  # noqa: E402
from segwidgets.widgets import IterationSlider  # noqa: E402


def to_megapixel(image, mask):
    h, w = image.shape[:2]
    scale = np.sqrt(1_000_000 / (h * w))
    size = (int(round(w * scale)), int(round(h * scale)))
    big = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))
    big_mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.NEAREST)) > 0
    return big, big_mask


def main(argv=None):
    p = parser(__doc__.splitlines()[0], SHARED_DATA / "interactive" / "davis345")
    p.set_defaults(limit=5)
    p.add_argument("--iterations", type=int, default=10)
    args = p.parse_args(argv)
    cold, warm, rerun = [], [], []
    pairs = list_pairs(args.data / "images", args.data / "masks", args.limit)
    megapixels = []
    for image_path, mask_path in pairs:
        target, _ = load_mask(mask_path)
        if not target.any():
            continue
        image, target = to_megapixel(as_rgb_image(image_path), target)
        megapixels.append(image.shape[0] * image.shape[1] / 1e6)
        box = box_from_mask(target, 0.05)
        trace = graph_cut(image, box=box, max_iterations=args.iterations, tolerance=0)
        slider = IterationSlider(trace, max_display_size=1024)
        for visits in (cold, warm):
            for i in range(1, len(trace) + 1):
                start = time.perf_counter()
                slider.show(i)
                visits.append(time.perf_counter() - start)
        for i in (1, len(trace) // 2, len(trace)):
            start = time.perf_counter()
            graph_cut(image, box=box, max_iterations=i, tolerance=0)
            rerun.append(time.perf_counter() - start)
        print(f"  {image_path.name}: {image.shape[1]}x{image.shape[0]}, {len(trace)} iterations", flush=True)
    rows, figures = [], {"images": len(megapixels), "megapixels": float(np.mean(megapixels))}
    for name, label, times in (
        ("slider_first_visit", "slider, first visit of a step", cold),
        ("slider_revisit", "slider, revisit (cached layers)", warm),
        ("rerun_solver", "re-run the solver to the step (peer)", rerun),
    ):
        ms = np.array(times) * 1000
        figures[name] = {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)), "max_ms": float(ms.max())}
        rows.append([label, figures[name]["median_ms"], figures[name]["p90_ms"], figures[name]["max_ms"]])
    print(f"\n{len(megapixels)} images at {figures['megapixels']:.2f} MP, {args.iterations} graph-cut iterations each")
    print_table(["method", "median ms/step", "p90 ms/step", "max ms/step"], rows)
    figures["speedup_vs_rerun"] = figures["rerun_solver"]["median_ms"] / figures["slider_first_visit"]["median_ms"]
    figures["all_steps_under_150ms"] = bool(figures["slider_first_visit"]["max_ms"] < 150)
    print(f"\nslider first visit vs re-running the solver: {figures['speedup_vs_rerun']:.0f}x faster (median)")
    print(f"every step under 150 ms: {figures['all_steps_under_150ms']} (slowest {figures['slider_first_visit']['max_ms']:.1f} ms)")
    write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
