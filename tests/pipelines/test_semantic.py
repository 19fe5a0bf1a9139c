"""segment_semantic: shapes, labelling rules, user segments, caching and errors (untrained network)."""
import numpy as np
import pytest

from segwidgets.pipelines.segments import segments_from_masks
from segwidgets.pipelines.semantic import CLASS_NAMES, pixel_probabilities, segment_semantic


def _image(h=120, w=90, seed=0):
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 210, np.uint8)
    image[20:100, 25:65] = (170, 60, 50)
    image[60:100, 25:65] = (40, 50, 120)
    return np.clip(image.astype(int) + rng.integers(-8, 8, image.shape), 0, 255).astype(np.uint8)


def test_vote_and_best_by_hand():
    # Two layers over a 1x2 image: layer A = one segment over both pixels, layer B = one per pixel.
    layers = np.array([[[0, 0]], [[1, 2]]], np.int32)
    from segwidgets.pipelines.segments import Segments

    segments = Segments(layers, ("a", "b"))
    scores = np.array([[0.6, 0.4], [0.2, 0.8], [0.9, 0.1]], np.float32)
    vote = pixel_probabilities(segments, scores, "vote")
    # pixel 0: weights top / sqrt(area): segment 0 0.6 / sqrt(2), segment 1 0.8 / 1
    w0, w1 = 0.6 / np.sqrt(2), 0.8
    expected = (w0 * np.array([0.6, 0.4]) + w1 * np.array([0.2, 0.8])) / (w0 + w1)
    np.testing.assert_allclose(vote[:, 0, 0], expected, atol=1e-6)
    np.testing.assert_allclose(vote.sum(0), 1.0, atol=1e-6)
    best = pixel_probabilities(segments, scores, "best")
    np.testing.assert_allclose(best[:, 0, 0], [0.2, 0.8])   # segment 1 (top 0.8) beats segment 0 (0.6)
    np.testing.assert_allclose(best[:, 0, 1], [0.9, 0.1])   # segment 2 (0.9)
    with pytest.raises(ValueError, match="labelling"):
        pixel_probabilities(segments, scores, "majority")


def test_uncovered_pixels_are_background():
    mask = np.zeros((4, 4), bool)
    mask[:2] = True
    segments = segments_from_masks([mask], (4, 4))
    probabilities = pixel_probabilities(segments, np.array([[0.1, 0.9]], np.float32))
    np.testing.assert_allclose(probabilities[:, 3, 3], [1.0, 0.0])
    np.testing.assert_allclose(probabilities[:, 0, 0], [0.1, 0.9])


def test_segment_semantic_shapes_and_fields(untrained_semantic_engine):
    image = _image()
    result = segment_semantic(image, engine=untrained_semantic_engine)
    n = result.segments.count
    assert n >= 20
    assert result.labels.shape == (120, 90) and result.labels.dtype == np.int32
    assert result.probabilities.shape == (len(CLASS_NAMES), 120, 90)
    np.testing.assert_allclose(result.probabilities.sum(0), 1.0, atol=1e-4)
    np.testing.assert_array_equal(result.labels, result.probabilities.argmax(0))
    assert result.segment_scores.shape == (n, len(CLASS_NAMES))
    assert result.grid_masks.shape == (n, 8, 6)
    assert result.features.shape[1:] == (8, 6)
    assert result.class_names == CLASS_NAMES
    ids = result.segments_at(30, 40)
    assert len(ids) == result.segments.layers.shape[0]
    tops = [result.segment_scores[i].max() for i in ids]
    assert tops == sorted(tops, reverse=True)
    assert result.segment_mask(ids[0])[40, 30]
    assert len(result.top_classes(ids[0], 2)) == 2
    with pytest.raises(ValueError, match="outside"):
        result.segments_at(90, 10)


def test_features_are_computed_once_per_image(untrained_semantic_engine):
    engine = untrained_semantic_engine
    image = _image(seed=5)
    segment_semantic(image, engine=engine)
    misses = engine.cache.misses
    again = segment_semantic(image, engine=engine, labelling="best")
    assert engine.cache.misses == misses
    assert again.labelling == "best"


def test_user_masks_keep_their_order(untrained_semantic_engine):
    image = _image()
    top = np.zeros((120, 90), bool)
    top[:60] = True
    middle = np.zeros((120, 90), bool)
    middle[40:80, 20:70] = True
    result = segment_semantic(image, [top, middle], engine=untrained_semantic_engine)
    assert result.segment_scores.shape == (2, len(CLASS_NAMES))
    np.testing.assert_array_equal(result.segment_mask(1), middle)
    # pixels outside both masks are background with certainty
    assert result.labels[110, 5] == 0 and result.probabilities[0, 110, 5] == 1.0
    # a label image works too, one segment per label
    labels = np.zeros((120, 90), np.int64)
    labels[60:] = 1
    assert segment_semantic(image, labels, engine=untrained_semantic_engine).segment_scores.shape[0] == 2


def test_large_images_are_segmented_at_the_working_size(untrained_semantic_engine):
    image = np.repeat(np.repeat(_image(), 6, axis=0), 6, axis=1)  # 720 x 540
    result = segment_semantic(image, engine=untrained_semantic_engine)
    assert max(result.working_size) == 512
    assert result.labels.shape == (720, 540)
    assert result.probabilities.shape[1:] == (720, 540)
    assert result.segment_mask(0).shape == (720, 540)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"image": np.zeros((10, 40, 3), np.uint8)}, ValueError, "at least 16"),
    ({"image": np.zeros((40, 40, 3), np.float32)}, ValueError, "uint8"),
    ({"segments": [np.ones((30, 30), bool)]}, ValueError, "segment 0"),
    ({"labelling": "majority"}, ValueError, "labelling"),
])
def test_bad_input_is_named(untrained_semantic_engine, kwargs, error, message):
    arguments = {"image": _image()} | kwargs
    with pytest.raises(error, match=message):
        segment_semantic(engine=untrained_semantic_engine, **arguments)
