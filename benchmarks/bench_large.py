"""Large photos: click, segment_object and a box graph cut on ~12 MP images.

DAVIS frames upscaled (bicubic) to 4620x2600 (12.0 MP) stand in for camera photos.
Each case runs in a fresh process (so its peak memory is its own): the pipeline as
shipped (graph cut at a capped working resolution, mask brought back to full
resolution; ``graph_cut`` then cuts a band along the edge at full resolution), then
the same inputs with the cap off (``max_cut_pixels=None`` / ``max_pixels=None``: a
plain full-resolution cut) to report what the cap costs in IoU. Peer in the same run: OpenCV's grabCut
(5 iterations from the box) on the same 12 MP image.

Targets (issue 13): a click < 0.6 s, segment_object < 2 s, a box graph cut < 3 s,
peak memory < 1.5 GB.

    python benchmarks/bench_large.py [--data DIR] [--limit N] [--json PATH] [--no-peer] [--fast]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import SHARED_DATA, parser, print_table, require_peer, write_json  # noqa: E402

SIZE = (4620, 2600)  # width, height: 12.0 MP at DAVIS's 16:9
CLICKS = 3


def load_large(image_path, mask_path):
    from PIL import Image

    from segwidgets.data import load_mask

    with Image.open(image_path) as pil:
        image = np.asarray(pil.convert("RGB").resize(SIZE, Image.BICUBIC))
    target, _ = load_mask(mask_path)
    return image, np.asarray(Image.fromarray(target).resize(SIZE, Image.NEAREST))


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def run_case(case: str, image_path: str, mask_path: str, full_reference: bool = True) -> dict:
    """One case in this (child) process: the shipped setting timed with its peak memory, then the
    full-resolution reference for the IoU."""
    from segwidgets.core.engine import get_default_engine
    from segwidgets.core.image import box_from_mask
    from segwidgets.eval import iou

    image, target = load_large(image_path, mask_path)
    box = box_from_mask(target, 0.05)
    engine = get_default_engine()
    baseline = peak_gb()
    out = {}
    if case == "click":
        from segwidgets.core.click_simulation import first_click, next_click
        from segwidgets.pipelines.click import ClickPredictor
        from segwidgets.pipelines.refine import MAX_CUT_PIXELS

        def clicks_run(max_cut_pixels):
            predictor = ClickPredictor(engine, max_cut_pixels=max_cut_pixels)
            predictor.set_image(image)
            engine.model("click")
            clicks, mask, seconds, masks = [first_click(target, np.random.default_rng(0))], None, [], []
            for _ in range(CLICKS):
                start = time.perf_counter()
                mask = predictor.predict(clicks, mask).mask
                seconds.append(time.perf_counter() - start)
                masks.append(mask)
                nxt = next_click(mask, target)
                if nxt is None:
                    break
                clicks.append(nxt)
            return seconds, masks

        seconds, masks = clicks_run(MAX_CUT_PIXELS)
        out.update(seconds=float(np.median(seconds)), peak_gb=peak_gb(), iou=iou(masks[-1], target))
        full_seconds, full_masks = clicks_run(None)
        out.update(full_seconds=float(np.median(full_seconds)), full_iou=iou(full_masks[-1], target),
                   agreement=float(np.mean([iou(a, b) for a, b in zip(masks, full_masks)])))
    elif case == "segment_object":
        from segwidgets.pipelines.boundary_aware import MODEL_NAMES, segment_object

        for name in MODEL_NAMES:  # loaded before the clock starts
            engine.model(name)
        start = time.perf_counter()
        result = segment_object(image, box=box, engine=engine)
        out.update(seconds=time.perf_counter() - start, peak_gb=peak_gb(), iou=iou(result.mask, target))
        start = time.perf_counter()
        full = segment_object(image, box=box, engine=engine, max_cut_pixels=None)
        out.update(full_seconds=time.perf_counter() - start, full_iou=iou(full.mask, target),
                   agreement=iou(result.mask, full.mask))
    elif case == "graph_cut":
        from segwidgets.graphcut import graph_cut

        start = time.perf_counter()
        trace = graph_cut(image, box=box, max_iterations=5, tolerance=0.0)
        out.update(seconds=time.perf_counter() - start, peak_gb=peak_gb(), iou=iou(trace.final_mask, target))
        if full_reference:
            start = time.perf_counter()
            full = graph_cut(image, box=box, max_iterations=5, tolerance=0.0, max_pixels=None)
            out.update(full_seconds=time.perf_counter() - start, full_iou=iou(full.final_mask, target),
                       agreement=iou(trace.final_mask, full.final_mask))
    elif case == "opencv":
        cv2 = require_peer("cv2", "the peer, OpenCV's grabCut,")
        cv2.setNumThreads(1)
        x0, y0, x1, y1 = box
        mask = np.zeros(image.shape[:2], np.uint8)
        start = time.perf_counter()
        cv2.grabCut(np.ascontiguousarray(image[:, :, ::-1]), mask, (x0, y0, x1 - x0, y1 - y0), np.zeros((1, 65)),
                    np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
        out.update(seconds=time.perf_counter() - start, peak_gb=peak_gb(),
                   iou=iou((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), target))
    out["baseline_gb"] = baseline
    return out


def main(argv=None):
    p = parser(__doc__.splitlines()[0], SHARED_DATA / "interactive" / "davis345")
    p.add_argument("--no-peer", action="store_true", help="skip OpenCV's grabCut")
    p.add_argument("--fast", action="store_true",
                   help="skip the plain full-resolution graph_cut reference (the slowest part: ~15 s a photo)")
    p.add_argument("--child", nargs=4, metavar=("CASE", "IMAGE", "MASK", "FULL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        case, image_path, mask_path, full = args.child
        print("RESULT " + json.dumps(run_case(case, image_path, mask_path, full == "1")))
        return None
    from segwidgets.data import list_pairs

    pairs = list_pairs(args.data / "images", args.data / "masks")
    count = args.limit or 4
    pairs = pairs[:: max(1, len(pairs) // count)][:count]
    cases = ["click", "segment_object", "graph_cut"] + ([] if args.no_peer else ["opencv"])
    results = {case: [] for case in cases}
    for i, (image_path, mask_path) in enumerate(pairs):
        for case in cases:
            done = subprocess.run([sys.executable, __file__, "--child", case, str(image_path), str(mask_path),
                                   "0" if args.fast else "1"],
                                  capture_output=True, text=True)
            line = [row for row in done.stdout.splitlines() if row.startswith("RESULT ")]
            if done.returncode or not line:
                raise SystemExit(f"{case} on {image_path.name} failed:\n{done.stderr[-2000:]}")
            results[case].append(json.loads(line[0][7:]))
        print(f"  {i + 1}/{len(pairs)} images", flush=True)
    targets = {"click": 0.6, "segment_object": 2.0, "graph_cut": 3.0, "opencv": None}
    rows, figures = [], {"images": len(pairs), "size": SIZE}
    for case in cases:
        r = results[case]
        entry = {key: float(np.median([x[key] for x in r])) for key in r[0]}
        entry["max_peak_gb"] = float(max(x["peak_gb"] for x in r))
        figures[case] = entry
        label = {"click": f"click (median of {CLICKS} protocol clicks)", "segment_object": "segment_object(box)",
                 "graph_cut": "graph_cut(box), 5 iterations", "opencv": "OpenCV cv2.grabCut(box), 5 iterations"}[case]
        rows.append([label, entry["seconds"], targets[case] or "-", entry["max_peak_gb"], entry["iou"],
                     entry.get("full_seconds", float("nan")), entry.get("full_iou", float("nan")),
                     entry.get("agreement", float("nan"))])
    print(f"\n{len(pairs)} DAVIS images upscaled to {SIZE[0]}x{SIZE[1]} ({SIZE[0] * SIZE[1] / 1e6:.1f} MP); medians")
    print_table(["case", "s", "target s", "peak GB (max)", "IoU vs GT", "full-res cut: s", "IoU vs GT",
                 "IoU vs shipped"], rows)
    print("peak GB: the whole process (Python, torch, weights) at its highest, target < 1.5")
    if "opencv" in figures:
        ratio = figures["opencv"]["seconds"] / figures["graph_cut"]["seconds"]
        figures["graph_cut_speedup_vs_opencv"] = ratio
        print(f"box graph cut: OpenCV / ours = {ratio:.2f}x; IoU ours - OpenCV = "
              f"{figures['graph_cut']['iou'] - figures['opencv']['iou']:+.4f}")
    write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
