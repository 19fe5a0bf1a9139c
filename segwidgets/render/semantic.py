"""Semantic-segmentation pictures: class colours, label overlays, segment outlines, legends (no UI).

Used by ``widgets.segment_explorer`` and usable in scripts and notebooks: everything
takes and returns numpy arrays (or HTML strings for the legend and the segment table).

The class colours are the Okabe-Ito palette (Okabe & Ito, "Color Universal Design"),
chosen to stay distinguishable for the common forms of colour blindness; background is a
neutral grey and is transparent in overlays by default, so the photo shows through where
nothing was found. Outlines use white (the highlighted segment) and magenta, which are
not class colours.
"""
from __future__ import annotations

import html

import numpy as np

#: RGB colour of each class index of ``pipelines.semantic.CLASS_NAMES``: background (grey), skin (orange),
#: hair (blue), upper clothes (bluish green), lower clothes (vermillion), dress (reddish purple),
#: footwear (yellow), bags and accessories (sky blue).
CLASS_COLORS = np.array([
    [153, 153, 153],  # background: neutral grey (transparent in overlays by default)
    [230, 159, 0],    # skin: orange
    [0, 114, 178],    # hair: blue
    [0, 158, 115],    # upper clothes: bluish green
    [213, 94, 0],     # lower clothes: vermillion
    [204, 121, 167],  # dress: reddish purple
    [240, 228, 66],   # footwear: yellow
    [86, 180, 233],   # bags and accessories: sky blue
], np.uint8)
#: Outline colour of the highlighted (best) segment and of the other segments (RGB; neither is a class colour).
HIGHLIGHT_COLOR = (255, 255, 255)
OUTLINE_COLOR = (255, 0, 255)


def class_colors(n_classes: int) -> np.ndarray:
    """(n_classes, 3) uint8 RGB colours: :data:`CLASS_COLORS`, then matplotlib's ``tab20`` for more classes."""
    if n_classes < 0:
        raise ValueError(f"n_classes must be >= 0, got {n_classes}")
    if n_classes <= len(CLASS_COLORS):
        return CLASS_COLORS[:n_classes].copy()
    from matplotlib import colormaps

    extra = (colormaps["tab20"](np.arange(n_classes - len(CLASS_COLORS)) % 20)[:, :3] * 255).round().astype(np.uint8)
    return np.concatenate([CLASS_COLORS, extra])


def css_color(rgb) -> str:
    """``"#rrggbb"`` of an RGB triple in 0..255."""
    r, g, b = (int(v) for v in np.asarray(rgb).reshape(-1)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _visible_flags(visible, n_classes: int) -> np.ndarray:
    """(n_classes,) bool from None (all) or an iterable of class indices."""
    if visible is None:
        return np.ones(n_classes, bool)
    flags = np.zeros(n_classes, bool)
    for index in visible:
        index = int(index)
        if not 0 <= index < n_classes:
            raise ValueError(f"class index {index} out of range 0..{n_classes - 1}")
        flags[index] = True
    return flags


def class_palette(n_classes: int, visible=None, opacity: float = 0.6, background: int | None = 0,
                  background_opacity: float = 0.0, colors=None) -> np.ndarray:
    """(n_classes, 4) uint8 RGBA lookup table for a label map.

    Parameters
    ----------
    n_classes : int
    visible : iterable of int, optional
        Class indices drawn; the others are transparent. Default: all.
    opacity : float in [0, 1]
        Alpha of every drawn class.
    background : int or None
        Index of the background class, drawn at ``background_opacity`` (None: no special class).
    background_opacity : float in [0, 1]
    colors : (n_classes, 3) RGB, optional
        Default :func:`class_colors`.
    """
    for name, value in (("opacity", opacity), ("background_opacity", background_opacity)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    colors = class_colors(n_classes) if colors is None else np.asarray(colors, np.uint8).reshape(-1, 3)
    if len(colors) < n_classes:
        raise ValueError(f"{len(colors)} colours for {n_classes} classes")
    alpha = np.full(n_classes, round(opacity * 255), np.uint8)
    if background is not None and 0 <= background < n_classes:
        alpha[background] = round(background_opacity * 255)
    alpha[~_visible_flags(visible, n_classes)] = 0
    return np.concatenate([colors[:n_classes], alpha[:, None]], axis=1)


def label_overlay(labels: np.ndarray, visible=None, *, n_classes: int | None = None, opacity: float = 0.6,
                  background: int | None = 0, background_opacity: float = 0.0, colors=None) -> np.ndarray:
    """A label map as an RGBA overlay, one colour per class.

    Parameters
    ----------
    labels : (H, W) int
        Class index of each pixel (negative: no class, transparent).
    visible : iterable of int, optional
        Class indices to draw; the others are transparent. Default: all.
    n_classes : int, optional
        Default: ``len(colors)`` or ``len(CLASS_COLORS)``, at least ``labels.max() + 1``.
    opacity, background, background_opacity, colors
        See :func:`class_palette` (by default class 0 is background and transparent).

    Returns
    -------
    (H, W, 4) uint8 RGBA.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"expected an (H, W) integer label map, got {labels.dtype} {labels.shape}")
    top = int(labels.max()) + 1 if labels.size else 0
    if n_classes is None:
        n_classes = max(top, len(CLASS_COLORS) if colors is None else len(np.asarray(colors).reshape(-1, 3)))
    elif top > n_classes:
        raise ValueError(f"labels go up to {top - 1}, but n_classes is {n_classes}")
    palette = class_palette(n_classes, visible, opacity, background, background_opacity, colors)
    table = np.concatenate([palette, np.zeros((1, 4), np.uint8)])  # index -1 (no class): transparent
    return table[np.where(labels < 0, n_classes, labels)]


def class_shares(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes,) float64: the fraction of the pixels of an (H, W) label map in each class."""
    labels = np.asarray(labels)
    counts = np.bincount(labels[labels >= 0].ravel(), minlength=n_classes)[:n_classes]
    return counts / max(labels.size, 1)


def _outline(labels: np.ndarray, inside: np.ndarray, thickness: int) -> np.ndarray:
    """The pixels of ``inside`` (bool) within ``thickness`` pixels of the boundaries of ``labels``
    (a bool mask or an int label image; ``skimage.segmentation.find_boundaries``, inner mode)."""
    from scipy.ndimage import binary_dilation
    from skimage.segmentation import find_boundaries  # imported here: ``render`` loads fast without it

    if labels.dtype == bool:  # a mask's outline also runs along the image's edge (padded with background)
        edge = find_boundaries(np.pad(labels, 1), mode="inner")[1:-1, 1:-1] & inside
    else:  # in a label image, label 0 is a segment too
        edge = find_boundaries(labels, mode="inner", background=-1) & inside
    if thickness > 1:
        edge = binary_dilation(edge, iterations=thickness - 1) & inside
    return edge


def segment_outlines(masks, *, highlight: int | None = 0, color=OUTLINE_COLOR, highlight_color=HIGHLIGHT_COLOR,
                     thickness: int = 1, highlight_thickness: int = 2, opacity: float = 1.0) -> np.ndarray:
    """Outlines of one or several segments as an RGBA picture.

    Parameters
    ----------
    masks : (H, W) bool, (N, H, W) bool, a list of (H, W) bool, or an (H, W) int label image
        One mask; several masks (each outlined on its own, so overlapping segments all show,
        and closed along the image's edge); or a label image (every boundary between labels,
        e.g. one layer of candidate segments; negative labels: no segment).
    highlight : int or None
        Index of the mask drawn in ``highlight_color``, ``highlight_thickness`` wide, on top
        of the others (default the first: the best segment). None: no highlight. Ignored
        for a label image.
    color, highlight_color : RGB in 0..255
    thickness, highlight_thickness : int >= 1
        Outline width in pixels, drawn inside each mask.
    opacity : float in [0, 1]
        Alpha of the outline pixels.

    Returns
    -------
    (H, W, 4) uint8 RGBA, transparent off the outlines.
    """
    if min(thickness, highlight_thickness) < 1:
        raise ValueError(f"outline thicknesses must be >= 1, got {thickness} and {highlight_thickness}")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    alpha = round(opacity * 255)
    if isinstance(masks, np.ndarray) and masks.ndim == 2 and np.issubdtype(masks.dtype, np.integer):
        edge = _outline(masks, masks >= 0, thickness)
        rgba = np.zeros(masks.shape + (4,), np.uint8)
        rgba[edge] = (*np.asarray(color, np.uint8)[:3], alpha)
        return rgba
    stack = [np.asarray(masks)] if isinstance(masks, np.ndarray) and masks.ndim == 2 else [np.asarray(m) for m in masks]
    if not stack:
        raise ValueError("no masks to outline")
    shape = stack[0].shape
    for index, mask in enumerate(stack):
        if mask.ndim != 2 or mask.shape != shape or mask.dtype != bool:
            raise ValueError(f"mask {index}: expected an {shape} bool mask, got {mask.dtype} {mask.shape}")
    if highlight is not None and not 0 <= highlight < len(stack):
        raise ValueError(f"highlight {highlight} out of range 0..{len(stack) - 1}")
    rgba = np.zeros(shape + (4,), np.uint8)
    order = [i for i in range(len(stack)) if i != highlight] + ([highlight] if highlight is not None else [])
    for i in order:  # the highlighted outline last, on top
        chosen = i == highlight
        edge = _outline(stack[i], stack[i], highlight_thickness if chosen else thickness)
        rgba[edge] = (*np.asarray(highlight_color if chosen else color, np.uint8)[:3], alpha)
    return rgba


def legend_entries(class_names, shares=None, visible=None, colors=None, background: int | None = 0) -> list[str]:
    """One HTML snippet per class: a colour swatch, the name and (with ``shares``) its pixel share.

    Parameters
    ----------
    class_names : sequence of str
    shares : (C,) float in [0, 1], optional
        Fraction of the image in each class (:func:`class_shares`), shown as a percentage.
    visible : iterable of int, optional
        Classes shown in the overlay; the others are greyed out (struck through). Default: all.
    colors : (C, 3) RGB, optional
        Default :func:`class_colors`.
    background : int or None
        The class left transparent in overlays (:func:`label_overlay`'s default): its swatch is
        hatched with white. None: every swatch is plain.
    """
    n = len(class_names)
    colors = class_colors(n) if colors is None else np.asarray(colors, np.uint8).reshape(-1, 3)
    shown = _visible_flags(visible, n)
    if shares is not None and len(shares) != n:
        raise ValueError(f"{len(shares)} shares for {n} classes")
    entries = []
    for i, name in enumerate(class_names):
        style = "" if shown[i] else "opacity:0.4;text-decoration:line-through;"
        share = ("" if shares is None else
                 f'<span style="color:#6b7280;margin-left:6px">{100 * float(shares[i]):.1f}%</span>')
        fill = css_color(colors[i])
        if i == background:
            fill = f"repeating-linear-gradient(45deg,{fill} 0 3px,#ffffff 3px 6px)"
        title = f"class {i}" + (" (transparent in the overlay)" if i == background else "")
        entries.append(
            f'<span style="display:inline-flex;align-items:center;gap:6px;{style}" title="{title}">'
            f'<span style="display:inline-block;width:14px;height:14px;border:1px solid #374151;'
            f'background:{fill}"></span>{html.escape(str(name))}{share}</span>'
        )
    return entries


def legend_html(class_names, shares=None, visible=None, colors=None, background: int | None = 0) -> str:
    """The class legend as one HTML block (see :func:`legend_entries`), one class per line."""
    rows = "".join(f"<div>{entry}</div>" for entry in legend_entries(class_names, shares, visible, colors, background))
    return f'<div style="display:flex;flex-direction:column;gap:2px">{rows}</div>'


def segment_table_html(rows, class_names, colors=None, highlight: int | None = 0) -> str:
    """An HTML table of segments: id, layer, area and most probable classes.

    Parameters
    ----------
    rows : sequence of dict
        One per segment with keys ``"id"``, ``"layer"`` (source name), ``"area"`` (pixels),
        ``"share"`` (fraction of the image) and ``"classes"`` (``[(name, probability), ...]``).
    class_names : sequence of str
        To colour each class name's swatch.
    highlight : int or None
        Row shown in bold (the best segment).
    """
    colors = class_colors(len(class_names)) if colors is None else np.asarray(colors, np.uint8).reshape(-1, 3)
    index = {name: i for i, name in enumerate(class_names)}
    head = "".join(f'<th style="text-align:left;padding:0 8px">{t}</th>'
                   for t in ("", "segment", "layer", "area", "top classes"))
    body = []
    for rank, row in enumerate(rows):
        classes = ", ".join(
            f'<span style="display:inline-block;width:10px;height:10px;border:1px solid #374151;'
            f'background:{css_color(colors[index[name]]) if name in index else "transparent"}"></span> '
            f"{html.escape(str(name))} {float(p):.2f}"
            for name, p in row["classes"]
        )
        weight = "font-weight:bold;" if rank == highlight else ""
        cells = (f"{rank + 1}", f"#{int(row['id'])}", html.escape(str(row["layer"])),
                 f"{int(row['area'])} px ({100 * float(row['share']):.1f}%)", classes)
        body.append(f'<tr style="{weight}">' + "".join(f'<td style="padding:0 8px">{c}</td>' for c in cells) + "</tr>")
    return f'<table style="border-collapse:collapse"><tr>{head}</tr>{"".join(body)}</table>'
