"""Batch norms folded into convolutions: the same function, no batch norm left."""
import pytest
import torch
from torch import nn

from segwidgets.core.fusion import fold_batch_norms, fold_conv_batch_norm

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def _randomise_batch_norms(module: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters (fresh ones are an identity map)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.copy_(torch.randn(bn.num_features, generator=generator))
            bn.running_var.copy_(torch.rand(bn.num_features, generator=generator) * 2 + 0.1)
            bn.weight.copy_(torch.randn(bn.num_features, generator=generator))
            bn.bias.copy_(torch.randn(bn.num_features, generator=generator))
    return module.eval()


def test_fold_conv_batch_norm_known_values():
    conv = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([2.0, -1.0]).view(2, 1, 1, 1))
    bn = nn.BatchNorm2d(2).eval()
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([1.0, 0.0]))
        bn.running_var.copy_(torch.tensor([4.0 - bn.eps, 1.0 - bn.eps]))  # std 2 and 1
        bn.weight.copy_(torch.tensor([3.0, 1.0]))
        bn.bias.copy_(torch.tensor([0.5, -2.0]))
    fused = fold_conv_batch_norm(conv, bn)
    # channel 0: (2x - 1) / 2 * 3 + 0.5 = 3x - 1; channel 1: -x - 2
    torch.testing.assert_close(fused.weight.view(-1), torch.tensor([3.0, -1.0]))
    torch.testing.assert_close(fused.bias, torch.tensor([-1.0, -2.0]))
    x = torch.tensor([[[[0.0, 1.0, -2.0]]]])
    torch.testing.assert_close(fused(x), torch.tensor([[[[-1.0, 2.0, -7.0]], [[-2.0, -3.0, 0.0]]]]))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("net", ["BackgroundNet", "AlphaNet"])
def test_folded_matting_networks_compute_the_same_function(device, net):
    from segwidgets.nets import matting

    torch.manual_seed(0)
    model = _randomise_batch_norms(getattr(matting, net)()).to(device)
    with torch.no_grad():  # non-zero extra stem: the term that goes through the stem's batch norm
        model.encoder.extra_stem.weight.normal_(0, 0.1)
    x = torch.rand(2, model.in_planes, 40, 56, device=device)
    with torch.no_grad():
        expected = model(x)
        folded = fold_batch_norms(model)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
        torch.testing.assert_close(folded(x), expected, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(fold_batch_norms(folded)(x), expected, atol=1e-4, rtol=1e-4)  # twice: no-op


def test_a_batch_norm_not_after_a_convolution_is_kept():
    model = _randomise_batch_norms(nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3), nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)))
    x = torch.randn(1, 3, 4, 4)
    with torch.no_grad():
        expected = model(x)
        fold_batch_norms(model)
        torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=1e-5)
    assert isinstance(model[1], nn.BatchNorm2d) and isinstance(model[3], nn.Identity)


def test_engine_folds_the_models_it_builds_but_not_a_callers_module(tmp_path):
    from segwidgets.core.engine import Engine
    from segwidgets.core.weights import load_weights, save_weights
    from segwidgets.nets.matting import BackgroundNet

    torch.manual_seed(0)
    own = _randomise_batch_norms(BackgroundNet())
    engine = Engine("cpu")
    engine.set_model("matting_background", own)
    assert any(isinstance(m, nn.BatchNorm2d) for m in engine.model("matting_background").modules())

    path = save_weights(own, tmp_path / "background.safetensors")  # fp16, as shipped
    built = Engine("cpu")
    built.load_weights("matting_background", path)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in built.model("matting_background").modules())
    x = torch.rand(1, 4, 32, 48)
    reference = load_weights(BackgroundNet(), path)  # the same fp16 values, batch norms unfolded
    with torch.no_grad():
        torch.testing.assert_close(built.infer_torch("matting_background", x), torch.sigmoid(reference.eval()(x)),
                                   atol=1e-4, rtol=1e-4)
