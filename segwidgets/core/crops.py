"""``CropWindow``: the one transform between an image and a resampled crop of it.

A crop window is a box of the image (``(x0, y0, x1, y1)`` in image pixels,
floats; it may extend past the image, which reads as zeros) shown on a local
grid of ``size = (h, w)`` pixels. Networks see crops through it, pipelines map
their maps back through it, and the canvas shows the whole image on screen
through one (``CropWindow.whole``), so points, boxes, masks and maps take the
same path everywhere.

Coordinates are continuous: pixel ``(i, j)`` (column, row) covers
``i <= x < i + 1`` and ``j <= y < j + 1``, its centre is ``(i + 0.5, j + 0.5)``.
A point maps by ``x_local = (x - x0) * w / (x1 - x0)`` (likewise y); arrays are
resampled at the pixel centres of the target grid: bilinear with zeros outside
the source (what ``torch.nn.functional.grid_sample`` does with
``align_corners=False``, as in training), nearest for masks, or an
antialiased triangle filter for display. numpy + scipy only, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

SIDES = ("left", "top", "right", "bottom")


def square_box(box, scale: float = 1.0) -> tuple[float, float, float, float]:
    """The square box with the same centre as ``box`` and side ``scale * max(width, height)``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = scale * max(x1 - x0, y1 - y0) / 2
    return (cx - half, cy - half, cx + half, cy + half)


def fit_size(box, max_side: int, min_side: int = 8) -> tuple[int, int]:
    """``(h, w)`` of a grid over ``box`` with longest side ``max_side`` and the box's aspect."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    scale = max_side / max(bw, bh)
    return max(min_side, int(round(bh * scale))), max(min_side, int(round(bw * scale)))


@dataclass(frozen=True)
class CropWindow:
    """A box of an image resampled onto a local ``(h, w)`` grid.

    Attributes
    ----------
    box : (x0, y0, x1, y1) float
        The crop in image pixels (edges); may extend past the image.
    size : (h, w) int
        The local grid (e.g. the network input or the display).
    image_size : (H, W) int
        The image the box lies in.
    """

    box: tuple[float, float, float, float]
    size: tuple[int, int]
    image_size: tuple[int, int]

    def __post_init__(self):
        box = tuple(float(v) for v in self.box)
        if len(box) != 4 or not np.all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
            raise ValueError(f"a crop box needs finite x1 > x0 and y1 > y0, got {self.box!r}")
        size = tuple(int(v) for v in self.size)
        image_size = tuple(int(v) for v in self.image_size)
        if len(size) != 2 or min(size) < 1 or len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"crop size and image size must be (h, w) >= 1, got {self.size} and {self.image_size}")
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "image_size", image_size)

    # -- construction -------------------------------------------------------------
    @classmethod
    def whole(cls, image_size, size=None, max_side: int | None = None) -> "CropWindow":
        """The whole image on a grid of ``size``, or shrunk so its longest side is at most
        ``max_side`` (never enlarged; the aspect kept), or at its own size."""
        h, w = (int(v) for v in image_size[:2])
        if size is None:
            scale = 1.0 if max_side is None else min(1.0, max_side / max(h, w))
            if max_side is not None and max_side <= 0:
                raise ValueError(f"max_side must be positive, got {max_side}")
            size = (max(1, int(round(h * scale))), max(1, int(round(w * scale))))
        return cls((0.0, 0.0, float(w), float(h)), size, (h, w))

    @classmethod
    def fit(cls, box, image_size, max_side: int) -> "CropWindow":
        """``box`` on a grid whose longest side is ``max_side`` (aspect kept): a network input."""
        return cls(box, fit_size(box, max_side), image_size[:2])

    @classmethod
    def square(cls, box, image_size, max_side: int, scale: float = 1.0) -> "CropWindow":
        """The square around ``box`` (side ``scale`` x its longest side) at ``max_side`` pixels."""
        return cls.fit(square_box(box, scale), image_size, max_side)

    def grown(self, sides, step: float) -> "CropWindow":
        """This window grown by ``step`` x its size on each of ``sides`` ("left", "top",
        "right", "bottom"), never past the image border; same longest grid side."""
        h, w = self.image_size
        x0, y0, x1, y1 = self.box
        dx, dy = step * (x1 - x0), step * (y1 - y0)
        if "left" in sides:
            x0 = min(x0, max(0.0, x0 - dx))
        if "top" in sides:
            y0 = min(y0, max(0.0, y0 - dy))
        if "right" in sides:
            x1 = max(x1, min(float(w), x1 + dx))
        if "bottom" in sides:
            y1 = max(y1, min(float(h), y1 + dy))
        return CropWindow.fit((x0, y0, x1, y1), self.image_size, max(self.size))

    # -- geometry -----------------------------------------------------------------
    @property
    def is_identity(self) -> bool:
        """Whether the window is the whole image at its own size (resampling changes nothing)."""
        h, w = self.image_size
        return self.box == (0.0, 0.0, float(w), float(h)) and self.size == (h, w)

    @property
    def scale(self) -> tuple[float, float]:
        """``(sx, sy)``: local pixels per image pixel along x and y."""
        x0, y0, x1, y1 = self.box
        return self.size[1] / (x1 - x0), self.size[0] / (y1 - y0)

    @property
    def region(self) -> tuple[int, int, int, int]:
        """Integer ``(x0, y0, x1, y1)``: the image pixels the box touches (clipped to the image)."""
        h, w = self.image_size
        x0, y0 = max(0, int(np.floor(self.box[0]))), max(0, int(np.floor(self.box[1])))
        x1, y1 = min(w, int(np.ceil(self.box[2]))), min(h, int(np.ceil(self.box[3])))
        return x0, y0, max(x0, x1), max(y0, y1)

    @property
    def region_slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices of :attr:`region`, e.g. ``image[window.region_slices]``."""
        x0, y0, x1, y1 = self.region
        return slice(y0, y1), slice(x0, x1)

    def touched_sides(self, hot: np.ndarray, band: int) -> tuple[str, ...]:
        """Sides where the (h, w) local bool map ``hot`` has pixels within ``band`` local
        pixels of the edge, among the sides that lie inside the image (those can grow)."""
        h, w = self.image_size
        x0, y0, x1, y1 = self.box
        can_grow = {"left": x0 > 0, "top": y0 > 0, "right": x1 < w, "bottom": y1 < h}
        strips = {"left": hot[:, :band], "top": hot[:band, :], "right": hot[:, -band:], "bottom": hot[-band:, :]}
        return tuple(side for side in SIDES if can_grow[side] and strips[side].any())

    # -- points and boxes ---------------------------------------------------------
    def to_local_points(self, points) -> np.ndarray:
        """(N, 2) image ``(x, y)`` -> (N, 2) local ``(x, y)``, float64."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        return (p - self.box[:2]) * self.scale

    def to_frame_points(self, points) -> np.ndarray:
        """(N, 2) local ``(x, y)`` -> (N, 2) image ``(x, y)``, float64."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        return p / self.scale + self.box[:2]

    def to_local_box(self, box) -> tuple[float, float, float, float]:
        """An image ``(x0, y0, x1, y1)`` box in local pixels."""
        (a, b), (c, d) = self.to_local_points([box[:2], box[2:]])
        return (float(a), float(b), float(c), float(d))

    def to_frame_box(self, box) -> tuple[float, float, float, float]:
        """A local ``(x0, y0, x1, y1)`` box in image pixels."""
        (a, b), (c, d) = self.to_frame_points([box[:2], box[2:]])
        return (float(a), float(b), float(c), float(d))

    # -- arrays -------------------------------------------------------------------
    def to_local_map(self, values: np.ndarray, order: int = 1, antialias: bool = False) -> np.ndarray:
        """Resample an image-size (H, W[, C]) array onto the local (h, w[, C]) grid.

        ``order=1``: bilinear, zeros outside the image (float32 out; uint8 images keep
        their 0..255 units); ``order=0``: nearest pixel (dtype kept). ``antialias``
        widens the bilinear filter when shrinking (for display), like Pillow.
        """
        values = _check_frame(values, self.image_size, "array")
        if self.is_identity:  # the whole image at its own size: every sample falls on a pixel centre
            return values.astype(np.float32) if order == 1 else values.copy()
        x0, y0, x1, y1 = self.box
        sx, sy = self.scale
        rows = _weights(self.image_size[0], self.size[0], y0, 1 / sy, order, antialias)
        cols = _weights(self.image_size[1], self.size[1], x0, 1 / sx, order, antialias)
        return _resample(values, rows, cols, order)

    def to_local_mask(self, mask: np.ndarray) -> np.ndarray:
        """An image-size (H, W) bool mask on the local grid: bilinear, then > 0.5."""
        return self.to_local_map(np.asarray(mask, bool)) > 0.5

    def to_frame_map(self, local: np.ndarray, order: int = 1) -> np.ndarray:
        """Resample a local (h, w[, C]) array onto the image pixels of :attr:`region`:
        (H_r, W_r[, C]), bilinear (float32) or nearest (``order=0``, dtype kept).

        Region pixels the box does not cover read as zero (bilinear)."""
        local = _check_frame(local, self.size, "local array")
        x0, y0, x1, y1 = self.region
        sx, sy = self.scale
        # Region pixel c (image x = x0 + c + 0.5 at its centre) reads local x = (x - box_x0) * sx.
        rows = _weights(self.size[0], y1 - y0, (y0 - self.box[1]) * sy, sy, order, False)
        cols = _weights(self.size[1], x1 - x0, (x0 - self.box[0]) * sx, sx, order, False)
        return _resample(local, rows, cols, order)

    def to_frame_mask(self, local_mask: np.ndarray) -> np.ndarray:
        """A local (h, w) bool mask on the image pixels of :attr:`region`: bilinear, then > 0.5."""
        return self.to_frame_map(np.asarray(local_mask, np.float32)) > 0.5

    def paste(self, region_values: np.ndarray, fill=0) -> np.ndarray:
        """A full image-size (H, W[, C]) array holding ``region_values`` (shaped like
        :attr:`region`) there and ``fill`` elsewhere; dtype kept."""
        region_values = np.asarray(region_values)
        x0, y0, x1, y1 = self.region
        if region_values.shape[:2] != (y1 - y0, x1 - x0):
            raise ValueError(f"expected an array of the crop region's shape {(y1 - y0, x1 - x0)}, got {region_values.shape[:2]}")
        out = np.full(tuple(self.image_size) + region_values.shape[2:], fill, region_values.dtype)
        out[y0:y1, x0:x1] = region_values
        return out


def _check_frame(values, shape, name) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim not in (2, 3) or values.shape[:2] != tuple(shape):
        raise ValueError(f"expected {name} of shape {tuple(shape)} (h, w[, channels]), got {values.shape}")
    return values


@lru_cache(maxsize=64)
def _weights(n_in: int, n_out: int, start: float, step: float, order: int, antialias: bool):
    """Resampling along one axis: output pixel ``u`` reads the source at continuous
    coordinate ``start + (u + 0.5) * step`` (source pixel i covers [i, i + 1)); source
    pixels outside ``[0, n_in)`` are zeros.

    Returns, for ``order=0``, the (n_out,) source index per output pixel (-1 outside);
    for ``order=1``, ``(matrix, used)``: the source indices some output reads, and the
    (n_out, len(used)) weights over them, so only those rows or columns are ever read.
    Cached (and read-only): windows repeat (a display, a crop's round trip).
    """
    centres = start + (np.arange(n_out) + 0.5) * step - 0.5  # in source index units
    if order == 0:
        index = np.floor(centres + 0.5).astype(np.int64)
        index[(index < 0) | (index >= n_in)] = -1
        index.flags.writeable = False
        return index
    if order == 1:
        support = max(1.0, step) if antialias else 1.0  # triangle half-width, source pixels
        taps = int(np.ceil(support)) * 2 + 1
        first = np.floor(centres - support).astype(np.int64) + 1
        cols = first[:, None] + np.arange(taps)[None, :]
        vals = np.maximum(0.0, 1.0 - np.abs(cols - centres[:, None]) / support).astype(np.float32)
        if antialias and support > 1:  # normalise over the taps inside the image (as Pillow does)
            inside = (cols >= 0) & (cols < n_in)
            vals = vals / np.maximum((vals * inside).sum(1, keepdims=True), 1e-12)
        rows = np.repeat(np.arange(n_out), taps)
        cols, vals = cols.ravel(), vals.ravel()
    else:
        raise ValueError(f"order must be 0 (nearest) or 1 (bilinear), got {order}")
    keep = (cols >= 0) & (cols < n_in) & (vals != 0)
    used, compact = np.unique(cols[keep], return_inverse=True)
    matrix = sparse.csr_matrix((vals[keep], (rows[keep], compact.ravel())), shape=(n_out, len(used)))
    return matrix, used


def _resample(values: np.ndarray, rows, cols, order: int) -> np.ndarray:
    """Apply row and column resampling (see :func:`_weights`) to an (H, W[, C]) array."""
    if order == 0:  # a gather: keeps dtype (bool masks, labels) and exact values
        out = values[rows[:, None], cols[None, :]]
        out[(rows < 0)[:, None] | (cols < 0)[None, :]] = 0
        return out
    (row_weights, used_rows), (col_weights, used_cols) = rows, cols
    # Read only the source pixels some output uses, before converting: a small crop of a
    # large photo then costs what the crop costs, not what the photo does.
    a = values[used_rows[:, None], used_cols[None, :]]
    if a.ndim == 3:  # plane by plane: 2-D products and transposes stay cache-friendly
        return np.stack([_resample_plane(a[..., c], row_weights, col_weights) for c in range(a.shape[2])], axis=-1)
    return _resample_plane(a, row_weights, col_weights)


def _resample_plane(a: np.ndarray, row_weights, col_weights) -> np.ndarray:
    """``R @ a @ C.T`` for one (h_in, w_in) plane: (h, w) float32."""
    b = np.asarray(row_weights @ a.astype(np.float32))  # (h, w_in): rows first, usually the big reduction
    return np.ascontiguousarray(np.asarray(col_weights @ b.T).T, dtype=np.float32)
