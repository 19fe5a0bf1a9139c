"""Closed-form pseudo mattes of the seg images and their use in matting samples."""
import json

import numpy as np
import pytest
from PIL import Image

from segwidgets.train.data import load_items
from segwidgets.train.matting_data import MattingSampler
from segwidgets.train.pseudo_mattes import band_trimap, load_pseudo_mattes

pytest.importorskip("pymatting", reason="pseudo mattes need the pymatting extra")

RED, BLUE = np.array([0.85, 0.15, 0.1]), np.array([0.1, 0.2, 0.8])


def soft_disc(h=64, w=80, cx=40.0, cy=32.0, radius=18.0, ramp=4.0) -> np.ndarray:
    """(h, w) alpha: 1 inside ``radius - ramp / 2``, 0 outside ``radius + ramp / 2``, linear between."""
    yy, xx = np.mgrid[:h, :w]
    return np.clip((radius + ramp / 2 - np.hypot(xx - cx, yy - cy)) / ramp, 0, 1)


def composite(alpha, noise=0.0, seed=0) -> np.ndarray:
    rgb = alpha[..., None] * RED + (1 - alpha[..., None]) * BLUE
    rgb = rgb + np.random.default_rng(seed).normal(0, noise, rgb.shape)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def test_band_trimap_known_values():
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    trimap = band_trimap(mask, 2)
    assert trimap[10, 10] == 1 and trimap[10, 7] == 1 and trimap[10, 6] == 0.5  # 2 px in from the edge at 5
    assert trimap[10, 5] == 0.5 and trimap[10, 3] == 0.5 and trimap[10, 2] == 0  # 2 px out
    assert set(np.unique(trimap)) == {0.0, 0.5, 1.0}


def test_pseudo_matte_recovers_a_soft_edge_and_its_foreground_colour():
    from segwidgets.train.pseudo_mattes import pseudo_matte

    alpha = soft_disc()
    image = composite(alpha)
    found, foreground, iou = pseudo_matte(image, alpha > 0.5, band_px=5)
    band = band_trimap(alpha > 0.5, 5) == 0.5
    assert np.abs(found - alpha)[band].mean() < 0.03  # two colours: closed-form is near exact
    assert np.abs(found - alpha).max() < 0.15
    assert iou > 0.95
    partial = (alpha > 0.25) & (alpha < 0.75)
    np.testing.assert_allclose(foreground[partial], np.broadcast_to(RED, foreground[partial].shape), atol=0.08)


def test_pseudo_matte_reports_a_mask_that_misses_the_colour_edge():
    from segwidgets.train.pseudo_mattes import MIN_MASK_IOU, pseudo_matte

    image = composite(soft_disc(cx=30))
    _, _, iou = pseudo_matte(image, soft_disc(cx=50) > 0.5, band_px=5)  # mask 20 px off the object
    assert iou < MIN_MASK_IOU
    assert pseudo_matte(image, np.ones((64, 80), bool), band_px=5)[0] is None  # no known background


@pytest.fixture(scope="module")
def discs(tmp_path_factory):
    """A seg-style folder of 20 soft discs, every fifth one with a mask off its disc."""
    root = tmp_path_factory.mktemp("seg")
    folder = root / "discs"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for i in range(20):
        alpha = soft_disc(cx=30 + i, radius=14 + i % 4)
        mask = soft_disc(cx=30 + i + (22 if i % 5 == 3 else 0), radius=14 + i % 4) > 0.5
        Image.fromarray(composite(alpha, noise=0.01, seed=i)).save(folder / "images" / f"{i:03d}.png")
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / "masks" / f"{i:03d}.png")
    return root


def test_pseudo_mattes_command_writes_the_train_split_only_drops_bad_masks_and_resumes(discs, tmp_path):
    from segwidgets.train.__main__ import main

    out = tmp_path / "pseudo"
    assert main(["pseudo-mattes", "--data", str(discs), "--out", str(out), "--band", "5", "--workers", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    written = sorted(p.name for p in (out / "discs").glob("*_alpha.png"))
    # Train split: every index but 0 and 10; masks 3, 8, 13, 18 are off their disc and dropped.
    expected = [f"{i:03d}_alpha.png" for i in range(20) if i % 10 != 0 and i % 5 != 3]
    assert written == expected
    assert summary["images"] == 18 and summary["kept"] == 14
    assert summary["datasets"]["discs"]["dropped"] == {"disagrees with mask": 4}
    first = (out / "discs" / "001_alpha.png").stat().st_mtime_ns
    assert main(["pseudo-mattes", "--data", str(discs), "--out", str(out), "--band", "5", "--workers", "1"]) == 0
    assert (out / "discs" / "001_alpha.png").stat().st_mtime_ns == first  # kept, not recomputed

    items = load_items(discs, "fit", progress=False)
    found = load_pseudo_mattes(out, [item.name for item in items])
    assert sorted(found) == [item.name for item in items if int(item.name[-3:]) % 5 != 3]
    fg, alpha = found["discs/001"]
    assert fg.dtype == np.uint8 and fg.shape == (64, 80, 3) and alpha.dtype == np.float32
    np.testing.assert_allclose(alpha, soft_disc(cx=31, radius=15), atol=0.2)
    with pytest.raises(FileNotFoundError, match="pseudo-mattes --out"):
        load_pseudo_mattes(tmp_path / "missing", ["discs/001"])


def test_sampler_draws_pseudo_mattes_as_they_are_and_keeps_its_random_stream_without_them(discs):
    items = load_items(discs, "fit", progress=False)
    # A pseudo matte of constant alpha 0.8 and a green foreground: easy to tell from a blurred mask.
    pseudo = {item.name: (np.full(item.image.shape, (0, 255, 0), np.uint8), np.full(item.mask.shape, 0.8, np.float32))
              for item in items}
    sampler = MattingSampler(items, [], 32, pseudo=pseudo)
    rng = np.random.default_rng(0)
    for _ in range(5):
        s = sampler.sample(rng, real_p=0, pseudo_p=1.0, holes_p=1.0, strands_p=1.0)
        values = s.alpha[s.alpha > 0]
        # One layer (0.8) or two (1 - 0.2 * 0.2 = 0.96); holes or strands would add other values.
        layers = np.isclose(values, 0.8, atol=1e-3) | np.isclose(values, 0.96, atol=1e-3)
        assert values.size > 0.3 * s.alpha.size and layers.mean() > 0.9 and values.max() < 0.961
        back = s.alpha[..., None] * s.foreground + (1 - s.alpha[..., None]) * s.background
        assert np.abs(back - s.image).max() <= 0.5 / 255 + 1e-6
    plain = MattingSampler(items, [], 32)
    for with_pseudo, without in zip((sampler.sample(np.random.default_rng(5), real_p=0) for _ in range(3)),
                                    (plain.sample(np.random.default_rng(5), real_p=0) for _ in range(3))):
        np.testing.assert_array_equal(with_pseudo.alpha, without.alpha)  # pseudo_p=0: the same composites
        np.testing.assert_array_equal(with_pseudo.image, without.image)
