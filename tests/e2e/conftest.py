"""Shared fixtures of the browser tests: one JupyterLab server and one Chromium page for the tests in this folder.

The tests are skipped, with the reason, only where the browser cannot run (no Chromium, no
playwright or JupyterLab); see ``_lab.missing``. Screenshots go to ``out/e2e/`` (git-ignored).
"""
from __future__ import annotations

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
    with LabSession(ROOT, log=SHOTS / "lab.log") as session:
        yield session


@pytest.fixture
def shot(lab):
    """``shot(name)``: a screenshot of the page, or of a locator's area, as ``out/e2e/<name>.png``."""

    def take(name: str, locator=None):
        path = SHOTS / f"{name}.png"
        (locator or lab.page).screenshot(path=str(path))
        return path

    return take
