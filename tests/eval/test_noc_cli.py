import json

import numpy as np
from PIL import Image

from segwidgets.eval.__main__ import main
from segwidgets.pipelines.click import NET_SIZE


def test_noc_command_records_the_predictor_options(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    yy, xx = np.mgrid[:64, :80]
    for name, centre in (("a", (30, 30)), ("b", (50, 36))):
        disc = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= 15 ** 2
        Image.fromarray(np.where(disc[..., None], 230, 30).astype(np.uint8).repeat(3, 2)).save(
            tmp_path / "images" / f"{name}.png")
        Image.fromarray((disc * 255).astype(np.uint8)).save(tmp_path / "masks" / f"{name}.png")
    out = tmp_path / "noc.json"
    assert main(["noc", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"), "--variant",
                 "refined", "--max-clicks", "3", "--focus", "0", "--mirror", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["focus"] is None and figures["mirror"] is True and figures["images"] == 2
    assert figures["net_size"] == NET_SIZE
    assert 1 <= figures["refined"]["noc@90"] <= 3 and 0 <= figures["refined"]["miou@1"] <= 1
    assert [r["image"] for r in figures["per_image"]] == ["a.png", "b.png"]
