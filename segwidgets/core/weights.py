"""Loading and saving model weights: safetensors only (never unpickled)."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


class WeightsError(ValueError):
    """Weights that exist but do not fit the model (missing/unexpected keys, wrong shapes)."""


def resolve_weights_path(path) -> Path:
    """A bare file name is looked up in the package's ``weights/`` folder; a path is used as is."""
    p = Path(path)
    return p if p.is_absolute() or p.parent != Path(".") else WEIGHTS_DIR / p


def read_weights(path) -> dict[str, torch.Tensor]:
    """The state dict stored in a ``.safetensors`` file (tensors as stored, on the CPU).

    Raises
    ------
    FileNotFoundError
        The file does not exist (the message names it).
    WeightsError
        The file is not a ``.safetensors`` file or not valid safetensors.
    """
    path = resolve_weights_path(path)
    if path.suffix != ".safetensors":
        raise WeightsError(f"weights must be a .safetensors file (pickled checkpoints are never loaded): {os.fspath(path)}")
    if not path.exists():
        raise FileNotFoundError(f"weights file not found: {os.fspath(path)}")
    try:
        return load_file(os.fspath(path))
    except (SafetensorError, OSError) as exc:
        raise WeightsError(f"could not read weights file {os.fspath(path)}: {exc}") from exc


def load_weights(module: torch.nn.Module, path) -> torch.nn.Module:
    """Load a ``.safetensors`` state dict into ``module`` (strictly) and return it.

    Tensors are cast to the module's parameter dtype, so fp16 files load into
    float32 modules.

    Raises
    ------
    FileNotFoundError
        The file does not exist (the message names it).
    WeightsError
        The file is not valid safetensors or does not match the module.
    """
    path = resolve_weights_path(path)
    state = read_weights(path)
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        details = []
        if missing:
            details.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            details.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        if wrong:
            details.append("shape mismatch " + ", ".join(f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}" for k in wrong[:5]))
        raise WeightsError(f"weights file {os.fspath(path)} does not match {type(module).__name__}: " + "; ".join(details))
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)
    return module


def write_weights(state: dict[str, torch.Tensor], path, half: bool = True) -> Path:
    """Save a state dict as safetensors (fp16 floats by default, on the CPU); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.detach().half() if half and v.is_floating_point() else v.detach()).contiguous().cpu()
             for k, v in state.items()}
    save_file(state, os.fspath(path))
    return path


def save_weights(module: torch.nn.Module, path, half: bool = True) -> Path:
    """Save ``module``'s state dict as safetensors (fp16 floats by default); returns the path."""
    return write_weights(module.state_dict(), path, half)
