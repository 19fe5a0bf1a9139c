"""``ForkingProvisioner``: a jupyter_client kernel provisioner that forks kernels from a fork server.

The Jupyter server loads it by name (``segwidgets-fork``, an entry point of this package) for a
kernel spec that asks for it (``python -m segwidgets_binder_kernel install``). The first kernel starts
the fork server (:mod:`segwidgets_binder_kernel.zygote`, one per Jupyter server, a few seconds of
imports); later kernels start in well under a second. Whenever the server cannot be used
(not Linux, it did not start, a kernel command that is not ipykernel's) the kernel is launched
as usual, as a new process, and the server's log says why: nothing a user runs depends on it.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from traitlets import List, Unicode

from .zygote import DEFAULT_PRELOAD, kernel_arguments

#: Seconds the first kernel waits for the fork server to import its libraries.
SERVER_START_TIMEOUT_S = 120.0


class ForkedKernel:
    """The part of ``subprocess.Popen``'s interface LocalProvisioner uses, for a kernel we did not spawn.

    The fork server reaps its children at once, so a finished kernel is one whose pid is gone;
    its exit status is not known here and reads as 0.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:
                pass  # alive, owned by someone else (cannot happen for our own children)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Signal the kernel if it still runs (as Popen: a finished kernel is not signalled)."""
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:  # it ended after poll()
                self.returncode = 0

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class OutdatedServer(RuntimeError):
    """The fork server's loaded code changed on disk since it was loaded; it forks no more kernels."""


class _ForkServer:
    """A fork server for one Python interpreter, started on first use with the first kernel's environment."""

    def __init__(self, python: str, preload: tuple[str, ...] = DEFAULT_PRELOAD):
        self.python = python
        self.preload = preload
        self.process: subprocess.Popen | None = None
        self.folder: tempfile.TemporaryDirectory | None = None
        self.failed: str | None = None

    @property
    def key(self) -> tuple:
        return self.python, self.preload

    @property
    def gone(self) -> bool:
        """It started, and has since exited (killed, crashed): a new one should take its place."""
        return self.failed is None and self.process is not None and self.process.poll() is not None

    @property
    def socket_path(self) -> str:
        return os.path.join(self.folder.name, "fork-server.sock")

    def start(self, env: dict) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="segwidgets-kernels-")
        self.process = subprocess.Popen(
            [self.python, "-m", "segwidgets_binder_kernel.zygote", "--socket", self.socket_path,
             "--preload", ",".join(self.preload)],
            stdin=subprocess.DEVNULL, cwd=self.folder.name, env=env, start_new_session=True)
        atexit.register(self.stop)

    async def ready(self, env: dict) -> bool:
        if self.failed:
            return False
        if self.process is None:
            self.start(env)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not os.path.exists(self.socket_path):
            if self.process.poll() is not None:
                self.failed = f"the fork server exited with status {self.process.returncode}"
                return False
            if time.monotonic() > deadline:
                self.failed = f"the fork server was not ready after {SERVER_START_TIMEOUT_S:.0f} s"
                self.stop()
                return False
            await asyncio.sleep(0.1)
        return True

    async def fork(self, argv: list[str], env: dict, cwd: str) -> int:
        reader, writer = await asyncio.open_unix_connection(self.socket_path)
        try:
            request = {"argv": argv, "env": env, "cwd": cwd}
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            reply = json.loads(await asyncio.wait_for(reader.readline(), 30.0))
        finally:
            writer.close()
        if reply.get("stale"):
            raise OutdatedServer(reply["error"])
        if "pid" not in reply:
            raise RuntimeError(reply.get("error", "no reply"))
        return int(reply["pid"])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None


#: Fork servers by the kernel command's interpreter and preload list (kernels run in the Python
#: their spec names). An outdated server is replaced here; it stays up while its kernels run.
_FORK_SERVERS: dict[tuple, _ForkServer] = {}


class ForkingProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernels are forked from one fork server (shared library pages).

    ``preload`` (the kernel spec's ``metadata.kernel_provisioner.config.preload``): modules the
    fork server imports, by default :data:`.zygote.DEFAULT_PRELOAD`.
    """

    preload = List(Unicode(), default_value=list(DEFAULT_PRELOAD), config=True,
                   help="Modules the fork server imports before forking kernels.")

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        env = dict(kwargs.get("env") or os.environ)
        server, reason = await self._fork_server(cmd, env)
        if server is not None:
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                try:
                    pid = await server.fork(cmd, env, cwd)
                except OutdatedServer as outdated:
                    # e.g. after %pip install: a fresh server loads the code as it is now
                    self.log.info("segwidgets: restarting the fork server: %s", outdated)
                    _FORK_SERVERS.pop(server.key, None)
                    server, reason = await self._fork_server(cmd, env)
                    if server is None:
                        raise RuntimeError(reason) from outdated
                    pid = await server.fork(cmd, env, cwd)
            except (OSError, RuntimeError, ValueError, asyncio.TimeoutError) as error:
                reason = f"the fork server failed: {error}"
            else:
                self.process = ForkedKernel(pid)
                self.pid = self.pgid = pid  # the child started its own session: its pid is its group
                self.cwd = cwd
                self.log.info("segwidgets: kernel %s forked from the fork server (pid %d)", self.kernel_id, pid)
                return self.connection_info
        self.log.warning("segwidgets: starting kernel %s as a new process: %s", self.kernel_id, reason)
        return await super().launch_kernel(cmd, **kwargs)

    async def _fork_server(self, cmd: list[str], env: dict) -> tuple[_ForkServer | None, str | None]:
        """The ready fork server for ``cmd``, or ``None`` and why not."""
        if not sys.platform.startswith("linux"):
            # Tested on Linux only; macOS's system libraries are not safe to use after a fork.
            return None, "forked kernels are for Linux"
        if kernel_arguments(cmd) is None:
            return None, f"not an ipykernel command: {cmd!r}"
        python = cmd[0] if os.path.isabs(cmd[0]) else (shutil.which(cmd[0]) or sys.executable)
        key = (python, tuple(self.preload))
        if key not in _FORK_SERVERS or _FORK_SERVERS[key].gone:
            _FORK_SERVERS[key] = _ForkServer(*key)
        server = _FORK_SERVERS[key]
        if not await server.ready(env):
            return None, server.failed
        return server, None
