"""Pause, resume, single steps and stop from the panel's buttons; the lock while training;
the learning rate changing live; settings as undoable project edits."""
from __future__ import annotations

from layerlab.app.dashboard.state.settings_commands import set_setting

from dashboard_helpers import WAIT_MS, dash, dialogs, wait_idle, wait_state  # noqa: F401


def _step(d) -> int:
    return d.worker.trainer.global_step


def test_pause_step_resume_stop(qtbot, dash):
    d = dash
    p = d.panel
    d.doc.project.training["epochs"] = 200            # far more than the test waits for
    assert p.train_button.isEnabled() and not p.pause_button.isEnabled()
    with qtbot.waitSignal(d.worker.runStarted, timeout=WAIT_MS):
        p.train_button.click()
    wait_state(qtbot, d, "running")
    assert not p.train_button.isEnabled() and p.stop_button.isEnabled()
    assert not p.batch_size.isEnabled() and p.lr.isEnabled()   # only lr is live

    p.pause_button.click()
    wait_state(qtbot, d, "paused")
    assert d.worker.trainer.paused or d.worker.trainer._control.paused
    qtbot.waitUntil(lambda: d.worker.trainer.paused, timeout=WAIT_MS)
    assert p.pause_button.text() == "Resume"
    assert d.doc.lock_reason == "Training is paused"
    parked_at = _step(d)
    qtbot.wait(150)
    assert _step(d) == parked_at                      # parked: nothing trains

    p.step_button.click()                             # exactly one batch, then parked again
    qtbot.waitUntil(lambda: _step(d) == parked_at + 1 and d.worker.trainer.paused,
                    timeout=WAIT_MS)
    qtbot.wait(150)
    assert _step(d) == parked_at + 1 and d.state == "paused"

    p.pause_button.click()                            # "Resume"
    wait_state(qtbot, d, "running")
    qtbot.waitUntil(lambda: _step(d) > parked_at + 3, timeout=WAIT_MS)

    with qtbot.waitSignal(d.worker.runEnded, timeout=WAIT_MS) as ended:
        p.stop_button.click()
    result = ended.args[0]
    assert result.status == "stopped" and result.steps == _step(d)
    wait_idle(qtbot, d)
    assert d.doc.lock_reason is None
    assert p.train_button.isEnabled() and p.resume_button.isEnabled()
    assert "stopped" in d.panel.message_bar.message().lower()

    # Resume training continues from the same step (the optimizer and position are kept)
    stopped_at = _step(d)
    with qtbot.waitSignal(d.worker.runStarted, timeout=WAIT_MS) as started:
        p.resume_button.click()
    assert started.args[0].start_step == stopped_at
    qtbot.waitUntil(lambda: _step(d) > stopped_at, timeout=WAIT_MS)
    d.stop()
    wait_idle(qtbot, d)


def test_step_from_idle_trains_one_batch_then_waits(qtbot, dash):
    d = dash
    assert d.step()
    wait_state(qtbot, d, "paused")
    qtbot.waitUntil(lambda: d.worker.trainer is not None and d.worker.trainer.paused,
                    timeout=WAIT_MS)
    assert d.worker.trainer.global_step == 1
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
    qtbot.waitUntil(lambda: abs(d.worker.trainer.optimizer.param_groups[0]["lr"] - 0.0005)
                    < 1e-12, timeout=WAIT_MS)
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


def test_device_list_names_the_cpu(qtbot, dash):
    d = dash
    qtbot.waitUntil(lambda: d.panel.device.count() >= 2 and "(" in d.panel.device.itemText(0),
                    timeout=WAIT_MS)
    labels = [d.panel.device.itemText(i) for i in range(d.panel.device.count())]
    assert labels[0].startswith("auto (")
    assert any(label.startswith("CPU") for label in labels)
