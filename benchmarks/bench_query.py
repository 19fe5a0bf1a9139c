"""Query-object search: our finder against multi-scale template matching, in one run.

Development set: query/search pairs drawn once (seed 0) from the **test** split of
``seg/`` (never trained on) by ``segwidgets.data.query_pairs``: a query cut from one
photo, searched in a composite on another photo's background where it is pasted
at 0.5..2x, warped, relit, blurred, noised, among distractors (some recoloured to
its colour, some of its kind) and sometimes partly hidden. Saved under ``--dev``
(git-ignored ``out/query_dev`` by default) on first use and read back after, so
every run scores the same pairs.

Peer: normalised cross-correlation template matching (``skimage.feature.match_template``
on RGB) with the query at the same scales as ours, the best peak over scales.

Figures: success rate (IoU of the best box > 0.5), area under the success curve
(IoU thresholds 0..1 in steps of 0.01), mean IoU, seconds per search image (the
query's encoding excluded for ours: it is done once per query), and both by the
pasted scale. "ours (box from heat region)" takes each box from the heat map's region
around the peak instead of the best-correlating query scale (``find_query(extent="heat")``).

Real pairs too: consecutive frames of the same video in ``interactive/davis345`` (frames
``i`` and ``i + 2``, every second ``i``, kept when their 64 x 36 grey thumbnails differ by
less than 40 levels on average, i.e. the same shot): the query is the object's mask box in
frame ``i``, the answer its mask box in frame ``i + 2`` (the object moved, turned, deformed). A last table times 640 x 480 search images once the query is encoded,
and a second query on an already-encoded image.

    python benchmarks/bench_query.py [--data DIR] [--dev DIR] [--count N] [--limit N] [--json PATH]
                                     [--threads N] [--weights NAME=PATH ...] [--no-peer]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, add_engine_arguments, parser, print_table, write_json  # noqa: E402

from segwidgets.core.engine import Engine  # noqa: E402
from segwidgets.data.query_pairs import QueryPair, dev_set  # noqa: E402
from segwidgets.pipelines.query import box_iou, find_query, scale_plan  # noqa: E402

THRESHOLDS = np.linspace(0, 1, 101)
#: Real pairs: frames this far apart, kept when their thumbnails differ by less than MAX_FRAME_DIFFERENCE.
FRAME_GAP, MAX_FRAME_DIFFERENCE = 2, 40.0
SCALE_GROUPS = (("< 0.75x", 0, 0.75), ("0.75-1.33x", 0.75, 1.33), ("> 1.33x", 1.33, 10))
REPO = Path(__file__).resolve().parents[1]


def template_matching(query: np.ndarray, search: np.ndarray) -> tuple[tuple, float]:
    """Best box over SCALES by NCC template matching (same working size and query sizes as ours)."""
    from skimage.feature import match_template

    work_hw, _, sizes = scale_plan(query.shape[:2], search.shape[:2])
    work = search if work_hw == search.shape[:2] else np.asarray(
        Image.fromarray(search).resize(work_hw[::-1], Image.BILINEAR))
    best, best_box = -np.inf, (0, 0, 1, 1)
    for h, w in sizes:
        template = np.asarray(Image.fromarray(query).resize((w, h), Image.BILINEAR)).astype(np.float32)
        response = match_template(work.astype(np.float32), template)[..., 0]
        y, x = np.unravel_index(int(response.argmax()), response.shape)
        if response[y, x] > best:
            best, best_box = float(response[y, x]), (x, y, x + w, y + h)
    f = search.shape[0] / work_hw[0]
    return tuple(int(round(v * f)) for v in best_box), best


def video_pairs(folder: Path, limit=None) -> list[QueryPair]:
    """Query/search pairs from consecutive frames of the same shot (see the module docstring)."""
    from segwidgets.data import list_pairs, load_mask
    from segwidgets.pipelines.query import cut_query

    files = list_pairs(folder / "images", folder / "masks")
    frames, thumbs, boxes = [], [], []
    for image_path, mask_path in files:
        with Image.open(image_path) as pil:
            frames.append(np.asarray(pil.convert("RGB")))
        thumbs.append(np.asarray(Image.fromarray(frames[-1]).convert("L").resize((64, 36)), np.float32))
        mask, _ = load_mask(mask_path)
        ys, xs = np.nonzero(mask)
        boxes.append((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else None)
    pairs = []
    for i in range(0, len(files) - FRAME_GAP, 2):
        j = i + FRAME_GAP
        if boxes[i] and boxes[j] and np.abs(thumbs[i] - thumbs[j]).mean() < MAX_FRAME_DIFFERENCE:
            query = cut_query(frames[i], boxes[i])
            if query.shape[0] <= frames[j].shape[0] and query.shape[1] <= frames[j].shape[1]:
                pairs.append(QueryPair(query, frames[j], np.zeros(frames[j].shape[:2], bool), boxes[j], 1.0))
    return pairs[:limit] if limit else pairs


def summarise(ious: np.ndarray, seconds: np.ndarray) -> dict:
    success = (ious[:, None] > THRESHOLDS[None]).mean(0)
    return {"success": float((ious > 0.5).mean()), "auc": float(success.mean()), "miou": float(ious.mean()),
            "seconds": float(np.mean(seconds)), "median_seconds": float(np.median(seconds))}


def run_ours(pairs, engine, extent: str = "scale") -> tuple[np.ndarray, np.ndarray]:
    ious, seconds = [], []
    for pair in pairs:
        result = find_query(pair.query, pair.search, engine=engine, extent=extent)
        ious.append(box_iou(result.best_box, pair.box) if len(result.boxes) else 0.0)
        seconds.append(result.timings["total"] - result.timings["query"])
    return np.array(ious), np.array(seconds)


def run_peer(pairs) -> tuple[np.ndarray, np.ndarray]:
    ious, seconds = [], []
    for pair in pairs:
        start = time.perf_counter()
        box, _ = template_matching(pair.query, pair.search)
        seconds.append(time.perf_counter() - start)
        ious.append(box_iou(box, pair.box))
    return np.array(ious), np.array(seconds)


def speed_640(pairs, engine, count: int = 20) -> dict:
    """Seconds per 640 x 480 search image with the query already encoded; and a second query on one image."""
    images = [np.asarray(Image.fromarray(p.search).resize((640, 480), Image.BILINEAR)) for p in pairs[:count + 1]]
    query = pairs[0].query
    find_query(query, images[0], engine=engine)  # encodes the query (and warms the model up)
    times, parts = [], []
    for image in images[1:]:
        result = find_query(query, image, engine=engine)
        times.append(result.timings["total"])
        parts.append((result.timings["search"], result.timings["correlate"]))
    encoded_before = engine.cache.misses
    second = find_query(pairs[1].query, images[-1], engine=engine)  # image cached, new query
    return {"seconds_per_image": float(np.median(times)), "search_encoding": float(np.median([p[0] for p in parts])),
            "correlation_and_fusion": float(np.median([p[1] for p in parts])),
            "second_query_image_encoding": float(second.timings["search"]),
            "second_query_total_without_query": float(second.timings["total"] - second.timings["query"]),
            "cache_misses_second_query": int(engine.cache.misses - encoded_before)}


def main(argv=None) -> dict:
    p = parser(__doc__.splitlines()[0], SHARED_DATA / "seg")
    add_engine_arguments(p)
    p.add_argument("--dev", type=Path, default=REPO / "out" / "query_dev", help="development-set folder")
    p.add_argument("--count", type=int, default=300, help="pairs in the development set")
    p.add_argument("--weights", action="append", default=[],
                   help="also score other query weights, NAME=PATH (e.g. l2=runs/query_l2/query.safetensors)")
    p.add_argument("--no-peer", action="store_true", help="skip template matching")
    p.add_argument("--video", type=Path, default=SHARED_DATA / "interactive" / "davis345",
                   help="frames + masks of video shots for the real pairs ('' to skip)")
    args = p.parse_args(argv)

    pairs = dev_set(args.dev, args.data, count=args.count)
    pairs = pairs[:args.limit] if args.limit else pairs
    scales = np.array([pair.scale for pair in pairs])
    methods = {}
    engine = Engine(args.device, cpu_threads=args.threads)
    methods["ours"] = run_ours(pairs, engine)
    engine.evict()  # the variant below encodes every search image again, as the first run did
    methods["ours (box from heat region)"] = run_ours(pairs, engine, extent="heat")
    for spec in args.weights:
        name, _, path = spec.partition("=")
        other = Engine(args.device, cpu_threads=args.threads)
        other.load_weights("query", path)
        methods[f"ours ({name})"] = run_ours(pairs, other)
    if not args.no_peer:
        methods["template matching"] = run_peer(pairs)

    print(f"\n{len(pairs)} development pairs from the test split ({args.dev})\n")
    rows, figures = [], {}
    for name, (ious, seconds) in methods.items():
        s = summarise(ious, seconds)
        figures[name] = s
        rows.append([name, s["success"], s["auc"], s["miou"], s["seconds"], s["median_seconds"]])
    print_table(["method", "success (IoU>0.5)", "AUC", "mean IoU", "s / image", "median s"], rows)

    print("\nsuccess rate by pasted scale")
    header, rows = ["method"], []
    for label, lo, hi in SCALE_GROUPS:
        header.append(f"{label} (n={int(((scales >= lo) & (scales < hi)).sum())})")
    for name, (ious, _) in methods.items():
        rows.append([name] + [float((ious[(scales >= lo) & (scales < hi)] > 0.5).mean())
                              if ((scales >= lo) & (scales < hi)).any() else "-" for _, lo, hi in SCALE_GROUPS])
    print_table(header, rows)
    if "template matching" in figures:
        peer = figures["template matching"]
        ours = figures["ours"]
        figures["success_gain"] = ours["success"] - peer["success"]
        figures["auc_gain"] = ours["auc"] - peer["auc"]
        figures["speedup"] = peer["seconds"] / ours["seconds"]
        print(f"\nours - template matching: success {figures['success_gain']:+.4f} (target >= +0.15), "
              f"AUC {figures['auc_gain']:+.4f} (target > 0), speed {figures['speedup']:.1f}x")

    if str(args.video) not in ("", "."):
        real = video_pairs(args.video, args.limit)
        video = {"ours": run_ours(real, engine), "ours (box from heat region)": run_ours(real, engine, extent="heat")}
        if not args.no_peer:
            video["template matching"] = run_peer(real)
        print(f"\nreal pairs: {len(real)} frame pairs of the same shots ({args.video})\n")
        rows = []
        for name, (ious, seconds) in video.items():
            s = summarise(ious, seconds)
            figures[f"video: {name}"] = s
            rows.append([name, s["success"], s["auc"], s["miou"], s["seconds"]])
        print_table(["method", "success (IoU>0.5)", "AUC", "mean IoU", "s / image"], rows)

    speed = speed_640(pairs, Engine(args.device, cpu_threads=args.threads))
    figures["speed_640x480"] = speed
    print("\n640 x 480 search images, query already encoded (median of 20)")
    print_table(["figure", "seconds"], [[k, v] for k, v in speed.items()])
    print(f"target: under 0.200 s per image -> {'met' if speed['seconds_per_image'] < 0.2 else 'NOT met'}")
    write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
