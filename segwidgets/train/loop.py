"""The training loop shared by every model: AdamW + cosine schedule, progress bar,
periodic held-out evaluation, resumable checkpoints and fp16 safetensors export."""
from __future__ import annotations

import json
import math
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from ..core.weights import save_weights


def cosine_lr(step: int, steps: int, base_lr: float, warmup: int) -> float:
    """Linear warm-up then cosine decay to 2% of ``base_lr``."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return base_lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(
    model: torch.nn.Module,
    loss_fn: Callable[[np.random.Generator, int], tuple[torch.Tensor, dict]],
    evaluate: Callable[[], dict],
    out,
    *,
    steps: int,
    lr: float = 1e-3,
    encoder_lr_scale: float = 0.3,
    weight_decay: float = 1e-4,
    warmup: int = 50,
    eval_every: int = 200,
    checkpoint_every: int = 50,
    weights_name: str = "model.safetensors",
    resume: bool = True,
    seed: int = 0,
    eval_at_start: bool = False,
) -> dict:
    """Optimise ``model`` for ``steps`` steps; returns the last evaluation.

    ``loss_fn(rng, step)`` draws a batch and returns ``(loss, logs)``;
    ``evaluate()`` returns metrics on held-out data (it must not train).
    Writes to ``out``: ``checkpoint.pt`` (model, optimiser, step, RNG; resumed
    from when present and ``resume``), ``log.jsonl`` (one line per evaluation)
    and the fp16 weights ``weights_name`` at every evaluation and at the end, plus a
    copy of each evaluation's weights in ``evals/step<N>/`` (a run's best validation
    point can then be kept, not only its last).
    The encoder learns at ``encoder_lr_scale`` x ``lr`` (it starts pretrained).
    ``eval_at_start``: on a fresh start, log an evaluation at step 0 first (the
    starting weights on the same validation set, e.g. when fine-tuning shipped weights).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    is_encoder = {n: f".{n}".find(".encoder.stages.") >= 0 for n, _ in model.named_parameters()}  # also nested
    encoder = [p for n, p in model.named_parameters() if is_encoder[n]]
    rest = [p for n, p in model.named_parameters() if not is_encoder[n]]
    groups = [{"params": encoder, "scale": encoder_lr_scale}, {"params": rest, "scale": 1.0}]
    optimiser = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    start = 0
    checkpoint = out / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)  # our own file, written below
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        rng.bit_generator.state = state["rng"]
        start = state["step"]
        print(f"resumed from {os.fspath(checkpoint)} at step {start}")

    def save(step: int) -> None:
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                    "rng": rng.bit_generator.state, "step": step}, tmp)
        os.replace(tmp, checkpoint)  # never leave a half-written checkpoint

    def run_eval(step: int) -> dict:
        model.eval()
        with torch.no_grad():
            metrics = evaluate()
        model.train()
        metrics = {"step": step, **metrics}
        with open(out / "log.jsonl", "a") as f:
            f.write(json.dumps(metrics) + "\n")
        save_weights(model, out / weights_name)
        kept = out / "evals" / f"step{step}"
        kept.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / weights_name, kept / weights_name)
        return metrics

    metrics = {}
    if eval_at_start and start == 0:
        print(json.dumps(run_eval(0)))
    model.train()
    bar = tqdm(range(start, steps), initial=start, total=steps, desc="training")
    running, t0 = None, time.time()
    for step in bar:
        for group in optimiser.param_groups:
            group["lr"] = cosine_lr(step, steps, lr, warmup) * group["scale"]
        loss, logs = loss_fn(rng, step)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        bar.set_postfix(loss=f"{running:.3f}", **{k: f"{v:.3f}" for k, v in logs.items()})
        done = step + 1
        if done % checkpoint_every == 0 or done == steps:
            save(done)
        if done % eval_every == 0 or done == steps:
            metrics = run_eval(done)
            metrics["seconds"] = round(time.time() - t0, 1)
            bar.write(json.dumps(metrics))
    if start >= steps:
        metrics = run_eval(steps)
    return metrics


def write_run_card(out, title: str, command: str, details: list[str], args, metrics: dict, seconds: float) -> None:
    """``out/MODEL_CARD.md`` of one training run: ``title``, the command, ``details`` (data, loss...
    lines), then the hardware (``args.device``, ``args.threads``), the session's wall-clock and the last
    validation."""
    lines = [f"# {title}", "", f"- command: `{command}`", *(f"- {d}" for d in details),
             f"- hardware: {args.device}, {args.threads} CPU thread(s) on {platform.processor() or platform.machine()}",
             f"- wall-clock of the last session: {seconds / 60:.1f} min",
             f"- last validation: {json.dumps(metrics)}"]
    (Path(out) / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")
