"""CPU thread policy of the engine: the networks at 1 and 2 torch intra-op threads, on a quiet
machine and with another process keeping one core busy.

For each shipped network (objectness on its 224 px crop, the click network on a
zoomed 224 px crop with its click planes) and for a whole click at 0.5 MP
(network + graph cut), the engine runs every image ``--repeats`` times with
``Engine(cpu_threads=N)``; "busy" starts a second process that spins on one core
for the duration (a user's laptop doing something else). Prints the median and
90th-percentile milliseconds, the 2-thread / 1-thread ratio per load, and the
thread count that is fastest in the worst case (the engine's default,
``core.device.DEFAULT_CPU_THREADS``).

    python benchmarks/bench_threads.py [--data DIR] [--limit N] [--repeats R] [--json PATH]
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, load_resized, parser, print_table, write_json  # noqa: E402

from segwidgets.core.click_simulation import first_click  # noqa: E402
from segwidgets.core.crops import CropWindow  # noqa: E402
from segwidgets.core.engine import Engine  # noqa: E402
from segwidgets.data import list_pairs  # noqa: E402
from segwidgets.pipelines.click import ClickPredictor  # noqa: E402

THREADS = (1, 2)
LOADS = ("quiet", "busy")


def spin(stop) -> None:
    """Keep one core busy until ``stop`` is set (what another program on a laptop does)."""
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


class Busy:
    """A second process spinning on one core while the block runs (no-op for "quiet")."""

    def __init__(self, load: str):
        self.load = load

    def __enter__(self):
        if self.load == "busy":
            self.stop = multiprocessing.Event()
            self.process = multiprocessing.Process(target=spin, args=(self.stop,), daemon=True)
            self.process.start()
            time.sleep(0.5)  # let it reach full speed
        return self

    def __exit__(self, *exc):
        if self.load == "busy":
            self.stop.set()
            self.process.join(5)


def workloads(engine: Engine, samples):
    """name -> callable(sample) running one inference as the pipelines do."""
    predictor = ClickPredictor(engine)

    def objectness(sample):
        image, target, window = sample
        engine.infer("objectness", image, window)

    def click_network(sample):
        image, target, window = sample
        click = first_click(target)
        engine.infer("click", image, window, positive_clicks=[click.centre], negative_clicks=None,
                     previous_mask=target)

    def click_pipeline(sample):
        image, target, _ = sample
        predictor.set_image(image)
        predictor.predict([first_click(target)])

    return {"objectness net, 224 px crop": objectness, "click net, 224 px crop": click_network,
            "click, network + graph cut, 0.5 MP": click_pipeline}


def main(argv=None):
    p = parser(__doc__.splitlines()[0], SHARED_DATA / "interactive" / "davis345")
    p.set_defaults(limit=5)
    p.add_argument("--repeats", type=int, default=6, help="runs per image and setting")
    args = p.parse_args(argv)
    samples = []
    for image_path, mask_path in list_pairs(args.data / "images", args.data / "masks", args.limit):
        image, target, _ = load_resized(image_path, mask_path)
        if target.any():
            ys, xs = np.nonzero(target)
            box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            samples.append((image, target, CropWindow.square(box, image.shape[:2], 224, scale=1.4)))
    times, names = {}, []
    for load in LOADS:
        for threads in THREADS:
            engine = Engine("cpu", cpu_threads=threads)
            runs = workloads(engine, samples)
            names = list(runs)
            for run in runs.values():  # load the weights and warm up outside the timed loop
                run(samples[0])
            with Busy(load):
                for name, run in runs.items():
                    t = []
                    for sample in samples:
                        for _ in range(args.repeats):
                            start = time.perf_counter()
                            run(sample)
                            t.append(time.perf_counter() - start)
                    times[(name, load, threads)] = np.array(t) * 1000
            print(f"  {load}, {threads} thread(s) done", flush=True)
    rows, figures = [], {"cores": os.cpu_count(), "images": len(samples), "repeats": args.repeats}
    for name in names:
        for load in LOADS:
            medians = {t: float(np.median(times[(name, load, t)])) for t in THREADS}
            for t in THREADS:
                ms = times[(name, load, t)]
                rows.append([name, load, t, float(np.median(ms)), float(np.percentile(ms, 90)),
                             medians[t] / medians[1]])
                figures[f"{name}/{load}/{t}"] = {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90))}
    print(f"\n{len(samples)} DAVIS images at 0.5 MP, {args.repeats} runs each, {os.cpu_count()} cores; "
          "busy = a second process spinning on one core")
    print_table(["workload", "load", "threads", "median ms", "p90 ms", "median / 1 thread"], rows)
    # The default: the thread count whose slowest (busy) median is best, summed over the workloads.
    worst = {t: sum(max(np.median(times[(n, load, t)]) for load in LOADS) for n in names) for t in THREADS}
    best = min(worst, key=worst.get)
    figures["recommended_threads"] = best
    print("\nworst-case (busy) total median: " + ", ".join(f"{t} thread(s) {worst[t]:.0f} ms" for t in THREADS)
          + f"; recommended default: {best}")
    write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
