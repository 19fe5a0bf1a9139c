"""Jupyter widgets (the only layer that imports ipywidgets / ipycanvas).

``segwidgets.widgets.overlay`` is plain numpy and imports without them; the
widget classes load on first access.
"""
_LAZY = {
    "ImageCanvas": "canvas",
    "PointerEvent": "canvas",
    "IterationSlider": "iteration_slider",
    "ClickSegmenter": "click_segmenter",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_LAZY)
