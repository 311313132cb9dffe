"""One editor widget per registry parameter kind, chosen by :func:`editor_for`.

Every editor emits ``edited(value)`` with a value its Param accepts, ``finished()`` when an
editing session of the field ends (focus out, Enter, a click on a check box), and offers a
silent ``set_value``. They know nothing about nodes or the document.
"""
from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QBoxLayout, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QSpinBox, QWidget)

from layerlab.engine.params import (BoolParam, ChoiceParam, ColumnParam, FloatParam, IntParam,
                                    NumbersParam, PaddingParam, PairParam, Param, ParamError,
                                    PathParam, ShapeParam, TextListParam, TextParam)

__all__ = ["ParamEditor", "editor_for"]

INT_MIN, INT_MAX = -(2 ** 31) + 1, 2 ** 31 - 1


class ParamEditor(QWidget):
    edited = Signal(object)
    finished = Signal()

    _own_tip = ""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setObjectName(f"param_{param.name}")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(6)
        #: The workshop's reason when this value is locked (a padlock shows it), else None.
        self.locked_reason: str | None = None
        self._lock_mark = None

    def value(self) -> Any:
        raise NotImplementedError

    def set_locked(self, reason: str | None) -> None:
        """Read-only with a padlock whose tooltip is ``reason`` (a workshop pack's lock);
        None: editable again (as far as the caller's own enabled state allows)."""
        from ..workshop.lock_marks import LockMark
        if reason and self._lock_mark is None:
            self._lock_mark = LockMark()
            self.row.insertWidget(0, self._lock_mark)
        self.locked_reason = reason or None
        if self._lock_mark is not None:
            self._lock_mark.set_reason(reason)
        for child in self.findChildren(QWidget):
            if child is not self._lock_mark and child.parent() is self:
                child.setEnabled(not reason)
        self.setToolTip(f"Locked by the workshop: {reason}" if reason else self._own_tip)

    def setToolTip(self, text: str) -> None:  # noqa: N802  (Qt's name)
        if not text.startswith("Locked by the workshop"):
            self._own_tip = text
        super().setToolTip(text)

    def set_value(self, value: Any) -> None:
        children = self.findChildren(QWidget)
        previous = [w.blockSignals(True) for w in children]
        try:
            self._show(value)
        finally:
            for widget, was in zip(children, previous):
                widget.blockSignals(was)
        if self.locked_reason:          # _show may enable parts again (PairEditor)
            self.set_locked(self.locked_reason)

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def _emit(self, *_args) -> None:
        try:
            self.edited.emit(self.param.check(self.value()))
        except ParamError:
            pass


def _int_spin(lo: int | None, hi: int | None) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(INT_MIN if lo is None else lo, INT_MAX if hi is None else min(hi, INT_MAX))
    spin.setKeyboardTracking(True)
    spin.setAccelerated(True)
    spin.setMinimumWidth(72)
    spin.setMaximumWidth(130)
    return spin


class IntEditor(ParamEditor):
    """A spin box; with ``none_text`` ("all") one step below the minimum shows that text and
    means null."""

    def __init__(self, param: IntParam, parent=None) -> None:
        super().__init__(param, parent)
        self.none_value = None
        lo = param.minimum
        if param.none_text is not None:
            self.none_value = (0 if lo is None else lo) - 1
            lo = self.none_value
        self.spin = _int_spin(lo, param.maximum)
        if param.none_text is not None:
            self.spin.setSpecialValueText(param.none_text)
        self.row.addWidget(self.spin)
        self.row.addStretch(1)
        self.spin.valueChanged.connect(self._emit)
        self.spin.editingFinished.connect(self.finished)

    def value(self) -> int | None:
        value = self.spin.value()
        return None if self.none_value is not None and value == self.none_value else value

    def _show(self, value: Any) -> None:
        self.spin.setValue(self.none_value if value is None else int(value))


class _FloatSpin(QDoubleSpinBox):
    """Shows 1e-05 and 0.5 as written instead of a fixed number of decimals."""

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        ok = re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)?([eE][-+]?\d*)?", text.strip()) is not None
        return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos


class FloatEditor(ParamEditor):
    def __init__(self, param: FloatParam, parent=None) -> None:
        super().__init__(param, parent)
        self.spin = _FloatSpin()
        self.spin.setDecimals(10)
        hi = 1e12 if param.maximum is None else param.maximum
        if param.exclusive_max:
            hi = hi - 1e-9
        self.spin.setRange(-1e12 if param.minimum is None else param.minimum, hi)
        self.spin.setSingleStep(0.05 if hi <= 1 else 0.1)
        self.spin.setKeyboardTracking(True)
        self.spin.setMinimumWidth(72)
        self.spin.setMaximumWidth(130)
        self.row.addWidget(self.spin)
        self.row.addStretch(1)
        self.spin.valueChanged.connect(self._emit)
        self.spin.editingFinished.connect(self.finished)

    def value(self) -> float:
        return float(self.spin.value())

    def _show(self, value: Any) -> None:
        self.spin.setValue(float(value))


class BoolEditor(ParamEditor):
    def __init__(self, param: BoolParam, parent=None) -> None:
        super().__init__(param, parent)
        self.box = QCheckBox("on")
        self.row.addWidget(self.box, 1)
        self.box.toggled.connect(self._emit)
        self.box.toggled.connect(lambda _on: self.finished.emit())

    def value(self) -> bool:
        return self.box.isChecked()

    def _show(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class ChoiceEditor(ParamEditor):
    def __init__(self, param: ChoiceParam, parent=None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox()
        for choice in param.choices:
            self.combo.addItem(param.label(choice), choice)
        self.row.addWidget(self.combo, 1)
        self.combo.currentIndexChanged.connect(self._emit)
        self.combo.currentIndexChanged.connect(lambda _i: self.finished.emit())

    def value(self) -> Any:
        return self.combo.currentData()

    def _show(self, value: Any) -> None:
        index = next((i for i, c in enumerate(self.param.choices)
                      if c == value and type(c) is type(value)), 0)
        self.combo.setCurrentIndex(index)


class PairEditor(ParamEditor):
    """An int, or [h, w] with "separate h/w" ticked; pooling strides may be "= kernel"
    (None); Conv2d padding may also be "same" or "valid"."""
    MODES = ("number", "same", "valid")

    def __init__(self, param: PairParam, parent=None) -> None:
        super().__init__(param, parent)
        self.mode = None
        if isinstance(param, PaddingParam) and param.allow_strings:
            self.mode = QComboBox()
            self.mode.addItems(list(self.MODES))
            self.mode.setObjectName("mode")
            self.row.addWidget(self.mode)
            self.mode.currentIndexChanged.connect(self._changed)
        self.auto = None
        if param.allow_none:
            self.auto = QCheckBox("= kernel")
            self.auto.setToolTip("use the kernel size (PyTorch's default)")
            self.row.addWidget(self.auto)
            self.auto.toggled.connect(self._changed)
        self.h = _int_spin(param.minimum, param.maximum)
        self.times = QLabel("×")
        self.w = _int_spin(param.minimum, param.maximum)
        self.separate = QCheckBox("h/w")
        self.separate.setToolTip("different height and width: [h, w]")
        line = self.row
        if self.mode is not None or self.auto is not None:
            # the choice on its own line above the numbers: the inspector stays narrow
            self.row.setDirection(QBoxLayout.Direction.TopToBottom)
            line = QHBoxLayout()
            line.setSpacing(6)
            self.row.addLayout(line)
        for widget in (self.h, self.times, self.w, self.separate):
            line.addWidget(widget)
        line.addStretch(1)
        self.h.valueChanged.connect(self._emit)
        self.w.valueChanged.connect(self._emit)
        self.separate.toggled.connect(self._changed)
        for spin in (self.h, self.w):
            spin.editingFinished.connect(self.finished)
        self._sync_enabled()

    def _changed(self, *_args) -> None:
        self._sync_enabled()
        self._emit()
        self.finished.emit()

    def _sync_enabled(self) -> None:
        numeric = (self.mode is None or self.mode.currentIndex() == 0) and not (
            self.auto is not None and self.auto.isChecked())
        separate = self.separate.isChecked()
        self.h.setEnabled(numeric)
        self.w.setEnabled(numeric)
        self.separate.setEnabled(numeric)
        self.w.setVisible(separate)
        self.times.setVisible(separate)

    def value(self) -> Any:
        if self.auto is not None and self.auto.isChecked():
            return None
        if self.mode is not None and self.mode.currentIndex() > 0:
            return self.MODES[self.mode.currentIndex()]
        if self.separate.isChecked():
            return [self.h.value(), self.w.value()]
        return self.h.value()

    def _show(self, value: Any) -> None:
        if self.auto is not None:
            self.auto.setChecked(value is None)
        if self.mode is not None:
            self.mode.setCurrentIndex(self.MODES.index(value) if isinstance(value, str) else 0)
        if isinstance(value, (list, tuple)):
            self.separate.setChecked(True)
            self.h.setValue(int(value[0]))
            self.w.setValue(int(value[1]))
        elif isinstance(value, int):
            self.separate.setChecked(False)
            self.h.setValue(value)
            self.w.setValue(value)
        self._sync_enabled()


def _mark(line: QLineEdit, error: str | None) -> str | None:
    """A red frame and the reason as tooltip on text that is not applied; None clears it."""
    line.setStyleSheet("QLineEdit { border: 2px solid #D93025; }" if error else "")
    line.setToolTip(error or "")
    return error


class ShapeEditor(ParamEditor):
    """Text like "1, 28, 28" (or "1×28×28"); invalid text turns red and is not applied."""

    def __init__(self, param: ShapeParam, parent=None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit()
        self.line.setPlaceholderText("channels, height, width  —  or  features")
        self.row.addWidget(self.line, 1)
        self.error: str | None = None
        self._shown: Any = None
        self.line.textEdited.connect(self._typed)
        self.line.editingFinished.connect(self._done)

    @staticmethod
    def parse(text: str) -> list[int] | None:
        parts = [p for p in re.split(r"[,\s×xX*]+", text.strip()) if p]
        if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
            return None
        return [int(p) for p in parts]

    def value(self) -> Any:
        return self.parse(self.line.text())

    def _typed(self, text: str) -> None:
        value = self.parse(text)
        try:
            if value is None:
                raise ParamError("write the shape as numbers separated by commas, "
                                 "e.g. 1, 28, 28 (an image) or 13 (features)")
            value = self.param.check(value)
        except ParamError as exc:
            self.error = _mark(self.line, str(exc))
            return
        self.error = _mark(self.line, None)
        self.edited.emit(value)

    def _done(self) -> None:
        if self.error is not None:   # leave the field showing what the document holds
            self.set_value(self._shown)
        self.finished.emit()

    def _show(self, value: Any) -> None:
        self._shown = value
        self.error = None
        self.line.setStyleSheet("")
        self.line.setText(", ".join(str(v) for v in value) if value else "")


class TextEditor(ParamEditor):
    """One line of text (a name, a path, "a, b, c", "0.5" or "0.1, 0.2, 0.3"), converted by
    the Param's ``from_text`` / ``to_text``; a path gets a Browse… button. Text that does not
    convert turns red and is not applied."""

    def __init__(self, param: TextParam, parent=None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit()
        self.row.addWidget(self.line, 1)
        self.error: str | None = None
        #: Where Browse… starts (the dialog sets the project's folder).
        self.start_dir = ""
        if isinstance(param, PathParam):
            self.line.setPlaceholderText("choose a folder" if param.folder else "choose a file")
            self.browse = QPushButton("Browse…")
            self.browse.clicked.connect(self._browse)
            self.row.addWidget(self.browse)
        self.line.textEdited.connect(self._typed)
        self.line.editingFinished.connect(self.finished)

    def value(self) -> Any:
        return self.param.from_text(self.line.text())

    def _typed(self, _text: str = "") -> None:
        try:
            value = self.value()
        except ParamError as exc:
            self.error = _mark(self.line, str(exc))
            return
        self.error = _mark(self.line, None)
        self.edited.emit(value)

    def _browse(self) -> None:
        start = self.line.text() or self.start_dir
        if self.param.folder:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a file", start,
                                                  "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.line.setText(path)
            self._typed()
            self.finished.emit()

    def _show(self, value: Any) -> None:
        self.error = None
        self.line.setStyleSheet("")
        self.line.setText(self.param.to_text(value))


class ColumnEditor(ParamEditor):
    """A table's column(s), picked from ``set_columns`` (the file's header): a combo box for
    one column, a list of check boxes for several (all ticked means null: every other
    column). Values not among the columns are kept and shown, never dropped."""

    def __init__(self, param: ColumnParam, parent=None) -> None:
        super().__init__(param, parent)
        self.columns: list[str] = []
        self.excluded: set[str] = set()
        self._value: Any = param.default
        if param.multiple:
            self.list = QListWidget()
            self.list.setMaximumHeight(110)
            self.row.addWidget(self.list, 1)
            self.list.itemChanged.connect(self._ticked)
        else:
            self.combo = QComboBox()
            self.row.addWidget(self.combo, 1)
            self.combo.activated.connect(self._picked)

    def set_columns(self, columns: list[str], excluded: list[str] = ()) -> None:
        self.columns, self.excluded = list(columns), set(excluded)
        self.set_value(self._value)

    def value(self) -> Any:
        return self._value

    def _picked(self, index: int) -> None:
        self._value = self.combo.itemData(index)
        self.edited.emit(self._value)
        self.finished.emit()

    def _ticked(self, _item) -> None:
        items = [self.list.item(i) for i in range(self.list.count())]
        usable = [i for i in items if i.flags() & Qt.ItemFlag.ItemIsEnabled]
        ticked = [i.text() for i in usable if i.checkState() == Qt.CheckState.Checked]
        self._value = None if len(ticked) == len(usable) else ticked
        self.edited.emit(self._value)
        self.finished.emit()

    def _show(self, value: Any) -> None:
        self._value = value
        if self.param.multiple:
            self.list.clear()
            for name in self.columns:
                item = QListWidgetItem(name)
                if name in self.excluded:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                    item.setCheckState(Qt.CheckState.Unchecked)
                    item.setToolTip("the column to predict")
                else:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Checked
                                       if value is None or name in value
                                       else Qt.CheckState.Unchecked)
                self.list.addItem(item)
            return
        self.combo.clear()
        for name in self.columns:
            self.combo.addItem(name, name)
        if value is None:
            self.combo.setCurrentIndex(-1)
        elif isinstance(value, str) and value in self.columns:
            self.combo.setCurrentIndex(self.columns.index(value))
        else:                                       # a list of columns, or one not in the file
            self.combo.addItem(", ".join(value) if isinstance(value, list) else str(value), value)
            self.combo.setCurrentIndex(self.combo.count() - 1)


def editor_for(param: Param, parent: QWidget | None = None) -> ParamEditor:
    if isinstance(param, PairParam):      # PaddingParam too
        return PairEditor(param, parent)
    kinds = {IntParam: IntEditor, FloatParam: FloatEditor, BoolParam: BoolEditor,
             ChoiceParam: ChoiceEditor, ShapeParam: ShapeEditor, TextParam: TextEditor,
             TextListParam: TextEditor, NumbersParam: TextEditor, ColumnParam: ColumnEditor}
    for cls, editor in kinds.items():
        if isinstance(param, cls):
            return editor(param, parent)
    raise TypeError(f"no editor for parameter kind {param.kind!r}")
