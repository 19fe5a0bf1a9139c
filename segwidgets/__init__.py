"""segwidgets: Jupyter widgets for interactive segmentation, matting and query-object search.

Every widget is a thin view over a UI-free core that returns numpy arrays for
every intermediate map. See ``DESIGN`` notes in the README.
"""
__version__ = "0.1.0"
