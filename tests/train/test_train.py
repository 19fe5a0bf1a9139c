"""Training commands run end to end on a tiny synthetic dataset (a few steps, CPU)."""
import json

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage
from torchvision.models import mobilenet_v2

from segwidgets.core.engine import Engine
from segwidgets.pipelines import boundary_aware, click  # noqa: F401  (registers the models)
from segwidgets.data import list_pairs, split_pairs
from segwidgets.train.__main__ import main
from segwidgets.core.weights import WeightsError
from segwidgets.train.click import (LATE_MAX_ROUNDS, MAX_ROUNDS, MAX_TRAIN_CLICKS, add_corrections, max_rounds,
                                    perturb_previous, perturbed_mask)
from segwidgets.train.data import Item, edge_band, folder_means, load_items, make_batch, spread_indices


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    folder = root / "discs"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):
        h, w = 48 + 4 * (i % 3), 64
        yy, xx = np.mgrid[:h, :w]
        cx, cy, r = rng.uniform(20, 44), rng.uniform(18, 30), rng.uniform(8, 14)
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
        image = np.where(mask[..., None], [200, 60, 50], [40, 90, 160]) + rng.normal(0, 10, (h, w, 3))
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / "images" / f"{i:03d}.jpg")
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / "masks" / f"{i:03d}.png")
    pretrained = root / "mobilenet.pth"
    torch.save(mobilenet_v2().state_dict(), pretrained)
    return root, pretrained


def test_split_rule_keeps_test_images_out_of_training(dataset):
    root, _ = dataset
    pairs = list_pairs(root / "discs" / "images", root / "discs" / "masks")
    test = {p[0].name for p in split_pairs(pairs, "test")}
    assert test == {"000.jpg", "010.jpg", "020.jpg"}
    fit = {p[0].name for p in split_pairs(pairs, "fit")}
    validation = {p[0].name for p in split_pairs(pairs, "validation")}
    assert not (fit & test) and not (validation & test) and not (fit & validation)
    assert validation == {"005.jpg", "015.jpg"}
    names = {item.name.split("/")[1] for item in load_items(root, "fit", progress=False)}
    assert names == {n[:-4] for n in fit}
    with pytest.raises(ValueError):
        split_pairs(pairs, "everything")


def test_batches_are_aligned_and_edges_are_a_band(dataset):
    root, _ = dataset
    items = load_items(root, "fit", progress=False)
    images, masks, edges = make_batch(np.random.default_rng(0), items, 4, 32)
    assert images.shape == (4, 3, 32, 32) and masks.shape == edges.shape == (4, 1, 32, 32)
    assert 0 <= images.min() and images.max() <= 1
    # The object is the red disc: masked pixels are redder than the rest.
    red = images[:, 0] - images[:, 2]
    assert red[masks[:, 0] > 0].mean() > red[masks[:, 0] == 0].mean() + 0.3
    square = torch.zeros(1, 1, 20, 20)
    square[..., 5:15, 5:15] = 1
    band = edge_band(square, width=1)
    assert band[0, 0, 10, 10] == 0 and band[0, 0, 5, 10] == 1 and band[0, 0, 4, 10] == 1 and band[0, 0, 0, 0] == 0


@pytest.mark.parametrize("model", ["objectness", "click"])
def test_training_command_runs_resumes_and_exports(dataset, tmp_path, model):
    root, pretrained = dataset
    out = tmp_path / model
    common = ["--data", str(root), "--out", str(out), "--size", "64", "--batch-size", "2", "--eval-every", "2",
              "--checkpoint-every", "1", "--threads", "1", "--device", "cpu", "--pretrained", str(pretrained)]
    assert main([model, "--steps", "2", *common]) == 0
    assert main([model, "--steps", "3", *common]) == 0  # resumes at step 2
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [2, 3]
    weights = out / f"{model}.safetensors"
    assert weights.stat().st_size < 10e6
    assert (out / "evals" / "step2" / weights.name).stat().st_size == weights.stat().st_size  # each evaluation's kept
    assert (out / "evals" / "step3" / weights.name).read_bytes() == weights.read_bytes()
    engine = Engine("cpu")
    engine.load_weights(model, weights)  # loads strictly into the shipped architecture
    assert next(engine.model(model).parameters()).dtype == torch.float32


def test_click_training_can_start_from_objectness_weights(dataset, tmp_path):
    root, pretrained = dataset
    common = ["--data", str(root), "--size", "64", "--batch-size", "2", "--eval-every", "1", "--threads", "1",
              "--device", "cpu", "--steps", "1"]
    main(["objectness", "--out", str(tmp_path / "o"), "--pretrained", str(pretrained), *common])
    assert main(["click", "--out", str(tmp_path / "c"), "--init", str(tmp_path / "o" / "objectness.safetensors"), *common]) == 0
    with pytest.raises(SystemExit):
        main(["click", "--out", str(tmp_path / "c2"), "--init", str(tmp_path / "missing.safetensors"), *common])


@pytest.mark.parametrize("model", ["objectness", "click"])
def test_fine_tuning_starts_from_weights_logs_them_at_step_0_and_resumes(dataset, tmp_path, model):
    """``--init-from`` loads a network's own weights (the shipped ones in practice), the log's first line is
    those weights on the validation set, and ``--resume`` goes on from the checkpoint (an error without one)."""
    root, pretrained = dataset
    common = ["--data", str(root), "--size", "64", "--batch-size", "2", "--eval-every", "1", "--threads", "1",
              "--device", "cpu", "--pretrained", str(pretrained)]
    main([model, "--out", str(tmp_path / "first"), "--steps", "1", *common])
    start = tmp_path / "first" / f"{model}.safetensors"
    out = tmp_path / "tuned"
    with pytest.raises(SystemExit):
        main([model, "--out", str(out), "--resume", "--steps", "1", *common])
    assert main([model, "--out", str(out), "--init-from", str(start), "--steps", "1", *common]) == 0
    first = json.loads((tmp_path / "first" / "log.jsonl").read_text().splitlines()[-1])
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [0, 1]
    key = "val_iou" if model == "objectness" else "val_iou@3"
    assert log[0][key] == pytest.approx(first[key], abs=0.02)  # the starting weights, re-scored (fp16 file)
    assert log[0][f"{key}_discs"] == log[0][key]  # one folder: its mean is the mean
    assert main([model, "--out", str(out), "--resume", "--steps", "2", *common]) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [0, 1, 2]


def test_objectness_init_from_refuses_other_weights(dataset, tmp_path):
    root, pretrained = dataset
    common = ["--data", str(root), "--size", "64", "--batch-size", "2", "--threads", "1", "--device", "cpu",
              "--steps", "1", "--pretrained", str(pretrained)]
    main(["click", "--out", str(tmp_path / "c"), *common])
    with pytest.raises(WeightsError, match="does not match ObjectnessNet"):
        main(["objectness", "--out", str(tmp_path / "o"), "--init-from", str(tmp_path / "c" / "click.safetensors"), *common])


def test_validation_helpers_spread_over_folders_and_group_by_folder():
    assert spread_indices(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = spread_indices(100, 4)
    assert picked.tolist() == [0, 33, 66, 99]
    items = [Item(None, None, (0, 0, 1, 1), name) for name in ("a/1", "a/2", "b/1")]
    assert folder_means([0.5, 1.0, 0.2], items, "iou") == {"iou_a": 0.75, "iou_b": 0.2}
    assert [max_rounds(s, 10) for s in (0, 4, 5, 9)] == [MAX_ROUNDS, MAX_ROUNDS, LATE_MAX_ROUNDS, LATE_MAX_ROUNDS]
    assert LATE_MAX_ROUNDS > MAX_ROUNDS
    assert [max_rounds(s, 10, early=3, late=8) for s in (4, 5)] == [3, 8]


def test_corrections_stop_at_the_click_cap():
    target = np.zeros((1, 20, 20), bool)
    target[0, 5:15, 5:15] = True
    empty = np.zeros_like(target)
    lists = [[(10.5, 10.5, 1.0)] * (MAX_TRAIN_CLICKS - 1)]
    add_corrections(lists, empty, target)  # one below the default cap: a click is added
    assert len(lists[0]) == MAX_TRAIN_CLICKS
    add_corrections(lists, empty, target)
    assert len(lists[0]) == MAX_TRAIN_CLICKS
    add_corrections(lists, empty, target, max_clicks=MAX_TRAIN_CLICKS + 1)
    assert len(lists[0]) == MAX_TRAIN_CLICKS + 1 and lists[0][-1][2] == 1.0  # inside the missed object: positive
    add_corrections(lists, target, target, max_clicks=50)  # no error left: nothing added
    assert len(lists[0]) == MAX_TRAIN_CLICKS + 1


def test_click_round_options_default_to_the_module_constants_and_refuse_bad_values(dataset, tmp_path, capsys,
                                                                                    monkeypatch):
    root, pretrained = dataset
    common = ["--data", str(root), "--size", "64", "--batch-size", "2", "--eval-every", "1", "--threads", "1",
              "--device", "cpu", "--steps", "2", "--pretrained", str(pretrained)]
    for option, value in (("--max-rounds", "-1"), ("--late-max-rounds", "-2"), ("--max-clicks", "0"),
                          ("--perturb-p", "1.5"), ("--perturb-p", "-0.1")):
        with pytest.raises(SystemExit):
            main(["click", "--out", str(tmp_path / "bad"), option, value, *common])
        assert option in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()  # refused before anything was written
    out = tmp_path / "many"
    assert main(["click", "--out", str(out), "--max-rounds", "3", "--late-max-rounds", "6", "--max-clicks", "12",
                 "--perturb-p", "1", *common]) == 0
    assert (out / "click.safetensors").exists()
    seen = []
    monkeypatch.setattr("segwidgets.train.click.run", lambda args: seen.append(
        (args.max_rounds, args.late_max_rounds, args.max_clicks)))
    main(["click", "--out", str(tmp_path / "defaults"), *common])
    main(["click", "--out", str(tmp_path / "set"), "--late-max-rounds", "7", *common])
    assert seen == [(MAX_ROUNDS, LATE_MAX_ROUNDS, MAX_TRAIN_CLICKS), (MAX_ROUNDS, 7, MAX_TRAIN_CLICKS)]


def test_perturbed_masks_grow_shrink_or_change_a_disc_across_the_outline():
    mask = np.zeros((100, 100), bool)
    mask[30:70, 30:70] = True  # size (square root of the area) 40 px
    kinds = set()
    rng = np.random.default_rng(0)
    for _ in range(60):
        wrong = perturbed_mask(rng, mask)
        assert wrong.shape == mask.shape and wrong.dtype == bool and (wrong != mask).any()
        if (wrong >= mask).all():  # grown, or a disc added
            added = wrong & ~mask
            if added[29, 30:70].all() and added[70, 30:70].all() and added[30:70, 29].all():
                kinds.add("grown")  # all round: grown by at least 0.1 * 40 = 4 px
                assert added[26, 50] and not added[9, 50]  # by 4..20 px
            else:
                kinds.add("disc added")
        else:
            assert (wrong <= mask).all()  # shrunk, or a disc cut: never both wrong ways at once
            if not wrong[30, 30:70].any() and not wrong[69, 30:70].any() and not wrong[30:70, 30].any():
                kinds.add("shrunk")  # all round
                assert wrong[50, 50] and wrong[41, 50]  # by 2..10 px (0.05..0.25 of 40)
            else:
                kinds.add("disc cut")
    assert kinds == {"grown", "shrunk", "disc added", "disc cut"}


def test_perturbed_previous_masks_come_with_the_protocols_click_on_them():
    targets = np.zeros((3, 64, 64), bool)
    targets[:, 16:48, 16:48] = True
    targets[2] = False  # an empty target is never perturbed
    previous = torch.zeros((3, 1, 64, 64))
    lists = [[(32.5, 32.5, 1.0)] for _ in range(3)]
    unchanged = perturb_previous(np.random.default_rng(0), previous, lists, targets, share=0.0)
    assert torch.equal(unchanged, previous) and all(len(c) == 1 for c in lists)
    out = perturb_previous(np.random.default_rng(0), previous, lists, targets, share=1.0)
    assert torch.equal(previous, torch.zeros_like(previous))  # the input is not changed in place
    for i in range(2):
        wrong = out[i, 0].numpy() > 0.5
        assert (wrong != targets[i]).any() and len(lists[i]) == 2
        x, y, sign = lists[i][1]
        row, col = int(y), int(x)
        assert wrong[row, col] != targets[i][row, col]  # the click sits on an error...
        assert sign == (1.0 if targets[i][row, col] else -1.0)  # ...and says which side it is
    assert torch.equal(out[2], previous[2]) and len(lists[2]) == 1


@pytest.fixture(scope="module")
def mattes(tmp_path_factory):
    """An alphamatting-style folder: GT01 (fine-tuning) and GT09 (unseen, must never be read)."""
    root = tmp_path_factory.mktemp("mattes")
    for sub in ("images", "alpha", "trimap1"):
        (root / sub).mkdir()
    yy, xx = np.mgrid[:60, :80]
    alpha = np.clip((30 - np.hypot(xx - 40, yy - 30)) / 6, 0, 1)
    image = (alpha[..., None] * [220, 200, 40] + (1 - alpha[..., None]) * [30, 40, 120]).astype(np.uint8)
    Image.fromarray(image).save(root / "images" / "GT01.png")
    Image.fromarray((alpha * 255).astype(np.uint8)).save(root / "alpha" / "GT01.png")
    Image.fromarray(np.where((alpha > 0) & (alpha < 1), 128, alpha * 255).astype(np.uint8)).save(root / "trimap1" / "GT01.png")
    (root / "images" / "GT09.png").write_bytes(b"not an image: reading it would fail the run")
    return root


def test_matting_samples_follow_the_compositing_equation(dataset, mattes):
    from segwidgets.data.matting import load_alphamatting
    from segwidgets.train.matting_data import MattingSampler, trimap_from_alpha

    root, _ = dataset
    sampler = MattingSampler(load_items(root, "fit", progress=False), load_alphamatting(mattes, ("GT01",)), 48)
    rng = np.random.default_rng(1)
    for real_p in (0.0, 1.0):
        for _ in range(6):
            s = sampler.sample(rng, real_p=real_p, as_is_p=0.0)
            composite = s.alpha[..., None] * s.foreground + (1 - s.alpha[..., None]) * s.background
            assert s.has_colors and np.abs(composite - s.image).max() <= 0.5 / 255 + 1e-6
            assert set(np.unique(s.trimap)) <= {0.0, 0.5, 1.0}
            mixed = (s.alpha > 0.01) & (s.alpha < 0.99)
            assert (s.trimap[mixed] == 0.5).all()  # every mixed pixel is unknown
    alpha = np.zeros((30, 30), np.float32)
    alpha[10:20, 10:20] = 1
    alpha[10:20, 20] = 0.5
    trimap = trimap_from_alpha(np.random.default_rng(0), alpha, band=(2, 2))
    assert trimap[15, 20] == 0.5 and trimap[15, 22] == 0.5 and trimap[15, 23] == 0 and trimap[15, 15] == 1


def test_matting_training_runs_the_three_stages_and_resumes(dataset, mattes, tmp_path):
    root, pretrained = dataset
    out = tmp_path / "matting"
    common = ["--data", str(root), "--out", str(out), "--size", "64", "--batch-size", "2", "--eval-every", "2",
              "--checkpoint-every", "1", "--threads", "1", "--device", "cpu", "--pretrained", str(pretrained),
              "--mattes", str(mattes), "--val-batches", "1", "--finetune-steps", "1"]
    assert main(["matting", "--steps", "2", *common]) == 0
    assert main(["matting", "--steps", "3", *common]) == 0  # every stage resumes at step 2
    engine = Engine("cpu")
    total = 0
    for stage in ("background", "foreground", "alpha"):
        log = [json.loads(line) for line in (out / stage / "log.jsonl").read_text().splitlines()]
        assert [entry["step"] for entry in log] == [2, 3]
        weights = out / stage / f"matting_{stage}.safetensors"
        total += weights.stat().st_size
        engine.load_weights(f"matting_{stage}", weights)  # loads strictly into the shipped architecture
    assert total < 15e6
    card = (out / "MODEL_CARD.md").read_text()
    assert "GT01" in card and "val_sad" in card


def test_punched_holes_let_the_background_through_inside_the_object():
    from segwidgets.train.matting_data import punch_holes, trimap_from_alpha

    alpha = np.zeros((96, 96), np.float32)
    alpha[16:80, 16:80] = 1
    holed = punch_holes(np.random.default_rng(0), alpha)
    inside = alpha == 1
    lost = 1 - holed[inside].mean()
    assert 0.05 < lost < 0.5  # 10-40 % of the opaque part, edges softened
    assert (holed[~inside] == 0).all() and holed.min() >= 0 and holed.max() <= 1
    trimap = trimap_from_alpha(np.random.default_rng(0), holed, band=(1, 1))
    assert (trimap[16:80, 16:80] == 0.5).sum() > (trimap[16:80, 16:80] == 1).sum() * 0.1  # holes' edges: unknown
    tiny = np.zeros((20, 20), np.float32)
    tiny[5:9, 5:9] = 1
    assert (punch_holes(np.random.default_rng(0), tiny) == tiny).all()  # too small to punch


def test_strands_grow_out_of_the_outline_with_partial_alpha():
    from segwidgets.train.matting_data import grow_strands

    alpha = np.zeros((160, 160), np.float32)
    alpha[64:96, 64:96] = 1
    foreground = np.zeros((160, 160, 3), np.float32)
    foreground[64:96, 64:96] = (0.9, 0.2, 0.1)
    fg, grown = grow_strands(np.random.default_rng(0), foreground, alpha)
    outside = alpha == 0
    assert (grown >= alpha).all() and grown.max() <= 1
    strands = outside & (grown > 0)
    assert strands.sum() > 50 and np.median(grown[strands]) < 1  # thin: mostly partial alpha
    np.testing.assert_allclose(fg[strands], np.broadcast_to((0.9, 0.2, 0.1), fg[strands].shape), atol=0.2)
    far = np.zeros_like(outside)
    far[:4], far[-4:] = True, True
    assert (grown[far] == 0).all()  # at most 50 px from the outline (the border is 60 px away)


def test_widened_trimap_grows_the_unknown_region_only_within_reach():
    from segwidgets.train.matting_data import trimap_from_alpha, widen_unknown

    alpha = np.zeros((128, 128), np.float32)
    alpha[32:96, 32:96] = 1
    alpha[31, 32:96] = 0.5  # one mixed row: the plain band is 3 px around it
    plain = trimap_from_alpha(np.random.default_rng(0), alpha, band=(3, 3))
    unknown = plain == 0.5
    grown = [widen_unknown(np.random.default_rng(seed), unknown, reach=(10, 10)) for seed in range(5)]
    distance = ndimage.distance_transform_edt(~unknown)
    for wide in grown:
        assert (wide >= unknown).all() and wide.sum() > unknown.sum() * 1.5
        assert not wide[distance > 10].any()
    assert len({g.sum() for g in grown}) > 1  # strokes vary between samples
    assert not widen_unknown(np.random.default_rng(0), np.zeros((8, 8), bool)).any()
    wide = trimap_from_alpha(np.random.default_rng(0), alpha, band=(3, 3), wide=True)
    known = wide != 0.5
    assert (wide[known] == (alpha[known] >= 0.99)).all()  # known pixels keep their labels
    assert (wide == 0.5).sum() > unknown.sum()


def matting_args(root, pretrained, mattes, finetune_steps="1"):
    """Command-line options of a tiny two-step matting run."""
    return ["--data", str(root), "--size", "64", "--batch-size", "2", "--eval-every", "2", "--threads", "1",
            "--device", "cpu", "--pretrained", str(pretrained), "--mattes", str(mattes), "--val-batches", "1",
            "--finetune-steps", finetune_steps, "--steps", "2"]


def trained_matting_weights(common, tmp_path):
    """A folder with the three matting networks' weights from one tiny run (as --init takes them)."""
    first = tmp_path / "all"
    assert main(["matting", "--out", str(first), *common]) == 0
    weights = tmp_path / "weights"
    weights.mkdir()
    for stage in ("background", "foreground", "alpha"):
        (weights / f"matting_{stage}.safetensors").write_bytes((first / stage / f"matting_{stage}.safetensors").read_bytes())
    return weights


def test_matting_training_of_the_alpha_stage_alone_on_given_colour_networks(dataset, mattes, tmp_path):
    common = matting_args(*dataset, mattes)
    weights = trained_matting_weights(common, tmp_path)
    second = tmp_path / "alpha"
    with pytest.raises(ValueError, match="needs --init"):
        main(["matting", "--out", str(second), "--stages", "alpha", *common])
    with pytest.raises(ValueError, match="unknown stages"):
        main(["matting", "--out", str(second), "--stages", "alfa", "--init", str(weights), *common])
    assert main(["matting", "--out", str(second), "--stages", "alpha", "--init", str(weights), "--holes", "0.5",
                 "--strands", "0.5", "--wide", "0.5", "--laplacian", "0.5", *common]) == 0
    assert not (second / "background").exists() and not (second / "foreground").exists()
    log = [json.loads(line) for line in (second / "alpha" / "log.jsonl").read_text().splitlines()]
    assert {"val_sad", "holes_val_sad", "strands_val_sad", "wide_val_sad"} <= set(log[-1])
    card = (second / "MODEL_CARD.md").read_text()
    assert "--stages alpha --holes 0.5 --strands 0.5 --wide 0.5" in card and "--laplacian 0.5" in card and "| alpha |" in card and "| background |" not in card


def test_laplacian_loss_known_values():
    from segwidgets.train.matting import laplacian_loss, laplacian_pyramid

    alpha = torch.rand(2, 1, 32, 32)
    unknown = torch.zeros_like(alpha)
    unknown[..., 8:24, 8:24] = 1
    assert laplacian_loss(alpha, alpha, unknown).item() == 0
    bands = laplacian_pyramid(alpha, levels=3)
    assert [tuple(b.shape[-2:]) for b in bands] == [(32, 32), (16, 16), (8, 8)]
    # a constant offset has no band-pass content: only the last (low-pass) level, weight 2**2, sees it
    constant = torch.full_like(alpha, 0.25)
    offset = laplacian_pyramid(constant + 0.5, levels=3)
    assert all(torch.allclose(b, torch.zeros_like(b), atol=1e-6) for b in offset[:-1])
    assert torch.allclose(offset[-1], torch.full_like(offset[-1], 0.75))
    everywhere = torch.ones_like(alpha)
    found = laplacian_loss(constant + 0.5, constant, everywhere, levels=3).item()
    # 2**2 (level weight) x 0.5 (error) x 4**2 (each level-2 pixel stands for 16) x 64 pixels x 2 / (2048 x 3 levels)
    assert found == pytest.approx(4 * 0.5 * 16 * 64 * 2 / 2048 / 3, rel=1e-5)
    # errors outside the unknown region do not count
    assert laplacian_loss(alpha + (1 - unknown) * 0.3, alpha, unknown).item() == 0
    # a wrong block counts more than the same total error spread as fine noise
    block, noise = alpha.clone(), alpha.clone()
    block[..., 8:16, 8:16] += 0.5
    flips = (torch.arange(16).view(16, 1) + torch.arange(16)) % 2 * 2 - 1  # checkerboard of +-1
    noise[..., 8:24, 8:24] += 0.125 * flips
    assert laplacian_loss(block, alpha, unknown) > 2 * laplacian_loss(noise, alpha, unknown)


def test_colour_networks_run_at_the_working_scale_and_answer_at_full_size():
    from segwidgets.train.matting import color_output

    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            seen.append(tuple(x.shape))
            return torch.zeros(x.shape[0], 3, *x.shape[-2:])  # logit 0 -> colour 0.5

    batch = {"image": torch.rand(2, 3, 32, 48), "trimap": torch.full((2, 1, 32, 48), 0.5)}
    out = color_output("foreground", Recorder(), batch, background=torch.rand(2, 3, 32, 48), scale=0.5)
    assert seen == [(2, 7, 16, 24)]  # RGB + trimap + background, each shrunk 2x
    assert out.shape == (2, 3, 32, 48) and torch.allclose(out, torch.full_like(out, 0.5))
    color_output("background", Recorder(), batch, scale=1.0)
    assert seen[-1] == (2, 4, 32, 48)


def test_matting_training_of_the_colour_stages_at_the_working_scale(dataset, mattes, tmp_path):
    common = matting_args(*dataset, mattes, finetune_steps="0")
    weights = trained_matting_weights(common, tmp_path)
    second = tmp_path / "colours"
    assert main(["matting", "--out", str(second), "--stages", "background,foreground", "--init", str(weights),
                 "--color-scale", "0.5", *common]) == 0
    for stage in ("background", "foreground"):
        log = [json.loads(line) for line in (second / stage / "log.jsonl").read_text().splitlines()]
        assert log[-1]["step"] == 2 and np.isfinite(log[-1]["val_l1_255"])
    assert not (second / "alpha").exists()
    assert "--color-scale 0.5" in (second / "MODEL_CARD.md").read_text()


def test_query_losses_known_values():
    from segwidgets.train.query import double_margin_loss, l2_loss

    target = torch.zeros(1, 1, 2, 2)
    target[..., 0, 0] = 1
    heat = torch.tensor([[[[0.5, 0.1], [0.3, 0.2]]]])
    # Object pixel 0.5 is 0.3 below the 0.8 margin; background 0.3 is 0.1 above 0.2, the others pass.
    assert double_margin_loss(heat, target).item() == pytest.approx(0.3 ** 2 + 0.1 ** 2 / 3)
    assert l2_loss(heat, target).item() == pytest.approx((0.25 + 0.01 + 0.09 + 0.04) / 4)
    assert double_margin_loss(torch.tensor([[[[0.9, 0.1]]]]), torch.tensor([[[[1.0, 0.0]]]])).item() == 0


@pytest.mark.parametrize("loss", ["double_margin", "l2"])
def test_query_training_runs_resumes_and_exports(dataset, tmp_path, loss):
    root, pretrained = dataset
    out = tmp_path / "query"
    common = ["--data", str(root), "--out", str(out), "--size", "64", "--batch-size", "2", "--eval-every", "2",
              "--checkpoint-every", "1", "--threads", "1", "--device", "cpu", "--pretrained", str(pretrained),
              "--val-pairs", "2", "--loss", loss]
    assert main(["query", "--steps", "2", *common]) == 0
    assert main(["query", "--steps", "3", *common]) == 0  # resumes at step 2
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [2, 3] and "val_peak_hit" in log[-1]
    weights = out / "query.safetensors"
    assert weights.stat().st_size < 10e6
    Engine("cpu").load_weights("query", weights)  # loads strictly into the shipped architecture
    assert loss in (out / "MODEL_CARD.md").read_text()


def test_matting_training_on_pseudo_mattes_and_eval_only(dataset, mattes, tmp_path, capsys):
    pytest.importorskip("pymatting", reason="pseudo mattes need the pymatting extra")
    root, pretrained = dataset
    pseudo = tmp_path / "pseudo"
    assert main(["pseudo-mattes", "--data", str(root), "--out", str(pseudo), "--band", "3", "--workers", "1"]) == 0
    assert len(list((pseudo / "discs").glob("*_alpha.png"))) >= 10
    common = matting_args(root, pretrained, mattes)
    weights = trained_matting_weights(common, tmp_path)
    second = tmp_path / "alpha"
    assert main(["matting", "--out", str(second), "--stages", "alpha", "--init", str(weights), "--pseudo", str(pseudo),
                 "--pseudo-p", "0.7", *common]) == 0
    log = [json.loads(line) for line in (second / "alpha" / "log.jsonl").read_text().splitlines()]
    assert {"val_sad", "pseudo_val_sad", "pseudo_val_mse"} <= set(log[-1])
    assert f"--pseudo {pseudo} --pseudo-p 0.7" in (second / "MODEL_CARD.md").read_text()
    capsys.readouterr()
    third = tmp_path / "eval"
    assert main(["matting", "--out", str(third), "--stages", "alpha", "--init", str(weights), "--pseudo", str(pseudo),
                 "--eval-only", *common]) == 0
    printed = capsys.readouterr().out
    assert "stage alpha" in printed and '"pseudo_val_sad"' in printed
    assert not (third / "alpha").exists() and not (third / "MODEL_CARD.md").exists()  # nothing trained or written


def test_edge_weight_counts_p_errors_in_the_edge_band_more():
    from segwidgets.train.losses import soft_dice_loss
    from segwidgets.train.objectness import objectness_losses

    masks = torch.zeros(1, 1, 20, 20)
    masks[..., 5:15, 5:15] = 1
    edges = edge_band(masks, width=1)
    p_logits = torch.where(masks > 0, 8.0, -8.0)
    p_logits[edges > 0] *= -1  # confidently wrong in the band only
    logits = torch.cat([p_logits, torch.zeros_like(p_logits)], 1)
    dice = soft_dice_loss(p_logits, masks).item()
    _, plain, _ = objectness_losses(lambda _: logits, None, masks, edges)
    _, weighted, _ = objectness_losses(lambda _: logits, None, masks, edges, edge_weight=3)
    assert (weighted.item() - dice) / (plain.item() - dice) == pytest.approx(4, rel=1e-3)


class ConstantMaps(torch.nn.Module):
    """Logits whose sigmoid is ``p`` for P and ``b`` for B everywhere."""

    def __init__(self, p: float, b: float):
        super().__init__()
        self.logits = torch.logit(torch.tensor([p, b]))

    def forward(self, x):
        return self.logits.view(1, 2, 1, 1).expand(x.shape[0], 2, *x.shape[-2:])


def test_distillation_targets_blend_the_teachers_mean_into_the_ground_truth():
    from segwidgets.train.objectness import distillation_targets

    images = torch.rand(2, 3, 8, 8)
    masks = (torch.rand(2, 1, 8, 8) > 0.5).float()
    edges = (torch.rand(2, 1, 8, 8) > 0.8).float()
    teachers = [ConstantMaps(0.2, 0.1), ConstantMaps(0.6, 0.5)]  # mean P 0.4, mean B 0.3
    p, b = distillation_targets(teachers, images, masks, edges, 0.25)
    torch.testing.assert_close(p, 0.75 * masks + 0.25 * 0.4, atol=1e-6, rtol=0)
    torch.testing.assert_close(b, 0.75 * edges + 0.25 * 0.3, atol=1e-6, rtol=0)
    p0, b0 = distillation_targets(teachers, images, masks, edges, 0.0)  # share 0: the ground truth itself
    assert torch.equal(p0, masks) and torch.equal(b0, edges)


def test_objectness_training_distills_from_teacher_weights(dataset, tmp_path):
    root, pretrained = dataset
    common = ["--data", str(root), "--size", "64", "--batch-size", "2", "--threads", "1", "--device", "cpu",
              "--steps", "1", "--pretrained", str(pretrained)]
    main(["objectness", "--out", str(tmp_path / "teacher"), *common])
    teacher = tmp_path / "teacher" / "objectness.safetensors"
    start = ["--init-from", str(teacher)]  # the same start and seed: only the targets differ
    assert main(["objectness", "--out", str(tmp_path / "student"), "--teachers", str(teacher), str(teacher),
                 "--distill", "0.7", *start, *common]) == 0
    assert main(["objectness", "--out", str(tmp_path / "plain"), *start, *common]) == 0
    log = [json.loads(line) for line in (tmp_path / "student" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 1 and np.isfinite(log[-1]["val_loss_p"])
    student = (tmp_path / "student" / "objectness.safetensors").read_bytes()
    assert student != (tmp_path / "plain" / "objectness.safetensors").read_bytes()  # the teachers changed the step
    with pytest.raises(SystemExit):
        main(["objectness", "--out", str(tmp_path / "s2"), "--teachers", str(tmp_path / "absent.safetensors"), *common])
    with pytest.raises(SystemExit):
        main(["objectness", "--out", str(tmp_path / "s3"), "--teachers", str(teacher), "--distill", "1.5", *common])
