"""Jupyter kernels that share their libraries' memory: forked from one process that imported them.

Each Jupyter kernel that uses segwidgets holds its own copy of PyTorch and the other libraries
(about 200 MB of private memory); eight notebooks open at once do not fit in mybinder.org's 2 GB.
``python -m segwidgets_binder_kernel install`` installs a kernel spec (by default replacing the
``python3`` kernel of the current environment) whose kernels are forked from a fork server
(:mod:`.zygote`) by a jupyter_client provisioner (:mod:`.provisioner`), so that they share those
pages. Linux only; elsewhere, or whenever forking fails, kernels start as usual.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

#: The provisioner's name (an entry point in the group ``jupyter_client.kernel_provisioners``).
PROVISIONER_NAME = "segwidgets-fork"


def kernel_spec(display_name: str = "Python 3 (ipykernel)", preload: list[str] | None = None) -> dict:
    """The kernel.json of an ipykernel kernel forked by :class:`.provisioner.ForkingProvisioner`
    (``preload``: the modules its fork server imports, if not the default list)."""
    provisioner = {"provisioner_name": PROVISIONER_NAME}
    if preload is not None:
        provisioner["config"] = {"preload": list(preload)}
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": True, "kernel_provisioner": provisioner},
    }


def install(name: str = "python3", prefix: str | None = sys.prefix, user: bool = False,
            display_name: str = "Python 3 (ipykernel)", preload: list[str] | None = None) -> str:
    """Install the kernel spec as ``name``; returns its folder.

    By default under this environment's prefix (``sys.prefix``), where ipykernel's own ``python3``
    spec lives: Jupyter running in a virtual or conda environment (as on Binder) looks there
    before the user's folder, so a spec in the user's folder would not replace that one.
    ``user=True`` installs in the user's Jupyter data folder instead.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "kernel.json").write_text(json.dumps(kernel_spec(display_name, preload), indent=1))
        return KernelSpecManager().install_kernel_spec(folder, name, user=user, prefix=None if user else prefix)
