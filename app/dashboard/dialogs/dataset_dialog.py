"""Set up a dataset (files and options) and preview it before training: a grid of samples
with their classes and the class counts — or, for a table, its columns and size. Loading runs
on a background thread (MNIST or CIFAR take a moment) and reports the loader's own message
when something is wrong with the files."""
from __future__ import annotations

import csv
import os
import threading
from collections import Counter
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from layerlab.engine.data import DATASET_KINDS

from ..views.image_grid import ImageGrid, display_images
from ..threads import gui_only

__all__ = ["DatasetDialog", "csv_columns", "summarize"]

PREVIEW_SAMPLES = 48
FILE_KINDS = {"csv": False, "image_folder": True, "mnist_idx": True, "cifar10": True}


def csv_columns(path: Path) -> list[str]:
    """The header row of a CSV (any of , ; tab), or [] when unreadable."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            first = f.readline()
    except OSError:
        return []
    delimiter = max((",", ";", "\t"), key=first.count)
    return [c.strip() for c in next(csv.reader([first], delimiter=delimiter), []) if c.strip()]


def summarize(ds) -> str:
    """Sizes and class counts of a loaded dataset, for the preview."""
    n_train, n_val = len(ds.y_train), len(ds.y_val)
    shape = ("rows of " + f"{ds.input_shape[0]} features" if len(ds.input_shape) == 1
             else "each " + "×".join(map(str, ds.input_shape)))
    lines = [f"{n_train + n_val:,} samples ({n_train:,} train / {n_val:,} validation), "
             f"{shape}" + (f"; {ds.skipped} unreadable files skipped" if ds.skipped else "")]
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


class _Loaded(QObject):
    done = Signal(int, object, str)   # request number, Dataset or None, error message


class DatasetDialog(QDialog):
    def __init__(self, kind: str, spec: dict, base_dir: Path | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dataset")
        self.setObjectName("datasetDialog")
        self.kind = kind
        self.base_dir = base_dir
        start = dict(spec) if spec.get("kind", "digits") == kind else {"kind": kind}
        self.dataset = None
        self._request = 0
        self._loaded = _Loaded(self)
        self._loaded.done.connect(self._show_loaded, Qt.ConnectionType.QueuedConnection)

        head = QLabel(f"<b>{kind}</b> — {DATASET_KINDS.get(kind, '')}")
        head.setWordWrap(True)
        form = QFormLayout()
        self.path = QLineEdit(str(start.get("path", "")))
        self.path.setObjectName("datasetPath")
        self.path.setPlaceholderText("choose a file" if kind == "csv" else "choose a folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.target = QComboBox()
        self.target.setObjectName("csvTarget")
        self.task = QComboBox()
        self.task.setObjectName("csvTask")
        self.task.addItems(["regression", "classification"])
        self.task.setCurrentText(str(start.get("task", "regression")))
        self.size = QSpinBox()
        self.size.setRange(8, 256)
        self.size.setValue(int(start.get("size", 28)) if isinstance(start.get("size", 28), int)
                           else 28)
        self.channels = QComboBox()
        self.channels.addItems(["1", "3"])
        self.channels.setCurrentText(str(start.get("channels", 1)))
        self.count = QSpinBox()
        self.count.setRange(6, 200_000)
        self.count.setValue(int(start.get("count", 3000)))
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 1.0)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(float(start.get("noise", 0.1)))
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setRange(0.05, 0.9)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setValue(float(start.get("val_fraction", 0.2)))
        if kind in FILE_KINDS:
            form.addRow("Path", path_row)
        if kind == "csv":
            form.addRow("Column to predict", self.target)
            form.addRow("Task", self.task)
            self.path.editingFinished.connect(self._fill_columns)
            self._fill_columns(str(start.get("target", "")))
        if kind in ("image_folder", "shapes"):
            form.addRow("Image size", self.size)
            form.addRow("Channels", self.channels)
        if kind == "shapes":
            form.addRow("Images", self.count)
            form.addRow("Noise", self.noise)
        form.addRow("Validation share", self.val_fraction)
        self._extra = {k: v for k, v in start.items() if k in ("seed", "limit", "normalize",
                                                               "augment", "class_names",
                                                               "features", "delimiter")}

        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.preview)
        self.error = QLabel()
        self.error.setObjectName("datasetError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #D93025;")
        self.summary = QLabel("Preview the data before training.")
        self.summary.setObjectName("datasetSummary")
        self.summary.setWordWrap(True)
        self.grid = ImageGrid()
        self.grid.setMinimumSize(420, 220)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this dataset")
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(form)
        layout.addWidget(self.preview_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addWidget(self.summary)
        layout.addWidget(self.grid, 1)
        layout.addWidget(buttons)
        self.resize(560, 560)
        if kind not in FILE_KINDS or self.path.text():
            self.preview()

    # --- the spec ---------------------------------------------------------------------------------
    def spec(self) -> dict:
        spec: dict = {"kind": self.kind, **self._extra}
        if self.kind in FILE_KINDS:
            spec["path"] = self._stored_path(self.path.text().strip())
        if self.kind == "csv":
            spec["target"] = self.target.currentText()
            spec["task"] = self.task.currentText()
        if self.kind in ("image_folder", "shapes"):
            spec["size"] = self.size.value()
            spec["channels"] = int(self.channels.currentText())
        if self.kind == "shapes":
            spec["count"] = self.count.value()
            spec["noise"] = round(self.noise.value(), 4)
        if abs(self.val_fraction.value() - 0.2) > 1e-9:
            spec["val_fraction"] = round(self.val_fraction.value(), 4)
        return spec

    def _stored_path(self, text: str) -> str:
        """Relative to the project's folder when inside it (the project can move with it)."""
        if not text or self.base_dir is None or text.startswith("resources:"):
            return text
        try:
            return os.path.relpath(Path(text).resolve(), Path(self.base_dir).resolve()) \
                if Path(text).resolve().is_relative_to(Path(self.base_dir).resolve()) else text
        except (OSError, ValueError):
            return text

    def _browse(self) -> None:
        start = self.path.text() or str(self.base_dir or Path.home())
        if FILE_KINDS.get(self.kind):
            path = QFileDialog.getExistingDirectory(self, "Choose the dataset folder", start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a CSV file", start,
                                                  "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.path.setText(path)
            if self.kind == "csv":
                self._fill_columns()
            self.preview()

    def _resolved(self) -> Path | None:
        from layerlab.engine.data.paths import RESOURCES_PREFIX, resources_dir
        text = self.path.text().strip()
        if not text:
            return None
        if text.startswith(RESOURCES_PREFIX):          # a bundled file (house_mlp's CSV)
            return resources_dir() / text[len(RESOURCES_PREFIX):].lstrip("/\\")
        path = Path(text).expanduser()
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path

    def _fill_columns(self, wanted: str = "") -> None:
        path = self._resolved()
        columns = csv_columns(path) if path is not None and path.is_file() else []
        current = wanted or self.target.currentText()
        self.target.clear()
        self.target.addItems(columns)
        if current in columns:
            self.target.setCurrentText(current)
        elif columns:
            self.target.setCurrentIndex(len(columns) - 1)   # the last column, by convention

    # --- preview ----------------------------------------------------------------------------------
    def preview(self) -> None:
        from layerlab.engine.data import DatasetError, load_dataset
        self._request += 1
        request, spec, base = self._request, self.spec(), self.base_dir
        self.error.setText("")
        self.summary.setText("Loading…")
        self.ok_button.setEnabled(False)
        loaded = self._loaded

        def work() -> None:
            try:
                ds, message = load_dataset(spec, base), ""
            except DatasetError as exc:
                ds, message = None, str(exc)
            except Exception as exc:  # noqa: BLE001 — shown, never raised into Qt
                ds, message = None, f"{type(exc).__name__}: {exc}"
            try:
                loaded.done.emit(request, ds, message)
            except RuntimeError:      # the dialog closed meanwhile
                pass
        threading.Thread(target=work, name="dataset-preview", daemon=True).start()

    @gui_only
    def _show_loaded(self, request: int, ds, message: str) -> None:
        if request != self._request:
            return                        # an older preview finished after a newer one began
        self.dataset = ds
        self.ok_button.setEnabled(ds is not None)
        if ds is None:
            self.error.setText(message)
            self.summary.setText("")
            self.grid.clear_tiles()
            return
        self.summary.setText(summarize(ds))
        if len(ds.input_shape) == 3:
            k = min(PREVIEW_SAMPLES, len(ds.y_train))
            images = display_images(ds, ds.x_train[:k].numpy())
            labels = ds.y_train[:k].tolist()
            names = ds.class_names
            self.grid.set_tiles(images, tips=[names[i] if i < len(names) else str(i)
                                              for i in labels])
        else:
            self.grid.clear_tiles()

    def class_counts(self) -> dict[str, int]:
        ds = self.dataset
        if ds is None or ds.task != "classification":
            return {}
        counts = np.bincount(np.concatenate([ds.y_train.numpy(), ds.y_val.numpy()]),
                             minlength=len(ds.class_names))
        return {name: int(c) for name, c in zip(ds.class_names, counts)}
