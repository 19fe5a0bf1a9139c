"""The feature-masking network: shapes, the grid's receptive-field centres, masking, batching."""
import pytest
import torch

from segwidgets.nets import semantic as sem
from segwidgets.nets.semantic import PYRAMID_LEVELS, pyramid_pool
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


def test_pyramid_pool_known_answer_on_a_small_map():
    # One channel, 4 x 6 map holding 0..23; the box covers columns 1..3 and rows 0..2 (3 x 3 cells).
    features = torch.arange(24, dtype=torch.float32).reshape(1, 1, 4, 6)
    pooled = pyramid_pool(features, torch.tensor([[1, 0, 3, 2]]), torch.tensor([0]))
    box = features[0, 0, 0:3, 1:4]  # [[1, 2, 3], [7, 8, 9], [13, 14, 15]]
    level6, level3, level2, level1 = pooled[0].split([36, 9, 4, 1])
    # 6 bins over 3 cells: each cell repeated twice per side
    assert torch.equal(level6.reshape(6, 6), box.repeat_interleave(2, 0).repeat_interleave(2, 1))
    assert torch.equal(level3.reshape(3, 3), box)  # one cell per bin
    # 2 bins over 3 cells: [0, 2) and [1, 3) overlap in the middle cell
    assert torch.equal(level2.reshape(2, 2), torch.tensor([[8.0, 9.0], [14.0, 15.0]]))
    assert level1.item() == 15.0


def test_pyramid_pool_outside_the_map_pools_nothing_and_empty_bins_are_zero():
    features = -torch.ones(1, 2, 3, 3)  # all negative: a bin that saw padding would not be -1
    boxes = torch.tensor([[2, 2, 4, 4],     # one cell inside, the rest outside
                          [5, 5, 7, 7]])    # wholly outside
    pooled = pyramid_pool(features, boxes, torch.tensor([0, 0]))
    level1 = pooled[:, -2:]  # the 1x1 level of both channels
    assert torch.equal(level1[0], torch.tensor([-1.0, -1.0]))
    assert torch.equal(pooled[1], torch.zeros_like(pooled[1]))
    level6 = pooled[0, :72].reshape(2, 6, 6)
    assert torch.equal(level6[:, :2, :2], -torch.ones(2, 2, 2)) and torch.equal(level6[:, 2:, :], torch.zeros(2, 4, 6))


def test_pyramid_pool_equals_torchvision_roi_pool_and_its_gradient():
    ops = pytest.importorskip("torchvision.ops")
    torch.manual_seed(0)
    features = torch.randn(3, 5, 13, 17, requires_grad=True)
    n = 300
    x0, y0 = torch.randint(-3, 17, (n,)), torch.randint(-3, 13, (n,))
    boxes = torch.stack([x0, y0, x0 + torch.randint(-2, 20, (n,)), y0 + torch.randint(-2, 15, (n,))], 1)
    index = torch.randint(0, 3, (n,))
    ours = pyramid_pool(features, boxes, index)
    rois = torch.cat([index[:, None].float(), boxes.float()], 1)
    theirs = torch.cat([ops.roi_pool(features, rois, (level, level), 1.0).flatten(1) for level in PYRAMID_LEVELS], 1)
    assert torch.equal(ours, theirs)
    weights = torch.randn_like(ours)
    (ours_grad,) = torch.autograd.grad((ours * weights).sum(), features)
    (theirs_grad,) = torch.autograd.grad((theirs * weights).sum(), features)
    assert torch.allclose(ours_grad, theirs_grad, atol=1e-5)
