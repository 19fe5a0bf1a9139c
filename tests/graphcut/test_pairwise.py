import numpy as np

from segwidgets.graphcut.pairwise import boundary_weights, contrast_weights, cut_cost, edge_validity, pairwise_weights


def test_contrast_weights_are_low_across_an_edge_and_one_in_flat_areas():
    image = np.zeros((10, 10, 3), np.uint8)
    image[:, 5:] = 255
    w = contrast_weights(image)
    right = w[0]
    # 342 edges, 28 cross the edge (10 straight, 18 diagonal) with |dz|^2 = 3 * 255^2:
    # beta = 1 / (2 <|dz|^2>) and the crossing weight is exp(-beta |dz|^2) = exp(-342 / 56).
    np.testing.assert_allclose(right[3, 4], np.exp(-342 / 56), rtol=1e-5)
    np.testing.assert_allclose(right[3, 0], 1.0)  # flat: exp(0)
    np.testing.assert_allclose(w[2][3, 0], 1 / np.sqrt(2), rtol=1e-6)  # diagonal edges divided by sqrt(2)
    assert (w[0][:, -1] == 0).all() and (w[1][-1, :] == 0).all()  # no edge leaves the image


def test_boundary_weights_formula():
    r = np.zeros((4, 4), np.float32)
    r[:, 2] = 1.0
    w = boundary_weights(r, beta=0.8)
    np.testing.assert_allclose(w[0][0, 0], 1.0)  # R = 0 on both ends
    np.testing.assert_allclose(w[0][0, 1], 1 - 0.8 * 0.5)  # mean R = 0.5
    np.testing.assert_allclose(w[1][0, 2], 1 - 0.8 * 1.0)  # vertical edge inside the R = 1 column
    assert (boundary_weights(r, beta=3.0) >= 0).all()


def test_cut_cost_of_a_vertical_split_counts_straight_and_diagonal_edges():
    labels = np.zeros((4, 4), bool)
    labels[:, :2] = True
    weights = np.ones((4, 4, 4), np.float32) * edge_validity(4, 4)
    # 4 horizontal edges + 3 down-right + 3 down-left edges cross the split
    assert cut_cost(labels, weights) == 4 + 3 + 3


def test_combined_is_product_and_bad_kind_raises():
    image = np.random.default_rng(0).integers(0, 256, (6, 7, 3)).astype(np.uint8)
    r = np.random.default_rng(1).random((6, 7)).astype(np.float32)
    c = contrast_weights(image)
    b = boundary_weights(r)
    distance = np.array([1, 1, np.sqrt(2), np.sqrt(2)])[:, None, None]
    np.testing.assert_allclose(pairwise_weights(image, "combined", r), c * b * distance, rtol=1e-6)
    import pytest

    with pytest.raises(ValueError, match="pairwise must be one of"):
        pairwise_weights(image, "nope")
    with pytest.raises(ValueError, match="needs a refinement map"):
        pairwise_weights(image, "boundary")
