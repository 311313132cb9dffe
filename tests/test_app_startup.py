"""The window comes up before PyTorch: building and showing the main window imports no torch
(the training worker process imports it, in the background); the training views say
"Loading PyTorch…" until the worker is ready, and Train pressed meanwhile begins once it is.
(How fast: bench/bench_startup.py.)"""
import json
import subprocess
import sys

SCRIPT = r"""
import json, os, sys, tempfile
from pathlib import Path
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from layerlab.app.main_window import MainWindow
tmp = Path(tempfile.mkdtemp())
window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                    autosave_dir=tmp / "autosave")
# What the first paint waits for: no numpy, no pyqtgraph (the views load them right after).
built = {m: m in sys.modules for m in ("numpy", "pyqtgraph", "torch")}
window.show()
app.processEvents()
d = window.dashboard
shown = {"torch": "torch" in sys.modules, "ready": d.project_state.worker.ready,
         "train": d.panel.train_button.text(), "train_enabled": d.panel.train_button.isEnabled(),
         "progress": d.panel.progress.format(), "loss": d.loss_view.empty_text(),
         "worker_pid": d.worker.pid, "pid": os.getpid(), "built": built}
# Train pressed at once (PyTorch still loading, on any machine): it begins when ready.
from layerlab.engine.templates import load_template
project = load_template("digits_cnn")
project.training = {**project.training, "epochs": 1, "device": "cpu"}
project.dataset = {"kind": "digits", "limit": 200}
window.files.load_into(project, None)
shown["queued"] = d.train()
import time
deadline = time.monotonic() + 240
while time.monotonic() < deadline and d.project_state.run.result is None:
    app.processEvents()
    time.sleep(0.01)
shown["result"] = getattr(d.project_state.run.result, "status", None)
shown["torch_after"] = "torch" in sys.modules
d.discard_weights()
window.editor.mark_saved()
window.close()
print(json.dumps(shown))
"""


def test_the_window_shows_before_pytorch_and_its_plotting_libraries():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True, timeout=300)
    shown = json.loads(out.stdout.strip().splitlines()[-1])
    assert shown["torch"] is False                    # the window's process: no torch
    assert shown["built"] == {"numpy": False, "pyqtgraph": False, "torch": False}
    assert shown["worker_pid"] != shown["pid"]        # it is loading in the worker
    if not shown["ready"]:                            # (on a fast machine it may be done)
        assert shown["train"] == "Train (PyTorch loading…)" and shown["train_enabled"]
        assert shown["progress"] == "Loading PyTorch…"
        assert shown["loss"].startswith("Loading PyTorch…")
    assert shown["queued"] and shown["result"] == "finished"   # pressed early: it trained
    assert shown["torch_after"] is False              # and still no torch in this process
