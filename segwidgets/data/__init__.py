"""Dataset folders in the shared layout, and the split rule.

The one place that reads the shared data (``../shared/data`` beside the
repository, or ``$SEGWIDGETS_DATA``): a dataset folder holds ``images/`` and,
paired by file stem, ``masks/``, ``labels/`` (+ ``label_names.txt``),
``alpha/`` or trimap folders; ``matting`` reads the real mattes and says which
may be trained on (GT01..GT08) and which stay unseen (GT09..GT13, the lemur). Train, eval, the benchmarks and batch processing
all read through here, so they agree on pairing, mask conventions and which
files are held out for testing. Data is read in place, never copied into the
repository; nothing is downloaded.

numpy and Pillow only (no torch).
"""
from .matting import FINETUNE_MATTES, UNSEEN_MATTES, MattingExample, load_alphamatting, load_lemur
from .folders import DATA_ROOT_ENV, DEFAULT_DATA_ROOT, IMAGE_SUFFIXES, dataset_folders, default_data_root, list_pairs
from .readers import label_names, load_alpha, load_label_map, load_mask, load_trimap
from .split import SPLITS, TEST_EVERY, VALIDATION_REMAINDER, split_pairs

__all__ = [
    "DATA_ROOT_ENV", "DEFAULT_DATA_ROOT", "IMAGE_SUFFIXES", "default_data_root", "dataset_folders", "list_pairs",
    "load_mask", "load_label_map", "label_names", "load_alpha", "load_trimap",
    "SPLITS", "TEST_EVERY", "VALIDATION_REMAINDER", "split_pairs",
    "FINETUNE_MATTES", "UNSEEN_MATTES", "MattingExample", "load_alphamatting", "load_lemur",
]
