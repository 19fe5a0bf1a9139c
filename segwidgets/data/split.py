"""The shared data's split rule, used everywhere so numbers stay comparable.

Within each dataset folder, sort the file names; the file at sorted index ``i``
is in the test split when ``i % 10 == 0``, else in the train split. Training
holds out ``i % 10 == 5`` of the train split for validation.
"""
from __future__ import annotations

#: Every ``TEST_EVERY``-th file (sorted by name, index 0, 10, 20, ...) is in the test split.
TEST_EVERY = 10
#: Within the train split, index ``i % 10 == VALIDATION_REMAINDER`` is held out for validation while training.
VALIDATION_REMAINDER = 5

_RULES = {
    "test": lambda i: i % TEST_EVERY == 0,
    "train": lambda i: i % TEST_EVERY != 0,
    "fit": lambda i: i % TEST_EVERY not in (0, VALIDATION_REMAINDER),
    "validation": lambda i: i % TEST_EVERY == VALIDATION_REMAINDER,
}
#: The split names :func:`split_pairs` accepts.
SPLITS = tuple(_RULES)


def split_pairs(pairs: list, split: str) -> list:
    """Select one split from pairs sorted by name (as :func:`list_pairs` returns them).

    Parameters
    ----------
    pairs : list
        Sorted items (usually ``(image, target)`` path pairs); only their order matters.
    split : {"test", "train", "fit", "validation"}
        ``"test"`` (index % 10 == 0, the data README's rule), ``"train"``
        (everything else), or, inside train, ``"fit"`` (what is trained on) and
        ``"validation"`` (index % 10 == 5, watched during training).

    Returns
    -------
    list
        The selected items, in their order.

    Raises
    ------
    ValueError
        An unknown ``split``.
    """
    if split not in _RULES:
        raise ValueError(f"split must be one of {sorted(_RULES)}, got {split!r}")
    rule = _RULES[split]
    return [pair for i, pair in enumerate(pairs) if rule(i)]
