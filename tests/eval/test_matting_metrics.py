import numpy as np
import pytest

from segwidgets.eval.matting import connectivity_error, gradient_error, matting_errors, mse, sad


def _case(shape=(40, 50)):
    target = np.zeros(shape)
    target[10:30, 10:40] = 1.0
    trimap = np.zeros(shape, np.uint8)
    trimap[5:35, 5:45] = 128
    return target, trimap


def test_a_perfect_matte_has_no_error():
    target, trimap = _case()
    assert matting_errors(target, target, trimap) == {"sad": 0.0, "mse": 0.0, "grad": 0.0, "conn": 0.0}


def test_sad_and_mse_count_only_the_unknown_region():
    target, trimap = _case()
    prediction = np.clip(target + 0.1, 0, 1)  # +0.1 where the target is 0, no change where it is 1
    prediction[0, 0] = 1.0  # outside the unknown region: ignored
    unknown_zero = ((trimap == 128) & (target == 0)).sum()
    assert sad(prediction, target, trimap) == pytest.approx(0.1 * unknown_zero / 1000)
    assert mse(prediction, target, trimap) == pytest.approx(0.01 * unknown_zero / (trimap == 128).sum())
    assert sad(prediction, target, trimap == 128) == pytest.approx(sad(prediction, target, trimap))


def test_gradient_error_ignores_an_offset_but_not_a_blur():
    target, trimap = _case()
    flat_region = np.zeros_like(target)
    flat_region[:] = 0.3
    assert gradient_error(flat_region + 0.2, flat_region, trimap) == pytest.approx(0.0, abs=1e-12)
    from scipy import ndimage

    assert gradient_error(ndimage.gaussian_filter(target, 3), target, trimap) > 1e-3


def test_connectivity_error_of_detached_pixels():
    target, trimap = _case()
    prediction = target.copy()
    prediction[6, 6] = prediction[33, 43] = 1.0  # two pixels of the unknown region, detached from the body
    # Each: never part of the body (level 0), so phi(prediction) = 0 there against phi(target) = 1.
    assert connectivity_error(prediction, target, trimap) == pytest.approx(2 / 1000)


def test_mismatched_shapes_are_refused():
    target, trimap = _case()
    with pytest.raises(ValueError, match="one shape"):
        sad(target[:-1], target, trimap)
    with pytest.raises(ValueError, match="trimap or mask"):
        mse(target, target, trimap[:-1])
