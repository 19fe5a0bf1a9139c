import numpy as np
import pytest
import torch

from segwidgets.core.device import choose_device, inference_dtype, to_numpy, to_tensor

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


@pytest.mark.parametrize("device", DEVICES)
def test_round_trip_follows_device(device):
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    t = to_tensor(image, device)
    assert t.shape == (1, 3, 2, 3) and t.device.type == device and t.dtype == torch.float32
    np.testing.assert_allclose(to_numpy(t).transpose(1, 2, 0), image / 255.0, rtol=1e-6)
    m = to_tensor(np.ones((2, 3), np.float32), device)
    assert m.shape == (1, 1, 2, 3) and to_numpy(m).shape == (2, 3)


def test_choose_device():
    assert choose_device("cpu").type == "cpu"
    assert inference_dtype(torch.device("cpu")) == torch.float32
    assert inference_dtype(torch.device("cuda")) == torch.float16
    if not torch.cuda.is_available():
        assert choose_device().type in ("cpu", "mps")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            choose_device("cuda")


def test_bad_shape():
    with pytest.raises(ValueError, match="H, W"):
        to_tensor(np.zeros((1, 2, 3, 4)))
