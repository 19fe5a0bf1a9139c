"""Command line: ``python -m segwidgets demo --out DIR``."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segwidgets", description="segwidgets command line")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write PNG panels of every intermediate map for a bundled sample image")
    demo.add_argument("--out", required=True, help="output folder (created if missing)")
    demo.add_argument("--image", default=None, help="an image file to use instead of the bundled sample")
    demo.add_argument("--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), default=None,
                      help="object box in pixels (default: the sample's own box)")
    demo.add_argument("--iterations", type=int, default=8)
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
