"""A fork server for Jupyter kernels: imports the heavy libraries once, then forks each kernel.

Every IPython kernel that runs segwidgets imports PyTorch, NumPy, SciPy, scikit-image and
matplotlib: about 200 MB of private memory per kernel, most of it the same bytes in each
(PyTorch alone is ~130 MB: its operator tables and ~1100 Python modules). On mybinder.org's
2 GB that allows about six kernels. Forked from one process that imported them, kernels share
those pages copy-on-write and each keeps only what it changes.

The server listens on a Unix socket. A request is one JSON line
``{"argv": [...], "connection_file": ..., "cwd": ..., "env": {...}}``; the reply is one
JSON line, ``{"pid": N}`` for the forked kernel or ``{"error": "..."}``; when a loaded module
or a folder on ``sys.path`` has changed since the preload (``%pip install``, an edited file),
the reply is ``{"error": ..., "stale": true}`` and the server exits, so that the provisioner
starts a fresh one: a restarted kernel never runs outdated code. The forked child
starts its own session (so the kernel manager can signal its process group), takes the
request's working folder and environment, reseeds NumPy's global random state (which a fork
would otherwise copy into every kernel) and runs ``ipykernel``'s application with ``argv``.

Run by :class:`segwidgets_binder_kernel.provisioner.ForkingProvisioner`; by hand::

    python -m segwidgets_binder_kernel.zygote --socket /tmp/sw.sock [--preload numpy,torch]
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import signal
import socket
import sys
import time

#: Imported before forking: libraries every segwidgets kernel loads. Nothing that hooks into a
#: running IPython at import (ipywidgets registers its comm target only when imported inside a
#: kernel), and nothing that starts threads (a fork copies only the calling thread).
DEFAULT_PRELOAD = (
    "numpy", "scipy.ndimage", "scipy.sparse", "PIL.Image", "torch", "torch.nn.functional", "skimage",
    "skimage.segmentation", "skimage.morphology", "skimage.measure", "matplotlib", "matplotlib.figure",
    "matplotlib.backends.backend_agg", "maxflow", "safetensors.torch", "ipykernel.kernelapp",
    "segwidgets.core", "segwidgets.nets", "segwidgets.graphcut", "segwidgets.pipelines",
)
#: The backend ipykernel would select; matplotlib reads it once, at import, here in the server.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Kernel commands the server can run: ``python -m <one of these> <args>``.
LAUNCHERS = ("ipykernel_launcher", "ipykernel")


def kernel_arguments(argv: list[str]) -> list[str] | None:
    """The ipykernel arguments of a kernel command, or ``None`` when it is not ``python -m ipykernel``."""
    if len(argv) >= 3 and argv[1] == "-m" and argv[2] in LAUNCHERS:
        return list(argv[3:])
    return None


def preload(modules) -> list[str]:
    """Import ``modules``; returns the ones that failed (a missing optional library is no error)."""
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - report and go on: preloading only saves memory
            failed.append(f"{name}: {error}")
    return failed


def _run_kernel(request: dict) -> None:
    """In the forked child: become the kernel the request describes. Never returns."""
    status = 1
    try:
        os.setsid()
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # as a spawned kernel: no terminal input
        os.close(devnull)
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()  # fresh entropy, not the server's state
        # Exit with the fork server, as a spawned kernel exits with the Jupyter server (ipykernel read
        # JPY_PARENT_PID when it was imported, before this kernel existed: pass it on the command line).
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        arguments = [*request["arguments"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [sys.executable, *arguments]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=arguments)
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 0
    except BaseException:  # noqa: BLE001 - the child must never fall back into the server's loop
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def code_state() -> dict[str, float | None]:
    """Modification time of every loaded module's file and of every folder on ``sys.path``.

    A kernel forked after any of them changed (a package upgraded with ``%pip``, an edited
    source file of an editable install) would run the code loaded before: see :func:`changed`.
    """
    paths = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
    paths.update(entry for entry in sys.path if entry)
    state = {}
    for path in filter(None, paths):
        try:
            state[path] = os.stat(path).st_mtime
        except OSError:
            state[path] = None
    return state


def changed(before: dict[str, float | None]) -> str | None:
    """The first file or folder whose modification time differs from ``before`` (or None)."""
    for path, mtime in before.items():
        try:
            now = os.stat(path).st_mtime
        except OSError:
            now = None
        if now != mtime:
            return path
    return None


def _handle(connection: socket.socket, listener: socket.socket, loaded: dict) -> tuple[int | None, str | None]:
    """Answer one request: ``(pid of the forked kernel or None, the changed path when the code is outdated)``."""
    with connection, connection.makefile("rwb") as stream:
        try:
            request = json.loads(stream.readline())
            arguments = kernel_arguments(request["argv"])
            if arguments is None:
                raise ValueError(f"not an ipykernel command: {request['argv']!r}")
            request["arguments"] = arguments
        except (ValueError, KeyError, TypeError) as error:
            stream.write(json.dumps({"error": str(error)}).encode() + b"\n")
            return None, None
        stale = changed(loaded)
        if stale is not None:
            stream.write(json.dumps({"error": f"changed since it was loaded: {stale}", "stale": True}).encode() + b"\n")
            return None, stale
        pid = os.fork()
        if pid == 0:
            listener.close()
            connection.close()
            _run_kernel(request)
        stream.write(json.dumps({"pid": pid}).encode() + b"\n")
        return pid, None


def _running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.add(pid)
        except ProcessLookupError:
            pass
    return alive


def serve(socket_path: str, modules=DEFAULT_PRELOAD) -> None:
    """Preload ``modules``, then fork a kernel for each request on ``socket_path``.

    Runs while the process that started it (the Jupyter server) runs. Once the loaded code is out of
    date it refuses further requests and stays only while kernels it forked still run: they exit
    with it (their parent), as spawned kernels exit with the Jupyter server.
    """
    failed = preload(modules)
    for line in failed:
        print(f"segwidgets kernel server: not preloaded: {line}", file=sys.stderr)
    # Children are reaped at once: the provisioner sees a finished kernel as a vanished pid.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal is for the server
    loaded = code_state()
    gc.collect()
    gc.freeze()  # the collector would otherwise write to every preloaded object's page in each kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".tmp")
    os.rename(socket_path + ".tmp", socket_path)  # the socket appears only once it is ready
    listener.listen(16)
    listener.settimeout(2.0)
    parent, kernels, stale = os.getppid(), set(), None
    while os.getppid() == parent and stale is None:
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            continue
        connection.settimeout(30.0)
        try:
            pid, stale = _handle(connection, listener, loaded)
        except OSError as error:
            print(f"segwidgets kernel server: request failed: {error}", file=sys.stderr)
            continue
        if pid is not None:
            kernels = _running(kernels) | {pid}
    listener.close()
    while os.getppid() == parent and _running(kernels):  # outdated: wait for our kernels to end
        time.sleep(2.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segwidgets_binder_kernel.zygote", description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="path of the Unix socket to listen on")
    parser.add_argument("--preload", default=",".join(DEFAULT_PRELOAD), help="comma-separated modules to import")
    args = parser.parse_args(argv)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does: kernels do not import from the server's folder
    serve(args.socket, [m for m in args.preload.split(",") if m])
    return 0


if __name__ == "__main__":
    sys.exit(main())
