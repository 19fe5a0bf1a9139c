"""Synthetic query/search pairs and the saved development set."""
import json

import numpy as np
import pytest
from PIL import Image

from segwidgets.data.query_pairs import SCALE_RANGE, dev_set, load_cutouts, make_pair, read_dev_set, write_dev_set


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Two tiny datasets of coloured shapes on textured backgrounds (test split: index 0, 10, ...)."""
    root = tmp_path_factory.mktemp("seg")
    rng = np.random.default_rng(0)
    for dataset in ("squares", "discs"):
        for sub in ("images", "masks"):
            (root / dataset / sub).mkdir(parents=True)
        for i in range(12):
            h, w = 90, 120
            yy, xx = np.mgrid[:h, :w]
            cx, cy, r = rng.uniform(35, 85), rng.uniform(30, 60), rng.uniform(12, 22)
            mask = (np.abs(xx - cx) <= r) & (np.abs(yy - cy) <= r) if dataset == "squares" else (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
            image = rng.integers(0, 255, (h, w, 3)).astype(float) * 0.3 + 60
            image[mask] = rng.integers(0, 255, 3)
            Image.fromarray(image.astype(np.uint8)).save(root / dataset / "images" / f"{i:03d}.png")
            Image.fromarray(mask.astype(np.uint8) * 255).save(root / dataset / "masks" / f"{i:03d}.png")
    return root


def test_cutouts_respect_the_split(root):
    test = load_cutouts(root, "test", progress=False)
    assert sorted(c.name for c in test) == ["000", "000", "010", "010"]
    fit = load_cutouts(root, "fit", progress=False)
    assert not {(c.dataset, c.name) for c in fit} & {(c.dataset, c.name) for c in test}
    assert all(c.mask[c.box[1]:c.box[3], c.box[0]:c.box[2]].sum() == c.mask.sum() for c in fit)


def test_pairs_hold_the_object_where_the_box_says(root):
    cutouts = load_cutouts(root, "train", progress=False)
    rng = np.random.default_rng(3)
    for _ in range(20):
        pair = make_pair(rng, cutouts, (96, 128), query_side=(20, 40))
        assert pair.search.shape == (96, 128, 3) and pair.search.dtype == np.uint8
        assert pair.mask.shape == (96, 128) and pair.mask.any()
        x0, y0, x1, y1 = pair.box
        assert 0 <= x0 < x1 <= 128 and 0 <= y0 < y1 <= 96
        ys, xs = np.nonzero(pair.mask)  # visible pixels lie inside the whole object's box
        assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
        assert max(pair.query.shape[:2]) <= 48 and pair.query.dtype == np.uint8
        assert SCALE_RANGE[0] * 0.5 <= pair.scale <= SCALE_RANGE[1] * 2
    a = make_pair(np.random.default_rng(7), cutouts, (64, 64))
    b = make_pair(np.random.default_rng(7), cutouts, (64, 64))
    np.testing.assert_array_equal(a.search, b.search)  # a seed fixes a pair


def test_the_development_set_is_drawn_once_from_the_test_split(root, tmp_path):
    folder = write_dev_set(tmp_path / "dev", root, count=4, seed=5, progress=False)
    manifest = json.loads((folder / "pairs.json").read_text())
    assert manifest["count"] == 4 and manifest["seed"] == 5 and len(manifest["pairs"]) == 4
    pairs = read_dev_set(folder)
    assert len(pairs) == 4 and all(p.search.shape[:2] in ((384, 512), (512, 384)) for p in pairs)
    again = dev_set(folder, root / "missing", count=4, seed=5)  # read back, not redrawn (the data is not even needed)
    np.testing.assert_array_equal(again[2].search, pairs[2].search)
    assert again[1].box == pairs[1].box
