"""The view base, driven from Python by feeding the DOM events the browser would send."""
import io

import numpy as np
import pytest
from PIL import Image

ipycanvas = pytest.importorskip("ipycanvas")
from ipycanvas import canvas as ipycanvas_canvas  # noqa: E402

from segwidgets.core.annotations import Annotations  # noqa: E402
from segwidgets.widgets._ipycanvas import draw_png  # noqa: E402
from segwidgets.widgets.base import ImageView, MapView  # noqa: E402
from segwidgets.render import encode_png  # noqa: E402

from .test_canvas import event  # noqa: E402


class Recorder(ImageView):
    """An ImageView that records what its hooks receive."""

    def __init__(self, image, **kwargs):
        self.seen = []
        super().__init__(image, **kwargs)

    def on_click(self, x, y, positive):
        self.seen.append(("click", x, y, positive))

    def on_stroke(self, stroke):
        self.seen.append(("stroke", stroke))

    def on_box(self, box):
        self.seen.append(("box", box))


def image(h=100, w=200):
    return np.random.default_rng(0).integers(0, 256, (h, w, 3)).astype(np.uint8)


def feed(view, kind, x, y, button=0, **keys):
    """A DOM event at canvas pixel (x, y) of a view shown at its display size."""
    h, w = view.canvas.display_size
    view.canvas._handle_dom_event(event(kind, x, y, button=button, width=w, height=h, **keys))


def test_brush_stroke_drag_in_image_coordinates_with_a_preview(sent):
    view = Recorder(image(400, 800), interaction="stroke", brush_radius=8, max_display_size=400)  # display at 1/2
    feed(view, "mousedown", 10, 20)
    feed(view, "mousemove", 30, 20)
    assert view._stroke is not None and view.canvas._marks.get("preview") is not None  # previewed while dragging
    feed(view, "mousemove", 50, 40)
    feed(view, "mouseup", 60, 40)
    (kind, stroke), = view.seen
    assert kind == "stroke" and stroke.radius == 8 and stroke.value == 255
    assert stroke.points == ((20.0, 40.0), (60.0, 40.0), (100.0, 80.0), (120.0, 80.0))
    assert "preview" not in view.canvas._marks
    feed(view, "mousedown", 100, 100, button=2)  # right button paints background
    feed(view, "mousemove", 500, 100)  # off the canvas: clamped to the image edge
    feed(view, "mouseleave", 500, 100)  # leaving ends the stroke
    stroke = view.seen[-1][1]
    assert stroke.value == 0 and stroke.points[-1][0] < 800 and len(stroke.points) == 2
    feed(view, "mousemove", 50, 50)
    assert len(view.seen) == 2  # moves without a pressed button paint nothing


def test_box_drag_any_direction_clipped_and_too_small_ignored(sent):
    view = Recorder(image(), interaction="box")
    feed(view, "mousedown", 150, 80)
    feed(view, "mousemove", 120, 40)
    assert view.canvas._marks.get("preview") is not None  # rubber band
    feed(view, "mouseup", 40, -20)
    assert view.seen == [("box", (40.0, 0.0, 150.0, 80.0))]
    feed(view, "mousedown", 10, 10)
    feed(view, "mouseup", 11, 12)
    assert len(view.seen) == 1 and "too small" in view.status.value
    feed(view, "mousedown", 250, 10)  # starts off the image
    assert "start on the image" in view.status.value


def test_clicks_and_outside_clicks(sent):
    view = Recorder(image(), interaction="click")
    feed(view, "mousedown", 10, 20)
    feed(view, "mousedown", 10, 20, button=2)
    feed(view, "mousedown", 10, 20, shiftKey=True)
    feed(view, "mousedown", 300, 20)
    assert [s[3] for s in view.seen] == [True, False, False] and "outside" in view.status.value


def test_a_second_view_is_redrawn_when_its_front_end_is_ready(sent):
    view = Recorder(image(), views={"probability": MapView("probability")})
    view.result = type("Result", (), {"probability": np.linspace(0, 1, 200 * 100, dtype=np.float32).reshape(100, 200)})()
    view.draw()
    view.canvas.draw_points([(10, 10, True)])
    sent.clear()
    ready = view.canvas.canvas._canvases[-1]
    ready._handle_frontend_event(None, {"event": "client_ready"}, [])  # what a new view's front end sends
    assert len(sent) == 1, "one batched redraw"
    pngs = [b for b in sent[0][1] if b.startswith(b"\x89PNG")]
    assert len(pngs) == 2  # the image and the map overlay, as PNG
    shown = np.asarray(Image.open(io.BytesIO(pngs[0])))
    assert shown.shape == (100, 200, 4)
    commands = [c[0] for c in sent[0][0] if isinstance(c, list) and c]
    assert ipycanvas_canvas.COMMANDS["fillCircles"] in commands  # the click marks are drawn again too


def test_attempt_keeps_state_and_says_why(sent):
    view = Recorder(image())
    state = {"value": 1}

    def fails():
        raise RuntimeError("model exploded")

    assert view.attempt("segment", fails) is False
    assert "segment failed: RuntimeError: model exploded" in view.status.value and "b91c1c" in view.status.value
    assert view.attempt("segment", lambda: state.update(value=2)) and state["value"] == 2


def test_save_and_load_go_through_the_annotation_hooks(tmp_path, sent):
    class Boxes(Recorder):
        boxes = ()

        def annotations(self):
            return Annotations(boxes=self.boxes)

        def restore(self, annotations):
            self.boxes = annotations.boxes

    view = Boxes(image())
    view.boxes = ((1.0, 2.0, 30.0, 40.0),)
    path = view.save(tmp_path / "edits")
    other = Boxes(image())
    other.load(path)
    assert other.boxes == view.boxes and "loaded" in other.status.value
    stranger = Boxes(image(50, 60))
    with pytest.raises(ValueError, match="another image"):
        stranger.load(path)
    assert stranger.boxes == () and "not loaded" in stranger.status.value


def test_the_ipycanvas_adapter_sends_what_put_image_data_sends(sent):
    """The private draw call wrapped in ``_ipycanvas``: same command as ipycanvas' own put_image_data."""
    layer = ipycanvas.Canvas(width=4, height=3)
    rgba = np.zeros((3, 4, 4), np.uint8)
    layer.put_image_data(rgba)
    theirs = sent[-1]
    png = encode_png(rgba)
    draw_png(layer, png)
    ours = sent[-1]
    assert ours[0] == theirs[0]  # same command and arguments
    assert ours[1] == [png] and theirs[1][0].startswith(b"\x89PNG")  # one buffer: our bytes, unchanged


def test_ctrl_z_and_ctrl_shift_z_call_undo_and_redo_where_a_view_has_them():
    class Editing(Recorder):
        def undo(self):
            self.seen.append("undo")

        def redo(self):
            self.seen.append("redo")

    def key(view, key, **modifiers):
        view.canvas._handle_dom_event({"type": "keydown", "key": key, **modifiers})

    view = Editing(image())
    key(view, "z", ctrlKey=True)
    key(view, "Z", ctrlKey=True, shiftKey=True)
    key(view, "z", metaKey=True)
    key(view, "y", ctrlKey=True)
    assert view.seen == ["undo", "redo", "undo"]
    plain = Recorder(image())                          # no undo: the keys do nothing
    key(plain, "z", ctrlKey=True)
    assert plain.seen == []


def test_a_stroke_on_a_zoomed_view_is_in_image_pixels(sent):
    view = Recorder(image(400, 800), interaction="stroke", max_display_size=400)  # display at 1/2
    view.canvas.zoom_at(2, 0, 0)                       # from 1/2 to 1 canvas px per image px
    feed(view, "mousedown", 10, 20)
    feed(view, "mouseup", 30, 20)
    assert view.seen[-1][1].points == ((10.0, 20.0), (30.0, 20.0))
