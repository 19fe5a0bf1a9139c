"""``python -m segwidgets.train {objectness,click,matting,pseudo-mattes,query,semantic} --data DIR --out DIR [...]``,
``python -m segwidgets.train average --out OUT.safetensors IN.safetensors [...]``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data import DEFAULT_DATA_ROOT

DEFAULT_SEG = DEFAULT_DATA_ROOT / "seg"
DEFAULT_PRETRAINED = DEFAULT_DATA_ROOT / "pretrained" / "mobilenet_v2_imagenet.pth"


def _common(p: argparse.ArgumentParser, data: Path, steps: int, size: int, batch: int) -> None:
    p.add_argument("--data", type=Path, default=data, help=f"dataset folder(s) with images/ and masks/ (default {data})")
    p.add_argument("--out", type=Path, required=True, help="run folder: checkpoint.pt, log.jsonl, weights")
    p.add_argument("--steps", type=int, default=steps, help=f"optimisation steps in all (default {steps})")
    p.add_argument("--batch-size", type=int, default=batch, help=f"samples per step (default {batch})")
    p.add_argument("--size", type=int, default=size, help="training crop side in pixels")
    p.add_argument("--size-jitter", type=int, default=0,
                   help="draw each batch's crop side from size-jitter..size+jitter in steps of 32 (scale robustness)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of the cosine schedule (default 1e-3)")
    p.add_argument("--eval-every", type=int, default=200, help="steps between validations (default 200)")
    p.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints (default 50)")
    p.add_argument("--limit", type=int, default=None, help="images per dataset folder (quick runs)")
    p.add_argument("--device", default="cuda" if _cuda() else "cpu", help="cpu or cuda (default: cuda when present)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in --out")
    p.add_argument("--resume", action="store_true",
                   help="require OUT/checkpoint.pt and go on from it (an existing checkpoint is resumed anyway "
                        "unless --restart; this flag makes a missing one an error)")


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _edge_weight(sub) -> None:
    sub.add_argument("--edge-weight", type=float, default=0.0,
                     help="extra weight of P's cross-entropy in the +-2 px band around the mask's edge (default 0)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segwidgets.train", description=__doc__.replace("``", ""))
    sub = parser.add_subparsers(dest="model", required=True)
    obj = sub.add_parser("objectness", help="probability + boundary networks (boundary-aware segmentation)")
    _common(obj, DEFAULT_SEG, steps=1800, size=224, batch=8)
    obj.add_argument("--init-from", dest="init", default=None,
                     help="start from objectness weights (.safetensors, e.g. objectness.safetensors = the shipped "
                          "ones); default: ImageNet encoder from --pretrained")
    obj.add_argument("--pretrained", type=Path, default=DEFAULT_PRETRAINED, help="ImageNet MobileNetV2 state dict")
    _edge_weight(obj)
    obj.add_argument("--teachers", nargs="+", default=[], metavar="WEIGHTS",
                     help="objectness weights (.safetensors) whose averaged P and B are blended into the targets "
                          "(distillation), e.g. objectness.safetensors objectness_long.safetensors "
                          "objectness_edge6.safetensors = the three the pipeline averages")
    obj.add_argument("--distill", type=float, default=0.5,
                     help="with --teachers: share of the teachers' maps in the targets, the rest the ground truth "
                          "(default 0.5)")
    click = sub.add_parser("click", help="click segmentation network (simulated clicks)")
    _common(click, DEFAULT_SEG, steps=1200, size=224, batch=8)
    click.add_argument("--init-from", "--init", dest="init", default=None,
                       help="start from click weights (e.g. click.safetensors = the shipped ones) or objectness "
                            "weights (.safetensors; the click planes' stem then starts at zero); "
                            "default: ImageNet encoder from --pretrained")
    click.add_argument("--pretrained", type=Path, default=DEFAULT_PRETRAINED, help="ImageNet MobileNetV2 state dict")
    _edge_weight(click)
    # defaults: train.click's MAX_ROUNDS, LATE_MAX_ROUNDS and MAX_TRAIN_CLICKS (not imported: torch loads late)
    click.add_argument("--max-rounds", type=int, default=2,
                       help="most corrective rounds simulated before a step in the first half of training (default 2)")
    click.add_argument("--late-max-rounds", type=int, default=4, help="the same in the second half (default 4)")
    click.add_argument("--max-clicks", type=int, default=10, help="most clicks a training sample carries (default 10)")
    click.add_argument("--perturb-p", type=float, default=0.0,
                       help="share of samples whose previous mask is the target perturbed (grown, shrunk, a blob "
                            "added or cut) with the protocol's click on it (default 0)")
    matting = sub.add_parser("matting", help="background, foreground and alpha networks (sampling matting), in order")
    _common(matting, DEFAULT_SEG, steps=1500, size=256, batch=8)
    matting.add_argument("--finetune-steps", type=int, default=300,
                         help="last steps of each stage drawing mostly real mattes (GT01..GT08)")
    matting.add_argument("--mattes", default=str(DEFAULT_DATA_ROOT / "matting" / "alphamatting_dev"),
                         help="alphamatting_dev folder (only GT01..GT08 are read); '' for none")
    matting.add_argument("--val-batches", type=int, default=8, help="validation batches of 8 composites")
    matting.add_argument("--stages", type=lambda text: [t for t in text.split(",") if t],
                         default=["background", "foreground", "alpha"],
                         help="comma-separated stages to train (default all three, in order); the others come "
                              "from --init, e.g. --stages alpha --init segwidgets/weights")
    matting.add_argument("--holes", type=float, default=0.0,
                         help="share of object foregrounds with holes punched through their alpha (default 0)")
    matting.add_argument("--strands", type=float, default=0.0,
                         help="share of object foregrounds with hair-like strands grown out of them (default 0)")
    matting.add_argument("--wide", type=float, default=0.0,
                         help="share of trimaps widened as a hand-painted one is, broad strokes reaching into "
                              "solid regions (default 0)")
    matting.add_argument("--laplacian", type=float, default=0.0,
                         help="weight of a Laplacian-pyramid alpha loss in the alpha stage (default 0: none)")
    matting.add_argument("--color-scale", type=float, default=1.0,
                         help="the colour stages train on the crops shrunk by this factor, their colours enlarged "
                              "back for the loss (default 1; the pipeline runs them at 0.5)")
    matting.add_argument("--init", default=None,
                         help="folder with matting_{background,foreground,alpha}.safetensors to start from "
                              "(e.g. segwidgets/weights); default: ImageNet encoders from --pretrained")
    matting.add_argument("--pretrained", type=Path, default=DEFAULT_PRETRAINED, help="ImageNet MobileNetV2 state dict")
    matting.add_argument("--pseudo", type=Path, default=None,
                         help="folder of pseudo mattes (made by the pseudo-mattes command) to draw object "
                              "foregrounds from, with probability --pseudo-p")
    matting.add_argument("--pseudo-p", type=float, default=0.5,
                         help="share of object foregrounds taken from --pseudo instead of a blurred mask (default 0.5)")
    matting.add_argument("--eval-only", action="store_true",
                         help="report the --init weights of --stages on this run's validation sets, train nothing")
    pseudo = sub.add_parser("pseudo-mattes", help="closed-form pseudo-ground-truth mattes of the train split "
                                                  "(needs the bench extra's pymatting)")
    pseudo.add_argument("--data", type=Path, default=DEFAULT_SEG, help=f"dataset folder(s) (default {DEFAULT_SEG})")
    pseudo.add_argument("--out", type=Path, required=True, help="folder for <dataset>/<stem>_{alpha,fg}.png")
    pseudo.add_argument("--band", type=int, default=10, help="unknown band on each side of the mask outline, px")
    pseudo.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    pseudo.add_argument("--limit", type=int, default=None, help="images per dataset folder (quick runs)")
    query = sub.add_parser("query", help="query-object finder (synthetic query/search pairs)")
    _common(query, DEFAULT_SEG, steps=3000, size=256, batch=8)
    query.add_argument("--loss", choices=("double_margin", "l2"), default="double_margin",
                       help="heat-map loss: double margin (default) or plain L2 (the baseline)")
    query.add_argument("--val-pairs", type=int, default=96, help="validation pairs, drawn once")
    query.add_argument("--init", default=None, help="start from query weights (.safetensors)")
    query.add_argument("--pretrained", type=Path, default=DEFAULT_PRETRAINED, help="ImageNet MobileNetV2 state dict")
    semantic = sub.add_parser("semantic", help="feature-masking segment classifier or the per-pixel baseline (ccp_person)")
    _common(semantic, DEFAULT_SEG / "ccp_person", steps=4000, size=0, batch=4)
    semantic.add_argument("--head", choices=("masking", "pixel"), default="masking",
                          help="feature masking of candidate segments (default) or the per-pixel convolutional head")
    semantic.add_argument("--segments", type=int, default=48, help="candidate segments per image per step (masking)")
    semantic.add_argument("--val-images", type=int, default=40, help="validation images scored at each evaluation")
    semantic.add_argument("--cache", type=Path, default=None,
                          help="folder keeping each image's candidate segments (default OUT/candidates)")
    semantic.add_argument("--init", type=Path, default=None, help="start from weights of the same head (.safetensors)")
    semantic.add_argument("--pretrained", type=Path, default=DEFAULT_PRETRAINED, help="ImageNet MobileNetV2 state dict")
    average = sub.add_parser("average", help="mean of several checkpoints of one network (weight averaging)")
    average.add_argument("inputs", type=Path, nargs="+", help=".safetensors checkpoints of one network")
    average.add_argument("--out", type=Path, required=True, help="the averaged weights, fp16 .safetensors")
    args = parser.parse_args(argv)
    if args.model == "average":
        from .average import average_weights

        print(f"averaged {len(args.inputs)} checkpoints into {average_weights(args.inputs, args.out)}")
        return 0
    if args.model == "pseudo-mattes":
        from .pseudo_mattes import make_pseudo_mattes

        summary = make_pseudo_mattes(args.data, args.out, args.band, args.workers, args.limit)
        print(f"kept {summary['kept']} of {summary['images']} pseudo mattes in {args.out}")
        return 0
    if args.resume and args.restart:
        parser.error("--resume and --restart contradict each other")
    if args.resume and not any(args.out.glob("**/checkpoint.pt")):  # matting keeps one per stage folder
        parser.error(f"--resume: no checkpoint.pt to resume from under {args.out}")
    if args.model == "click":
        for option, least in (("max_rounds", 0), ("late_max_rounds", 0), ("max_clicks", 1)):
            if getattr(args, option) < least:
                parser.error(f"--{option.replace('_', '-')} must be at least {least}")
        if not 0 <= args.perturb_p <= 1:
            parser.error("--perturb-p must be between 0 and 1")
    if args.model == "objectness":
        from ..core.weights import resolve_weights_path

        for teacher in args.teachers:
            if not resolve_weights_path(teacher).exists():
                parser.error(f"--teachers weights not found: {resolve_weights_path(teacher)}")
        if not 0 <= args.distill <= 1:
            parser.error("--distill must be between 0 and 1")
    if args.model in ("objectness", "click") and args.init is not None:
        from ..core.weights import resolve_weights_path

        if not resolve_weights_path(args.init).exists():
            parser.error(f"--init-from weights not found: {resolve_weights_path(args.init)}")
    elif not args.pretrained.exists():
        parser.error(f"pretrained encoder weights not found: {args.pretrained}")
    if args.model == "objectness":
        from .objectness import run
    elif args.model == "matting":
        from .matting import run
    elif args.model == "query":
        from .query import run
    elif args.model == "semantic":
        from .semantic import run
    else:
        from .click import run
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
