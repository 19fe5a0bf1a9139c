"""The data layer on tiny generated files (the shared data is never copied here)."""
import importlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import segwidgets.data as data
from segwidgets.data import (
    TEST_EVERY, VALIDATION_REMAINDER, dataset_folders, default_data_root, label_names, list_pairs, load_alpha,
    load_label_map, load_mask, load_trimap, split_pairs,
)


def save_image(path: Path, size=(3, 4)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((*size, 3), np.uint8)).save(path)
    return path


def save_gray(path: Path, values) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(values, np.uint8)).save(path)
    return path


def save_palette(path: Path, indices) -> Path:
    pil = Image.fromarray(np.asarray(indices, np.uint8), mode="P")
    pil.putpalette([0, 0, 0, 255, 0, 0] + [0, 128, 0] * 254)  # colours must not matter, only indices
    pil.save(path)
    return path


def make_dataset(folder: Path, names, target="masks") -> Path:
    for name in names:
        save_image(folder / "images" / f"{name}.jpg")
        save_gray(folder / target / f"{name}.png", np.zeros((3, 4)))
    return folder


# Pairing


def test_pairs_match_by_stem_and_sort_by_image_name(tmp_path):
    make_dataset(tmp_path, ["b", "a", "c"])
    (tmp_path / "masks" / "notes.txt").write_text("not a mask")
    pairs = list_pairs(tmp_path / "images", tmp_path / "masks")
    assert [(i.name, m.name) for i, m in pairs] == [("a.jpg", "a.png"), ("b.jpg", "b.png"), ("c.jpg", "c.png")]
    assert [i.name for i, _ in list_pairs(tmp_path / "images", tmp_path / "masks", limit=2)] == ["a.jpg", "b.jpg"]


def test_pairs_for_other_target_folders_and_suffixes(tmp_path):
    save_image(tmp_path / "images" / "GT01.png")
    save_gray(tmp_path / "alpha" / "GT01.png", np.zeros((3, 4)))
    (tmp_path / "trimap").mkdir()
    (tmp_path / "trimap" / "GT01.TIF").write_bytes(b"")
    assert [m.name for _, m in list_pairs(tmp_path / "images", tmp_path / "alpha")] == ["GT01.png"]
    trimaps = list_pairs(tmp_path / "images", tmp_path / "trimap", target_suffix=".tif")
    assert [m.name for _, m in trimaps] == ["GT01.TIF"]


def test_missing_target_or_folder_is_named_in_the_error(tmp_path):
    make_dataset(tmp_path, ["a"])
    save_image(tmp_path / "images" / "b.jpg")
    with pytest.raises(FileNotFoundError, match=r"no b\.png in .*masks.* for image b\.jpg"):
        list_pairs(tmp_path / "images", tmp_path / "masks")
    with pytest.raises(FileNotFoundError, match="labels"):
        list_pairs(tmp_path / "images", tmp_path / "labels")


# Split rule


def test_split_rule_on_known_indices():
    pairs = list(range(25))
    assert (TEST_EVERY, VALIDATION_REMAINDER) == (10, 5)
    assert split_pairs(pairs, "test") == [0, 10, 20]
    assert split_pairs(pairs, "validation") == [5, 15]
    train = split_pairs(pairs, "train")
    fit = split_pairs(pairs, "fit")
    assert train == [i for i in pairs if i not in (0, 10, 20)]
    assert fit == [i for i in train if i not in (5, 15)]
    assert sorted(split_pairs(pairs, "test") + train) == pairs
    assert sorted(split_pairs(pairs, "test") + fit + split_pairs(pairs, "validation")) == pairs
    with pytest.raises(ValueError, match="everything"):
        split_pairs(pairs, "everything")


# Readers


def test_grayscale_mask_conventions(tmp_path):
    path = save_gray(tmp_path / "m.png", [[0, 127, 128, 129, 255]])
    obj, ignore = load_mask(path)
    assert obj.dtype == bool and obj.shape == (1, 5)
    assert obj[0].tolist() == [False, False, False, True, True]
    assert ignore[0].tolist() == [False, False, True, False, False]


def test_palette_mask_conventions(tmp_path):
    # DAVIS: index 0 background, 255 void, any other index object (whatever its colour).
    path = save_palette(tmp_path / "p.png", [[0, 1, 2, 128, 255]])
    obj, ignore = load_mask(path)
    assert obj[0].tolist() == [False, True, True, True, False]
    assert ignore[0].tolist() == [False, False, False, False, True]


def test_label_maps_keep_indices_and_values(tmp_path):
    values = [[0, 5, 19, 58]]
    palette = load_label_map(save_palette(tmp_path / "p.png", values))
    gray = load_label_map(save_gray(tmp_path / "g.png", values))
    assert palette.dtype == gray.dtype == np.int32
    assert palette.tolist() == gray.tolist() == values
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="rgb.png"):
        load_label_map(tmp_path / "rgb.png")


def test_label_names_index_is_the_line_number(tmp_path):
    (tmp_path / "label_names.txt").write_text("0 null\n1 accessories\n2 bag\n")
    assert label_names(tmp_path) == ["null", "accessories", "bag"]
    (tmp_path / "label_names.txt").write_text("background\nperson\n")
    assert label_names(tmp_path) == ["background", "person"]
    (tmp_path / "label_names.txt").write_text("0 null\n2 bag\n")
    with pytest.raises(ValueError, match="line 2"):
        label_names(tmp_path)
    with pytest.raises(FileNotFoundError, match="label_names.txt"):
        label_names(tmp_path / "nowhere")


def test_alpha_is_gray_over_255(tmp_path):
    alpha = load_alpha(save_gray(tmp_path / "a.png", [[0, 51, 255]]))
    assert alpha.dtype == np.float32
    assert alpha[0].tolist() == pytest.approx([0.0, 0.2, 1.0])
    # Gray stored as RGB (as alphamatting.com does) reads the same.
    Image.fromarray(np.repeat(np.array([[[0], [51], [255]]], np.uint8), 3, axis=2)).save(tmp_path / "rgb.png")
    assert load_alpha(tmp_path / "rgb.png").tolist() == alpha.tolist()
    Image.fromarray(np.array([[[255, 0, 0]]], np.uint8)).save(tmp_path / "red.png")
    with pytest.raises(ValueError, match="colour"):
        load_alpha(tmp_path / "red.png")
    Image.fromarray(np.array([[1000]], np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(ValueError, match="8-bit"):
        load_alpha(tmp_path / "deep.png")


def test_trimap_reads_every_unknown_gray_as_128(tmp_path):
    trimap = load_trimap(save_gray(tmp_path / "t.png", [[0, 100, 128, 102, 255, 1]]))
    assert trimap.dtype == np.uint8
    assert trimap[0].tolist() == [0, 128, 128, 128, 255, 128]
    pil = Image.fromarray(np.array([[0, 1, 2]], np.uint8), mode="P")
    pil.putpalette([0, 0, 0, 128, 128, 128, 255, 255, 255] + [0] * (3 * 253))
    pil.save(tmp_path / "p.png")
    assert load_trimap(tmp_path / "p.png")[0].tolist() == [0, 128, 255]  # palette colours, not indices


def test_missing_and_unreadable_files_are_named(tmp_path):
    for read in (load_mask, load_label_map, load_alpha, load_trimap):
        with pytest.raises(FileNotFoundError, match="gone.png"):
            read(tmp_path / "gone.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(OSError, match="broken.png"):
        load_mask(tmp_path / "broken.png")


# Dataset folders and the data root


def test_dataset_folders(tmp_path):
    make_dataset(tmp_path / "one" / "b_set", ["x"])
    make_dataset(tmp_path / "one" / "a_set", ["x"])
    make_dataset(tmp_path / "one" / "mattes", ["x"], target="alpha")  # no masks/: not a mask dataset
    assert dataset_folders(tmp_path / "one") == [tmp_path / "one" / "a_set", tmp_path / "one" / "b_set"]
    assert dataset_folders(tmp_path / "one" / "a_set") == [tmp_path / "one" / "a_set"]
    with pytest.raises(FileNotFoundError, match="mattes"):
        dataset_folders(tmp_path / "one" / "mattes")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        dataset_folders(tmp_path / "nowhere")


def test_default_root_is_shared_data_beside_the_repository(monkeypatch):
    monkeypatch.delenv("SEGWIDGETS_DATA", raising=False)
    repo = Path(__file__).resolve().parents[2]
    assert default_data_root() == repo.parent / "shared" / "data"


def test_environment_variable_overrides_the_root(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGWIDGETS_DATA", str(tmp_path))
    assert default_data_root() == tmp_path
    folders = importlib.import_module("segwidgets.data.folders")
    try:
        assert importlib.reload(folders).DEFAULT_DATA_ROOT == tmp_path
    finally:
        monkeypatch.undo()  # back to the environment the package was imported under
        importlib.reload(folders)
    assert folders.DEFAULT_DATA_ROOT == data.DEFAULT_DATA_ROOT
