"""``python -m segwidgets.eval noc --images DIR --masks DIR [--max-clicks 20] [--json PATH]``.

Number-of-clicks evaluation of the click segmentation pipeline (see
``segwidgets.eval.noc`` for the protocol). For each image the protocol runs
twice: with the network alone and with the graph-cut refinement, each placing
its own clicks. Prints NoC@85, NoC@90 and mean IoU after 1, 3 and 5 clicks.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

THRESHOLDS = (0.85, 0.90)
AFTER = (1, 3, 5)


def summarise(curves: list[list[float]], max_clicks: int) -> dict:
    from .noc import iou_after, number_of_clicks

    out = {f"noc@{round(t * 100)}": float(np.mean([number_of_clicks(c, t, max_clicks) for c in curves])) for t in THRESHOLDS}
    out.update({f"miou@{k}": float(np.mean([iou_after(c, k) for c in curves])) for k in AFTER})
    out["failed@90"] = int(sum(number_of_clicks(c, 0.9, max_clicks) == max_clicks and max(c) < 0.9 for c in curves))
    return out


def run_noc(args) -> dict:
    from ..core.engine import Engine
    from ..data import list_pairs, load_mask
    from ..graphcut.settings import options_from_strings
    from ..pipelines.click import DEFAULT_GRAPH_CUT, ClickPredictor
    from .noc import simulate_clicks

    pairs = list_pairs(args.images, args.masks)[:: args.stride][: args.limit]
    engine = Engine(args.device, cpu_threads=args.threads)
    if args.weights:
        engine.load_weights("click", args.weights)
    variants = {"network": False, "refined": True} if args.variant == "both" else {args.variant: args.variant == "refined"}
    # "network" is the network alone: its raw answer to each click, not combined with the previous mask.
    try:  # bad names or values stop here, before any image is read
        options = options_from_strings(args.set, DEFAULT_GRAPH_CUT)
        if args.focus is not None:
            options["focus"] = args.focus or None
        if args.net_size is not None:
            options["net_size"] = args.net_size
        if args.mirror is not None:
            options["mirror"] = bool(args.mirror)
        # monotone follows the variant unless --set names it; refine is the variant's and --set may not change it
        predictors = {name: ClickPredictor(engine, refine=refine, **{"monotone": refine, **options})
                      for name, refine in variants.items()}
    except (TypeError, ValueError) as error:
        raise SystemExit(f"python -m segwidgets.eval noc: --set: {error}") from None
    curves = {name: [] for name in variants}
    seconds = {name: [] for name in variants}
    per_image = []
    for image_path, mask_path in tqdm(pairs, desc="noc"):
        target, ignore = load_mask(mask_path)
        if not target.any():
            continue
        record = {"image": image_path.name}
        for name, predictor in predictors.items():
            predictor.set_image(image_path)
            state = {"mask": None}

            def predict(clicks, predictor=predictor, state=state, name=name):
                start = time.perf_counter()
                result = predictor.predict(clicks, state["mask"])
                seconds[name].append(time.perf_counter() - start)
                state["mask"] = result.mask
                return result.mask

            ious, _ = simulate_clicks(predict, target, ignore, args.max_clicks, stop_iou=max(THRESHOLDS))
            curves[name].append(ious)
            record[name] = [round(v, 4) for v in ious]
        per_image.append(record)
    figures = {name: {**summarise(c, args.max_clicks), "median_s_per_click": float(np.median(seconds[name]))}
               for name, c in curves.items()}
    figures["images"] = len(per_image)
    figures["stride"] = args.stride
    figures["max_clicks"] = args.max_clicks
    some = next(iter(predictors.values()))
    figures["focus"], figures["mirror"], figures["net_size"] = some.focus, some.mirror, some.net_size
    figures["set"] = list(args.set)
    subset = f" (every {args.stride}th of the sorted images)" if args.stride > 1 else ""
    print(f"{len(per_image)} images{subset}, max {args.max_clicks} clicks, device {engine.device}, "
          f"{engine.cpu_threads} CPU thread(s), network input {some.net_size} px, focus {some.focus}, mirror {some.mirror}"
          + (f", {' '.join(args.set)}" if args.set else ""))
    header = ["variant", "NoC@85", "NoC@90", "mIoU@1", "mIoU@3", "mIoU@5", "failed@90", "median s/click"]
    rows = [[name, f"{f['noc@85']:.2f}", f"{f['noc@90']:.2f}", f"{f['miou@1']:.4f}", f"{f['miou@3']:.4f}",
             f"{f['miou@5']:.4f}", str(f["failed@90"]), f"{f['median_s_per_click']:.3f}"] for name, f in figures.items()
            if isinstance(f, dict)]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    for j, row in enumerate([header] + rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if j == 0:
            print("  ".join("-" * w for w in widths))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**figures, "per_image": per_image}, indent=1))
        print(f"figures written to {args.json}")
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segwidgets.eval", description=__doc__.replace("``", ""))
    sub = parser.add_subparsers(dest="command", required=True)
    noc = sub.add_parser("noc", help="number-of-clicks evaluation of click segmentation")
    noc.add_argument("--images", type=Path, required=True, help="folder of images (e.g. .../davis345/images)")
    noc.add_argument("--masks", type=Path, required=True, help="folder of ground-truth masks, NAME.png per image")
    noc.add_argument("--max-clicks", type=int, default=20, help="clicks per image before giving up (default 20)")
    noc.add_argument("--limit", type=int, default=None, help="first N images only")
    noc.add_argument("--stride", type=int, default=1, help="every N-th image (sorted by name): a spread-out subset")
    noc.add_argument("--variant", choices=["both", "network", "refined"], default="both",
                     help="network alone, with the graph-cut refinement, or both (default)")
    noc.add_argument("--focus", type=float, default=None, metavar="SCALE",
                     help="ClickPredictor focus pass scale; 0 = none (default: the predictor's default)")
    noc.add_argument("--mirror", type=int, choices=(0, 1), default=None,
                     help="1 / 0: with / without ClickPredictor's mirror averaging (default: the predictor's default)")
    noc.add_argument("--net-size", type=int, default=None,
                     help="network input side in pixels (default: the predictor's, pipelines.click.NET_SIZE)")
    noc.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                     help="other ClickPredictor options or graph-cut settings, e.g. band=0.06 zoom=1.6 gamma=30")
    noc.add_argument("--weights", default=None, help="click network weights (default: the shipped file)")
    noc.add_argument("--device", default=None, help="cpu / cuda (default: the engine's choice)")
    noc.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the engine's policy)")
    noc.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.max_clicks < 1:
        parser.error("--max-clicks must be >= 1")
    run_noc(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
