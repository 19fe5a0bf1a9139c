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


def wheel(canvas, x, y, delta):
    h, w = canvas.display_size
    canvas._handle_dom_event({"type": "wheel", "deltaY": delta, "relativeX": x, "relativeY": y,
                              "boundingRectWidth": w, "boundingRectHeight": h})


def test_wheel_zoom_and_drag_pan_keep_clicks_on_image_pixels(sent):
    canvas = ImageCanvas(big_image())                  # 2048 x 1024 shown at 1024 x 512: 2 image px per canvas px
    seen = []
    canvas.on_pointer(seen.append)
    wheel(canvas, 400, 200, -100)                      # one step in, about the pointer
    assert canvas.zoom == pytest.approx(1.25)
    assert canvas.to_image_xy(400, 200) == pytest.approx((800.0, 400.0))  # the point under the pointer stays
    canvas._handle_dom_event(event("mousedown", 400, 200, button=1))     # middle-button drag: pan
    canvas._handle_dom_event(event("mousemove", 350, 175))
    canvas._handle_dom_event(event("mouseup", 300, 150, button=1))             # the last moves were throttled
    assert seen == []                                  # view drags are not pointer events
    # the picture moved 100 and 50 canvas px left and up: 100 / 1.25 / 0.5 = 160 and 80 image px
    canvas._handle_dom_event(event("mousedown", 400, 200))
    (click,) = seen
    assert (click.x, click.y) == pytest.approx((960.0, 480.0)) and click.inside
    canvas._handle_dom_event(event("mousedown", 400, 200, altKey=True))  # alt + left drag pans too
    canvas._handle_dom_event(event("mousemove", 500, 200))
    canvas._handle_dom_event(event("mouseleave", 500, 200))
    assert len(seen) == 1 and canvas.to_image_xy(400, 200) == pytest.approx((800.0, 480.0))
    canvas._handle_dom_event({"type": "keydown", "key": "Escape"})
    assert canvas.view == canvas.display and canvas.zoom == 1.0
    canvas._handle_dom_event(event("mousedown", 400, 200))
    assert (seen[-1].x, seen[-1].y) == (800.0, 400.0)


def test_zoom_and_pan_limits():
    canvas = ImageCanvas(big_image())
    wheel(canvas, 10, 10, 100)                         # out of the whole view: nothing to do
    assert canvas.view == canvas.display
    canvas.pan_by(50, 50)                              # nothing to pan at zoom 1
    assert canvas.view == canvas.display
    for _ in range(40):
        wheel(canvas, 1024, 512, -100)
    assert canvas.max_zoom == 16 and canvas.zoom == pytest.approx(16)  # one image pixel on 8 canvas pixels
    assert canvas.view.box[2:] == pytest.approx((2048.0, 1024.0))      # zoomed on the corner under the pointer
    canvas.pan_by(-1e5, -1e5)                          # dragging past the edge stops at it
    assert canvas.view.box[2:] == pytest.approx((2048.0, 1024.0))
    canvas.pan_by(1e5, 1e5)
    assert canvas.view.box[:2] == pytest.approx((0.0, 0.0)) and canvas.zoom == pytest.approx(16)
    for _ in range(40):
        wheel(canvas, 500, 200, 100)
    assert canvas.view == canvas.display


def test_a_new_view_is_one_message_with_the_image_detail_and_transformed_layers(sent):
    from ipycanvas.canvas import COMMANDS
    from PIL import Image
    import io

    image = big_image()
    canvas = ImageCanvas(image)
    canvas.set_mask_overlay("mask", np.ones(image.shape[:2], bool))
    sent.clear()
    for _ in range(8):                                 # 1.25 ** 8 = 5.96: 2.98 canvas px per image px
        wheel(canvas, 0, 0, -100)
    assert len(sent) == 8                              # one message per step (a kernel's queue shares one)
    commands, buffers = sent[-1]
    pngs = [b for b in buffers if b.startswith(PNG)]
    assert len(pngs) == 2                              # the image layer resampled, the mask layer replayed
    shown = np.asarray(Image.open(io.BytesIO(pngs[0])))
    assert shown.shape == (512, 1024, 3)               # canvas size
    x0, y0 = canvas.view.box[:2]
    assert (x0, y0) == (0.0, 0.0)
    px = canvas.view.scale[0]                          # canvas pixels per image pixel, > 1: shown as blocks
    for cx, cy in ((0, 0), (100, 37), (1023, 511)):
        assert (shown[cy, cx] == image[int((cy + 0.5) / px), int((cx + 0.5) / px)]).all()
    zoom = canvas.zoom
    transforms = [args for code, args, *_ in commands if code == COMMANDS["setTransform"]]
    assert transforms and all(t == [zoom, 0, 0, zoom, 0.0, 0.0] for t in transforms)


def test_keys_reach_callbacks_and_escape_resets_the_view():
    canvas = ImageCanvas(big_image())
    keys = []
    canvas.on_key(keys.append)
    canvas.zoom_at(2, 0, 0)
    canvas._handle_dom_event({"type": "keydown", "key": "Z", "ctrlKey": True, "shiftKey": True})
    canvas._handle_dom_event({"type": "keydown", "key": "Escape"})
    assert [(k.key, k.ctrl, k.shift) for k in keys] == [("Z", True, True), ("Escape", False, False)]
    assert canvas.zoom == 1.0


def test_wheel_and_keys_are_watched_without_pixel_readback():
    canvas = ImageCanvas(np.zeros((10, 10, 3), np.uint8), move_throttle_ms=25)
    assert canvas._wheel_events.watched_events == ["wheel"] and canvas._wheel_events.prevent_default_action
    assert canvas._wheel_events.throttle_or_debounce == "throttle" and canvas._wheel_events.wait == 25
    assert canvas._key_events.watched_events == ["keydown"] and canvas._key_events.ignore_modifier_key_events
    assert not any(canvas.layer(name).sync_image_data for name in canvas.layer_names)


def test_wheel_turns_waiting_in_a_running_event_loop_share_one_redraw(sent):
    import asyncio

    canvas = ImageCanvas(big_image())
    sent.clear()

    async def kernel():
        loop = asyncio.get_running_loop()
        for _ in range(5):                             # five wheel events waiting in the kernel's queue
            loop.call_soon(wheel, canvas, 400, 200, -100)
        await asyncio.sleep(0.3)

    asyncio.run(kernel())
    assert canvas.zoom == pytest.approx(1.25**5) and len(sent) == 1


def test_click_markers_keep_their_screen_size_when_zoomed(sent):
    from ipycanvas.canvas import COMMANDS, Canvas

    canvas = ImageCanvas(big_image())
    canvas.zoom_at(4, 0, 0)
    sent.clear()
    canvas.draw_points([(10, 10, True)], radius=6)
    commands, _ = sent[-1]
    circles, line_width = (COMMANDS["fillCircles"], COMMANDS["strokeCircles"]), Canvas.ATTRS["line_width"]
    radii = [args[2] for code, args, *_ in commands if code in circles]
    widths = [args[1] for code, args, *_ in commands if code == COMMANDS["set"] and args[0] == line_width]
    assert radii == [1.5, 1.5] and widths == [0.25]    # 6 and 1 screen pixels under the 4x transform
