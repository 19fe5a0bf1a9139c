import itertools

import numpy as np
import pytest

from segwidgets.graphcut import (
    CutGraph, GraphCutSettings, GraphCutSolver, WarmMinCut, clean_mask, fill_holes, graph_cut, min_cut,
    remove_small_components,
)
from segwidgets.graphcut.pairwise import cut_cost, edge_validity
from segwidgets.graphcut.solver import _solve_groups
from tests.conftest import noisy_disc, two_regions

MODES = [pytest.param(True, id="multiscale"), pytest.param(False, id="full-resolution")]


def iou(a, b):
    return (a & b).sum() / max(1, (a | b).sum())


@pytest.mark.parametrize("multiscale", MODES)
def test_two_colored_regions_box_gives_exact_region(multiscale):
    image, left = two_regions()
    trace = graph_cut(image, box=(0, 0, 34, 40), multiscale=multiscale)
    np.testing.assert_array_equal(trace.final_mask, left)


@pytest.mark.parametrize("multiscale", MODES)
def test_noisy_disc(multiscale):
    image, disc = noisy_disc()
    trace = graph_cut(image, box=(20, 10, 80, 70), multiscale=multiscale)
    assert iou(trace.final_mask, disc) > 0.97


def thin_structure_scene():
    """A disc with a 2-pixel-wide tail (rows 30-31) whose colour is close to the background's.

    Its unary gain is too small to pay for the contrast term along its long
    edges, so a contrast-only cut drops it; a refinement map that marks the tail
    makes cutting along it free, so the boundary-aware cut keeps it.
    """
    rng = np.random.default_rng(3)
    h, w = 60, 120
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 30) ** 2 + (xx - 30) ** 2 <= 15**2
    tail = (yy >= 30) & (yy < 32) & (xx >= 44) & (xx < 110)
    obj = disc | tail
    image = np.where(obj[..., None], np.array([125.0, 100, 100]), np.array([100.0, 100, 100]))
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    from scipy import ndimage

    # Like R = P * B of a good network: high along the object's edges (the whole
    # thin tail is edge).
    edge = obj & ~ndimage.binary_erosion(obj)
    refinement = ndimage.binary_dilation(edge, iterations=1).astype(np.float32)
    return image, obj, tail, refinement


@pytest.mark.parametrize("multiscale", MODES)
def test_thin_structure_survives_only_with_refinement_map(multiscale):
    image, obj, tail, refinement = thin_structure_scene()
    box = (5, 5, 115, 55)
    contrast = graph_cut(image, box=box, pairwise="contrast", multiscale=multiscale).final_mask
    aware = graph_cut(image, box=box, refinement=refinement, pairwise="boundary", beta=1.0, multiscale=multiscale).final_mask
    assert contrast[tail].mean() < 0.3
    assert aware[tail].mean() > 0.9
    assert iou(aware, obj) > 0.9


def test_hard_constraints_hold_in_every_iteration():
    image, disc = noisy_disc()
    fg = np.zeros_like(disc)
    fg[5:8, 5:8] = True  # background pixels forced to object
    bg = np.zeros_like(disc)
    bg[38:42, 48:52] = True  # disc centre forced to background
    trace = graph_cut(image, mask=disc, fg_seeds=fg, bg_seeds=bg, max_iterations=6)
    for state in trace:
        assert state.mask[fg].all() and not state.mask[bg].any()


def test_trimap_definite_regions_are_fixed():
    image, disc = noisy_disc()
    trimap = np.full(disc.shape, 128, np.uint8)
    trimap[:5] = 0
    trimap[38:42, 48:52] = 255
    trace = graph_cut(image, trimap=trimap)
    assert trace.final_mask[trimap == 255].all() and not trace.final_mask[trimap == 0].any()
    assert iou(trace.final_mask, disc) > 0.95


def test_seeds_alone_segment_the_disc():
    image, disc = noisy_disc()
    fg = np.zeros_like(disc)
    fg[38:42, 48:52] = True
    bg = np.zeros_like(disc)
    bg[:3] = True
    trace = graph_cut(image, fg_seeds=fg, bg_seeds=bg)
    assert iou(trace.final_mask, disc) > 0.95


@pytest.mark.parametrize("multiscale", MODES)
@pytest.mark.parametrize("color_model", ["mixture", "component"])
@pytest.mark.parametrize("pairwise", ["contrast", "boundary", "combined"])
def test_energy_never_increases(multiscale, color_model, pairwise):
    from skimage import data

    image = data.astronaut()[::2, ::2]
    refinement = np.random.default_rng(0).random(image.shape[:2]).astype(np.float32)
    prior = np.random.default_rng(1).random(image.shape[:2]).astype(np.float32)
    trace = graph_cut(
        image, box=(60, 10, 215, 256), refinement=refinement, prior=prior, pairwise=pairwise,
        color_model=color_model, max_iterations=8, tolerance=0, multiscale=multiscale,
    )
    energies = trace.energies
    assert len(energies) == 8
    assert (np.diff(energies) <= 1e-6 * np.abs(energies[:-1])).all(), energies


@pytest.mark.parametrize("color_model", ["mixture", "component"])
def test_recorded_energy_matches_its_definition(color_model):
    image, disc = noisy_disc()
    trace = graph_cut(image, box=(20, 10, 80, 70), max_iterations=3, color_model=color_model)
    state = trace[-1]
    colors = image.reshape(-1, 3)
    u_fg = state.foreground_model.costs(colors, color_model).reshape(disc.shape)
    u_bg = state.background_model.costs(colors, color_model).reshape(disc.shape)
    unary = np.where(state.mask, u_fg, u_bg).sum()
    pairwise = trace.settings.gamma * cut_cost(state.mask, trace.pairwise_weights)
    assert state.unary_energy == pytest.approx(unary, rel=1e-4)
    assert state.pairwise_energy == pytest.approx(pairwise, rel=1e-6)


def test_group_cut_is_the_exact_minimum_over_its_move_set():
    rng = np.random.default_rng(7)
    for _ in range(60):
        h, w = rng.integers(3, 6, 2)
        current = rng.random((h, w)) < 0.5
        movable = rng.random((h, w)) < 0.6
        groups = rng.integers(0, 6, (h, w))
        u_bg, u_fg = rng.random((h, w)) * 3, rng.random((h, w)) * 3
        weights = rng.random((4, h, w)) * 2 * edge_validity(h, w)
        labels = _solve_groups(current, movable, groups, 6, u_bg, u_fg, weights, aggregate=True)
        best = np.inf
        ids = np.unique(groups[movable])
        for bits in itertools.product([False, True], repeat=len(ids)):
            trial = current.copy()
            lookup = np.zeros(6, bool)
            lookup[ids] = bits
            trial[movable] = lookup[groups[movable]]
            best = min(best, np.where(trial, u_fg, u_bg).sum() + cut_cost(trial, weights))
        result = current.copy()
        result[movable] = labels[groups[movable]]
        assert np.where(result, u_fg, u_bg).sum() + cut_cost(result, weights) == pytest.approx(best, abs=1e-9)


def test_callback_sees_every_iteration_and_can_stop():
    image, _ = noisy_disc()
    seen = []
    trace = graph_cut(image, box=(20, 10, 80, 70), max_iterations=6, tolerance=0, callback=seen.append)
    assert [s.index for s in seen] == [1, 2, 3, 4, 5, 6] and seen[-1] is trace[-1]
    stopped = graph_cut(image, box=(20, 10, 80, 70), max_iterations=6, tolerance=0, callback=lambda s: s.index < 2)
    assert len(stopped) == 2 and not stopped.converged


def test_converges_and_reports_changes():
    image, disc = two_regions()
    trace = graph_cut(image, box=(0, 0, 34, 40), max_iterations=20)
    assert trace.converged and len(trace) < 20
    for i, state in enumerate(trace):
        added, removed = trace.changed_pixels(i)
        assert added.sum() + removed.sum() == state.changed_pixels


def test_trace_table_and_maps():
    image, _ = noisy_disc()
    trace = graph_cut(image, box=(20, 10, 80, 70), max_iterations=3, tolerance=0)
    table = trace.to_table()
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    assert [r["iteration"] for r in rows] == [1, 2, 3]
    unary = trace.unary_map()
    assert unary.shape == image.shape[:2] and unary.dtype == np.float32
    disc_centre, corner = unary[40, 50], unary[2, 2]
    assert disc_centre < 0 < corner  # object cheaper on the disc, background in the corner
    pw = trace.pairwise_map()
    assert np.isnan(pw[0, 0]) and 0 <= np.nanmin(pw) and np.nanmax(pw) <= 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(box=(10, 10, 10, 30)), "zero area"),
        (dict(box=(200, 200, 300, 300)), "outside"),
        (dict(box=(-50, 0, -1, 10)), "outside"),
        (dict(box=(0, 0, 100, 80)), "no background pixels"),
        (dict(trimap=np.zeros((80, 100), np.uint8)), "every pixel is fixed to background"),
        (dict(trimap=np.full((80, 100), 128, np.uint8)), "no definite"),
        (dict(mask=np.zeros((80, 100), bool)), "no object pixels"),
        (dict(mask=np.zeros((10, 10), bool)), "shape"),
        (dict(box=(0, 0, 10, 10), mask=np.ones((80, 100), bool)), "only one of"),
        (dict(), "nothing to start from"),
        (dict(box=(10, 10, 50, 50), prior=np.ones((80, 100), np.float32) * 2), r"\[0, 1\]"),
        (dict(box=(10, 10, 50, 50), pairwise="boundary"), "refinement"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, message):
    image, _ = noisy_disc()
    with pytest.raises(ValueError, match=message):
        graph_cut(image, **kwargs)


def test_wrong_image_dtype_raises():
    image, _ = noisy_disc()
    with pytest.raises(ValueError, match="uint8"):
        graph_cut(image.astype(np.float32) / 255, box=(20, 10, 80, 70))


def test_all_pixels_fixed_with_both_labels_returns_constraints():
    image, disc = noisy_disc()
    trimap = np.where(disc, 255, 0).astype(np.uint8)
    trace = graph_cut(image, trimap=trimap)
    assert len(trace) == 0
    np.testing.assert_array_equal(trace.final_mask, disc)


def test_postprocessing():
    mask = np.zeros((20, 20), bool)
    mask[2:12, 2:12] = True
    mask[5:8, 5:8] = False  # a hole
    mask[15:17, 15:17] = True  # a 4-pixel speck
    assert fill_holes(mask)[6, 6] and not mask[6, 6]
    cleaned = remove_small_components(mask, min_pixels=10)
    assert not cleaned[15:17, 15:17].any() and cleaned[2, 2]
    assert clean_mask(mask, 10).sum() == 100
    only = remove_small_components(mask, min_pixels=1, keep_largest=True)
    assert only.sum() == mask[:12, :12].sum()


def test_resume_continues_exactly_where_the_run_stopped():
    import dataclasses

    from segwidgets.graphcut import GraphCutSolver

    image, _ = noisy_disc(seed=5)
    full = graph_cut(image, box=(20, 10, 80, 70), max_iterations=6, tolerance=0)
    cut_short = dataclasses.replace(full, iterations=full.iterations[:4])
    solver = GraphCutSolver.resume(cut_short)
    for expected in full.iterations[4:]:
        state = solver.step()
        assert state.index == expected.index and state.move_set == expected.move_set
        np.testing.assert_array_equal(state.mask, expected.mask)
        assert state.energy == pytest.approx(expected.energy, rel=1e-9)
    assert len(solver.trace()) == 6


def test_solver_runs_in_parts_and_states_expose_maps():
    from segwidgets.graphcut import GraphCutSolver

    image, disc = noisy_disc()
    solver = GraphCutSolver(image, box=(20, 10, 80, 70))
    first = solver.run(3, tolerance=0)
    more = solver.run(2, tolerance=0)
    assert len(first) == 3 and len(more) == 5 and more[4].move_set == "band"
    assert (np.diff(more.energies) <= 1e-6 * np.abs(more.energies[:-1])).all()
    state = more[1]
    np.testing.assert_allclose(state.unary, more.unary_map(1))
    assert state.pairwise_weights.shape == (4,) + disc.shape
    assert state.pairwise_map is more.pairwise_map()  # computed once
    assert (state.added | state.removed).sum() == state.changed_pixels
    with pytest.raises(ValueError, match="move must be one of"):
        solver.step("sideways")


def test_empty_components_never_make_nan_costs():
    # Two flat colours and 5 components per model: most components stay empty.
    image, left = two_regions(h=64, w=96)
    trace = graph_cut(image, box=(0, 0, 50, 64), n_components=5, max_iterations=4, tolerance=0)
    assert any((s.foreground_model.weights == 0).any() for s in trace)
    assert np.isfinite(trace.energies).all()
    assert np.isfinite(trace.unary_map()).all()
    np.testing.assert_array_equal(trace.final_mask, left)


@pytest.mark.parametrize("first", ["coarse", "superpixels", "all"])
def test_every_exact_move_keeps_the_energy_from_rising(first):
    from skimage import data

    from segwidgets.graphcut import GraphCutSolver

    image = data.astronaut()[::2, ::2]
    solver = GraphCutSolver(image, box=(60, 10, 215, 256))
    solver.step(first)
    for move in ("hybrid", "superpixels", "band", "all", "hybrid", "band"):
        before = solver.states[-1].energy
        state = solver.step(move)
        assert state.move_set == move
        assert state.energy <= before + 1e-6 * abs(before), (move, before, state.energy)


def test_restart_changes_settings_but_keeps_the_start():
    from segwidgets.graphcut import GraphCutSolver

    image, _ = noisy_disc()
    trace = graph_cut(image, box=(20, 10, 80, 70), max_iterations=3)
    again = GraphCutSolver.restart(trace, gamma=5.0).run(3)
    assert again.settings.gamma == 5.0 and again.settings.n_components == trace.settings.n_components
    np.testing.assert_array_equal(again.initial_mask, trace.initial_mask)
    np.testing.assert_array_equal(again.fixed_background, trace.fixed_background)
    with pytest.raises(TypeError, match="unknown graph-cut settings \\['gama'\\]"):
        GraphCutSolver.restart(trace, gama=5.0)
    edited = GraphCutSolver.restart(trace, settings=trace.settings.replace(beta=3.0, n_components=2)).run()
    assert edited.settings.beta == 3.0 and edited.settings.n_components == 2 and edited.settings.gamma == 50.0


def test_settings_are_one_validated_object():
    from segwidgets.graphcut import GraphCutSettings

    image, _ = noisy_disc()
    settings = GraphCutSettings(gamma=20.0, max_iterations=2)
    trace = graph_cut(image, box=(20, 10, 80, 70), settings=settings)
    assert trace.settings == settings.replace(pairwise="contrast")  # the automatic kind, resolved
    assert len(trace) <= 2
    shorthand = graph_cut(image, box=(20, 10, 80, 70), gamma=20.0, max_iterations=2)
    np.testing.assert_array_equal(shorthand.final_mask, trace.final_mask)
    assert trace.settings.to_dict()["gamma"] == 20.0
    assert GraphCutSettings(gamma=10, max_iterations=3.0) == GraphCutSettings(gamma=10.0, max_iterations=3)
    assert isinstance(GraphCutSettings(gamma=10).gamma, float)
    for bad in ({"gamma": -1}, {"n_components": 0}, {"prior_weight": 1.5}, {"pairwise": "sharp"},
                {"color_model": "neural"}, {"max_iterations": 1.5}):
        with pytest.raises(ValueError, match="invalid graph-cut settings"):
            GraphCutSettings(**bad)
    with pytest.raises(TypeError, match="unknown graph-cut settings"):
        graph_cut(image, box=(20, 10, 80, 70), gammma=3)
    with pytest.raises(ValueError, match="needs a refinement map"):
        graph_cut(image, box=(20, 10, 80, 70), pairwise="boundary")


@pytest.mark.parametrize("with_prior", [False, True])
def test_display_size_unary_map_is_the_full_map_at_the_pixel_under_each_cell(with_prior):
    image, disc = noisy_disc(h=80, w=100)
    prior = np.where(disc, 0.8, 0.2).astype(np.float32) if with_prior else None
    trace = graph_cut(image, box=(20, 10, 80, 70), prior=prior, max_iterations=3)
    for i in range(len(trace)):
        np.testing.assert_allclose(trace.unary_map(i, size=(40, 50)), trace.unary_map(i)[1::2, 1::2], atol=1e-4)


def _random_graph(rng, n=300, degree=3):
    first = rng.integers(0, n, n * degree)
    second = (first + rng.integers(1, n, n * degree)) % n
    return CutGraph(n, first, second, rng.uniform(0, 2, n * degree), rng.uniform(0, 5, n), rng.uniform(0, 5, n))


def _cut_energy(graph, labels):
    unary = np.where(labels, graph.sink, graph.source).sum()
    return unary + graph.capacities[labels[graph.first] != labels[graph.second]].sum()


def test_min_cut_is_the_least_energy_labelling_of_a_small_graph():
    """Brute force over all 2^8 labellings of an 8-node graph."""
    rng = np.random.default_rng(3)
    graph = _random_graph(rng, n=8, degree=2)
    best = min(_cut_energy(graph, np.array([(k >> i) & 1 for i in range(8)], bool)) for k in range(256))
    assert _cut_energy(graph, min_cut(graph)) == pytest.approx(best, rel=1e-9)


def test_warm_min_cut_matches_a_fresh_cut_when_terminals_change():
    """Warm-started cuts (terminal capacities raised and lowered, even below the old
    values) give a cut of the same energy as a fresh max-flow, iteration after iteration."""
    rng = np.random.default_rng(0)
    graph = _random_graph(rng)
    warm = WarmMinCut()
    for _ in range(6):
        labels = warm.solve(graph)
        assert _cut_energy(graph, labels) == pytest.approx(_cut_energy(graph, min_cut(graph)), rel=1e-9, abs=1e-9)
        graph = graph._replace(source=np.maximum(0, graph.source + rng.normal(0, 1.5, graph.n_nodes)),
                               sink=np.maximum(0, graph.sink + rng.normal(0, 1.5, graph.n_nodes)))
    with pytest.raises(ValueError, match="edges changed"):
        warm.solve(graph._replace(capacities=graph.capacities * 2))


def test_exact_mode_warm_starts_and_keeps_each_cut_exact():
    """multiscale=False: every iteration's labelling is the exact minimum of its graph
    (checked against a fresh max-flow of the graph the solver recorded)."""
    image, _ = noisy_disc()
    box = (20, 10, 80, 70)
    solver = GraphCutSolver(image, box=box, settings=GraphCutSettings(multiscale=False, max_iterations=4, tolerance=0))
    assert solver.last_graph is None
    r0, r1, c0, c1 = solver.trace().region
    for _ in range(4):
        state = solver.step()
        graph = solver.last_graph
        free = solver.initialisation.free[r0:r1, c0:c1]
        labels = state.mask[r0:r1, c0:c1][free]
        assert graph.n_nodes == free.sum()
        assert _cut_energy(graph, labels) == pytest.approx(_cut_energy(graph, min_cut(graph)), rel=1e-9)


def test_large_images_iterate_at_a_working_resolution_then_cut_the_edge_band_at_full_resolution():
    """Over ``max_pixels``: the iterations run on pixel blocks (``trace.working_trace``), then one
    exact full-resolution cut in a band along the edge; the mask agrees with a plain full-resolution
    run (IoU >= 0.98) and the box still fixes the outside."""
    image, disc = noisy_disc(h=300, w=360, radius=100, noise=10.0)
    box = (40, 30, 320, 270)
    plain = graph_cut(image, box=box, max_iterations=4, max_pixels=None)
    assert plain.working_trace is None and plain.working_scale == 1
    trace = graph_cut(image, box=box, max_iterations=4, max_pixels=30_000)
    assert trace.working_scale == 2 and trace.working_trace.final_mask.shape == (150, 180)
    assert len(trace.working_trace.iterations) == 4 and len(trace.iterations) == 1
    assert trace.final_mask.shape == disc.shape and trace.settings.max_pixels == 30_000
    band = ~(trace.fixed_foreground | trace.fixed_background)
    assert 0 < band.mean() < 0.2  # only a band along the edge was free at full resolution
    outside = np.ones_like(disc)
    outside[30:270, 40:320] = False
    assert not trace.final_mask[outside].any()
    assert iou(trace.final_mask, plain.final_mask) >= 0.98 and iou(trace.final_mask, disc) >= 0.97


def test_max_pixels_must_be_a_positive_whole_number_or_none():
    assert GraphCutSettings(max_pixels=None).max_pixels is None
    assert GraphCutSettings(max_pixels=2e6).max_pixels == 2_000_000
    for bad in (0, -5, 1.5):
        with pytest.raises(ValueError, match="max_pixels"):
            GraphCutSettings(max_pixels=bad)


def test_given_superpixels_are_the_partition_the_superpixel_moves_use():
    from skimage import data

    from segwidgets.graphcut import GraphCutSolver, edge_superpixels
    from segwidgets.graphcut.solver import _dense_ids

    np.testing.assert_array_equal(_dense_ids(np.array([[7, 7, 3], [9, 3, 3]])), [[1, 1, 0], [2, 0, 0]])
    image = data.astronaut()[::2, ::2]
    h, w = image.shape[:2]
    blocks = (np.arange(h)[:, None] // 5) * 1000 + np.arange(w)[None, :] // 5  # 5x5 blocks, sparse ids
    solver = GraphCutSolver(image, box=(60, 10, 215, 256), superpixels=blocks)
    solver.step("coarse")
    for move in ("superpixels", "hybrid", "band"):
        before = solver.states[-1].energy
        assert solver.step(move).energy <= before + 1e-6 * abs(before)
    r0, r1, c0, c1 = solver._problem.region
    used = solver._problem.superpixels[r0:r1, c0:c1]
    np.testing.assert_array_equal(used, _dense_ids(blocks[r0:r1, c0:c1]))
    # A whole image's superpixels cropped to a window serve that window's cut.
    window = graph_cut(image[:, 40:], box=(20, 10, 175, 256), superpixels=edge_superpixels(image)[:, 40:],
                       max_iterations=3)
    assert np.isfinite(window.energies).all()
    with pytest.raises(ValueError, match="superpixels must be"):
        GraphCutSolver(image, box=(60, 10, 215, 256), superpixels=blocks[:-1])
    with pytest.raises(ValueError, match="superpixels must be"):
        GraphCutSolver(image, box=(60, 10, 215, 256), superpixels=blocks - 1)
