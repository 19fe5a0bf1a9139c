import numpy as np

from segwidgets.core.click_simulation import first_click, next_click
from segwidgets.core.clicks import Click


def square(shape, top, left, side):
    mask = np.zeros(shape, bool)
    mask[top:top + side, left:left + side] = True
    return mask


def test_missed_square_gets_a_positive_click_at_its_centre_pixel():
    target = square((40, 60), 10, 30, 11)  # centre pixel: row 15, column 35
    c = next_click(np.zeros_like(target), target)
    assert c == Click(35.5, 15.5, True)
    assert c.pixel == (15, 35)


def test_false_blob_gets_a_negative_click():
    target = square((40, 60), 5, 5, 5)
    blob = square((40, 60), 20, 40, 9)  # centre pixel: row 24, column 44
    c = next_click(target | blob, target)
    assert c == Click(44.5, 24.5, False)


def test_the_thicker_error_wins_and_ties_go_to_the_positive_click():
    target = square((40, 60), 5, 5, 5) | square((40, 60), 20, 5, 9)
    prediction = square((40, 60), 5, 40, 5) | square((40, 60), 20, 5, 9)
    # Missed 5x5 at (5, 5) vs false 5x5 at (5, 40): equally deep.
    assert next_click(prediction, target) == Click(7.5, 7.5, True)
    # A thicker false blob beats the missed square.
    prediction = square((40, 60), 20, 5, 9) | square((40, 60), 26, 40, 7)
    assert next_click(prediction, target) == Click(43.5, 29.5, False)


def test_nothing_wrong_gives_none():
    target = square((20, 20), 5, 5, 10)
    assert next_click(target.copy(), target) is None
    # Errors only on ignored pixels count as nothing wrong.
    ignore = square((20, 20), 5, 5, 10)
    assert next_click(np.zeros_like(target), target, ignore) is None


def test_ignored_pixels_are_never_clicked_and_do_not_count():
    target = np.zeros((30, 60), bool)
    target[10:21, 10:51] = True  # 11 x 41: row 15, columns 15..45 are 6 deep; the first is taken
    assert next_click(np.zeros_like(target), target) == Click(15.5, 15.5, True)
    ignore = np.zeros_like(target)
    ignore[:, 10:39] = True  # leaves the missed columns 39..50, deepest first at (15, 44)
    c = next_click(np.zeros_like(target), target, ignore)
    assert c == Click(44.5, 15.5, True)
    assert not ignore[c.pixel]


def test_clicks_never_land_on_the_image_frame():
    target = np.zeros((40, 60), bool)
    target[0:8] = True  # a band along the top border, 8 px thick
    # The frame counts as outside, so the deepest rows are 3 and 4, not 0.
    assert next_click(np.zeros_like(target), target) == Click(3.5, 3.5, True)
    everything = np.ones((7, 7), bool)
    assert next_click(np.zeros_like(everything), everything) == Click(3.5, 3.5, True)
    assert next_click(everything, np.zeros_like(everything)) == Click(3.5, 3.5, False)


def test_first_click_without_rng_is_the_deepest_pixel_every_time():
    target = square((50, 50), 10, 10, 30)  # deepest: rows/cols 24 and 25, first is (24, 24)
    assert first_click(target) == Click(24.5, 24.5, True)
    assert first_click(target) == first_click(target)


def test_first_click_with_rng_is_random_inside_the_deep_part():
    target = square((50, 50), 10, 10, 30)  # deepest distance 15; depth 0.5 keeps rows/cols 17..32
    clicks = [first_click(target, np.random.default_rng(seed)) for seed in range(40)]
    for c in clicks:
        row, col = c.pixel
        assert c.positive and 17 <= row <= 32 and 17 <= col <= 32
        assert c.x == col + 0.5 and c.y == row + 0.5
    assert len(set(clicks)) > 10
    assert first_click(target, np.random.default_rng(3)) == clicks[3]
    deepest = {first_click(target, np.random.default_rng(seed), depth=1.0).pixel for seed in range(40)}
    assert deepest == {(24, 24), (24, 25), (25, 24), (25, 25)}
