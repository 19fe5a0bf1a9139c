"""Training the three matting networks, in order: background, foreground, alpha.

Each stage trains on :mod:`.matting_data` composites; the foreground stage reads
the trained background network's output and the alpha stage both networks'
outputs (the previous stages' exported fp16 weights, as inference uses them).
The alpha stage sees the colour networks' output at the pipeline's working scale
(``pipelines.matting.COLOR_SCALE``). The last ``--finetune-steps`` of every stage draw mostly real mattes (the
fine-tuning set GT01..GT08; GT09..GT13 and the lemur are never read).
``--stages`` trains only some stages; the others are then taken from ``--init``
(e.g. the alpha network fine-tuned on the shipped colour networks' output).
``--holes P`` punches holes through P of the object foregrounds (``matting_data.punch_holes``),
``--strands P`` grows hair-like strands out of P of them (``matting_data.grow_strands``);
``--color-scale S`` trains the colour networks at the scale the pipeline runs them at (0.5: on the
crops shrunk 2x, their colours enlarged back for the full-size loss);
``--wide P`` widens P of the trimaps as a hand-painted one is (``matting_data.widen_unknown``);
validation then reports the alpha stage on composites with each too (``holes_val_*``, ``strands_val_*``,
``wide_val_*``).
``--pseudo DIR`` draws ``--pseudo-p`` of the object foregrounds from closed-form pseudo mattes of
their photos (:mod:`.pseudo_mattes`); validation then adds composites of the validation part's
pseudo mattes (``pseudo_val_*``).

Losses, over the trimap's unknown region:
- background: L1 on the background colour;
- foreground: L1 on the foreground colour (where alpha > 0) plus the compositing
  loss ``|a F^ + (1 - a) B^ - I|`` weighted ``0.1 + 4 a (1 - a)`` (mixed pixels count most);
- alpha: L1 on alpha, the compositing loss with the alpha prediction and a
  gradient loss (L1 between the gradient magnitudes of predicted and true alpha);
  with ``--laplacian W`` also W x a Laplacian-pyramid loss (:func:`laplacian_loss`, the
  predicted alpha taken as the true one outside the unknown region), which weighs
  errors at coarse scales (whole wrong regions) against fine ones (edges).
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data.matting import FINETUNE_MATTES, load_alphamatting
from ..nets.matting import AlphaNet, BackgroundNet, ForegroundNet
from ..pipelines.matting import COLOR_SCALE
from .data import load_items
from .matting_data import MattingSampler, stack_samples
from .pseudo_mattes import load_pseudo_mattes

#: Stage name -> (network class, exported weights file); the order is the training order.
STAGES = {
    "background": (BackgroundNet, "matting_background.safetensors"),
    "foreground": (ForegroundNet, "matting_foreground.safetensors"),
    "alpha": (AlphaNet, "matting_alpha.safetensors"),
}
#: Share of real-matte samples before and during fine-tuning.
REAL_P, FINETUNE_REAL_P = 0.15, 0.8


def masked_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean ``|pred - target|`` over the pixels (and channels) where ``weight`` > 0, weighted."""
    channels = pred.shape[1]
    return ((pred - target).abs() * weight).sum() / (weight.sum() * channels).clamp(min=1)


def gradient_magnitude(x: torch.Tensor) -> torch.Tensor:
    """|grad x| by forward differences, (N, 1, H, W) (zero on the last row / column)."""
    dx = torch.nn.functional.pad(x[..., :, 1:] - x[..., :, :-1], (0, 1, 0, 0))
    dy = torch.nn.functional.pad(x[..., 1:, :] - x[..., :-1, :], (0, 0, 0, 1))
    return torch.sqrt(dx * dx + dy * dy + 1e-8)


#: Binomial 5-tap kernel of the Gaussian pyramid (Burt and Adelson).
_PYRAMID_TAPS = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _blur(x: torch.Tensor) -> torch.Tensor:
    """``x`` (N, 1, H, W) blurred by the separable binomial kernel, edges replicated."""
    taps = _PYRAMID_TAPS.to(x)
    x = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="replicate"), taps.view(1, 1, 1, 5))
    return F.conv2d(F.pad(x, (0, 0, 2, 2), mode="replicate"), taps.view(1, 1, 5, 1))


def laplacian_pyramid(x: torch.Tensor, levels: int = 5) -> list[torch.Tensor]:
    """Band-pass levels of ``x`` (N, 1, H, W), finest first, each half the size of the one before;
    the last entry is the remaining low-pass image."""
    bands = []
    for _ in range(levels - 1):
        low = _blur(x)
        bands.append(x - low)
        x = low[..., ::2, ::2]
    return bands + [x]


def laplacian_loss(pred: torch.Tensor, target: torch.Tensor, unknown: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """Laplacian-pyramid L1 between alphas (N, 1, H, W), level ``l`` weighted ``2 ** l`` (coarse levels count more).

    ``pred`` is replaced by ``target`` outside ``unknown`` (known pixels are exact at inference). Each level's
    absolute differences are summed with every pixel standing for the ``4 ** l`` full-size pixels it covers, and the
    total is divided by the unknown pixels and the number of levels (about 3x :func:`masked_l1`'s alpha L1 on
    validation composites, hence ``--laplacian 0.5`` for the one run tried).
    """
    pred = torch.where(unknown > 0, pred, target)
    total = pred.new_zeros(())
    for level, (a, b) in enumerate(zip(laplacian_pyramid(pred, levels), laplacian_pyramid(target, levels))):
        total = total + (2 ** level) * (a - b).abs().sum() * (4 ** level)  # each coarse pixel stands for 4**l
    return total / unknown.sum().clamp(min=1) / levels


def keep_known_colors(pred: torch.Tensor, image: torch.Tensor, trimap: torch.Tensor, known: float) -> torch.Tensor:
    """Predicted colours, with the image's own where the trimap says ``known`` (0 background, 1 foreground)."""
    return torch.where(trimap == known, image, pred)


def stage_inputs(stage: str, batch: dict, background=None, foreground=None) -> torch.Tensor:
    """The network input of ``stage``: RGB + trimap (+ background (+ foreground))."""
    planes = [batch["image"], batch["trimap"]]
    if stage in ("foreground", "alpha"):
        planes.append(background)
    if stage == "alpha":
        planes.append(foreground)
    return torch.cat(planes, dim=1)


def shrink(x: torch.Tensor, scale: float) -> torch.Tensor:
    """``x`` (N, C, H, W) resized by ``scale`` (bilinear, as the pipeline's crop windows resample); itself at 1."""
    return x if scale == 1 else F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)


def enlarge(x: torch.Tensor, size) -> torch.Tensor:
    """``x`` (N, C, h, w) resized to ``size`` (H, W) bilinearly; itself when it has that size already."""
    return x if tuple(x.shape[-2:]) == tuple(size) else F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def color_output(stage: str, model, batch: dict, background=None, scale: float = 1.0) -> torch.Tensor:
    """Colours (N, 3, H, W) in [0, 1] of the colour network ``stage`` run at ``scale``, enlarged to the batch's size.

    The inputs (image, trimap and for the foreground stage the full-size ``background``) are shrunk
    by ``scale`` first, as the pipeline shrinks its window (``pipelines.matting.COLOR_SCALE``).
    """
    small = {k: shrink(batch[k], scale) for k in ("image", "trimap")}
    inputs = stage_inputs(stage, small, None if background is None else shrink(background, scale))
    return enlarge(torch.sigmoid(model(inputs)), batch["image"].shape[-2:])


def predict_colors(networks: dict, batch: dict, scale: float = 1.0) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Background and foreground predictions of the trained earlier stages (no gradient).

    ``scale`` < 1 runs both networks on the batch shrunk by that factor and enlarges
    their colours back, as the pipeline does (``pipelines.matting.COLOR_SCALE``); the
    known colours are the image's own at full size, before the foreground network sees
    the background (as in the pipeline).
    """
    background = foreground = None
    with torch.no_grad():
        if "background" in networks:
            raw = color_output("background", networks["background"], batch, scale=scale)
            background = keep_known_colors(raw, batch["image"], batch["trimap"], 0.0)
        if "foreground" in networks:
            raw = color_output("foreground", networks["foreground"], batch, background, scale)
            foreground = keep_known_colors(raw, batch["image"], batch["trimap"], 1.0)
    return background, foreground


def color_scale(stage: str, color_train_scale: float = 1.0) -> float:
    """The scale the colour networks run at in ``stage``: the pipeline's working scale when they feed the
    alpha stage; ``color_train_scale`` while the colour stages train (1 = full size)."""
    return COLOR_SCALE if stage == "alpha" else color_train_scale


def stage_output(stage: str, model, batch: dict, background, foreground, color_train_scale: float) -> torch.Tensor:
    """The output of ``stage``'s network in [0, 1] at the batch's size: colours (N, 3, H, W) or alpha (N, 1, H, W)."""
    if stage == "alpha":
        return torch.sigmoid(model(stage_inputs(stage, batch, background, foreground)))
    return color_output(stage, model, batch, background, color_train_scale)


def stage_losses(stage: str, model, networks: dict, batch: dict,
                 color_train_scale: float = 1.0, laplacian: float = 0.0) -> tuple[torch.Tensor, dict]:
    """Loss of ``stage`` on one batch and its parts (floats) for the progress bar.

    The colour stages run at ``color_train_scale`` (:func:`color_output`); losses are at full size.
    ``laplacian`` weighs :func:`laplacian_loss` into the alpha stage's loss (0: not computed).
    """
    unknown = (batch["trimap"] == 0.5).float()
    colors = unknown * batch["has_colors"]
    alpha = batch["alpha"]
    background, foreground = predict_colors(networks, batch, color_scale(stage, color_train_scale))
    out = stage_output(stage, model, batch, background, foreground, color_train_scale)
    if stage == "background":
        loss = masked_l1(out, batch["background"], colors)
        return loss, {"l1": loss.item()}
    mixed = 0.1 + 4 * alpha * (1 - alpha)
    if stage == "foreground":
        fg = keep_known_colors(out, batch["image"], batch["trimap"], 1.0)
        l1 = masked_l1(fg, batch["foreground"], colors * (alpha > 0).float())
        comp = masked_l1(alpha * fg + (1 - alpha) * background, batch["image"], unknown * mixed)
        return l1 + comp, {"l1": l1.item(), "comp": comp.item()}
    # alpha: composite with the true colours where known, else with the predicted ones
    true_colors = batch["has_colors"] > 0
    fg = torch.where(true_colors, batch["foreground"], foreground)
    bg = torch.where(true_colors, batch["background"], background)
    l1 = masked_l1(out, alpha, unknown)
    comp = masked_l1(out * fg + (1 - out) * bg, batch["image"], unknown)
    grad = masked_l1(gradient_magnitude(out), gradient_magnitude(alpha), unknown)
    parts = {"l1": l1.item(), "comp": comp.item(), "grad": grad.item()}
    loss = l1 + comp + grad
    if laplacian:
        lap = laplacian_loss(out, alpha, unknown)
        loss = loss + laplacian * lap
        parts["lap"] = lap.item()
    return loss, parts


def stage_metrics(stage: str, model, networks: dict, batches: list[dict], color_train_scale: float = 1.0) -> dict:
    """Validation numbers of ``stage``: colour L1 (0..255 units, colours at ``color_train_scale``) or alpha SAD
    (/1000, per sample) and MSE."""
    sums, counts = {}, {}

    def add(name, value, count):
        sums[name] = sums.get(name, 0.0) + float(value)
        counts[name] = counts.get(name, 0) + count

    for batch in batches:
        unknown = (batch["trimap"] == 0.5).float()
        background, foreground = predict_colors(networks, batch, color_scale(stage, color_train_scale))
        out = stage_output(stage, model, batch, background, foreground, color_train_scale)
        if stage == "background":
            add("val_l1_255", ((out - batch["background"]).abs() * unknown).sum() * 255 / 3, unknown.sum().item())
        elif stage == "foreground":
            where = unknown * (batch["alpha"] > 0).float()
            add("val_l1_255", ((out - batch["foreground"]).abs() * where).sum() * 255 / 3, where.sum().item())
        else:
            error = (out - batch["alpha"]) * unknown
            add("val_sad", error.abs().sum() / 1000, len(out))
            add("val_mse", (error ** 2).sum(), unknown.sum().item())
    return {k: round(sums[k] / max(counts[k], 1), 5) for k in sums}


def evaluate_stage(stage: str, model, networks: dict, val_batches: list[dict], extra_sets: dict,
                   color_train_scale: float = 1.0) -> dict:
    """:func:`stage_metrics` on the plain validation composites, and for the alpha stage on each extra
    set too (holes, strands, pseudo mattes: keys prefixed with the set's name)."""
    found = stage_metrics(stage, model, networks, val_batches, color_train_scale)
    for name, batches in extra_sets.items() if stage == "alpha" else ():
        found.update({f"{name}_{k}": v for k, v in stage_metrics(stage, model, networks, batches).items()})
    return found


def load_stage(stage: str, out: Path, device, path: Path | None = None) -> torch.nn.Module:
    """The exported weights of a finished earlier stage (``out/<stage>/``, or ``path``), in eval mode."""
    from ..core.weights import load_weights

    cls, weights = STAGES[stage]
    path = path or out / stage / weights
    if not path.exists():
        raise FileNotFoundError(f"the {stage} stage's weights are not there: {path} (train that stage first, "
                                "or pass --init with a folder that holds them)")
    model = cls()
    load_weights(model, path)
    return model.float().to(device).eval()


def build_stage(stage: str, pretrained=None, init=None) -> torch.nn.Module:
    """A fresh network of ``stage``: ImageNet encoder, or ``init`` weights (resume from shipped ones)."""
    from ..core.weights import load_weights

    model = STAGES[stage][0]()
    if init is not None:
        load_weights(model, init)
        model.float()
    elif pretrained is not None:
        model.encoder.load_imagenet(torch.load(pretrained, map_location="cpu", weights_only=True))
    return model


def write_card(out: Path, args, timings: dict, metrics: dict, counts: dict) -> None:
    """``out/MODEL_CARD.md``: data, split, steps, hardware, time and validation numbers of this run."""
    lines = ["# Matting networks (background -> foreground -> alpha)", "",
             f"- command: `python -m segwidgets.train matting --out {out} --steps {args.steps} "
             f"--finetune-steps {args.finetune_steps} --batch-size {args.batch_size} --size {args.size} "
             f"--stages {','.join(args.stages)} --holes {args.holes} --strands {args.strands} --wide {args.wide} "
             f"--color-scale {args.color_scale}"
             + (f" --laplacian {args.laplacian}" if args.laplacian else "")
             + (f" --init {args.init}" if args.init else "")
             + (f" --pseudo {args.pseudo} --pseudo-p {args.pseudo_p}" if args.pseudo else "")
             + f" --lr {args.lr}`",
             f"- data: object images of {args.data} ({counts['fit']} fit / {counts['validation']} validation; "
             "the test split is never read); real mattes for fine-tuning: "
             f"{', '.join(counts['mattes']) or 'none'} (GT09..GT13 and the lemur never read)",
             f"- hardware: {args.device} ({platform.processor() or platform.machine()}, {args.threads} threads)", ""]
    lines.append("| stage | steps | minutes | validation |")
    lines.append("|---|---|---|---|")
    for stage in timings:
        lines.append(f"| {stage} | {args.steps} | {timings[stage] / 60:.1f} | {json.dumps(metrics.get(stage, {}))} |")
    (out / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")


def run(args) -> dict:
    """Entry point of ``python -m segwidgets.train matting``: the stages in order, each resumable."""
    from .loop import train

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    fit = load_items(args.data, "fit", limit=args.limit)
    validation = load_items(args.data, "validation", limit=args.limit)
    mattes = load_alphamatting(args.mattes, FINETUNE_MATTES, skip_missing=True) if args.mattes else []
    print(f"foregrounds/backgrounds from {len(fit)} images, validating on {len(validation)}, "
          f"real mattes for fine-tuning: {[m.name for m in mattes]} (unseen mattes and test splits never read)")
    fit_pseudo, val_pseudo, pseudo_p = {}, {}, 0.0
    if args.pseudo:
        pseudo_p = args.pseudo_p
        fit_pseudo = load_pseudo_mattes(args.pseudo, [item.name for item in fit])
        val_pseudo = load_pseudo_mattes(args.pseudo, [item.name for item in validation])
        print(f"pseudo mattes: {len(fit_pseudo)} fit, {len(val_pseudo)} validation, drawn for {pseudo_p:.0%} "
              "of object foregrounds")
    sampler = MattingSampler(fit, mattes, args.size, pseudo=fit_pseudo)
    val_rng = np.random.default_rng(1234)
    val_sampler = MattingSampler(validation, [], args.size, pseudo=val_pseudo)
    val_batches = [stack_samples([val_sampler.sample(val_rng, real_p=0) for _ in range(8)], args.device)
                   for _ in range(args.val_batches)]
    # Drawn after the plain ones, so those stay the same composites whatever --holes, --strands and --wide are;
    # each from its own seed, so one set does not change with the other option.
    extra_sets = {}
    for name, share, seed in (("holes", args.holes, 1235), ("strands", args.strands, 1236), ("pseudo", pseudo_p, 1237),
                              ("wide", args.wide, 1238)):
        if share and (name != "pseudo" or val_pseudo):
            rng = np.random.default_rng(seed)
            extra_sets[name] = [stack_samples([val_sampler.sample(rng, real_p=0, **{f"{name}_p": 1.0}) for _ in range(8)],
                                              args.device) for _ in range(args.val_batches)]
    unknown = sorted(set(args.stages) - set(STAGES))
    if unknown:
        raise ValueError(f"unknown stages {unknown}; the stages are {list(STAGES)}")
    if set(args.stages) != set(STAGES) and not args.init:
        raise ValueError("training only some stages needs --init: the folder the other stages' weights come from")
    networks, timings, metrics = {}, {}, {}
    finetune_from = args.steps - args.finetune_steps
    for stage in STAGES:
        init = Path(args.init) / STAGES[stage][1] if args.init else None
        if stage not in args.stages:  # an earlier stage taken as it is, e.g. the shipped colour networks
            networks[stage] = load_stage(stage, out, args.device, path=init)
            continue
        model = build_stage(stage, args.pretrained, init).to(args.device)
        if args.eval_only:  # the --init weights on this run's validation sets, no training
            with torch.no_grad():
                metrics[stage] = evaluate_stage(stage, model.eval(), networks, val_batches, extra_sets, args.color_scale)
            print(f"stage {stage} ({init}): {json.dumps(metrics[stage])}")
            networks[stage] = model
            continue

        def loss_fn(rng, step, stage=stage, model=model):
            real_p = FINETUNE_REAL_P if step >= finetune_from else REAL_P
            batch = stack_samples([sampler.sample(rng, real_p, holes_p=args.holes, strands_p=args.strands,
                                                  pseudo_p=pseudo_p, wide_p=args.wide)
                                   for _ in range(args.batch_size)], args.device)
            return stage_losses(stage, model, networks, batch, args.color_scale, args.laplacian)

        def evaluate(stage=stage, model=model):
            return evaluate_stage(stage, model, networks, val_batches, extra_sets, args.color_scale)

        print(f"stage {stage}: {args.steps} steps (real mattes mostly from step {finetune_from})")
        t0 = time.time()
        metrics[stage] = train(model, loss_fn, evaluate, out / stage, steps=args.steps, lr=args.lr,
                               eval_every=args.eval_every, checkpoint_every=args.checkpoint_every,
                               weights_name=STAGES[stage][1], resume=not args.restart)
        timings[stage] = time.time() - t0
        networks[stage] = load_stage(stage, out, args.device)
    if args.eval_only:
        return metrics
    write_card(out, args, timings, metrics, {"fit": len(fit), "validation": len(validation), "mattes": [m.name for m in mattes]})
    return metrics
