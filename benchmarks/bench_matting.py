"""Matting accuracy and speed: our three networks against closed-form matting, in one run.

Images: ``matting/alphamatting_dev`` GT01..GT13 with both trimaps and the lemur.
GT09..GT13 and the lemur were never trained on ("unseen"); GT01..GT08 were used for
fine-tuning ("fine-tuning", shown for reference). Errors over each trimap's unknown
region as alphamatting.com defines them (``segwidgets.eval.matting``): SAD /1000,
MSE, gradient /1000, connectivity /1000; seconds per image. Peer: closed-form
matting (Levin et al.) from the ``pymatting`` package (a benchmark-only extra:
``pip install -e ".[bench]"``), warmed up once before timing (numba compiles on first use).

A last case times a 12 MP photo (the lemur upscaled to 4306 x 2786, a 10 px band on
each side of its outline): seconds, windows run and the process's peak memory.

    python benchmarks/bench_matting.py [--data DIR] [--limit N] [--json PATH] [--device cuda] [--threads N]
                                       [--no-peer] [--no-large] [--group {all,unseen,fine-tuning}]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import SHARED_DATA, add_engine_arguments, require_peer, parser, print_table, write_json  # noqa: E402

from segwidgets.core.engine import Engine  # noqa: E402
from segwidgets.data.matting import FINETUNE_MATTES, UNSEEN_MATTES, load_alphamatting, load_lemur  # noqa: E402
from segwidgets.eval.matting import matting_errors  # noqa: E402
from segwidgets.pipelines.matting import STAGES, estimate_alpha  # noqa: E402

METRICS = ("sad", "mse", "grad", "conn", "seconds")


def cases(root, limit, group="all"):
    """(group, name, trimap name, image, alpha, trimap) for every image and trimap (of one ``group``:
    "unseen", "fine-tuning" or "all")."""
    unseen = load_alphamatting(root / "alphamatting_dev", UNSEEN_MATTES) + [load_lemur(root / "lemur")]
    tuning = load_alphamatting(root / "alphamatting_dev", FINETUNE_MATTES)
    examples = {"all": unseen + tuning, "unseen": unseen, "fine-tuning": tuning}[group]
    out = []
    for ex in examples[:limit] if limit else examples:
        group = "fine-tuning" if ex.name in FINETUNE_MATTES else "unseen"
        for trimap_name, trimap in ex.trimaps.items():
            out.append((group, ex.name, trimap_name, ex.image, ex.alpha, trimap))
    return out


def closed_form(image, trimap):
    from pymatting import estimate_alpha_cf

    return estimate_alpha_cf(image.astype(np.float64) / 255, trimap.astype(np.float64) / 255)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def mean_of(rows, method, keep):
    chosen = [r[method] for r in rows if keep(r)]
    return {m: float(np.mean([c[m] for c in chosen])) for m in METRICS} if chosen else None


def large_photo_case(root, engine) -> dict:
    """Our matting on the lemur upscaled to 12 MP with a thin band: seconds, windows, peak RSS."""
    import resource

    from PIL import Image

    from segwidgets.pipelines.matting import trimap_from_mask

    lemur = load_lemur(root / "lemur")
    h, w = lemur.alpha.shape
    width = round((12e6 * w / h) ** 0.5)
    size = (width, round(width * h / w))  # 12 MP, the lemur's aspect
    image = np.asarray(Image.fromarray(lemur.image).resize(size, Image.BICUBIC))
    mask = np.asarray(Image.fromarray(lemur.alpha > 0.5).resize(size, Image.NEAREST))
    trimap = trimap_from_mask(mask, band_px=10)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result, seconds = timed(lambda: estimate_alpha(image, trimap, engine=engine))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"megapixels": image.shape[0] * image.shape[1] / 1e6, "unknown_fraction": float((trimap == 128).mean()),
            "seconds": seconds, "windows": len(result.windows), "peak_rss_mb": peak, "peak_rss_mb_before": before}


def main(argv=None):
    p = parser(__doc__.split("\n")[0], SHARED_DATA / "matting")
    add_engine_arguments(p)
    p.add_argument("--no-peer", action="store_true", help="skip closed-form matting")
    p.add_argument("--no-large", action="store_true", help="skip the 12 MP case")
    p.add_argument("--group", choices=("all", "unseen", "fine-tuning"), default="all",
                   help="images to run: all (default), the unseen ones, or only the fine-tuning ones GT01..GT08 "
                        "(for choosing between training runs without looking at the unseen images)")
    p.add_argument("--weights", type=Path, default=None,
                   help="folder with matting_{background,foreground,alpha}.safetensors (default: the shipped ones)")
    args = p.parse_args(argv)
    engine = Engine(args.device, cpu_threads=args.threads)
    if args.weights is not None:
        for stage in STAGES:
            engine.load_weights(stage, args.weights / f"{stage}.safetensors")
    todo = cases(args.data, args.limit, args.group)
    methods = ["ours"] + ([] if args.no_peer else ["closed_form"])
    if not args.no_peer:
        require_peer("pymatting", "the closed-form matting peer (or run with --no-peer)")
    # Warm-up, not timed: model loading, numba compilation.
    _, _, _, image, _, trimap = todo[0]
    estimate_alpha(image, trimap, engine=engine)
    if not args.no_peer:
        closed_form(image[::4, ::4], trimap[::4, ::4])
    # Before the peer's big solves, so the process's peak memory is this case's.
    large = None if args.no_large else large_photo_case(args.data, engine)
    rows = []
    for group, name, trimap_name, image, alpha, trimap in todo:
        row = {"group": group, "image": name, "trimap": trimap_name}
        result, seconds = timed(lambda: estimate_alpha(image, trimap, engine=engine))
        row["ours"] = {**matting_errors(result.alpha, alpha, trimap), "seconds": seconds}
        if not args.no_peer:
            peer, seconds = timed(lambda: closed_form(image, trimap))
            row["closed_form"] = {**matting_errors(peer, alpha, trimap), "seconds": seconds}
        rows.append(row)
        print(f"{name} {trimap_name}: " + ", ".join(f"{m} SAD {row[m]['sad']:.2f} {row[m]['seconds']:.2f} s" for m in methods),
              flush=True)

    header = ["group", "image", "trimap", "method"] + [m.upper() if m != "seconds" else "s/image" for m in METRICS]
    table = [[r["group"], r["image"], r["trimap"], m] + [r[m][k] for k in METRICS] for r in rows for m in methods]
    print()
    print_table(header, table)

    groups = {"unseen trimap1": lambda r: r["group"] == "unseen" and r["trimap"] == "trimap1",
              "unseen trimap2": lambda r: r["group"] == "unseen" and r["trimap"] == "trimap2",
              "unseen lemur": lambda r: r["image"] == "lemur",
              "unseen all": lambda r: r["group"] == "unseen",
              "fine-tuning trimap1": lambda r: r["group"] == "fine-tuning" and r["trimap"] == "trimap1",
              "fine-tuning trimap2": lambda r: r["group"] == "fine-tuning" and r["trimap"] == "trimap2"}
    figures = {m: {} for m in methods}
    summary = []
    for label, keep in groups.items():
        for m in methods:
            means = mean_of(rows, m, keep)
            if means:
                figures[m][label] = means
                summary.append([label, m] + [means[k] for k in METRICS])
    print("\nAverages (unseen = GT09..GT13 and the lemur, never trained on):")
    print_table(["set", "method"] + header[4:], summary)
    if not args.no_peer:
        ours = [r["ours"]["seconds"] for r in rows]
        peer = [r["closed_form"]["seconds"] for r in rows]
        figures["speedup"] = float(np.mean(peer) / np.mean(ours))
        print(f"\nseconds per image: ours {np.mean(ours):.3f}, closed-form {np.mean(peer):.3f}, "
              f"speed-up {figures['speedup']:.1f}x")
        for label in ("unseen trimap1", "unseen trimap2", "unseen lemur", "unseen all"):
            if label in figures["ours"]:
                o, c = figures["ours"][label], figures["closed_form"][label]
                print(f"{label}: SAD ours/closed-form {o['sad'] / c['sad']:.3f}, MSE {o['mse'] / c['mse']:.3f}")
    if large:
        figures["large_photo"] = large
        print(f"\nlarge photo ({large['megapixels']:.1f} MP, {100 * large['unknown_fraction']:.1f}% unknown): "
              f"{large['seconds']:.2f} s, {large['windows']} windows, peak RSS {large['peak_rss_mb']:.0f} MB "
              f"(process, {large['peak_rss_mb_before']:.0f} MB before this case)")
    figures["rows"] = rows
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
