"""Run a pipeline over an image collection, in this process or on a Dask cluster.

``run("boundary_aware", "photos/*.jpg", "out/")`` writes ``<name>_mask.png`` per image and
``summary.csv`` (one row per image: status ``ok`` / ``error`` / ``skipped``, seconds, the
pipeline's number, the error message). Nothing is lost:

- every output is written to a temporary file and renamed, so an interrupted run (Ctrl+C, a
  crash) leaves only complete files;
- a rerun skips images whose outputs exist and decode at the image's size (resume);
- an image that fails (unreadable, wrong-size trimap...) gets an error row and the run goes on;
- on Dask, a task whose worker dies is rescheduled on another worker by the scheduler
  (``distributed.scheduler.allowed-failures`` times), and its image is written once.

With ``scheduler="dask"`` (or a ``distributed.Client``) tasks run on a cluster: a local one
with ``workers`` single-threaded worker processes by default, or the scheduler at
``address``. A worker plugin loads the pipeline's models once per worker, when it starts;
tasks send back only the small uint8 outputs (no traces, no feature maps), which this
process writes.
"""
from __future__ import annotations

import glob
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..data.folders import IMAGE_SUFFIXES
from .outputs import output_path, outputs_complete, read_summary, write_png_atomic, write_summary
from .tasks import PIPELINES, Task, output_kinds, read_boxes, run_task

#: Models each pipeline runs (loaded on each worker when it starts).
PIPELINE_MODELS = {"boundary_aware": ("objectness", "objectness_long", "objectness_edge6"), "matting": ("matting_background", "matting_foreground",
                                                                   "matting_alpha"),
                   "query": ("query",), "semantic": ("semantic",)}


@dataclass
class BatchReport:
    """What a batch run did: ``rows`` (as in ``summary.csv``), the output folder, the wall-clock
    seconds and, on Dask, the dashboard's address."""

    rows: list = field(default_factory=list)
    out_dir: Path = Path(".")
    seconds: float = 0.0
    dashboard: str | None = None

    def count(self, status: str) -> int:
        return sum(row["status"] == status for row in self.rows)

    def __repr__(self) -> str:
        return (f"BatchReport({len(self.rows)} images: {self.count('ok')} ok, {self.count('skipped')} skipped, "
                f"{self.count('error')} errors; {self.seconds:.1f} s; {os.fspath(self.out_dir)})")


def list_inputs(inputs) -> list[Path]:
    """Image paths from a glob pattern, a folder or a list of paths, sorted."""
    if isinstance(inputs, (str, os.PathLike)):
        text = os.fspath(inputs)
        if os.path.isdir(text):
            paths = [p for p in Path(text).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        else:
            paths = [Path(p) for p in glob.glob(text)]
    else:
        paths = [Path(p) for p in inputs]
    paths = sorted(paths)
    if not paths:
        raise FileNotFoundError(f"no images match {inputs!r}")
    return paths


def make_tasks(paths: list[Path], boxes=None, trimaps=None) -> list[Task]:
    """One :class:`Task` per image; ``boxes``: a dict or a CSV/JSON file of boxes by stem;
    ``trimaps``: a folder with ``<stem>.png`` per image."""
    if boxes is not None and not isinstance(boxes, dict):
        boxes = read_boxes(boxes)
    seen, tasks = {}, []
    for path in paths:
        if path.stem in seen:
            raise ValueError(f"two inputs share the name {path.stem!r}: {seen[path.stem]} and {path}; "
                             "outputs are named by it")
        seen[path.stem] = path
        trimap = None
        if trimaps is not None:
            trimap = os.fspath(Path(trimaps) / f"{path.stem}.png")
        box = tuple(boxes[path.stem]) if boxes and path.stem in boxes else None
        tasks.append(Task(path.stem, os.fspath(path), box, trimap))
    return tasks


def _image_size(path: str):
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size[1], image.size[0]
    except (OSError, ValueError):
        return None


def _process(pipeline: str, task: Task, params: dict, engine) -> tuple[dict, dict]:
    """Run one task, never raising: ``(row, outputs)``."""
    t0 = time.perf_counter()
    try:
        result = run_task(pipeline, task, params, engine)
    except Exception as exc:  # one bad image must not stop the batch: record it and go on
        return {"name": task.name, "status": "error", "seconds": round(time.perf_counter() - t0, 3), "value": "",
                "message": f"{type(exc).__name__}: {exc}"}, {}
    return {"name": task.name, "status": "ok", "seconds": round(time.perf_counter() - t0, 3),
            "value": "" if result.value is None else round(result.value, 6), "message": result.note}, result.outputs


def _dask_task(pipeline: str, task: Task, params: dict):
    """Runs on a Dask worker, with the worker's engine (see ``batch.dask_plugin.EnginePlugin``)."""
    from ..core.engine import get_default_engine

    return _process(pipeline, task, params, get_default_engine())


def run(pipeline: str, inputs, out_dir, *, scheduler: str | None = None, client=None, workers: int = 2,
        address: str | None = None, resume: bool = True, boxes=None, trimaps=None, progress: bool = True,
        engine=None, **params) -> BatchReport:
    """Run ``pipeline`` over ``inputs`` and write its outputs to ``out_dir``.

    Parameters
    ----------
    pipeline : {"boundary_aware", "matting", "query", "semantic"}
        ``boundary_aware``: ``<name>_mask.png`` (0 / 255; automatic, or box mode with ``boxes``);
        ``matting``: ``<name>_alpha.png`` (alpha x 255), trimaps from ``trimaps``;
        ``query``: ``<name>_heat.png`` (heat x 255), pass ``query=`` (a path) and ``query_box=``;
        ``semantic``: ``<name>_labels.png`` (class indices).
    inputs : str, path or list of paths
        A glob pattern (``"photos/*.jpg"``), a folder or image paths.
    out_dir : path
        Created if missing; gets the outputs and ``summary.csv``.
    scheduler : {None, "dask"}
        None: in this process with a progress bar; "dask": on a Dask cluster.
    client : distributed.Client, optional
        An existing client (implies Dask); it is not closed.
    workers : int
        Worker processes of the local cluster (one thread each).
    address : str, optional
        A running scheduler (``"tcp://host:8786"``) instead of a local cluster.
    resume : bool
        Skip images whose outputs already exist and decode at the image's size.
    boxes : dict or path, optional
        Boxes by image stem (a dict, or a CSV ``name,x0,y0,x1,y1`` / JSON file) for box mode.
    trimaps : path, optional
        Folder of ``<stem>.png`` trimaps (matting).
    engine : Engine, optional
        The engine for in-process runs (default: the process-wide one).
    **params
        Passed to the pipeline (e.g. ``expand=False``, ``query=...``).

    Returns
    -------
    BatchReport
        Also written as ``out_dir/summary.csv``, even when the run is interrupted.
    """
    if pipeline not in PIPELINES:
        raise ValueError(f"unknown pipeline {pipeline!r}; expected one of {PIPELINES}")
    if pipeline == "matting" and trimaps is None:
        raise ValueError("the matting pipeline needs trimaps=FOLDER (--trimaps DIR), one <image stem>.png per image")
    if pipeline == "query" and "query" not in params:
        raise ValueError("the query pipeline needs query=PATH (--query IMAGE), the query image; "
                         "query_box= (--query-box) to cut it")
    use_dask = scheduler == "dask" or client is not None or address is not None
    if scheduler not in (None, "dask"):
        raise ValueError(f"scheduler must be None or 'dask', got {scheduler!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = make_tasks(list_inputs(inputs), boxes, trimaps)
    kinds = output_kinds(pipeline)
    previous = {row["name"]: row for row in read_summary(out_dir)}
    rows, todo = [], []
    for task in tasks:
        if resume and outputs_complete(out_dir, task.name, kinds, _image_size(task.image)):
            old = previous.get(task.name, {})
            rows.append({"name": task.name, "status": "skipped", "seconds": 0.0, "value": old.get("value", ""),
                         "message": "outputs exist (resume)"})
        else:
            todo.append(task)
    report = BatchReport(rows, out_dir)
    t0 = time.perf_counter()

    def keep(row, outputs):
        for kind, array in outputs.items():
            write_png_atomic(output_path(out_dir, row["name"], kind), array)
        rows.append(row)

    try:
        if use_dask:
            _run_dask(pipeline, todo, params, keep, client, workers, address, progress, report)
        else:
            from tqdm.auto import tqdm

            from ..core.engine import get_default_engine

            engine = engine or get_default_engine()
            for task in tqdm(todo, desc=pipeline, disable=not progress):
                keep(*_process(pipeline, task, params, engine))
    finally:  # also on Ctrl+C: the table lists what was done
        report.seconds = time.perf_counter() - t0
        write_summary(out_dir, rows)
    return report


def _run_dask(pipeline, todo, params, keep, client, workers, address, progress, report) -> None:
    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    own = client is None
    if own:
        if address is not None:
            client = Client(address)
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
            client = Client(cluster)
    report.dashboard = client.dashboard_link
    if progress:
        print(f"Dask dashboard: {report.dashboard}")
    futures = []
    try:
        from .dask_plugin import EnginePlugin

        client.register_plugin(EnginePlugin(PIPELINE_MODELS[pipeline]))
        run_id = uuid.uuid4().hex[:8]
        futures = [client.submit(_dask_task, pipeline, task, params, key=f"segwidgets-{run_id}-{task.name}", pure=False)
                   for task in todo]
        by_key = {f.key: task for f, task in zip(futures, todo)}
        for future in tqdm(as_completed(futures), total=len(futures), desc=pipeline, disable=not progress):
            try:
                row, outputs = future.result()
            except Exception as exc:  # e.g. KilledWorker: the task took down too many workers
                row, outputs = {"name": by_key[future.key].name, "status": "error", "seconds": "", "value": "",
                                "message": f"{type(exc).__name__}: {exc}"}, {}
            keep(row, outputs)
    finally:
        for future in futures:
            future.cancel()
        if own:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
