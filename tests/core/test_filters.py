import numpy as np
import pytest

from segwidgets.core.filters import guided_filter, resize_bilinear


def _smooth_guide(h=60, w=80, seed=0):
    """A smooth random RGB image in [0, 1] (sums of low-frequency waves)."""
    yy, xx = np.mgrid[:h, :w] / 40.0
    rng = np.random.default_rng(seed)
    planes = [0.5 + 0.2 * np.sin(rng.uniform(1, 4) * xx + rng.uniform(0, 6)) * np.cos(rng.uniform(1, 4) * yy)
              for _ in range(3)]
    return np.stack(planes, axis=2).astype(np.float32)


def test_a_constant_map_stays_constant():
    guide = _smooth_guide()
    out = guided_filter(guide, np.full(guide.shape[:2], 0.7, np.float32), radius=4, subsample=1)
    np.testing.assert_allclose(out, 0.7, atol=1e-4)


@pytest.mark.parametrize("subsample", [1, 2])
def test_a_map_affine_in_the_guide_colour_is_reproduced(subsample):
    guide = _smooth_guide()
    values = guide @ np.array([0.3, 0.5, -0.2], np.float32) + 0.1
    out = guided_filter(guide, values, radius=4, eps=1e-7, subsample=subsample)
    assert out.dtype == np.float32 and out.shape == values.shape
    np.testing.assert_allclose(out, values, atol=2e-3 if subsample == 1 else 1e-2)


def test_a_blurred_edge_gets_the_guide_edge():
    """An 8 px ramp over a two-colour guide with a sharp edge: the output jumps where the guide does."""
    h, w = 40, 60
    right = np.zeros((h, w), bool)
    right[:, 30:] = True
    guide = np.where(right[..., None], [0.8, 0.2, 0.2], [0.1, 0.3, 0.7]).astype(np.float32)
    ramp = np.clip((np.arange(w) - 26) / 8, 0, 1)[None].repeat(h, 0).astype(np.float32)
    assert ramp[0, 30] - ramp[0, 29] == pytest.approx(0.125)
    for eps in (1e-7, 1e-5):  # float32 cofactors broke down below 1e-5 here
        out = guided_filter(guide, ramp, radius=6, eps=eps, subsample=1)
        assert out[0, 30] - out[0, 29] > 0.5
        assert -1e-3 < out.min() and out.max() < 1 + 1e-3
        np.testing.assert_allclose(out[:, :12], 0, atol=1e-3)  # 2 radii from the ramp: its value there


def test_bad_inputs_are_refused():
    guide = _smooth_guide()
    with pytest.raises(ValueError, match="same size"):
        guided_filter(guide, np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="same size"):
        guided_filter(guide[..., 0], guide[..., 0])
    with pytest.raises(ValueError, match=">= 1"):
        guided_filter(guide, guide[..., 0], radius=0)


def test_resize_bilinear_keeps_constants_and_sizes():
    planes = np.full((5, 7, 3), 0.25, np.float32)
    out = resize_bilinear(planes, (10, 14))
    assert out.shape == (10, 14, 3)
    np.testing.assert_allclose(out, 0.25, atol=1e-6)
    assert resize_bilinear(planes, (5, 7)) is planes
