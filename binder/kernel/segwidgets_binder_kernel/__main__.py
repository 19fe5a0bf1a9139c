"""``python -m segwidgets_binder_kernel install [--name NAME] [--prefix DIR]``: install the forking kernel spec."""
from __future__ import annotations

import argparse
import sys

from . import install


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m segwidgets_binder_kernel",
        description="Install a Jupyter kernel spec whose kernels are forked from one process that already "
                    "imported PyTorch and the other libraries, so that kernels share that memory.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("install", help="install the kernel spec (default: this environment's 'python3' kernel)")
    add.add_argument("--name", default="python3", help="kernel name; 'python3' replaces the default kernel")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--prefix", default=sys.prefix,
                       help="install under PREFIX/share/jupyter/kernels (default: this environment's prefix, "
                            "which Jupyter in a virtual or conda environment searches before the user's folder)")
    where.add_argument("--user", action="store_true", help="install in this user's Jupyter data folder instead")
    add.add_argument("--display-name", default="Python 3 (ipykernel)", help="name shown in the launcher")
    args = parser.parse_args(argv)
    folder = install(args.name, prefix=args.prefix, user=args.user, display_name=args.display_name)
    print(f"installed kernel spec {args.name!r} in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
