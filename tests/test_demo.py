import json

import numpy as np
from PIL import Image

from segwidgets.__main__ import main


def test_demo_writes_every_panel(tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--iterations", "4"]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    for expected in ("00_input_box.png", "02_superpixels.png", "03_pairwise_weights.png", "05_unary_object_minus_background.png",
                     "06_color_models.png", "07_energy.png", "08_final_mask.png", "10_cutout.png", "overview.png", "trace.json"):
        assert expected in names
    assert len([n for n in names if n.startswith("04_iteration_")]) == 4
    trace = json.loads((tmp_path / "trace.json").read_text())
    energies = [row["energy"] for row in trace["iterations"]]
    assert energies == sorted(energies, reverse=True)
    final = np.asarray(Image.open(tmp_path / "08_final_mask.png"))
    assert final.shape == (512, 512) and 0.1 < (final > 0).mean() < 0.6  # the astronaut, not all or nothing
    assert Image.open(tmp_path / "10_cutout.png").mode == "RGBA"


def test_demo_reports_bad_input(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--box", "0", "0", "0", "10"]) == 2
    assert "zero area" in capsys.readouterr().err
