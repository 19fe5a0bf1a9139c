"""Binder's forking kernel (``binder/kernel``): kernels forked from one fork server run code as
spawned ones do, hold far less private memory, can be interrupted, restarted and shut down, fall
back to a new process when the command cannot be forked, and leave nothing behind."""
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("segwidgets_binder_kernel", reason="install it: pip install -e ./binder/kernel")
if not sys.platform.startswith("linux"):
    pytest.skip("forked kernels are for Linux", allow_module_level=True)

from jupyter_client import KernelManager  # noqa: E402

from segwidgets_binder_kernel import install, kernel_spec  # noqa: E402
from segwidgets_binder_kernel.provisioner import _FORK_SERVERS, ForkedKernel  # noqa: E402
from segwidgets_binder_kernel.zygote import kernel_arguments  # noqa: E402

MIB = 2 ** 20


@pytest.fixture
def kernel_dir(tmp_path, monkeypatch):
    """A Jupyter data folder holding the forking kernel spec as ``swfork``; returns the prefix."""
    install("swfork", prefix=str(tmp_path / "prefix"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "prefix" / "share" / "jupyter"))
    monkeypatch.setenv("SEGWIDGETS_CPU_THREADS", "1")
    return tmp_path


def start(name: str, cwd) -> tuple[KernelManager, object]:
    manager = KernelManager(kernel_name=name)
    manager.start_kernel(cwd=str(cwd))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    return manager, client


def run(client, code: str, timeout: float = 120) -> str:
    """Execute ``code``; its standard output (raises on an error)."""
    printed = []

    def keep(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        if message["msg_type"] == "error":
            raise AssertionError("\n".join(message["content"]["traceback"]))

    client.execute_interactive(code, timeout=timeout, output_hook=keep)
    return "".join(printed)


def private_dirty_bytes(pid: int) -> int:
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Private_Dirty:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Private_Dirty line")


def alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped by its parent, counts as gone)."""
    try:
        status = open(f"/proc/{pid}/status").read()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_kernel_arguments_accepts_only_ipykernel_commands():
    assert kernel_arguments(["/py", "-m", "ipykernel_launcher", "-f", "c.json"]) == ["-f", "c.json"]
    assert kernel_arguments(["/py", "-m", "ipykernel", "-f", "c.json"]) == ["-f", "c.json"]
    assert kernel_arguments(["/py", "-X", "utf8", "-m", "ipykernel_launcher", "-f", "c.json"]) is None
    assert kernel_arguments(["/usr/bin/R", "--slave"]) is None


def test_installed_spec_names_the_provisioner(kernel_dir):
    spec = json.loads((kernel_dir / "prefix" / "share" / "jupyter" / "kernels" / "swfork" / "kernel.json").read_text())
    assert spec == kernel_spec()
    assert spec["metadata"]["kernel_provisioner"]["provisioner_name"] == "segwidgets-fork"


def test_default_install_is_the_spec_jupyter_finds_first(tmp_path, monkeypatch):
    """In a virtual or conda environment (Binder's) Jupyter looks in the environment before the
    user's folder: a spec installed for the user would not replace ipykernel's python3 there."""
    if sys.prefix == sys.base_prefix and not os.environ.get("CONDA_PREFIX"):
        pytest.skip("not in a virtual or conda environment")
    from jupyter_client.kernelspec import KernelSpecManager

    monkeypatch.setenv("HOME", str(tmp_path))  # a user folder of this test's own
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    monkeypatch.delenv("JUPYTER_DATA_DIR", raising=False)
    name = "segwidgets-binder-kernel-test"
    install(name, user=True, display_name="user copy")
    folder = install(name)  # the default
    try:
        assert os.path.realpath(folder).startswith(os.path.realpath(sys.prefix))
        found = KernelSpecManager().get_kernel_spec(name)
        assert found.display_name == "Python 3 (ipykernel)" and os.path.samefile(found.resource_dir, folder)
    finally:
        import shutil

        shutil.rmtree(folder)


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="needs Linux /proc")
def test_forked_kernels_work_like_spawned_ones_with_less_memory(kernel_dir):
    (kernel_dir / "a").mkdir()
    (kernel_dir / "b").mkdir()
    first, first_client = start("swfork", kernel_dir / "a")
    second, second_client = start("swfork", kernel_dir / "b")
    plain, plain_client = start("python3", kernel_dir)
    try:
        assert isinstance(first.provisioner.process, ForkedKernel)
        assert not isinstance(plain.provisioner.process, ForkedKernel)
        probe = "import os, numpy, torch; print(os.getcwd(), numpy.random.randint(2**62), torch.ones(2).sum().item())"
        cwd_a, random_a, total = run(first_client, probe).split()
        cwd_b, random_b, _ = run(second_client, probe).split()
        run(plain_client, probe)
        assert (cwd_a, cwd_b, total) == (str(kernel_dir / "a"), str(kernel_dir / "b"), "2.0")
        assert random_a != random_b  # each fork reseeded NumPy's global state
        # The widgets' comm target is registered (ipywidgets is imported in the kernel, not the server).
        assert run(first_client, "import ipywidgets; print(type(ipywidgets.IntSlider()).__name__)").strip() == "IntSlider"
        # PyTorch's import is shared with the fork server: ~130 MB private in a spawned kernel.
        forked, spawned = private_dirty_bytes(first.provisioner.pid), private_dirty_bytes(plain.provisioner.pid)
        assert forked < spawned - 60 * MIB, (forked / MIB, spawned / MIB)

        first_client.execute("import time; time.sleep(60)")
        time.sleep(0.5)
        started = time.monotonic()
        first.interrupt_kernel()
        while True:
            message = first_client.get_iopub_msg(timeout=10)
            if message["msg_type"] == "error":
                assert message["content"]["ename"] == "KeyboardInterrupt"
                break
        assert time.monotonic() - started < 5

        old_pid = first.provisioner.pid
        first.restart_kernel(now=True)
        first_client.wait_for_ready(timeout=60)
        assert first.provisioner.pid != old_pid and run(first_client, "print(6 * 7)").strip() == "42"
    finally:
        for manager, client in ((first, first_client), (second, second_client), (plain, plain_client)):
            client.stop_channels()
            pid = manager.provisioner.pid if manager.provisioner else None
            manager.shutdown_kernel(now=True)
            if pid:
                deadline = time.monotonic() + 10
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert not alive(pid), f"kernel {pid} still running after shutdown"


def test_a_command_that_cannot_be_forked_starts_a_new_process(kernel_dir):
    spec = kernel_spec()
    spec["argv"] = [sys.executable, "-X", "utf8", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    folder = kernel_dir / "prefix" / "share" / "jupyter" / "kernels" / "swplain"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(spec))
    manager, client = start("swplain", kernel_dir)
    try:
        assert not isinstance(manager.provisioner.process, ForkedKernel)
        assert run(client, "import sys; print(sys.flags.utf8_mode)").strip() == "1"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_fork_server_and_kernels_exit_with_the_jupyter_server(kernel_dir):
    script = textwrap.dedent("""
        import os, sys, time
        import psutil
        from jupyter_client import KernelManager
        manager = KernelManager(kernel_name="swfork")
        manager.start_kernel(cwd=sys.argv[1])
        client = manager.client(); client.start_channels(); client.wait_for_ready(timeout=120)
        server = [p.pid for p in psutil.Process().children() if "zygote" in " ".join(p.cmdline())]
        print(manager.provisioner.pid, *server, flush=True)
        os._exit(0)  # the Jupyter server dies without shutting anything down
    """)
    done = subprocess.run([sys.executable, "-c", script, str(kernel_dir)], capture_output=True, text=True,
                          timeout=180, env=os.environ)
    assert done.returncode == 0, done.stderr[-3000:]
    kernel, server = map(int, done.stdout.split())
    deadline = time.monotonic() + 15
    while any(map(alive, (kernel, server))) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in (kernel, server) if alive(pid)]
    assert not left, f"still running after the Jupyter server exited: {left}"


def test_a_kernel_started_after_its_code_changed_runs_the_new_code(tmp_path, monkeypatch):
    """After %pip install or an edit, a (re)started kernel must not run what the fork server loaded
    before; kernels already running keep running."""
    modules = tmp_path / "modules"
    modules.mkdir()
    probe = modules / "swprobe.py"
    probe.write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(modules))
    install("swprobe", prefix=str(tmp_path / "prefix"), preload=["swprobe"])
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "prefix" / "share" / "jupyter"))
    code = "import sys; print('swprobe' in sys.modules, __import__('swprobe').VALUE)"
    first, first_client = start("swprobe", tmp_path)
    other, other_client = start("swprobe", tmp_path)
    try:
        assert isinstance(first.provisioner.process, ForkedKernel)
        assert run(first_client, code).split() == ["True", "1"]  # preloaded by the fork server
        probe.write_text("VALUE = 2\n")
        os.utime(probe, (time.time() + 5, time.time() + 5))
        first.restart_kernel(now=True)
        first_client.wait_for_ready(timeout=60)
        assert isinstance(first.provisioner.process, ForkedKernel)
        assert run(first_client, code).split() == ["True", "2"]  # from a fresh fork server
        assert run(other_client, "print(6 * 7)").strip() == "42"  # forked by the old server, still running
    finally:
        for manager, client in ((first, first_client), (other, other_client)):
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def test_a_killed_fork_server_is_replaced(kernel_dir):
    first, first_client = start("swfork", kernel_dir)
    try:
        server = next(s for s in _FORK_SERVERS.values() if s.process is not None and s.process.poll() is None)
        server.process.kill()
        server.process.wait(10)
        second, second_client = start("swfork", kernel_dir)
        try:
            assert isinstance(second.provisioner.process, ForkedKernel)  # from a new fork server
            assert run(second_client, "print(6 * 7)").strip() == "42"
        finally:
            second_client.stop_channels()
            second.shutdown_kernel(now=True)
    finally:
        first_client.stop_channels()
        first.shutdown_kernel(now=True)
