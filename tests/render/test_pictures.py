"""Pictures of traces and mattes: known answers on small inputs."""
import numpy as np
import pytest

from segwidgets.graphcut import graph_cut
from segwidgets.render import (
    CHANGE_PALETTE, change_labels, checkerboard, checkerboard_composite, model_swatches, model_swatches_html,
    overview_sheet, trace_panels, unary_limit,
)

from ..conftest import noisy_disc


@pytest.fixture(scope="module")
def traced():
    image, disc = noisy_disc(h=60, w=80, seed=3)
    return image, graph_cut(image, box=(15, 5, 65, 55), max_iterations=4, tolerance=0)


def test_checkerboard_and_matte_composite():
    board = checkerboard((4, 6), tile=2)
    assert board.shape == (4, 6, 3) and board[0, 0, 0] == 204 and board[0, 2, 0] == 153 and board[2, 2, 0] == 204
    red = np.zeros((4, 6, 3), np.uint8)
    red[..., 0] = 255
    alpha = np.zeros((4, 6), np.float32)
    alpha[:, :2] = 1.0
    alpha[:, 2:4] = 0.5
    out = checkerboard_composite(red, alpha, tile=2)
    np.testing.assert_array_equal(out[:, :2], red[:, :2])  # opaque: the foreground
    np.testing.assert_array_equal(out[:, 4:], board[:, 4:])  # transparent: the board
    assert out[0, 2, 0] == round(0.5 * 255 + 0.5 * 153) and out[0, 2, 1] == round(0.5 * 153)
    with pytest.raises(ValueError, match="does not fit"):
        checkerboard_composite(red, alpha[:3])


def test_change_labels_mark_what_each_iteration_did(traced):
    _, trace = traced
    for i in range(len(trace)):
        labels = change_labels(trace, i)
        added, removed = trace.changed_pixels(i)
        np.testing.assert_array_equal(labels == 2, added)
        np.testing.assert_array_equal(labels == 3, removed)
        np.testing.assert_array_equal(labels == 1, trace[i].mask & ~added)
    small = change_labels(trace, 1, size=(30, 40))  # display size: the pixel under each cell centre
    np.testing.assert_array_equal(small, change_labels(trace, 1)[1::2, 1::2])
    assert CHANGE_PALETTE.shape == (4, 4)


def test_trace_panels_and_sheet(traced):
    image, trace = traced
    panels = trace_panels(image, trace, box=(15, 5, 65, 55))
    iterations = [name for name in panels if name.startswith("04_iteration_")]
    assert len(iterations) == len(trace) and "05_unary_object_minus_background" in panels and "07_energy" in panels
    assert panels["00_input_box"][5, 40].tolist() == [255, 255, 0]  # the box is drawn in yellow
    sheet = overview_sheet(panels, tile=64, columns=4)
    assert sheet.shape == (-(-len(panels) // 4) * 80, 256, 3)
    limit = unary_limit(trace)
    assert limit == pytest.approx(float(np.percentile(np.abs(trace[-1].unary), 99)))


def test_model_swatches_bars_are_as_wide_as_the_weights(traced):
    _, trace = traced
    model = trace[-1].foreground_model
    swatch = model_swatches([model], width=100, height=5)
    heaviest = int(np.argmax(model.weights))
    bar = int(round(sorted(model.weights)[-1] * 100))
    np.testing.assert_array_equal(swatch[0, 0], np.clip(model.means[heaviest], 0, 255).astype(np.uint8))
    assert swatch.shape == (5, 100, 3) and (swatch[0, :bar] == swatch[0, 0]).all()
    html = model_swatches_html([("object <1>", model)])
    assert "object &lt;1&gt;" in html and html.count("<div title=") == int((model.weights > 0).sum())
