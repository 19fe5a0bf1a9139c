"""Batch throughput: boundary-aware segmentation over a folder, in-process against a local Dask cluster.

Images: the first N images of the test split of each ``seg/`` folder in turn, resized to about
0.25 MP, written once to a temporary folder. Each setting runs ``segwidgets.batch.run`` over
them (automatic mode) into a fresh output folder and is timed after a warm-up batch of 2
images (models loaded, worker processes started; the cluster's start-up is printed apart).
The engine runs 1 torch thread per process (its measured policy); Dask workers are
single-threaded processes. Memory: each process's peak resident set size after its run.

    python benchmarks/bench_batch.py [--data DIR] [--limit N] [--json PATH] [--megapixels 0.25]
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, parser, print_table, write_json  # noqa: E402

from segwidgets.batch import run  # noqa: E402
from segwidgets.data import dataset_folders, list_pairs, split_pairs  # noqa: E402


def write_images(data: Path, count: int, megapixels: float, folder: Path) -> list[Path]:
    """``count`` test-split images, round-robin over the dataset folders, resized to ``megapixels``."""
    per_folder = [split_pairs(list_pairs(f / "images", f / "masks"), "test") for f in dataset_folders(data)]
    chosen = []
    for i in range(count):
        pairs = per_folder[i % len(per_folder)]
        chosen.append(pairs[(i // len(per_folder)) % len(pairs)][0])
    paths = []
    for i, source in enumerate(chosen):
        with Image.open(source) as pil:
            scale = (megapixels * 1e6 / (pil.width * pil.height)) ** 0.5
            image = pil.convert("RGB").resize((round(pil.width * scale), round(pil.height * scale)), Image.BILINEAR)
        path = folder / f"{i:03d}_{source.stem}.png"
        image.save(path)
        paths.append(path)
    return paths


def peak_rss_mb() -> float:
    """This process's peak resident set (``VmHWM``; ``ru_maxrss`` is inherited from the parent of a
    spawned worker, so it cannot tell the workers apart)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(paths, out: Path, **kwargs) -> tuple[float, int]:
    t0 = time.perf_counter()
    report = run("boundary_aware", paths, out, progress=False, **kwargs)
    seconds = time.perf_counter() - t0
    if report.count("error"):
        raise RuntimeError(f"{report.count('error')} images failed: see {out / 'summary.csv'}")
    return seconds, report.count("ok")


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0], SHARED_DATA / "seg")
    p.add_argument("--megapixels", type=float, default=0.25)
    args = p.parse_args(argv)
    count = args.limit or 40
    from distributed import Client, LocalCluster

    rows, figures = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "images").mkdir()
        paths = write_images(args.data, count, args.megapixels, tmp / "images")
        warm = paths[:2]
        print(f"{len(paths)} images at ~{args.megapixels} MP (e.g. {Image.open(paths[0]).size}), boundary-aware, automatic")

        timed(warm, tmp / "warm_local")
        seconds, done = timed(paths, tmp / "local")
        figures["in_process"] = {"images_per_second": done / seconds, "peak_rss_mb": peak_rss_mb()}
        rows.append(["in-process", 1, done / seconds, seconds, "-", f"{peak_rss_mb():.0f}"])

        for workers in (1, 2):
            t0 = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
                    Client(cluster) as client:
                timed(warm, tmp / f"warm_dask{workers}", client=client)
                startup = time.perf_counter() - t0
                seconds, done = timed(paths, tmp / f"dask{workers}", client=client)
                rss = client.run(peak_rss_mb)
            figures[f"dask_{workers}"] = {"images_per_second": done / seconds, "startup_seconds": startup,
                                          "peak_rss_mb_per_worker": sorted(rss.values())}
            rows.append(["Dask local cluster", workers, done / seconds, seconds, f"{startup:.1f}",
                         " / ".join(f"{v:.0f}" for v in sorted(rss.values()))])
    one, two = figures["dask_1"]["images_per_second"], figures["dask_2"]["images_per_second"]
    figures["speedup_2_vs_1_workers"] = two / one
    figures["speedup_2_workers_vs_in_process"] = two / figures["in_process"]["images_per_second"]
    print_table(["setting", "workers", "images / s", "seconds", "start-up + warm-up s", "peak RSS MB (per process)"], rows)
    print(f"\n2 workers vs 1 worker: {two / one:.2f}x; 2 workers vs in-process: "
          f"{figures['speedup_2_workers_vs_in_process']:.2f}x (target: 2 workers >= 1.6x one worker)")
    print("(Dask starts its workers with OMP/MKL/OPENBLAS_NUM_THREADS=1; the in-process run's numpy keeps the "
          "machine's default BLAS threads)")
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
