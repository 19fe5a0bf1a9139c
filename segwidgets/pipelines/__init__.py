"""One module per capability (numpy in, result dataclass out)."""
from .boundary_aware import BoundaryAwareResult, CropStep, segment_object
from .click import ClickController, ClickPredictor, ClickResult

__all__ = ["BoundaryAwareResult", "CropStep", "segment_object", "ClickController", "ClickPredictor", "ClickResult"]
