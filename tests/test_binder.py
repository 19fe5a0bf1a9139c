"""The Binder (repo2docker) files in ``binder/``: they parse, Binder installs what the README's
set-up command installs, the start script sets the engine's thread policy, and the notebook a
Binder link opens runs without the project's shared data."""
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from segwidgets.core.device import CPU_THREADS_ENV, cpu_threads

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
QUICKSTART = ROOT / "notebooks" / "01_quickstart.ipynb"
PYTORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def readme_setup_command() -> str:
    """The README's main set-up command: the shell block of "## Set up" that starts JupyterLab."""
    section = (ROOT / "README.md").read_text().split("\n## Set up", 1)[1].split("\n## ", 1)[0]
    (command,) = [block for block in re.findall(r"```bash\n(.*?)```", section, re.S) if "jupyter lab" in block]
    return command


def pip_installs(command: str) -> list[tuple[bool, list[str]]]:
    """``(editable, targets)`` of each ``pip install`` in a shell command (steps joined by
    ``&&``, ``;`` or new lines); ``--no-cache-dir`` is the only other option allowed."""
    found = []
    for step in re.split(r"&&|;|\n", command):
        words = shlex.split(step, comments=True)
        if words[:2] == ["pip", "install"]:
            options = [w for w in words[2:] if w.startswith("-")]
            assert set(options) <= {"-e", "--no-cache-dir"}, f"unexpected pip options {options}"
            found.append(("-e" in options, [w for w in words[2:] if not w.startswith("-")]))
    return found


def pip_install(command: str) -> tuple[bool, list[str]]:
    """The one ``pip install`` of a shell command (see :func:`pip_installs`)."""
    (install,) = pip_installs(command)
    return install


def readme_dependencies() -> dict[str, SpecifierSet]:
    """Name -> specifier of everything the README's install names: pyproject's dependencies and
    those of the extras it asks for."""
    (target,) = pip_install(readme_setup_command())[1]
    extras = re.fullmatch(r"\.(?:\[(.*)\])?", target).group(1) or ""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in filter(None, (e.strip() for e in extras.split(","))):
        lines += project["optional-dependencies"][extra]
    return {canonicalize_name(r.name): r.specifier for r in map(Requirement, lines)}


def test_postbuild_runs_the_readme_install():
    script = BINDER / "postBuild"
    text = script.read_text()
    assert os.access(script, os.X_OK) and text.startswith("#!") and "set -euo pipefail" in text
    subprocess.run(["bash", "-n", str(script)], check=True)  # parses
    readme_install, kernel_install = pip_installs(text)
    assert readme_install == pip_install(readme_setup_command())  # same target, extras, editable
    # then Binder's forking kernel (binder/kernel), installed as the default "python3" kernel
    assert kernel_install == (False, ["./binder/kernel"])
    assert "python -m segwidgets_binder_kernel install --name python3" in text


def test_requirements_only_preinstall_what_the_readme_installs():
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    options = [line for line in lines if line.startswith("-")]
    assert options == [PYTORCH_CPU_INDEX]  # the CPU builds of torch: no other source, no other file
    wanted = readme_dependencies()
    assert "jupyterlab" in wanted  # the lab extra was read
    for line in lines[len(options):]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in wanted, f"binder/requirements.txt installs {name}, which the README's command does not"
        assert requirement.specifier == wanted[name], (
            f"{name}{requirement.specifier} here, {name}{wanted[name]} in pyproject.toml")


def test_runtime_is_a_python_the_project_supports():
    (line,) = (BINDER / "runtime.txt").read_text().split()
    version = re.fullmatch(r"python-(\d+\.\d+)", line).group(1)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(version)


def test_start_sets_one_engine_thread(monkeypatch):
    script = BINDER / "start"
    lines = script.read_text().strip().splitlines()
    assert os.access(script, os.X_OK) and lines[0] == "#!/bin/bash" and lines[-1] == 'exec "$@"'
    shown = subprocess.run(["bash", str(script), "env"], check=True, capture_output=True, text=True).stdout
    environment = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    assert environment["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv(CPU_THREADS_ENV, environment[CPU_THREADS_ENV])  # the variable the engine reads
    assert cpu_threads() == 1


def test_quickstart_needs_no_shared_data():
    """Binder has the repository only: the notebook a Binder link opens reads no outside files."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(QUICKSTART, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "shared" not in code and "../" not in code
    assert not re.search(r"""["'](/|~)""", code), "an absolute path"


def test_binder_links_in_the_readme_open_a_notebook():
    links = re.findall(r"https://mybinder\.org/v2/[^\s)\"'>`]+", (ROOT / "README.md").read_text())
    assert links, "README.md has no Binder link"
    repository = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    owner_name = re.fullmatch(r"https://github\.com/([^/]+/[^/]+)", repository).group(1)
    for link in links:
        path = re.search(r"[?&]urlpath=lab/tree/([^&#]+)", link.replace("%2F", "/"))
        assert path and (ROOT / path.group(1)).is_file(), f"{link} opens no notebook of the repository"
        assert link.startswith(f"https://mybinder.org/v2/gh/{owner_name}/"), f"{link} is not {repository}"


def test_the_readme_install_runs_every_notebook_including_dask():
    """A notebook that runs the batch on Dask needs dask and distributed from the main set-up command
    (on Binder that command is the only install: notebook 08 failed with ModuleNotFoundError)."""
    wanted = readme_dependencies()
    users = [nb.name for nb in sorted((ROOT / "notebooks").glob("*.ipynb")) if 'scheduler=\\"dask\\"' in nb.read_text()]
    assert users, "no notebook runs on Dask any more: drop this test"
    assert {"dask", "distributed"} <= set(wanted), f"{users} need dask; the README's install lacks it"
