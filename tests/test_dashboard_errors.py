"""What goes wrong is shown as a message with what to do (the engine's words, no traceback),
training does not start on bad input, and nothing is lost."""
from __future__ import annotations

import pytest

from layerlab.app.dashboard.state.settings_commands import replace_section, set_setting
from layerlab.engine.templates import load_template

from dashboard_helpers import WAIT_MS, dash, dialogs, wait_idle  # noqa: F401


def _start_and_fail(qtbot, d) -> tuple[str, str]:
    started = []
    d.worker.runStarted.connect(lambda info: started.append(info))
    with qtbot.waitSignal(d.worker.failed, timeout=WAIT_MS) as failed:
        assert d.train()
    wait_idle(qtbot, d)
    assert not started                                 # training never began
    assert d.doc.lock_reason is None                   # and nothing stays locked
    assert d.panel.train_button.isEnabled()
    bar = d.panel.message_bar
    assert bar.isVisible() and bar.kind == "error"
    assert "Traceback" not in bar.message()
    return failed.args[0], failed.args[1]


def test_missing_csv_shows_the_message_and_does_not_train(qtbot, dash, tmp_path):
    d = dash
    missing = tmp_path / "nowhere.csv"
    replace_section(d.editor, d.notifier, "dataset",
                    {"kind": "csv", "path": str(missing), "target": "y"}, "Use a CSV")
    title, message = _start_and_fail(qtbot, d)
    assert "cannot start" in title.lower()
    assert "not found" in message and "nowhere.csv" in message
    assert "not found" in d.panel.message_bar.message()
    assert d.session is None or d.session.step == 0


def test_wrong_output_width_says_the_fix(qtbot, dash):
    d = dash
    d.editor.set_param("fc2", "out_features", 5)
    _title, message = _start_and_fail(qtbot, d)
    assert "fc2 gives 5 outputs" in message and "set out_features to 10" in message


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_missing_gpu_is_a_device_message(qtbot, dash):
    d = dash
    set_setting(d.editor, d.notifier, "training", "device", "cuda")
    _title, message = _start_and_fail(qtbot, d)
    assert "device 'cuda' is not available" in message


def test_divergence_stops_with_advice_and_keeps_the_run(qtbot, dash):
    d = dash
    project = load_template("house_mlp")
    project.training = {**project.training, "optimizer": "sgd", "lr": 10.0, "momentum": 0.9,
                        "epochs": 3, "device": "cpu"}
    d.window.files.load_into(project, None)
    with qtbot.waitSignal(d.worker.runEnded, timeout=WAIT_MS) as ended:
        assert d.train()
    assert ended.args[0].status == "diverged"
    wait_idle(qtbot, d)
    bar = d.panel.message_bar
    assert bar.kind == "error" and "blew up" in bar.message()
    assert "try lr 1" in bar.message()                 # the engine's suggestion, as is
    assert d.doc.lock_reason is None
    # nothing lost: the session keeps its position, so a lower lr can resume it
    assert d.session is not None and d.session.step > 0
    assert d.can_resume()
    d.panel.lr.setValue(0.001)
    with qtbot.waitSignal(d.worker.runEnded, timeout=WAIT_MS) as ended:
        assert d.resume()
    assert ended.args[0].status == "finished"
