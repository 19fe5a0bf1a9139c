"""Importing segwidgets and running its networks, semantic segmentation included, never loads
torchvision (~170 MB more per kernel on Binder's 2 GB; it is a test-only dependency)."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    import segwidgets
    from segwidgets import pipelines, render, batch, eval, data
    from segwidgets.core.engine import Engine
    from segwidgets.core.clicks import Click
    from segwidgets.pipelines import ClickPredictor, estimate_alpha, segment_object, trimap_from_mask
    from segwidgets.pipelines.semantic import segment_semantic
    from segwidgets.widgets import (ClickSegmenter, IterationSlider, MatteViewer, QueryFinder,
                                    SegmentExplorer, TrimapPainter)

    h, w = 48, 64
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 24) ** 2 + (xx - 32) ** 2 <= 12 ** 2
    image = np.where(disc[..., None], np.uint8([220, 40, 30]), np.uint8([40, 90, 200])).astype(np.uint8)
    engine = Engine("cpu", cpu_threads=1)  # the shipped weights (segwidgets/weights)

    predictor = ClickPredictor(engine, net_size=64)
    predictor.set_image(image)
    clicked = predictor.predict([Click(32, 24)])
    assert clicked.mask.shape == (h, w)
    found = segment_object(image, point=(32, 24), engine=engine, net_size=64)
    assert found.mask.shape == (h, w)
    matte = estimate_alpha(image, trimap_from_mask(disc, 3), engine=engine)
    assert matte.alpha.shape == (h, w)
    labels = segment_semantic(image, engine=engine)
    assert labels.labels.shape == (h, w)
    loaded = ("models loaded=['click', 'matting_alpha', 'matting_background', 'matting_foreground', 'objectness', "
              "'objectness_edge6', 'objectness_long', 'semantic']")
    assert loaded in repr(engine), repr(engine)  # the shipped networks really ran
    assert "torchvision" not in sys.modules, sorted(m for m in sys.modules if m.startswith("torchvision"))
    print("no torchvision")
""")


def test_networks_run_without_importing_torchvision():
    done = subprocess.run([sys.executable, "-c", SCRIPT], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("no torchvision")
