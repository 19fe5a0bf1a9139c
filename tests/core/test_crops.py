import pytest
import torch

from segwidgets.core.crops import crop_resize, paste_back, square_box


def test_crop_of_whole_pixels_is_exact():
    image = torch.arange(60.0).view(1, 6, 10)
    crop = crop_resize(image, (2, 1, 8, 5), (4, 6), mode="nearest")
    torch.testing.assert_close(crop, image[:, 1:5, 2:8])
    crop = crop_resize(image, (2, 1, 8, 5), (4, 6), mode="bilinear")
    torch.testing.assert_close(crop, image[:, 1:5, 2:8])


def test_outside_reads_zero_and_flip_mirrors():
    image = torch.ones(1, 4, 4)
    crop = crop_resize(image, (-4, 0, 4, 4), (4, 8), mode="nearest")
    assert crop[0, :, :4].sum() == 0 and crop[0, :, 4:].min() == 1
    ramp = torch.arange(4.0).view(1, 1, 4).expand(1, 4, 4)
    torch.testing.assert_close(crop_resize(ramp, (0, 0, 4, 4), (4, 4), flip=True, mode="nearest"), ramp.flip(-1))


def test_paste_back_inverts_the_crop():
    yy, xx = torch.meshgrid(torch.arange(30.0), torch.arange(40.0), indexing="ij")
    image = torch.stack([xx / 40 + yy / 30, 1 - xx / 40])  # linear: bilinear resampling is exact on it
    box = (5.0, 3.0, 25.0, 23.0)
    crop = crop_resize(image, box, (40, 40))  # 2x upsampled
    back = paste_back(crop, box, (30, 40))
    torch.testing.assert_close(back[:, 4:22, 6:24], image[:, 4:22, 6:24], atol=1e-4, rtol=0)
    assert back[:, :, 30:].abs().max() == 0 and back[:, 25:, :].abs().max() == 0


def test_square_box():
    assert square_box((0, 0, 10, 4)) == (0.0, -3.0, 10.0, 7.0)
    assert square_box((0, 0, 10, 4), 2.0) == pytest.approx((-5.0, -8.0, 15.0, 12.0))
