"""Shared fixtures: small synthetic images with known answers."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def two_regions(h=40, w=60, left=(200, 40, 40), right=(40, 60, 200)):
    """Left half one colour, right half another; returns (image, left_mask)."""
    image = np.empty((h, w, 3), np.uint8)
    image[:, : w // 2] = left
    image[:, w // 2 :] = right
    mask = np.zeros((h, w), bool)
    mask[:, : w // 2] = True
    return image, mask


def noisy_disc(h=80, w=100, radius=22, noise=12.0, seed=0, fg=(190, 70, 60), bg=(70, 120, 90)):
    """A disc on a background, both with Gaussian colour noise; returns (image, disc_mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= radius**2
    image = np.where(disc[..., None], np.array(fg, float), np.array(bg, float))
    image = np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
    return image, disc


def ring_image(noise=6.0, seed=0):
    """A bright ring (outer radius 25, inner 11) on a dark background that also fills its inside."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:80, :100]
    r2 = (yy - 40) ** 2 + (xx - 50) ** 2
    ring = (r2 <= 25**2) & (r2 > 11**2)
    image = np.where(ring[..., None], 200.0, 60.0) + rng.normal(0, noise, (80, 100, 3))
    return np.clip(image, 0, 255).astype(np.uint8), ring


def untrained_engine(**modules):
    """A CPU engine whose models ``name=Class`` have random weights (seed 0): real shapes, flow and caching,
    no weight files."""
    import torch

    from segwidgets.core.engine import Engine

    torch.manual_seed(0)
    engine = Engine("cpu")
    for name, cls in modules.items():
        engine.set_model(name, cls())
    return engine


@pytest.fixture(scope="session")
def untrained_matting_engine():
    """An engine whose three matting networks have random weights: meaningless mattes, real shapes and flow."""
    from segwidgets.nets.matting import AlphaNet, BackgroundNet, ForegroundNet

    return untrained_engine(matting_background=BackgroundNet, matting_foreground=ForegroundNet,
                            matting_alpha=AlphaNet)


@pytest.fixture(scope="session")
def untrained_query_engine():
    """An engine whose query network has random weights (ImageNet-free)."""
    from segwidgets.nets.query import QueryNet

    return untrained_engine(query=QueryNet)


@pytest.fixture(scope="session")
def untrained_semantic_engine():
    """An engine whose feature-masking network has random weights."""
    from segwidgets.nets.semantic import FeatureMaskingNet

    return untrained_engine(semantic=FeatureMaskingNet)
