"""The shared inference engine: lazy model loading and a per-image feature cache.

One default engine per process (:func:`get_default_engine`) is shared by every
pipeline and widget, so a second click, or a second widget on the same image,
reuses the encoder features instead of recomputing them.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .device import choose_device, inference_dtype, to_tensor
from .image import as_rgb_image, image_hash, resize_longest_side
from .weights import load_weights, resolve_weights_path


@dataclass(frozen=True)
class ModelSpec:
    """How to build a model: ``factory()`` makes the module; ``weights`` names a
    ``.safetensors`` file (bare names are looked up in ``segwidgets/weights/``)."""

    factory: Callable[[], torch.nn.Module]
    weights: str | os.PathLike | None = None


#: Models known to every engine; later modules register theirs here.
MODEL_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, factory: Callable[[], torch.nn.Module], weights=None) -> None:
    """Make ``name`` available to every engine."""
    MODEL_REGISTRY[name] = ModelSpec(factory, weights)


class FeatureCache:
    """A least-recently-used cache with a bound on the number of entries.

    Counts ``hits``, ``misses`` and ``evictions`` so tests and users can see it work.
    """

    def __init__(self, max_entries: int = 8):
        if max_entries < 0:
            raise ValueError(f"max_entries must be >= 0, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def get(self, key):
        """The cached value (marked most recently used) or ``None``."""
        if key in self._entries:
            self._entries.move_to_end(key)
            self.hits += 1
            return self._entries[key]
        self.misses += 1
        return None

    def put(self, key, value) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()


class Engine:
    """Owns loaded models (lazily, per device) and caches per-image encoder features.

    Parameters
    ----------
    device : str or torch.device, optional
        Where models run; default from :func:`core.device.choose_device`.
    cache_size : int
        How many (model, image) feature entries to keep.
    """

    def __init__(self, device=None, cache_size: int = 8):
        self.device = choose_device(device)
        self.dtype = inference_dtype(self.device)
        self.cache = FeatureCache(cache_size)
        self._specs: dict[str, ModelSpec] = {}
        self._models: dict[str, torch.nn.Module] = {}

    def __repr__(self) -> str:
        return f"Engine(device={self.device}, models loaded={sorted(self._models)}, cached features={len(self.cache)})"

    def register(self, name: str, factory: Callable[[], torch.nn.Module], weights=None) -> None:
        """Register (or replace) a model for this engine only; drops a loaded copy."""
        self._specs[name] = ModelSpec(factory, weights)
        self._forget(name)

    def set_model(self, name: str, module: torch.nn.Module) -> None:
        """Use your own ``nn.Module`` (already holding its weights) under ``name``."""
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"expected a torch.nn.Module for model {name!r}, got {type(module).__name__}")
        self._forget(name)
        self._models[name] = self._prepare(module)

    def load_weights(self, name: str, path) -> None:
        """Load a ``.safetensors`` file into model ``name`` (e.g. your fine-tuned weights).

        A registered model is built fresh from its factory (so its default
        weights file need not exist); a module given with :meth:`set_model`
        is loaded in place.
        """
        known = name in self._specs or name in MODEL_REGISTRY
        module = self._spec(name).factory() if known or name not in self._models else self._models[name]
        load_weights(module, path)
        self._forget(name)
        self._models[name] = self._prepare(module)

    def _spec(self, name: str) -> ModelSpec:
        spec = self._specs.get(name) or MODEL_REGISTRY.get(name)
        if spec is None:
            known = sorted(set(self._specs) | set(MODEL_REGISTRY))
            raise KeyError(f"unknown model {name!r}; known models: {known}")
        return spec

    def model(self, name: str) -> torch.nn.Module:
        """The model ``name`` on this engine's device, in eval mode (built on first use)."""
        if name not in self._models:
            spec = self._spec(name)
            module = spec.factory()
            if spec.weights is not None:
                path = resolve_weights_path(spec.weights)
                if not path.exists():
                    raise FileNotFoundError(
                        f"weights for model {name!r} not found: {os.fspath(path)} "
                        f"(train them with `python -m segwidgets.train ...` or pass your own with Engine.load_weights)"
                    )
                load_weights(module, path)
            self._models[name] = self._prepare(module)
        return self._models[name]

    def encode(self, name: str, image, max_side: int | None = None):
        """Encoder features of ``image`` for model ``name``, computed once per image.

        Calls ``model.encode(x)`` (or ``model(x)`` when there is no ``encode``)
        with ``x`` the (1, 3, h, w) image in [0, 1], resized so its longest side is
        at most ``max_side``. The result is cached under the image's content
        hash, so equal images share it and different images never do.
        """
        image = as_rgb_image(image)
        key = (name, image_hash(image), str(self.device), max_side)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        model = self.model(name)
        if max_side is not None:
            image = resize_longest_side(image, max_side)[0]
        x = to_tensor(image, self.device, self.dtype)
        with torch.inference_mode():
            features = model.encode(x) if hasattr(model, "encode") else model(x)
        self.cache.put(key, features)
        return features

    def _prepare(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.to(device=self.device, dtype=self.dtype).eval()

    def _forget(self, name: str, keep_model: bool = False) -> None:
        if not keep_model:
            self._models.pop(name, None)
        for key in [k for k in self.cache._entries if k[0] == name]:
            del self.cache._entries[key]


_DEFAULT: Engine | None = None


def get_default_engine() -> Engine:
    """The process-wide engine every pipeline and widget uses unless given another."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Engine()
    return _DEFAULT
