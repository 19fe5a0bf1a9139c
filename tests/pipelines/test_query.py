"""find_query with a random-weight network: shapes, the cache, box reading and bad input."""
import numpy as np
import pytest
from skimage import data
from skimage.transform import resize

from segwidgets.core.image import image_hash
from segwidgets.pipelines.query import (
    SCALES, STRIDE, QueryResult, scaled_sizes, box_iou, cut_query, find_query, grid_boxes, highlight, working_shape,
)


@pytest.fixture(scope="module")
def scene():
    return (resize(data.astronaut(), (180, 240), anti_aliasing=True) * 255).astype(np.uint8)


def test_result_fields_shapes_and_ranges(scene, untrained_query_engine):
    result = find_query(scene, scene, query_box=(100, 40, 140, 80), engine=untrained_query_engine, top_k=3)
    assert isinstance(result, QueryResult)
    assert result.heatmap.shape == (180, 240) and result.heatmap.dtype == np.float32
    assert 0 <= result.heatmap.min() and result.heatmap.max() <= 1
    assert result.scale_heatmaps.shape == (len(SCALES), 180, 240) and result.scales == SCALES
    assert result.scale_heatmap(0).shape == (180, 240)
    assert 1 <= len(result.boxes) <= 3 and result.boxes.dtype.kind == "i"
    assert result.scores.shape == result.box_scales.shape == (len(result.boxes),)
    x0, y0, x1, y1 = result.boxes.T
    assert (x0 >= 0).all() and (y0 >= 0).all() and (x1 <= 240).all() and (y1 <= 180).all() and (x1 > x0).all()
    assert result.highlight.shape == scene.shape and result.highlight.dtype == np.uint8
    assert result.query.shape == (40, 40, 3) and result.query_sizes.shape == (len(SCALES), 2)
    assert result.mask(0.5).dtype == bool


@pytest.fixture(scope="module")
def shipped_engine():
    from segwidgets.core.engine import Engine
    from segwidgets.core.weights import resolve_weights_path

    if not resolve_weights_path("query.safetensors").exists():
        pytest.skip("segwidgets/weights/query.safetensors is missing (train it: python -m segwidgets.train query)")
    return Engine("cpu")


@pytest.mark.parametrize("box", [(100, 40, 148, 88), (20, 100, 84, 164), (150, 10, 214, 60)])
def test_the_shipped_finder_finds_a_query_cut_from_the_image_itself(scene, shipped_engine, box):
    result = find_query(scene, scene, query_box=box, engine=shipped_engine)
    unit = SCALES.index(1.0)
    assert tuple(result.query_sizes[unit]) == (box[3] - box[1], box[2] - box[0])  # its own size at scale 1
    y, x = np.unravel_index(result.scale_heatmaps[unit].argmax(), result.scale_heatmaps[unit].shape)
    assert abs(x - (box[0] + box[2]) / 2) <= STRIDE and abs(y - (box[1] + box[3]) / 2) <= STRIDE
    assert box_iou(result.best_box, box) > 0.5 and result.scores[0] > 0.5


def test_a_second_query_reuses_the_encoded_image(scene, untrained_query_engine):
    engine = untrained_query_engine
    engine.evict()
    find_query(scene[:50, :60], scene, engine=engine)
    misses = engine.cache.misses
    second = find_query(scene[60:100, 100:150], scene, engine=engine)
    # Only the new query's scales are encoded: the search image's features come from the cache.
    assert engine.cache.misses - misses == len(SCALES)
    assert ("features", "query", image_hash(scene), (180, 240), "cpu") in engine.cache
    again = find_query(scene[60:100, 100:150], scene, engine=engine)
    assert engine.cache.misses - misses == len(SCALES)  # nothing new at all
    np.testing.assert_array_equal(again.heatmap, second.heatmap)


def test_a_list_of_search_images_gives_a_list(scene, untrained_query_engine):
    results = find_query(scene[:40, :40], [scene, scene[:, ::-1].copy()], engine=untrained_query_engine)
    assert isinstance(results, list) and len(results) == 2
    assert all(r.heatmap.shape == scene.shape[:2] for r in results)


def test_large_search_images_are_searched_at_the_working_size(untrained_query_engine):
    big = np.random.default_rng(0).integers(0, 255, (700, 1100, 3), dtype=np.uint8)
    result = find_query(big[100:200, 300:420], big, engine=untrained_query_engine)
    assert result.working_size == working_shape((700, 1100)) == (326, 512)
    assert result.heatmap.shape == (700, 1100) and result.scale_heatmaps.shape[1:] == (326, 512)
    assert (result.boxes[:, 2] <= 1100).all() and (result.boxes[:, 3] <= 700).all()


def grid_maps(gh=12, gw=16):
    per_scale = np.zeros((len(SCALES), gh, gw), np.float32)
    per_scale[:, 5, 7] = [0.1, 0.3, 0.5, 0.9, 0.5]  # best at scale index 3, symmetric neighbours
    per_scale[:, 2, 2] = [0.2, 0.2, 0.6, 0.2, 0.2]  # a weaker second peak
    return per_scale, [(20, 30), (28, 42), (40, 60), (56, 84), (80, 120)]


def test_grid_boxes_centre_on_the_peak_with_the_best_scale_size():
    per_scale, sizes = grid_maps()
    fused = np.zeros((12, 16), np.float32)
    shape = (12 * STRIDE, 16 * STRIDE)
    boxes, scores, scales = grid_boxes(fused, per_scale, sizes, shape, shape, extent="scale")
    cx, cy = 7.5 * STRIDE, 5.5 * STRIDE
    np.testing.assert_array_equal(boxes[0], [cx - 42, cy - 28, cx + 42, cy + 28])
    assert scores[0] == pytest.approx(0.9) and scales[0] == pytest.approx(SCALES[3])
    assert len(boxes) == 2 and scores[1] == pytest.approx(0.6)  # ranked by correlation
    # Twice the image size: boxes scale with it.
    big, _, _ = grid_boxes(fused, per_scale, sizes, (2 * shape[0], 2 * shape[1]), shape, extent="scale")
    np.testing.assert_array_equal(big[0], 2 * boxes[0])
    with pytest.raises(ValueError, match="extent"):
        grid_boxes(fused, per_scale, sizes, shape, shape, extent="blob")


def test_grid_boxes_take_the_heat_region_around_the_peak():
    per_scale, sizes = grid_maps()
    fused = np.zeros((12, 16), np.float32)
    fused[3:9, 5:12] = 0.9  # the object's region: cells 5..11 x 3..8 -> pixels 40..96 x 24..72
    shape = (12 * STRIDE, 16 * STRIDE)
    boxes, scores, _ = grid_boxes(fused, per_scale, sizes, shape, shape, extent="heat")
    np.testing.assert_allclose(boxes[0], [40, 24, 96, 72], atol=STRIDE / 2 + 1)
    # The second peak (centre 20, 20) lies in no region: the scale's size (60 x 40), clipped to the image.
    np.testing.assert_array_equal(boxes[1], [0, 0, 50, 40])


def test_box_iou_and_highlight():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    image = np.full((20, 20, 3), 200, np.uint8)
    heat = np.zeros((20, 20), np.float32)
    lit = highlight(image, heat, (5, 5, 10, 10))
    assert (lit[5:10, 5:10] == 200).all() and (lit[0, 0] == 60).all()


def test_bad_input_is_refused_with_clear_errors(scene, untrained_query_engine):
    engine = untrained_query_engine
    with pytest.raises(ValueError, match="zero area"):
        find_query(scene, scene, query_box=(50, 50, 50, 80), engine=engine)
    with pytest.raises(ValueError, match="at least 4x4"):
        cut_query(scene, (50, 50, 52, 80))
    with pytest.raises(ValueError, match="larger than the search image"):
        find_query(scene, scene[:100, :100], engine=engine)
    with pytest.raises(ValueError, match="larger than search image 1"):
        find_query(scene[:120], [scene, scene[:100]], engine=engine)
    with pytest.raises(ValueError, match="uint8"):
        find_query(scene[:40, :40].astype(np.float32) / 255, scene, engine=engine)
    with pytest.raises(ValueError, match="top_k"):
        find_query(scene[:40, :40], scene, engine=engine, top_k=0)
    gray = find_query(scene[:40, :40, 0], scene[..., 0], engine=engine)  # grayscale: copied into R, G and B
    assert gray.search.shape == scene.shape


def test_query_sizes_follow_the_scales_and_stay_inside_the_search_image():
    sizes = scaled_sizes((40, 80), 80, (300, 400))
    assert [max(s) for s in sizes] == [round(80 * s) for s in SCALES]
    assert all(abs(h / w - 0.5) < 0.05 for h, w in sizes)
    clamped = scaled_sizes((40, 80), 300, (100, 120))
    assert all(h <= 75 and w <= 90 for h, w in clamped)  # 3/4 of the search image
    tiny = scaled_sizes((10, 10), 4, (300, 300))
    assert min(max(s) for s in tiny) >= 24


def test_the_pipeline_scales_match_the_fusion_network():
    from segwidgets.nets.query import QUERY_STRIDE, SCALE_COUNT

    assert STRIDE == QUERY_STRIDE and len(SCALES) == SCALE_COUNT and list(SCALES) == sorted(SCALES) and 1.0 in SCALES
