import json

import pytest

import numpy as np
from PIL import Image

from segwidgets.eval.__main__ import main
from segwidgets.pipelines.click import NET_SIZE


def make_discs(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    yy, xx = np.mgrid[:64, :80]
    for name, centre in (("a", (30, 30)), ("b", (50, 36))):
        disc = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= 15 ** 2
        Image.fromarray(np.where(disc[..., None], 230, 30).astype(np.uint8).repeat(3, 2)).save(
            tmp_path / "images" / f"{name}.png")
        Image.fromarray((disc * 255).astype(np.uint8)).save(tmp_path / "masks" / f"{name}.png")


def test_noc_command_records_the_predictor_options(tmp_path):
    make_discs(tmp_path)
    out = tmp_path / "noc.json"
    assert main(["noc", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"), "--variant",
                 "refined", "--max-clicks", "3", "--focus", "0", "--mirror", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["focus"] is None and figures["mirror"] is True and figures["images"] == 2
    assert figures["net_size"] == NET_SIZE
    assert 1 <= figures["refined"]["noc@90"] <= 3 and 0 <= figures["refined"]["miou@1"] <= 1
    assert [r["image"] for r in figures["per_image"]] == ["a.png", "b.png"]


@pytest.fixture
def built(monkeypatch):
    """Every ClickPredictor the command builds, in order."""
    from segwidgets.pipelines import click

    predictors = []
    original = click.ClickPredictor.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        predictors.append(self)

    monkeypatch.setattr(click.ClickPredictor, "__init__", recording_init)
    return predictors


def test_noc_set_passes_predictor_options_and_graph_cut_settings(tmp_path, built):
    from segwidgets.pipelines import click

    make_discs(tmp_path)
    out = tmp_path / "noc.json"
    assert main(["noc", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"), "--variant",
                 "refined", "--max-clicks", "2", "--set", "band=0.06", "zoom=1.6", "gamma=30",
                 "--json", str(out)]) == 0
    (predictor,) = built
    assert predictor.band == 0.06 and predictor.zoom == 1.6 and predictor.settings.gamma == 30
    assert predictor.settings.prior_weight == click.DEFAULT_GRAPH_CUT.prior_weight  # the rest stays the default
    assert json.loads(out.read_text())["set"] == ["band=0.06", "zoom=1.6", "gamma=30"]


def test_noc_set_may_override_monotone(tmp_path, built):
    make_discs(tmp_path)
    args = ["noc", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"), "--variant", "refined",
            "--max-clicks", "2"]
    assert main(args) == 0 and built[-1].monotone and not built[-1].local  # monotone follows refine
    assert main(args + ["--set", "local=true", "monotone=false"]) == 0
    assert built[-1].local and not built[-1].monotone


@pytest.mark.parametrize("bad", ["zoom=-1", "colour=red", "band", "refine=false"])
def test_noc_set_refuses_bad_options_before_reading_images(tmp_path, bad, monkeypatch):
    import segwidgets.data

    make_discs(tmp_path)
    monkeypatch.setattr(segwidgets.data, "load_mask", lambda *a: pytest.fail("an image was read"))
    with pytest.raises(SystemExit, match="--set"):
        main(["noc", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"), "--set", bad])
