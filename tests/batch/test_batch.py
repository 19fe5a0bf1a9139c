"""Batch runs: outputs, summary, resume, bad files, in-process against a local Dask cluster, a killed worker."""
import csv
import os
import signal
import threading
import time

import numpy as np
import pytest
from PIL import Image

from segwidgets.__main__ import main
from segwidgets.batch import read_boxes, run
from segwidgets.batch.outputs import outputs_complete, write_png_atomic


def _disc_image(seed: int, h: int = 96, w: int = 128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    cx, cy, r = rng.uniform(45, 80), rng.uniform(35, 60), rng.uniform(18, 28)
    inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r ** 2
    image = np.where(inside[..., None], [200, 60, 50], [40, 90, 160]) + rng.normal(0, 8, (h, w, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(5):
        Image.fromarray(_disc_image(i)).save(folder / f"img{i}.png")
    (folder / "broken.png").write_bytes(b"this is not a PNG")
    return folder


def _rows(out_dir):
    with open(out_dir / "summary.csv", newline="") as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def _masks(out_dir):
    return {p.name: np.asarray(Image.open(p)) for p in sorted(out_dir.glob("*_mask.png"))}


def test_in_process_run_writes_outputs_and_a_summary_and_survives_a_bad_file(photos, tmp_path):
    out = tmp_path / "out"
    report = run("boundary_aware", str(photos / "*.png"), out, progress=False)
    rows = _rows(out)
    assert set(rows) == {f"img{i}" for i in range(5)} | {"broken"}
    assert rows["broken"]["status"] == "error" and "broken.png" in rows["broken"]["message"]
    for i in range(5):
        assert rows[f"img{i}"]["status"] == "ok"
        mask = np.asarray(Image.open(out / f"img{i}_mask.png"))
        assert mask.shape == (96, 128) and set(np.unique(mask)) <= {0, 255}
        assert float(rows[f"img{i}"]["value"]) == pytest.approx((mask > 0).mean(), abs=1e-5)
    assert report.count("ok") == 5 and report.count("error") == 1
    assert not list(out.glob(".*tmp"))  # no temporary files left


def test_resume_skips_done_images_and_redoes_missing_or_corrupt_ones(photos, tmp_path):
    out = tmp_path / "out"
    run("boundary_aware", photos, out, progress=False)
    first = _masks(out)
    (out / "img1_mask.png").unlink()
    (out / "img2_mask.png").write_bytes(b"half a fi")  # a corrupt output counts as missing
    report = run("boundary_aware", photos, out, progress=False)
    rows = _rows(out)
    assert [rows[f"img{i}"]["status"] for i in range(5)] == ["skipped", "ok", "ok", "skipped", "skipped"]
    assert rows["img0"]["value"] != ""  # the skipped row keeps the number of the run that made it
    assert rows["broken"]["status"] == "error"  # failed images are tried again
    assert report.count("skipped") == 3
    for name, mask in _masks(out).items():
        np.testing.assert_array_equal(mask, first[name])


def test_box_mode_reads_boxes_from_csv_and_json(photos, tmp_path):
    csv_path = tmp_path / "boxes.csv"
    csv_path.write_text("name,x0,y0,x1,y1\nimg0,30,20,110,90\nimg3.png,10,10,60,60\n")
    assert read_boxes(csv_path) == {"img0": (30.0, 20.0, 110.0, 90.0), "img3": (10.0, 10.0, 60.0, 60.0)}
    json_path = tmp_path / "boxes.json"
    json_path.write_text('{"img0": [30, 20, 110, 90]}')
    assert read_boxes(json_path) == {"img0": (30.0, 20.0, 110.0, 90.0)}
    out = tmp_path / "out"
    run("boundary_aware", [photos / "img0.png", photos / "img3.png"], out, boxes=csv_path, progress=False)
    mask3 = np.asarray(Image.open(out / "img3_mask.png")) > 0
    assert not mask3[:, 60:].any() and not mask3[60:].any()  # nothing outside its box
    bad = tmp_path / "bad.csv"
    bad.write_text("img0,1,2,3\n")
    with pytest.raises(ValueError, match="line 1"):
        read_boxes(bad)


def test_matting_needs_trimaps_and_a_wrong_size_trimap_is_an_error_row(photos, tmp_path):
    with pytest.raises(ValueError, match="trimaps"):
        run("matting", photos, tmp_path / "o", progress=False)
    trimaps = tmp_path / "trimaps"
    trimaps.mkdir()
    Image.fromarray(np.full((10, 10), 128, np.uint8)).save(trimaps / "img0.png")
    run("matting", [photos / "img0.png", photos / "img1.png"], tmp_path / "o", trimaps=trimaps, progress=False)
    rows = _rows(tmp_path / "o")
    assert rows["img0"]["status"] == "error" and "trimap" in rows["img0"]["message"]
    assert rows["img1"]["status"] == "error" and "img1.png" in rows["img1"]["message"]  # no trimap file


def test_query_and_semantic_pipelines_write_their_maps(photos, tmp_path):
    images = [photos / "img0.png", photos / "img1.png"]
    with pytest.raises(ValueError, match="query="):
        run("query", images, tmp_path / "q", progress=False)
    report = run("query", images, tmp_path / "q", query=str(photos / "img2.png"), query_box=(20, 10, 110, 90),
                 progress=False)
    assert report.count("ok") == 2
    heat = np.asarray(Image.open(tmp_path / "q" / "img0_heat.png"))
    assert heat.shape == (96, 128) and heat.dtype == np.uint8
    assert _rows(tmp_path / "q")["img0"]["message"].startswith("best box ")
    run("semantic", images[:1], tmp_path / "s", progress=False)
    labels = np.asarray(Image.open(tmp_path / "s" / "img0_labels.png"))
    assert labels.shape == (96, 128) and labels.max() < 8


def test_atomic_write_leaves_nothing_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "a_mask.png"

    def explode(self, fp, format=None, **kwargs):
        with open(fp, "wb") as f:
            f.write(b"\x89PNG partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", explode)
    with pytest.raises(KeyboardInterrupt):
        write_png_atomic(target, np.zeros((4, 4), np.uint8))
    assert list(tmp_path.iterdir()) == []
    assert not outputs_complete(tmp_path, "a", ["mask"])


def test_command_line(photos, tmp_path, capsys):
    assert main(["batch", "boundary_aware", str(photos / "img*.png"), "--out", str(tmp_path / "cli")]) == 0
    assert "5 ok" in capsys.readouterr().out
    assert main(["batch", "boundary_aware", str(photos / "*.png"), "--out", str(tmp_path / "cli")]) == 1  # broken.png
    assert main(["batch", "boundary_aware", str(tmp_path / "nothing*.png"), "--out", str(tmp_path / "x")]) == 2


distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local, \
            Client(local) as client:
        yield client


def test_dask_run_matches_in_process_run(photos, tmp_path, cluster):
    run("boundary_aware", photos, tmp_path / "local", progress=False)
    report = run("boundary_aware", photos, tmp_path / "dask", client=cluster, progress=False)
    assert report.dashboard
    local, remote = _masks(tmp_path / "local"), _masks(tmp_path / "dask")
    assert sorted(local) == sorted(remote) and len(local) == 5
    for name in local:
        np.testing.assert_array_equal(local[name], remote[name])
    rows = _rows(tmp_path / "dask")
    assert rows["broken"]["status"] == "error"
    # models were loaded on every worker by the plugin, before any task
    loaded = cluster.run(lambda: sorted(__import__("segwidgets.core.engine", fromlist=["x"]).get_default_engine()._models))
    from segwidgets.batch.runner import PIPELINE_MODELS
    from segwidgets.pipelines.boundary_aware import MODEL_NAMES

    assert PIPELINE_MODELS["boundary_aware"] == MODEL_NAMES  # the runner preloads what the pipeline averages
    assert all({"objectness", "objectness_long", "objectness_edge6"} <= set(models) for models in loaded.values())


def test_a_running_scheduler_by_address(photos, tmp_path, cluster):
    report = run("boundary_aware", [photos / "img0.png"], tmp_path / "addr", address=cluster.scheduler.address,
                 progress=False)
    assert report.count("ok") == 1 and (tmp_path / "addr" / "img0_mask.png").is_file()


def test_a_killed_worker_loses_nothing(tmp_path, cluster):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(16):
        Image.fromarray(_disc_image(100 + i, 192, 256)).save(folder / f"p{i:02d}.png")
    finished = {}
    thread = threading.Thread(target=lambda: finished.setdefault(
        "report", run("boundary_aware", folder, tmp_path / "out", client=cluster, progress=False)))
    thread.start()
    deadline = time.time() + 60
    while time.time() < deadline and not any(cluster.processing().values()):
        time.sleep(0.05)
    busy = [address for address, keys in cluster.processing().items() if keys]
    assert busy, "no worker got a task"
    pid = cluster.run(os.getpid, workers=busy[:1])[busy[0]]
    os.kill(pid, signal.SIGKILL)  # a crash: the nanny restarts the worker, the scheduler reschedules its tasks
    thread.join(timeout=240)
    assert not thread.is_alive()
    report = finished["report"]
    assert report.count("ok") == 16
    assert len(list((tmp_path / "out").glob("*_mask.png"))) == 16
    assert outputs_complete(tmp_path / "out", "p07", ["mask"], (192, 256))
    assert pid not in cluster.run(os.getpid).values()  # that worker really died (and was replaced)
