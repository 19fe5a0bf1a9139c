"""Our MobileNetV2 trunk is torchvision's: same state-dict keys and shapes, same outputs."""
import pytest
import torch

from segwidgets.nets.encoder import _STAGES, MobileNetV2Encoder
from segwidgets.nets.mobilenet import mobilenet_v2_features


def test_trunk_matches_torchvision_keys_shapes_and_outputs():
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    reference = models.mobilenet_v2().features[:18].eval()
    with torch.no_grad():  # non-trivial running statistics, so the batch norms are checked too
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    ours = mobilenet_v2_features().eval()
    theirs = reference.state_dict()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.items()}
    ours.load_state_dict(theirs, strict=True)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-6)
        for a, b in _STAGES:  # stage by stage too (the encoder's split points)
            x = torch.rand(1, ours[a].conv[0][0].in_channels if a else 3, 32, 32)
            torch.testing.assert_close(ours[a:b](x), reference[a:b](x), rtol=1e-5, atol=1e-6)


def test_trunk_layout_and_head():
    features = mobilenet_v2_features()
    assert len(features) == 18
    assert {"0.0.weight", "0.1.running_mean", "1.conv.0.0.weight", "2.conv.1.0.weight", "2.conv.2.weight",
            "2.conv.3.weight", "17.conv.3.running_var"} <= set(features.state_dict())
    assert tuple(features[17].conv[2].weight.shape) == (320, 960, 1, 1)
    head = mobilenet_v2_features(head=True)
    assert len(head) == 19 and head[18][0].out_channels == 1280
    out = features.eval()(torch.rand(1, 3, 64, 96))
    assert out.shape == (1, 320, 2, 3)


def test_encoder_loads_torchvision_imagenet_layout():
    models = pytest.importorskip("torchvision.models")
    reference = models.mobilenet_v2().eval()
    encoder = MobileNetV2Encoder().eval()
    encoder.load_imagenet(reference.state_dict())
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ours = encoder(x)[-1]
        rgb = (x - encoder.mean) / encoder.std
        torch.testing.assert_close(ours, reference.features[:18](rgb), rtol=1e-5, atol=1e-6)


def test_seeded_initialisation_is_torchvisions():
    """Same seed, same starting weights and the same random stream afterwards (seeded training runs and
    tests that build networks with random weights are unchanged)."""
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(3)
    theirs = models.mobilenet_v2().features.state_dict()
    after_theirs = torch.rand(4)
    torch.manual_seed(3)
    ours = mobilenet_v2_features(head=True).state_dict()
    after_ours = torch.rand(4)
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert torch.equal(ours[key], theirs[key]), key
    assert torch.equal(after_ours, after_theirs)
