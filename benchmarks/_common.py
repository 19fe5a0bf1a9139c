"""Shared command-line handling for the benchmark scripts."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from segwidgets.data import DEFAULT_DATA_ROOT

#: The shared data folder (``$SEGWIDGETS_DATA`` overrides it; see ``segwidgets.data``).
SHARED_DATA = DEFAULT_DATA_ROOT


def parser(description: str, default_data: Path) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", type=Path, default=default_data, help=f"dataset folder (default {default_data})")
    p.add_argument("--limit", type=int, default=None, help="first N samples only (quick run)")
    p.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    return p


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """``--device`` and ``--threads``: where the engine runs and its CPU thread count."""
    p.add_argument("--device", default=None, help="cpu / cuda (default: the engine's choice)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads on the CPU (default: the engine's measured policy)")


def load_resized(image_path, mask_path, megapixels: float = 0.5):
    """Image (H, W, 3) uint8 and its ground truth (object, ignore) bool masks, resized to ~``megapixels``."""
    import numpy as np
    from PIL import Image

    from segwidgets.data import load_mask

    with Image.open(image_path) as pil:
        scale = (megapixels * 1e6 / (pil.width * pil.height)) ** 0.5
        size = (round(pil.width * scale), round(pil.height * scale))
        image = np.asarray(pil.convert("RGB").resize(size, Image.BILINEAR))
    target, ignore = load_mask(mask_path)
    target = np.asarray(Image.fromarray(target).resize(size, Image.NEAREST))
    ignore = np.asarray(Image.fromarray(ignore).resize(size, Image.NEAREST))
    return image, target, ignore


def print_table(header: list[str], rows: list[list]) -> None:
    cells = [header] + [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for j, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def write_json(path: Path | None, figures: dict) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {path}")


def require_peer(module: str, what: str):
    """Import a peer that only the benchmarks use (OpenCV, pymatting), or exit with the command that installs it."""
    import importlib
    import sys

    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"{what} needs the benchmark extras ({module} is not installed): pip install -e \".[bench]\"",
              file=sys.stderr)
        raise SystemExit(2)
