"""How soon is the window there? LayerLab's main window against a bare PySide6 + pyqtgraph
window, started the same way in the same run (issue 10: ≤ 1.5 ×).

    python bench/bench_startup.py [--repeats 8]

Each start is a new interpreter (``python -c``) that builds its window, shows it and prints
when the window's central widget first paints, then when the dashboard's views in front are
built (LayerLab paints its window first and fills the docks right after: pyqtgraph and the
views load then); the times are from launching the process to those lines —
interpreter start and imports included, as a person waiting for the window sees it. Bare
and LayerLab starts alternate (which goes first alternates too), so a busy moment of a
shared machine hits both; the ratio is the median of the pairs' ratios. LayerLab's window
also starts its training worker (which imports PyTorch in its own process, meanwhile); the
line reports whether the window's process imported torch (it must not).

Offscreen unless QT_QPA_PLATFORM or DISPLAY says otherwise (under Xvfb: ``DISPLAY=:54``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMON = r"""
import os, sys, json, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
"""
BARE = COMMON + r"""
import pyqtgraph as pg
from PySide6.QtWidgets import QMainWindow
window = QMainWindow()
window.setCentralWidget(pg.PlotWidget())
window.resize(1440, 900)
"""
LAYERLAB = COMMON + r"""
from pathlib import Path
from PySide6.QtCore import QSettings
from layerlab.app.main_window import MainWindow
tmp = Path(sys.argv[1])
window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                    autosave_dir=tmp / "autosave")
"""
SHOWN = r"""
from PySide6.QtCore import QEvent, QObject
t0 = time.perf_counter()
def filled():
    # LayerLab's dashboard fills its docks right after the first paint: when the views in
    # front are built (a bare window has nothing more to come).
    dashboard = getattr(window, "dashboard", None)
    if dashboard is None:
        return True
    return all(view.built for key, view in dashboard.views.items()
               if not dashboard.docks[key].visibleRegion().isEmpty())
def report_filled():
    if filled():
        print(json.dumps({"filled": time.perf_counter() - t0}), flush=True)
        os._exit(0)
    QTimer.singleShot(1, report_filled)
class FirstPaint(QObject):
    # The window is there when it has painted itself once (its central widget included).
    def eventFilter(self, obj, event):
        central = window.centralWidget()
        if event.type() == QEvent.Type.Paint and obj in (central, central.viewport()):
            app.removeEventFilter(self)
            print(json.dumps({"torch": "torch" in sys.modules,
                              "painted": time.perf_counter() - t0}), flush=True)
            QTimer.singleShot(0, report_filled)
        return False
first = FirstPaint()
app.installEventFilter(first)     # before show(): the first paint may happen inside it
window.show()
app.exec()
"""


def start(script: str) -> tuple[float, float, dict]:
    """(seconds to the first paint, seconds until the docks are filled, what it said)."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", script + SHOWN, tmp],
                                stdout=subprocess.PIPE, text=True)
        painted = json.loads(proc.stdout.readline())
        elapsed = time.perf_counter() - t0
        filled = json.loads(proc.stdout.readline())
        proc.wait(60)
    return elapsed, elapsed + filled["filled"] - painted["painted"], painted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8, help="pairs of starts")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    start(BARE)                                     # warm the disk cache for both
    start(LAYERLAB)
    bare, ours, filled, ratios, filled_ratios, torch_seen = [], [], [], [], [], False
    for i in range(args.repeats):
        for script in ((BARE, LAYERLAB) if i % 2 == 0 else (LAYERLAB, BARE)):
            painted, full, info = start(script)
            if script is BARE:
                bare.append(painted)
            else:
                ours.append(painted)
                filled.append(full)
                torch_seen |= info["torch"]
        ratios.append(ours[-1] / bare[-1])
        filled_ratios.append(filled[-1] / bare[-1])
    platform = os.environ.get("QT_QPA_PLATFORM") or f"xcb on {os.environ.get('DISPLAY')}"
    span = lambda xs: f"median {statistics.median(xs):.2f} s ({min(xs):.2f} … {max(xs):.2f})"  # noqa: E731
    print(f"{args.repeats} pairs of starts, {platform}, {os.cpu_count()} cores")
    print(f"bare PySide6 + pyqtgraph window, painted:   {span(bare)}")
    print(f"LayerLab main window, painted:              {span(ours)}; torch imported in the "
          f"window's process: {'YES' if torch_seen else 'no'}")
    print(f"LayerLab, the training views in front built: {span(filled)}")
    print(f"ratio LayerLab / bare, window painted: median of pairs "
          f"{statistics.median(ratios):.2f} (pairs {min(ratios):.2f} … {max(ratios):.2f})   "
          f"(target ≤ 1.5)")
    print(f"ratio LayerLab / bare, views filled:   median of pairs "
          f"{statistics.median(filled_ratios):.2f} (pairs {min(filled_ratios):.2f} … "
          f"{max(filled_ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
