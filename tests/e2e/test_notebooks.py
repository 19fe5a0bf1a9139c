"""Every notebook in real JupyterLab and headless Chromium, and its widgets driven with real pointer events.

Each notebook is opened, run top to bottom ("Run all"), and must show no error output and log no browser
console error. Notebooks with a widget then drive it with the mouse and keyboard (Playwright's real input
events on the widget's canvas), reading the widget's state back through the notebook's kernel:

- 01 quickstart: a right click on the ``ImageCanvas`` reaches Python in image pixels;
- 03 graph-cut debugging: the ``IterationSlider``'s handle is dragged and moved with the arrow keys;
  the iteration shown (kernel and page) follows;
- 04 click segmentation: a left click on the ``ClickSegmenter`` makes a mask, a second one adds the clicked
  object, Ctrl+Z undoes it, a right click takes its pixel out;
- 05 matting: a brush stroke on the ``TrimapPainter`` paints the trimap under it;
- 06 query finder: a box dragged on the ``QueryFinder``'s source becomes the query box and is searched.

Screenshots of each step: ``out/e2e/`` (git-ignored).
"""
from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from ._lab import TOKEN, CanvasBox, wait_until

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
#: Seconds a widget's reaction (prediction, search, redraw) may take on a busy 2-core CI machine.
REACTION_S = 60


def _wait_state(nb, expression: str, condition, what: str, timeout: float = REACTION_S):
    """Poll ``expression`` in the kernel until ``condition(value)`` holds; returns the value."""
    last = {}

    def check():
        last["value"] = nb.kernel_value(expression)
        return condition(last["value"])

    try:
        wait_until(check, timeout, what, interval=0.2)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; last {expression} = {last.get('value')!r}") from None
    return last["value"]


# -- drivers: one per notebook with a widget ---------------------------------------------------------
def drive_quickstart(lab, nb, shot):
    """A right click on the canvas reaches Python in image coordinates (the sample is shown 1:1)."""
    output = nb.output("canvas = ImageCanvas(image")
    at = CanvasBox(output.locator("canvas").first, nb.kernel_value("canvas.display_scale"))
    lab.page.mouse.click(*at.hover(lab.page, 100, 50), button="right")
    text = _wait_state(nb, "canvas.status_text", lambda t: "right click at" in t, "the click in the status line")
    # ipyevents reports whole CSS pixels (rounded), so a click at a pixel's centre lands within 1 px of it
    x, y = map(float, re.fullmatch(r"right click at x=([0-9.]+), y=([0-9.]+)", text).groups())
    assert abs(x - 100.5) <= 1 and abs(y - 50.5) <= 1, text
    assert text in output.inner_text()  # and the page shows it
    shot("01_quickstart_right_click", output)


def drive_iteration_slider(lab, nb, shot):
    """Drag the slider's handle to the start, then step with the arrow key: iteration 1, then 2."""
    last = nb.kernel_value("len(slider.trace)")
    assert nb.kernel_value("slider.iteration") == last  # where the notebook left it
    output = nb.output("slider = IterationSlider(cat_trace")
    handle = output.locator(".widget-hslider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    track = output.locator(".widget-hslider .noUi-base").first.bounding_box()
    box = handle.bounding_box()
    page = lab.page
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] - 20, box["y"] + box["height"] / 2, steps=8)  # past the left end
    page.mouse.up()
    _wait_state(nb, "slider.iteration", lambda i: i == 1, "the slider drag to reach iteration 1")
    readout = output.locator(".widget-hslider .widget-readout").first
    wait_until(lambda: readout.inner_text().strip() == "1", 10, "the slider's readout to show 1")
    status = f"iteration 1/{last} "
    wait_until(lambda: status in output.inner_text(), 10, f"the page to show {status!r}")
    shot("03_slider_dragged_to_1", output)
    handle.focus()
    page.keyboard.press("ArrowRight")
    _wait_state(nb, "slider.iteration", lambda i: i == 2, "the arrow key to reach iteration 2")
    assert nb.kernel_value("slider.slider.value") == 2
    wait_until(lambda: readout.inner_text().strip() == "2", 10, "the slider's readout to show 2")
    wait_until(lambda: f"iteration 2/{last} " in output.inner_text(), 10, "the page to show iteration 2")
    shot("03_slider_arrow_right_2", output)


def drive_click_segmenter(lab, nb, shot):
    """From no clicks: a left click on the astronaut makes a mask, a second one on the helmet outside it
    adds that, Ctrl+Z restores the first mask, and a right click inside the mask makes that pixel background."""
    # the third entry: clicks waiting, plus one while the quick answer waits for the detailed one
    state = ("[int(seg.mask.sum()), [(c.x, c.y, c.positive) for c in seg.clicks], "
             "len(seg.pending) + seg.controller.detail_pending]")
    nb.kernel("seg.reset()")
    assert nb.kernel_value(state) == [0, [], 0]
    output = nb.output("seg = ClickSegmenter(image)")
    canvas = output.locator("canvas").first
    at = CanvasBox(canvas, nb.kernel_value("seg.canvas.display_scale"))
    shot("04_click_0_reset", output)
    page = lab.page

    page.mouse.click(*at.hover(page, 270, 200))  # on the astronaut
    area1, clicks, _ = _wait_state(nb, state, lambda s: len(s[1]) == 1 and s[2] == 0, "the first click's mask")
    assert area1 > 1000, area1
    x, y, positive = clicks[0]
    assert positive and abs(x - 270.5) <= 1 and abs(y - 200.5) <= 1, clicks
    wait_until(lambda: f"1 click(s); {area1} px" in output.inner_text(), 10, "the status line to show the mask")
    shot("04_click_1_positive", output)

    # a second object click on the helmet held at the right, outside the first mask: the mask takes it in
    px, py = 450, 440
    assert not nb.kernel_value(f"bool(seg.mask[{py}, {px}])")
    page.mouse.click(*at.hover(page, px, py))
    area2, clicks, _ = _wait_state(nb, state, lambda s: len(s[1]) == 2 and s[2] == 0, "the second click's mask")
    x, y, positive = clicks[1]
    assert positive and abs(x - px - 0.5) <= 1 and abs(y - py - 0.5) <= 1, clicks
    assert area2 > area1 and nb.kernel_value(f"bool(seg.mask[{py}, {px}])"), (area1, area2)
    wait_until(lambda: f"2 click(s); {area2} px" in output.inner_text(), 10, "the status line to show the mask")
    shot("04_click_2_second_positive", output)

    # Ctrl+Z reaches the widget while the pointer is over the canvas (ipyevents gives it the keyboard then)
    at.hover(page, 256, 256)
    page.keyboard.press("Control+z")
    area3, clicks, _ = _wait_state(nb, state, lambda s: len(s[1]) == 1, "Ctrl+Z to undo the right click")
    assert area3 == area1
    wait_until(lambda: "undo: 1 click(s)" in output.inner_text(), 10, "the status line to say undo")
    shot("04_click_3_ctrl_z", output)

    # a background click on the helmet ring (in the first mask): that pixel leaves the mask
    nx, ny = 200, 230
    assert nb.kernel_value(f"bool(seg.mask[{ny}, {nx}])")
    page.mouse.click(*at.hover(page, nx, ny), button="right")
    area4, clicks, _ = _wait_state(nb, state, lambda s: len(s[1]) == 2 and s[2] == 0, "the right click's mask")
    x, y, positive = clicks[1]
    assert not positive and abs(x - nx - 0.5) <= 1 and abs(y - ny - 0.5) <= 1, clicks
    assert area4 != area1 and not nb.kernel_value(f"bool(seg.mask[{ny}, {nx}])"), (area1, area4)
    shot("04_click_4_negative", output)


def drive_trimap_painter(lab, nb, shot):
    """A left-button stroke with the foreground brush paints 255 under it (background before)."""
    points = [(400, 160), (410, 190), (420, 220), (430, 250), (440, 280)]  # image pixels, right of the cat
    probe = f"[int(painter.trimap[y, x]) for x, y in {points}]"
    far = "int(painter.trimap[40, 440])"  # 120 px from the stroke; the brush radius is 10 px
    before, far_before = nb.kernel_value(probe), nb.kernel_value(far)
    assert all(v == 0 for v in before), f"the stroke should start on known background: {before}"
    assert nb.kernel_value("painter.brush.value") == 255
    output = nb.output("painter = TrimapPainter(image)")
    at = CanvasBox(output.locator("canvas").first, nb.kernel_value("painter.canvas.display_scale"))
    shot("05_trimap_0_before", output)
    page = lab.page
    at.hover(page, *points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*at(*point), steps=4)
    page.mouse.up()
    after = _wait_state(nb, probe, lambda v: v != before, "the stroke to change the trimap")
    assert after == [255] * len(points), after
    assert nb.kernel_value(far) == far_before  # only under the brush
    shot("05_trimap_1_stroke", output)


def drive_query_finder(lab, nb, shot):
    """A box dragged on the source becomes the query box (image pixels) and the targets are searched."""
    before = nb.kernel_value("[list(finder.query_box), id(finder.results)]")
    assert tuple(before[0]) == (120, 50, 350, 280)
    output = nb.output("finder = QueryFinder(source")
    at = CanvasBox(output.locator("canvas").first, nb.kernel_value("finder.canvas.display_scale"))
    shot("06_query_0_before", output)
    page = lab.page
    start, end = (100, 40), (330, 260)
    at.hover(page, *start)
    page.mouse.down()
    page.mouse.move(*at(*end), steps=10)
    page.mouse.up()
    box = _wait_state(nb, "finder.query_box", lambda b: b is not None and list(b) != before[0],
                      "the dragged box to become the query box")
    assert all(abs(got - want) <= 2 for got, want in zip(box, (*start, *end))), box
    nb.wait_idle(REACTION_S)
    searched = nb.kernel_value(
        "[id(finder.results) != " + str(before[1]) + ", len(finder.results), "
        "[len(b) for b in finder.boxes], list(finder.query.shape), finder.status_text]")
    changed, n_results, n_boxes, query_shape, status = searched
    assert changed and n_results == 2 and all(n > 0 for n in n_boxes), searched
    assert query_shape[:2] == [box[3] - box[1], box[2] - box[0]], (query_shape, box)
    assert "failed" not in status, status
    shot("06_query_1_box_dragged", output)


DRIVERS = {
    "01_quickstart": drive_quickstart,
    "03_graph_cut_debugging": drive_iteration_slider,
    "04_click_segmentation": drive_click_segmenter,
    "05_matting": drive_trimap_painter,
    "06_query_finder": drive_query_finder,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_the_browser(lab, shot, name):
    """Run all cells: no error output, no console error; then drive the notebook's widget, if any."""
    errors_before = len(lab.console_errors)
    nb = lab.open(f"notebooks/{name}.ipynb")
    try:
        ran = nb.run_all(timeout=300)
        shot(name)
        problems = nb.problems()
        assert not problems, "\n".join(problems)
        assert ran, "Run all stopped early"
        assert lab.console_errors[errors_before:] == [], "browser console errors while running the notebook"
        if name in DRIVERS:
            DRIVERS[name](lab, nb, shot)
            assert not nb.problems()
            assert lab.console_errors[errors_before:] == [], "browser console errors while driving the widget"
    finally:
        nb.close()


def test_every_notebook_has_a_browser_run():
    """The list above comes from notebooks/; the drivers name real notebooks."""
    assert len(NOTEBOOKS) >= 8
    assert set(DRIVERS) <= set(NOTEBOOKS)


@pytest.mark.slow
def test_kernels_are_binder_forking_kernels_when_installed(lab):
    """With binder/kernel installed (the README's test command), this server's kernels, and so the
    notebooks above, are forked by Binder's kernel: a kernel started here says so in the server's log."""
    pytest.importorskip("segwidgets_binder_kernel", reason="binder/kernel not installed: plain kernels")

    def call(method: str, path: str) -> bytes:
        request = urllib.request.Request(f"{lab.base}{path}?token={TOKEN}", method=method,
                                         data=b"{}" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.read()

    kernel_id = json.loads(call("POST", "/api/kernels"))["id"]
    try:
        wait_until(lambda: f"kernel {kernel_id} forked from the fork server" in lab.log.read_text(), 60,
                   "the server to log the forked kernel")
        assert f"starting kernel {kernel_id} as a new process" not in lab.log.read_text()
    finally:
        call("DELETE", f"/api/kernels/{kernel_id}")
