import pytest

from segwidgets.graphcut import GraphCutSettings
from segwidgets.graphcut.settings import options_from_strings


def test_command_line_options_split_into_pipeline_options_and_graph_cut_settings():
    base = GraphCutSettings(gamma=50.0, prior_weight=0.7)
    options = options_from_strings(["band=0.05", "net_size=224,256", "gamma=20", "pairwise=boundary",
                                    "max_cut_pixels=none", "zoom=2", "mirror=False", "monotone=true"], base)
    settings = options.pop("settings")
    assert options == {"band": 0.05, "net_size": (224, 256), "max_cut_pixels": None, "zoom": 2, "mirror": False,
                       "monotone": True}
    assert options["mirror"] is False  # not the truthy text "False"
    assert isinstance(options["zoom"], int) and isinstance(options["band"], float)
    assert settings == base.replace(gamma=20, pairwise="boundary")
    assert options_from_strings([], base) == {}  # nothing set: no settings entry, the caller's default stays


def test_command_line_options_refuse_malformed_items_and_unknown_graph_cut_values():
    with pytest.raises(ValueError, match="KEY=VALUE"):
        options_from_strings(["gamma"], GraphCutSettings())
    with pytest.raises(ValueError):
        options_from_strings(["gamma=-3"], GraphCutSettings())
