"""Dataset import with a preview, following a background run's metrics file (and launching
one as a QProcess), and closing the window while training."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QDialog, QMessageBox

from layerlab.app.dashboard.dialogs.dataset_dialog import DatasetDialog, csv_columns
from layerlab.app.dashboard.dialogs.follow_dialog import FollowDialog
from layerlab.engine import save_project
from layerlab.engine.training.follow import write_metrics

from dashboard_helpers import WAIT_MS, dash, dialogs, digits_project, flush  # noqa: F401

HOUSE = Path(__file__).resolve().parents[1] / "resources" / "data" / "house_prices.csv"


def test_csv_dialog_lists_columns_and_previews(qtbot, tmp_path):
    csv = tmp_path / "house.csv"
    shutil.copy(HOUSE, csv)
    assert csv_columns(csv) == ["size_m2", "stories", "distance_to_school_km", "price"]
    dialog = DatasetDialog("csv", {}, tmp_path)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(csv))
    dialog._fill_columns()
    assert dialog.target.currentText() == "price"       # the last column by default
    dialog.preview()
    qtbot.waitUntil(lambda: dialog.dataset is not None, timeout=WAIT_MS)
    assert "Predicts price from 3 features" in dialog.summary.text()
    assert dialog.ok_button.isEnabled()
    spec = dialog.spec()
    assert spec == {"kind": "csv", "path": "house.csv", "target": "price", "task": "regression"}


def test_image_folder_preview_shows_samples_and_class_counts(qtbot, tmp_path):
    rng = np.random.default_rng(0)
    for name, count in (("cats", 5), ("dogs", 3)):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "pets" / name / f"{i}.png")
    dialog = DatasetDialog("image_folder", {"kind": "image_folder", "path": "pets",
                                            "size": 16}, tmp_path)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.dataset is not None, timeout=WAIT_MS)   # previews at once
    assert "Classes: cats 5 · dogs 3" in dialog.summary.text()
    assert dialog.class_counts() == {"cats": 5, "dogs": 3}
    train = len(dialog.dataset.y_train)
    assert dialog.grid.tile_count == train and dialog.grid._tiles.shape[1:] == (16, 16)


def test_dataset_dialog_reports_the_loader_message(qtbot, tmp_path):
    dialog = DatasetDialog("mnist_idx", {}, tmp_path)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "no-such-folder"))
    dialog.preview()
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=WAIT_MS)
    assert "not found" in dialog.error.text()
    assert not dialog.ok_button.isEnabled()


def test_choosing_a_dataset_is_one_undoable_edit(qtbot, dash, monkeypatch, tmp_path):
    d = dash
    monkeypatch.setattr(DatasetDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(DatasetDialog, "spec", lambda self: {"kind": "shapes", "count": 60})
    assert d.open_dataset_dialog("shapes")
    assert d.doc.project.dataset == {"kind": "shapes", "count": 60}
    qtbot.waitUntil(lambda: (flush(d), "shapes" in d.panel.dataset_text.text())[1],
                    timeout=WAIT_MS)
    assert d.panel.kind.currentData() == "shapes"
    d.editor.undo()
    assert d.doc.project.dataset == {"kind": "digits"}
    assert d.panel.kind.currentData() == "digits"


def test_follow_dialog_plots_a_metrics_file(qtbot, dash, tmp_path):
    d = dash
    path = tmp_path / "run" / "metrics.json"
    path.parent.mkdir()
    dialog = FollowDialog(tmp_path / "p.json", 3, d.window)
    qtbot.addWidget(dialog)
    dialog.rowsFollowed.connect(d._on_followed)
    dialog.follow(path)
    rows = [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.2, "val_acc": 0.5},
            {"epoch": 2, "train_loss": 0.5, "val_loss": 0.7, "val_acc": 0.8}]
    write_metrics(path, {"status": "running", "history": rows, "run_id": "a", "epochs": 3})
    dialog.poll()
    flush(d)
    x, y = d.loss_view.curve("follow_val")
    assert list(x) == [1, 2] and list(y) == [1.2, 0.7]
    _, acc = d.loss_view.curve("follow_acc")
    assert list(acc) == [50.0, 80.0]
    assert "running: 2 of 3 epochs" in dialog.status.text()
    assert "background run" in d.loss_view.legend.text()
    write_metrics(path, {"status": "finished", "history": rows[:1], "run_id": "b", "epochs": 1})
    dialog.poll()                                      # another run: the curves start over
    flush(d)
    assert len(d.loss_view.curve("follow_val")[0]) == 1
    assert not dialog.timer.isActive()                 # done, no process: stop polling


def test_follow_dialog_runs_a_command_as_a_process(qtbot, dash, tmp_path):
    d = dash
    metrics = tmp_path / "m.json"
    dialog = FollowDialog(tmp_path / "p.json", 2, d.window)
    qtbot.addWidget(dialog)
    assert "-m layerlab.engine.train" in dialog.command.text()
    assert "--metrics-json" in dialog.command.text()
    dialog.nproc.setValue(2)
    assert "torch.distributed.run" in dialog.command.text()
    # A stand-in for the trainer: writes a finished metrics file, as a run does.
    script = (f"from layerlab.engine.training.follow import write_metrics; "
              f"write_metrics({str(metrics)!r}, {{'status': 'finished', 'epochs': 1, "
              f"'history': [{{'epoch': 1, 'train_loss': 0.3, 'val_loss': 0.4, "
              f"'val_acc': 0.9}}]}}); print('trained')")
    dialog.metrics.setText(str(metrics))
    dialog.command.setText(f"{sys.executable} -c \"{script}\"")
    dialog.rowsFollowed.connect(d._on_followed)
    with qtbot.waitSignal(dialog.runFinished, timeout=WAIT_MS) as finished:
        assert dialog.start()
    assert finished.args[0] == "finished"
    assert "trained" in dialog.log.toPlainText()
    flush(d)
    assert list(d.loss_view.curve("follow_val")[1]) == [0.4]


def test_closing_while_training_stops_saves_and_then_closes(qtbot, dash, tmp_path, dialogs):
    d = dash
    window = d.window
    path = tmp_path / "close.json"
    save_project(digits_project(epochs=200), path)
    assert window.files.open_path(path, confirm=False)
    assert d.train()
    qtbot.waitUntil(lambda: d.state == "running", timeout=WAIT_MS)
    dialogs.answer = QMessageBox.StandardButton.Save  # asked about the weights: keep them
    assert not window.close()                          # refused for now: training stops first
    flush(d)
    assert "Stopping training" in d.panel.message_bar.message()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)   # closed by itself
    assert (path.parent / "close-run" / "checkpoint" / "weights.safetensors").is_file()
    assert d.binding.worker is None                    # the worker was handed back
