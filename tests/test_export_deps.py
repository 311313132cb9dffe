"""Without the optional `layerlab[export]` packages, ONNX export / import / checking say which
package is missing and how to install the extra, instead of a bare ImportError traceback.
The missing package is simulated with sys.modules[name] = None."""
import sys

import pytest

from layerlab.engine.cli import main
from layerlab.engine.export import (EXTRA_HINT, MissingDependencyError, OnnxImportError,
                                    export_onnx, export_pytorch, import_onnx)
from layerlab.engine.export.onnx_export import verify_onnx
from layerlab.engine.templates import load_template

HINT = 'pip install "layerlab[export]"'


def test_the_hint_names_the_extra():
    assert EXTRA_HINT == HINT


@pytest.mark.parametrize("package", ["onnx", "onnxscript"])
def test_onnx_export_names_the_missing_package(monkeypatch, tmp_path, package):
    monkeypatch.setitem(sys.modules, package, None)
    with pytest.raises(MissingDependencyError) as err:
        export_onnx(load_template("house_mlp"), tmp_path / "m.onnx")
    assert err.value.package == package and isinstance(err.value, ImportError)
    assert f"'{package}' package" in str(err.value) and HINT in str(err.value)
    assert not (tmp_path / "m.onnx").exists()


def test_import_needs_only_onnx(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    path = tmp_path / "m.onnx"
    path.write_bytes(b"")
    with pytest.raises(OnnxImportError, match="m.onnx holds no ONNX graph"):
        import_onnx(path)  # the file's problem, not a missing dependency
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match="ONNX import needs the 'onnx' package"):
        import_onnx(path)


def test_checking_needs_onnxruntime(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingDependencyError, match="onnxruntime"):
        verify_onnx(load_template("house_mlp"), tmp_path / "m.onnx", weights={})


def test_cli_prints_the_hint_and_pytorch_export_still_works(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert main(["export", "house_mlp", "-o", str(tmp_path / "m.onnx")]) == 1
    assert HINT in capsys.readouterr().err
    assert main(["import", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "p.json")]) == 1
    assert HINT in capsys.readouterr().err
    assert export_pytorch(load_template("house_mlp"), tmp_path / "m.py")[0].is_file()
