"""Shared fixtures of the widget tests."""
import pytest


@pytest.fixture
def sent(monkeypatch):
    """Every message the canvas manager sends to the browser: (commands, buffers)."""
    canvas = pytest.importorskip("ipycanvas.canvas")
    messages = []

    def capture(command, buffers=()):
        messages.append((command, [bytes(b) for b in buffers]))

    monkeypatch.setattr(canvas._CANVAS_MANAGER, "_send_custom", capture)
    return messages
