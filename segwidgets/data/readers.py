"""Reading the target files of the shared layout: masks, label maps, alpha mattes, trimaps."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

#: PIL modes holding 8 bits per channel (alpha mattes and trimaps must be one of these).
EIGHT_BIT_MODES = ("1", "L", "LA", "P", "RGB", "RGBA")
#: PIL modes read as one value per pixel in a label map.
LABEL_MODES = ("P", "L", "I;16", "I")


def _read(path, keep: tuple[str, ...] = ()) -> tuple[np.ndarray, str]:
    """Pixel values of one image file and its PIL mode.

    Images whose mode is in ``keep`` give their stored values (palette indices
    for "P", all channels for "RGB"); every other image is converted to 8-bit
    grayscale ("L").

    Returns
    -------
    values : (H, W) or (H, W, C) ndarray
    mode : str
        The file's mode before conversion.

    Raises
    ------
    FileNotFoundError
        No such file.
    OSError
        The file is not a readable image (message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {os.fspath(path)!r}")
    try:
        with Image.open(path) as pil:
            return np.asarray(pil if pil.mode in keep else pil.convert("L")), pil.mode
    except OSError as err:  # PIL.UnidentifiedImageError, truncated files
        raise OSError(f"cannot read image {os.fspath(path)!r}: {err}") from err


def load_mask(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a ground-truth mask as ``(object, ignore)``.

    Conventions: palette (mode "P") masks as in DAVIS: 0 background, 255 void
    (ignored), any other index object. Grayscale masks (other modes are
    converted to grayscale): 0 background, 128 ignored (the GrabCut dataset's
    unknown band), values above 128 object.

    Returns
    -------
    object, ignore : (H, W) bool
    """
    values, mode = _read(path, keep=("P",))
    if mode == "P":
        ignore = values == 255
        return (values > 0) & ~ignore, ignore
    ignore = values == 128
    return values > 128, ignore


def load_label_map(path) -> np.ndarray:
    """Read a label map: the palette index (mode "P") or grayscale value of each pixel.

    For example ``seg/ccp_person/labels/NAME.png``: garment labels 0..58, names
    in that dataset's ``label_names.txt`` (see :func:`label_names`).

    Returns
    -------
    (H, W) int32

    Raises
    ------
    ValueError
        A colour (RGB) or other non-label image.
    """
    values, mode = _read(path, keep=LABEL_MODES)
    if mode not in LABEL_MODES:
        raise ValueError(f"{os.fspath(path)!r} is not a label map: mode {mode}, expected one of {LABEL_MODES}")
    return values.astype(np.int32)


def label_names(folder) -> list[str]:
    """The class names of a labelled dataset: ``folder/label_names.txt``, one per line.

    A line is ``INDEX NAME`` (as in ccp_person: ``0 null``, ``1 accessories``,
    ...) or just ``NAME``; either way the list index is the line number, and an
    explicit index must agree with it.

    Returns
    -------
    list of str
        ``names[label]`` is the name of label value ``label``.

    Raises
    ------
    FileNotFoundError
        No ``label_names.txt`` in ``folder``.
    ValueError
        An explicit index that differs from its line number.
    """
    path = Path(folder) / "label_names.txt"
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {os.fspath(path)!r}")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = []
    for number, line in enumerate(lines):
        index, _, name = line.partition(" ")
        if index.isdigit() and name:
            if int(index) != number:
                raise ValueError(f"{os.fspath(path)!r} line {number + 1}: index {index}, expected {number}")
            line = name.strip()
        names.append(line)
    return names


def _read_gray8(path) -> np.ndarray:
    """An 8-bit grayscale image as (H, W) uint8; ``ValueError`` for other bit depths or colour images."""
    values, mode = _read(path, keep=("RGB", "RGBA"))
    if mode not in EIGHT_BIT_MODES:
        raise ValueError(f"{os.fspath(path)!r}: expected an 8-bit image, got mode {mode}")
    if values.ndim == 3:
        # Some sets (alphamatting.com) store gray mattes as RGB; a colour file is a mistake, not a matte.
        rgb = values[..., :3]
        if not (rgb == rgb[..., :1]).all():
            raise ValueError(f"{os.fspath(path)!r} is a colour image, expected grayscale")
        values = rgb[..., 0]
    return values


def load_alpha(path) -> np.ndarray:
    """Read an alpha matte: 8-bit grayscale (gray RGB accepted) divided by 255.

    Returns
    -------
    (H, W) float32 in [0, 1]
        1 is opaque foreground.
    """
    return _read_gray8(path).astype(np.float32) / 255.0


#: Trimap values: background, unknown, foreground.
TRIMAP_BACKGROUND, TRIMAP_UNKNOWN, TRIMAP_FOREGROUND = 0, 128, 255


def load_trimap(path) -> np.ndarray:
    """Read a trimap as 0 (background), 128 (unknown) and 255 (foreground).

    Every value other than 0 and 255 reads as 128: trimaps mark the unknown
    band with different grays (the lemur's uses 102).

    Returns
    -------
    (H, W) uint8 with values in {0, 128, 255}
    """
    values = _read_gray8(path)
    known = (values == TRIMAP_BACKGROUND) | (values == TRIMAP_FOREGROUND)
    return np.where(known, values, TRIMAP_UNKNOWN).astype(np.uint8)
