"""The feature-masking network: shapes, the grid's receptive-field centres, masking, batching."""
import pytest
import torch

from segwidgets.nets import semantic as sem
from segwidgets.pipelines import semantic as pipeline

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def test_pipeline_grid_constants_match_the_network():
    assert pipeline.STRIDE == sem.SEMANTIC_STRIDE
    assert len(pipeline.CLASS_NAMES) == sem.CLASS_COUNT


def test_stride16_receptive_field_is_centred_on_stride_times_index():
    """The projection assumes cell j's receptive field is centred on input pixel 16 j
    (pipelines.semantic.CENTRE_OFFSET = 0): the input pixels that reach a cell span 16 j - r .. 16 j + r."""
    torch.manual_seed(0)
    encoder = sem.SemanticFeatures().encoder.eval()
    x = torch.rand(1, 3, 320, 320, requires_grad=True)
    f16 = encoder(x)[3]
    j = 10
    (grad,) = torch.autograd.grad(f16[0, :, j, j].sum(), x)
    rows = torch.nonzero(grad.abs().sum((0, 1, 3)) > 0).flatten()
    cols = torch.nonzero(grad.abs().sum((0, 1, 2)) > 0).flatten()
    for reach in (rows, cols):
        assert float(reach.min() + reach.max()) / 2 == pipeline.CENTRE_OFFSET + sem.SEMANTIC_STRIDE * j


def test_upsampled_stride32_cells_land_on_their_stride16_centres():
    coarse = torch.rand(1, 2, 4, 3)
    up = sem.upsample_centred(coarse, (8, 6))
    assert up.shape == (1, 2, 8, 6)
    torch.testing.assert_close(up[..., ::2, ::2], coarse)                       # cell 2k is coarse cell k
    torch.testing.assert_close(up[..., 1:-1:2, 0], (coarse[..., :-1, 0] + coarse[..., 1:, 0]) / 2)  # halfway


@pytest.mark.parametrize("device", DEVICES)
def test_classify_is_batched_and_masks_matter(device, monkeypatch):
    torch.manual_seed(0)
    net = sem.FeatureMaskingNet().to(device).eval()
    x = torch.rand(2, 3, 100, 70, device=device)
    features = net.encode(x)
    assert features.shape == (2, sem.FEATURE_CHANNELS, 7, 5)
    assert (features >= 0).all()
    n = 5
    masks = torch.zeros(n, 7, 5, device=device)
    masks[:, 1:4, 1:3] = 1
    masks[1, 1:4, 1:3] = 0
    masks[1, 2, 2] = 1  # same box as segment 0? no: a smaller one inside it
    boxes = torch.tensor([[1, 1, 2, 3]] * n, dtype=torch.float32, device=device)
    owner = torch.tensor([0, 0, 1, 1, 0], device=device)
    with torch.no_grad():
        logits = net.classify(features, masks, boxes, owner)
        assert logits.shape == (n, sem.CLASS_COUNT)
        torch.testing.assert_close(logits[0], logits[4])          # same image, mask and box
        assert not torch.allclose(logits[0], logits[1])           # the mask changes the segment pathway
        assert not torch.allclose(logits[0], logits[2])           # another image
        monkeypatch.setattr(sem, "SEGMENT_CHUNK", 2)              # chunked: the same answer
        torch.testing.assert_close(net.classify(features, masks, boxes, owner), logits)


def test_classify_rejects_masks_off_the_grid():
    net = sem.FeatureMaskingNet().eval()
    features = torch.rand(1, sem.FEATURE_CHANNELS, 6, 4)
    with pytest.raises(ValueError, match="do not fit"):
        net.classify(features, torch.ones(3, 5, 4), torch.zeros(3, 4))


def test_pixel_head_returns_input_size_logits():
    net = sem.PixelHeadNet().eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 50, 40)).shape == (1, sem.CLASS_COUNT, 50, 40)
