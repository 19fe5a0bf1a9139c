"""Batch runs over image collections, in this process or on a Dask cluster (``segwidgets[dask]``).

``segwidgets.batch.run(pipeline, inputs, out_dir, **params)`` and
``python -m segwidgets batch PIPELINE INPUT_GLOB --out DIR``; see :mod:`segwidgets.batch.runner`.
"""
from .runner import BatchReport, run
from .tasks import PIPELINES, Task, output_kinds, read_boxes

__all__ = ["run", "BatchReport", "PIPELINES", "Task", "output_kinds", "read_boxes"]
