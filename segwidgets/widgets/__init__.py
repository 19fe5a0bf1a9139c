"""Jupyter widgets: the only layer that imports ipywidgets / ipycanvas / ipyevents.

Views only: ``base`` (the view base: status, keep-state-on-error, view menu,
opacity, save/load, click / brush-stroke / box-drag interactions, Ctrl+Z / Ctrl+Shift+Z,
redraw on a new view), ``canvas`` (the drawing surface: layers, pointer and key events, zoom
and pan), ``click_segmenter``,
``iteration_slider``, ``trimap_painter``, ``matte_viewer``, ``query_finder`` and
``segment_explorer``. They call pipelines and draw with ``segwidgets.render``; no
math happens here.
The widget classes load on first access.
"""
_LAZY = {
    "ImageCanvas": "canvas",
    "PointerEvent": "canvas",
    "KeyEvent": "canvas",
    "ImageView": "base",
    "MapView": "base",
    "WidgetBase": "base",
    "IterationSlider": "iteration_slider",
    "ClickSegmenter": "click_segmenter",
    "TrimapPainter": "trimap_painter",
    "MatteViewer": "matte_viewer",
    "QueryFinder": "query_finder",
    "SegmentExplorer": "segment_explorer",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_LAZY)
