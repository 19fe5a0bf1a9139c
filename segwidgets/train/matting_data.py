"""Matting training samples generated on the fly.

A sample is a foreground with an alpha composited onto a background taken from
another image, ``I = a F + (1 - a) B``, so the background ``B``, the foreground
``F`` and ``a`` are all known exactly:

- foregrounds with real mattes (``alphamatting_dev`` GT01..GT08 only; ``F`` is the
  matte's own image, which makes the composite exact) or, mostly, objects of the
  ``seg/`` sets with a soft alpha made by blurring their mask (a random width,
  varying smoothly along the outline) so the networks see partial transparency,
  or (``pseudo_p``) with their closed-form pseudo matte and its estimated
  foreground colours (:mod:`.pseudo_mattes`);
- with probability 0.5 a second foreground joins the first (alphas combined as
  ``1 - (1 - a1)(1 - a2)``);
- random scale and position of the crop, a mirror flip, colour jitter of the
  foreground;
- optionally (``holes_p``) holes punched through an object's alpha, so the background
  shows through inside the object as between a plant's leaves or strands of hair;
- optionally (``strands_p``) thin curved strands of the object's colour growing out of
  its outline, sub-pixel wide, so the networks see hair-like partial alpha;
- trimap: the mixed pixels (0.01 < a < 0.99) dilated by a random 1..19 px; optionally
  (``wide_p``) widened as a hand-painted one is (:func:`widen_unknown`): broad strokes that
  reach well into solid foreground and background, so whole areas of leaves or hair are
  unknown, not only thin bands along each edge.

Real mattes can also come as they are (their own background, unknown colours):
those samples have ``has_colors`` false and train only what alpha alone supervises.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from skimage.draw import bezier_curve

from ..core.crops import CropWindow, square_box
from ..data.matting import MattingExample
from .data import Item

#: Alpha values strictly between these count as mixed (the trimap's unknown band grows from them).
MIXED_LOW, MIXED_HIGH = 0.01, 0.99
#: The unknown band is the mixed pixels dilated by this many pixels (inclusive range).
BAND_RANGE = (1, 19)
#: A widened trimap's strokes reach this many pixels past the band (inclusive range, at a 256 px sample).
WIDE_REACH = (6, 32)


@dataclass
class MattingSample:
    """One training sample, arrays on an (S, S) grid.

    image, foreground, background : (S, S, 3) float32 in [0, 1];
    alpha : (S, S) float32; trimap : (S, S) float32 in {0, 0.5, 1};
    has_colors : whether ``foreground`` and ``background`` are ground truth.
    """

    image: np.ndarray
    alpha: np.ndarray
    foreground: np.ndarray
    background: np.ndarray
    trimap: np.ndarray
    has_colors: bool


def jitter_colors(rng: np.random.Generator, rgb: np.ndarray) -> np.ndarray:
    """Random brightness, contrast and saturation (+-25 %) and a small hue shift of an (S, S, 3) [0, 1] image."""
    b, c, s = rng.uniform(0.75, 1.25, 3)
    rgb = rgb * b
    mean = rgb.mean()
    rgb = (rgb - mean) * c + mean
    gray = rgb.mean(axis=2, keepdims=True)
    rgb = (rgb - gray) * s + gray
    rgb = rgb * rng.uniform(0.92, 1.08, 3)  # per-channel gain: a mild colour cast
    return np.clip(rgb, 0, 1).astype(np.float32)


def soft_alpha(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """A soft alpha from a binary-ish (S, S) mask in [0, 1]: blur whose width varies smoothly along the outline."""
    widths = rng.uniform(0.0, 6.0, 2) * (rng.random(2) > 0.15)  # some edges stay (anti-aliased) hard
    blurred = [ndimage.gaussian_filter(mask, w) if w > 0.3 else mask for w in widths]
    coarse = rng.random((6, 6)).astype(np.float32)  # a smooth 0..1 field: a coarse grid, upsampled
    mix = ndimage.zoom(coarse, (mask.shape[0] / 6, mask.shape[1] / 6), order=1, grid_mode=True, mode="nearest")
    return np.clip(mix * blurred[0] + (1 - mix) * blurred[1], 0, 1).astype(np.float32)


def punch_holes(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """``alpha`` with soft-edged holes covering 10-40 % of its opaque part.

    The holes are the highest values of smooth random noise (blobs 2-10 px across at
    a 256 px sample, soft edges of 0-1.5 px): the background then shows through
    inside the object, which soft alphas made from masks never have.
    """
    inside = alpha > 0.5
    if inside.sum() < 64:
        return alpha
    noise = ndimage.gaussian_filter(rng.standard_normal(alpha.shape).astype(np.float32), rng.uniform(2, 10))
    threshold = np.quantile(noise[inside], 1 - rng.uniform(0.1, 0.4))
    holes = (noise > threshold).astype(np.float32)
    softness = rng.uniform(0, 1.5)
    if softness > 0.3:
        holes = ndimage.gaussian_filter(holes, softness)
    return (alpha * (1 - holes)).astype(np.float32)


def grow_strands(rng: np.random.Generator, foreground: np.ndarray,
                 alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(foreground, alpha) with 20-80 thin strands growing out of the object's outline.

    Each strand is a curve (quadratic Bezier) 6-50 px long leaving an outline pixel
    roughly along the outward normal, drawn at 2x resolution and averaged down (so
    it is a fraction of a pixel wide: alpha 0.25-1 along it), with the object's colour
    where it starts. Strands go over the object's own alpha (``1 - (1 - a)(1 - s)``).
    """
    h, w = alpha.shape
    smooth = ndimage.gaussian_filter(alpha, 2.0)
    edge = np.argwhere((smooth > 0.3) & (smooth < 0.7) & (alpha > 0.5))  # on the object: its colour
    if len(edge) < 8:
        return foreground, alpha
    gy, gx = np.gradient(smooth)
    canvas = np.zeros((2 * h, 2 * w), np.float32)
    color_sum = np.zeros((2 * h, 2 * w, 3), np.float32)
    for _ in range(int(rng.integers(20, 81))):
        y, x = edge[rng.integers(len(edge))]
        angle = np.arctan2(-gy[y, x], -gx[y, x]) + rng.uniform(-1.0, 1.0)  # outward, +-57 degrees
        length = rng.uniform(6, 50)
        bend = rng.uniform(-0.5, 0.5)
        end = np.array([y + length * np.sin(angle), x + length * np.cos(angle)])
        middle = (np.array([y, x]) + end) / 2 + bend * length * np.array([np.cos(angle), -np.sin(angle)])
        rr, cc = bezier_curve(2 * y, 2 * x, int(2 * middle[0]), int(2 * middle[1]), int(2 * end[0]), int(2 * end[1]),
                              1.0, shape=canvas.shape)
        color = np.clip(foreground[y, x] * rng.uniform(0.85, 1.15), 0, 1)
        canvas[rr, cc] = 1
        color_sum[rr, cc] = color
    strands = canvas.reshape(h, 2, w, 2).mean(axis=(1, 3)) * np.float32(rng.uniform(0.6, 1.0))
    strand_color = color_sum.reshape(h, 2, w, 2, 3).sum(axis=(1, 3)) / np.maximum(
        canvas.reshape(h, 2, w, 2).sum(axis=(1, 3)), 1)[..., None]
    combined = 1 - (1 - alpha) * (1 - strands)
    weight = (alpha / np.maximum(combined, 1e-6))[..., None]
    foreground = np.where(strands[..., None] > 0, weight * foreground + (1 - weight) * strand_color, foreground)
    return foreground.astype(np.float32), combined.astype(np.float32)


def widen_unknown(rng: np.random.Generator, unknown: np.ndarray, reach=WIDE_REACH) -> np.ndarray:
    """``unknown`` (S, S) bool grown as a hand-painted trimap's strokes would be.

    Hand-painted unknown regions do not hug the edges: brushes sweep over whole
    tufts of hair or clumps of leaves, and the unknown region then holds large
    solid areas too. Here every pixel within a random ``reach`` px of the band may
    join it, where smooth random noise (blobs 10-40 px across) is high, so the
    widening varies along the outline and between samples (30-100 % of that
    reach is taken).
    """
    if not unknown.any():
        return unknown
    radius = int(rng.integers(reach[0], reach[1] + 1))
    near = ndimage.distance_transform_edt(~unknown) <= radius
    noise = ndimage.gaussian_filter(rng.standard_normal(unknown.shape).astype(np.float32), rng.uniform(5, 20))
    strokes = noise > np.quantile(noise, 1 - rng.uniform(0.3, 1.0))
    return unknown | (near & strokes)


def trimap_from_alpha(rng: np.random.Generator, alpha: np.ndarray, band=BAND_RANGE, wide: bool = False) -> np.ndarray:
    """0 / 0.5 / 1 trimap: mixed pixels dilated by a random ``band`` px are unknown, the rest by alpha;
    ``wide``: the unknown region then widened as by hand (:func:`widen_unknown`)."""
    mixed = (alpha > MIXED_LOW) & (alpha < MIXED_HIGH)
    radius = int(rng.integers(band[0], band[1] + 1))
    unknown = ndimage.distance_transform_edt(~mixed) <= radius if mixed.any() else mixed
    if wide:
        unknown = widen_unknown(rng, unknown)
    return np.where(unknown, 0.5, (alpha >= MIXED_HIGH).astype(np.float32)).astype(np.float32)


class MattingSampler:
    """Draws :class:`MattingSample` s from object sets (``items``) and real mattes (``mattes``).

    Parameters
    ----------
    items : list of ``train.data.Item``
        Images with object masks: soft-alpha foregrounds and every background.
    mattes : list of ``data.matting.MattingExample``
        Real mattes (fine-tuning set only).
    size : int
        Sample side S in pixels.
    pseudo : dict, optional
        ``{item name: (foreground (H, W, 3) uint8, alpha (H, W) float32)}`` pseudo mattes of
        some ``items`` (:func:`.pseudo_mattes.load_pseudo_mattes`).
    """

    def __init__(self, items: list[Item], mattes: list[MattingExample], size: int, pseudo: dict | None = None):
        if not items:
            raise ValueError("no object images to draw foregrounds and backgrounds from")
        self.items, self.mattes, self.size = items, mattes, size
        self.pseudo = pseudo or {}
        self._with_pseudo = [i for i, item in enumerate(items) if item.name in self.pseudo]
        # Where each matte's mixed pixels are: real-matte crops are centred on one of them.
        self._mixed = [np.argwhere((m.alpha > MIXED_LOW) & (m.alpha < MIXED_HIGH)) for m in mattes]

    def _window(self, box, shape) -> CropWindow:
        return CropWindow(box, (self.size, self.size), shape)

    def object_foreground(self, rng, pseudo_p: float = 0.0) -> tuple[np.ndarray, np.ndarray, bool]:
        """(F (S, S, 3), alpha (S, S), pseudo) from a random object: with probability ``pseudo_p``
        (when there are any) one with a pseudo matte, taken as it is (``pseudo`` true), else its
        mask softened."""
        pseudo = bool(self._with_pseudo) and pseudo_p > 0 and rng.random() < pseudo_p
        index = self._with_pseudo[rng.integers(len(self._with_pseudo))] if pseudo else rng.integers(len(self.items))
        item = self.items[index]
        box = square_box(item.box, rng.uniform(1.0, 1.8))
        side = box[2] - box[0]
        dx, dy = rng.uniform(-0.15 * side, 0.15 * side, 2)
        window = self._window((box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy), item.mask.shape)
        if pseudo:
            fg, alpha = self.pseudo[item.name]
            return ((window.to_local_map(fg) / 255.0).astype(np.float32),
                    np.clip(window.to_local_map(alpha), 0, 1).astype(np.float32), True)
        rgb = window.to_local_map(item.image) / 255.0
        mask = window.to_local_map(item.mask.astype(np.float32))
        return rgb.astype(np.float32), soft_alpha(rng, mask), False

    def matte_foreground(self, rng) -> tuple[np.ndarray, np.ndarray]:
        """(F, alpha) cropped from a real matte around one of its mixed pixels, at a random scale."""
        index = rng.integers(len(self.mattes))
        matte, mixed = self.mattes[index], self._mixed[index]
        h, w = matte.alpha.shape
        side = rng.uniform(0.2, 0.9) * min(h, w)
        cy, cx = mixed[rng.integers(len(mixed))] if len(mixed) else (h / 2, w / 2)
        cx, cy = cx + rng.uniform(-0.3, 0.3) * side, cy + rng.uniform(-0.3, 0.3) * side
        x0 = float(np.clip(cx - side / 2, 0, w - side))
        y0 = float(np.clip(cy - side / 2, 0, h - side))
        window = self._window((x0, y0, x0 + side, y0 + side), (h, w))
        return (window.to_local_map(matte.image) / 255.0).astype(np.float32), np.clip(window.to_local_map(matte.alpha), 0, 1)

    def background(self, rng) -> np.ndarray:
        """(S, S, 3) a random crop (30-100 % of the shorter side) of a random image."""
        item = self.items[rng.integers(len(self.items))]
        h, w = item.mask.shape
        side = rng.uniform(0.3, 1.0) * min(h, w)
        x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
        rgb = self._window((x0, y0, x0 + side, y0 + side), (h, w)).to_local_map(item.image) / 255.0
        return rgb.astype(np.float32)

    def sample(self, rng, real_p: float = 0.2, as_is_p: float = 0.3, holes_p: float = 0.0,
               strands_p: float = 0.0, pseudo_p: float = 0.0, wide_p: float = 0.0) -> MattingSample:
        """One sample: a real matte with probability ``real_p`` (as it is, with its own background,
        ``as_is_p`` of those), else an object: its pseudo matte with probability ``pseudo_p``, else a
        soft alpha, with holes (:func:`punch_holes`) with probability ``holes_p`` and strands
        (:func:`grow_strands`) with probability ``strands_p``; a second foreground half the time; the
        trimap widened as by hand (:func:`widen_unknown`) with probability ``wide_p``."""
        real = bool(self.mattes) and rng.random() < real_p
        if real:
            fg, alpha = self.matte_foreground(rng)
            synthetic = False
        else:
            fg, alpha, pseudo = self.object_foreground(rng, pseudo_p)
            synthetic = not pseudo  # a pseudo matte's transparency is the photo's own: left as it is
        if synthetic and holes_p and rng.random() < holes_p:
            alpha = punch_holes(rng, alpha)
        if synthetic and strands_p and rng.random() < strands_p:
            fg, alpha = grow_strands(rng, fg, alpha)
        wide = bool(wide_p) and rng.random() < wide_p
        flip = rng.random() < 0.5
        if real and rng.random() < as_is_p:
            image, alpha = (fg[:, ::-1], alpha[:, ::-1]) if flip else (fg, alpha)
            image, alpha = np.ascontiguousarray(image), np.ascontiguousarray(alpha)
            zeros = np.zeros_like(image)
            return MattingSample(image, alpha, zeros, zeros, trimap_from_alpha(rng, alpha, wide=wide), has_colors=False)
        fg = jitter_colors(rng, fg)
        if rng.random() < 0.5:  # a second foreground in front of or behind the first
            fg2, alpha2, _ = self.object_foreground(rng, pseudo_p)
            fg2 = jitter_colors(rng, fg2)
            if rng.random() < 0.5:
                fg, alpha, fg2, alpha2 = fg2, alpha2, fg, alpha
            combined = 1 - (1 - alpha) * (1 - alpha2)
            weight = (alpha / np.maximum(combined, 1e-6))[..., None]
            fg = np.where(combined[..., None] > 0, weight * fg + (1 - weight) * fg2, fg)
            alpha = combined.astype(np.float32)
        bg = self.background(rng)
        if flip:
            fg, alpha = fg[:, ::-1], alpha[:, ::-1]
        fg, alpha = np.ascontiguousarray(fg), np.ascontiguousarray(alpha)
        image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
        image = np.round(image * 255) / 255  # what an 8-bit photo would hold
        return MattingSample(image.astype(np.float32), alpha, fg, bg, trimap_from_alpha(rng, alpha, wide=wide), has_colors=True)


def stack_samples(samples: list[MattingSample], device="cpu") -> dict[str, torch.Tensor]:
    """Batch samples as tensors: image/foreground/background (N, 3, S, S), alpha/trimap (N, 1, S, S),
    has_colors (N, 1, 1, 1) float."""

    def planes(name):
        return torch.from_numpy(np.stack([getattr(s, name) for s in samples])).permute(0, 3, 1, 2).to(device)

    def maps(name):
        return torch.from_numpy(np.stack([getattr(s, name) for s in samples]))[:, None].to(device)

    has_colors = torch.tensor([float(s.has_colors) for s in samples], device=device).view(-1, 1, 1, 1)
    return {"image": planes("image"), "foreground": planes("foreground"), "background": planes("background"),
            "alpha": maps("alpha"), "trimap": maps("trimap"), "has_colors": has_colors}
