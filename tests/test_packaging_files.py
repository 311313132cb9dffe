"""The installer files are consistent (fast; the real build is tests/test_packaging_smoke.py):
the PyInstaller spec's entry, data and imports, the .desktop file, the icons, the scripts."""
from __future__ import annotations

import ast
import configparser
import importlib.util
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "layerlab.spec"
ICONS = ROOT / "resources" / "icons"


def _small_library() -> str:
    """A real (small) shared library, standing in for libtorch_cpu.so: the spec strips it."""
    libs = sorted((Path(importlib.util.find_spec("torch").origin).parent / "lib").glob(
        "libshm*.so")) if sys.platform.startswith("linux") else []
    return str(libs[0]) if libs else "x"


class _Stub:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT/BUNDLE: records its arguments."""
    calls: list = []

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.binaries = [("torch/lib/libtorchbind_test.so", "x", "BINARY"),
                         ("torch/lib/libtorch_cpu.so", _small_library(), "BINARY"),
                         ("torch/bin/test_jit", "x", "BINARY"),
                         ("torch/bin/torch_shm_manager", "x", "BINARY"),
                         ("PySide6/Qt/plugins/platforms/libqxcb.so", "x", "BINARY"),
                         ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "x", "BINARY")]
        self.datas = list(kwargs.get("datas", []))
        self.pure, self.scripts = [], []
        _Stub.calls.append((type(self).__name__, self))


def _run_spec(tmp_path, monkeypatch, no_excludes: bool = False) -> dict:
    pytest.importorskip("PyInstaller")
    if no_excludes:
        monkeypatch.setenv("LAYERLAB_NO_EXCLUDES", "1")
    else:
        monkeypatch.delenv("LAYERLAB_NO_EXCLUDES", raising=False)
    stubs = {name: type(name, (_Stub,), {}) for name in
             ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    _Stub.calls = []
    namespace = {"__file__": str(SPEC), "SPECPATH": str(PACKAGING), "SPEC": str(SPEC),
                 "workpath": str(tmp_path / "work"), "DISTPATH": str(tmp_path / "dist"),
                 **stubs}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return namespace


def test_spec_is_python_with_the_entry_and_resources():
    text = SPEC.read_text(encoding="utf-8")
    ast.parse(text)
    assert "entry.py" in text and '"layerlab" / "resources"' in text
    for name in ("Analysis(", "EXE(", "COLLECT(", "BUNDLE("):
        assert name in text


def test_spec_collects_resources_digits_and_every_own_module(tmp_path, monkeypatch):
    ns = _run_spec(tmp_path, monkeypatch)
    analysis = ns["a"]
    assert Path(analysis.args[0][0]) == PACKAGING / "entry.py"
    assert analysis.kwargs["pathex"] == [str(tmp_path / "work" / "src")]
    datas = {(Path(src).name, dest) for src, dest in analysis.kwargs["datas"]}
    assert ("digits_cnn.json", "layerlab/resources/templates") in datas
    assert ("house_prices.csv", "layerlab/resources/data") in datas
    assert ("digits.csv.gz", "layerlab/resources/data") in datas
    assert ("layerlab.svg", "layerlab/resources/icons") in datas
    assert not any(src.endswith(".py") for src, _ in analysis.kwargs["datas"])
    hidden = set(analysis.kwargs["hiddenimports"])
    from layerlab.engine.cli import COMMANDS
    assert {module for module, _ in COMMANDS.values()} <= hidden
    assert {"layerlab.engine.training.trainer", "layerlab.engine.train", "layerlab.app.self_test",
            "layerlab.app.launcher", "layerlab.resources"} <= hidden
    assert not any(".__init__" in name or "generate" in name for name in hidden)
    # the sources were staged in the installed layout
    assert (tmp_path / "work" / "src" / "layerlab" / "engine" / "cli.py").is_file()
    assert (tmp_path / "work" / "src" / "layerlab" / "resources" / "templates").is_dir()
    # the console executable is named layerlab; test libraries are filtered out
    exes = [stub for kind, stub in _Stub.calls if kind == "EXE"]
    assert exes[-1].kwargs["name"] == "layerlab" and exes[-1].kwargs["console"] is True
    kept = [name for name, *_ in analysis.binaries]
    if ns["STRIP"]:   # Linux with `strip`: libtorch goes in as a stripped copy
        src = dict((d, s) for d, s, _ in analysis.binaries)["torch/lib/libtorch_cpu.so"]
        assert Path(src) == tmp_path / "work" / "stripped" / "torch" / "lib" / "libtorch_cpu.so"
        assert 0 < Path(src).stat().st_size <= Path(_small_library()).stat().st_size
    assert "torch/lib/libtorchbind_test.so" not in kept and "torch/bin/test_jit" not in kept
    assert {"torch/lib/libtorch_cpu.so", "torch/bin/torch_shm_manager",
            "PySide6/Qt/plugins/platforms/libqxcb.so",
            "PySide6/Qt/plugins/platforms/libqoffscreen.so"} <= set(kept)


def test_spec_excludes_can_be_switched_off(tmp_path, monkeypatch):
    lean = _run_spec(tmp_path, monkeypatch)
    assert {"scipy", "sklearn", "onnx", "tkinter", "PySide6.QtNetwork"} <= set(lean["excludes"])
    full = _run_spec(tmp_path, monkeypatch, no_excludes=True)
    assert full["excludes"] == [] and full["DROP"] == [] and full["STRIP"] == []


# What the app imports at run time (engine and GUI, a real training step) must survive the
# excludes: an excluded module the app needs would only show as a crash in the frozen app.
RUNTIME_SCRIPT = """
import json, os, sys
at_start = set(sys.modules)   # what site-packages .pth files import is not the app's doing
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer
project = load_template("digits_cnn")
project.dataset = {"kind": "digits", "limit": 64}
Trainer.from_project(project, epochs=1, device="cpu").run()
import importlib, pkgutil
import layerlab.app, layerlab.engine
for package in (layerlab.engine, layerlab.app):   # every module of the app, as the bundle has
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
window = layerlab.app.main_window.MainWindow(     # builds every panel, the dashboard's too
    settings=QSettings("settings.ini", QSettings.Format.IniFormat),
    autosave_dir=Path("autosave"))                # (the test runs it in a temporary folder)
window.close()
if getattr(window, "dashboard", None) is not None:
    window.dashboard.shutdown()
print(json.dumps(sorted(set(sys.modules) - at_start)))
"""
#: imported inside try/except ImportError by a dependency, which works without them
OPTIONAL_IMPORTS = {"PySide6.QtTest"}   # pyqtgraph.Qt: only its test helpers need it


def test_excludes_spare_every_module_the_app_imports(tmp_path, monkeypatch):
    ns = _run_spec(tmp_path, monkeypatch)
    out = subprocess.run([sys.executable, "-c", RUNTIME_SCRIPT], capture_output=True,
                         text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    import json
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert "torch.optim" in modules and "layerlab.app.main_window" in modules
    hit = sorted(m for m in set(modules) - OPTIONAL_IMPORTS for ex in ns["excludes"]
                 if m == ex or m.startswith(ex + "."))
    assert hit == [], f"the spec excludes modules the app imports: {hit}"


def test_desktop_file_has_the_required_keys():
    path = PACKAGING / "layerlab.desktop"
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "LayerLab"
    assert entry["Exec"] == "layerlab %f" and entry["Icon"] == "layerlab"
    assert entry["Categories"] == "Education;Science;Development;"
    assert entry["Terminal"] == "false"
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "error" not in result.stdout


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_icons_exist_in_every_form_and_are_packaged():
    assert "<svg" in (ICONS / "layerlab.svg").read_text(encoding="utf-8")
    for size in (256, 128, 48):
        assert _png_size(ICONS / f"layerlab-{size}.png") == (size, size)
    ico = (ICONS / "layerlab.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 4
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes
    icns = (ICONS / "layerlab.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["layerlab.resources"]
    assert {"**/*.svg", "**/*.png", "**/*.ico", "**/*.icns"} <= set(globs)


def test_icon_renders_match_the_svg(tmp_path):
    """render.py is deterministic: re-rendering gives the committed PNG bytes."""
    pytest.importorskip("PySide6.QtSvg")
    spec = importlib.util.spec_from_file_location("_render_icons", ICONS / "render.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    from PySide6.QtGui import QGuiApplication
    assert QGuiApplication.instance() is not None or QGuiApplication([]) is not None
    assert render.render_png(48) == (ICONS / "layerlab-48.png").read_bytes()


@pytest.mark.parametrize("script", ["build.sh", "smoke.sh", "install-linux.sh"])
def test_shell_scripts_parse_and_are_executable(script):
    path = PACKAGING / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_install_script_installs_and_uninstalls_a_built_folder(tmp_path):
    fake = tmp_path / "dist" / "layerlab"
    (fake / "_internal").mkdir(parents=True)
    (fake / "layerlab").write_text("#!/bin/sh\necho frozen\n")
    (fake / "layerlab").chmod(0o755)
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin",
           "XDG_DATA_HOME": str(tmp_path / "home" / "share")}
    run = subprocess.run(["bash", str(PACKAGING / "install-linux.sh"), str(fake)], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    home = tmp_path / "home"
    link = home / ".local" / "bin" / "layerlab"
    assert link.is_symlink() and link.resolve() == home / ".local" / "opt" / "layerlab" / "layerlab"
    desktop = (home / "share" / "applications" / "layerlab.desktop").read_text()
    assert f'Exec="{home}/.local/opt/layerlab/layerlab" %f' in desktop
    assert (home / "share" / "icons" / "hicolor" / "256x256" / "apps" / "layerlab.png").is_file()
    assert (home / "share" / "icons" / "hicolor" / "scalable" / "apps" / "layerlab.svg").is_file()
    assert "not on your PATH" in run.stdout
    gone = subprocess.run(["bash", str(PACKAGING / "install-linux.sh"), "--uninstall"], env=env,
                          capture_output=True, text=True)
    assert gone.returncode == 0, gone.stderr
    assert not link.exists() and not (home / ".local" / "opt" / "layerlab").exists()
    missing = subprocess.run(["bash", str(PACKAGING / "install-linux.sh"), str(tmp_path / "no")],
                             env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "packaging/build.sh" in missing.stderr


def test_entry_runs_python_dash_m_only_when_frozen():
    spec = importlib.util.spec_from_file_location("_layerlab_entry", PACKAGING / "entry.py")
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    assert entry._python_m(["-m", "layerlab.engine.train", "x.json", "--epochs", "2"]) == (
        "layerlab.engine.train", ["x.json", "--epochs", "2"])
    assert entry._python_m(["-u", "-X", "utf8", "-Wignore", "-m", "torch.distributed.run",
                            "--standalone"]) == ("torch.distributed.run", ["--standalone"])
    assert entry._python_m(["train", "digits_cnn"]) is None
    assert entry._python_m(["-m"]) is None
    assert entry._python_m([]) is None
