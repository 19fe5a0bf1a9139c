"""The Dask worker plugin (imported only when a batch runs on Dask: ``distributed`` is an optional extra)."""
from __future__ import annotations

from distributed import WorkerPlugin


class EnginePlugin(WorkerPlugin):
    """Loads the pipeline's models into the worker's engine when the worker starts, so every task on that
    worker reuses them (the engine is one per process, ``core.engine.get_default_engine``)."""

    name = "segwidgets-engine"

    def __init__(self, models):
        self.models = tuple(models)

    def setup(self, worker=None):
        from ..core.engine import get_default_engine

        engine = get_default_engine()
        for model in self.models:
            engine.model(model)
