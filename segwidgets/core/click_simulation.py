"""Simulated user clicks: where the number-of-clicks protocol (and click training) clicks.

The next click goes where the error is thickest: at the maximum of the distance
transform of the false-negative and false-positive regions, positive when that
point was missed object, negative when it was false object. The image border
counts as outside every region (masks are padded), so a click never lands on
the frame. This is the protocol of RITM and the papers before it.

Clicks are :class:`~segwidgets.core.clicks.Click` at the centre of the chosen
pixel: pixel (row ``r``, column ``c``) gives ``Click(c + 0.5, r + 0.5)``, whose
``pixel`` is ``(r, c)``. numpy + scipy only.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .clicks import Click


def _inner_distance(region: np.ndarray) -> np.ndarray:
    """Distance of each pixel of (H, W) bool ``region`` to the nearest pixel outside it, (H, W) float.

    The image border counts as outside, so pixels on the frame are at most 1 deep.
    """
    padded = np.pad(region, 1, constant_values=False)
    return ndimage.distance_transform_edt(padded)[1:-1, 1:-1]


def _centred_click(row, col, positive: bool) -> Click:
    return Click(int(col) + 0.5, int(row) + 0.5, bool(positive))


def next_click(prediction: np.ndarray, target: np.ndarray, ignore: np.ndarray | None = None) -> Click | None:
    """The protocol's next click: at the deepest point of the larger error.

    Parameters
    ----------
    prediction, target : (H, W) bool
    ignore : (H, W) bool, optional
        Pixels that count as neither right nor wrong (never clicked).

    Returns
    -------
    Click or None
        Positive on missed object, negative on false object, at the centre of the
        first (row-major) deepest pixel; ties between the two errors go to the
        positive click. None when nothing is wrong.
    """
    valid = ~ignore if ignore is not None else np.ones_like(target)
    missed = target & ~prediction & valid
    false = prediction & ~target & valid
    if not missed.any() and not false.any():
        return None
    d_missed, d_false = _inner_distance(missed), _inner_distance(false)
    positive = d_missed.max() >= d_false.max()
    d = d_missed if positive else d_false
    row, col = np.unravel_index(np.argmax(d), d.shape)
    return _centred_click(row, col, positive)


def first_click(target: np.ndarray, rng: np.random.Generator | None = None, depth: float = 0.5) -> Click:
    """A positive click deep inside ``target``, as a user's first click.

    Parameters
    ----------
    target : (H, W) bool
        Must hold at least one object pixel.
    rng : numpy.random.Generator, optional
        Without it: the first (row-major) deepest pixel. With it: a random pixel
        at least ``depth`` x the deepest distance from the edge.
    depth : float
        Fraction of the deepest distance a random click must reach.

    Returns
    -------
    Click
        Positive, at the centre of the chosen pixel.
    """
    d = _inner_distance(target)
    if rng is None:
        row, col = np.unravel_index(np.argmax(d), d.shape)
    else:
        rows, cols = np.nonzero(d >= depth * d.max())
        i = rng.integers(len(rows))
        row, col = rows[i], cols[i]
    return _centred_click(row, col, True)
