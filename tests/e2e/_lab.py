"""Real JupyterLab in headless Chromium, for the browser tests and ``benchmarks/bench_browser.py``.

``LabSession`` starts one JupyterLab server (127.0.0.1, a free port, a token, its
own settings and workspace folders so no earlier session's tabs come back) and one
Chromium page on it, collecting the page's console errors. ``LabSession.open``
opens a notebook as a ``NotebookPage``: run all cells, read the error outputs,
run code in its kernel and read the output back, find a cell's output.

Chromium comes from the system (``$CHROMIUM``, ``chromium`` on the path or
``/usr/bin/chromium``): Playwright's own browser download cannot work here.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "e2e"
#: JupyterLab settings for the session: no news or update checks (they need the network, which is absent).
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    for module in ("jupyterlab", "playwright"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: pip install -e '.[dev]'"
    if not Path(CHROMIUM).exists():
        return ("Chromium was not found (set $CHROMIUM, or apt-get install chromium); "
                "the browser tests need the system's Chromium")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 0.1):
    """Poll ``condition()`` until it returns something truthy (returned) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class LabSession:
    """One JupyterLab server and one Chromium page on it (a context manager; everything is stopped at exit).

    Parameters
    ----------
    root : path
        The server's root folder (notebook paths are relative to it).
    log : path, optional
        Where the server's output goes (default: a file in a temporary folder).
    viewport : (width, height)
        The page's size in CSS pixels.

    Attributes
    ----------
    page : playwright Page
    console_errors : list of str
        Console messages of type "error" and uncaught page errors, in order.
    """

    def __init__(self, root, log=None, viewport=(1600, 1000), env=None):
        self.root = Path(root)
        self.env = env
        self.viewport = viewport
        self._tmp = Path(tempfile.mkdtemp(prefix="segwidgets-lab-"))
        self.log = Path(log) if log is not None else self._tmp / "lab.log"
        self.console_errors: list[str] = []
        self._server = self._playwright = self._browser = None
        self.page = None

    # -- start / stop ------------------------------------------------------------------
    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _start(self):
        from playwright.sync_api import sync_playwright

        settings = self._tmp / "settings"
        for name, values in USER_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:
            self._server = subprocess.Popen(
                [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={self.port}",
                 f"--ServerApp.token={TOKEN}", "--ServerApp.ip=127.0.0.1", "--LabApp.expose_app_in_browser=True",
                 "--allow-root", f"--ServerApp.root_dir={self.root}", f"--LabApp.user_settings_dir={settings}",
                 f"--LabApp.workspaces_dir={self._tmp / 'workspaces'}"],
                cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env,
            )
        wait_until(self._server_ready, 120, f"JupyterLab to answer (log: {self.log})", interval=0.5)
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-renderer-backgrounding",
            "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"])
        self.page = self._browser.new_page(viewport={"width": self.viewport[0], "height": self.viewport[1]})
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"page error: {exc}"))
        self.page.goto(f"{self.base}/lab?token={TOKEN}")
        self.page.wait_for_function("window.jupyterapp !== undefined", timeout=120_000)
        self.page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")

    def _server_ready(self) -> bool:
        if self._server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {self._server.returncode}: {self.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{self.base}/api/status?token={TOKEN}", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location or {}
            self.console_errors.append(f"{message.text} ({where.get('url', '')}:{where.get('lineNumber', '')})")

    def close(self) -> None:
        """Close the browser and stop the server (SIGINT, then SIGKILL of its process group)."""
        for step in (lambda: self._browser and self._browser.close(),
                     lambda: self._playwright and self._playwright.stop()):
            try:
                step()
            except Exception:
                pass
        self._browser = self._playwright = None
        if self._server is not None and self._server.poll() is None:
            self._server.send_signal(signal.SIGINT)  # the server asks for confirmation on the first SIGINT ...
            time.sleep(0.2)
            self._server.send_signal(signal.SIGINT)  # ... and stops (shutting its kernels down) on the second
            try:
                self._server.wait(10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self._server.pid, signal.SIGKILL)  # kernels left behind, if any
            except ProcessLookupError:
                pass
            self._server.wait()
        self._server = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    # -- notebooks ---------------------------------------------------------------------
    def open(self, path, timeout: float = 120) -> "NotebookPage":
        """Open the notebook at ``path`` (relative to the root) in a tab and wait for its kernel."""
        # Only start the opening here: a promise awaited inside evaluate() that settles late can be
        # garbage-collected by Playwright; the conditions are polled instead.
        self.page.evaluate("""(path) => {
            const app = window.jupyterapp;
            window.__e2e = undefined;
            app.commands.execute('docmanager:open', {path, factory: 'Notebook'}).then(panel => {
                app.shell.activateById(panel.id);
                window.__e2e = panel;  // the notebook every later call works on
            });
        }""", str(path))
        try:
            self.page.wait_for_function(
                "window.__e2e !== undefined && window.__e2e.context.isReady"
                " && window.__e2e.sessionContext.session?.kernel?.status === 'idle'",
                timeout=timeout * 1000, polling=100)
        except Exception:
            self.page.screenshot(path=str(self.log.with_name("open_failed.png")))
            raise
        return NotebookPage(self, str(path))


class NotebookPage:
    """A notebook open in the session's page (see :meth:`LabSession.open`)."""

    def __init__(self, session: LabSession, path: str):
        self.session = session
        self.page = session.page
        self.path = path

    def run_all(self, timeout: float = 300) -> bool:
        """Run every cell ("Run all") and wait until the kernel is idle again; returns whether every cell ran
        (JupyterLab stops at the first cell that fails)."""
        self.page.evaluate("""() => {
            window.__e2eDone = undefined;
            window.jupyterapp.commands.execute('notebook:run-all-cells')
                .then(ok => { window.__e2eDone = {ok: ok !== false}; },
                      err => { window.__e2eDone = {ok: false, error: String(err)}; });
        }""")
        self.page.wait_for_function("window.__e2eDone !== undefined", timeout=timeout * 1000, polling=200)
        self.wait_idle()
        return bool(self.page.evaluate("window.__e2eDone.ok"))

    def wait_idle(self, timeout: float = 60, quiet: float = 0.3) -> None:
        """Wait until the kernel has been idle for ``quiet`` seconds (deferred widget steps included)."""
        since = [None]

        def idle():
            if self.page.evaluate("window.__e2e.sessionContext.session.kernel.status") != "idle":
                since[0] = None
                return False
            since[0] = since[0] or time.monotonic()
            return time.monotonic() - since[0] >= quiet

        wait_until(idle, timeout, "the kernel to go idle", interval=0.05)

    def problems(self) -> list[str]:
        """Error outputs (tracebacks), stderr output that holds a traceback or an error, widgets that
        failed to show, and cells that did not run; one line each."""
        found = self.page.evaluate("""() => {
            const out = [];
            window.__e2e.content.widgets.forEach((cell, i) => {
                if (cell.model.type !== 'code') return;
                if (cell.model.executionCount === null) out.push(`cell ${i}: did not run`);
                const outputs = cell.model.outputs;
                for (let j = 0; j < outputs.length; j++) {
                    const o = outputs.get(j).toJSON();
                    if (o.output_type === 'error')
                        out.push(`cell ${i}: ${o.ename}: ${o.evalue}\\n${(o.traceback || []).join('\\n')}`);
                    else if (o.output_type === 'stream' && o.name === 'stderr')
                        out.push(`cell ${i}: stderr: ${o.text}`);
                }
                // what the page shows: a widget that could not be rendered says so in its output
                const text = cell.node.querySelector('.jp-OutputArea')?.innerText || '';
                if (text.includes('Error displaying widget') || text.includes('Error rendering'))
                    out.push(`cell ${i}: a widget failed to show: ${text.slice(0, 300)}`);
            });
            return out;
        }""")
        # Warnings on stderr are not errors; a traceback or an "...Error:" line in stderr is.
        return [_ANSI.sub("", p) for p in found
                if ": stderr: " not in p or re.search(r"Traceback|\w+Error\b", p)]

    def kernel(self, code: str, timeout: float = 120) -> str:
        """Run ``code`` in the notebook's kernel and return what it printed (stdout, and the value of a
        last expression); an exception in it raises ``AssertionError`` with its message."""
        answer = self.page.evaluate("""async ([code, timeout]) => {
            const kernel = window.__e2e.sessionContext.session.kernel;
            const future = kernel.requestExecute({code, store_history: false});
            let out = '', error = null;
            future.onIOPub = msg => {
                const kind = msg.header.msg_type;
                if (kind === 'stream') out += msg.content.text;
                else if (kind === 'execute_result') out += msg.content.data['text/plain'] + '\\n';
                else if (kind === 'error') error = `${msg.content.ename}: ${msg.content.evalue}`;
            };
            const late = new Promise(resolve => setTimeout(() => resolve('timeout'), timeout));
            if (await Promise.race([future.done, late]) === 'timeout') error = 'timed out';
            return {out, error};
        }""", [code, timeout * 1000])
        if answer["error"]:
            raise AssertionError(f"kernel code failed: {answer['error']}\n{code}")
        return answer["out"]

    def kernel_value(self, expression: str, timeout: float = 120):
        """The value of a Python ``expression`` in the kernel, through JSON."""
        return json.loads(self.kernel(f"import json as _json; print(_json.dumps({expression}))", timeout))

    def output(self, snippet: str):
        """A locator for the output area of the first code cell whose source contains ``snippet``."""
        index = self.page.evaluate("""(snippet) => window.__e2e.content.widgets.findIndex(
            cell => cell.model.type === 'code' && cell.model.sharedModel.getSource().includes(snippet))""", snippet)
        if index < 0:
            raise AssertionError(f"no code cell holds {snippet!r} in {self.path}")
        mark = f"e2e-{index}"
        self.page.evaluate("""([index, mark]) => {
            window.__e2e.content.widgets[index].node.querySelector('.jp-OutputArea').dataset.e2e = mark;
        }""", [index, mark])
        return self.page.locator(f'[data-e2e="{mark}"]')

    def close(self) -> None:
        """Shut the kernel down and close the tab (unsaved changes discarded)."""
        # Move the pointer off every canvas first: ipyevents (2.0.4) adds a document-wide keydown listener
        # while the pointer is over a watched canvas and removes it only on mouseleave, so a canvas removed
        # under the pointer leaves a listener that throws "Cannot send" at the next key press anywhere.
        self.page.mouse.move(0, 0)
        # Clear the outputs while the kernel still runs, then close the tab and stop the kernel: widget views
        # removed after their kernel has gone log "Could not send widget sync message" console errors
        # (ipyevents counts the canvas' views, and a removed view reports the new count).
        self.page.evaluate("""async () => {
            const panel = window.__e2e;
            await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
            const session = panel.sessionContext.session?.id;
            panel.context.model.dirty = false;
            panel.close();
            window.__e2e = undefined;
            if (session) await window.jupyterapp.serviceManager.sessions.shutdown(session);
        }""")


class CanvasBox:
    """Map original-image pixels to page (screen) pixels on a displayed canvas.

    The canvas' place is read again at each call (screenshots and new outputs scroll the notebook).

    Parameters
    ----------
    locator : playwright Locator of the ``<canvas>`` element.
    display_scale : float
        Canvas pixels per original-image pixel (the widget's ``canvas.display_scale``).
    """

    def __init__(self, locator, display_scale: float = 1.0):
        self.locator = locator
        self.display_scale = display_scale

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        """Page coordinates of the centre of image pixel ``(x, y)`` (the canvas is scrolled into view)."""
        self.locator.scroll_into_view_if_needed()
        box = self.locator.bounding_box()
        width, height = self.locator.evaluate("c => [c.width, c.height]")
        # CSS pixels per image pixel: the canvas may be drawn at another CSS size than its pixel size
        sx, sy = box["width"] / width * self.display_scale, box["height"] / height * self.display_scale
        return box["x"] + (x + 0.5) * sx, box["y"] + (y + 0.5) * sy

    def hover(self, page, x: float, y: float, timeout: float = 30, watched: bool = True) -> tuple[float, float]:
        """Put the pointer on image pixel ``(x, y)`` once the canvas listens to it; returns the page point
        (``watched=False``: a canvas without ipyevents, nothing to wait for).

        A freshly shown widget attaches its event listeners a moment after its canvas appears (and the
        notebook may still scroll); ipyevents marks the canvas "ipyevents-watched" when the pointer
        enters it with listeners in place, so the pointer enters again until that mark shows.
        """
        deadline = time.monotonic() + timeout
        while True:
            point = self(x, y)
            page.mouse.move(0, 0)
            page.mouse.move(*point)
            if not watched:
                return point
            try:
                self.locator.evaluate(
                    "(c, ms) => new Promise((ok, fail) => { const t0 = performance.now(); (function check() {"
                    " if (c.classList.contains('ipyevents-watched')) ok(); else if (performance.now() - t0 > ms)"
                    " fail(new Error('not watched')); else requestAnimationFrame(check); })(); })", 1000)
            except Exception:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the canvas did not start listening to the pointer in {timeout:.0f} s")
                continue
            if self(x, y) == point:  # nothing scrolled meanwhile
                return point
