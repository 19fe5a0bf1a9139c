"""The matte viewer: what it shows, backdrops, split and zoom, without a browser."""
import numpy as np
import pytest

pytest.importorskip("ipycanvas")

from segwidgets.pipelines.matting import estimate_alpha, trimap_from_mask  # noqa: E402
from segwidgets.render import alpha_to_rgb, checkerboard, region_picture, to_rgb8  # noqa: E402
from segwidgets.widgets import MatteViewer  # noqa: E402

from .test_canvas import event  # noqa: E402

H, W = 48, 64


@pytest.fixture(scope="module")
def result(untrained_matting_engine):
    e = untrained_matting_engine
    image = np.random.default_rng(0).integers(0, 256, (H, W, 3)).astype(np.uint8)
    mask = np.zeros((H, W), bool)
    mask[12:36, 16:48] = True
    return estimate_alpha(image, trimap_from_mask(mask, 3), engine=e)


@pytest.fixture
def viewer(result):
    return MatteViewer(result)


def known(result):
    """Known background and known foreground pixels of the result's trimap."""
    return result.trimap == 0, result.trimap == 255


def feed(view, kind, x, y, button=0):
    h, w = view.canvas.display_size
    view.canvas._handle_dom_event(event(kind, x, y, button=button, width=w, height=h))


def test_every_shown_array_is_an_attribute(viewer, result):
    assert viewer.alpha is result.alpha and viewer.foreground is result.foreground
    assert viewer.background is result.background
    np.testing.assert_array_equal(viewer.composite, result.composite(checkerboard((H, W))))
    np.testing.assert_array_equal(viewer.pictures["alpha"], alpha_to_rgb(result.alpha))
    np.testing.assert_array_equal(viewer.pictures["foreground"], to_rgb8(result.foreground))
    assert set(viewer.pictures) == {"image", "composite", "alpha", "network_alpha", "foreground", "background"}
    np.testing.assert_array_equal(viewer.pictures["network_alpha"], alpha_to_rgb(result.network_alpha))
    assert list(viewer.panels) == ["alpha", "foreground", "background", "composite"]
    for name, panel in viewer.panels.items():  # small panels, side by side, each its picture
        assert panel.display_size == (H, W)  # small images are never enlarged
        np.testing.assert_array_equal(panel._overlay_rgba["picture"][..., :3], viewer.pictures[name])
    bg, fg = known(result)
    assert (viewer.pictures["alpha"][bg] == 0).all() and (viewer.pictures["alpha"][fg] == 255).all()
    small = MatteViewer(result, panel_size=32, max_display_size=40)
    assert small.panels["alpha"].display_size == (24, 32) and small.canvas.display_size == (30, 40)
    np.testing.assert_array_equal(small.panels["composite"]._overlay_rgba["picture"][..., :3],
                                  region_picture(small.composite, (0, 0, W, H), (24, 32)))
    with pytest.raises(TypeError, match="MattingResult"):
        MatteViewer(np.zeros((H, W)))


def test_the_split_view_shows_two_pictures(viewer):
    assert viewer.canvas.display_size == (H, W)  # shown 1:1
    viewer.left.value, viewer.right.value = "alpha", "composite"
    viewer.split.value = 0.25
    shown = viewer.shown
    np.testing.assert_array_equal(shown[:, :16], viewer.pictures["alpha"][:, :16])
    np.testing.assert_array_equal(shown[:, 17:], viewer.composite[:, 17:])
    assert (shown[:, 16] == 255).all()  # the split line
    np.testing.assert_array_equal(viewer.canvas._overlay_rgba["picture"][..., :3], shown)


def test_a_backdrop_change_remakes_only_the_composite_and_the_split_reuses_views(viewer, result):
    alpha_picture, composite_before = viewer.pictures["alpha"], viewer.composite
    viewer.set_backdrop((0, 0, 255))
    assert viewer.pictures["alpha"] is alpha_picture  # not recomputed
    assert not np.array_equal(viewer.composite, composite_before)
    np.testing.assert_array_equal(viewer.composite, result.composite((0, 0, 255)))
    np.testing.assert_array_equal(viewer.panels["composite"]._overlay_rgba["picture"][..., :3], viewer.composite)
    viewer.left.value, viewer.right.value = "image", "composite"
    left = viewer._views[("image", viewer.canvas.display_size)]
    viewer.split.value = 0.7  # moving the split resamples nothing
    assert viewer._views[("image", viewer.canvas.display_size)] is left
    np.testing.assert_array_equal(viewer.shown[:, -5:], viewer.composite[:, -5:])


def test_backdrops_checkerboard_colour_and_image(viewer, result):
    bg, fg = known(result)
    viewer.set_backdrop((255, 0, 0))
    assert viewer.backdrop == (255, 0, 0) and viewer.backdrop_menu.value == "colour" and viewer.color.value == "#ff0000"
    assert (viewer.composite[bg] == [255, 0, 0]).all()
    np.testing.assert_array_equal(viewer.composite[fg], result.image[fg])  # the object is unchanged
    viewer.color.value = "#0000ff"  # the colour picker
    assert viewer.backdrop == (0, 0, 255) and (viewer.composite[bg] == [0, 0, 255]).all()
    beach = np.zeros((H, W, 3), np.uint8)
    beach[..., 1] = np.arange(W, dtype=np.uint8)[None, :]
    viewer.set_backdrop(beach)
    assert viewer.backdrop_menu.value == "image" and "image" in viewer.backdrop_menu.options
    np.testing.assert_array_equal(viewer.composite[bg], beach[bg])
    viewer.backdrop_menu.value = "checkerboard"
    np.testing.assert_array_equal(viewer.composite[bg], checkerboard((H, W))[bg])
    viewer.backdrop_menu.value = "image"  # the image is remembered
    np.testing.assert_array_equal(viewer.composite[bg], beach[bg])
    viewer.set_backdrop("#00ff00")
    composite = viewer.composite.copy()
    with pytest.raises(ValueError, match="colour"):
        viewer.set_backdrop("no such colour")
    with pytest.raises(ValueError):
        viewer.set_backdrop(np.zeros((H, W), np.float32))
    assert viewer.backdrop == (0, 255, 0) and np.array_equal(viewer.composite, composite)
    assert "backdrop not changed" in viewer.status.value


def test_zoom_to_a_box_and_back(viewer):
    whole = viewer.shown.copy()
    viewer.zoom((16, 12, 32, 24))  # 16 x 12: already the image's 4:3 aspect
    assert viewer.zoom_box == (16, 12, 32, 24) and viewer.view_box == (16.0, 12.0, 32.0, 24.0)
    size = viewer.canvas.display_size
    left = region_picture(viewer.pictures[viewer.left.value], viewer.view_box, size)
    np.testing.assert_array_equal(viewer.shown[:, :W // 2], left[:, :W // 2])
    np.testing.assert_array_equal(viewer.shown[0, 0], viewer.pictures["image"][12, 16])  # 4x: pixels as blocks
    np.testing.assert_array_equal(viewer.shown[3, 3], viewer.pictures["image"][12, 16])
    panel = viewer.panels["alpha"]
    np.testing.assert_array_equal(panel._overlay_rgba["picture"][..., :3],
                                  region_picture(viewer.pictures["alpha"], viewer.view_box, panel.display_size))
    viewer.reset_zoom_button.click()
    assert viewer.zoom_box is None and np.array_equal(viewer.shown, whole)
    with pytest.raises(ValueError, match="outside"):
        viewer.zoom((100, 100, 120, 120))


def test_a_box_drag_zooms_also_when_zoomed(viewer):
    feed(viewer, "mousedown", 8, 6)
    feed(viewer, "mousemove", 20, 10)
    feed(viewer, "mouseup", 40, 30)
    assert viewer.zoom_box == (8, 6, 40, 30) and "zoomed" in viewer.status.value
    feed(viewer, "mousedown", 0, 0)  # now the canvas shows x 8..40, y 6..30 (half size): a drag over its
    feed(viewer, "mouseup", 32, 24)  # top-left quarter is the image's x 8..24, y 6..18
    assert viewer.zoom_box == (8, 6, 24, 18)


def test_set_result_keeps_the_view_and_refuses_another_size(viewer, result):
    viewer.zoom((16, 12, 32, 24))
    viewer.set_backdrop((0, 0, 0))
    viewer.set_result(result)
    assert viewer.zoom_box == (16, 12, 32, 24) and viewer.backdrop == (0, 0, 0)

    class Small:
        alpha = np.zeros((4, 4), np.float32)
        foreground = background = np.zeros((4, 4, 3), np.float32)
        image = np.zeros((4, 4, 3), np.uint8)

        def composite(self, backdrop):
            return self.image

    with pytest.raises(ValueError, match="4, 4"):
        viewer.set_result(Small())
    assert viewer.result is result
