"""Does the live dashboard keep the GUI responsive and training fast?

    python bench/bench_dashboard.py [--epochs 5] [--repeats 12] [--probe-ms 5] [--views all]

Trains the digits CNN template through the main window's dashboard with every live view open
and visible (loss, filters, feature maps, confusion matrix, gradients, predict — each in its
own floating dock, so none skips drawing), offscreen. Meanwhile a QTimer probe fires every
``--probe-ms`` ms and records how late each tick is: the GUI event loop's stall. The headless
Trainer (no observers, same torch thread count as the dashboard's worker) trains the same
budget in the same process, in interleaved pairs (alternately headless first and dashboard
first) so that the load of a shared machine hits both runs of a pair alike; the ratio is the
median of the pairs' ratios, with a bootstrap 95 % confidence interval.
samples/s are the engine's (RunResult.samples_per_s: training samples over active wall time,
validation included).

Targets (2-core CPU): stall p99 ≤ 33 ms, max ≤ 100 ms; GUI samples/s ≥ 0.9 × headless.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class StallProbe:
    """A precise timer every ``interval`` ms; lateness = gap between ticks − interval."""

    def __init__(self, interval_ms: int) -> None:
        self.interval = interval_ms
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.late: list[float] = []
        self._last: float | None = None

    def start(self) -> None:
        self.late.clear()
        self._last = None
        self.clock.start()
        if self.interval > 0:
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        if self._last is not None:
            self.late.append(max(0.0, now - self._last - self.interval))
        self._last = now


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def bootstrap_ci(values: list[float], level: float = 0.95, draws: int = 10_000
                 ) -> tuple[float, float]:
    """A bootstrap confidence interval of the median: on a shared machine single pairs
    scatter by ±20 %, so the median alone says little without how sure it is."""
    import numpy as np
    rng = np.random.default_rng(0)
    samples = rng.choice(np.asarray(values), size=(draws, len(values)), replace=True)
    medians = np.median(samples, axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(medians, tail)), float(np.quantile(medians, 1 - tail))


def headless(epochs: int) -> float:
    from layerlab.app.dashboard.training.worker import limit_torch_threads
    from layerlab.engine.templates import load_template
    from layerlab.engine.training import Trainer
    limit_torch_threads()
    project = load_template("digits_cnn")
    trainer = Trainer.from_project(project, epochs=epochs, device="cpu")
    result = trainer.run()
    assert result.status == "finished", result.message
    return result.samples_per_s


def open_every_view(window) -> None:
    """Float every dashboard dock side by side so all of them are visible and draw."""
    d = window.dashboard
    for i, key in enumerate(("loss", "filters", "features", "confusion", "gradients",
                             "predict")):
        dock = d.docks[key]
        dock.setFloating(True)
        dock.resize(420, 320)
        dock.move(40 + (i % 3) * 430, 40 + (i // 3) * 340)
        dock.show()
    d.predict_panel.canvas.stroke([(40, 30), (120, 30), (75, 135)])  # predictions run too


def gui_run(app, window, probe: StallProbe, epochs: int) -> tuple[float, dict]:
    d = window.dashboard
    d.doc.project.training["epochs"] = epochs
    results = []
    loop = QEventLoop()

    def check() -> None:
        if results and d.state == "idle":
            loop.quit()

    def ended(result) -> None:            # after the dashboard's own slot (connected first)
        results.append(result)
        QTimer.singleShot(0, check)
    d.worker.runEnded.connect(ended, Qt.ConnectionType.QueuedConnection)
    done = QTimer()                       # a slow fallback poll: no wake-ups of our own
    done.timeout.connect(check)           # while training (they would cost it speed)
    done.start(250)
    probe.start()
    redraws_before = _redraws(d)
    wall, cpu = time.perf_counter(), time.thread_time()
    assert d.train()
    loop.exec()
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    probe.stop()
    done.stop()
    d.worker.runEnded.disconnect(ended)
    result = results[-1]
    assert result is not None and result.status == "finished", result
    stats = {"views_visible": sum(v.isVisible() for v in (
        d.loss_view, d.filters_view, d.feature_view, d.confusion_view, d.gradients_view,
        d.predict_panel)), "redraws": _redraws(d) - redraws_before,
        "val_acc": result.history[-1].val_acc, "gui_cpu": cpu / wall,
        "curve_hz": d.budget.drawn["curves"] / wall,
        "image_hz": sum(n for k, n in d.budget.drawn.items() if k.startswith("image"))
        / wall / len(d.image_views)}
    return result.samples_per_s, stats


def _redraws(d) -> int:
    from layerlab.app.dashboard import threads
    return threads.CALLS["count"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs per run (the template's budget)")
    parser.add_argument("--repeats", type=int, default=8, help="pairs of runs")
    parser.add_argument("--probe-ms", type=int, default=5,
                        help="stall probe interval; 0: no probe (its 200 wake-ups a second "
                             "cost training speed too: see how much)")
    parser.add_argument("--share", type=float, default=None,
                        help="override the dashboard's frame budget (share of a core)")
    parser.add_argument("--frozen", action="store_true",
                        help="diagnosis: views visible but never redrawn while training")
    parser.add_argument("--views", default="all",
                        help="all (default), none (every dashboard dock closed: the cost of "
                             "the machinery alone — observers, snapshots, signals), or one "
                             "dock's key (loss, filters, features, confusion, gradients, "
                             "predict) to see what one view costs")
    parser.add_argument("--verbose", action="store_true", help="print every pair")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from layerlab.app.main_window import MainWindow
    from layerlab.engine.templates import load_template
    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                        autosave_dir=tmp / "autosave", autosave_interval_s=3600)
    window.resize(1440, 900)
    window.show()
    project = load_template("digits_cnn")
    project.training = {**project.training, "device": "cpu"}
    window.files.load_into(project, None)
    if args.share is not None:
        window.dashboard.budget.share = args.share
    if args.frozen:
        window.dashboard.budget.share = 0.0
        window.dashboard.budget.max_frame_s = 1e9
    if args.views == "all":
        open_every_view(window)
    else:
        for key, dock in window.dashboard.docks.items():
            dock.setVisible(key == args.views)
            if key == args.views:
                dock.setFloating(True)
                dock.resize(420, 320)
    app.processEvents()
    probe = StallProbe(args.probe_ms)

    headless(1)                                   # warm-up: imports, allocator, dataset
    gui_run(app, window, probe, 1)
    gui_rates, head_rates, ratios, lateness, runs = [], [], [], [], []
    for i in range(args.repeats):                 # interleaved pairs: a slow moment of the
        if i % 2 == 0:                            # machine hits both runs of a pair; the
            head_rate = headless(args.epochs)     # order alternates, so a drift favours
            rate, stats = gui_run(app, window, probe, args.epochs)   # neither side
        else:
            rate, stats = gui_run(app, window, probe, args.epochs)
            head_rate = headless(args.epochs)
        head_rates.append(head_rate)
        gui_rates.append(rate)
        ratios.append(rate / head_rate)
        if args.verbose:
            print(f"  pair {len(ratios)}: headless {head_rates[-1]:,.0f}, dashboard {rate:,.0f} "
                  f"samples/s, ratio {ratios[-1]:.3f}", flush=True)
        lateness.extend(probe.late)
        runs.append(stats)

    gui, head = statistics.median(gui_rates), statistics.median(head_rates)
    mean = lambda key: statistics.fmean(r[key] for r in runs)  # noqa: E731
    print(f"digits_cnn, {args.repeats} pairs of {args.epochs}-epoch runs (headless and "
          f"dashboard, alternating which goes first), CPU, {os.cpu_count()} cores, torch threads in the worker: "
          f"{__import__('torch').get_num_threads()}")
    print(f"views open and visible: {runs[-1]['views_visible']}/6 (--views {args.views}); "
          f"validation accuracy {100 * runs[-1]['val_acc']:.1f} %")
    print(f"GUI thread CPU while training: {100 * mean('gui_cpu'):.0f} % of a core; curves "
          f"redrawn at {mean('curve_hz'):.1f} Hz, each image view at {mean('image_hz'):.1f} Hz "
          f"(frame budget {100 * window.dashboard.budget.share:.0f} % of a core)")
    if lateness:
        print(f"GUI stall (QTimer every {args.probe_ms} ms, {len(lateness)} ticks): "
              f"p50 {percentile(lateness, 50):.1f} ms, p99 {percentile(lateness, 99):.1f} ms, "
              f"max {max(lateness):.1f} ms   (targets: p99 ≤ 33, max ≤ 100)")
    print(f"samples/s (medians): dashboard {gui:,.0f}, headless {head:,.0f}")
    lo, hi = bootstrap_ci(ratios)
    print(f"ratio dashboard / headless: median of pairs {statistics.median(ratios):.3f} "
          f"(95 % CI {lo:.3f} … {hi:.3f}; pairs {min(ratios):.2f} … {max(ratios):.2f}), "
          f"of medians {gui / head:.3f}   (target ≥ 0.90)")
    window.editor.mark_saved()
    window.close()
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main()
    print(f"bench took {time.perf_counter() - t0:.0f} s")
    sys.exit(code)
