import warnings

import numpy as np
import pytest
import torch

from segwidgets.core.engine import Engine
from segwidgets.eval.metrics import iou
from segwidgets.pipelines import segment_object
from segwidgets.pipelines.boundary_aware import BOX_MIN_FILL, MODEL_NAME, MODEL_NAMES, locate_object

from ..conftest import ring_image
from .oracle import BrightObjectNet


def bright_disc(h=120, w=160, centre=(80, 60), radius=30, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    disc = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2
    image = np.where(disc[..., None], 220.0, 40.0) + rng.normal(0, 8, (h, w, 3))
    return np.clip(image, 0, 255).astype(np.uint8), disc


def stand_in_engine() -> Engine:
    """Every network the pipeline averages replaced by its own stand-in."""
    e = Engine("cpu")
    for name in MODEL_NAMES:
        e.set_model(name, BrightObjectNet())
    return e


@pytest.fixture
def engine():
    return stand_in_engine()


@pytest.mark.parametrize("mode", ["box", "point", "auto"])
def test_finds_the_disc_in_every_mode(engine, mode):
    image, disc = bright_disc()
    kwargs = {"box": (45, 25, 115, 95)} if mode == "box" else {"point": (80, 60)} if mode == "point" else {}
    result = segment_object(image, engine=engine, net_size=128, **kwargs)
    assert result.source == mode
    assert iou(result.mask, disc) > 0.95
    assert iou(result.net_mask, disc) > 0.85
    for name in ("probability", "boundary", "refinement"):
        arr = getattr(result, name)
        assert arr.shape == disc.shape and arr.dtype == np.float32 and 0 <= arr.min() and arr.max() <= 1
    np.testing.assert_allclose(result.refinement, result.probability * result.boundary, atol=1e-6)
    assert result.trace is not None and result.trace.final_mask.shape == (
        result.crop[3] - result.crop[1], result.crop[2] - result.crop[0])
    # Edges of R lie on the disc's edge, not inside it.
    yy, xx = np.mgrid[: disc.shape[0], : disc.shape[1]]
    radius = np.hypot(xx - 80, yy - 60)
    assert abs(np.average(radius, weights=result.refinement) - 30) < 3


def test_crop_expands_until_the_object_fits(engine):
    image, disc = bright_disc(h=200, w=200, centre=(100, 100), radius=60)
    # A negative margin makes the first crop cut the disc near its corners, so R runs into every side.
    first = segment_object(image, point=(70, 70), engine=engine, net_size=96, margin=-0.1, max_expansions=6)
    steps = first.crop_history
    assert len(steps) > 1, "a crop cutting the object must grow"
    assert steps[0].touched and not steps[-1].touched
    # Each growth only ever enlarges the crop.
    for a, b in zip(steps, steps[1:]):
        assert b.box[0] <= a.box[0] and b.box[1] <= a.box[1] and b.box[2] >= a.box[2] and b.box[3] >= a.box[3]
    assert set(steps[0].touched) == {"left", "top", "right", "bottom"}
    assert iou(first.mask, disc) > 0.95


def test_no_growth_when_disabled(engine):
    image, disc = bright_disc(h=200, w=200, centre=(100, 100), radius=60)
    result = segment_object(image, point=(70, 70), engine=engine, net_size=96, margin=-0.1, expand=False)
    assert len(result.crop_history) == 1
    assert iou(result.mask, disc) < 0.9  # the crop cut the object


def test_box_outside_is_background(engine):
    image, disc = bright_disc()
    result = segment_object(image, box=(80, 0, 160, 120), engine=engine, net_size=128)
    assert not result.mask[:, :80].any()
    assert result.mask[:, 80:].sum() == pytest.approx(disc[:, 80:].sum(), rel=0.1)


def test_blank_image_warns_and_returns_empty_mask(engine):
    image = np.full((64, 80, 3), 30, np.uint8)
    with pytest.warns(UserWarning, match="no object found"):
        result = segment_object(image, engine=engine, net_size=64)
    assert result.mask.shape == (64, 80) and not result.mask.any()
    assert result.object_box is None and result.trace is None and result.warnings


@pytest.mark.parametrize("box", [(200, 10, 300, 50), (10, 10, 10, 50), (-50, -50, -10, -10)])
def test_bad_boxes_raise(engine, box):
    image, _ = bright_disc()
    with pytest.raises(ValueError):
        segment_object(image, box=box, engine=engine)


def test_point_outside_raises(engine):
    image, _ = bright_disc()
    with pytest.raises(ValueError, match="outside"):
        segment_object(image, point=(500, 10), engine=engine)


def test_missing_weights_name_the_file(tmp_path):
    from segwidgets.nets import ObjectnessNet

    e = Engine("cpu")
    e.register(MODEL_NAME, ObjectnessNet, tmp_path / "absent.safetensors")
    image, _ = bright_disc()
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        segment_object(image, engine=e)


def test_mismatched_weights_name_the_file(tmp_path):
    from segwidgets.core.weights import WeightsError, save_weights
    from segwidgets.nets import ObjectnessNet

    path = save_weights(torch.nn.Linear(2, 2), tmp_path / "wrong.safetensors")
    e = Engine("cpu")
    e.register(MODEL_NAME, ObjectnessNet, path)
    image, _ = bright_disc()
    with pytest.raises(WeightsError, match="wrong.safetensors"):
        segment_object(image, engine=e)


def test_locate_object_prefers_central_large_confident_regions():
    p = np.zeros((100, 100), np.float32)
    p[40:60, 40:60] = 0.9  # central
    p[0:10, 0:10] = 0.99  # small, in the corner
    assert locate_object(p) == (40, 40, 60, 60)
    assert locate_object(p, point=(5, 5)) == (0, 0, 10, 10)
    assert locate_object(np.zeros((10, 10), np.float32)) is None


def test_locate_object_join_boxes_every_region_of_like_prominence():
    p = np.zeros((100, 200), np.float32)
    p[30:70, 40:90] = 0.9  # two parts of like size either side of the centre
    p[35:65, 115:160] = 0.9
    p[90:94, 0:4] = 0.9  # a speck in the corner: under min_area
    assert locate_object(p) == (40, 30, 90, 70)
    assert locate_object(p, join=0.5) == (40, 30, 160, 70)
    assert locate_object(p, join=1.0) == (40, 30, 90, 70)  # only the best itself
    assert locate_object(p, point=(130, 50), join=0.5) == (115, 35, 160, 65)  # a point picks its region alone


def test_two_bright_discs_are_segmented_together_by_default(engine):
    left, disc_left = bright_disc(160, 240, centre=(75, 80), radius=28, seed=1)
    right, disc_right = bright_disc(160, 240, centre=(165, 80), radius=26, seed=2)
    image = np.where(disc_right[..., None], right, left)
    both = disc_left | disc_right
    alone = segment_object(image, engine=engine, net_size=128, join=None)
    joined = segment_object(image, engine=engine, net_size=128)  # the default joins them
    assert iou(alone.mask, both) < 0.6  # one disc
    assert iou(joined.mask, both) > 0.9


@pytest.mark.parametrize("join", [0, -0.5, 1.5, True, "half", (0.5,)])
def test_bad_join_raises_before_any_work(engine, join):
    with pytest.raises(ValueError, match="join"):
        segment_object(bright_disc()[0], engine=engine, join=join)
    assert engine.model(MODEL_NAME).calls == []


def test_no_confident_region_warns_and_returns_empty_mask(engine):
    """A textured image with nothing bright: the stand-in network finds no object."""
    image = np.random.default_rng(0).integers(0, 90, (64, 80, 3)).astype(np.uint8)
    with pytest.warns(UserWarning, match="no region above 0.5"):
        result = segment_object(image, engine=engine, net_size=64)
    assert not result.mask.any() and result.object_box is None
    assert result.probability.shape == (64, 80) and len(result.crop_history) == 1


def test_the_graph_cut_band_applies_only_when_asked(engine):
    """By default the whole crop is free (what the shipped settings were chosen with); ``band``
    confines the cut to the network's uncertain edge (an earlier version overwrote it by accident)."""
    image, disc = bright_disc()
    whole = segment_object(image, engine=engine, net_size=128)
    assert not (whole.trace.fixed_foreground | whole.trace.fixed_background).any()
    banded = segment_object(image, engine=engine, net_size=128, band=0.05)
    fixed = banded.trace.fixed_foreground | banded.trace.fixed_background
    x0, y0, _, _ = banded.crop
    assert fixed[60 - y0, 80 - x0] and fixed[0, 0]  # the disc's centre and the far corner keep the network's label
    assert not fixed[60 - y0, 80 + 30 - x0]  # the disc's edge may change


@pytest.mark.parametrize("mirror", [True, False])
def test_default_passes_are_mirror_averaged_at_net_size(mirror):
    from segwidgets.pipelines.boundary_aware import NET_SIZE

    engine = stand_in_engine()
    net = engine.model(MODEL_NAME)
    image, disc = bright_disc()
    options = {} if mirror else {"mirror": False}
    result = segment_object(image, engine=engine, **options)
    assert iou(result.mask, disc) > 0.95
    assert set(net.batches) == {2 if mirror else 1}  # the crop and its mirror image in one batch
    assert max(max(shape) for shape in net.calls) == NET_SIZE


def test_several_net_sizes_run_each_pass_at_every_size(engine):
    image, disc = bright_disc()
    result = segment_object(image, engine=engine, net_size=(96, 128), mirror=False)
    net = engine.model(MODEL_NAME)
    # The whole-image pass and every crop pass ran at both sizes; the maps live on the larger grid.
    assert {max(shape) for shape in net.calls} == {96, 128}
    assert sum(max(s) == 96 for s in net.calls) == sum(max(s) == 128 for s in net.calls)
    assert all(max(step.probability.shape) == 128 for step in result.crop_history)
    assert iou(result.mask, disc) > 0.95


def test_infer_maps_averages_the_sizes_on_the_largest_grid(engine):
    from skimage.transform import resize

    from segwidgets.core.crops import CropWindow
    from segwidgets.pipelines.boundary_aware import infer_maps

    image, _ = bright_disc()
    window = CropWindow.square((45, 25, 115, 95), image.shape[:2], 128, scale=1.4)
    small = engine.infer(MODEL_NAME, image, CropWindow.fit(window.box, window.image_size, 64))
    large = engine.infer(MODEL_NAME, image, window)
    p, b = infer_maps(engine, image, window, (64, 128), models=(MODEL_NAME,))
    assert p.shape == b.shape == tuple(window.size) and p.dtype == b.dtype == np.float32
    expected = (resize(small["probability"], window.size, order=1, mode="edge", anti_aliasing=False)
                + large["probability"]) / 2
    np.testing.assert_allclose(p, expected, atol=1e-6)
    # One size: exactly the engine's answer.
    p1, b1 = infer_maps(engine, image, window, (128,), models=(MODEL_NAME,))
    np.testing.assert_array_equal(p1, large["probability"])
    np.testing.assert_array_equal(b1, large["boundary"])


@pytest.mark.parametrize("net_size", [0, 16, (), (128, 0), 12.5, True])
def test_bad_net_sizes_raise_before_any_work(engine, net_size):
    image, _ = bright_disc()
    with pytest.raises(ValueError, match="net_size"):
        segment_object(image, engine=engine, net_size=net_size)
    assert engine.model(MODEL_NAME).calls == []


def test_bad_hole_mode_raises_before_any_work(engine):
    with pytest.raises(ValueError, match="holes"):
        segment_object(bright_disc()[0], engine=engine, holes="open")
    assert engine.model(MODEL_NAME).calls == []


@pytest.mark.parametrize("holes, inside_is_object", [(None, False), ("fill", True)])
def test_a_hole_the_networks_see_stays_open_by_default(engine, holes, inside_is_object):
    image, ring = ring_image()
    result = segment_object(image, box=(20, 10, 80, 70), engine=engine, **({} if holes is None else {"holes": holes}))
    inside = result.mask[35:46, 45:56]  # well inside the ring's 11 px hole
    assert result.trace is not None
    assert inside.all() if inside_is_object else (not inside.any() and iou(result.mask, ring) > 0.95)


def dark_red_disc(h=120, w=160, centre=(80, 60), radius=30, seed=0):
    """A dark red disc on dark green that the stand-in network sees only as a small bright spot
    at its centre (2 % of the disc's box): the network's answer is a sliver of the object."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    distance = np.hypot(xx - centre[0], yy - centre[1])
    disc = distance <= radius
    image = np.where(disc[..., None], [[[130.0, 25.0, 25.0]]], [[[30.0, 70.0, 35.0]]])
    image[distance <= 5] = 230.0
    return np.clip(image + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8), disc


def test_a_box_the_networks_miss_is_segmented_by_colour(engine):
    image, disc = dark_red_disc()
    box = (45, 25, 115, 95)
    with pytest.warns(UserWarning, match="found little object in the box"):
        result = segment_object(image, box=box, engine=engine, net_size=128, box_min_fill=BOX_MIN_FILL)
    assert 0 < result.net_mask.sum() < 0.1 * 70 * 70  # the networks saw a sliver ...
    assert iou(result.mask, disc) > 0.9  # ... and the colour models found the disc inside the box
    assert not (result.probability == 0.5).any()  # the reported P is the networks', not the cut's neutral prior
    default = segment_object(image, box=box, engine=engine, net_size=128)  # off by default
    assert iou(default.mask, disc) < 0.5  # the cut started from the sliver and -log P kept it there


def test_a_box_the_networks_fill_is_not_second_guessed(engine):
    image, disc = bright_disc()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        result = segment_object(image, box=(45, 25, 115, 95), engine=engine, net_size=128, box_min_fill=BOX_MIN_FILL)
    fallback_off = segment_object(image, box=(45, 25, 115, 95), engine=engine, net_size=128)
    np.testing.assert_array_equal(result.mask, fallback_off.mask)


@pytest.mark.parametrize("fill", [-0.1, 1.5])
def test_bad_box_min_fill_raises_before_any_work(engine, fill):
    with pytest.raises(ValueError, match="box_min_fill"):
        segment_object(bright_disc()[0], box=(45, 25, 115, 95), engine=engine, box_min_fill=fill)
    assert engine.model(MODEL_NAME).calls == []


class ConstantObjectNet(torch.nn.Module):
    """P = B = ``value`` everywhere."""

    def __init__(self, value: float):
        super().__init__()
        self.logit = float(np.log(value / (1 - value)))
        self.calls = []

    def forward(self, x):
        self.calls.append(tuple(x.shape[-2:]))
        return torch.full((x.shape[0], 2) + tuple(x.shape[-2:]), self.logit)


def test_infer_maps_averages_the_networks(engine):
    from segwidgets.core.crops import CropWindow
    from segwidgets.pipelines.boundary_aware import infer_maps

    image, _ = bright_disc()
    window = CropWindow.square((45, 25, 115, 95), image.shape[:2], 128, scale=1.4)
    bright = engine.infer(MODEL_NAME, image, window)
    engine.set_model(MODEL_NAMES[1], ConstantObjectNet(0.2))
    p, b = infer_maps(engine, image, window, (128,), models=MODEL_NAMES[:2])
    np.testing.assert_allclose(p, (bright["probability"] + 0.2) / 2, atol=1e-6)
    np.testing.assert_allclose(b, (bright["boundary"] + 0.2) / 2, atol=1e-6)


def test_every_listed_network_runs_on_every_pass(engine):
    image, disc = bright_disc()
    result = segment_object(image, engine=engine, net_size=128, mirror=False)
    calls = [engine.model(name).calls for name in MODEL_NAMES]
    assert len(calls[0]) >= 2 and calls[0] == calls[1] == calls[2]  # the whole image, then each crop
    alone = stand_in_engine()
    segment_object(image, engine=alone, net_size=128, mirror=False, models=MODEL_NAME)
    assert alone.model(MODEL_NAMES[1]).calls == [] and len(alone.model(MODEL_NAME).calls) == len(calls[0])
    assert iou(result.mask, disc) > 0.95


@pytest.mark.parametrize("models", [(), "", [MODEL_NAME, 3], None])
def test_bad_models_raise_before_any_work(engine, models):
    with pytest.raises(ValueError, match="models"):
        segment_object(bright_disc()[0], engine=engine, models=models)
    assert engine.model(MODEL_NAME).calls == []


def test_missing_weights_of_any_network_name_the_file(tmp_path):
    from segwidgets.nets import ObjectnessNet

    e = stand_in_engine()
    e.register(MODEL_NAMES[2], ObjectnessNet, tmp_path / "third.safetensors")
    with pytest.raises(FileNotFoundError, match="third.safetensors"):
        segment_object(bright_disc()[0], engine=e)
    assert e.model(MODEL_NAME).calls == []
