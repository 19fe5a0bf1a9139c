import pytest
import torch
from torchvision.models import mobilenet_v2

from segwidgets.nets import ENCODER_CHANNELS, ClickNet, MobileNetV2Encoder, ObjectnessNet, click_planes


@pytest.mark.parametrize("size", [(64, 64), (50, 77), (33, 129)])
def test_objectness_maps_have_the_input_size(size):
    net = ObjectnessNet().eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, *size))
    assert out.shape == (2, 2, *size)


def test_encoder_strides_and_channels():
    feats = MobileNetV2Encoder().eval()(torch.rand(1, 3, 64, 96))
    assert [f.shape[1] for f in feats] == list(ENCODER_CHANNELS)
    assert [f.shape[-2:] for f in feats] == [(64 // s, 96 // s) for s in (2, 4, 8, 16, 32)]


def test_imagenet_weights_land_in_the_encoder():
    reference = mobilenet_v2()
    encoder = MobileNetV2Encoder()
    encoder.load_imagenet(reference.state_dict())
    assert torch.equal(encoder.stages[0][0][0].weight, reference.features[0][0].weight)
    assert torch.equal(encoder.stages[4][3].conv[0][0].weight, reference.features[17].conv[0][0].weight)
    with pytest.raises(ValueError, match="lacks encoder keys"):
        encoder.load_imagenet({})


def test_click_net_starts_as_the_rgb_net():
    """Zero-initialised click stem: with the same trunk weights, clicks change nothing at first."""
    rgb, click = ObjectnessNet().eval(), ClickNet().eval()
    state = {k: v for k, v in click.state_dict().items() if not k.startswith("encoder.extra_stem")}
    rgb.load_state_dict(state)
    x = torch.rand(1, 3, 64, 64)
    planes = click_planes(torch.tensor([[[10.5, 20.5, 1.0]]]), (64, 64))
    with torch.no_grad():
        torch.testing.assert_close(click(torch.cat([x, planes], 1)), rgb(x))
    assert click.encoder.extra_stem.weight.abs().sum() == 0


def test_click_planes_known_values():
    clicks = torch.tensor([[[4.5, 4.5, 1.0], [0.0, 0.0, 0.0]], [[1.5, 1.5, -1.0], [8.5, 1.5, 1.0]]])
    prev = torch.zeros(2, 1, 10, 10)
    prev[1, 0, :5] = 1
    planes = click_planes(clicks, (10, 10), prev, radius=0.5)  # radius 5 px
    assert planes.shape == (2, 3, 10, 10)
    assert planes[0, 0, 4, 4] == 1 and planes[0, 0, 4, 7] == pytest.approx(1 - 3 / 5)
    assert planes[0, 0, 9, 9] == 0  # farther than the radius
    assert planes[0, 1].max() == 0  # no negative click in sample 0; padding ignored
    assert planes[1, 1, 1, 1] == 1 and planes[1, 0, 1, 8] == 1
    assert torch.equal(planes[1, 2], prev[1, 0]) and planes[0, 2].max() == 0


@pytest.mark.parametrize("channels_last", [False, True])
def test_up_block_fuses_its_skips_as_the_convolution_of_their_concatenation(channels_last):
    from segwidgets.nets import UpBlock

    torch.manual_seed(0)
    block = UpBlock(8, 5, 6).eval()
    torch.nn.init.normal_(block.fuse[1].running_mean)
    x, skip, extra = torch.randn(2, 8, 7, 9), torch.randn(2, 4, 14, 18), torch.randn(2, 1, 14, 18)
    if channels_last:
        block = block.to(memory_format=torch.channels_last)
        x, skip, extra = (t.contiguous(memory_format=torch.channels_last) for t in (x, skip, extra))
    with torch.no_grad():
        expected = block.fuse(torch.cat([block.up(x), skip, extra], dim=1))
        torch.testing.assert_close(block(x, skip, extra), expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(block(x, torch.cat([skip, extra], dim=1)), expected, atol=1e-5, rtol=1e-5)
        with pytest.raises(ValueError, match="got 10 input channels, expected 11"):
            block(x, skip)  # a skip short of channels
        with pytest.raises(ValueError, match="got 12 input channels, expected 11"):
            block(x, skip, extra, extra)
    plain = UpBlock(8, 0, 6).eval()
    with torch.no_grad():
        torch.testing.assert_close(plain(x, None), plain.fuse(plain.up(x)))


def test_up_block_gradients_match_the_concatenation():
    from segwidgets.nets import UpBlock

    torch.manual_seed(1)
    block = UpBlock(4, 3, 5)
    x, skip = torch.randn(1, 4, 5, 5), torch.randn(1, 3, 10, 10)
    block(x, skip).square().sum().backward()
    split_grad = block.fuse[0].weight.grad.clone()
    block.zero_grad()
    block.fuse(torch.cat([block.up(x), skip], dim=1)).square().sum().backward()
    torch.testing.assert_close(split_grad, block.fuse[0].weight.grad, atol=1e-4, rtol=1e-4)
