import pytest
import torch

from segwidgets.core.device import CPU_THREADS_ENV, DEFAULT_CPU_THREADS, choose_device, cpu_threads, inference_dtype


def test_choose_device():
    assert choose_device("cpu").type == "cpu"
    assert inference_dtype(torch.device("cpu")) == torch.float32
    assert inference_dtype(torch.device("cuda")) == torch.float16
    if not torch.cuda.is_available():
        assert choose_device().type in ("cpu", "mps")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            choose_device("cuda")


def test_cpu_thread_policy(monkeypatch):
    monkeypatch.delenv(CPU_THREADS_ENV, raising=False)
    assert cpu_threads() == DEFAULT_CPU_THREADS == 1
    assert cpu_threads(2) == 2
    monkeypatch.setenv(CPU_THREADS_ENV, "3")
    assert cpu_threads() == 3 and cpu_threads(1) == 1  # an explicit request beats the environment
    monkeypatch.setenv(CPU_THREADS_ENV, "many")
    with pytest.raises(ValueError, match=CPU_THREADS_ENV):
        cpu_threads()
    with pytest.raises(ValueError, match=">= 1"):
        cpu_threads(0)
