"""Image, mask, map, box and point validation: every public entry converts its inputs here, once.

This module needs only numpy and Pillow (no torch), so the graph-cut layer can
use it. Every public function of the package that takes an image passes it
through :func:`as_rgb_image` once, at the boundary.
"""
from __future__ import annotations

import hashlib
import os
import warnings

import numpy as np
from PIL import Image


def as_rgb_image(image) -> np.ndarray:
    """Return ``image`` as an (H, W, 3) uint8 RGB array.

    Accepted inputs and their conversion:

    - (H, W, 3) uint8 array: returned as is (made C-contiguous).
    - (H, W) uint8 array (grayscale): the value is copied into R, G and B.
    - (H, W, 4) uint8 array (RGBA): the alpha channel is dropped.
    - (H, W, 1) uint8 array: treated as grayscale.
    - ``PIL.Image.Image`` of any mode: converted with ``Image.convert("RGB")``
      (RGBA drops alpha, palette and grayscale images are expanded); 16-bit grayscale
      (``I;16``, e.g. a 16-bit PNG) is scaled to 8 bits (value / 257) with a ``UserWarning``.
    - ``str`` or ``os.PathLike``: the file is opened with Pillow, then as above.

    Raises
    ------
    ValueError
        For any other type, dtype or shape, or a file that is not a readable image; the
        message says what was expected and what came.
    FileNotFoundError
        For a path that does not exist.
    """
    if isinstance(image, (str, os.PathLike)):
        if not os.path.exists(image):
            raise FileNotFoundError(f"image file not found: {os.fspath(image)!r}")
        try:
            with Image.open(image) as pil:
                return _pil_to_rgb(pil, os.fspath(image))
        except OSError as exc:  # not an image, truncated, or an unsupported format
            raise ValueError(f"could not read {os.fspath(image)!r} as an image (expected a JPEG, PNG, ...): {exc}") from exc
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image, "the PIL image")
    if not isinstance(image, np.ndarray):
        raise ValueError(
            "expected an image as an HxWx3 uint8 RGB numpy array, a PIL image or a file path; "
            f"got {type(image).__name__}"
        )
    if image.dtype != np.uint8:
        if image.dtype == np.uint16:
            advice = "for a 16-bit image (0..65535) use (image // 257).astype(np.uint8)"
        elif np.issubdtype(image.dtype, np.floating):
            advice = "for a float image in [0, 1] use (image * 255).round().astype(np.uint8)"
        else:
            advice = "scale it to 0..255 and use .astype(np.uint8)"
        raise ValueError(
            f"expected an image of dtype uint8 (values 0..255), got dtype {image.dtype} with shape {image.shape}; "
            + advice
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an image of shape HxWx3 (RGB), HxWx4 (RGBA) or HxW (grayscale); got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected a non-empty image, got shape {image.shape}")
    return np.ascontiguousarray(image)


#: Pillow modes of 16-bit (and 32-bit integer) grayscale images, which ``convert("RGB")`` clips at 255.
_WIDE_GRAY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _pil_to_rgb(pil: Image.Image, name: str) -> np.ndarray:
    """RGB uint8 from any Pillow image; 16-bit grayscale is scaled (value / 257), with a warning saying so,
    instead of Pillow's clipping (which turned most pixels of a 16-bit photo white)."""
    if pil.mode in _WIDE_GRAY_MODES:
        values = np.asarray(pil).astype(np.float64)
        top = 65535.0 if values.max(initial=0) <= 65535 else float(values.max())
        warnings.warn(f"{name}: a {pil.mode} (16-bit) grayscale image, scaled to 8 bits (value * 255 / {top:g})",
                      stacklevel=3)
        gray = np.clip(np.round(values * 255.0 / top), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    return np.ascontiguousarray(np.asarray(pil.convert("RGB")))


def as_mask(mask, shape: tuple[int, int], name: str = "mask") -> np.ndarray:
    """Return ``mask`` as an (H, W) bool array matching ``shape``.

    bool arrays are taken as is; integer arrays are taken as ``mask > 0`` (so
    0/1 and 0/255 masks both work). Float arrays are refused: threshold them
    yourself so the threshold is explicit.
    """
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise ValueError(f"expected {name} of shape {tuple(shape)} (HxW of the image), got {mask.shape}")
    if mask.dtype == bool:
        return mask
    if np.issubdtype(mask.dtype, np.integer):
        return mask > 0
    raise ValueError(
        f"expected {name} as an HxW bool (or integer 0/255) array, got dtype {mask.dtype}; "
        f"threshold float maps yourself, e.g. {name} > 0.5"
    )


def as_map(values, shape: tuple[int, int], name: str = "map") -> np.ndarray:
    """Return a probability-like map as (H, W) float32 in [0, 1].

    Raises ``ValueError`` for a wrong shape, a non-float dtype, NaNs, or values
    outside [0, 1].
    """
    values = np.asarray(values)
    if values.shape != tuple(shape):
        raise ValueError(f"expected {name} of shape {tuple(shape)} (HxW of the image), got {values.shape}")
    if not np.issubdtype(values.dtype, np.floating):
        raise ValueError(f"expected {name} as an HxW float array in [0, 1], got dtype {values.dtype}")
    values = values.astype(np.float32, copy=False)
    finite = np.isfinite(values)
    if not finite.all() or values.min() < 0 or values.max() > 1:
        seen = f"range [{values[finite].min()}, {values[finite].max()}]" if finite.any() else "no finite value"
        raise ValueError(f"expected {name} values in [0, 1] with no NaN or inf, got {seen} ({(~finite).sum()} non-finite)")
    return values


#: Trimap values: known background, unknown, known foreground (uint8 convention).
TRIMAP_VALUES = (0, 128, 255)


def as_trimap(trimap, shape: tuple[int, int], name: str = "trimap") -> np.ndarray:
    """Return a trimap as (H, W) uint8 with 0 (background), 128 (unknown) and 255 (foreground).

    Accepts integer arrays holding only 0 / 128 / 255, or float arrays holding only
    0 / 0.5 / 1. Anything else (another shape, other values, NaN, bool) is a
    ``ValueError`` that says what came.
    """
    trimap = np.asarray(trimap)
    if trimap.shape != tuple(shape):
        raise ValueError(f"expected {name} of shape {tuple(shape)} (HxW of the image), got {trimap.shape}")
    if np.issubdtype(trimap.dtype, np.floating):
        allowed, scale = (0.0, 0.5, 1.0), 255
    elif np.issubdtype(trimap.dtype, np.integer) and trimap.dtype != bool:
        allowed, scale = TRIMAP_VALUES, 1
    else:
        raise ValueError(f"expected {name} as uint8 (0 / 128 / 255) or float (0 / 0.5 / 1), got dtype {trimap.dtype}")
    bad = ~np.isin(trimap, allowed)
    if bad.any():
        seen = np.unique(trimap[bad])[:5]
        raise ValueError(f"{name} may hold only {allowed} (background / unknown / foreground); "
                         f"found {bad.sum()} other pixels, values such as {seen.tolist()}")
    if scale == 1:
        return trimap.astype(np.uint8, copy=False)
    return np.where(trimap == 0.5, 128, trimap * 255).astype(np.uint8)


def as_box(box, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Validate an ``(x0, y0, x1, y1)`` box in pixels and clip it to the image.

    The box covers pixel columns ``x0 <= x < x1`` and rows ``y0 <= y < y1``
    (half-open, like Python slices). Coordinates are rounded to integers.

    Raises
    ------
    ValueError
        If the box is malformed, has zero area, or lies entirely outside the image.
    """
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"expected a box (x0, y0, x1, y1) of four numbers, got {box!r}") from None
    h, w = shape
    if not all(np.isfinite([x0, y0, x1, y1])):
        raise ValueError(f"box coordinates must be finite, got {box!r}")
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box (x0, y0, x1, y1) = {box!r} has zero area; need x1 > x0 and y1 > y0")
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise ValueError(f"box {box!r} lies outside the {w}x{h} (width x height) image")
    cx0, cy0 = max(0, int(round(x0))), max(0, int(round(y0)))
    cx1, cy1 = min(w, int(round(x1))), min(h, int(round(y1)))
    if cx1 <= cx0 or cy1 <= cy0:
        raise ValueError(f"box {box!r} covers no whole pixel of the {w}x{h} image")
    return cx0, cy0, cx1, cy1


def as_point(point, shape: tuple[int, int], name: str = "point") -> tuple[float, float]:
    """Validate an ``(x, y)`` point in pixels of an image of ``shape`` (H, W).

    Raises ``ValueError`` when malformed, not finite, or outside the image
    (``0 <= x < W``, ``0 <= y < H``).
    """
    try:
        x, y = (float(v) for v in point)
    except (TypeError, ValueError):
        raise ValueError(f"expected a {name} (x, y) of two numbers, got {point!r}") from None
    h, w = shape[:2]
    if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < w and 0 <= y < h):
        raise ValueError(f"{name} {point!r} lies outside the {w}x{h} (width x height) image")
    return x, y


def box_from_mask(mask: np.ndarray, padding: float = 0.0) -> tuple[int, int, int, int]:
    """Tight ``(x0, y0, x1, y1)`` box around a mask's True pixels, grown by
    ``padding`` times its width/height on every side, clipped to the image."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise ValueError("mask is empty: no box can be taken from it")
    h, w = mask.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    px, py = padding * (x1 - x0), padding * (y1 - y0)
    return (
        max(0, int(np.floor(x0 - px))),
        max(0, int(np.floor(y0 - py))),
        min(w, int(np.ceil(x1 + px))),
        min(h, int(np.ceil(y1 + py))),
    )


def image_hash(image: np.ndarray) -> str:
    """Content hash of an image array (shape, dtype and bytes); equal images share it."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{image.shape}{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()
