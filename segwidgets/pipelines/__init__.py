"""One module per capability: numpy in, a frozen result dataclass out, no torch.

- ``boundary_aware``: ``segment_object`` (locate -> expand crop -> refine).
- ``click``: ``ClickPredictor`` / ``ClickController`` (click planes, zoom, refine).
- ``matting``: ``estimate_alpha`` (trimap -> background -> foreground -> alpha), ``trimap_from_mask``.
- ``query``: ``find_query`` (multi-scale correlation heat maps and boxes).
- ``refine``: the shared step, ``refine_with_graph_cut``.

Pipelines call the engine (``core.engine``) for every network pass, crop with
``core.crops.CropWindow`` and refine with ``graphcut``.
"""
from .boundary_aware import BoundaryAwareResult, CropStep, segment_object
from .click import ClickController, ClickPredictor, ClickResult, ClickState
from .matting import MattingResult, estimate_alpha, trimap_from_mask
from .query import QueryResult, find_query
from .refine import Refinement, Seeds, refine_with_graph_cut

__all__ = [
    "BoundaryAwareResult", "CropStep", "segment_object", "ClickController", "ClickPredictor", "ClickResult",
    "ClickState", "MattingResult", "estimate_alpha", "trimap_from_mask", "QueryResult", "find_query", "Refinement", "Seeds", "refine_with_graph_cut",
]
