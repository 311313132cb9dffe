"""What goes wrong is shown as a message with what to do (the engine's words, no traceback),
training does not start on bad input, nothing is lost — and a training process that dies
(killed, out of memory) is reported while the last good weights are kept."""
from __future__ import annotations

import os
import signal

import pytest

from layerlab.app.dashboard.settings_commands import replace_section, set_setting
from layerlab.engine.templates import load_template

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, wait_idle,  # noqa: F401
                               wait_ready)


def _start_and_fail(qtbot, d) -> str:
    assert d.train()
    qtbot.waitUntil(lambda: d.state == "idle", timeout=WAIT_MS)
    wait_idle(qtbot, d)
    assert d.project_state.run.info is None            # training never began
    assert d.doc.lock_reason is None                   # and nothing stays locked
    assert d.panel.train_button.isEnabled()
    bar = d.panel.message_bar
    assert bar.isVisible() and bar.kind == "error"
    assert "Traceback" not in bar.message()
    return bar.message()


def test_missing_csv_shows_the_message_and_does_not_train(qtbot, dash, tmp_path):
    d = dash
    missing = tmp_path / "nowhere.csv"
    replace_section(d.editor, d.notifier, "dataset",
                    {"kind": "csv", "path": str(missing), "target": "y"}, "Use a CSV")
    message = _start_and_fail(qtbot, d)
    assert "cannot start" in message.lower()
    assert "not found" in message and "nowhere.csv" in message
    assert d.session is None or d.session.step == 0
    # the panel says so without pressing Train, too: the worker describes the dataset
    qtbot.waitUntil(lambda: (flush(d), "not found" in d.panel.dataset_text.text())[1],
                    timeout=WAIT_MS)


def test_wrong_output_width_says_the_fix(qtbot, dash):
    d = dash
    d.editor.set_param("fc2", "out_features", 5)
    message = _start_and_fail(qtbot, d)
    assert "fc2 gives 5 outputs" in message and "set out_features to 10" in message


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_missing_gpu_is_a_device_message(qtbot, dash):
    d = dash
    set_setting(d.editor, d.notifier, "training", "device", "cuda")
    message = _start_and_fail(qtbot, d)
    assert "device 'cuda' is not available" in message


def test_divergence_stops_with_advice_and_keeps_the_run(qtbot, dash):
    d = dash
    project = load_template("house_mlp")
    project.training = {**project.training, "optimizer": "sgd", "lr": 10.0, "momentum": 0.9,
                        "epochs": 3, "device": "cpu"}
    d.window.files.load_into(project, None)
    assert d.train()
    qtbot.waitUntil(lambda: d.state == "idle" and d.project_state.run.result is not None,
                    timeout=WAIT_MS)
    wait_idle(qtbot, d)
    assert d.project_state.run.result.status == "diverged"
    bar = d.panel.message_bar
    assert bar.kind == "error" and "blew up" in bar.message()
    assert "try lr 1" in bar.message()                 # the engine's suggestion, as is
    assert d.doc.lock_reason is None
    # the Loss view says how the run ended, not "Training…"
    text = d.loss_view.summary.text() if not d.loss_view.body.empty else d.loss_view.empty_text()
    assert "Training…" not in text and "iverged" in text
    # nothing lost: the session keeps its position, so a lower lr can resume it
    assert d.session is not None and d.session.step > 0
    assert d.can_resume()
    d.panel.lr.setValue(0.001)
    assert d.resume()
    qtbot.waitUntil(lambda: d.state == "idle" and d.project_state.run.result is not None
                    and d.project_state.run.result.status != "diverged", timeout=WAIT_MS)
    assert d.project_state.run.result.status == "finished"


def test_a_killed_training_process_is_reported_and_the_last_weights_kept(qtbot, dash):
    """Journey: the training process dies mid-run (SIGKILL: what the out-of-memory killer
    sends) → the window says so, keeps working, and keeps the weights of the last epoch."""
    d = dash
    d.doc.project.training["epochs"] = 500
    d.doc.project.dataset = {"kind": "digits", "limit": 400}
    assert d.train()
    # the first epoch's end puts the weights in the rescue folder
    qtbot.waitUntil(lambda: d.project_state.weights.rescued is not None, timeout=WAIT_MS)
    rescued = d.project_state.weights.rescued
    old_pid = d.worker.pid
    os.kill(old_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: d.state == "idle" and d.worker is not None
                    and d.worker.pid != old_pid, timeout=WAIT_MS)
    flush(d)
    bar = d.panel.message_bar
    assert bar.kind == "error" and "training process" in bar.message().lower()
    assert "SIGKILL" in bar.message()
    assert "Traceback" not in bar.message()
    assert d.project_state.run.outcome == "crashed"
    assert d.doc.lock_reason is None                  # editing works again at once
    assert d.editor.delete(["dropout"]) and d.editor.undo()
    # a new worker takes over with the rescued weights: Predict and Resume work again
    wait_ready(qtbot, d)
    qtbot.waitUntil(lambda: d.session is not None and d.idle, timeout=WAIT_MS)
    assert d.session.step == rescued.step and d.session.epoch == rescued.epoch >= 1
    assert d.can_resume() and d.project_state.weights.unsaved
    assert d.window.isWindowModified()


def test_a_worker_that_cannot_start_is_reported_and_not_restarted_forever(qtbot, tmp_path,
                                                                          dialogs, monkeypatch):
    import sys

    from layerlab.engine.service import process

    from app_helpers import make_window
    monkeypatch.setattr(process, "_command",
                        lambda: [sys.executable, "-c", "import sys; sys.exit(3)"])
    monkeypatch.setattr(process, "_idle", [])        # no warm worker left to reuse
    window = make_window(tmp_path, qtbot)
    d = window.dashboard
    qtbot.waitUntil(lambda: d.binding.worker is None, timeout=WAIT_MS)
    flush(d)
    message = d.panel.message_bar.message()
    assert "cannot start" in message and "exited with code 3" in message
    assert "editing works" in message
    assert not d.train() and d.state == "idle"
    assert d.editor.add_node("Input", (0, 0))         # the editor is unaffected
    window.editor.mark_saved()


def test_stop_always_stops_a_hung_training_process(qtbot, dash, monkeypatch):
    """A run that does not reach its next batch boundary after Stop (here: the process is
    frozen with SIGSTOP) is ended after the grace period; the last good weights are kept."""
    from layerlab.app.dashboard.training import run_control
    d = dash
    d.doc.project.training["epochs"] = 500
    d.doc.project.dataset = {"kind": "digits", "limit": 400}
    assert d.train()
    qtbot.waitUntil(lambda: d.project_state.weights.rescued is not None, timeout=WAIT_MS)
    hung = d.worker.pid
    os.kill(hung, signal.SIGSTOP)                     # it will never see the Stop
    monkeypatch.setattr(run_control, "STOP_GRACE_S", 0.5)
    d.stop()
    assert d.state == "stopping"
    qtbot.waitUntil(lambda: d.state == "idle" and d.worker is not None
                    and d.worker.pid != hung, timeout=WAIT_MS)
    flush(d)
    message = d.panel.message_bar.message()
    assert "Stop did not take effect within 0.5 s" in message
    assert "were kept" in message
    wait_ready(qtbot, d)
    qtbot.waitUntil(lambda: d.session is not None and d.idle, timeout=WAIT_MS)
    assert d.can_resume()
