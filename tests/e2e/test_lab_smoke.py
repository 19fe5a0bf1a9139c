"""End-to-end smoke test in real JupyterLab and headless Chromium.

Runs the quickstart notebook in the browser, clicks the canvas and checks that
the click reaches Python in image coordinates. Skipped unless Chromium
(/usr/bin/chromium or $CHROMIUM), the playwright package and JupyterLab are
installed: ``apt-get install chromium && pip install playwright jupyterlab``.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytest.importorskip("playwright.sync_api")
pytest.importorskip("jupyterlab")
if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_quickstart_canvas_reports_clicks_in_the_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    port = free_port()
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.token=e2e",
         "--ServerApp.ip=127.0.0.1", "--LabApp.expose_app_in_browser=True", "--allow-root"],
        cwd=ROOT, stdout=open(tmp_path / "lab.log", "w"), stderr=subprocess.STDOUT,
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(60):  # wait for the server
                try:
                    page.goto(f"http://127.0.0.1:{port}/lab/tree/notebooks/01_quickstart.ipynb?token=e2e")
                    break
                except Exception:
                    time.sleep(1)
            page.wait_for_function("window.jupyterapp !== undefined", timeout=60000)
            page.wait_for_timeout(5000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector("canvas", timeout=120000)
            # the graph-cut cell writes its summary into the canvas' status line
            page.wait_for_function("document.body.innerText.includes('final energy')", timeout=120000)
            text = ""
            for _ in range(5):  # the notebook may still scroll while outputs render
                canvas = page.query_selector_all("canvas")[0]
                canvas.scroll_into_view_if_needed()
                page.wait_for_timeout(2000)
                box = canvas.bounding_box()
                # The sample is 512 px, shown at 512 px: canvas pixels are image pixels.
                page.mouse.click(box["x"] + 100, box["y"] + 50, button="right")
                page.wait_for_timeout(2000)
                text = page.inner_text("body")
                if "right click at" in text:
                    break
            browser.close()
        x, y = map(float, re.search(r"right click at x=([0-9.]+), y=([0-9.]+)", text).groups())
        assert abs(x - 100) <= 1.5 and abs(y - 50) <= 1.5
    finally:
        lab.send_signal(signal.SIGINT)
        time.sleep(1)
        lab.kill()
