import numpy as np
import pytest

from segwidgets.core.strokes import Stroke


def test_a_dot_paints_a_disc_of_pixel_centres_within_the_radius():
    mask = Stroke(((10.5, 10.5),), radius=3).mask((21, 21))
    yy, xx = np.mgrid[:21, :21] + 0.5
    expected = (yy - 10.5) ** 2 + (xx - 10.5) ** 2 < 9
    assert np.array_equal(mask, expected)


def test_a_line_paints_a_capsule():
    stroke = Stroke(((5.5, 10.5),), radius=2).extended((25.5, 10.5))
    mask = stroke.mask((20, 40))
    assert mask[10, 5:26].all() and mask[8:13, 15].all()
    assert not mask[6, 15] and not mask[10, 30]
    assert mask.sum() == pytest.approx(20 * 4 + np.pi * 4, rel=0.25)


def test_round_trip_and_validation():
    stroke = Stroke(((1, 2), (3, 4)), 5.5, 128)
    assert Stroke.from_dict(stroke.to_dict()) == stroke
    with pytest.raises(ValueError, match="radius"):
        Stroke(((1, 2),), 0)
    with pytest.raises(ValueError, match="point"):
        Stroke((), 1)
    with pytest.raises(ValueError, match="needs points"):
        Stroke.from_dict({"radius": 2})
