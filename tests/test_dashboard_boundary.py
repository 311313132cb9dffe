"""The project state (app/dashboard/state/) is Qt-free and torch-free, and the worker's
protocol (engine/service/) is torch-free on the app's side: importing all of it pulls in
neither — so the state can be tested and driven without a GUI, and the window's process never
loads PyTorch."""
import json
import subprocess
import sys

QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy", "superqt")

SCRIPT = """
import importlib, json, pkgutil, sys
names = []
for package in ("layerlab.app.dashboard.state", "layerlab.engine.service"):
    module = importlib.import_module(package)
    names.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


def _imports() -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_project_state_and_worker_protocol_import_no_qt_and_no_torch():
    result = _imports()
    imported = set(result["imported"])
    # the walk really covered both packages
    assert {"layerlab.app.dashboard.state.project_state", "layerlab.app.dashboard.state.curves",
            "layerlab.engine.service.process", "layerlab.engine.service.handlers"} <= imported
    roots = {m.split(".")[0] for m in result["modules"]}
    assert not roots & set(QT)
    assert "torch" not in roots
