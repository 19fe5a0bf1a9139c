"""Device choice and the numpy <-> torch boundary (one entry, one exit)."""
from __future__ import annotations

import numpy as np
import torch


def choose_device(preferred=None) -> torch.device:
    """The device inference runs on: ``preferred`` if given, else CUDA, then MPS, then CPU.

    Parameters
    ----------
    preferred : str or torch.device, optional
        e.g. ``"cpu"``, ``"cuda:1"``. A CUDA/MPS request on a machine without one
        raises ``RuntimeError`` rather than silently falling back.
    """
    if preferred is not None:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {device} requested but CUDA is not available on this machine")
        if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise RuntimeError(f"device {device} requested but MPS is not available on this machine")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def inference_dtype(device: torch.device) -> torch.dtype:
    """float16 on CUDA (half precision only on GPU), float32 elsewhere."""
    return torch.float16 if torch.device(device).type == "cuda" else torch.float32


def to_tensor(array: np.ndarray, device=None, dtype: torch.dtype | None = None) -> torch.Tensor:
    """The single entry from numpy to torch.

    (H, W, C) arrays become (1, C, H, W), (H, W) arrays (1, 1, H, W); uint8
    values are scaled to [0, 1], other dtypes are converted as they are.

    Parameters
    ----------
    array : (H, W) or (H, W, C) numpy array.
    device : torch device, default CPU.
    dtype : torch dtype, default float32.
    """
    array = np.asarray(array)
    if array.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, C) array, got shape {array.shape}")
    scale = 1.0 / 255.0 if array.dtype == np.uint8 else 1.0
    array = np.ascontiguousarray(array)
    t = torch.from_numpy(array if array.flags.writeable else array.copy())
    t = t[None, None] if array.ndim == 2 else t.permute(2, 0, 1)[None]
    t = t.to(device=device or "cpu", dtype=dtype or torch.float32)
    return t * scale if scale != 1.0 else t


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """The single exit from torch to numpy: float32 on the CPU.

    (1, 1, H, W) -> (H, W); (1, C, H, W) -> (C, H, W); other shapes keep their
    dimensions except a leading batch of 1.
    """
    t = tensor.detach().to("cpu", torch.float32)
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim == 3 and t.shape[0] == 1:
        t = t[0]
    return t.numpy()
