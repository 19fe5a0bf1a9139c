"""segwidgets: Jupyter widgets for interactive segmentation, matting and query-object search.

Every widget is a thin view over a UI-free core that returns numpy arrays for
every intermediate map. Layers, top to bottom (imports only go downwards):

- ``widgets``: ipywidgets views (the only layer importing ipywidgets / ipycanvas);
- ``render``: pictures from arrays (overlays, composites, plots, demo panels);
- ``pipelines``: one module per capability, numpy in, frozen result out, no torch;
- ``graphcut``: GMM colour models, pairwise terms, the max-flow solver, its trace;
- ``nets``: torch modules only;
- ``core``: validation, the crop transform, editing state, and the inference
  engine -- the only place numpy arrays become tensors.

``data`` reads dataset folders for ``train`` and ``eval``; ``weights`` holds the
shipped fp16 networks.
"""
__version__ = "0.1.0"
