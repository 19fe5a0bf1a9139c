import threading
import time

import numpy as np
import pytest
import torch

from segwidgets.core.crops import CropWindow
from segwidgets.core.engine import Engine, FeatureCache, get_default_engine
from segwidgets.core.models import MODELS
from segwidgets.core.weights import WeightsError, load_weights, resolve_weights_path, save_weights

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


class CountingEncoder(torch.nn.Module):
    """A tiny model that counts how often its encoder runs (slowly, to overlap threads)."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.calls = 0
        self.delay = delay

    def encode(self, x):
        self.calls += 1
        time.sleep(self.delay)
        return [self.conv(x), self.conv(x)[:, :, ::2, ::2]]


class EchoNet(torch.nn.Module):
    """Returns logits whose sigmoid is exactly its input planes: RGB mean, then each extra plane."""

    def forward(self, x):
        planes = torch.cat([x[:, :3].mean(1, keepdim=True), x[:, 3:]], dim=1).clamp(1e-6, 1 - 1e-6)
        return torch.log(planes / (1 - planes))


def image(value, shape=(16, 20)):
    return np.full(shape + (3,), value, np.uint8)


def test_features_cache_hit_miss_and_different_images_never_share():
    engine = Engine("cpu", cache_size=4)
    engine.register("toy", CountingEncoder)
    a = engine.features("toy", image(10))
    b = engine.features("toy", image(10).copy())  # equal content -> hit
    c = engine.features("toy", image(11))  # different content -> miss
    assert engine.model("toy").calls == 2 and engine.cache.hits == 1 and engine.cache.misses == 2
    assert a is b and not np.array_equal(a[0], c[0])
    assert isinstance(a[0], np.ndarray) and a[0].shape == (4, 16, 20) and a[1].shape == (4, 8, 10)
    with pytest.raises(ValueError):
        a[0][0, 0, 0] = 1.0  # shared: read-only


def test_cache_evicts_least_recently_used_and_on_request():
    engine = Engine("cpu", cache_size=2)
    engine.register("toy", CountingEncoder)
    for v in (1, 2):
        engine.features("toy", image(v))
    engine.features("toy", image(1))  # 1 becomes most recent
    engine.features("toy", image(3))  # evicts 2
    assert engine.cache.evictions == 1
    calls = engine.model("toy").calls
    engine.features("toy", image(1))
    assert engine.model("toy").calls == calls  # still cached
    engine.features("toy", image(2))
    assert engine.model("toy").calls == calls + 1  # was evicted
    assert engine.evict(image=image(2)) == 1 and engine.evict() == 1 and len(engine.cache) == 0


def test_max_side_is_part_of_the_key():
    engine = Engine("cpu")
    engine.register("toy", CountingEncoder)
    full = engine.features("toy", image(5))
    small = engine.features("toy", image(5), max_side=10)
    assert full[0].shape[-2:] == (16, 20) and small[0].shape[-2:] == (8, 10)


def test_two_threads_asking_for_one_image_compute_it_once():
    engine = Engine("cpu")
    engine.register("toy", lambda: CountingEncoder(delay=0.3))
    engine.model("toy")  # built before the race: the race is about the cache
    results, errors = [], []

    def ask(value):
        try:
            results.append((value, engine.features("toy", image(value))))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(v,)) for v in (7, 7, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert engine.model("toy").calls == 2  # image 7 once, image 8 once
    sevens = [r for v, r in results if v == 7]
    assert len(sevens) == 2 and sevens[0] is sevens[1]


def test_a_failing_computation_is_not_cached_and_waiters_retry():
    cache = FeatureCache(4)
    attempts = []

    def boom():
        attempts.append(1)
        raise RuntimeError("failed")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", boom)
    assert "k" not in cache and cache.get_or_compute("k", lambda: 5) == 5 and len(attempts) == 1


def test_feature_cache_bounds():
    cache = FeatureCache(1)
    cache.put("a", 1)
    cache.put("b", 2)
    assert "a" not in cache and cache.get("b") == 2 and len(cache) == 1
    with pytest.raises(ValueError):
        FeatureCache(-1)


@pytest.mark.parametrize("device", DEVICES)
def test_infer_crops_the_image_and_every_plane_alike(device):
    engine = Engine(device)
    engine.register("echo", EchoNet, planes=[("clicks", "points"), ("previous", "mask")],
                    outputs=("rgb", "clicks", "previous"))
    picture = np.zeros((40, 60, 3), np.uint8)
    picture[10:20, 30:40] = 255
    previous = np.zeros((40, 60), bool)
    previous[10:20, 30:40] = True
    window = CropWindow((20.0, 0.0, 60.0, 40.0), (80, 80), (40, 60))  # 2x: right part of the image
    out = engine.infer("echo", picture, window, clicks=[(35.25, 15.25)], previous=previous)
    assert set(out) == {"rgb", "clicks", "previous"} and all(v.shape == (80, 80) for v in out.values())
    rows, cols = np.nonzero(out["rgb"] > 0.5)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (20, 39, 20, 39)  # image (30..40, 10..20) at 2x
    np.testing.assert_array_equal(out["previous"] > 0.5, out["rgb"] > 0.5)
    peak = np.unravel_index(np.argmax(out["clicks"]), (80, 80))
    assert peak == (30, 30)  # click (35.25, 15.25) -> local (30.5, 30.5): the centre of pixel (30, 30)
    empty = engine.infer("echo", picture, window, clicks=None, previous=None)
    assert empty["clicks"].max() < 1e-4 and empty["previous"].max() < 1e-4


def test_infer_checks_planes_and_caches_image_only_passes():
    engine = Engine("cpu")
    engine.register("echo", EchoNet, planes=[("previous", "mask")], outputs=("rgb", "previous"))
    with pytest.raises(ValueError, match="missing \\['previous'\\]"):
        engine.infer("echo", image(3))
    with pytest.raises(ValueError, match="unexpected \\['other'\\]"):
        engine.infer("echo", image(3), previous=None, other=1)
    with pytest.raises(ValueError, match="image-only"):
        engine.infer("echo", image(3), previous=None, cache=True)
    with pytest.raises(ValueError, match="plane 'previous'"):
        engine.infer("echo", image(3), previous=np.zeros((3, 3), bool))
    engine.register("rgb", EchoNet, outputs=("rgb",))
    first = engine.infer("rgb", image(200), cache=True)
    again = engine.infer("rgb", image(200), cache=True)
    assert first is again and engine.cache.hits == 1
    np.testing.assert_allclose(first["rgb"], 200 / 255, atol=1e-5)
    with pytest.raises(ValueError, match="names 2"):
        engine.register("wrong", EchoNet, outputs=("a", "b"))
        engine.infer("wrong", image(1))


class LeftBiasedEchoNet(EchoNet):
    """EchoNet plus a bias towards the left edge: not mirror-symmetric; records its batch sizes."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, x):
        self.batches.append(x.shape[0])
        ramp = torch.linspace(2, 0, x.shape[-1], device=x.device, dtype=x.dtype)
        return super().forward(x) + ramp


@pytest.mark.parametrize("device", DEVICES)
def test_infer_mirror_averages_the_mirrored_pass_mapped_back(device):
    engine = Engine(device)
    engine.register("echo", EchoNet, planes=[("previous", "mask")], outputs=("rgb", "previous"))
    picture = np.zeros((12, 20, 3), np.uint8)
    picture[2:6, 3:8] = 255
    previous = np.zeros((12, 20), bool)
    previous[7:10, 12:19] = True
    plain = engine.infer("echo", picture, previous=previous)
    mirrored = engine.infer("echo", picture, previous=previous, mirror=True)
    for name in plain:  # a mirror-equivariant network answers the same: the second pass is mapped back
        np.testing.assert_allclose(mirrored[name], plain[name], atol=1e-5)
    engine.register("biased", LeftBiasedEchoNet, outputs=("rgb",))
    grey = engine.infer("biased", image(128))["rgb"]
    assert grey[:, 0].mean() > grey[:, -1].mean() + 0.2  # one pass: biased to the left
    averaged = engine.infer("biased", image(128), mirror=True)["rgb"]
    np.testing.assert_allclose(averaged, averaged[:, ::-1], atol=1e-5)  # the bias averages out
    assert engine.model("biased").batches[-2:] == [1, 2]  # both passes in one batch
    cached = engine.infer("biased", image(128), mirror=True, cache=True)
    assert engine.infer("biased", image(128), cache=True) is not cached  # mirror is part of the cache key


def test_infer_each_cuts_the_crop_once_and_answers_like_infer(monkeypatch):
    engine = Engine("cpu")
    engine.register("echo", EchoNet, outputs=("rgb",))
    engine.register("biased", LeftBiasedEchoNet, outputs=("rgb",))
    picture = np.random.default_rng(0).integers(0, 255, (30, 40, 3)).astype(np.uint8)
    window = CropWindow.square((5, 5, 30, 25), (30, 40), 16)
    alone = [engine.infer(name, picture, window, mirror=True) for name in ("echo", "biased")]
    built = []
    original = engine._input_tensor
    monkeypatch.setattr(engine, "_input_tensor", lambda *a: built.append(1) or original(*a))
    both = engine.infer_each(("echo", "biased"), picture, window, mirror=True)
    assert len(built) == 1  # one crop for both networks
    for one, each in zip(alone, both):
        np.testing.assert_array_equal(one["rgb"], each["rgb"])
    cached = engine.infer_each(("echo", "biased"), picture, window, cache=True)
    assert engine.infer("biased", picture, window, cache=True) is cached[1]  # cached one network at a time
    engine.register("echo_plane", EchoNet, planes=[("previous", "mask")], outputs=("rgb", "previous"))
    with pytest.raises(ValueError, match="missing"):
        engine.infer_each(("echo", "echo_plane"), picture, window)
    with pytest.raises(ValueError, match="unexpected \\['previous'\\]"):
        engine.infer_each(("echo", "echo_plane"), picture, window, previous=None)
    engine.register("echo_map", EchoNet, planes=[("previous", "map")], outputs=("rgb", "previous"))
    with pytest.raises(ValueError, match="different input planes"):
        engine.infer_each(("echo_plane", "echo_map"), picture, window, previous=None)


@pytest.mark.parametrize("device", DEVICES)
def test_infer_torch_follows_the_input_device_and_dtype(device):
    engine = Engine(device)
    engine.register("echo", EchoNet, planes=[("previous", "mask")], outputs=("rgb", "previous"))
    x = torch.full((2, 4, 8, 8), 0.25, dtype=torch.float64)
    y = engine.infer_torch("echo", x)
    assert y.shape == (2, 2, 8, 8) and y.dtype == torch.float64 and y.device == x.device
    torch.testing.assert_close(y, torch.full_like(y, 0.25), atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="takes 4 input channels"):
        engine.infer_torch("echo", torch.zeros(1, 3, 8, 8))


def test_engine_applies_its_cpu_thread_policy():
    before = torch.get_num_threads()
    try:
        engine = Engine("cpu", cpu_threads=1)
        engine.register("rgb", EchoNet, outputs=("rgb",))
        torch.set_num_threads(2)
        engine.infer("rgb", image(1))
        assert torch.get_num_threads() == 1
        Engine("cpu", cpu_threads=2).infer_torch  # constructing changes nothing by itself
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_models_load_lazily_from_safetensors(tmp_path):
    source = CountingEncoder()
    path = save_weights(source, tmp_path / "toy.safetensors")
    engine = Engine("cpu")
    engine.register("toy", CountingEncoder, weights=path)
    loaded = engine.model("toy")
    # fp16 on disk: equal to the source within half precision
    torch.testing.assert_close(loaded.conv.weight, source.conv.weight, atol=1e-3, rtol=1e-3)
    assert engine.model("toy") is loaded  # built once


def test_missing_and_mismatched_weights_name_the_file(tmp_path):
    engine = Engine("cpu")
    engine.register("toy", CountingEncoder, weights=tmp_path / "absent.safetensors")
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        engine.model("toy")
    other = torch.nn.Conv2d(3, 8, 3)
    path = save_weights(torch.nn.Sequential(other), tmp_path / "wrong.safetensors")
    with pytest.raises(WeightsError, match="wrong.safetensors"):
        load_weights(CountingEncoder(), path)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="junk.safetensors"):
        load_weights(CountingEncoder(), tmp_path / "junk.safetensors")
    with pytest.raises(WeightsError, match="pickled"):
        load_weights(CountingEncoder(), tmp_path / "model.pth")


def test_registry_table_user_modules_and_the_default_engine():
    assert MODELS["click"].plane_names == ("positive_clicks", "negative_clicks", "previous_mask")
    assert MODELS["objectness"].outputs == ("probability", "boundary")
    net = MODELS["objectness"].build()  # imported on first use, untrained
    assert type(net).__name__ == "ObjectnessNet"
    engine = Engine("cpu")
    engine.set_model("objectness", net)  # a user module keeps the table's outputs
    out = engine.infer("objectness", image(3, (32, 40)))
    assert set(out) == {"probability", "boundary"} and out["probability"].shape == (32, 40)
    mine = CountingEncoder()
    engine.set_model("mine", mine)
    engine.features("mine", image(3))
    assert mine.calls == 1
    with pytest.raises(KeyError, match="unknown model"):
        engine.model("nothing-registered")
    assert get_default_engine() is get_default_engine()
    with pytest.raises(TypeError):
        engine.set_model("bad", object())


class HeadNet(torch.nn.Module):
    """A model with a second-stage method taking nested arrays (like the query finder's heatmaps)."""

    def forward(self, x):
        return x

    def combine(self, pair, scale):
        return [pair[0] * scale + pair[1], (pair[0].sum(), pair[0].dtype == torch.float32)]

    def _private(self):
        return 0


@pytest.mark.parametrize("device", DEVICES)
def test_apply_calls_a_model_method_on_numpy_and_returns_numpy(device):
    engine = Engine(device)
    engine.set_model("head", HeadNet())
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    a.flags.writeable = False  # cached features are read-only: apply must not mind
    out = engine.apply("head", "combine", [a, np.ones((2, 3), np.float32)], 2.0)
    assert isinstance(out, list) and isinstance(out[0], np.ndarray) and out[0].dtype == np.float32
    np.testing.assert_allclose(out[0], a * 2 + 1)
    assert out[1][0] == pytest.approx(15.0) and out[1][1] is (engine.dtype == torch.float32)  # the engine's dtype
    with pytest.raises(AttributeError, match="no method 'missing'"):
        engine.apply("head", "missing")
    with pytest.raises(AttributeError, match="_private"):
        engine.apply("head", "_private")


def test_cpu_models_run_channels_last_with_the_same_outputs_in_plain_layouts():
    """On the CPU the engine keeps models and image inputs channels-last (faster convolutions);
    results equal a plain-layout run and come back as ordinary C-ordered arrays."""
    engine = Engine("cpu", cpu_threads=1)
    model = engine.model("matting_background")
    assert model.encoder.stages[0][0][0].weight.is_contiguous(memory_format=torch.channels_last)
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    trimap = rng.choice([0.0, 0.5, 1.0], (40, 56)).astype(np.float32)
    out = engine.infer("matting_background", picture, trimap=trimap)["background"]
    assert out.shape == (40, 56, 3) and out.flags.c_contiguous
    plain = MODELS["matting_background"].build()  # unfolded batch norms too (the engine folds them)
    load_weights(plain, resolve_weights_path(MODELS["matting_background"].weights))
    x = torch.cat([torch.from_numpy(picture).permute(2, 0, 1)[None].float() / 255,
                   torch.from_numpy(trimap)[None, None]], 1).contiguous()
    with torch.inference_mode():
        expected = torch.sigmoid(plain.eval()(x))[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)
    features = engine.features("objectness", picture)
    assert all(f.flags.c_contiguous for f in features)
