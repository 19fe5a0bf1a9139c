"""Where the shared data lives and how its folders pair images with targets.

The shared layout: a dataset folder holds ``images/NAME.jpg`` (or ``.png``) and,
per kind of target, a sibling folder with ``NAME.png``: ``masks/``, ``labels/``,
``alpha/``, ``trimap1/`` ... Files pair up by stem.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that replaces the default shared data folder.
DATA_ROOT_ENV = "SEGWIDGETS_DATA"
#: File suffixes (lower case) read as images.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def default_data_root() -> Path:
    """The shared data folder: ``$SEGWIDGETS_DATA`` when set, else ``../shared/data`` beside the repository.

    Data is only ever read from there: it is never copied into the repository
    (most of it carries research-only terms), and no weights or data are
    downloaded.

    Returns
    -------
    Path
        The folder (it may not exist; readers raise when they need it).
    """
    override = os.environ.get(DATA_ROOT_ENV)
    if override:
        return Path(override).expanduser()
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "data"


#: The shared data folder at import time (see :func:`default_data_root`).
DEFAULT_DATA_ROOT = default_data_root()


def _require_dir(folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {os.fspath(folder)!r}")


def list_pairs(images_dir, targets_dir, limit: int | None = None,
               target_suffix: str = ".png") -> list[tuple[Path, Path]]:
    """``(image, target)`` path pairs matched by file stem (``NAME.jpg`` <-> ``NAME.png``), sorted by image name.

    Parameters
    ----------
    images_dir : path-like
        Folder of images (``IMAGE_SUFFIXES``, any case).
    targets_dir : path-like
        Folder of targets: ``masks/``, ``labels/``, ``alpha/``, a trimap folder...
    limit : int, optional
        Only the first ``limit`` pairs (all when None or 0).
    target_suffix : str
        Suffix of the target files (compared case-insensitively).

    Returns
    -------
    list of (Path, Path)

    Raises
    ------
    FileNotFoundError
        A missing folder, or an image without a target (named in the message).
    """
    images_dir, targets_dir = Path(images_dir), Path(targets_dir)
    for folder in (images_dir, targets_dir):
        _require_dir(folder)
    suffix = target_suffix.lower()
    targets = {p.stem: p for p in targets_dir.iterdir() if p.suffix.lower() == suffix}
    pairs = []
    for image in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        if image.stem not in targets:
            raise FileNotFoundError(
                f"no {image.stem}{target_suffix} in {os.fspath(targets_dir)!r} for image {image.name}")
        pairs.append((image, targets[image.stem]))
    return pairs[:limit] if limit else pairs


def _is_dataset(folder: Path) -> bool:
    return (folder / "images").is_dir() and (folder / "masks").is_dir()


def dataset_folders(root) -> list[Path]:
    """The mask datasets under ``root``: ``root`` itself when it holds ``images/`` and ``masks/``,
    else its sub-folders that do, sorted by name.

    Raises
    ------
    FileNotFoundError
        ``root`` is missing, or neither it nor a sub-folder is a dataset.
    """
    root = Path(root)
    _require_dir(root)
    if _is_dataset(root):
        return [root]
    folders = sorted(p for p in root.iterdir() if _is_dataset(p))
    if not folders:
        raise FileNotFoundError(f"no images/ + masks/ folders in {os.fspath(root)!r}")
    return folders
