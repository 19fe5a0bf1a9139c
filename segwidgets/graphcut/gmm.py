"""Gaussian mixture colour models for the graph-cut unary term.

A model is a K-component full-covariance mixture over RGB (0..255). The solver
refits both models every iteration from the current labelling, in one of two
ways (``color_model``): one EM step of the whole mixture, whose cost is
``-log sum_k w_k N_k(z)`` (the default, like OpenCV), or GrabCut's hard
assignment of every colour to its best component, whose cost is
``min_k -log(w_k N_k(z))``. Each refit lowers (or keeps) the energy for the
current labelling, so the recorded energy never increases.

Costs are negative log-likelihoods in nats. Speed: a Gaussian's Mahalanobis
distance is linear in the quadratic colour features
``phi(z) = [c_r^2, c_g^2, c_b^2, 2 c_r c_g, 2 c_r c_b, 2 c_g c_b, c_r, c_g, c_b, 1]``
(``c = z - 128``), so the costs of every distinct colour under every component
are one matrix product ``phi @ A``, and the sufficient statistics of a fit are
(weighted) sums of phi.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_LOG_2PI = float(np.log(2.0 * np.pi))
_EMPTY_COST = 1e20  # nats: the cost of an empty component (weight 0)
_CENTRE = 128.0  # centring keeps phi small, so float32 products stay accurate (~1e-3 nats)
_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
N_FEATURES = 10

#: Smallest allowed covariance eigenvalue, in (8-bit colour levels)^2. Flat
#: synthetic regions and JPEG-quantised colours would otherwise give singular
#: covariances. The fit clips eigenvalues at this floor, which is the exact
#: maximum-likelihood estimate under that constraint (so monotonicity holds).
DEFAULT_MIN_VARIANCE = 4.0


def color_features(colors: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Quadratic colour features phi, one row per feature: (10, N), from (N, 3) RGB in 0..255.

    Rows (not columns) per feature keep every operation on contiguous memory.
    """
    c = colors.astype(dtype).T - dtype(_CENTRE)
    out = np.empty((N_FEATURES, c.shape[1]), dtype)
    for i, (a, b) in enumerate(_PAIRS):
        np.multiply(c[a], c[b], out=out[i])
    out[3:6] *= 2.0
    out[6:9] = c
    out[9] = 1.0
    return out


#: From this many pixels on, :func:`unique_colors` uses a lookup table over all 2^24 colours instead of a sort.
_LOOKUP_MIN_PIXELS = 2_000_000


def unique_colors(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct colours of an RGB image and each pixel's colour index.

    Colour costs depend on the colour alone, so the solver evaluates them once
    per distinct colour (natural photos have 4-10 times fewer colours than pixels).

    Returns
    -------
    colors : (U, 3) uint8
    index : (H, W) int32, ``colors[index] == image``
    """
    key = (image[..., 0].astype(np.int32) << 16) | (image[..., 1].astype(np.int32) << 8) | image[..., 2]
    key = key.reshape(-1)
    if len(key) >= _LOOKUP_MIN_PIXELS:
        # Large images: count every 24-bit colour and look each pixel's index up, O(pixels)
        # (a sort of 12 M keys took over a second); the tables cost ~200 MB for a moment.
        present = np.bincount(key, minlength=1 << 24) > 0
        keys = np.flatnonzero(present).astype(np.int32)
        lookup = np.cumsum(present, dtype=np.int32) - 1
        index = lookup[key]
    else:
        order = np.argsort(key)  # any order will do; numpy's default (SIMD) sort is 4x faster than "stable"
        ordered = key[order]
        first = np.empty(len(key), bool)
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        keys = ordered[first]
        index = np.empty(len(key), np.int32)
        index[order] = np.cumsum(first) - 1
    colors = np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], 1).astype(np.uint8)
    return colors, index.reshape(image.shape[:2])


@dataclass(frozen=True)
class GaussianMixture:
    """A K-component full-covariance Gaussian mixture over RGB colours.

    Attributes
    ----------
    weights : (K,) float64
        Mixing weights, summing to 1. A weight of 0 marks an empty component.
    means : (K, 3) float64
        Component means, RGB in 0..255.
    covariances : (K, 3, 3) float64
        Component covariances, in (colour levels)^2.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.weights.shape[0])

    def cost_coefficients(self) -> np.ndarray:
        """(10, K) float32 ``A`` with ``color_features(z) @ A`` = component costs of z."""
        precision = np.linalg.inv(self.covariances)  # (K, 3, 3)
        mu = self.means - _CENTRE
        p_mu = np.einsum("kij,kj->ki", precision, mu)
        # An empty component must never win the min; a huge *finite* cost does that
        # (an inf can turn into NaN inside BLAS kernels).
        with np.errstate(divide="ignore"):
            neg_log_weight = np.where(self.weights > 0, -np.log(self.weights), _EMPTY_COST)
        const = neg_log_weight + 0.5 * np.linalg.slogdet(self.covariances)[1] + 1.5 * _LOG_2PI
        coef = np.empty((N_FEATURES, self.n_components))
        for i, (a, b) in enumerate(_PAIRS):
            coef[i] = 0.5 * precision[:, a, b]
        coef[6:9] = -p_mu.T
        coef[9] = 0.5 * np.einsum("ki,ki->k", mu, p_mu) + const
        return coef.astype(np.float32)

    def component_costs(self, colors: np.ndarray) -> np.ndarray:
        """Negative log of weight times density, per pixel and component.

        Parameters
        ----------
        colors : (N, 3) array, RGB in 0..255.

        Returns
        -------
        (N, K) float32 array in nats; about 1e20 for empty components (weight 0).
        """
        return (self.cost_coefficients().T @ color_features(colors)).T

    def costs(self, colors: np.ndarray, color_model: str = "mixture") -> np.ndarray:
        """Per-pixel colour cost in nats, (N,) float32: ``-log sum_k w_k N_k(z)`` for
        ``"mixture"``, ``min_k -log(w_k N_k(z))`` for ``"component"`` (see :func:`label_costs`)."""
        return label_costs(self.component_costs(colors).T, color_model)


COLOR_MODELS = ("mixture", "component")


def label_costs(component_costs: np.ndarray, color_model: str = "mixture") -> np.ndarray:
    """Per-pixel cost of one label from its (K, N) component costs, in nats.

    ``"mixture"``: ``-log sum_k w_k N_k(z)`` (the whole mixture's likelihood);
    ``"component"``: ``min_k -log(w_k N_k(z))`` (the best component only, as in
    the GrabCut paper).
    """
    best = component_costs.min(0)
    if color_model == "component":
        return best
    if color_model != "mixture":
        raise ValueError(f"color_model must be one of {COLOR_MODELS}, got {color_model!r}")
    return best - np.log(np.exp(best - component_costs).sum(0))


def responsibilities(component_costs: np.ndarray) -> np.ndarray:
    """(K, N) posterior probability of each component for each colour (columns sum to 1)."""
    r = np.exp(component_costs.min(0) - component_costs)
    return r / r.sum(0)


def feature_sums(features: np.ndarray, groups: np.ndarray, n_groups: int, weights=None) -> np.ndarray:
    """Sum (10, N) features per group id in ``[0, n_groups)``, optionally weighted
    by (N,) ``weights`` (pixel counts): (n_groups, 10) float64."""
    return np.stack(
        [np.bincount(groups, weights=row if weights is None else row * weights, minlength=n_groups) for row in features], 1
    )


def mixture_from_sums(
    sums: np.ndarray, previous: GaussianMixture | None = None, min_variance: float = DEFAULT_MIN_VARIANCE
) -> GaussianMixture:
    """Maximum-likelihood mixture from per-component feature sums (see :func:`feature_sums`).

    Components with no pixel get weight 0 and keep ``previous``'s parameters.
    A model with no pixel at all is returned as ``previous``.
    """
    counts = sums[:, 9].copy()
    if counts.sum() <= 0:
        if previous is None:
            raise ValueError("cannot fit a colour model to zero pixels")
        return previous
    k = sums.shape[0]
    safe = np.maximum(counts, 1.0)
    mu = sums[:, 6:9] / safe[:, None]
    second = np.empty((k, 3, 3))
    for i, (a, b) in enumerate(_PAIRS):
        scale = 0.5 if a != b else 1.0  # phi stores 2 c_a c_b off the diagonal
        second[:, a, b] = second[:, b, a] = scale * sums[:, i] / safe
    cov = second - mu[:, :, None] * mu[:, None, :]
    # Exact ML under the eigenvalue floor: clip the spectrum of the sample covariance.
    eigvals, eigvecs = np.linalg.eigh(cov)
    cov = np.einsum("kij,kj,klj->kil", eigvecs, np.maximum(eigvals, min_variance), eigvecs)
    means = mu + _CENTRE
    empty = counts <= 0
    if empty.any():
        if previous is not None and previous.n_components == k:
            means[empty] = previous.means[empty]
            cov[empty] = previous.covariances[empty]
        else:
            means[empty] = _CENTRE
            cov[empty] = np.eye(3) * min_variance
    return GaussianMixture(weights=counts / counts.sum(), means=means, covariances=cov)


def fit_gaussian_mixture(
    colors: np.ndarray,
    assignments: np.ndarray,
    n_components: int,
    previous: GaussianMixture | None = None,
    min_variance: float = DEFAULT_MIN_VARIANCE,
) -> GaussianMixture:
    """Maximum-likelihood mixture from hard component assignments.

    Parameters
    ----------
    colors : (N, 3) array, RGB in 0..255.
    assignments : (N,) int array with values in ``[0, n_components)``.
    n_components : int
    previous : GaussianMixture, optional
        Parameters kept for components that received no pixel (their weight
        becomes 0), and the model returned when ``N == 0``.
    min_variance : float
        Eigenvalue floor for covariances, (colour levels)^2.
    """
    return mixture_from_sums(
        feature_sums(color_features(colors, np.float64), assignments, n_components), previous, min_variance
    )


def kmeans_centres(colors: np.ndarray, n_components: int, rng: np.random.Generator, iterations: int = 10) -> np.ndarray:
    """k-means++ seeding and Lloyd iterations on (N, 3) colours; (k, 3) float32 centres, k <= n_components."""
    x = colors.astype(np.float32, copy=False)
    k = min(n_components, x.shape[0])
    centres = np.empty((k, 3), np.float32)
    centres[0] = x[rng.integers(x.shape[0])]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for i in range(1, k):  # k-means++ seeding: far-apart starting centres
        total = d2.sum()
        j = rng.integers(x.shape[0]) if total <= 0 else rng.choice(x.shape[0], p=d2 / total)
        centres[i] = x[j]
        d2 = np.minimum(d2, ((x - centres[i]) ** 2).sum(1))
    for _ in range(iterations):
        labels = nearest_centre(x, centres)
        for i in range(k):
            members = x[labels == i]
            if len(members):
                centres[i] = members.mean(0)
    return centres


def kmeans_assignments(
    colors: np.ndarray, n_components: int, rng: np.random.Generator, iterations: int = 10, max_samples: int = 8000
) -> np.ndarray:
    """Initial component assignment: k-means on at most ``max_samples`` random
    pixels (for speed), then every pixel to its nearest centre.

    Parameters
    ----------
    colors : (N, 3) array, N >= 1.

    Returns
    -------
    (N,) int64 component indices in ``[0, n_components)``.
    """
    n = colors.shape[0]
    sample = colors if n <= max_samples else colors[rng.choice(n, max_samples, replace=False)]
    return nearest_centre(colors.astype(np.float32), kmeans_centres(sample, n_components, rng, iterations))


def nearest_centre(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest of (k, 3) centres for each of (N, 3) colours."""
    # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 is constant per row so it is dropped.
    scores = x.astype(np.float32, copy=False) @ (-2.0 * centres.T) + (centres**2).sum(1)
    return scores.argmin(1)
