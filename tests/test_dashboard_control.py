"""Pause, resume, single steps and stop from the panel's buttons; the lock while training;
the learning rate changing live; settings as undoable project edits (and held by a run)."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from layerlab.app.dashboard.settings_commands import set_setting

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, train_and_wait,  # noqa: F401
                               wait_idle, wait_state)


def _step(d) -> int:
    """The optimizer step the window shows (the newest the worker reported)."""
    run = d.project_state.run
    steps = [s.step for s in (run.progress, run.final) if s is not None]
    return max(steps, default=0)


def test_pause_step_resume_stop(qtbot, dash, dialogs):
    d = dash
    p = d.panel
    d.doc.project.training["epochs"] = 200            # far more than the test waits for
    assert p.train_button.isEnabled() and not p.pause_button.isEnabled()
    p.train_button.click()
    wait_state(qtbot, d, "running")
    flush(d)
    assert not p.train_button.isEnabled() and p.stop_button.isEnabled()
    assert not p.batch_size.isEnabled() and p.lr.isEnabled()   # only lr is live

    p.pause_button.click()
    wait_state(qtbot, d, "paused")
    flush(d)
    assert p.pause_button.text() == "Resume"
    assert d.doc.lock_reason == "Training is paused"
    parked_at = d.project_state.run.final.step

    p.step_button.click()                             # exactly one batch, then parked again
    qtbot.waitUntil(lambda: d.project_state.run.final.step == parked_at + 1
                    and d.project_state.run.final.state == "paused", timeout=WAIT_MS)
    assert d.state == "paused"

    p.pause_button.click()                            # "Resume"
    wait_state(qtbot, d, "running")
    qtbot.waitUntil(lambda: _step(d) > parked_at + 3, timeout=WAIT_MS)

    p.stop_button.click()
    qtbot.waitUntil(lambda: d.state == "idle", timeout=WAIT_MS)
    wait_idle(qtbot, d)
    result = d.project_state.run.result
    assert result.status == "stopped" and result.steps == d.session.step
    assert d.doc.lock_reason is None
    assert p.train_button.isEnabled() and p.resume_button.isEnabled()
    assert "stopped" in p.message_bar.message().lower()

    # Resume training continues from the same step (the optimizer and position are kept)
    stopped_at = d.session.step
    p.resume_button.click()
    qtbot.waitUntil(lambda: d.project_state.run.info is not None, timeout=WAIT_MS)
    assert d.project_state.run.info.start_step == stopped_at
    qtbot.waitUntil(lambda: _step(d) > stopped_at, timeout=WAIT_MS)
    d.stop()
    wait_idle(qtbot, d)


def test_step_from_idle_trains_one_batch_then_waits(qtbot, dash):
    d = dash
    assert d.step()
    wait_state(qtbot, d, "paused")
    qtbot.waitUntil(lambda: d.project_state.run.final is not None
                    and d.project_state.run.final.state == "paused", timeout=WAIT_MS)
    assert d.project_state.run.final.step == 1
    d.stop()
    wait_idle(qtbot, d)
    assert d.session.step == 1


def test_structure_locked_and_lr_live_while_training(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 200
    assert d.train()
    wait_state(qtbot, d, "running")
    nodes = len(d.doc.graph.nodes)
    assert not d.editor.delete(["relu1"])             # refused, with the reason
    assert "Training" in (d.editor.last_refusal or "")
    assert len(d.doc.graph.nodes) == nodes
    assert d.window.lock_label.isVisible() or d.doc.lock_reason

    d.panel.lr.setValue(0.0005)                       # an undoable edit that the run takes
    assert d.doc.project.training["lr"] == 0.0005
    qtbot.waitUntil(lambda: d.project_state.run.progress is not None
                    and abs(d.project_state.run.progress.lr - 0.0005) < 1e-12, timeout=WAIT_MS)
    d.stop()
    wait_idle(qtbot, d)
    assert d.editor.delete(["dropout"])               # unlocked again


def test_settings_are_undoable_project_edits(qtbot, dash):
    d = dash
    p = d.panel
    assert not d.editor.is_modified()
    p.batch_size.setValue(64)
    assert d.doc.project.training["batch_size"] == 64
    assert d.editor.is_modified()
    p.epochs.setValue(3)
    assert d.doc.project.training["epochs"] == 3
    d.editor.undo()
    assert d.doc.project.training["epochs"] == 10 and p.epochs.value() == 10
    d.editor.undo()
    assert d.doc.project.training["batch_size"] == 32 and p.batch_size.value() == 32
    d.editor.redo()
    assert p.batch_size.value() == 64
    # arrow clicks on one field merge into one step
    stack = d.editor.undo_stack
    index = stack.index()
    for value in (0.001, 0.002, 0.004):
        set_setting(d.editor, d.notifier, "training", "lr", value, session=777)
    assert stack.index() == index + 1 and stack.count() == index + 1
    assert d.doc.project.training["lr"] == 0.004
    # an invalid value is shown next to the form, naming the field
    set_setting(d.editor, d.notifier, "training", "momentum", 2.0)
    assert "training.momentum" in p.problems.text() and not p.problems.isHidden()
    d.editor.undo()
    assert p.problems.isHidden()


def test_undo_is_refused_while_a_run_holds_the_setting(qtbot, dash):
    """Journey: Epochs 10 → 400, Train; Undo must not set 10 while the run goes on to 400."""
    d = dash
    lr = d.doc.project.training["lr"]
    d.panel.epochs.setValue(400)
    d.panel.lr.setValue(0.002)
    assert d.doc.project.training["epochs"] == 400
    assert d.train()
    wait_state(qtbot, d, "running")
    assert d.editor.undo()                            # the learning rate is live: allowed
    assert d.doc.project.training["lr"] == lr
    assert not d.editor.undo()                        # epochs: held by the run — refused…
    assert "training.epochs is held by the training run" in d.editor.last_refusal
    assert d.doc.project.training["epochs"] == 400    # …not silently changed
    assert d.panel.epochs.value() == 400
    assert d.editor.undo_stack.undoText() == "Set training.epochs = 400"
    d.stop()
    wait_idle(qtbot, d)
    assert d.editor.undo()                            # the run let go: undo works again
    assert d.doc.project.training["epochs"] == 10


def test_device_list_names_the_cpu(qtbot, dash):
    d = dash
    flush(d)
    qtbot.waitUntil(lambda: d.panel.device.count() >= 2 and "(" in d.panel.device.itemText(0),
                    timeout=WAIT_MS)
    labels = [d.panel.device.itemText(i) for i in range(d.panel.device.count())]
    assert labels[0].startswith("auto (")
    assert any(label.startswith("CPU") for label in labels)


def test_train_on_trained_weights_asks_resume_or_start_over(qtbot, dash, dialogs):
    d = dash
    d.doc.project.training["epochs"] = 3
    d.doc.project.dataset = {"kind": "digits", "limit": 300}
    train_and_wait(qtbot, d)
    trained = d.session.step
    assert trained > 0

    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not d.train()                              # asked, cancelled: nothing happens
    assert dialogs.shown[-1]["title"] == "Resume or start over?"
    assert "already has trained weights" in dialogs.shown[-1]["text"]
    assert d.state == "idle" and d.session.step == trained

    dialogs.answer = QMessageBox.StandardButton.No     # "Start over"
    assert d.train()
    qtbot.waitUntil(lambda: d.project_state.run.info is not None, timeout=WAIT_MS)
    assert d.project_state.run.info.start_step == 0
    wait_idle(qtbot, d)

    d.doc.project.training["epochs"] = 5
    dialogs.answer = QMessageBox.StandardButton.Yes    # "Resume"
    assert d.train()
    qtbot.waitUntil(lambda: d.project_state.run.info is not None, timeout=WAIT_MS)
    assert d.project_state.run.info.start_epoch == 3
    wait_idle(qtbot, d)
    assert d.session.epoch == 5


def test_resume_with_nothing_left_to_train_says_what_to_do(qtbot, dash, dialogs):
    d = dash
    d.doc.project.training["epochs"] = 2
    d.doc.project.dataset = {"kind": "digits", "limit": 300}
    train_and_wait(qtbot, d)
    assert d.session.epoch == 2
    assert not d.resume()                             # 2 of 2 done: nothing to resume…
    flush(d)
    bar = d.panel.message_bar
    assert "Nothing left to train" in bar.message()   # …and it says so, with the remedy
    assert "Set Epochs above 2" in bar.message()
    [button] = bar.buttons()
    assert button.text() == "Train 2 more epochs"
    button.click()                                    # one click: Epochs 4, resumed
    assert d.doc.project.training["epochs"] == 4
    qtbot.waitUntil(lambda: d.project_state.run.info is not None
                    and d.project_state.run.info.start_epoch == 2, timeout=WAIT_MS)
    wait_idle(qtbot, d)
    assert d.session.epoch == 4
    assert d.editor.undo_stack.undoText().startswith("Set training.epochs")
