"""Latency per click of the click segmentation pipeline on ~0.5 MP images.

Images from DAVIS-345 are resized to 0.5 MP; the NoC protocol places 5 clicks
per image; each click's ``predict`` is timed (the image is set once, as in the
widget). Peer, in the same run: OpenCV's GrabCut, one iteration initialised
with a rectangle around the clicks and the mask so far (what a classical
click tool would run per click).

    python benchmarks/bench_click.py [--data DIR] [--limit N] [--json PATH] [--device cuda] [--threads N]
"""
from __future__ import annotations

import sys
import time

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    SHARED_DATA, add_engine_arguments, load_resized, parser, print_table, require_peer, write_json,
)

from segwidgets.core.clicks import Click  # noqa: E402
from segwidgets.core.engine import Engine  # noqa: E402
from segwidgets.data import list_pairs  # noqa: E402
from segwidgets.eval.noc import simulate_clicks  # noqa: E402
from segwidgets.pipelines.click import ClickPredictor  # noqa: E402

CLICKS = 5
#: The pipeline as shipped (focus pass and graph cut on).
FULL = "ours: network + graph cut"


def grabcut_peer(cv2, image, clicks, previous):
    h, w = image.shape[:2]
    xs = [c.x for c in clicks]
    ys = [c.y for c in clicks]
    if previous is not None and previous.any():
        py, px = np.nonzero(previous)
        xs += [px.min(), px.max()]
        ys += [py.min(), py.max()]
    pad = 0.2 * max(max(xs) - min(xs), max(ys) - min(ys), 40)
    x0, y0 = int(max(0, min(xs) - pad)), int(max(0, min(ys) - pad))
    x1, y1 = int(min(w, max(xs) + pad)), int(min(h, max(ys) + pad))
    mask = np.full((h, w), cv2.GC_BGD, np.uint8)
    mask[y0:y1, x0:x1] = cv2.GC_PR_FGD if previous is None else np.where(previous[y0:y1, x0:x1], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    for c in clicks:
        cv2.circle(mask, (int(c.x), int(c.y)), 3, int(cv2.GC_FGD if c.positive else cv2.GC_BGD), -1)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    if not ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).any():
        return np.zeros((h, w), bool)
    cv2.grabCut(np.ascontiguousarray(image[:, :, ::-1]), mask, None, bgd, fgd, 1, cv2.GC_INIT_WITH_MASK)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def main(argv=None):
    p = parser(__doc__.split("\n")[0], SHARED_DATA / "interactive" / "davis345")
    add_engine_arguments(p)
    p.add_argument("--no-peer", action="store_true")
    args = p.parse_args(argv)
    pairs = list_pairs(args.data / "images", args.data / "masks", limit=args.limit or 10)
    engine = Engine(args.device, cpu_threads=args.threads)
    variants = {FULL: ClickPredictor(engine, refine=True),
                "ours: network + graph cut, no detail pass": ClickPredictor(engine, refine=True, detail=None),
                "ours: network + graph cut, no focus pass": ClickPredictor(engine, refine=True, focus=None),
                "ours: network alone": ClickPredictor(engine, refine=False)}
    times = {name: [] for name in variants}
    parts = {"network": [], "graph_cut": []}
    peer_times = []
    cv2 = None
    if not args.no_peer:
        cv2 = require_peer("cv2", "the OpenCV GrabCut peer (or run with --no-peer)")
    size = None
    for image_path, mask_path in pairs:
        image, target, ignore = load_resized(image_path, mask_path)
        size = image.shape[:2]
        for name, predictor in variants.items():
            predictor.set_image(image)
            predictor.predict([Click(image.shape[1] // 2, image.shape[0] // 2)])  # warm-up, not timed
            state = {"mask": None}

            def predict(clicks, predictor=predictor, state=state, name=name):
                start = time.perf_counter()
                result = predictor.predict(list(clicks), state["mask"])
                times[name].append(time.perf_counter() - start)
                if name == FULL:
                    parts["network"].append(result.timings["network"])
                    parts["graph_cut"].append(result.timings["graph_cut"])
                state["mask"] = result.mask
                return result.mask

            simulate_clicks(predict, target, ignore, max_clicks=CLICKS)
        if cv2 is not None:
            state = {"mask": None}

            def peer(clicks, state=state, image=image):
                start = time.perf_counter()
                mask = grabcut_peer(cv2, image, list(clicks), state["mask"])
                peer_times.append(time.perf_counter() - start)
                state["mask"] = mask
                return mask

            simulate_clicks(peer, target, ignore, max_clicks=CLICKS)
    rows, figures = [], {"device": str(engine.device), "cpu_threads": engine.cpu_threads, "image_size": list(size),
                         "images": len(pairs)}
    for name, t in times.items():
        rows.append([name, len(t), float(np.median(t)), float(np.percentile(t, 90)), float(np.max(t))])
        figures[name] = {"median_s": float(np.median(t)), "p90_s": float(np.percentile(t, 90))}
    if peer_times:
        rows.append(["peer: OpenCV GrabCut, 1 iteration", len(peer_times), float(np.median(peer_times)),
                     float(np.percentile(peer_times, 90)), float(np.max(peer_times))])
        figures["opencv_grabcut"] = {"median_s": float(np.median(peer_times))}
        figures["ratio_ours_to_peer"] = figures[FULL]["median_s"] / float(np.median(peer_times))
    print(f"{len(pairs)} DAVIS images at {size[1]}x{size[0]} ({size[0] * size[1] / 1e6:.2f} MP), {CLICKS} protocol clicks each, "
          f"device {engine.device}, {engine.cpu_threads} CPU thread(s)")
    print_table(["method", "clicks", "median s/click", "p90 s/click", "max s/click"], rows)
    print(f"full pipeline split (median): network {np.median(parts['network']):.3f} s, graph cut {np.median(parts['graph_cut']):.3f} s")
    if peer_times:
        print(f"ratio ours (network + graph cut) / peer: {figures['ratio_ours_to_peer']:.2f}")
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
