"""Click segmentation: click planes + network on a zoomed crop, refined by graph cut.

``ClickPredictor`` follows segment-anything's split: :meth:`~ClickPredictor.set_image`
once, then :meth:`~ClickPredictor.predict` per click set (the tensor twin is the
engine's ``infer_torch``). ``ClickController`` keeps an undo stack of states
(``core.history.History``, RITM's controller); widgets drive it, it knows no UI.

Coordinates are ``(x, y)`` pixels of the original image; the zoom crop is a
``core.crops.CropWindow`` and the network resolution stays inside the engine.
The refinement is the shared ``pipelines.refine.refine_with_graph_cut``.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..core.clicks import Click
from ..core.crops import CropWindow, square_box
from ..core.engine import get_default_engine
from ..core.history import History
from ..core.image import as_mask, as_rgb_image
from ..graphcut import GraphCutSettings, GraphCutTrace, edge_superpixels
from .refine import MAX_CUT_PIXELS, Seeds, check_hole_mode, refine_with_graph_cut

MODEL_NAME = "click"
#: Images up to this size get their superpixels computed once in ``set_image`` (0.86 s at 2 MP);
#: larger ones are cut at a working resolution, or per crop, where a whole-image pass would cost seconds.
SUPERPIXELS_MAX_PIXELS = 2_000_000

#: Graph-cut settings of the refinement: 2 iterations keep a click under 0.3 s at 0.5 MP on 2 CPU cores.
#: gamma 25 beat 50 and 100 on the validation split of the seg/ folders (NoC@85/90 3.08/4.85 -> 2.89/4.61 on its
#: 425 scored images), never chosen on DAVIS.
DEFAULT_GRAPH_CUT = GraphCutSettings(pairwise="combined", prior_weight=0.7, gamma=25.0, beta=1.0, max_iterations=2)

#: What the graph cut does with background regions its mask encloses (``pipelines.refine.fill_object_holes``):
#: "keep" leaves them (a wheel's inside, the gap between legs on a base stay clearable by a background click).
#: Chosen on the validation split of the seg/ folders: NoC@85/90 2.89/4.61 ("fill") -> 2.77/4.28 ("keep"),
#: 2.83/4.32 ("network"); never chosen on DAVIS.
HOLES = "keep"

#: Longest side of the network input, pixels: 256 beat 224 on the validation split of the seg/ folders
#: (with the focus pass, NoC@90 5.41 -> 5.31 on its 426 images), never chosen on DAVIS.
NET_SIZE = 256

#: Focus pass (``ClickPredictor.focus``): crop side as a multiple of the box of what the newest click changed.
#: Chosen on the validation split of the seg/ folders (NoC@90 5.58 -> 5.41 on its 426 images), never on DAVIS.
FOCUS_SCALE = 3.5
#: The focus crop is at least this many image pixels wide, and is skipped when wider than this
#: fraction of the zoom crop (it would add no detail).
FOCUS_MIN_SIDE = 48
FOCUS_MAX_FRACTION = 0.6
#: The focus maps fade into the zoom crop's over this fraction of the focus crop's side (no seams).
FOCUS_FEATHER = 0.15

#: Detail pass (``ClickPredictor.detail``): tiles along the mask's edge at this many image pixels per network
#: pixel. Chosen on the validation split of the seg/ folders: NoC@85/90 2.77/4.28 (no pass) -> 2.65/4.02 (1.0),
#: 2.88/4.28 (0.75), with up to 8 tiles; never chosen on DAVIS.
DETAIL_SCALE = 1.0
#: At most this many tiles, those holding the most edge pixels first: 4 scored 2.67/4.03 on validation (8: 2.65/4.02)
#: at 0.254 s against 0.356 s median per click.
DETAIL_MAX_TILES = 4
#: Neighbouring grid tiles overlap by this fraction of their side.
DETAIL_OVERLAP = 0.25
#: The pass runs when the zoom crop is at least DETAIL_MIN_GAIN tiles wide (else the tiles would add no detail)
#: and at most DETAIL_MAX_GAIN (large photos: the tiles would then cover only a sliver of the edge; on ten 12 MP
#: photos, 3 clicks, the pass with 8 tiles and no such limit changed mean IoU 0.8606 -> 0.8609 at 1.51 s against
#: 0.84 s per click). No image of the validation split or of DAVIS (at most 854 px) reaches the upper limit.
DETAIL_MIN_GAIN = 1.3
DETAIL_MAX_GAIN = 4.0


@dataclass(frozen=True)
class ClickResult:
    """What one prediction computed.

    Attributes
    ----------
    mask : (H, W) bool
        The final mask (graph-cut refined when ``refined``, else ``net_mask``; with
        ``ClickPredictor.monotone``, only the last click's direction changes it).
    net_mask : (H, W) bool
        ``probability > 0.5`` (its parts under positive clicks): the network alone.
    probability, boundary, refinement : (H, W) float32 in [0, 1]
        Network object probability P, edge probability B and R = P * B,
        resampled to image pixels; 0 outside the crop; inside ``detail_windows`` and
        ``focus_window`` the detail and focus passes' maps, faded into the zoom pass's
        at their edges.
    crop : (x0, y0, x1, y1) int
        The zoomed region (clipped to the image) the network saw.
    window : CropWindow
        The zoom crop itself (box, network input size).
    clicks : tuple of Click
    trace : GraphCutTrace or None
        Graph-cut iterations (None when not refined), in the coordinates of ``trace_box``.
    trace_box : (x0, y0, x1, y1) int or None
        Where the graph cut ran: the part of the crop around the pixels it could change.
    refined : bool
    trace_scale : int
        1, or the block side the graph cut worked at when the crop was large (over
        ``pipelines.refine.MAX_CUT_PIXELS`` pixels, e.g. on a 12 MP photo): the trace's
        pixels are then ``trace_scale`` x ``trace_scale`` blocks of ``trace_box``.
    timings : dict
        Seconds in "network" (every pass), "graph_cut" and "total".
    focus_window : CropWindow or None
        The focus pass's crop (see ``ClickPredictor.focus``); None when there was none.
    detail_windows : tuple of CropWindow
        The detail pass's tiles (see ``ClickPredictor.detail``); empty when there were none.
    detail_pending : bool
        A ``quick`` prediction skipped a detail pass that would have run: predicting the same
        clicks again without ``quick`` gives the detailed mask (``ClickController.refine_detail``).
    """

    mask: np.ndarray
    net_mask: np.ndarray
    probability: np.ndarray
    boundary: np.ndarray
    refinement: np.ndarray
    crop: tuple[int, int, int, int]
    window: CropWindow = field(repr=False)
    clicks: tuple[Click, ...]
    trace: GraphCutTrace | None = field(repr=False)
    trace_box: tuple[int, int, int, int] | None
    refined: bool
    timings: dict
    trace_scale: int = 1
    focus_window: CropWindow | None = field(default=None, repr=False)
    detail_windows: tuple[CropWindow, ...] = field(default=(), repr=False)
    detail_pending: bool = False


class ClickPredictor:
    """Masks from clicks on one image.

    Parameters
    ----------
    engine : core.engine.Engine, optional
        Where the network runs (default: the shared engine; model ``"click"``
        loads ``segwidgets/weights/click.safetensors``).
    net_size : int
        Longest side of the network input, pixels (default :data:`NET_SIZE`; the
        network was trained on 160-288 px crops).
    zoom : float
        Crop side as a multiple of the longest side of the box around the
        previous mask and the clicks (the first click sees the whole image).
    refine : bool
        Refine the network's mask with the graph cut.
    band : float
        Only pixels within ``band`` x the crop's longest side (at least 3 px) of
        the network's mask edge, or with 0.2 < P < 0.8, may change in the graph
        cut; clicked discs are hard constraints.
    settings : GraphCutSettings, optional
        Graph-cut parameters; default :data:`DEFAULT_GRAPH_CUT`.
    click_radius : int
        Radius of the disc each click fixes in the graph cut, pixels (smaller where a click
        of the other sign is near: :func:`click_disc_radii`).
    window_margin : float
        The graph cut runs on the box around the pixels it may change, grown by
        this fraction of the crop's longest side.
    max_cut_pixels : int or None
        Crops with more pixels are refined at a reduced working resolution and the
        mask brought back to full resolution (see ``pipelines.refine``); None: always
        at full resolution (slow on 12 MP photos).
    monotone : bool
        Each click corrects the previous mask in its own direction only: a positive
        click never removes pixels and a negative one never adds any. Without it the
        network may answer a background click inside the object by growing the mask
        elsewhere (seen on scikit-image's astronaut). On 87 DAVIS frames it changed
        NoC@85/90 from 7.28/10.80 to 7.21/10.71.
    local : bool
        Apply only the connected part of the change that holds the newest click
        (:func:`merge_local_change`; FocalClick's progressive merge): a click then
        never changes the mask far from where it was placed.
    focus : float or None
        After the first click, run the network a second time on a smaller crop
        (:meth:`focus_window`): ``focus`` x the box of the part of the mask the newest
        click changed. Its P and B replace the zoom crop's there (faded in at the
        edges), so the region being corrected is seen at a higher resolution before
        the graph cut. Skipped on clicks where the detail pass ran (on validation that
        cost 0.03 clicks of NoC@90 and saved a network pass). None or 0: one pass. The
        idea is FocalClick's focus crop (Chen et al., CVPR 2022), here with the same network.
    detail : float or None
        Detail pass: when the zoom crop is shrunk into the network more than
        :data:`DETAIL_MIN_GAIN` x ``detail`` times (and at most :data:`DETAIL_MAX_GAIN` x),
        run the network again on up to :data:`DETAIL_MAX_TILES` tiles of ``detail * net_size``
        image pixels along the edge of the zoom pass's mask (:meth:`detail_windows`), its
        answer as their previous-mask plane; their P and B replace the zoom crop's there
        (faded in at the tiles' edges), instead of the focus pass. Thin errors all along a
        large object's edge are then seen at the image's own resolution (``detail=1``, the
        default :data:`DETAIL_SCALE`), at the cost of one network pass per tile. None or 0: off.
    mirror : bool
        Run each network pass on the crop and its mirror image and average P and B
        (``Engine.infer(mirror=True)``): twice the network time.
    holes : {"fill", "network", "keep"}
        Background regions the refined mask encloses: made object (``"fill"``), made object
        only where the network calls them object (``"network"``: a wheel's inside or the gap
        between legs the network sees stays open, and a background click there can clear
        it), or left as they are (``"keep"``; the default, :data:`HOLES`). See
        ``pipelines.refine.fill_object_holes``.

    Raises
    ------
    ValueError
        ``net_size`` not an int >= 32, ``zoom`` not positive, ``focus`` under 1 (other than None or 0),
        ``detail`` not positive and finite (other than None or 0), ``holes`` not one of the three.
    """

    def __init__(self, engine=None, net_size: int = NET_SIZE, zoom: float = 1.4, refine: bool = True, band: float = 0.04,
                 settings: GraphCutSettings | None = None, click_radius: int = 3, window_margin: float = 0.05,
                 max_cut_pixels: int | None = MAX_CUT_PIXELS, monotone: bool = True, local: bool = False,
                 focus: float | None = FOCUS_SCALE, mirror: bool = False, holes: str = HOLES,
                 detail: float | None = DETAIL_SCALE):
        if isinstance(net_size, bool) or int(net_size) != net_size or net_size < 32:
            raise ValueError(f"net_size must be an int >= 32 pixels, got {net_size!r}")
        if not zoom > 0:
            raise ValueError(f"zoom must be positive, got {zoom!r}")
        if focus and not 1 <= focus < np.inf:  # a focus crop smaller than the change would cut it
            raise ValueError(f"focus must be None, 0 or a finite scale >= 1, got {focus!r}")
        if detail and not 0 < detail < np.inf:
            raise ValueError(f"detail must be None, 0 or a positive finite scale, got {detail!r}")
        self.engine = engine or get_default_engine()
        self.net_size, self.zoom, self.refine, self.band = int(net_size), zoom, refine, band
        self.settings = settings or DEFAULT_GRAPH_CUT
        self.click_radius = click_radius
        self.window_margin = window_margin
        self.max_cut_pixels = max_cut_pixels
        self.monotone, self.local = monotone, bool(local)
        self.focus = focus
        self.mirror = mirror
        self.detail = detail
        self.holes = check_hole_mode(holes)
        self._image = None
        self._superpixels = None
        self._zoom_cache = None  # (key, maps) of a quick answer's zoom pass, for its detailed answer

    @property
    def image(self) -> np.ndarray | None:
        return self._image

    def set_image(self, image) -> None:
        """Use ``image`` ((H, W, 3) uint8 RGB, PIL or path) for the following predictions.

        Also computes the graph cut's superpixels of the whole image once (images up to
        :data:`SUPERPIXELS_MAX_PIXELS`; about 0.15 s at 0.5 MP), which every click's cut
        then crops instead of computing its own (about 30 ms a click at 0.5 MP).
        """
        image = as_rgb_image(image)
        self.engine.model(MODEL_NAME)  # load (and check) the weights now, not at the first click
        self._image = image
        self._zoom_cache = None
        h, w = image.shape[:2]
        self._superpixels = edge_superpixels(image) if self.refine and h * w <= SUPERPIXELS_MAX_PIXELS else None

    def zoom_window(self, clicks, previous: np.ndarray | None) -> CropWindow:
        """The network's crop for these clicks (its box may extend past the image).

        The first click (no previous mask) sees the whole image. Later clicks see a
        square ``zoom`` x the box around the positive clicks' pixels and the parts of
        the previous mask they touch (stray false-positive blobs would otherwise
        blow the crop up to the whole image).
        """
        h, w = self._image.shape[:2]
        if previous is None or not previous.any():
            return CropWindow.square((0, 0, w, h), (h, w), self.net_size)
        kept = keep_clicked_components(previous, clicks)
        ys, xs = np.nonzero(kept)
        positives = [c for c in clicks if c.positive] or list(clicks)
        cx = [c.pixel[1] for c in positives] + ([xs.min(), xs.max() + 1] if len(xs) else [])
        cy = [c.pixel[0] for c in positives] + ([ys.min(), ys.max() + 1] if len(ys) else [])
        box = square_box((min(cx), min(cy), max(cx), max(cy)), self.zoom)
        side = box[2] - box[0]
        if side < 64:  # very small objects: keep some context
            box = square_box(box, 64 / side)
        return CropWindow.fit(box, (h, w), self.net_size)

    def predict(self, clicks, previous_mask=None, *, quick: bool = False) -> ClickResult:
        """Mask for ``clicks`` (sequence of :class:`Click`), correcting ``previous_mask``.

        Parameters
        ----------
        clicks : sequence of Click
            All clicks so far, in order, in image pixels.
        previous_mask : (H, W) bool, optional
            The mask the last click produced (None for the first click).
        quick : bool
            Skip the detail pass (the focus pass runs instead, as with ``detail=None``) and
            say so in ``result.detail_pending`` when it would have run: a first answer to
            show at once. The zoom pass's maps are kept, so predicting the same clicks and
            previous mask again without ``quick`` (the detailed answer) runs only the tiles.

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
        window = self.zoom_window(clicks, previous)
        # Only a quick answer and the detailed one that follows it share a zoom pass: the key (a hash of the
        # previous mask) is computed only then, not on every click.
        zoom_key = self._zoom_key(window, clicks, previous) if quick or self._zoom_cache is not None else None
        cached, self._zoom_cache = self._zoom_cache, None
        if cached is not None and cached[0] == zoom_key:
            maps = cached[1]
        else:  # each click marks its pixel: the planes are centred on that pixel's centre
            maps = self._infer(image, window, clicks, previous)
        x0, y0, x1, y1 = window.region
        p, b = window.to_frame_map(maps["probability"]), window.to_frame_map(maps["boundary"])
        detail_windows, detail_pending = (), False
        if self.detail and quick:
            detail_pending = bool(self.detail_windows(window, p))
            if detail_pending:
                self._zoom_cache = (zoom_key, maps)
        elif self.detail:
            detail_windows = self._detail_pass(image, clicks, window, p, b)
        focus_window = None
        if self.focus and previous is not None and previous.any() and not detail_windows:
            focus_window = self._focus_pass(image, clicks, previous, window, p, b)
        t_net = time.perf_counter() - t_start

        net_region = keep_clicked_components(p > 0.5, clicks, (x0, y0))
        mask_region, trace, trace_box, trace_scale = net_region, None, None, 1
        t0 = time.perf_counter()
        if self.refine:
            mask_region, trace, trace_box, trace_scale = self._refine(image[y0:y1, x0:x1], p, b, net_region, clicks,
                                                                      (x0, y0))
        t_cut = time.perf_counter() - t0

        mask = window.paste(mask_region)
        if self.monotone and previous is not None:
            mask = (mask | previous) if clicks[-1].positive else (mask & previous)
        if self.local and previous is not None:
            mask = merge_local_change(mask, previous, clicks[-1])
        return ClickResult(
            mask=mask, net_mask=window.paste(net_region), probability=window.paste(p),
            boundary=window.paste(b), refinement=window.paste(p * b), crop=window.region, window=window,
            clicks=clicks, trace=trace, trace_box=trace_box, refined=trace is not None,
            timings={"network": t_net, "graph_cut": t_cut, "total": time.perf_counter() - t_start},
            trace_scale=trace_scale, focus_window=focus_window, detail_windows=detail_windows,
            detail_pending=detail_pending,
        )

    def _zoom_key(self, window: CropWindow, clicks, previous) -> tuple:
        """What the zoom pass's maps depend on: network, crop, clicks and previous mask (hashed)."""
        return (id(self.engine.model(MODEL_NAME)), self.mirror, window.box, window.size, clicks,
                None if previous is None else hashlib.blake2b(np.packbits(previous)).digest())

    def _infer(self, image, crop: CropWindow, clicks, previous_mask) -> dict[str, np.ndarray]:
        """The network's P and B on ``crop`` for ``clicks``, with ``previous_mask`` ((H, W) bool or None)
        as its previous-mask plane: the zoom, focus and detail passes all run through here."""
        return self.engine.infer(
            MODEL_NAME, image, crop, mirror=self.mirror, positive_clicks=[c.centre for c in clicks if c.positive],
            negative_clicks=[c.centre for c in clicks if not c.positive], previous_mask=previous_mask,
        )

    def focus_window(self, clicks, previous: np.ndarray, window: CropWindow, p: np.ndarray) -> CropWindow | None:
        """The focus pass's crop, or None when it would not be much smaller than ``window``.

        A square ``focus`` x the box of the connected part of ``(p > 0.5) != previous``
        (``p``: the zoom pass's probability on ``window.region``; ``previous``: (H, W)
        bool) that holds the newest click, or around the click itself when it changed
        nothing there; at least :data:`FOCUS_MIN_SIDE` pixels, at most
        :data:`FOCUS_MAX_FRACTION` of the zoom crop's side.
        """
        x0, y0, x1, y1 = window.region
        last = clicks[-1]
        row, col = last.pixel[0] - y0, last.pixel[1] - x0
        changed = (p > 0.5) != previous[y0:y1, x0:x1]
        labels, _ = ndimage.label(changed)
        side = max(x1 - x0, y1 - y0)
        if 0 <= row < labels.shape[0] and 0 <= col < labels.shape[1] and labels[row, col]:
            ys, xs = np.nonzero(labels == labels[row, col])
            box = (min(xs.min(), col) + x0, min(ys.min(), row) + y0, max(xs.max(), col) + 1 + x0,
                   max(ys.max(), row) + 1 + y0)
        else:
            box = (last.x - 1, last.y - 1, last.x + 1, last.y + 1)
        box = square_box(box, self.focus)
        if box[2] - box[0] < FOCUS_MIN_SIDE:
            box = square_box(box, FOCUS_MIN_SIDE / (box[2] - box[0]))
        if box[2] - box[0] > FOCUS_MAX_FRACTION * side:
            return None
        return CropWindow.fit(box, self._image.shape[:2], self.net_size)

    def _focus_pass(self, image, clicks, previous, window, p, b) -> CropWindow | None:
        """Run the network on :meth:`focus_window` and fade its maps into ``p`` and ``b`` (in place).

        Its previous-mask plane is the zoom pass's mask: it refines that answer.
        """
        focus = self.focus_window(clicks, previous, window, p)
        if focus is None:
            return None
        maps = self._infer(image, focus, clicks, window.paste(p > 0.5))
        wx0, wy0, wx1, wy1 = window.region
        fx0, fy0, fx1, fy1 = focus.region
        ix0, iy0, ix1, iy1 = max(wx0, fx0), max(wy0, fy0), min(wx1, fx1), min(wy1, fy1)
        if ix1 <= ix0 or iy1 <= iy0:
            return None
        weight = _feather((fy1 - fy0, fx1 - fx0), FOCUS_FEATHER, focus.region, image.shape[:2])
        inner = slice(iy0 - fy0, iy1 - fy0), slice(ix0 - fx0, ix1 - fx0)
        outer = slice(iy0 - wy0, iy1 - wy0), slice(ix0 - wx0, ix1 - wx0)
        weight = weight[inner]
        for coarse, name in ((p, "probability"), (b, "boundary")):
            fine = focus.to_frame_map(maps[name])[inner]
            coarse[outer] = weight * fine + (1 - weight) * coarse[outer]
        return focus

    def detail_windows(self, window: CropWindow, p: np.ndarray) -> list[CropWindow]:
        """The detail pass's tiles: squares of ``detail * net_size`` image pixels on a grid over
        ``window.region`` that hold part of the edge of ``p > 0.5`` (``p``: the zoom pass's
        probability on that region), the most edge pixels first, at most :data:`DETAIL_MAX_TILES`.
        Empty when the zoom crop is not shrunk :data:`DETAIL_MIN_GAIN` x more than the tiles would be,
        or is more than :data:`DETAIL_MAX_GAIN` tiles wide.
        """
        x0, y0, x1, y1 = window.region
        side = int(round(self.detail * self.net_size))
        if not DETAIL_MIN_GAIN * side <= max(x1 - x0, y1 - y0) <= DETAIL_MAX_GAIN * side:
            return []
        inside = p > 0.5
        edge = inside ^ ndimage.binary_erosion(inside, border_value=1)
        if not edge.any():
            return []
        step = max(1, int(side * (1 - DETAIL_OVERLAP)))

        def starts(n):  # tile origins covering [0, n), the last one flush with the end
            return sorted({*range(0, max(n - side, 0) + 1, step), max(n - side, 0)})

        counts = np.cumsum(np.cumsum(np.pad(edge, ((1, 0), (1, 0))), 0), 1)
        tiles = []
        for ty in starts(y1 - y0):
            for tx in starts(x1 - x0):
                by, bx = min(ty + side, y1 - y0), min(tx + side, x1 - x0)
                n = counts[by, bx] - counts[ty, bx] - counts[by, tx] + counts[ty, tx]
                if n:
                    tiles.append((n, (x0 + tx, y0 + ty, x0 + bx, y0 + by)))
        tiles.sort(key=lambda t: -t[0])
        return [CropWindow.fit(box, self._image.shape[:2], self.net_size) for _, box in tiles[:DETAIL_MAX_TILES]]

    def _detail_pass(self, image, clicks, window, p, b) -> tuple[CropWindow, ...]:
        """Run the network on :meth:`detail_windows` and fade their maps into ``p`` and ``b`` (in place)."""
        tiles = self.detail_windows(window, p)
        if not tiles:
            return ()
        wx0, wy0 = window.region[:2]
        previous = window.paste(p > 0.5)
        total_weight = np.zeros(p.shape, np.float32)
        sums = {"probability": np.zeros(p.shape, np.float32), "boundary": np.zeros(p.shape, np.float32)}
        for tile in tiles:
            maps = self._infer(image, tile, clicks, previous)
            tx0, ty0, tx1, ty1 = tile.region
            weight = _feather((ty1 - ty0, tx1 - tx0), FOCUS_FEATHER, tile.region, image.shape[:2])
            inner = slice(ty0 - wy0, ty1 - wy0), slice(tx0 - wx0, tx1 - wx0)
            total_weight[inner] += weight
            for name, acc in sums.items():
                acc[inner] += weight * tile.to_frame_map(maps[name])
        covered = total_weight > 0
        blend = np.minimum(total_weight, 1)[covered]
        for coarse, name in ((p, "probability"), (b, "boundary")):
            fine = sums[name][covered] / total_weight[covered]
            coarse[covered] = blend * fine + (1 - blend) * coarse[covered]
        return tuple(tiles)

    def click_discs(self, clicks, shape, origin=(0, 0)) -> tuple[np.ndarray, np.ndarray]:
        """Pixels fixed by the clicks: discs around positive and negative clicks, two disjoint
        (h, w) bool masks of an array whose pixel ``[0, 0]`` is image pixel ``origin``.

        Each disc's radius is :func:`click_disc_radii` (``click_radius``, less where a click of
        the other sign is near, so a disc does not reach across an edge clicked from both sides).
        Discs are laid in click order and a later click's disc overrides earlier ones, so the
        newest click always takes effect (an object click beside an earlier background click
        would otherwise change nothing, and the next click land on it again).
        """
        h, w = shape
        pos, neg = np.zeros((h, w), bool), np.zeros((h, w), bool)
        yy, xx = np.ogrid[:h, :w]
        for c, radius in zip(clicks, click_disc_radii(clicks, self.click_radius)):
            row, col = c.pixel[0] - origin[1], c.pixel[1] - origin[0]
            if 0 <= row < h and 0 <= col < w:
                disc = (yy - row) ** 2 + (xx - col) ** 2 <= radius**2
                pos, neg = (pos | disc, neg & ~disc) if c.positive else (pos & ~disc, neg | disc)
        return pos, neg

    def _crop_superpixels(self, origin, shape) -> np.ndarray | None:
        """The whole image's superpixels on the crop at ``origin`` (x, y) of ``shape`` (h, w), if computed."""
        if self._superpixels is None:
            return None
        x0, y0 = origin
        return self._superpixels[y0:y0 + shape[0], x0:x0 + shape[1]]

    def _refine(self, image, p, b, net_region, clicks, origin):
        pos, neg = self.click_discs(clicks, p.shape, origin)
        refined = refine_with_graph_cut(
            image, p, b, Seeds(pos, neg), self.settings, band_px=max(3.0, self.band * max(p.shape)),
            network_mask=net_region, empty_start="seeds", window_margin=self.window_margin,
            max_pixels=self.max_cut_pixels, superpixels=self._crop_superpixels(origin, p.shape), holes=self.holes,
        )
        if refined.trace is None:
            return refined.mask, None, None, 1
        mask = keep_clicked_components((refined.mask | pos) & ~neg, clicks, origin)
        wx0, wy0, wx1, wy1 = refined.window
        return mask, refined.trace, (origin[0] + wx0, origin[1] + wy0, origin[0] + wx1, origin[1] + wy1), refined.scale


def _feather(shape, fraction, region, image_shape) -> np.ndarray:
    """(h, w) weights rising from 0 at the crop's edges to 1 at ``fraction`` of its side inside;
    edges on the image border stay at 1 (nothing lies beyond them to blend with)."""
    h, w = shape
    ramp = max(1.0, fraction * max(h, w))
    x0, y0, x1, y1 = region
    H, W = image_shape

    def distance_to_cut_edges(n, cut_low, cut_high):
        d = np.full(n, np.inf)
        if cut_low:
            d = np.minimum(d, np.arange(n) + 0.5)
        if cut_high:
            d = np.minimum(d, n - np.arange(n) - 0.5)
        return d

    rows = distance_to_cut_edges(h, y0 > 0, y1 < H)
    cols = distance_to_cut_edges(w, x0 > 0, x1 < W)
    return np.clip(np.minimum(rows[:, None], cols[None, :]) / ramp, 0, 1).astype(np.float32)


def click_disc_radii(clicks, click_radius: float) -> list[float]:
    """Radius in pixels of each click's disc: ``click_radius``, or half the distance to the
    nearest click of the other sign when that is smaller (0 for clicks on one pixel: the
    disc is then that pixel). Two opposite clicks' discs thus never overlap, and neither
    forces the far side of an edge both were placed beside."""
    radii = []
    for c in clicks:
        gaps = [np.hypot(o.pixel[0] - c.pixel[0], o.pixel[1] - c.pixel[1]) / 2 for o in clicks
                if o.positive != c.positive]
        radii.append(float(min([click_radius, *gaps])))
    return radii


def merge_local_change(mask: np.ndarray, previous: np.ndarray, click: Click) -> np.ndarray:
    """``previous`` (H, W) bool with only the part of the change to ``mask`` (H, W) bool that holds ``click``.

    The change is ``mask != previous``; its 8-connected component at the click's pixel is
    taken from ``mask``, every other pixel from ``previous``. When the click's own pixel did
    not change, the whole change is applied (keeping nothing would leave the protocol's next
    click on the same pixel).
    """
    changed = mask != previous
    row, col = click.pixel
    if not changed[row, col]:
        return mask
    # label only the box around the change: the change is usually small, the frame may be 12 MP (~0.03 s to label)
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    labels, _ = ndimage.label(changed[box], structure=np.ones((3, 3), bool))
    merged = previous.copy()
    part = labels == labels[row - rows[0], col - cols[0]]
    merged[box][part] = mask[box][part]
    return merged


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
            r, col = c.pixel[0] - origin[1], c.pixel[1] - origin[0]
            if 0 <= r < mask.shape[0] and 0 <= col < mask.shape[1] and labels[r, col]:
                hit.add(labels[r, col])
    if not hit:
        return mask
    return np.isin(labels, sorted(hit))



def _checked_clicks(clicks, shape) -> tuple[Click, ...]:
    """``clicks`` as plain-typed :class:`Click` objects; ``ValueError`` for one outside an image of ``shape``."""
    return tuple(Click(float(c.x), float(c.y), bool(c.positive)).check_inside(shape) for c in clicks)


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
    propagates for the caller to show). ``history`` is the undo stack of
    :class:`ClickState` (``core.history.History``).
    """

    def __init__(self, predictor: ClickPredictor, history_limit: int | None = None):
        self.predictor = predictor
        self.history: History[ClickState] = History(ClickState(()), limit=history_limit)
        self._quick = None  # (state, previous mask) of the last quick prediction still to be detailed

    @property
    def state(self) -> ClickState:
        return self.history.current

    @property
    def result(self) -> ClickResult | None:
        return self.state.result

    @property
    def clicks(self) -> tuple[Click, ...]:
        return self.state.clicks

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool: the current mask (all False before the first click)."""
        if self.state.mask is not None:
            return self.state.mask
        return np.zeros(self.predictor.image.shape[:2], bool)

    def add_click(self, x: float, y: float, positive: bool = True) -> ClickResult:
        """One more click, (x, y) in image pixels: one prediction, one undo step."""
        return self.add_clicks([Click(float(x), float(y), bool(positive))])

    def add_clicks(self, clicks, quick: bool = False) -> ClickResult:
        """Several new :class:`Click` objects (e.g. made while a prediction ran) applied
        together: one prediction for all of them, one undo step. Nothing changes on error
        (a click outside the image, an empty list, a failing prediction).

        ``quick=True``: the predictor's quick answer (``ClickPredictor.predict(quick=True)``);
        when ``result.detail_pending``, :meth:`refine_detail` later swaps in the detailed one.
        """
        new = _checked_clicks(clicks, self.predictor.image.shape)
        if not new:
            raise ValueError("add_clicks() needs at least one click")
        clicks = self.clicks + new
        previous = self.state.mask
        result = self.predictor.predict(clicks, previous, quick=quick)  # may raise: state untouched
        state = self.history.push(ClickState(clicks, result.mask, result))
        self._quick = (state, previous) if result.detail_pending else None
        return result

    @property
    def detail_pending(self) -> bool:
        """The current state is a quick answer whose detailed one :meth:`refine_detail` can compute."""
        return self._quick is not None and self._quick[0] is self.state

    def refine_detail(self) -> ClickResult | None:
        """Replace the current quick answer (see :meth:`add_clicks`) by the detailed one, in the same
        undo step. None, and nothing changes, when there is none to refine (already detailed, or
        another click, undo or reset came first). On error the quick answer stays."""
        if not self.detail_pending:
            return None
        state, previous = self._quick
        result = self.predictor.predict(state.clicks, previous)  # may raise: the quick answer stays
        self.history.replace(ClickState(state.clicks, result.mask, result))
        self._quick = None
        return result

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    def undo(self) -> None:
        """Back to the state before the last click; ``RuntimeError`` when there is none."""
        self.history.undo()

    def redo(self) -> None:
        """Re-apply the last undone click; ``RuntimeError`` when there is none."""
        self.history.redo()

    def reset(self) -> None:
        """No clicks, empty mask; the stack is cleared."""
        self.history.reset()

    def restore(self, clicks, mask, replay: bool = False) -> int | None:
        """Start from saved ``clicks`` and their (H, W) bool ``mask``; the next click corrects ``mask``.

        ``replay=False``: nothing is re-run; undo goes back to the empty start.
        ``replay=True``: the clicks are first applied one by one (each undoable, and the last
        one's maps and graph-cut trace are back in :attr:`result`), then the saved mask is made
        current (the user's work wins). Returns how many pixels the replayed mask differs from the
        saved one (0 when the same weights made it), or None without a replay. Bad clicks or a
        failing prediction raise before anything changes.
        """
        shape = self.predictor.image.shape
        clicks = _checked_clicks(clicks, shape)
        mask = as_mask(mask, shape[:2], "mask").copy()
        if not replay or not clicks:
            self.history.reset()
            self.history.push(ClickState(clicks, mask))
            return None
        states, previous = [], None
        for n in range(1, len(clicks) + 1):
            result = self.predictor.predict(clicks[:n], previous)  # may raise: history untouched so far
            previous = result.mask
            states.append(ClickState(clicks[:n], result.mask, result))
        self.history.reset()
        for state in states[:-1]:
            self.history.push(state)
        self.history.push(ClickState(clicks, mask, states[-1].result))
        return int((states[-1].mask != mask).sum())

    def replay(self, clicks) -> ClickResult | None:
        """Start over and apply ``clicks`` one by one (e.g. after loading them from a file)."""
        self.reset()
        result = None
        for c in clicks:
            result = self.add_click(c.x, c.y, c.positive)
        return result
