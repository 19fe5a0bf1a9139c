import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("ipycanvas")
from ipycanvas import canvas as ipycanvas_canvas  # noqa: E402

from segwidgets.graphcut import graph_cut  # noqa: E402
from segwidgets.widgets import IterationSlider  # noqa: E402
from tests.conftest import noisy_disc  # noqa: E402


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(
        ipycanvas_canvas._CANVAS_MANAGER, "_send_custom", lambda command, buffers=(): messages.append([bytes(b) for b in buffers])
    )
    return messages


@pytest.fixture
def trace():
    image, _ = noisy_disc(h=90, w=120, seed=2)
    return graph_cut(image, box=(25, 12, 95, 80), max_iterations=6, tolerance=0)


def decode(png):
    image = Image.open(io.BytesIO(png))
    return np.asarray(image.convert("RGBA"))


def test_each_step_shows_the_recorded_iteration(trace, sent):
    slider = IterationSlider(trace)
    assert slider.iteration == len(trace) and slider.slider.max == len(trace)
    for i in range(1, len(trace) + 1):
        sent.clear()
        slider.slider.value = i  # what dragging the slider does
        assert slider.iteration == i
        assert len(sent) == 1, "one batched message per step"
        pngs = [b for b in sent[0] if b.startswith(b"\x89PNG")]
        mask_layer, unary_layer = decode(pngs[0]), decode(pngs[1])
        state = trace[i - 1]
        # the mask layer is exactly this iteration: object, added (green), removed (red)
        shown_object = mask_layer[..., 3] > 0
        np.testing.assert_array_equal(shown_object, state.mask | state.removed)
        np.testing.assert_array_equal(mask_layer[..., 1] == 200, state.added)
        np.testing.assert_array_equal(mask_layer[..., 0] == 230, state.removed)
        # unary layer: blue (object cheaper) exactly where this iteration's unary is clearly negative
        u = state.unary
        clear = np.abs(u) > 0.2 * np.abs(u).max()
        blue = unary_layer[..., 2] > unary_layer[..., 0]
        np.testing.assert_array_equal(blue[clear], (u < 0)[clear])
        assert f"iteration {i}/{len(trace)}" in slider.status.value


def test_buttons_step_and_clamp(trace, sent):
    slider = IterationSlider(trace)
    slider.show(1)
    slider.previous_button.click()
    assert slider.iteration == 1
    slider.next_button.click()
    slider.next_button.click()
    assert slider.iteration == 3 and slider.slider.value == 3
    with pytest.raises(ValueError):
        slider.show(99)


def test_stepping_back_never_reruns_the_solver(trace, sent, monkeypatch):
    import segwidgets.graphcut.solver as solver

    slider = IterationSlider(trace)
    monkeypatch.setattr(solver._Problem, "iterate", lambda *a, **k: pytest.fail("the solver ran"))
    for i in (1, 4, 2, 6, 3):
        slider.show(i)


def test_run_one_more_appends_and_matches_a_longer_run(sent):
    image, _ = noisy_disc(h=90, w=120, seed=2)
    longer = graph_cut(image, box=(25, 12, 95, 80), max_iterations=6, tolerance=0)
    import dataclasses

    slider = IterationSlider(dataclasses.replace(longer, iterations=longer.iterations[:5]))
    slider.more_button.click()
    assert len(slider.trace) == 6 and slider.iteration == 6 and slider.slider.max == 6
    np.testing.assert_array_equal(slider.trace[-1].mask, longer[-1].mask)
    assert slider.trace[-1].energy == pytest.approx(longer[-1].energy, rel=1e-9)
    slider.more_button.click()
    assert len(slider.trace) == 7 and slider.trace[-1].energy <= slider.trace[-2].energy * (1 + 1e-9)


def test_rerun_with_new_parameters_keeps_the_previous_trace(trace, sent):
    slider = IterationSlider(trace)
    slider.gamma.value = 5.0
    slider.components.value = 3
    slider.rerun_button.click()
    assert slider.history == [trace]
    assert slider.trace.settings.gamma == 5.0 and slider.trace.settings.n_components == 3
    np.testing.assert_array_equal(slider.trace.initial_mask, trace.initial_mask)
    assert "run 1" in slider.comparison.value and "current" in slider.comparison.value


def test_failed_rerun_keeps_state_and_reports(trace, sent, monkeypatch):
    slider = IterationSlider(trace)
    import segwidgets.widgets.iteration_slider as module

    class Broken:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("solver exploded")

        @classmethod
        def resume(cls, trace):
            raise RuntimeError("solver exploded")

        @classmethod
        def restart(cls, trace, **changes):
            raise RuntimeError("solver exploded")

    monkeypatch.setattr(module, "GraphCutSolver", Broken)
    slider.rerun()
    assert slider.trace is trace and slider.history == []
    assert "solver exploded" in slider.status.value and "#b91c1c" in slider.status.value
    slider.run_one_more()
    assert slider.trace is trace and "solver exploded" in slider.status.value


def test_models_panel_and_energy_plot(trace, sent):
    slider = IterationSlider(trace)
    assert slider.models_view.value.count("background:rgb") == sum(
        int((m.weights > 0).sum()) for m in (trace[-1].foreground_model, trace[-1].background_model)
    )
    assert set(slider._marker_x) == set(range(1, len(trace) + 1))
    xs = [slider._marker_x[i] for i in range(1, len(trace) + 1)]
    assert xs == sorted(xs)


def test_bad_input():
    with pytest.raises(TypeError):
        IterationSlider("not a trace")
    image, _ = noisy_disc()
    trace = graph_cut(image, box=(20, 10, 80, 70), max_iterations=2)
    with pytest.raises(ValueError, match="does not match"):
        IterationSlider(trace, image=np.zeros((10, 10, 3), np.uint8))
