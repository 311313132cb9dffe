"""File ▸ Export (PyTorch code, ONNX) with the session's trained weights, and File ▸ Import
(an ONNX file, a PyTorch module) as a new, unsaved project — driven through the menu actions,
the work done outside the window's process (the worker, a short-lived import process)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from layerlab.engine.locations import checkpoint_dir, has_checkpoint

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, train_and_wait,  # noqa: F401
                               wait_idle)

pytest.importorskip("onnx")


def _wait_report(qtbot, dialogs, title_start: str) -> dict:
    """The message box an export or import ends with (shown from the event loop)."""
    def found():
        return next((d for d in dialogs.shown if d.get("title", "").startswith(title_start)),
                    None)
    qtbot.waitUntil(lambda: found() is not None, timeout=WAIT_MS)
    return found()


def _safetensors(path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file
    return load_file(str(path))


def test_export_from_the_menu_uses_the_sessions_trained_weights(qtbot, dash, tmp_path,
                                                                dialogs):
    d = dash
    window = d.window
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    step = d.session.step
    assert d.project_state.weights.unsaved           # trained, not saved: the session's

    dialogs.save_path = str(tmp_path / "digits")      # no suffix: the format's is added
    window.act_export_pytorch.trigger()
    shown = _wait_report(qtbot, dialogs, "Exported digits.py")
    assert (f"the trained weights of this session (1 epoch, step {step:,}), not saved yet"
            in shown["info"])
    assert (tmp_path / "digits.py").is_file() and (tmp_path / "digits.pt").is_file()

    dialogs.save_path = str(tmp_path / "digits.onnx")
    window.act_export_onnx.trigger()
    shown = _wait_report(qtbot, dialogs, "Exported digits.onnx")
    assert "not saved yet" in shown["info"] and "10 class names" in shown["info"]

    # The session's weights, as saving the project writes them: the files hold exactly these.
    dialogs.save_path = str(tmp_path / "net.json")
    assert window.files.save_as()
    qtbot.waitUntil(lambda: d.idle and not d.project_state.weights.unsaved, timeout=WAIT_MS)
    session = _safetensors(checkpoint_dir(tmp_path / "net.json") / "weights.safetensors")
    assert set(session) >= {"layers.conv1.weight", "layers.fc2.bias"}

    import onnx
    from onnx import numpy_helper
    stored = {t.name: numpy_helper.to_array(t)
              for t in onnx.load(str(tmp_path / "digits.onnx")).graph.initializer}
    for key, value in session.items():
        np.testing.assert_array_equal(stored[key], value, err_msg=key)

    import torch
    code_weights = torch.load(tmp_path / "digits.pt", weights_only=True)
    assert set(code_weights) == {k[len("layers."):] for k in session}
    for key, value in session.items():
        np.testing.assert_array_equal(code_weights[key[len("layers."):]].numpy(), value)

    # Saved now: an export says where they are saved.
    dialogs.save_path = str(tmp_path / "again.onnx")
    window.act_export_onnx.trigger()
    shown = _wait_report(qtbot, dialogs, "Exported again.onnx")
    assert f"saved in {checkpoint_dir(tmp_path / 'net.json')}" in shown["info"]


def test_export_of_an_untrained_network_asks_first(qtbot, dash, tmp_path, dialogs):
    d = dash
    window = d.window
    assert d.session is None and not has_checkpoint(window.document.path)
    dialogs.save_path = str(tmp_path / "random.onnx")
    dialogs.question_answer = QMessageBox.StandardButton.Cancel
    assert not window.model_files.export("onnx")
    assert "has not been trained yet" in dialogs.texts()
    assert not (tmp_path / "random.onnx").exists()
    dialogs.question_answer = QMessageBox.StandardButton.Yes
    window.act_export_onnx.trigger()
    shown = _wait_report(qtbot, dialogs, "Exported random.onnx")
    assert "random initial weights" in shown["info"]
    assert (tmp_path / "random.onnx").is_file()


def test_an_export_error_names_the_file_and_what_is_wrong(qtbot, dash, tmp_path, dialogs):
    d = dash
    d.editor.set_param("conv1", "kernel_size", [40, 40])        # larger than the input
    flush(d)
    dialogs.question_answer = QMessageBox.StandardButton.Yes
    dialogs.save_path = str(tmp_path / "broken.py")
    d.window.act_export_pytorch.trigger()
    shown = _wait_report(qtbot, dialogs, "Cannot export broken.py")
    assert "conv1" in shown["info"] and "Traceback" not in shown["info"]
    assert not (tmp_path / "broken.py").exists()


# --- import -------------------------------------------------------------------------------------
def _onnx_model(path, middle: list[str]):
    """A tiny ONNX classifier: Conv → <middle ops, one input each> → Flatten → Gemm."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(np.zeros(4, np.float32), "b"),
             numpy_helper.from_array(rng.standard_normal((10, 144)).astype(np.float32), "fw"),
             numpy_helper.from_array(np.zeros(10, np.float32), "fb")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3])]
    last = "c"
    for i, op in enumerate(middle):
        nodes.append(helper.make_node(op, [last], [f"m{i}"], name=f"{op.lower()}_{i}"))
        last = f"m{i}"
    nodes += [helper.make_node("Flatten", [last], ["f"], name="flat", axis=1),
              helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def test_import_onnx_opens_an_unsaved_project_with_its_weights(qtbot, dash, tmp_path, dialogs):
    d = dash
    window = d.window
    window.editor.add_node("ReLU", (0, 300))          # unsaved work: asked about first
    dialogs.answer = QMessageBox.StandardButton.Discard
    dialogs.open_path = str(_onnx_model(tmp_path / "tiny.onnx", ["Relu"]))
    window.act_import_onnx.trigger()
    assert dialogs.shown[0]["title"] == "Unsaved changes"
    shown = _wait_report(qtbot, dialogs, "Imported tiny.onnx")
    assert "opened as a new project (not saved yet)" in shown["info"]
    doc = window.document
    assert doc.path is None and window.isWindowModified()
    types = sorted(n.type for n in doc.graph.nodes.values())
    assert types == ["Conv2d", "Flatten", "Input", "Linear", "ReLU"]
    assert doc.analysis.total_params == 4 * 9 + 4 + 144 * 10 + 10
    # its weights are the session's now: unsaved trained work, which Export uses
    qtbot.waitUntil(lambda: d.session is not None and d.project_state.weights.unsaved,
                    timeout=WAIT_MS)
    assert window.model_files._describe_session().startswith(
        "the weights imported from tiny.onnx")
    wait_idle(qtbot, d)
    message = d.project_state.message
    assert message.title == "Imported weights loaded" and "tiny.onnx" in message.text
    # New, Open and Quit ask about them as imported, not as "trained (0 epochs, step 0)"
    assert d.unsaved_weights().startswith("The weights imported from tiny.onnx are not saved")


def test_import_onnx_names_what_cannot_be_mapped_and_keeps_the_work(qtbot, dash, tmp_path,
                                                                   dialogs):
    d = dash
    window = d.window
    before = window.document.graph.copy()
    dialogs.open_path = str(_onnx_model(tmp_path / "odd.onnx", ["Sin", "Relu", "Cos"]))
    window.act_import_onnx.trigger()
    shown = _wait_report(qtbot, dialogs, "Cannot import odd.onnx")
    text = shown["info"]
    assert "Sin ×1 (sin_0)" in text and "Cos ×1 (cos_2)" in text
    assert "no LayerLab layer" in text and "Traceback" not in text
    assert window.document.graph == before               # nothing replaced
    assert window.model_files.importing is None and window.act_import_onnx.isEnabled()


TORCH_MODULE = '''
import torch.nn as nn


def make_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10))


def broken():
    raise RuntimeError("no network today")
'''


def test_import_a_pytorch_module_says_it_runs_the_code(qtbot, dash, tmp_path, dialogs,
                                                        monkeypatch):
    from layerlab.app.torch_import_dialog import TorchImportDialog
    d = dash
    source = tmp_path / "mynets.py"
    source.write_text(TORCH_MODULE)
    chosen = {"factory": "make_net"}

    def fill(dialog):
        assert "runs the Python code you choose" in dialog.findChild(
            type(dialog.error), "runsCodeWarning").text()
        dialog.source.setText(str(source))
        dialog._list_factories()
        assert [dialog.factory.itemText(i) for i in range(dialog.factory.count())] == \
            ["make_net", "broken"]                    # read from the source, not run
        dialog.factory.setCurrentText(chosen["factory"])
        dialog.shape.setText("1,8,8")
        assert dialog.problem() is None
        return 1
    monkeypatch.setattr(TorchImportDialog, "exec", fill)

    chosen["factory"] = "broken"
    d.window.act_import_torch.trigger()
    shown = _wait_report(qtbot, dialogs, "Cannot import mynets.py:broken")
    assert "RuntimeError: no network today" in shown["info"]
    assert "Traceback" not in shown["info"]

    chosen["factory"] = "make_net"
    d.window.act_import_torch.trigger()
    _wait_report(qtbot, dialogs, "Imported mynets.py:make_net")
    types = sorted(n.type for n in d.window.document.graph.nodes.values())
    assert types == ["Conv2d", "Flatten", "Input", "Linear", "ReLU"]
    assert d.window.document.path is None and d.window.isWindowModified()


# --- the window's process never imports PyTorch ---------------------------------------------------
ROUND_TRIP = r"""
import json, os, sys, tempfile, time
from pathlib import Path
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
app = QApplication([])
from layerlab.app.main_window import MainWindow
tmp = Path(sys.argv[1])
shown = []
QMessageBox.exec = lambda box: shown.append(box.windowTitle() + ": " + box.informativeText()) or 0
QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: (str(tmp / "digits.onnx"), ""))
QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (str(tmp / "digits.onnx"), ""))
window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                    autosave_dir=tmp / "autosave")
window.show()
d = window.dashboard
from layerlab.engine.templates import load_template
project = load_template("digits_cnn")
project.training = {**project.training, "epochs": 1, "device": "cpu"}
project.dataset = {"kind": "digits", "limit": 200}
window.files.load_into(project, None)

def wait(condition, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        app.processEvents()
        time.sleep(0.01)
    return condition()

wait(lambda: d.project_state.worker.ready)
d.train()
wait(lambda: d.project_state.run.result is not None and d.idle)
window.act_export_onnx.trigger()
wait(lambda: any(s.startswith("Exported") for s in shown))
window.editor.mark_saved(); d.discard_weights()
window.act_import_onnx.trigger()
wait(lambda: any(s.startswith("Imported") for s in shown))
wait(lambda: d.session is not None and d.project_state.weights.unsaved)
result = {"shown": shown, "nodes": sorted(window.document.graph.nodes),
          "weights_unsaved": d.project_state.weights.unsaved,
          "torch": "torch" in sys.modules}
window.editor.mark_saved(); d.discard_weights()
window.close()
print(json.dumps(result))
"""


def test_export_and_import_never_import_torch_in_the_window(tmp_path):
    out = subprocess.run([sys.executable, "-c", ROUND_TRIP, str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["torch"] is False
    assert any(s.startswith("Exported digits.onnx") for s in result["shown"])
    # the round trip gives the digits CNN back (Dropout is nothing in ONNX: not imported)
    assert result["nodes"] == ["conv1", "conv2", "fc1", "fc2", "flatten", "input", "pool1",
                               "pool2", "relu1", "relu2", "relu3"]
    assert result["weights_unsaved"] is True


def test_report_lines_read_as_sentences():
    """The export report's lines run together in one box: each ends with a full stop,
    except a bullet and a line ending in a path."""
    from layerlab.app.model_files import _sentence
    assert _sentence("using the trained weights (10 epochs, step 230), not saved yet") == \
        "Using the trained weights (10 epochs, step 230), not saved yet."
    assert _sentence("10 class names are in its metadata") == \
        "10 class names are in its metadata."
    assert _sentence("Already a sentence.") == "Already a sentence."
    assert _sentence("Wrote /tmp/out/net.onnx") == "Wrote /tmp/out/net.onnx"
    assert _sentence("  - conv1: no mapping") == "• conv1: no mapping"
    assert _sentence("") == ""
