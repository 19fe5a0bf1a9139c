"""One module per capability: numpy in, a frozen result dataclass out, no torch.

- ``boundary_aware``: ``segment_object`` (locate -> expand crop -> refine).
- ``click``: ``ClickPredictor`` / ``ClickController`` (click planes, zoom, refine).
- ``refine``: the shared step, ``refine_with_graph_cut``.

Pipelines call the engine (``core.engine``) for every network pass, crop with
``core.crops.CropWindow`` and refine with ``graphcut``.
"""
from .boundary_aware import BoundaryAwareResult, CropStep, segment_object
from .click import ClickController, ClickPredictor, ClickResult, ClickState
from .refine import Refinement, Seeds, refine_with_graph_cut

__all__ = [
    "BoundaryAwareResult", "CropStep", "segment_object", "ClickController", "ClickPredictor", "ClickResult",
    "ClickState", "Refinement", "Seeds", "refine_with_graph_cut",
]
