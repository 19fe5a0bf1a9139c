"""Weight averaging: ``python -m segwidgets.train average``."""
import pytest
import torch
from safetensors.torch import load_file, save_file

from segwidgets.core.weights import WeightsError, load_weights, save_weights
from segwidgets.nets.matting import BackgroundNet
from segwidgets.train.__main__ import main
from segwidgets.train.average import average_state, average_weights


def test_average_state_is_the_elementwise_mean_and_keeps_the_last_counter():
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(7)}
    out = average_state([a, b])
    assert torch.equal(out["w"], torch.tensor([2.0, 4.0]))
    assert out["n"].item() == 7 and not out["n"].is_floating_point()


def test_average_state_refuses_other_keys_or_shapes_and_nothing():
    with pytest.raises(WeightsError, match="other tensors"):
        average_state([{"w": torch.zeros(2)}, {"v": torch.zeros(2)}])
    with pytest.raises(WeightsError, match="shape"):
        average_state([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}])
    with pytest.raises(ValueError, match="at least one"):
        average_state([])


def test_average_command_writes_fp16_weights_that_load_into_the_network(tmp_path):
    paths = []
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        paths.append(save_weights(BackgroundNet(), tmp_path / f"ckpt{seed}.safetensors"))
    out = tmp_path / "soup" / "matting_background.safetensors"
    assert main(["average", "--out", str(out)] + [str(p) for p in paths]) == 0
    soup = load_file(str(out))
    inputs = [load_file(str(p)) for p in paths]
    key = "logits.weight"
    assert soup[key].dtype == torch.float16
    expected = torch.stack([s[key].float() for s in inputs]).mean(0)
    torch.testing.assert_close(soup[key].float(), expected, atol=1e-3, rtol=1e-3)
    load_weights(BackgroundNet(), out)  # strict: every key and shape fits


def test_average_weights_names_a_missing_or_unreadable_input_and_writes_nothing(tmp_path, monkeypatch):
    save_file({"w": torch.zeros(2)}, str(tmp_path / "a.safetensors"))
    out = tmp_path / "out.safetensors"
    with pytest.raises(FileNotFoundError, match="b.safetensors"):
        average_weights([tmp_path / "a.safetensors", tmp_path / "b.safetensors"], out)
    (tmp_path / "c.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(WeightsError, match="could not read"):
        average_weights([tmp_path / "a.safetensors", tmp_path / "c.safetensors"], out)
    assert not out.exists()
    monkeypatch.chdir(tmp_path)  # a bare name is the working folder's file
    save_file({"w": torch.ones(2)}, "d.safetensors")
    average_weights(["a.safetensors", "d.safetensors"], out)
    assert torch.equal(load_file(str(out))["w"].float(), torch.full((2,), 0.5))
