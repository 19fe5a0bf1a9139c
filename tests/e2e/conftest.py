"""Shared fixtures of the browser tests: one JupyterLab server and one Chromium page for the tests in this folder.

The tests are skipped, with the reason, only where the browser cannot run (no Chromium, no
playwright or JupyterLab); see ``_lab.missing``. Screenshots go to ``out/e2e/`` (git-ignored).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from ._lab import LabSession, missing

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "e2e"


@pytest.fixture(scope="package")
def lab():
    """The ``LabSession`` of this folder's tests, rooted at the repository (notebooks/ are opened from it).

    Package scope, not session: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is started, and widget tests that run after it would see that loop
    and defer their work to it."""
    reason = missing()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as kernels:
        with LabSession(ROOT, log=SHOTS / "lab.log", env=binder_kernel_env(kernels)) as session:
            yield session


def binder_kernel_env(prefix: str) -> dict | None:
    """The server's environment with Binder's forking kernel (binder/kernel) as its "python3"
    kernel, so that these tests run the notebooks as Binder does; ``None`` (the plain kernel)
    where that package is not installed. The plain kernel runs every notebook in tests/test_notebooks.py."""
    try:
        from segwidgets_binder_kernel import install
    except ImportError:
        return None
    install("python3", prefix=prefix)
    paths = [os.path.join(prefix, "share", "jupyter"), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    return {**os.environ, "JUPYTER_PATH": os.pathsep.join(paths)}


@pytest.fixture
def shot(lab):
    """``shot(name)``: a screenshot of the page, or of a locator's area, as ``out/e2e/<name>.png``."""

    def take(name: str, locator=None):
        path = SHOTS / f"{name}.png"
        (locator or lab.page).screenshot(path=str(path))
        return path

    return take
