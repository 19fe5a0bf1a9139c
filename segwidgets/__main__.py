"""Command line: ``python -m segwidgets demo --out DIR`` and ``python -m segwidgets batch PIPELINE INPUT_GLOB --out DIR``."""
from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    prog = "segwidgets" if os.path.basename(sys.argv[0]) == "segwidgets" else "python -m segwidgets"
    parser = argparse.ArgumentParser(prog=prog, description="segwidgets command line: the headless demo and batch runs")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write PNG panels of every intermediate map for a bundled sample image")
    demo.add_argument("--out", required=True, help="output folder (created if missing)")
    demo.add_argument("--image", default=None, help="an image file to use instead of the bundled sample")
    demo.add_argument("--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), default=None,
                      help="object box in pixels (default: the sample's own box)")
    demo.add_argument("--iterations", type=int, default=8, help="graph-cut iterations to run and draw (default 8)")
    batch = sub.add_parser("batch", help="run a pipeline over many images; masks/alphas/heat maps as PNG + summary.csv")
    batch.add_argument("pipeline", choices=("boundary_aware", "matting", "query", "semantic"))
    batch.add_argument("inputs", help="a glob pattern (quote it: 'photos/*.jpg') or a folder of images")
    batch.add_argument("--out", required=True, help="output folder (outputs and summary.csv)")
    batch.add_argument("--boxes", default=None, help="boundary_aware box mode: CSV (name,x0,y0,x1,y1) or JSON boxes")
    batch.add_argument("--trimaps", default=None, help="matting: folder with a <image name>.png trimap per image")
    batch.add_argument("--query", default=None, help="query: the query image")
    batch.add_argument("--query-box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), default=None,
                       help="query: the object's box in the query image")
    batch.add_argument("--scheduler", choices=("local", "dask"), default="local",
                       help="local: this process (default); dask: a Dask cluster (pip install 'segwidgets[dask]')")
    batch.add_argument("--workers", type=int, default=2, help="worker processes of the local Dask cluster")
    batch.add_argument("--address", default=None, help="a running Dask scheduler, e.g. tcp://host:8786")
    batch.add_argument("--no-resume", action="store_true", help="redo images whose outputs exist")
    args = parser.parse_args(argv)
    if args.command == "batch":
        return _batch(args)
    if args.command == "demo":
        from .demo import run_demo

        try:
            written = run_demo(args.out, image=args.image, box=args.box, iterations=args.iterations)
        except (ValueError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {len(written)} files to {args.out}:")
        for path in written:
            print(f"  {path}")
    return 0


def _batch(args) -> int:
    from .batch import run

    params = {}
    if args.query is not None:
        params["query"] = args.query
        if args.query_box is not None:
            params["query_box"] = tuple(args.query_box)
    try:
        report = run(args.pipeline, args.inputs, args.out, scheduler="dask" if args.scheduler == "dask" else None,
                     workers=args.workers, address=args.address, resume=not args.no_resume, boxes=args.boxes,
                     trimaps=args.trimaps, **params)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 1 if report.count("error") else 0


if __name__ == "__main__":
    sys.exit(main())
