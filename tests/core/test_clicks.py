import math

import pytest

from segwidgets.core.clicks import Click


def test_pixel_centre_and_inside():
    c = Click(9.9, 4.2)
    assert c.pixel == (4, 9) and c.centre == (9.5, 4.5)
    assert c.check_inside((5, 10, 3)) is c
    with pytest.raises(ValueError, match="outside"):
        Click(10, 2).check_inside((5, 10, 3))
    with pytest.raises(ValueError, match="finite"):
        Click(math.nan, 1)


def test_dict_round_trip_and_malformed_entries():
    c = Click(1.5, 2.0, False)
    assert Click.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="needs numbers"):
        Click.from_dict({"x": 1})
    with pytest.raises(ValueError, match="needs numbers"):
        Click.from_dict({"x": "a", "y": 2, "positive": True})
