"""Where inference runs: device choice, precision and the CPU thread policy.

Only the engine calls these (it is the one numpy <-> torch gateway).
"""
from __future__ import annotations

import os

import torch

#: torch intra-op threads for inference on the CPU, chosen by ``benchmarks/bench_threads.py``
#: on the 2-core development machine: on a quiet machine 2 threads ran the networks alone
#: 20-30% faster but a whole click (network + graph cut) no faster; with another process
#: keeping one core busy, 2 threads were 35-90% slower in median and up to 7x slower at the
#: 90th percentile. One thread is the predictable choice on a busy laptop. Override per
#: engine (``Engine(cpu_threads=...)``) or with the environment variable below.
DEFAULT_CPU_THREADS = 1
CPU_THREADS_ENV = "SEGWIDGETS_CPU_THREADS"


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


def cpu_threads(requested: int | None = None) -> int:
    """Intra-op threads for CPU inference: ``requested``, else ``$SEGWIDGETS_CPU_THREADS``,
    else :data:`DEFAULT_CPU_THREADS`."""
    if requested is None:
        value = os.environ.get(CPU_THREADS_ENV)
        if value is None:
            return DEFAULT_CPU_THREADS
        try:
            requested = int(value)
        except ValueError:
            raise ValueError(f"{CPU_THREADS_ENV} must be a whole number of threads, got {value!r}") from None
    if requested < 1:
        raise ValueError(f"CPU threads must be >= 1, got {requested}")
    return int(requested)
