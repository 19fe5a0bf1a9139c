"""Memory of a Binder-like session: every notebook run to its end, all kernels left open at once.

mybinder.org gives a session 2 GB for JupyterLab's server and every kernel it runs. This starts one
kernel per notebook in ``notebooks/`` (in the order of their names), runs all its cells, keeps it
running, and then reads each kernel's proportional set size (PSS, ``/proc/PID/smaps_rollup``: a
page shared by k processes counts 1/k in each, so the sum is what they hold together) and the same
for an idle ``jupyter lab`` server. Run it in the environment Binder builds (``binder/``: PyTorch's
CPU build) with Binder's thread settings, which it sets for the kernels it starts.

    python benchmarks/bench_binder_memory.py [--kernel NAME] [--no-shared-data] [--only 01,04] [--json PATH]

``--kernel`` picks the kernel spec: ``python3`` (default) is whatever this environment has under
that name; on Binder that is the forking kernel of ``binder/kernel`` (kernels forked from one
process that imported PyTorch and the rest, sharing those pages). To compare the two here::

    pip install ./binder/kernel && python -m segwidgets_binder_kernel install --name swfork --prefix "$VIRTUAL_ENV"
    python benchmarks/bench_binder_memory.py --no-shared-data                  # plain kernels
    python benchmarks/bench_binder_memory.py --no-shared-data --kernel swfork  # Binder's

The peer is the plain kernel measured the same way. Linux only (``/proc``). With
``--no-shared-data`` kernels get ``SEGWIDGETS_DATA`` pointing to an empty folder, as on Binder,
where ``../shared/data`` is absent. Measure in an environment with PyTorch's CPU build, as Binder
installs (the CUDA build maps more).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from _common import print_table, write_json  # noqa: E402

MIB = 2 ** 20
#: Binder's environment for kernels (binder/start).
BINDER_ENV = {"SEGWIDGETS_CPU_THREADS": "1", "OMP_NUM_THREADS": "1"}


def pss_bytes(pid: int) -> int:
    """Proportional set size of one process in bytes (children not included)."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no Pss line for process {pid}")


def tree_pss_bytes(pid: int) -> int:
    """PSS of a process and all its descendants, in bytes."""
    import psutil

    proc = psutil.Process(pid)
    total = 0
    for member in [proc, *proc.children(recursive=True)]:
        try:
            total += pss_bytes(member.pid)
        except (ProcessLookupError, FileNotFoundError):  # a short-lived child that has exited
            pass
    return total


def run_notebook_keep_kernel(path: Path, env: dict, timeout_s: int, kernel: str = "python3"):
    """Run every cell of ``path`` in a new kernel and return the still-running kernel manager."""
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient

    km = KernelManager(kernel_name=kernel)
    km.start_kernel(cwd=str(path.parent), env=env)
    nb = nbformat.read(path, as_version=4)
    # A client given its kernel manager leaves the kernel running when it finishes.
    NotebookClient(nb, km=km, timeout=timeout_s, allow_errors=False).execute()
    return km


def server_pss_bytes(env: dict) -> int:
    """PSS of an idle ``jupyter lab`` server once it answers its REST API."""
    from tests.e2e._lab import free_port, wait_until

    port = free_port()

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=x", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    with tempfile.TemporaryDirectory() as root:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--ServerApp.root_dir={root}", "--IdentityProvider.token=x", "--allow-root"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(answers, 120, "jupyter lab to answer", interval=0.5)
            time.sleep(3)
            return tree_pss_bytes(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit-gib", type=float, default=2.0, help="the session's memory limit")
    ap.add_argument("--only", default="", help="comma-separated notebook number prefixes, e.g. 01,04")
    ap.add_argument("--no-shared-data", action="store_true", help="hide ../shared/data, as on Binder")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("--kernel", default="python3", help="kernel spec to run the notebooks with")
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    args = ap.parse_args(argv)

    env = {**os.environ, **BINDER_ENV}
    empty = tempfile.TemporaryDirectory()
    if args.no_shared_data:
        env["SEGWIDGETS_DATA"] = empty.name
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.only:
        wanted = tuple(args.only.split(","))
        notebooks = [nb for nb in notebooks if nb.name.startswith(wanted)]

    kernels, rows = [], []
    try:
        for nb in notebooks:
            start = time.perf_counter()
            kernels.append((nb, run_notebook_keep_kernel(nb, env, args.timeout, args.kernel)))
            print(f"ran {nb.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        time.sleep(2)
        kernel_total = 0
        for nb, km in kernels:
            pss = tree_pss_bytes(km.provisioner.pid)
            kernel_total += pss
            rows.append([f"kernel {nb.stem}", round(pss / MIB), f"{pss / 2 ** 30:.2f}", ""])
        # Everything this script started: the kernels, and the fork server that forked them (if any).
        total = tree_pss_bytes(os.getpid()) - pss_bytes(os.getpid())
        if total - kernel_total > 4 * MIB:
            rows.append(["fork server (binder/kernel)", round((total - kernel_total) / MIB),
                         f"{(total - kernel_total) / 2 ** 30:.2f}", ""])
    finally:
        for _, km in kernels:
            km.shutdown_kernel(now=True)
    server = server_pss_bytes(env)
    rows.append(["jupyter lab server (idle)", round(server / MIB), f"{server / 2 ** 30:.2f}", ""])
    total += server
    limit = args.limit_gib * 2 ** 30
    rows.append([f"all together (limit {args.limit_gib:g} GiB)", round(total / MIB), f"{total / 2 ** 30:.2f}",
                 "yes" if total <= limit else "NO"])
    print_table(["what", "PSS MiB", "GiB", "fits"], rows)
    if args.json:
        write_json(Path(args.json), {row[0]: row[1] for row in rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
