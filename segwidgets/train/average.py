"""Weight averaging ("model soup"): the mean of several checkpoints of one network.

Checkpoints along one training run sit in the same basin; their mean usually
generalises better than any one of them and is less at the mercy of which
evaluation happened to be last (Izmailov et al., "Averaging Weights Leads to Wider
Optima", 2018; Wortsman et al., "Model soups", 2022).

    python -m segwidgets.train average --out OUT.safetensors IN1.safetensors IN2.safetensors [...]
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..core.weights import WeightsError, read_weights, write_weights


def average_state(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Element-wise mean (in float32) of the floating-point tensors of ``states``.

    Every state must have the same keys and shapes. Batch-norm running statistics are
    averaged like weights; integer tensors (batch-norm step counters) come from the
    last state. Returns float32 tensors (integers unchanged).
    """
    if not states:
        raise ValueError("nothing to average: give at least one state")
    first = states[0]
    for index, state in enumerate(states[1:], start=1):
        if set(state) != set(first):
            raise WeightsError(f"checkpoint {index} has other tensors than checkpoint 0: "
                               f"{sorted(set(state) ^ set(first))[:5]}")
        wrong = [k for k in first if state[k].shape != first[k].shape]
        if wrong:
            raise WeightsError(f"checkpoint {index} differs in shape from checkpoint 0 at {wrong[:5]}")
    out = {}
    for key, value in first.items():
        if value.is_floating_point():
            out[key] = torch.stack([state[key].float() for state in states]).mean(0)
        else:
            out[key] = states[-1][key].clone()
    return out


def average_weights(inputs: list, out, half: bool = True) -> Path:
    """Average ``.safetensors`` checkpoints of one network into ``out`` (fp16 by default); returns its path.

    Raises ``FileNotFoundError`` for a missing input and ``core.weights.WeightsError`` for one that is
    not safetensors or does not match the others; nothing is written then.
    """
    # Absolute, so a bare file name means the working folder's file, not the package's weights/ one.
    return write_weights(average_state([read_weights(Path(p).absolute()) for p in inputs]), out, half)
