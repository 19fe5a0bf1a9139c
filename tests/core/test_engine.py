import numpy as np
import pytest
import torch

from segwidgets.core.engine import Engine, FeatureCache, get_default_engine, register_model
from segwidgets.core.weights import WeightsError, load_weights, save_weights


class CountingEncoder(torch.nn.Module):
    """A tiny model that counts how often its encoder runs."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.calls = 0

    def encode(self, x):
        self.calls += 1
        return self.conv(x)


def image(value):
    return np.full((16, 20, 3), value, np.uint8)


def test_cache_hit_miss_and_different_images_never_share():
    engine = Engine("cpu", cache_size=4)
    engine.register("toy", CountingEncoder)
    a = engine.encode("toy", image(10))
    b = engine.encode("toy", image(10).copy())  # equal content -> hit
    c = engine.encode("toy", image(11))  # different content -> miss
    model = engine.model("toy")
    assert model.calls == 2 and engine.cache.hits == 1 and engine.cache.misses == 2
    assert a is b and not torch.equal(a, c)


def test_cache_evicts_least_recently_used():
    engine = Engine("cpu", cache_size=2)
    engine.register("toy", CountingEncoder)
    for v in (1, 2):
        engine.encode("toy", image(v))
    engine.encode("toy", image(1))  # 1 becomes most recent
    engine.encode("toy", image(3))  # evicts 2
    assert engine.cache.evictions == 1
    calls = engine.model("toy").calls
    engine.encode("toy", image(1))
    assert engine.model("toy").calls == calls  # still cached
    engine.encode("toy", image(2))
    assert engine.model("toy").calls == calls + 1  # was evicted


def test_resize_is_part_of_the_key():
    engine = Engine("cpu")
    engine.register("toy", CountingEncoder)
    full = engine.encode("toy", image(5))
    small = engine.encode("toy", image(5), max_side=10)
    assert full.shape[-2:] == (16, 20) and small.shape[-2:] == (8, 10)


def test_feature_cache_bounds():
    cache = FeatureCache(1)
    cache.put("a", 1)
    cache.put("b", 2)
    assert "a" not in cache and cache.get("b") == 2 and len(cache) == 1
    with pytest.raises(ValueError):
        FeatureCache(-1)


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


def test_user_module_and_registry():
    engine = Engine("cpu")
    mine = CountingEncoder()
    engine.set_model("mine", mine)
    engine.encode("mine", image(3))
    assert mine.calls == 1
    with pytest.raises(KeyError, match="unknown model"):
        engine.model("nothing-registered")
    register_model("toy-global", CountingEncoder)
    assert isinstance(Engine("cpu").model("toy-global"), CountingEncoder)
    assert get_default_engine() is get_default_engine()
    with pytest.raises(TypeError):
        engine.set_model("bad", object())
