"""engine/ is a plain library: importing all of it pulls in no Qt and no pyqtgraph."""
import json
import subprocess
import sys

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy", "superqt")

SCRIPT = """
import importlib, json, pkgutil, sys
import layerlab.engine as engine
names = []
for info in pkgutil.walk_packages(engine.__path__, "layerlab.engine."):
    if info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)
    names.append(info.name)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


def test_engine_imports_no_qt():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "layerlab.engine.builder" in result["imported"]  # the walk really covered the engine
    leaked = [m for m in result["modules"] if m.split(".")[0] in FORBIDDEN]
    assert leaked == []
