import json

import numpy as np
import pytest

from segwidgets.core.annotations import Annotations, load_annotations, save_annotations
from segwidgets.core.clicks import Click
from segwidgets.core.strokes import Stroke


@pytest.fixture
def image():
    return np.random.default_rng(0).integers(0, 256, (20, 30, 3)).astype(np.uint8)


def full_annotations(shape):
    mask = np.zeros(shape, bool)
    mask[5:10, 3:20] = True
    trimap = np.zeros(shape, np.uint8)
    trimap[4:12, 2:22] = 128
    trimap[6:9, 5:15] = 255
    return Annotations(clicks=(Click(4.5, 7.5), Click(20, 3, False)), boxes=((1.0, 2.0, 25.5, 18.0),),
                       strokes=(Stroke(((1, 1), (10, 12)), 3, 0),), mask=mask, trimap=trimap)


def test_round_trip(tmp_path, image):
    saved = full_annotations(image.shape[:2])
    path = save_annotations(tmp_path / "work" / "cat", image, saved)
    assert path.name == "cat.json" and (tmp_path / "work" / "cat.mask.png").exists()
    loaded = load_annotations(tmp_path / "work" / "cat", image)
    assert loaded.clicks == saved.clicks and loaded.boxes == saved.boxes and loaded.strokes == saved.strokes
    assert np.array_equal(loaded.mask, saved.mask) and np.array_equal(loaded.trimap, saved.trimap)
    assert load_annotations(path, image.copy()).clicks == saved.clicks  # same content, another array
    assert not list(tmp_path.glob("work/*.tmp")) and not list(tmp_path.glob("work/.*"))  # no temporary left


def test_refuses_another_image(tmp_path, image):
    save_annotations(tmp_path / "a", image, Annotations(clicks=(Click(1, 1),)))
    other = image.copy()
    other[0, 0, 0] ^= 1  # one value differs
    with pytest.raises(ValueError, match="another image.*other pixels"):
        load_annotations(tmp_path / "a", other)
    with pytest.raises(ValueError, match=r"another image \(shape \[20, 30\]"):
        load_annotations(tmp_path / "a", image[:10])


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", json.dumps({"format": "something else"}),
                                     json.dumps({"format": "segwidgets-annotations", "version": 1, "image": {}})])
def test_corrupt_files_name_the_file(tmp_path, image, content):
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(ValueError, match="bad.json is not a readable segwidgets annotation file"):
        load_annotations(tmp_path / "bad.json", image)


def test_a_missing_field_is_named(tmp_path, image):
    (tmp_path / "partial.json").write_text(json.dumps({"format": "segwidgets-annotations", "version": 1,
                                                       "image": {"shape": [20, 30]}}))
    with pytest.raises(ValueError, match="lacks the field 'hash'"):
        load_annotations(tmp_path / "partial.json", image)


def test_missing_and_damaged_pngs(tmp_path, image):
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        load_annotations(tmp_path / "nothing", image)
    save_annotations(tmp_path / "m", image, full_annotations(image.shape[:2]))
    (tmp_path / "m.trimap.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="m.trimap.png"):
        load_annotations(tmp_path / "m", image)
    (tmp_path / "m.mask.png").unlink()
    with pytest.raises(FileNotFoundError, match="m.mask.png"):
        load_annotations(tmp_path / "m", image)


def test_bad_arrays_are_refused_before_anything_is_written(tmp_path, image):
    with pytest.raises(ValueError, match="mask"):
        save_annotations(tmp_path / "x", image, Annotations(mask=np.zeros((3, 3), bool)))
    bad_trimap = np.full(image.shape[:2], 7, np.uint8)
    with pytest.raises(ValueError, match="values"):
        save_annotations(tmp_path / "y", image, Annotations(trimap=bad_trimap))
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "y.json").exists()


@pytest.mark.parametrize("field, value", [("mask", "../outside.png"), ("trimap", "/etc/hostname"),
                                          ("mask", "sub/cat.mask.png"), ("mask", 7)])
def test_mask_and_trimap_files_must_sit_beside_the_state_file(tmp_path, image, field, value):
    path = save_annotations(tmp_path / "work" / "cat", image, full_annotations(image.shape[:2]))
    (tmp_path / "outside.png").write_bytes((tmp_path / "work" / "cat.mask.png").read_bytes())
    payload = json.loads(path.read_text())
    payload[field] = value
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="cat.json"):
        load_annotations(path, image)
