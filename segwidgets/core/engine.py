"""The inference engine: the one gateway between numpy arrays and torch tensors.

Pipelines hand the engine numpy images, a :class:`~segwidgets.core.crops.CropWindow`
and named input planes; they get named numpy maps back. Everything torch --
building models from the registry table (``core.models.MODELS``), loading fp16
safetensors weights, device and dtype, ``inference_mode``, the CPU thread policy,
the memory layout -- happens here, so no pipeline imports torch.

On the CPU, models and their image-shaped inputs use the channels-last layout:
every shipped network ran 10-40 % faster in it on one thread (oneDNN's convolutions
work on it natively), with outputs equal to 1e-5. Models the engine builds itself
have their batch norms folded into the convolutions (``core.fusion``): the same
function, one pass fewer over every feature map; a module given with
:meth:`Engine.set_model` is used as it is.

One default engine per process (:func:`get_default_engine`) is shared by every
pipeline and widget. Its per-image cache, keyed by the image's content hash,
keeps what depends on the image alone (encoder features, whole-image passes),
so a second widget or a second call on the same image reuses them.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import torch

from .crops import CropWindow
from .device import choose_device, cpu_threads as resolve_cpu_threads, inference_dtype
from .fusion import fold_batch_norms
from .image import as_rgb_image, image_hash
from .models import MODELS, ModelSpec, Plane
from .weights import load_weights, resolve_weights_path


class FeatureCache:
    """A thread-safe least-recently-used cache that computes each entry once.

    :meth:`get_or_compute` runs ``compute()`` for a missing key while other threads
    asking for the same key wait for that result instead of computing it again.
    Counts ``hits``, ``misses`` and ``evictions`` so tests and users can see it work.
    """

    def __init__(self, max_entries: int = 8):
        if max_entries < 0:
            raise ValueError(f"max_entries must be >= 0, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._pending: dict[Any, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def get(self, key):
        """The cached value (marked most recently used) or ``None``."""
        with self._lock:
            return self._get(key)

    def put(self, key, value) -> None:
        with self._lock:
            self._put(key, value)

    def get_or_compute(self, key, compute: Callable[[], Any]):
        """The cached value for ``key``, or ``compute()``'s, stored (computed once across threads)."""
        while True:
            with self._lock:
                if key in self._entries:
                    return self._get(key)
                waiting = self._pending.get(key)
                if waiting is None:
                    self.misses += 1
                    done = self._pending[key] = threading.Event()
                    break
            waiting.wait()  # another thread is computing it; then look again (it may have failed)
        try:
            value = compute()
            with self._lock:
                self._put(key, value)
            return value
        finally:
            with self._lock:
                del self._pending[key]
            done.set()

    def evict(self, predicate: Callable[[Any], bool] | None = None) -> int:
        """Drop every entry whose key satisfies ``predicate`` (all when None); returns how many."""
        with self._lock:
            doomed = [k for k in self._entries if predicate is None or predicate(k)]
            for key in doomed:
                del self._entries[key]
            return len(doomed)

    def clear(self) -> None:
        self.evict()

    def _get(self, key):
        if key in self._entries:
            self._entries.move_to_end(key)
            self.hits += 1
            return self._entries[key]
        self.misses += 1
        return None

    def _put(self, key, value) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.evictions += 1


class Engine:
    """Runs the registered networks on numpy inputs; owns models, device, threads and the cache.

    Parameters
    ----------
    device : str or torch.device, optional
        Where models run; default CUDA, then MPS, then CPU (``core.device.choose_device``).
    cache_size : int
        How many per-image entries (features, whole-image passes) to keep.
    cpu_threads : int, optional
        torch intra-op threads while this engine runs on the CPU; default
        ``core.device.DEFAULT_CPU_THREADS`` (1, measured) or ``$SEGWIDGETS_CPU_THREADS``.
        torch's setting is process-wide: the engine sets it before each CPU inference.
    """

    def __init__(self, device=None, cache_size: int = 8, cpu_threads: int | None = None):
        self.device = choose_device(device)
        self.dtype = inference_dtype(self.device)
        self.cpu_threads = resolve_cpu_threads(cpu_threads)
        self.cache = FeatureCache(cache_size)
        self._specs: dict[str, ModelSpec] = {}
        self._models: dict[str, torch.nn.Module] = {}
        self._model_lock = threading.RLock()

    def __repr__(self) -> str:
        return (f"Engine(device={self.device}, cpu_threads={self.cpu_threads}, models loaded={sorted(self._models)}, "
                f"cached entries={len(self.cache)})")

    # -- models -------------------------------------------------------------------
    def spec(self, name: str) -> ModelSpec:
        """The registry entry of model ``name`` (this engine's own registrations first)."""
        spec = self._specs.get(name) or MODELS.get(name)
        if spec is None:
            known = sorted(set(self._specs) | set(MODELS))
            raise KeyError(f"unknown model {name!r}; known models: {known}")
        return spec

    def register(self, name: str, module, weights=None, planes=(), outputs=("probability",)) -> None:
        """Declare (or replace) a model for this engine only; drops a loaded copy.

        ``module``: a factory returning an ``nn.Module`` or ``"package.module:Class"``;
        ``planes``: ``core.models.Plane`` entries or ``(name, kind)`` pairs.
        """
        planes = tuple(p if isinstance(p, Plane) else Plane(*p) for p in planes)
        self._specs[name] = ModelSpec(module, weights, planes, tuple(outputs))
        self._forget(name)

    def set_model(self, name: str, module: torch.nn.Module) -> None:
        """Use your own ``nn.Module`` (already holding its weights) under ``name``; it keeps
        the registry entry's planes and outputs when ``name`` is a known model."""
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"expected a torch.nn.Module for model {name!r}, got {type(module).__name__}")
        with self._model_lock:
            self._forget(name)
            if name not in self._specs and name not in MODELS:
                self._specs[name] = ModelSpec(type(module))
            self._models[name] = self._prepare(module)

    def load_weights(self, name: str, path) -> None:
        """Load a ``.safetensors`` file into model ``name`` (e.g. your fine-tuned weights).

        A registered model is built fresh (so its default weights file need not
        exist); a module given with :meth:`set_model` is loaded in place.
        """
        with self._model_lock:
            declared = name in MODELS or (name in self._specs and name not in self._models)
            built = declared or name not in self._models
            module = self.spec(name).build() if built else self._models[name]
            load_weights(module, path)
            self._forget(name)
            self._models[name] = self._prepare(module, fold=built)

    def model(self, name: str) -> torch.nn.Module:
        """The model ``name`` on this engine's device, in eval mode (built and loaded on first use).

        Raises ``FileNotFoundError`` / ``core.weights.WeightsError`` naming the weights
        file when it is missing or does not fit.
        """
        with self._model_lock:
            if name not in self._models:
                spec = self.spec(name)
                module = spec.build()
                if spec.weights is not None:
                    path = resolve_weights_path(spec.weights)
                    if not path.exists():
                        raise FileNotFoundError(
                            f"weights for model {name!r} not found: {os.fspath(path)} "
                            f"(train them with `python -m segwidgets.train ...` or pass your own with Engine.load_weights)"
                        )
                    load_weights(module, path)
                self._models[name] = self._prepare(module, fold=True)
            return self._models[name]

    # -- inference ----------------------------------------------------------------
    def infer(self, model_name: str, image, crop: CropWindow | None = None, *, cache: bool = False,
              mirror: bool = False, **planes) -> dict[str, np.ndarray]:
        """Run network ``model_name`` on a crop of ``image``; its output maps as numpy.

        Parameters
        ----------
        image : (H, W, 3) uint8 RGB array (or PIL image / path).
        crop : CropWindow, optional
            The part of the image the network sees and the input size; default the
            whole image at its own size.
        cache : bool
            Keep the result in the per-image cache (keyed by the image's content hash
            and the crop) and reuse it next time; only for inputs without planes.
        mirror : bool
            Also run the network on the left-right mirrored input (planes mirrored too)
            and average the two answers, the second mirrored back: test-time
            augmentation at twice the network's cost (one batch of two).
        **planes
            The model's extra input planes by name (see ``core.models.MODELS``), in
            image coordinates: ``"points"`` planes as (N, 2) ``(x, y)`` pixels,
            ``"mask"`` planes as (H, W) bool, ``"map"`` planes as (H, W) float in [0, 1],
            ``"color"`` planes as (H, W, 3) float in [0, 1]; None for an empty plane.
            The engine crops them with ``crop`` like the image.

        Returns
        -------
        dict
            ``{output name: (h, w) float32 in [0, 1]}`` on the crop's grid (``crop.size``),
            e.g. ``{"probability": P, "boundary": B}``; a multi-channel output is (h, w, c)
            (e.g. ``{"background": (h, w, 3)}``). Map them to image pixels with
            ``crop.to_frame_map``.
        """
        return self.infer_each((model_name,), image, crop, cache=cache, mirror=mirror, **planes)[0]

    def infer_each(self, model_names, image, crop: CropWindow | None = None, *, cache: bool = False,
                   mirror: bool = False, **planes) -> list[dict[str, np.ndarray]]:
        """:meth:`infer` for several networks that take the same inputs (e.g. copies trained
        differently, whose maps a pipeline averages): the crop is cut and resampled once.

        Returns one output dict per name of ``model_names``, in order; with ``cache``, each
        network's answer is cached (and reused) on its own.
        """
        image = as_rgb_image(image)
        crop = crop or CropWindow.whole(image.shape[:2])
        if crop.image_size != image.shape[:2]:
            raise ValueError(f"the crop window is for a {crop.image_size} image, got an image of {image.shape[:2]}")
        specs = [self.spec(name) for name in model_names]
        for name, spec in zip(model_names, specs):
            unknown = sorted(set(planes) - set(spec.plane_names))
            missing = [p.name for p in spec.planes if p.name not in planes]
            if unknown or missing:
                raise ValueError(f"model {name!r} takes planes {list(spec.plane_names)}; "
                                 f"missing {missing}, unexpected {unknown}")
        if len({spec.planes for spec in specs}) > 1:
            raise ValueError(f"models {list(model_names)} take different input planes; infer them one at a time")
        if cache and planes:
            raise ValueError("only image-only inputs (no planes) can be cached")
        inputs = []  # the input tensor, built by the first network that needs it

        def run(name: str, spec: ModelSpec) -> dict[str, np.ndarray]:
            if not inputs:
                x = self._input_tensor(image, crop, spec, planes)
                inputs.append(torch.cat([x, x.flip(-1)]) if mirror else x)
            with self._inference():
                y = torch.sigmoid(self.model(name)(self._layout(inputs[0].to(self.dtype))).float())
            return _name_outputs(name, spec, (y[0] + y[1].flip(-1)) / 2 if mirror else y[0])

        if not cache:
            return [run(name, spec) for name, spec in zip(model_names, specs)]
        digest = image_hash(image)
        return [self.cache.get_or_compute(
            ("infer", name, digest, crop.box, crop.size, str(self.device), mirror),
            lambda name=name, spec=spec: {k: _readonly(v) for k, v in run(name, spec).items()})
            for name, spec in zip(model_names, specs)]

    def infer_torch(self, model_name: str, inputs: torch.Tensor) -> torch.Tensor:
        """Tensor twin of :meth:`infer` for batches already on a device.

        ``inputs``: (N, C, h, w) float, RGB in [0, 1] then the planes in the registry's
        order (C = ``spec.input_channels``). Returns (N, output channels, h, w)
        probabilities on the input's device and dtype.
        """
        if inputs.ndim != 4:
            raise ValueError(f"expected an (N, C, h, w) tensor, got shape {tuple(inputs.shape)}")
        expected = self.spec(model_name).input_channels
        if inputs.shape[1] != expected:
            raise ValueError(f"model {model_name!r} takes {expected} input channels, got {inputs.shape[1]}")
        with self._inference():
            y = self.model(model_name)(self._layout(inputs.to(self.device, self.dtype)))
        return torch.sigmoid(y.float()).contiguous().to(inputs.device, inputs.dtype)

    def features(self, model_name: str, image, max_side: int | None = None) -> list[np.ndarray]:
        """Encoder features of ``image`` for model ``model_name``, computed once per image.

        Calls the model's ``encode(x)`` (or ``forward``) on the whole image, shrunk so
        its longest side is at most ``max_side``. The result is cached under the
        image's content hash (equal images share it, different images never do; two
        threads asking at once compute it once). Evict with :meth:`evict`.

        Returns
        -------
        list of (C, h, w) float32 arrays (read-only), e.g. one per encoder stage.
        """
        image = as_rgb_image(image)
        window = CropWindow.whole(image.shape[:2], max_side=max_side)

        def run() -> list[np.ndarray]:
            x = self._layout(_rgb_tensor(window.to_local_map(image), self.device).to(self.dtype))
            model = self.model(model_name)
            with self._inference():
                out = model.encode(x) if hasattr(model, "encode") else model(x)
            out = [out] if isinstance(out, torch.Tensor) else list(out)
            return [_readonly(t[0].float().contiguous().cpu().numpy()) for t in out]

        key = ("features", model_name, image_hash(image), window.size, str(self.device))
        return self.cache.get_or_compute(key, run)

    def apply(self, model_name: str, method: str, *arrays):
        """Call ``model.<method>(*tensors)`` on numpy inputs; numpy outputs.

        For networks whose later stages take more than an image, e.g. the query
        finder's ``heatmaps(query_features, supports, search_embedding, search_context)``
        on features from :meth:`features`. Arrays (also inside lists and tuples) go to
        the device as tensors of the engine's dtype; tensors come back as float32 numpy,
        with the same nesting.
        """
        model = self.model(model_name)
        function = getattr(model, method, None)
        if function is None or method.startswith("_"):
            raise AttributeError(f"model {model_name!r} ({type(model).__name__}) has no method {method!r}")

        def to_tensor(value):
            if isinstance(value, (list, tuple)):
                return type(value)(to_tensor(v) for v in value)
            if isinstance(value, np.ndarray):
                # a copy: cached arrays are read-only
                return self._layout(torch.tensor(value, dtype=torch.float32).to(self.device, self.dtype))
            return value

        def to_numpy(value):
            if isinstance(value, (list, tuple)):
                return type(value)(to_numpy(v) for v in value)
            if isinstance(value, torch.Tensor):
                return value.float().contiguous().cpu().numpy()
            return value

        with self._inference():
            return to_numpy(function(*to_tensor(arrays)))

    def evict(self, image=None, model_name: str | None = None) -> int:
        """Drop cached entries (for one image and/or one model; all when neither); returns how many."""
        digest = None if image is None else image_hash(as_rgb_image(image))
        return self.cache.evict(lambda k: (digest is None or k[2] == digest) and (model_name is None or k[1] == model_name))

    # -- internals ----------------------------------------------------------------
    def _inference(self):
        """``inference_mode`` with this engine's CPU thread count applied."""
        if self.device.type == "cpu" and torch.get_num_threads() != self.cpu_threads:
            torch.set_num_threads(self.cpu_threads)  # process-wide in torch: set before each use
        return torch.inference_mode()

    def _input_tensor(self, image, crop: CropWindow, spec: ModelSpec, planes: dict) -> torch.Tensor:
        """(1, spec.input_channels, h, w) float32 on the device: the cropped RGB in [0, 1], then the planes."""
        from ..nets.planes import proximity_planes

        channels = [_rgb_tensor(crop.to_local_map(image), self.device)]
        for plane in spec.planes:
            value = planes[plane.name]
            if value is None:  # an absent plane (no clicks of a kind, no previous mask) is all zeros
                channels.append(torch.zeros((1, plane.channels) + crop.size, device=self.device))
                continue
            if plane.kind == "points":
                points = np.asarray(value, np.float64).reshape(-1, 2)
                local = torch.as_tensor(crop.to_local_points(points), dtype=torch.float32, device=self.device)[None]
                chosen = torch.ones(local.shape[:2], dtype=torch.bool, device=self.device)
                rendered = proximity_planes(local, chosen, crop.size)[:, None]
            else:
                array = np.asarray(value)
                shape = tuple(crop.image_size) + ((3,) if plane.kind == "color" else ())
                if array.shape != shape:
                    raise ValueError(f"plane {plane.name!r}: expected an {shape} array, got {array.shape}")
                local = crop.to_local_mask(array) if plane.kind == "mask" else crop.to_local_map(array.astype(np.float32))
                local = np.ascontiguousarray(local, np.float32)
                channels_first = local.transpose(2, 0, 1) if local.ndim == 3 else local[None]
                rendered = torch.from_numpy(np.ascontiguousarray(channels_first))[None].to(self.device)
            channels.append(rendered)
        return torch.cat(channels, dim=1)

    def _prepare(self, module: torch.nn.Module, fold: bool = False) -> torch.nn.Module:
        """``module`` on the device, in eval mode and the CPU layout; ``fold``: fold its batch norms
        (only for modules the engine built: a caller's own module is not changed under them)."""
        if fold:
            fold_batch_norms(module)
        module = module.to(device=self.device, dtype=self.dtype).eval()
        return module.to(memory_format=torch.channels_last) if self.device.type == "cpu" else module

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        """Image-shaped (N, C, H, W) tensors in channels-last layout on the CPU (see the module docstring)."""
        if self.device.type == "cpu" and x.ndim == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def _forget(self, name: str) -> None:
        self._models.pop(name, None)
        self.cache.evict(lambda k: k[1] == name)


def _rgb_tensor(rgb: np.ndarray, device) -> torch.Tensor:
    """(h, w, 3) RGB in 0..255 (uint8 or float) -> (1, 3, h, w) float32 in [0, 1] on ``device``."""
    array = np.ascontiguousarray(rgb, np.float32) / np.float32(255.0)
    return torch.from_numpy(array).permute(2, 0, 1)[None].to(device)


def _name_outputs(model_name: str, spec: ModelSpec, maps: torch.Tensor) -> dict[str, np.ndarray]:
    """(C, h, w) tensor -> ``{name: (h, w) or (h, w, c) float32}`` by the registry's outputs."""
    layout = spec.output_layout
    if maps.shape[0] != sum(c for _, c in layout):
        raise ValueError(f"model {model_name!r} returned {maps.shape[0]} maps, its registry entry names "
                         f"{sum(c for _, c in layout)}: {list(spec.outputs)}")
    array = maps.contiguous().cpu().numpy().astype(np.float32, copy=False)
    out, start = {}, 0
    for name, channels in layout:
        out[name] = array[start] if channels == 1 else np.ascontiguousarray(array[start:start + channels].transpose(1, 2, 0))
        start += channels
    return out


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # cached results are shared: nobody may edit them in place
    return array


_DEFAULT: Engine | None = None
_DEFAULT_LOCK = threading.Lock()


def get_default_engine() -> Engine:
    """The process-wide engine every pipeline and widget uses unless given another."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Engine()
        return _DEFAULT
