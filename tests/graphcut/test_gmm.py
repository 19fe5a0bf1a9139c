import numpy as np
import pytest
from scipy.stats import multivariate_normal

from segwidgets.graphcut.gmm import (
    GaussianMixture, color_features, fit_gaussian_mixture, kmeans_assignments, mixture_from_sums, feature_sums,
    unique_colors,
)


def test_fit_recovers_known_gaussians(rng):
    means = np.array([[50.0, 60.0, 70.0], [200.0, 180.0, 40.0]])
    cov = np.array([[[30.0, 5.0, 0.0], [5.0, 20.0, 2.0], [0.0, 2.0, 25.0]], np.diag([15.0, 40.0, 10.0])])
    samples = [rng.multivariate_normal(m, c, 20000) for m, c in zip(means, cov)]
    colors = np.concatenate(samples)
    assignments = np.repeat([0, 1], 20000)
    gmm = fit_gaussian_mixture(colors, assignments, 2, min_variance=1.0)
    np.testing.assert_allclose(gmm.weights, [0.5, 0.5])
    np.testing.assert_allclose(gmm.means, means, atol=0.2)
    np.testing.assert_allclose(gmm.covariances, cov, atol=1.5)


def test_component_costs_match_direct_density(rng):
    gmm = GaussianMixture(
        weights=np.array([0.3, 0.7]),
        means=np.array([[100.0, 120.0, 90.0], [30.0, 200.0, 10.0]]),
        covariances=np.array([np.diag([40.0, 50.0, 60.0]), [[80.0, 10.0, 5.0], [10.0, 60.0, 3.0], [5.0, 3.0, 30.0]]]),
    )
    colors = rng.integers(0, 256, (500, 3)).astype(np.float64)
    expected = np.stack(
        [-np.log(w) - multivariate_normal(m, c).logpdf(colors) for w, m, c in zip(gmm.weights, gmm.means, gmm.covariances)], 1
    )
    # float32 quadratic features: ~1e-3 relative accuracy on costs of tens to thousands of nats
    np.testing.assert_allclose(gmm.component_costs(colors), expected, rtol=2e-4, atol=2e-2)
    np.testing.assert_allclose(gmm.costs(colors, "component"), expected.min(1), rtol=2e-4, atol=2e-2)
    mixture = -np.log(sum(w * multivariate_normal(m, c).pdf(colors) for w, m, c in zip(gmm.weights, gmm.means, gmm.covariances)))
    np.testing.assert_allclose(gmm.costs(colors), mixture, rtol=2e-4, atol=2e-2)


def test_flat_color_gets_variance_floor():
    colors = np.full((100, 3), 77.0)
    gmm = fit_gaussian_mixture(colors, np.zeros(100, int), 1, min_variance=4.0)
    np.testing.assert_allclose(gmm.covariances[0], 4.0 * np.eye(3), atol=1e-6)
    np.testing.assert_allclose(gmm.means[0], [77, 77, 77])


def test_empty_component_keeps_previous_and_gets_zero_weight():
    previous = GaussianMixture(np.array([0.5, 0.5]), np.array([[1.0, 2, 3], [4, 5, 6]]), np.stack([np.eye(3) * 9] * 2))
    colors = np.array([[10.0, 10, 10], [12, 12, 12]])
    gmm = fit_gaussian_mixture(colors, np.zeros(2, int), 2, previous=previous)
    assert gmm.weights[1] == 0
    np.testing.assert_allclose(gmm.means[1], previous.means[1])
    costs = gmm.component_costs(colors)
    assert np.isfinite(costs).all() and (costs[:, 1] > 1e19).all()  # never the best, never NaN


def test_zero_pixels_returns_previous_or_raises():
    previous = GaussianMixture(np.array([1.0]), np.array([[1.0, 2, 3]]), np.eye(3)[None] * 5)
    empty = feature_sums(color_features(np.zeros((0, 3)), np.float64), np.zeros(0, int), 1)
    assert mixture_from_sums(empty, previous) is previous
    with pytest.raises(ValueError, match="zero pixels"):
        mixture_from_sums(empty, None)


def test_weighted_sums_equal_repeated_pixels(rng):
    colors = rng.integers(0, 256, (50, 3))
    counts = rng.integers(1, 5, 50).astype(float)
    groups = rng.integers(0, 3, 50)
    weighted = feature_sums(color_features(colors, np.float64), groups, 3, counts)
    repeated = feature_sums(color_features(np.repeat(colors, counts.astype(int), 0), np.float64), np.repeat(groups, counts.astype(int)), 3)
    np.testing.assert_allclose(weighted, repeated)


@pytest.mark.parametrize("lookup", [False, True])
def test_unique_colors_round_trip(rng, monkeypatch, lookup):
    """Both ways (a sort for small images, a 2^24 lookup table for large ones) give the
    sorted distinct colours and each pixel's index."""
    import segwidgets.graphcut.gmm as gmm

    monkeypatch.setattr(gmm, "_LOOKUP_MIN_PIXELS", 1 if lookup else 10**9)
    image = rng.integers(0, 4, (20, 30, 3)).astype(np.uint8) * 60
    image[0, 0] = (255, 255, 255)  # the largest key
    colors, index = unique_colors(image)
    expected = np.unique(image.reshape(-1, 3), axis=0)
    np.testing.assert_array_equal(colors, expected)
    assert index.dtype == np.int32
    np.testing.assert_array_equal(colors[index], image)


def test_kmeans_separates_two_clusters(rng):
    a = rng.normal(30, 3, (300, 3))
    b = rng.normal(220, 3, (200, 3))
    labels = kmeans_assignments(np.concatenate([a, b]), 2, rng)
    assert len(set(labels[:300])) == 1 and len(set(labels[300:])) == 1 and labels[0] != labels[-1]
