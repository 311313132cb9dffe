"""Dataset import with a preview, following a background run's metrics file (and launching
one as a QProcess), and closing the window while training."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QMessageBox

from layerlab.app.dashboard.dialogs.dataset_dialog import DatasetDialog, csv_columns
from layerlab.app.dashboard.dialogs.follow_dialog import FollowDialog
from layerlab.engine import Project, save_project
from layerlab.engine.compose import Composer
from layerlab.engine.data import all_kinds
from layerlab.engine.training.follow import write_metrics

from dashboard_helpers import (WAIT_MS, dash, dialogs, digits_project, flush,  # noqa: F401
                               wait_idle)

HOUSE = Path(__file__).resolve().parents[1] / "resources" / "data" / "house_prices.csv"


def _type(editor, text: str) -> None:
    """Type into a generated text editor as a person would (textEdited, then Enter)."""
    editor.line.setText(text)
    editor.line.textEdited.emit(text)
    editor.line.editingFinished.emit()


def scratch_project(dataset=None) -> Project:
    """Input → Conv2d → ReLU → MaxPool2d → Flatten → Linear with the palette's defaults."""
    g = Composer()
    x = g.layer("Input", [], id="input")
    for t in ("Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"):
        x = g.layer(t, x)
    return Project(g.graph, dataset=dataset or {})


def test_csv_dialog_lists_columns_and_previews(qtbot, tmp_path):
    csv = tmp_path / "house.csv"
    shutil.copy(HOUSE, csv)
    assert csv_columns(csv) == ["size_m2", "stories", "distance_to_school_km", "price"]
    dialog = DatasetDialog("csv", {}, tmp_path)
    qtbot.addWidget(dialog)
    _type(dialog.editor("path"), str(csv))
    target, features = dialog.editor("target"), dialog.editor("features")
    assert target.combo.currentText() == "price"       # the last column by default
    items = [features.list.item(i) for i in range(features.list.count())]
    assert [i.text() for i in items] == ["size_m2", "stories", "distance_to_school_km", "price"]
    assert not items[3].flags() & Qt.ItemFlag.ItemIsEnabled     # the target is no feature
    qtbot.waitUntil(lambda: dialog.dataset is not None, timeout=WAIT_MS)
    assert "Predicts price from 3 features" in dialog.summary.text()
    assert dialog.ok_button.isEnabled() and dialog.samples.shown == {"rows": 6}
    assert dialog.spec() == {"kind": "csv", "path": "house.csv", "target": "price"}
    items[1].setCheckState(Qt.CheckState.Unchecked)                # untick "stories"
    assert dialog.spec()["features"] == ["size_m2", "distance_to_school_km"]


def test_image_folder_preview_shows_samples_under_their_class_names(qtbot, tmp_path):
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
    train = dialog.dataset.y_train.tolist()
    assert dialog.samples.shown == {"cats": train.count(0), "dogs": train.count(1)}
    names = [w.text() for w in dialog.samples.findChildren(QLabel)]
    assert "<b>cats</b>" in names and "<b>dogs</b>" in names


def test_dataset_dialog_reports_the_loader_message(qtbot, tmp_path):
    dialog = DatasetDialog("mnist_idx", {}, tmp_path)
    qtbot.addWidget(dialog)
    _type(dialog.editor("path"), str(tmp_path / "no-such-folder"))
    dialog.preview()
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=WAIT_MS)
    assert "not found" in dialog.error.text()
    assert not dialog.ok_button.isEnabled()


def test_the_form_is_generated_from_each_kind_declaration(qtbot, tmp_path):
    dialog = DatasetDialog("digits", {"kind": "digits"}, tmp_path)
    qtbot.addWidget(dialog)
    for kind in all_kinds():
        dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(kind.name))
        dialog.kind_box.activated.emit(dialog.kind_box.currentIndex())
        assert dialog.kind is kind
        assert list(dialog._editors) == [p.name for p in kind.all_params]
        assert dialog.head.text() == kind.summary
    # A common setting survives switching kinds; a kind's own settings start at defaults.
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("shapes"))
    dialog.kind_box.activated.emit(dialog.kind_box.currentIndex())
    dialog.editor("val_fraction").spin.setValue(0.3)
    dialog.editor("train_samples").spin.setValue(50)
    dialog.editor("channels").combo.setCurrentIndex(1)
    assert dialog.spec() == {"kind": "shapes", "channels": 3, "val_fraction": 0.3,
                             "train_samples": 50}
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("digits"))
    dialog.kind_box.activated.emit(dialog.kind_box.currentIndex())
    assert dialog.spec() == {"kind": "digits", "val_fraction": 0.3, "train_samples": 50}


def test_train_samples_preview_and_invalid_settings_are_named(qtbot, tmp_path):
    dialog = DatasetDialog("digits", {"kind": "digits", "train_samples": 40, "sise": 3},
                           tmp_path)
    qtbot.addWidget(dialog)
    assert "sise" in dialog.settings_note.text()
    assert dialog.editor("train_samples").spin.text() == "40"
    qtbot.waitUntil(lambda: dialog.dataset is not None, timeout=WAIT_MS)
    assert "(40 train / 359 validation)" in dialog.summary.text()
    assert "training on 40 of the 1,438" in dialog.notes.text()
    dialog.editor("train_samples").spin.setValue(dialog.editor("train_samples").none_value)
    assert dialog.editor("train_samples").spin.text() == "all"
    assert "train_samples" not in dialog.spec()


def test_the_fit_is_shown_live_and_a_dataset_fix_changes_the_form(qtbot, tmp_path):
    dialog = DatasetDialog("digits", {"kind": "digits"}, tmp_path, project=scratch_project())
    qtbot.addWidget(dialog)
    problems = dialog.fit_box.findChildren(QLabel, "datasetProblem")
    assert len(problems) == 1 and "gives 1×8×8 images but the Input expects 1×28×28" in \
        problems[0].text()
    labels = [b.text() for b in dialog.fix_buttons()]
    assert labels == ["Set the Input shape to 1×8×8", "Make the digits dataset give 1×28×28"]
    dialog.fix_buttons()[1].click()
    assert dialog.spec() == {"kind": "digits", "size": 28}
    assert dialog.editor("size").h.value() == 28
    assert not dialog.fit_box.findChildren(QLabel, "datasetProblem")
    assert "Fits the network: inputs 1×28×28, 10 classes" in \
        dialog.fit_box.findChildren(QLabel, "datasetFitOk")[0].text()
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("shapes"))  # 6 classes, 28×28
    dialog.kind_box.activated.emit(dialog.kind_box.currentIndex())
    assert [b.text() for b in dialog.fix_buttons()] == ["Set fc1.out_features to 6"]
    loads = dialog._request
    dialog.fix_buttons()[0].click()                           # kept for when it is accepted
    assert [(e.node, e.params) for e in dialog.graph_edits()] == [("fc1", {"out_features": 6})]
    pending = dialog.fit_box.findChildren(QLabel, "datasetPendingEdit")
    assert [p.text() for p in pending] == ["• with this dataset: fc1 out_features → 6"]
    assert dialog._request == loads              # a network fix does not reload the data


def test_a_project_without_a_section_opens_on_the_default_that_fits(qtbot, tmp_path):
    dialog = DatasetDialog("digits", {}, tmp_path, project=scratch_project())
    qtbot.addWidget(dialog)
    assert dialog.spec() == {"kind": "digits", "size": 28}
    assert not dialog.fix_buttons()


def test_bad_csv_rows_are_listed_and_can_be_skipped(qtbot, tmp_path):
    (tmp_path / "t.csv").write_text("a,y\n1,2\n2,x\n3,4\n4,?\n5,6\n6,7\n")
    dialog = DatasetDialog("csv", {"kind": "csv", "path": "t.csv", "target": "y"}, tmp_path)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=WAIT_MS)
    assert "2 of its 6 rows are not usable — line 3: column 'y' is not a number; line 5: " \
        "no value in column 'y'" in dialog.error.text()
    assert dialog.error_fix.isVisibleTo(dialog) and dialog.error_fix.text() == "Skip the 2 bad rows"
    dialog.error_fix.click()
    qtbot.waitUntil(lambda: dialog.dataset is not None, timeout=WAIT_MS)
    assert dialog.spec()["skip_bad_rows"] is True
    assert "2 bad rows of t.csv skipped (lines 3, 5)" in dialog.notes.text()


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
    wait_idle(qtbot, d)


def test_a_network_fix_and_the_dataset_are_one_undo_step(qtbot, dash, monkeypatch):
    d = dash

    def choose_shapes_and_fix_the_classes(dialog):
        dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("shapes"))
        dialog.kind_box.activated.emit(dialog.kind_box.currentIndex())
        [classes] = dialog.fix_buttons()         # shapes made 8×8 like digits_cnn's Input
        assert classes.text() == "Set fc2.out_features to 6"
        classes.click()
        assert not dialog.fix_buttons()
        return QDialog.DialogCode.Accepted
    monkeypatch.setattr(DatasetDialog, "exec", choose_shapes_and_fix_the_classes)
    depth = d.editor.undo_stack.count()
    assert d.open_dataset_dialog("digits")
    assert d.editor.undo_stack.count() == depth + 1
    assert d.doc.project.dataset == {"kind": "shapes", "size": 8}    # fitted to the Input
    assert d.doc.graph.nodes["fc2"].params["out_features"] == 6
    d.editor.undo()
    assert d.doc.project.dataset == {"kind": "digits"}
    assert d.doc.graph.nodes["fc2"].params["out_features"] == 10
    wait_idle(qtbot, d)


def test_the_panel_shows_the_default_and_picks_kinds_fitted_to_the_input(qtbot, dash):
    d = dash
    d.window.files.load_into(scratch_project(), None)        # no dataset section
    assert d.panel.kind.currentData() == "digits"
    assert "upsampled to 28×28" in d.panel.dataset_text.text()
    assert d.editor.set_param("input", "shape", [3, 32, 32])   # the default follows the Input
    assert d.panel.dataset_text.text().startswith("shapes: ")         # 32×32 colour shapes
    assert "generated 32×32 color images" in d.panel.dataset_text.text()
    assert d.panel.kind.currentData() == "shapes"
    d.editor.undo()
    assert "upsampled to 28×28" in d.panel.dataset_text.text()
    d.panel.kind.setCurrentIndex(d.panel.kind.findData("shapes"))
    d.panel.kind.activated.emit(d.panel.kind.currentIndex())
    assert d.doc.project.dataset == {"kind": "shapes"}          # 28×28 gray: the defaults
    d.panel.kind.setCurrentIndex(d.panel.kind.findData("digits"))
    d.panel.kind.activated.emit(d.panel.kind.currentIndex())
    assert d.doc.project.dataset == {"kind": "digits", "size": 28}
    wait_idle(qtbot, d)
    d.editor.mark_saved()


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
    # Running, with a batch trained (a run stopped before its first step has nothing to save).
    qtbot.waitUntil(lambda: (flush(d), d.state == "running"
                             and d.project_state.run.progress is not None)[1], timeout=WAIT_MS)
    dialogs.answer = QMessageBox.StandardButton.Save  # asked about the weights: keep them
    assert not window.close()                          # refused for now: training stops first
    # Said at once (a worker quick to stop may end the run before the next frame draws it).
    assert d.project_state.message.title == "Stopping training"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)   # closed by itself
    assert (path.parent / "close-run" / "checkpoint" / "weights.safetensors").is_file()
    assert d.binding.worker is None                    # the worker was handed back
