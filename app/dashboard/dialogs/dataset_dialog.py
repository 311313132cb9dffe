"""Choose a dataset, set it up, see whether it fits the network, and preview it.

Nothing here knows a dataset kind: the picker lists the declarations (engine/data/kinds.py)
and the form is generated from the chosen kind's settings with the inspector's parameter
editors (app/panels/param_editors.py). Whether the network fits is
``engine.data.fit.dataset_problems``, shown live with its one-click fixes: a fix to the
dataset changes the form, a fix to the network is kept and applied with the dataset in ONE
undoable command when the dialog is accepted (``apply``). The preview loads on a background
thread (MNIST or CIFAR take a moment) and shows samples row by row under their class names,
the class counts, what the loader left out (its notes), or the loader's own message — with
its fix as a button when it has one (skip a CSV's bad rows).
"""
from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QFrame,
                               QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QTableWidget, QTableWidgetItem, QToolButton,
                               QVBoxLayout, QWidget)

from layerlab.engine.data.kinds import (AUGMENT, COMMON_ADVANCED, all_kinds, find, flatten,
                                        label_of, spec_from_values)
from layerlab.engine.edits import EditError, SetSection, apply_edits
from layerlab.engine.params import ParamError

from ...panels.param_editors import ColumnEditor, TextEditor, editor_for
from ..threads import gui_only
from ..views.image_grid import display_images

__all__ = ["DatasetDialog", "csv_columns", "summarize"]

PER_CLASS = 8          # samples shown per class
MAX_CLASSES_SHOWN = 12
THUMB = 44             # pixels per sample tile
TABLE_ROWS = 6
PREVIEW_DELAY_MS = 450


def csv_columns(path: Path) -> list[str]:
    """The header row of a CSV (any of , ; tab), or [] when it cannot be read."""
    from layerlab.engine.data import DatasetError
    from layerlab.engine.data.tabular import read_header
    try:
        return read_header(Path(path))
    except DatasetError:
        return []


def summarize(ds) -> str:
    """Sizes and class counts of a loaded dataset, for the preview."""
    n_train, n_val = len(ds.y_train), len(ds.y_val)
    shape = ("rows of " + f"{ds.input_shape[0]} features" if len(ds.input_shape) == 1
             else "each " + "×".join(map(str, ds.input_shape)))
    lines = [f"{n_train + n_val:,} samples ({n_train:,} train / {n_val:,} validation), {shape}"]
    if ds.task == "classification":
        counts = Counter(ds.y_train.tolist()) + Counter(ds.y_val.tolist())
        lines.append("Classes: " + " · ".join(f"{name} {counts.get(i, 0):,}"
                                               for i, name in enumerate(ds.class_names)))
    else:
        lines.append(f"Predicts {', '.join(ds.target_names)} from {len(ds.feature_names)} "
                     f"feature{'s' if len(ds.feature_names) != 1 else ''}: "
                     f"{', '.join(ds.feature_names[:12])}"
                     + (" …" if len(ds.feature_names) > 12 else ""))
    return "\n".join(lines)


def _clear(layout) -> None:
    """Remove every widget of ``layout`` now (findChildren no longer sees them)."""
    while layout.count():
        widget = layout.takeAt(0).widget()
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()


def _pixmap(image: np.ndarray) -> QPixmap:
    """A 0..1 (h, w) or (h, w, 3) array as a THUMB-sized pixmap, pixels kept sharp."""
    data = np.ascontiguousarray(np.clip(image * 255.0, 0, 255).astype(np.uint8))
    h, w = data.shape[:2]
    if data.ndim == 2:
        qimage = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    pixmap = QPixmap.fromImage(qimage.copy())
    mode = (Qt.TransformationMode.FastTransformation if max(h, w) < THUMB
            else Qt.TransformationMode.SmoothTransformation)
    return pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, mode)


class SamplesView(QWidget):
    """Samples of each class in a row under its name (images), or the first rows (tables)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetSamples")
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(4)
        self.grid.setVerticalSpacing(4)
        #: class name → how many samples are shown (for tests)
        self.shown: dict[str, int] = {}

    def clear(self) -> None:
        self.shown = {}
        _clear(self.grid)

    def show_dataset(self, ds) -> None:
        self.clear()
        if len(ds.input_shape) == 3:
            self._images(ds)
        else:
            self._table(ds)

    def _images(self, ds) -> None:
        labels = ds.y_train.numpy()
        names = ds.class_names
        for row, c in enumerate(range(min(len(names), MAX_CLASSES_SHOWN))):
            index = np.flatnonzero(labels == c)[:PER_CLASS]
            name = QLabel(f"<b>{names[c]}</b>")
            name.setToolTip(f"class {c}: {names[c]}")
            self.grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignRight)
            images = display_images(ds, ds.x_train[index].numpy()) if len(index) else []
            for col, image in enumerate(images):
                tile = QLabel()
                tile.setPixmap(_pixmap(image))
                tile.setToolTip(names[c])
                self.grid.addWidget(tile, row, col + 1)
            if not len(index):
                self.grid.addWidget(QLabel("(only in the validation split)"), row, 1, 1, 4)
            self.shown[names[c]] = len(index)
        if len(names) > MAX_CLASSES_SHOWN:
            self.grid.addWidget(QLabel(f"… and {len(names) - MAX_CLASSES_SHOWN:,} more classes"),
                                MAX_CLASSES_SHOWN, 0, 1, PER_CLASS + 1)
        self.grid.setColumnStretch(PER_CLASS + 1, 1)

    def _table(self, ds) -> None:
        k = min(TABLE_ROWS, len(ds.y_train))
        norm = ds.normalization
        x = ds.x_train[:k].numpy().astype(np.float64)
        if norm.get("mode") == "standardize":
            x = x * np.asarray(norm["std"]) + np.asarray(norm["mean"])
        elif "min" in norm:
            x = x * (np.asarray(norm["max"]) - np.asarray(norm["min"])) + np.asarray(norm["min"])
        if ds.task == "classification":
            targets = [[ds.class_names[i]] for i in ds.y_train[:k].tolist()]
            target_names = ["class"]
        else:
            targets = ds.denormalize_target(ds.y_train[:k].numpy()).tolist()
            target_names = list(ds.target_names)
        table = QTableWidget(k, x.shape[1] + len(target_names))
        table.setHorizontalHeaderLabels(list(ds.feature_names) + [f"→ {t}" for t in target_names])
        for r in range(k):
            for c, value in enumerate(list(x[r]) + list(targets[r])):
                text = f"{value:.6g}" if isinstance(value, float) else str(value)
                table.setItem(r, c, QTableWidgetItem(text))
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setMinimumHeight(60 + 24 * k)
        self.grid.addWidget(table, 0, 0)
        self.shown = {"rows": k}


class _Loaded(QObject):
    done = Signal(int, object, str, object)   # request number, Dataset or None, error, error


class DatasetDialog(QDialog):
    """``kind``: the kind to show first; ``spec``: the project's dataset section; ``project``
    (optional): the open project, whose network the dataset is checked against."""

    def __init__(self, kind: str, spec: dict, base_dir: Path | None,
                 parent: QWidget | None = None, *, project=None, locks=None) -> None:
        super().__init__(parent)
        #: (section, key) → a workshop pack's reason it is locked, or None (Editor.locked_value)
        self.locks = locks or (lambda _section, _key: None)
        self.setWindowTitle("Dataset")
        self.setObjectName("datasetDialog")
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.project = project.copy() if project is not None else None
        self.dataset = None
        self.load_error = None
        self._graph_edits: list = []
        self._request = 0
        self._editors: dict[str, object] = {}
        self._loaded = _Loaded(self)
        self._loaded.done.connect(self._show_loaded, Qt.ConnectionType.QueuedConnection)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.timeout.connect(self.preview)

        if not spec and self.project is not None:    # no section: the default that fits
            from layerlab.engine.data.fit import dataset_spec
            spec = dataset_spec(self.project)
        self._start = dict(spec or {})
        self.kind = find(kind) or find(self._start.get("kind", "digits")) or next(all_kinds())

        self.kind_box = QComboBox()
        self.kind_box.setObjectName("datasetKindPicker")
        for declared in all_kinds():
            self.kind_box.addItem(declared.label, declared.name)
            self.kind_box.setItemData(self.kind_box.count() - 1, declared.summary,
                                      Qt.ItemDataRole.ToolTipRole)
        self.kind_box.setCurrentIndex(self.kind_box.findData(self.kind.name))
        self.kind_box.activated.connect(self._kind_picked)
        kind_lock = self.locks("dataset", "kind")
        if kind_lock:
            self.kind_box.setEnabled(False)
            self.kind_box.setToolTip(f"Locked by the workshop: {kind_lock}")
        self.head = QLabel()
        self.head.setWordWrap(True)
        self.form_host = QVBoxLayout()
        self.more = QToolButton()
        self.more.setText("More options")
        self.more.setCheckable(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.setArrowType(Qt.ArrowType.RightArrow)
        self.more.toggled.connect(self._toggle_more)
        self.settings_note = QLabel()
        self.settings_note.setObjectName("datasetSettingsNote")
        self.settings_note.setWordWrap(True)
        self.settings_note.setStyleSheet("color: #B06000;")

        self.fit_box = QGroupBox("Does it fit the network?")
        self.fit_box.setObjectName("datasetFit")
        self.fit_layout = QVBoxLayout(self.fit_box)
        self.fit_box.setVisible(self.project is not None)

        self.error = QLabel()
        self.error.setObjectName("datasetError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #D93025;")
        self.error_fix = QPushButton()
        self.error_fix.setObjectName("datasetErrorFix")
        self.error_fix.setVisible(False)
        self.error_fix.clicked.connect(self._apply_error_fix)
        self.summary = QLabel("Preview the data before training.")
        self.summary.setObjectName("datasetSummary")
        self.summary.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setObjectName("datasetNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #B06000;")
        self.samples = SamplesView()
        scroll = QScrollArea()
        scroll.setWidget(self.samples)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumHeight(200)
        preview_box = QGroupBox("Preview")
        pl = QVBoxLayout(preview_box)
        for widget in (self.error, self.error_fix, self.summary, self.notes):
            pl.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft if widget is self.error_fix
                         else Qt.AlignmentFlag(0))
        pl.addWidget(scroll, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this dataset")

        top = QHBoxLayout()
        top.addWidget(QLabel("Dataset"))
        top.addWidget(self.kind_box, 1)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.head)
        left.addLayout(self.form_host)
        left.addWidget(self.settings_note)
        left.addWidget(self.fit_box)
        left.addStretch(1)
        columns = QHBoxLayout()
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setMinimumWidth(380)
        columns.addWidget(left_widget, 0)
        columns.addWidget(preview_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(buttons)
        self.resize(980, 620)

        self._build(self.kind, self._start if self._start.get("kind", "digits") == self.kind.name
                    else {"kind": self.kind.name})

    # --- the form, generated from the kind's declaration -----------------------------------
    def _values_from(self, kind, spec: dict) -> dict:
        """The kind's defaults overlaid with every valid setting of ``spec``; invalid or
        unknown ones are listed in settings_note (and not kept)."""
        values, dropped = kind.defaults(), []
        try:
            items = flatten(spec).items()
        except Exception:  # noqa: BLE001 — a broken "augment": start from the defaults
            items, dropped = (), ["augment"]
        for key, value in items:
            param = kind.param(key)
            try:
                if param is None:
                    raise ParamError(key)
                values[key] = param.check(value)
            except ParamError:
                dropped.append(key)
        self.settings_note.setText(
            f"Not valid here, so left at the default: {', '.join(dropped)}" if dropped else "")
        return values

    def _build(self, kind, spec: dict) -> None:
        self.kind = kind
        self.values = self._values_from(kind, spec)
        self.head.setText(kind.summary)
        self.form_host.removeWidget(self.more)
        _clear(self.form_host)
        self._editors = {}
        main, advanced = QFormLayout(), QFormLayout()
        hidden = set(kind.advanced) | set(COMMON_ADVANCED)
        for param in kind.all_params:
            editor = editor_for(param)
            editor.setToolTip(f"{param.help} ({param.describe()})")
            if isinstance(editor, TextEditor):
                editor.start_dir = str(self.base_dir or Path.home())
            editor.set_value(self.values[param.name])
            editor.set_locked(self.locks("dataset", param.name))
            editor.edited.connect(lambda value, name=param.name: self._edited(name, value))
            self._editors[param.name] = editor
            label = QLabel(label_of(param.name))
            label.setToolTip(param.help)
            (advanced if param.name in hidden else main).addRow(label, editor)
        host = QWidget()
        host.setLayout(main)
        self.advanced = QWidget()
        self.advanced.setLayout(advanced)
        self.advanced.setVisible(self.more.isChecked())
        self.form_host.addWidget(host)
        self.form_host.addWidget(self.more, 0, Qt.AlignmentFlag.AlignLeft)
        self.form_host.addWidget(self.advanced)
        self._fill_columns()
        self._changed(preview_now=True)

    def _toggle_more(self, on: bool) -> None:
        self.more.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.advanced.setVisible(on)

    def editor(self, name: str):
        """The editor of setting ``name`` (tests, and the dialog's own fixes)."""
        return self._editors[name]

    def _kind_picked(self, index: int) -> None:
        kind = find(self.kind_box.itemData(index))
        if kind is None or kind is self.kind:
            return
        common = {k: v for k, v in self.values.items()
                  if k in ("val_fraction", "train_samples", "seed", "normalize", "limit")
                  or k.startswith(AUGMENT)}
        if self._start.get("kind", "digits") == kind.name:    # back to the project's own
            self._build(kind, {**common, **flatten(self._start), "kind": kind.name})
        elif self.project is not None:            # another kind, fitted to the Input if it can
            from layerlab.engine.data.fit import fitted_spec
            self._build(kind, fitted_spec(self.project, kind.name, common))
        else:
            self._build(kind, {**common, "kind": kind.name})

    def _edited(self, name: str, value) -> None:
        if name == "path" and isinstance(value, str):
            stored = self._stored_path(value)
            if stored != value:
                value = stored
                self._editors[name].set_value(stored)
        self.values[name] = value
        if name in ("path", "delimiter", "target"):
            self._fill_columns()
        self._changed()

    def _changed(self, preview_now: bool = False) -> None:
        self.refresh_fit()
        if preview_now:
            self.preview()
        else:
            self._preview_timer.start(PREVIEW_DELAY_MS)

    # --- CSV columns -------------------------------------------------------------------------
    def _fill_columns(self) -> None:
        column_editors = {n: e for n, e in self._editors.items() if isinstance(e, ColumnEditor)}
        if not column_editors:
            return
        path = self._resolved()
        columns = csv_columns(path) if path is not None and path.is_file() else []
        target = self.values.get("target")
        if target is None and columns:          # the last column, by convention
            target = self.values["target"] = columns[-1]
        targets = [target] if isinstance(target, str) else list(target or [])
        for name, editor in column_editors.items():
            editor.set_columns(columns, excluded=targets if name != "target" else ())
            editor.set_value(self.values.get(name))

    # --- the spec and the result -------------------------------------------------------------
    def spec(self) -> dict:
        return spec_from_values(self.kind, self.values)

    def graph_edits(self) -> list:
        """Fixes to the network chosen in the dialog, applied with the dataset."""
        return list(self._graph_edits)

    def edits(self) -> list:
        """Everything accepting the dialog changes: the dataset section, then the network."""
        return [SetSection("dataset", self.spec(), replace=True), *self._graph_edits]

    def apply(self, editor, notifier, text: str | None = None) -> bool:
        """Apply the chosen dataset (and the network fixes) as ONE undoable command."""
        from layerlab.engine.edits import Fix
        from ..settings_commands import replace_section
        text = text or f"Use the {self.kind.name} dataset"
        if not self._graph_edits:
            return replace_section(editor, notifier, "dataset", self.spec(), text)
        return editor.apply_fix(Fix(text, tuple(self.edits())))

    def _stored_path(self, text: str) -> str:
        """Relative to the project's folder when inside it (the project can move with it)."""
        if not text or self.base_dir is None or text.startswith("resources:"):
            return text
        try:
            path, base = Path(text).resolve(), self.base_dir.resolve()
            return os.path.relpath(path, base) if path.is_relative_to(base) else text
        except (OSError, ValueError):
            return text

    def _resolved(self) -> Path | None:
        from layerlab.engine.data.paths import full_path
        text = self.values.get("path")
        if not isinstance(text, str) or not text.strip():
            return None
        return full_path(text.strip(), self.base_dir)

    # --- fit -----------------------------------------------------------------------------------
    def _working(self):
        project = self.project.copy()
        project.dataset = self.spec()
        return apply_edits(project, self._graph_edits) if self._graph_edits else project

    def problems(self) -> list:
        if self.project is None:
            return []
        from layerlab.engine.data.fit import dataset_problems
        try:
            return dataset_problems(self._working(), self.base_dir)
        except EditError:
            self._graph_edits = []
            return dataset_problems(self._working(), self.base_dir)

    def refresh_fit(self) -> None:
        if self.project is None:
            return
        _clear(self.fit_layout)
        problems = [p for p in self.problems() if not p.message.startswith("dataset: ")]
        for edit in self._graph_edits:
            pending = QLabel(f"• with this dataset: {_edit_text(edit)}")
            pending.setObjectName("datasetPendingEdit")
            pending.setWordWrap(True)
            self.fit_layout.addWidget(pending)
        if not problems:
            ok = QLabel(self._fit_text())
            ok.setObjectName("datasetFitOk")
            ok.setWordWrap(True)
            ok.setStyleSheet("color: #188038;")
            self.fit_layout.addWidget(ok)
        for problem in problems:
            text = QLabel(f"⚠ {problem.message}")
            text.setWordWrap(True)
            text.setObjectName("datasetProblem")
            self.fit_layout.addWidget(text)
            for fix in problem.fixes:         # one per line: the column stays narrow
                button = QPushButton(fix.label)
                button.setObjectName("datasetFix")
                button.clicked.connect(lambda _=False, f=fix: self.apply_fix(f))
                self.fit_layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)

    def _fit_text(self) -> str:
        from layerlab.engine.data import DatasetError
        from layerlab.engine.data.fit import peek
        try:
            data = peek(self.spec(), self.base_dir)
        except DatasetError:
            return "The network will be checked once the dataset can be read."
        shape = "×".join(map(str, data.input_shape))
        outputs = (f"{len(data.class_names):,} classes" if data.task == "classification"
                   else f"{len(data.target_names)} target(s)")
        return f"✓ Fits the network: inputs {shape}, {outputs}."

    def fix_buttons(self) -> list[QPushButton]:
        return self.fit_box.findChildren(QPushButton, "datasetFix")

    def apply_fix(self, fix) -> None:
        """A dataset fix changes the form now; a network fix is kept for ``apply``."""
        data_changed = False
        for edit in fix.edits:
            if isinstance(edit, SetSection) and edit.section == "dataset":
                spec = dict(edit.values) if edit.replace else {**self.spec(), **edit.values}
                kind = find(spec.get("kind", "digits")) or self.kind
                self.kind_box.setCurrentIndex(self.kind_box.findData(kind.name))
                self._build(kind, spec)       # previews the new data
                data_changed = True
            else:
                self._graph_edits.append(edit)
        if not data_changed:                  # the data is as it was: no need to reload it
            self.refresh_fit()

    # --- preview ----------------------------------------------------------------------------------
    def preview(self) -> None:
        from layerlab.engine.data import DatasetError, load_dataset
        self._preview_timer.stop()
        self._request += 1
        request, spec, base = self._request, self.spec(), self.base_dir
        self.error.setText("")
        self.error_fix.setVisible(False)
        self.summary.setText("Loading…")
        self.ok_button.setEnabled(False)
        loaded = self._loaded

        def work() -> None:
            error = None
            try:
                ds, message = load_dataset(spec, base), ""
            except DatasetError as exc:
                ds, message, error = None, str(exc), exc
            except Exception as exc:  # noqa: BLE001 — shown, never raised into Qt
                ds, message = None, f"{type(exc).__name__}: {exc}"
            try:
                loaded.done.emit(request, ds, message, error)
            except RuntimeError:      # the dialog closed meanwhile
                pass
        threading.Thread(target=work, name="dataset-preview", daemon=True).start()

    @gui_only
    def _show_loaded(self, request: int, ds, message: str, error) -> None:
        if request != self._request:
            return                        # an older preview finished after a newer one began
        self.dataset = ds
        self.load_error = error
        self.ok_button.setEnabled(ds is not None)
        if ds is None:
            self.error.setText(message)
            if error is not None and error.fix:
                self.error_fix.setText(error.fix_label or "Apply the suggested settings")
                self.error_fix.setVisible(True)
            self.summary.setText("")
            self.notes.setText("")
            self.samples.clear()
            return
        self.summary.setText(summarize(ds))
        self.notes.setText("\n".join(ds.notes))
        self.samples.show_dataset(ds)
        self.refresh_fit()                 # a CSV's classes are known for sure now

    def _apply_error_fix(self) -> None:
        error = self.load_error
        if error is None or not error.fix:
            return
        for name, value in error.fix.items():
            if name in self._editors:
                self.values[name] = value
                self._editors[name].set_value(value)
        self._changed(preview_now=True)

    def class_counts(self) -> dict[str, int]:
        ds = self.dataset
        if ds is None or ds.task != "classification":
            return {}
        counts = np.bincount(np.concatenate([ds.y_train.numpy(), ds.y_val.numpy()]),
                             minlength=len(ds.class_names))
        return {name: int(c) for name, c in zip(ds.class_names, counts)}


def _edit_text(edit) -> str:
    """A network edit in words: "input1 shape → 3×28×28", "adds Linear fc"."""
    from layerlab.engine.edits import AddNode, Connect, SetParams
    if isinstance(edit, SetParams):
        return ", ".join(f"{edit.node} {k} → " + ("×".join(map(str, v)) if isinstance(v, list)
                                                   else str(v)) for k, v in edit.params.items())
    if isinstance(edit, AddNode):
        return f"adds {edit.type} {edit.id}"
    if isinstance(edit, Connect):
        return f"wires {edit.source} → {edit.target}"
    return edit.op.replace("_", " ")
