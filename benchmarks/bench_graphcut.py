"""Graph-cut engine vs OpenCV's cv2.grabCut, measured in the same run.

On each image: a box around the ground-truth object (5% padding), 5 iterations
for both methods. Prints mean IoU, median seconds per image and per iteration
(seconds per image / iterations, set-up included), and the speed ratio; then
max-flow solvers on the same graphs (the exact full-resolution cuts of every
iteration on ``--solver-images`` images spread over the set).

    python benchmarks/bench_graphcut.py [--data DIR] [--limit N] [--with-exact] [--solver-images N] [--json PATH]
"""
from __future__ import annotations

import sys
import time

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import SHARED_DATA, parser, print_table, require_peer, write_json  # noqa: E402

from segwidgets.core.image import as_rgb_image, box_from_mask  # noqa: E402
from segwidgets.data import list_pairs, load_mask  # noqa: E402
from segwidgets.eval import iou  # noqa: E402
from segwidgets.graphcut import GraphCutSettings, GraphCutSolver, fill_holes, graph_cut  # noqa: E402
import _maxflow_peers  # noqa: E402


def run_opencv(cv2, image, box, iterations):
    x0, y0, x1, y1 = box
    mask = np.zeros(image.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    start = time.perf_counter()
    cv2.grabCut(np.ascontiguousarray(image[:, :, ::-1]), mask, (x0, y0, x1 - x0, y1 - y0), bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    seconds = time.perf_counter() - start
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), seconds


def run_ours(image, box, iterations, multiscale=True):
    start = time.perf_counter()
    trace = graph_cut(image, box=box, max_iterations=iterations, tolerance=0.0, multiscale=multiscale)
    seconds = time.perf_counter() - start
    return trace.final_mask, seconds


def main(argv=None):
    p = parser(__doc__.splitlines()[0], SHARED_DATA / "interactive" / "davis345")
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--padding", type=float, default=0.05, help="box padding as a fraction of the object's size")
    p.add_argument("--with-exact", action="store_true", help="also run multiscale=False (full-resolution cuts)")
    p.add_argument("--solver-images", type=int, default=12,
                   help="images (spread over the set) whose exact cuts the max-flow solvers are timed on; 0: none")
    args = p.parse_args(argv)
    cv2 = require_peer("cv2", "this benchmark's peer, OpenCV's grabCut,")

    cv2.setNumThreads(1)  # cv2.grabCut is single-threaded; keep its kmeans so too, like ours
    results = {"ours": [], "ours_filled": [], "ours_exact": [], "opencv": []}
    times = {"ours": [], "ours_exact": [], "opencv": []}
    pairs = list_pairs(args.data / "images", args.data / "masks", args.limit)
    for i, (image_path, mask_path) in enumerate(pairs):
        image = as_rgb_image(image_path)
        target, ignore = load_mask(mask_path)
        if not target.any():
            continue
        box = box_from_mask(target, args.padding)
        mask, seconds = run_ours(image, box, args.iterations)
        results["ours"].append(iou(mask, target, ignore))
        results["ours_filled"].append(iou(fill_holes(mask), target, ignore))
        times["ours"].append(seconds)
        if args.with_exact:
            mask, seconds = run_ours(image, box, args.iterations, multiscale=False)
            results["ours_exact"].append(iou(mask, target, ignore))
            times["ours_exact"].append(seconds)
        mask, seconds = run_opencv(cv2, image, box, args.iterations)
        results["opencv"].append(iou(mask, target, ignore))
        times["opencv"].append(seconds)
        if (i + 1) % 25 == 0:
            print(f"  {i + 1}/{len(pairs)} images", flush=True)
    n = len(results["ours"])
    figures = {"images": n, "iterations": args.iterations}
    rows = []
    methods = [("ours", "segwidgets graph_cut"), ("ours_filled", "segwidgets graph_cut + fill_holes")]
    if args.with_exact:
        methods.append(("ours_exact", "segwidgets graph_cut, multiscale=False"))
    for name, label in methods + [("opencv", "OpenCV cv2.grabCut")]:
        t = times[name if name in times else "ours"]
        entry = {
            "miou": float(np.mean(results[name])),
            "median_seconds_per_image": float(np.median(t)),
            "median_seconds_per_iteration": float(np.median(t) / args.iterations),
        }
        figures[name] = entry
        rows.append([label, entry["miou"], entry["median_seconds_per_image"], entry["median_seconds_per_iteration"]])
    print(f"\n{n} images from {args.data}, box from the ground truth ({args.padding:.0%} padding), {args.iterations} iterations")
    print_table(["method", "mean IoU", "median s/image", "median s/iteration"], rows)
    per_image_ratio = np.array(times["opencv"]) / np.array(times["ours"])
    figures["speedup"] = float(figures["opencv"]["median_seconds_per_iteration"] / figures["ours"]["median_seconds_per_iteration"])
    figures["median_per_image_speedup"] = float(np.median(per_image_ratio))
    figures["iou_difference"] = figures["ours"]["miou"] - figures["opencv"]["miou"]
    print(f"\ntime per iteration, ours / OpenCV: {1 / figures['speedup']:.3f} (OpenCV is {figures['speedup']:.2f}x slower; target: ours <= 0.2)")
    print(f"median per-image speed ratio OpenCV/ours: {figures['median_per_image_speedup']:.2f}")
    print(f"mean IoU, ours - OpenCV: {figures['iou_difference']:+.4f} (target: >= 0)")
    if args.solver_images:
        figures["solvers"] = solver_table(pairs, args)
    write_json(args.json, figures)
    return figures


def solver_table(pairs, args) -> dict:
    """Time each max-flow solver on the same graphs: the exact cut of every iteration of
    a multiscale=False run on ``args.solver_images`` images."""
    step = max(1, len(pairs) // args.solver_images)
    sequences = []
    for image_path, mask_path in pairs[::step][: args.solver_images]:
        target, _ = load_mask(mask_path)
        if not target.any():
            continue
        solver = GraphCutSolver(as_rgb_image(image_path), box=box_from_mask(target, args.padding),
                                settings=GraphCutSettings(multiscale=False, max_iterations=args.iterations, tolerance=0))
        graphs = []
        for _ in range(args.iterations):
            solver.step()
            graphs.append(solver.last_graph)
        sequences.append(graphs)
    rows = _maxflow_peers.compare(sequences)
    nodes = [g[0].n_nodes for g in sequences]
    print(f"\nmax-flow solvers on the same graphs: {len(sequences)} images x {args.iterations} iterations, "
          f"median {int(np.median(nodes))} nodes (free pixels)")
    print_table(["solver", "cuts", "median build s", "median solve s", "median total s", "worst energy gap"], rows)
    return {row[0]: {"cuts": row[1], "median_build_seconds": row[2], "median_solve_seconds": row[3],
                     "median_seconds": row[4], "worst_relative_energy_gap": row[5]} for row in rows}


if __name__ == "__main__":
    main()
