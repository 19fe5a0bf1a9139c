"""Click segmentation: click planes + network on a zoomed crop, refined by graph cut.

``ClickPredictor`` follows segment-anything's split: :meth:`set_image` once,
then :meth:`predict` per click set. ``ClickController`` keeps the clicks and an
undo stack of states (RITM's controller); widgets drive it, it knows no UI.

Coordinates are ``(x, y)`` pixels of the original image; the crop and network
resolution are internal.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import ndimage

from ..core.clicks import Click, ClickHistory
from ..core.crops import crop_resize, square_box
from ..core.engine import get_default_engine, register_model
from ..core.image import as_mask, as_rgb_image
from ..graphcut import fill_holes, graph_cut
from ..graphcut.trace import GraphCutTrace
from ..nets import ClickNet, click_planes
from ._crops import crop_input, image_tensor, maps_to_region, net_input_size, region_of, region_to_frame
from ._refine import uncertain_region

MODEL_NAME = "click"
WEIGHTS_FILE = "click.safetensors"
register_model(MODEL_NAME, ClickNet, WEIGHTS_FILE)


@dataclass(frozen=True)
class ClickResult:
    """What one prediction computed.

    Attributes
    ----------
    mask : (H, W) bool
        The final mask (graph-cut refined when ``refined``, else ``net_mask``).
    net_mask : (H, W) bool
        ``probability > 0.5``: the network alone.
    probability, boundary, refinement : (H, W) float32 in [0, 1]
        Network object probability P, edge probability B and R = P * B,
        resampled to image pixels; 0 outside the crop.
    crop : (x0, y0, x1, y1) int
        The zoomed region (clipped to the image) the network saw.
    clicks : tuple of Click
    trace : GraphCutTrace or None
        Graph-cut iterations (None when not refined), in the coordinates of ``trace_box``.
    trace_box : (x0, y0, x1, y1) int or None
        Where the graph cut ran: the part of the crop around the pixels it could change.
    refined : bool
    timings : dict
        Seconds in "network", "graph_cut" and "total".
    """

    mask: np.ndarray
    net_mask: np.ndarray
    probability: np.ndarray
    boundary: np.ndarray
    refinement: np.ndarray
    crop: tuple[int, int, int, int]
    clicks: tuple[Click, ...]
    trace: GraphCutTrace | None = field(repr=False)
    trace_box: tuple[int, int, int, int] | None
    refined: bool
    timings: dict


class ClickPredictor:
    """Masks from clicks on one image.

    Parameters
    ----------
    engine : core.engine.Engine, optional
        Where the network runs (default: the shared engine; model ``"click"``
        loads ``segwidgets/weights/click.safetensors``).
    net_size : int
        Longest side of the network input, pixels (the network was trained on
        160-288 px crops and is most accurate near 224).
    zoom : float
        Crop side as a multiple of the longest side of the box around the
        previous mask and the clicks (the first click sees the whole image).
    refine : bool
        Refine the network's mask with the graph cut.
    band : float
        Only pixels within ``band`` x the crop's longest side (at least 3 px) of
        the network's mask edge, or with 0.2 < P < 0.8, may change in the graph
        cut; clicked discs are hard constraints.
    prior_weight, gamma, beta, iterations :
        Graph-cut settings (see ``graphcut.graph_cut``); 2 iterations keep a click under 0.3 s at 0.5 MP on 2 CPU cores.
    """

    def __init__(self, engine=None, net_size: int = 224, zoom: float = 1.4, refine: bool = True, band: float = 0.04,
                 prior_weight: float = 0.7, gamma: float = 50.0, beta: float = 1.0, iterations: int = 2,
                 click_radius: int = 3):
        self.engine = engine or get_default_engine()
        self.net_size, self.zoom, self.refine, self.band = net_size, zoom, refine, band
        self.graph_cut_settings = dict(prior_weight=prior_weight, gamma=gamma, beta=beta, max_iterations=iterations,
                                       pairwise="combined")
        self.click_radius = click_radius
        self._image = None
        self._image_t = None

    @property
    def image(self) -> np.ndarray | None:
        return self._image

    def set_image(self, image) -> None:
        """Use ``image`` ((H, W, 3) uint8 RGB, PIL or path) for the following predictions."""
        image = as_rgb_image(image)
        self.engine.model(MODEL_NAME)  # load (and check) the weights now, not at the first click
        self._image = image
        self._image_t = image_tensor(image, self.engine.device)

    def crop_box(self, clicks, previous: np.ndarray | None) -> tuple[float, float, float, float]:
        """The zoom crop (float box, may extend past the image).

        The first click (no previous mask) sees the whole image. Later clicks see a
        square ``zoom`` x the box around the positive clicks and the parts of the
        previous mask they touch (stray false-positive blobs would otherwise
        blow the crop up to the whole image).
        """
        h, w = self._image.shape[:2]
        if previous is None or not previous.any():
            return square_box((0, 0, w, h))
        kept = keep_clicked_components(previous, clicks)
        ys, xs = np.nonzero(kept)
        positives = [c for c in clicks if c.positive] or list(clicks)
        cx = [c.x for c in positives] + ([xs.min(), xs.max() + 1] if len(xs) else [])
        cy = [c.y for c in positives] + ([ys.min(), ys.max() + 1] if len(ys) else [])
        box = square_box((min(cx), min(cy), max(cx), max(cy)), self.zoom)
        side = box[2] - box[0]
        if side < 64:  # very small objects: keep some context
            box = square_box(box, 64 / side)
        return box

    def predict(self, clicks, previous_mask=None) -> ClickResult:
        """Mask for ``clicks`` (sequence of :class:`Click`), correcting ``previous_mask``.

        Parameters
        ----------
        clicks : sequence of Click
            All clicks so far, in order, in image pixels.
        previous_mask : (H, W) bool, optional
            The mask the last click produced (None for the first click).

        Raises
        ------
        RuntimeError
            :meth:`set_image` was not called.
        ValueError
            No clicks, a click outside the image, or a mask of the wrong shape.
        """
        if self._image is None:
            raise RuntimeError("call set_image(image) before predict()")
        t_start = time.perf_counter()
        image = self._image
        h, w = image.shape[:2]
        clicks = tuple(clicks)
        if not clicks:
            raise ValueError("predict() needs at least one click")
        for c in clicks:
            if not isinstance(c, Click):
                raise ValueError(f"expected Click objects, got {type(c).__name__}")
            c.check_inside(image.shape)
        previous = None if previous_mask is None else as_mask(previous_mask, (h, w), "previous_mask")
        box = self.crop_box(clicks, previous)
        maps = self._network(box, clicks, previous)
        region = region_of(box, (h, w))
        x0, y0, x1, y1 = region
        p, b = maps_to_region(maps, box, region)
        t_net = time.perf_counter() - t_start

        net_region = keep_clicked_components(p > 0.5, clicks, (x0, y0))
        mask_region, trace, trace_box = net_region, None, None
        t0 = time.perf_counter()
        if self.refine:
            mask_region, trace, trace_box = self._refine(image[y0:y1, x0:x1], p, b, net_region, clicks, region)
        t_cut = time.perf_counter() - t0

        def full(array, dtype):
            return region_to_frame(array, region, (h, w), dtype)

        return ClickResult(
            mask=full(mask_region, bool), net_mask=full(net_region, bool), probability=full(p, np.float32),
            boundary=full(b, np.float32), refinement=full(p * b, np.float32), crop=region, clicks=clicks,
            trace=trace, trace_box=trace_box, refined=trace is not None,
            timings={"network": t_net, "graph_cut": t_cut, "total": time.perf_counter() - t_start},
        )

    def predict_torch(self, clicks: torch.Tensor, previous: torch.Tensor | None, box) -> torch.Tensor:
        """The network alone on tensors: (K, 3) clicks ``(x, y, sign)`` in image pixels,
        optional (H, W) previous mask; returns (2, h, w) P and B over ``box`` at network resolution."""
        device = self.engine.device
        size = net_input_size(box, self.net_size)
        scale_x = size[1] / (box[2] - box[0])
        scale_y = size[0] / (box[3] - box[1])
        local = clicks.to(device=device, dtype=torch.float32).clone()
        local[:, 0] = (local[:, 0] - box[0]) * scale_x
        local[:, 1] = (local[:, 1] - box[1]) * scale_y
        prev = None
        if previous is not None:
            prev = crop_resize(previous.to(device).float()[None], box, size)[None]
            prev = (prev > 0.5).float()
        x = torch.cat([crop_input(self._image_t, box, self.net_size), click_planes(local[None], size, prev)], dim=1)
        model = self.engine.model(MODEL_NAME)
        with torch.inference_mode():
            return torch.sigmoid(model(x.to(self.engine.dtype))[0].float())

    def _network(self, box, clicks, previous):
        # Each click marks its pixel; the planes are centred on that pixel's centre.
        t = torch.tensor([(int(c.x) + 0.5, int(c.y) + 0.5, 1.0 if c.positive else -1.0) for c in clicks])
        prev = None if previous is None else torch.from_numpy(previous)
        return self.predict_torch(t, prev, box)

    def _refine(self, image, p, b, net_region, clicks, region):
        x0, y0, x1, y1 = region
        rh, rw = net_region.shape
        near = uncertain_region(p, max(3.0, self.band * max(rh, rw)))
        pos = np.zeros_like(net_region)
        neg = np.zeros_like(net_region)
        yy, xx = np.ogrid[:rh, :rw]
        for c in clicks:
            cy, cx = int(c.y) - y0, int(c.x) - x0
            if 0 <= cy < rh and 0 <= cx < rw:
                disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= self.click_radius**2
                (pos if c.positive else neg)[disc] = True
        pos &= ~neg  # the later meaning wins where discs of opposite clicks overlap
        fixed_fg = net_region & ~near & ~neg
        fixed_bg = ~net_region & ~near & ~pos
        start = (net_region | pos) & ~neg
        if not (~(fixed_fg | fixed_bg | pos | neg)).any() or start.all() or not start.any():
            return start, None, None
        # Optimise only around what may change (the band and the clicks, plus a margin for the colour
        # models): far cheaper than the whole crop when the object is small, and the colour models stay local.
        ys, xs = np.nonzero(~(fixed_fg | fixed_bg))
        margin = max(8, int(0.05 * max(rh, rw)))
        sy0, sy1 = max(0, ys.min() - margin), min(rh, ys.max() + 1 + margin)
        sx0, sx1 = max(0, xs.min() - margin), min(rw, xs.max() + 1 + margin)
        window = (slice(sy0, sy1), slice(sx0, sx1))
        try:
            trace = graph_cut(image[window], mask=start[window], fg_seeds=(fixed_fg | pos)[window],
                              bg_seeds=(fixed_bg | neg)[window], prior=p[window], refinement=(p * b)[window],
                              **self.graph_cut_settings)
        except ValueError:  # nothing left to learn a colour model from: keep the network's answer
            return start, None, None
        mask = start.copy()
        mask[window] = trace.final_mask
        mask = keep_clicked_components((fill_holes(mask) | pos) & ~neg, clicks, (x0, y0))
        return mask, trace, (x0 + sx0, y0 + sy0, x0 + sx1, y0 + sy1)


def keep_clicked_components(mask: np.ndarray, clicks, origin=(0, 0)) -> np.ndarray:
    """The connected parts of ``mask`` that contain a positive click (all of it when none does).

    ``origin``: image pixel of ``mask[0, 0]`` (for masks of a crop). Disconnected
    parts of an object each get their own positive click under the usual protocol.
    """
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    hit = set()
    for c in clicks:
        if c.positive:
            r, col = int(c.y) - origin[1], int(c.x) - origin[0]
            if 0 <= r < mask.shape[0] and 0 <= col < mask.shape[1] and labels[r, col]:
                hit.add(labels[r, col])
    if not hit:
        return mask
    return np.isin(labels, sorted(hit))


@dataclass(frozen=True)
class ClickState:
    """One entry of the controller's undo stack: the clicks, the mask they gave
    and the full result (None for the empty start and for restored masks)."""

    clicks: tuple[Click, ...]
    mask: np.ndarray | None = field(default=None, repr=False)
    result: ClickResult | None = field(default=None, repr=False)


class ClickController:
    """Clicks -> masks with undo/redo, independent of any UI.

    ``add_click`` runs the predictor; on error nothing changes (the exception
    propagates for the caller to show). ``states`` is the undo stack.
    """

    def __init__(self, predictor: ClickPredictor):
        self.predictor = predictor
        self.history = ClickHistory()
        self.states: list[ClickState] = [ClickState(())]
        self._redo: list[ClickState] = []

    @property
    def result(self) -> ClickResult | None:
        return self.states[-1].result

    @property
    def clicks(self) -> tuple[Click, ...]:
        return self.states[-1].clicks

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool: the current mask (all False before the first click)."""
        if self.states[-1].mask is not None:
            return self.states[-1].mask
        return np.zeros(self.predictor.image.shape[:2], bool)

    def add_click(self, x: float, y: float, positive: bool = True) -> ClickResult:
        click = Click(float(x), float(y), bool(positive)).check_inside(self.predictor.image.shape)
        clicks = self.clicks + (click,)
        previous = self.states[-1].mask
        result = self.predictor.predict(clicks, previous)  # may raise: state untouched
        self.states.append(ClickState(clicks, result.mask, result))
        self.history.add(click)
        self._redo.clear()
        return result

    @property
    def can_undo(self) -> bool:
        return len(self.states) > 1

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        if len(self.states) == 1:
            raise RuntimeError("nothing to undo: there are no clicks")
        self._redo.append(self.states.pop())
        self.history.undo()

    def redo(self) -> None:
        if not self._redo:
            raise RuntimeError("nothing to redo")
        self.states.append(self._redo.pop())
        self.history.redo()

    def reset(self) -> None:
        self.states = [ClickState(())]
        self._redo.clear()
        self.history.reset()

    def restore(self, clicks, mask) -> None:
        """Start from saved ``clicks`` and their (H, W) bool ``mask`` without re-running anything;
        the next click corrects ``mask``."""
        shape = self.predictor.image.shape
        clicks = tuple(Click(float(c.x), float(c.y), bool(c.positive)).check_inside(shape) for c in clicks)
        mask = as_mask(mask, shape[:2], "mask").copy()
        self.reset()
        for c in clicks:
            self.history.add(c)
        self.states.append(ClickState(clicks, mask))

    def replay(self, clicks) -> ClickResult | None:
        """Start over and apply ``clicks`` one by one (e.g. after loading them from a file)."""
        self.reset()
        result = None
        for c in clicks:
            result = self.add_click(c.x, c.y, c.positive)
        return result
