"""Semantic training: class grouping, segment targets, batches, and the command end to end (tiny data)."""
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.models import mobilenet_v2

from segwidgets.core.engine import Engine
from segwidgets.data.semantic import CLASS_GROUPS, CLASS_NAMES, class_lookup
from segwidgets.pipelines.segments import Segments
from segwidgets.train.__main__ import main
from segwidgets.train.semantic import segment_targets

CCP_NAMES = ("null accessories bag belt blazer blouse bodysuit boots bra bracelet cape cardigan clogs coat dress "
             "earrings flats glasses gloves hair hat heels hoodie intimate jacket jeans jumper leggings loafers "
             "necklace panties pants pumps purse ring romper sandals scarf shirt shoes shorts skin skirt sneakers "
             "socks stockings suit sunglasses sweater sweatshirt swimwear t-shirt tie tights top vest wallet watch "
             "wedges").split()


def test_every_ccp_label_maps_to_one_of_eight_classes():
    lookup = class_lookup(CCP_NAMES)
    assert len(CCP_NAMES) == 59 and lookup.shape == (59,)
    assert set(lookup.tolist()) == set(range(len(CLASS_NAMES)))
    named = dict(zip(CCP_NAMES, lookup.tolist()))
    assert named["null"] == 0 and named["skin"] == 1 and named["hair"] == 2
    assert CLASS_NAMES[named["jeans"]] == "lower clothes" and CLASS_NAMES[named["sneakers"]] == "footwear"
    assert CLASS_NAMES[named["purse"]] == "bags and accessories" and CLASS_NAMES[named["romper"]] == "dress"
    assert set(CLASS_GROUPS) == set(CLASS_NAMES)
    with pytest.raises(ValueError, match="no class group"):
        class_lookup(CCP_NAMES + ["cravat"])


def test_segment_targets_are_overlap_fractions():
    layers = np.array([[[0, 0, 1, 1]], [[2, 2, 2, 2]]], np.int32)
    classes = np.array([[0, 3, 3, 3]], np.uint8)
    targets = segment_targets(Segments(layers, ("a", "b")), classes, class_count=4)
    np.testing.assert_allclose(targets, [[0.5, 0, 0, 0.5], [0, 0, 0, 1], [0.25, 0, 0, 0.75]])


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    root = tmp_path_factory.mktemp("ccp")
    for sub in ("images", "labels", "masks"):
        (root / sub).mkdir()
    (root / "label_names.txt").write_text("\n".join(f"{i} {n}" for i, n in enumerate(CCP_NAMES)) + "\n")
    rng = np.random.default_rng(0)
    colours = {0: (210, 210, 200), 41: (220, 170, 140), 19: (60, 40, 30), 51: (200, 40, 40), 25: (40, 60, 140)}
    for i in range(24):
        labels = np.zeros((64, 48), np.uint8)
        top = int(rng.integers(4, 10))
        labels[top:top + 8, 16:32] = 19
        labels[top + 8:top + 16, 18:30] = 41
        labels[top + 16:top + 34, 12:36] = 51
        labels[top + 34:60, 14:34] = 25
        image = np.array([colours[v] for v in labels.ravel()], np.float64).reshape(64, 48, 3)
        image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"{i:03d}.jpg")
        Image.fromarray(labels).save(root / "labels" / f"{i:03d}.png")
        Image.fromarray(((labels > 0) * 255).astype(np.uint8)).save(root / "masks" / f"{i:03d}.png")
    pretrained = root / "mobilenet.pth"
    torch.save(mobilenet_v2().state_dict(), pretrained)
    return root, pretrained


@pytest.mark.parametrize("head", ["masking", "pixel"])
def test_semantic_training_runs_resumes_and_exports(people, tmp_path, head):
    root, pretrained = people
    out = tmp_path / head
    common = ["--data", str(root), "--out", str(out), "--batch-size", "2", "--eval-every", "2", "--segments", "8",
              "--checkpoint-every", "1", "--threads", "1", "--device", "cpu", "--pretrained", str(pretrained),
              "--val-images", "2", "--head", head]
    assert main(["semantic", "--steps", "2", *common]) == 0
    assert main(["semantic", "--steps", "3", *common]) == 0  # resumes at step 2
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [2, 3]
    assert 0 <= log[-1]["val_miou"] <= 1 and len(log[-1]["val_class_iou"]) == len(CLASS_NAMES)
    weights = out / ("semantic.safetensors" if head == "masking" else "semantic_pixel.safetensors")
    assert weights.stat().st_size < 10e6
    Engine("cpu").load_weights("semantic" if head == "masking" else "semantic_pixel", weights)
    assert head in (out / "MODEL_CARD.md").read_text()
    if head == "masking":  # candidates were computed once and kept
        assert len(list((out / "candidates").glob("*.npz"))) > 0
