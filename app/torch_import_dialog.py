"""File ▸ Import ▸ PyTorch Module: which Python file (or module), which function or class
makes the network, and one sample's shape — and, before anything runs, that importing RUNS
that code (in a process of its own, as ``layerlab import --torch`` does).

The file's functions and classes are offered by reading its source with ``ast``: nothing of
it runs until the person presses Import.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from layerlab.engine.commands.import_onnx import parse_input_shape as parse_shape

__all__ = ["TorchImportDialog", "TorchImportChoice", "factories_in"]

WARNING = ("<b>This runs the Python code you choose</b> on this computer — importing the file "
           "and calling the function, in a separate process — exactly as running it yourself "
           "would. Only import code you trust.")


@dataclass(frozen=True)
class TorchImportChoice:
    target: str          # what ``layerlab import --torch`` takes: file.py:factory or pkg.mod:f
    input_shape: str     # "C,H,W" or "F"
    folder: Path | None  # where the import runs (the file's folder: its own imports work)
    source: str          # how the reports name it


class TorchImportDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Import a PyTorch module")
        self.setObjectName("torchImportDialog")
        self.resize(560, 0)
        warning = QLabel(WARNING)
        warning.setWordWrap(True)
        warning.setObjectName("runsCodeWarning")
        warning.setStyleSheet("QLabel { background: #FFF4D6; color: #5C4100; padding: 8px; "
                              "border: 1px solid #E0C070; border-radius: 4px; }")
        self.source = QLineEdit()
        self.source.setPlaceholderText("mynets.py, or an installed module: package.module")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(browse)
        self.factory = QComboBox()
        self.factory.setEditable(True)
        self.factory.lineEdit().setPlaceholderText("make_net (a function or an nn.Module class)")
        self.shape = QLineEdit(str(settings.value("import/torchShape", "3,32,32"))
                               if settings is not None else "3,32,32")
        self.shape.setToolTip("One sample's shape without the batch: C,H,W for images (e.g. "
                              "3,32,32), F for feature vectors")
        self.error = QLabel()
        self.error.setObjectName("torchImportError")
        self.error.setStyleSheet("QLabel { color: #B00020; }")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Python file or module:", row)
        form.addRow("Function or class:", self.factory)
        form.addRow("Input shape (C,H,W):", self.shape)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run and Import")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.source.editingFinished.connect(self._list_factories)

    def _browse(self) -> None:
        start = str(self.settings.value("import/torchDir", str(Path.home()))) \
            if self.settings is not None else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "A Python file that makes the network",
                                              start, "Python files (*.py);;All files (*)")
        if path:
            self.source.setText(path)
            self._list_factories()

    def _list_factories(self) -> None:
        path = Path(self.source.text().strip())
        if path.suffix != ".py" or not path.is_file():
            return
        current = self.factory.currentText()
        names = factories_in(path)
        self.factory.clear()
        self.factory.addItems(names)
        if current in names:
            self.factory.setCurrentText(current)

    def _accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        if self.settings is not None:
            self.settings.setValue("import/torchShape", self.shape.text().strip())
            choice = self.choice()
            if choice.folder is not None:
                self.settings.setValue("import/torchDir", str(choice.folder))
        self.accept()

    def problem(self) -> str | None:
        """What keeps the import from starting, in words; None when it can start."""
        text = self.source.text().strip()
        if not text:
            return "Choose a Python file (or name a module)."
        if text.endswith(".py") and not Path(text).is_file():
            return f"{text} does not exist."
        if not self.factory.currentText().strip().isidentifier():
            return "Name the function or class that makes the network (e.g. make_net)."
        if parse_shape(self.shape.text()) is None:
            return (f"The input shape must be C,H,W or F in whole numbers (e.g. 3,32,32), not "
                    f"'{self.shape.text()}'.")
        return None

    def choice(self) -> TorchImportChoice:
        text = self.source.text().strip()
        factory = self.factory.currentText().strip()
        shape = ",".join(str(v) for v in parse_shape(self.shape.text()) or ())
        if text.endswith(".py"):
            path = Path(text).resolve()
            return TorchImportChoice(f"{path.name}:{factory}", shape, path.parent,
                                     f"{path.name}:{factory}")
        return TorchImportChoice(f"{text}:{factory}", shape, None, f"{text}:{factory}")


def factories_in(path: Path) -> list[str]:
    """The top-level functions and classes of a Python file, read (not run); [] when it does
    not parse."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")]
