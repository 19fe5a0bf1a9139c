"""The one place that touches ipycanvas internals (tested with ipycanvas 0.14, pinned in pyproject).

ipycanvas' public ``put_image_data`` re-encodes every array itself (zlib level 6
for RGBA, lossy JPEG for RGB). We send our own fast, lossless PNG through the
same front-end draw command instead; if a future ipycanvas changes that command,
``tests/widgets/test_base.py::test_the_ipycanvas_adapter_sends_what_put_image_data_sends`` fails and this module is all that
needs to change.
"""
from __future__ import annotations

import warnings

import ipycanvas
from ipycanvas.canvas import COMMANDS

#: The ipycanvas releases this adapter was tested with (also the pin in pyproject.toml).
TESTED_RANGE = ((0, 14), (0, 15))


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:2] if part.isdigit())


if not TESTED_RANGE[0] <= _version_tuple(ipycanvas.__version__) < TESTED_RANGE[1]:
    warnings.warn(f"segwidgets was tested with ipycanvas 0.14.x; ipycanvas {ipycanvas.__version__} may draw nothing",
                  stacklevel=2)


def draw_png(layer, png: bytes, x: int = 0, y: int = 0) -> None:
    """Draw PNG bytes with their top-left corner at canvas pixel ``(x, y)`` of an
    ipycanvas ``Canvas`` (one layer of a ``MultiCanvas``); the bytes travel as one binary buffer."""
    layer._canvas_manager.send_draw_command(layer, COMMANDS["putImageData"], [x, y], [png])
