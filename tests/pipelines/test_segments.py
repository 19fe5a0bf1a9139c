"""Candidate segments and the feature-masking projection onto the grid."""
import numpy as np
import pytest

from segwidgets.pipelines.segments import (
    Segments, candidate_segments, grid_boxes, nearest_cells, project_to_grid, segments_from_masks,
)


def test_nearest_cells_by_hand():
    # Stride 4, centres at 0, 4, 8: pixels 0,1 -> 0; 2 is equidistant from 0 and 4 -> the later cell;
    # 2..5 -> 1; 6..9 -> 2 (pixel 9 is nearest to centre 8, the last cell).
    assert nearest_cells(10, 3, 4).tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    # Centres at 1.5 + 4j (a half-stride offset): pixel blocks 0..3, 4..7, 8..9.
    assert nearest_cells(10, 3, 4, offset=1.5).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]


def test_projection_hand_worked_example():
    # An 8x8 image, stride 4, centres at 0 and 4: cell rows take pixel rows {0,1} and {2..7},
    # likewise columns. Cell (0,0) holds 2x2=4 pixels, (0,1) 2x6=12, (1,0) 6x2=12, (1,1) 6x6=36.
    mask = np.zeros((8, 8), bool)
    mask[0:2, 0:1] = True      # 2 of cell (0,0)'s 4 pixels: fraction 0.5 -> kept (>= 0.5)
    mask[2:8, 2:5] = True      # 18 of cell (1,1)'s 36 pixels: 0.5 -> kept
    mask[0:2, 2:4] = True      # 4 of cell (0,1)'s 12 pixels: 0.333 -> dropped
    segments = segments_from_masks([mask], (8, 8))
    masks, fractions = project_to_grid(segments, (2, 2), stride=4)
    np.testing.assert_allclose(fractions[0], [[0.5, 4 / 12], [0.0, 0.5]], atol=1e-6)
    assert masks[0].tolist() == [[True, False], [False, True]]


def test_projection_keeps_a_tiny_segment_on_its_best_cell():
    mask = np.zeros((16, 16), bool)
    mask[9, 9] = True  # one pixel: below the threshold everywhere
    masks, fractions = project_to_grid(segments_from_masks([mask], (16, 16)), (4, 4), stride=4)
    assert masks[0].sum() == 1
    assert masks[0][nearest_cells(16, 4, 4)[9], nearest_cells(16, 4, 4)[9]]


def test_projection_of_a_partition_sums_to_one_per_cell():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (37, 29))
    segments = segments_from_masks(labels, (37, 29))
    _, fractions = project_to_grid(segments, (3, 2), stride=16)
    np.testing.assert_allclose(fractions.sum(0), 1.0, atol=1e-6)


def test_grid_boxes_are_inclusive_bounds():
    masks = np.zeros((2, 4, 5), bool)
    masks[0, 1:3, 2:5] = True
    masks[1, 3, 0] = True
    assert grid_boxes(masks).tolist() == [[2, 1, 4, 2], [0, 3, 0, 3]]


def test_user_masks_pack_into_non_overlapping_layers_and_keep_their_order():
    a = np.zeros((10, 10), bool); a[:5] = True
    b = np.zeros((10, 10), bool); b[5:] = True
    c = np.zeros((10, 10), bool); c[3:7] = True  # overlaps both: needs a second layer
    segments = segments_from_masks([a, b, c], (10, 10))
    assert segments.layers.shape == (2, 10, 10)
    assert segments.count == 3
    for index, mask in enumerate((a, b, c)):
        np.testing.assert_array_equal(segments.mask(index), mask)
    assert segments.areas().tolist() == [50, 50, 40]
    assert sorted(segments.covering(0, 4).tolist()) == [0, 2]


@pytest.mark.parametrize("bad, message", [
    ([np.zeros((10, 10), bool)], "empty"),
    ([np.ones((9, 10), bool)], "expected an"),
    ([np.ones((10, 10), np.uint8)], "bool"),
    ([], "no segments"),
    (np.full((10, 10), -1), "no label"),
    (np.zeros((10, 10), np.float32), "integers"),
])
def test_bad_user_segments_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        segments_from_masks(bad, (10, 10))


def test_candidates_cover_every_pixel_once_per_layer():
    rng = np.random.default_rng(1)
    image = np.zeros((96, 128, 3), np.uint8)
    image[:, 64:] = (200, 40, 40)
    image[30:70, 20:50] = (30, 160, 60)
    image = np.clip(image.astype(int) + rng.integers(-10, 10, image.shape), 0, 255).astype(np.uint8)
    segments = candidate_segments(image)
    assert isinstance(segments, Segments)
    assert len(segments.sources) == segments.layers.shape[0] == 5
    assert (segments.layers >= 0).all()  # each layer is a partition
    # ids are global and consecutive across layers
    assert np.array_equal(np.unique(segments.layers), np.arange(segments.count))
    # the green block is one region of the coarsest Felzenszwalb layer
    coarse = segments.layers[2]
    assert len(np.unique(coarse[35:65, 25:45])) == 1


def test_merge_neighbours_matches_skimage_region_adjacency_cut():
    from skimage import graph
    from skimage.segmentation import slic

    from segwidgets.pipelines.segments import merge_neighbours

    rng = np.random.default_rng(3)
    image = np.zeros((60, 80, 3), np.uint8)
    image[:, 40:] = (180, 60, 60)
    image[10:40, 5:30] = (40, 40, 200)
    image = np.clip(image.astype(int) + rng.integers(-12, 12, image.shape), 0, 255).astype(np.uint8)
    superpixels = slic(image, n_segments=60, compactness=10, start_label=0)
    reference = graph.cut_threshold(superpixels, graph.rag_mean_color(image, superpixels), 18.0)
    merged = merge_neighbours(superpixels, image, 18.0)
    # the same partition (labels may be numbered differently)
    pairs = set(zip(reference.ravel().tolist(), merged.ravel().tolist()))
    assert len(pairs) == len(np.unique(reference)) == len(np.unique(merged))
    assert len(np.unique(merged)) < len(np.unique(superpixels))
