"""``layerlab --self-test [--epochs N] [--timeout S] [--min-accuracy A]``: prove that an
installed (or frozen) LayerLab really works, without a display.

It starts a QApplication (offscreen unless QT_QPA_PLATFORM says otherwise), opens the main
window with the digits_cnn template, trains it for N epochs on the CPU while the Qt event loop
runs, and prints ONE line of JSON on stdout::

    {"ok": true, "epochs": 1, "val_accuracy": 0.84, "seconds": 3.2, ...}

Exit status 0 on success; 1 when training failed, timed out or learned nothing (validation
accuracy below --min-accuracy); 2 when the app could not start. The window uses a throw-away
settings file and autosave folder, so the user's own settings and recovery files are untouched.

Training goes through the window's training dashboard, as a user's Train click does
(``_train_in_dashboard``: its public ``train()`` action, then the run's end in the project
state), so the frozen app's worker process, snapshots and plots are exercised too. A window
without a dashboard falls back to the engine's Trainer on a worker thread
(``_train_with_engine``). Either way the same JSON and checks follow.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

TEMPLATE = "digits_cnn"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="layerlab --self-test",
                                     description="Open the app offscreen, train the digits "
                                                 "template on the CPU, print a JSON result.")
    parser.add_argument("--epochs", type=int, default=1, help="epochs to train (default 1)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="give up after this many seconds of training (default 600)")
    parser.add_argument("--min-accuracy", type=float, default=0.3,
                        help="fail below this validation accuracy (default 0.3; chance is 0.1)")
    return parser


def _wait(timeout_s: float, done) -> bool:
    """Run a nested Qt event loop until ``done()`` is true (polled every 50 ms); False on
    timeout. The GUI stays live meanwhile, as it is for a user."""
    from PySide6.QtCore import QEventLoop, QTimer
    if done():
        return True
    loop = QEventLoop()
    poll, limit = QTimer(), QTimer()
    poll.timeout.connect(lambda: loop.quit() if done() else None)
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    poll.start(50)
    limit.start(int(timeout_s * 1000))
    loop.exec()
    poll.stop()
    limit.stop()
    return bool(done())


def _summary(result) -> dict:
    last = result.history[-1] if result.history else None
    return {"status": result.status, "message": result.message,
            "epochs": result.epochs_completed,
            "val_accuracy": None if last is None else last.val_acc,
            "train_seconds": round(result.seconds, 3),
            "samples_per_s": round(result.samples_per_s, 1), "device": result.device}


def _train_in_dashboard(window, base_dir: Path, epochs: int, timeout_s: float) -> dict:
    """Press the dashboard's Train action (its worker process trains) and wait for the run's
    end in the project state."""
    dashboard = window.dashboard
    state = dashboard.project_state
    if not _wait(timeout_s, done=lambda: state.worker.ready):
        return {"status": "failed", "message": f"the training worker did not start within "
                                               f"{timeout_s:g} s"}
    if not dashboard.train():
        return {"status": "failed", "message": f"the dashboard did not start training "
                                               f"(state {dashboard.state})"}
    if not _wait(timeout_s, done=lambda: dashboard.state == "idle"):
        dashboard.stop()
        return {"status": "timeout", "message": f"training took over {timeout_s:g} s"}
    if state.run.result is None:
        message = state.message
        return {"status": "failed", "message": (f"{message.title}: {message.text}" if message
                                                else "no run")}
    return _summary(state.run.result)


def _train_with_engine(window, base_dir: Path, epochs: int, timeout_s: float) -> dict:
    """Train the window's project with the engine's Trainer on a worker thread."""
    from layerlab.engine.training import Trainer
    trainer = Trainer.from_project(window.document.project, base_dir, epochs=epochs,
                                   device="cpu")
    trainer.start()
    if not _wait(timeout_s, done=lambda: trainer.result is not None):
        trainer.stop(wait=True, timeout=30)
        return {"status": "timeout", "message": f"training took over {timeout_s:g} s"}
    return _summary(trainer.result)


def _choose_training(window):
    """("dashboard" | "engine", the function that trains)."""
    if getattr(window, "dashboard", None) is not None:
        return "dashboard", _train_in_dashboard
    return "engine", _train_with_engine


def run(args: argparse.Namespace) -> tuple[int, dict]:
    started = time.perf_counter()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from layerlab.engine.templates import load_template, template_path

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "layerlab"])
    report: dict = {"ok": False, "template": TEMPLATE, "epochs": 0, "val_accuracy": None,
                    "frozen": bool(getattr(sys, "frozen", False)),
                    "platform": app.platformName()}
    with tempfile.TemporaryDirectory(prefix="layerlab-self-test-") as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, autosave_dir=Path(tmp) / "autosave")
        try:
            window.show()
            project = load_template(TEMPLATE)
            project.training = {**(project.training or {}), "epochs": args.epochs,
                                "device": "cpu"}
            window.files.load_into(project, None)
            app.processEvents()
            report["layers"] = len(window.scene.node_items)
            if not window.document.analysis.ok or report["layers"] == 0:
                report["error"] = "the template did not load cleanly into the window"
                return 1, report
            report["path"], train = _choose_training(window)
            report.update(train(window, template_path(TEMPLATE).parent, args.epochs,
                                args.timeout))
        finally:
            window.editor.mark_saved()   # nothing to ask about: close without a dialog
            dashboard = getattr(window, "dashboard", None)
            if dashboard is not None:
                dashboard.discard_weights()
            window.close()
            dashboard = getattr(window, "dashboard", None)
            if dashboard is not None:    # also after a timeout: end the worker thread
                dashboard.shutdown()
            window.deleteLater()
            app.processEvents()
    acc = report.get("val_accuracy")
    if report.get("status") != "finished":
        report["error"] = f"training {report.get('status')}: {report.get('message')}"
    elif report["epochs"] != args.epochs:
        report["error"] = f"trained {report['epochs']} of {args.epochs} epochs"
    elif acc is None or not math.isfinite(acc) or acc < args.min_accuracy:
        report["error"] = (f"validation accuracy {acc} is below {args.min_accuracy:g}: "
                           f"the model learned nothing")
    else:
        report["ok"] = True
    report["seconds"] = round(time.perf_counter() - started, 3)
    return (0 if report["ok"] else 1), report


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.epochs < 1 or args.timeout <= 0:
        print("layerlab --self-test: --epochs must be ≥ 1 and --timeout > 0", file=sys.stderr)
        return 2
    try:
        code, report = run(args)
    except Exception as exc:  # noqa: BLE001 — the point is to report any failure, then exit
        traceback.print_exc()
        report = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        code = 2
    print(json.dumps(report), flush=True)
    return code
