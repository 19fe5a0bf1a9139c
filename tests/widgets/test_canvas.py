import numpy as np
import pytest

ipycanvas = pytest.importorskip("ipycanvas")

from segwidgets.widgets.canvas import ImageCanvas  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8"


def big_image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (1024, 2048, 3)).astype(np.uint8)


def test_display_cap_and_image_layer_sent_as_png(sent):
    canvas = ImageCanvas(big_image(), overlays=("mask", "map"))
    assert canvas.display_size == (512, 1024) and canvas.display_scale == 0.5
    assert canvas.canvas.width == 1024 and canvas.canvas.height == 512
    assert len(sent) == 1
    (commands, buffers) = sent[0]
    assert len(buffers) == 1 and buffers[0].startswith(PNG)
    from PIL import Image
    import io

    assert Image.open(io.BytesIO(buffers[0])).size == (1024, 512)  # display size, not the original


def event(kind, x, y, button=0, width=1024, height=512, **keys):
    return {"type": kind, "relativeX": x, "relativeY": y, "button": button,
            "boundingRectWidth": width, "boundingRectHeight": height, **keys}


def test_pointer_events_in_original_coordinates_with_buttons_and_modifiers(sent):
    canvas = ImageCanvas(big_image())
    seen = []
    canvas.on_pointer(seen.append)
    canvas._handle_dom_event(event("mousedown", 100, 50))
    canvas._handle_dom_event(event("mousedown", 10, 20, button=2))
    canvas._handle_dom_event(event("mousedown", 10, 20, shiftKey=True, ctrlKey=True))
    canvas._handle_dom_event(event("mousemove", 512, 256, button=0))
    canvas._handle_dom_event(event("mouseup", -5, 20))
    canvas._handle_dom_event({"type": "contextmenu"})
    # the canvas shown at half its size by the page: CSS box 512 wide
    canvas._handle_dom_event(event("mousedown", 100, 50, width=512, height=256))
    assert [(e.kind, e.x, e.y, e.button) for e in seen] == [
        ("down", 200.0, 100.0, "left"),
        ("down", 20.0, 40.0, "right"),
        ("down", 20.0, 40.0, "left"),
        ("move", 1024.0, 512.0, None),
        ("up", -10.0, 40.0, "left"),
        ("down", 400.0, 200.0, "left"),
    ]
    assert seen[2].shift and seen[2].ctrl and not seen[0].shift
    assert seen[4].inside is False and seen[0].inside is True


def test_move_events_are_throttled_in_the_browser_and_right_click_menu_suppressed():
    canvas = ImageCanvas(np.zeros((10, 10, 3), np.uint8), move_throttle_ms=25)
    assert canvas._move_events.throttle_or_debounce == "throttle" and canvas._move_events.wait == 25
    assert "mousemove" not in canvas._button_events.watched_events
    assert canvas._button_events.prevent_default_action and "contextmenu" in canvas._button_events.watched_events


def test_overlays_are_lossless_display_sized_and_batched(sent):
    canvas = ImageCanvas(big_image(), overlays=("mask", "map"))
    sent.clear()
    mask = np.zeros((1024, 2048), bool)
    mask[100:300, 200:600] = True
    values = np.linspace(0, 1, 1024 * 2048, dtype=np.float32).reshape(1024, 2048)
    with canvas.hold():
        canvas.set_mask_overlay("mask", mask, opacity=0.5)
        canvas.set_map_overlay("map", values)
        canvas.draw_points([(10, 10, True), (50, 60, False)])
    assert len(sent) == 1  # one message for the whole redraw
    commands, buffers = sent[0]
    images = [b for b in buffers if b.startswith(PNG)]
    assert len(images) == 2 and not any(b.startswith(JPEG) for b in buffers)  # other buffers: circle coordinates
    from PIL import Image
    import io

    shown = np.asarray(Image.open(io.BytesIO(images[0])))
    assert shown.shape == (512, 1024, 4)
    assert shown[100, 200, 3] == 128 and shown[0, 0, 3] == 0  # mask alpha where True, transparent elsewhere


def test_opacity_rescales_alpha_and_clear(sent):
    canvas = ImageCanvas(np.zeros((20, 30, 3), np.uint8))
    canvas.set_mask_overlay("mask", np.ones((20, 30), bool), opacity=1.0)
    sent.clear()
    canvas.set_opacity("mask", 0.5)
    from PIL import Image
    import io

    (commands, buffers), = sent
    assert np.asarray(Image.open(io.BytesIO(buffers[0])))[0, 0, 3] == 128
    sent.clear()
    canvas.clear_overlay("mask")
    assert len(sent) == 1 and sent[0][1] == []  # a clear, no image
    with pytest.raises(ValueError):
        canvas.set_opacity("mask", 2)


def test_bad_overlays_and_layers_are_refused():
    canvas = ImageCanvas(np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(ValueError, match="RGBA"):
        canvas.set_overlay("mask", np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(ValueError, match="size"):
        canvas.set_mask_overlay("mask", np.zeros((5, 5), bool))
    with pytest.raises(KeyError):
        canvas.set_overlay("nope", np.zeros((20, 30, 4), np.uint8))
    with pytest.raises(ValueError, match="unique"):
        ImageCanvas(np.zeros((4, 4, 3), np.uint8), overlays=("a", "a"))


def test_status_line_escapes_and_marks_errors():
    canvas = ImageCanvas(np.zeros((4, 4, 3), np.uint8))
    canvas.show_status("<b>bad</b> click", error=True)
    assert "&lt;b&gt;" in canvas.status.value and "#b91c1c" in canvas.status.value


def test_status_text_is_the_plain_line():
    from segwidgets.widgets.canvas import ImageCanvas

    canvas = ImageCanvas(np.zeros((8, 8, 3), np.uint8))
    canvas.show_status("a <b> & 'c' failed", error=True)
    assert "<span" in canvas.status.value
    assert canvas.status_text == "a <b> & 'c' failed"
