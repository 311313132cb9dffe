"""The inspector: the selected layer's name, parameters (editors generated from the registry),
shapes, the worked arithmetic with the user's own numbers, and its explanation."""
from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (QDockWidget, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QScrollArea, QVBoxLayout, QWidget)

from layerlab.engine import find_layer, format_shape

from ..editor import Editor
from ..icons import group_icon
from ..workshop.lock_marks import LOCK_COLOR
from .param_editors import ParamEditor, editor_for

__all__ = ["InspectorPanel"]

ARITHMETIC_SCALE = 1.45


def _wrap_label(text: str = "", selectable: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _dim(label: QLabel) -> None:
    """Secondary text: the palette's placeholder colour, slightly smaller."""
    pal = label.palette()
    pal.setColor(QPalette.ColorRole.WindowText, pal.color(QPalette.ColorRole.PlaceholderText))
    label.setPalette(pal)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)


class InspectorPanel(QScrollArea):
    def __init__(self, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Never wider than the dock: every row wraps instead (the arithmetic reads whole).
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.editor = editor
        self.doc = editor.document
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self._sessions: dict[str, int] = {}
        self._body: QWidget | None = None
        #: More sections for a layer, added by other parts of the window (the dashboard's
        #: activation plot): ``section(node_id, node_type, group) -> QWidget | None``.
        self.sections: list = []
        sel = editor.selection
        sel.currentChanged.connect(lambda _n: self.rebuild())
        sel.currentChanged.connect(self._bring_forward)
        sel.changed.connect(lambda _n: self.rebuild() if self.node_id is None else None)
        self.doc.nodeChanged.connect(self._node_changed)
        self.doc.nodeRenamed.connect(self._renamed)
        self.doc.analysisChanged.connect(lambda _a: self.refresh_analysis())
        self.doc.lockChanged.connect(lambda _r: self._apply_lock())
        editor.valueLocksChanged.connect(self._apply_lock)
        editor.concealedChanged.connect(self.refresh_analysis)
        self.doc.projectReset.connect(self.rebuild)
        self.rebuild()

    # --- building ----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802  (the dock's first width/height)
        return QSize(400, 600)

    def rebuild(self) -> None:
        node_id = self.editor.selection.current
        if node_id is not None and node_id not in self.doc.graph.nodes:
            node_id = None
        self.node_id = node_id
        self.editors.clear()
        self._sessions.clear()
        self._lock_notes: dict[str, QLabel] = {}
        body = QWidget()
        self.layout_ = QVBoxLayout(body)
        self.layout_.setContentsMargins(12, 12, 12, 12)
        self.layout_.setSpacing(10)
        if node_id is None:
            self._build_empty()
        else:
            self._build_node(node_id)
        self.layout_.addStretch(1)
        self.setWidget(body)   # deletes the previous body
        self._body = body
        self.refresh_analysis()
        self._apply_lock()

    def _build_empty(self) -> None:
        count = len(self.editor.selection.nodes)
        text = (f"{count} layers selected." if count > 1 else
                "Select a layer on the canvas to see and edit its parameters, its shapes "
                "and the arithmetic behind them.")
        hint = _wrap_label(text)
        hint.setObjectName("inspectorHint")
        self.layout_.addWidget(hint)
        self.arithmetic = self.shapes = self.problem = None

    def _build_node(self, node_id: str) -> None:
        node = self.doc.node(node_id)
        spec = find_layer(node.type)
        header = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(group_icon(spec.group if spec else "").pixmap(32, 32))
        group = html.escape(spec.group if spec else "")
        title = QLabel(f"<b>{html.escape(node.type)}</b>"
                       f"<br><span style='font-size:small'>{group}</span>")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        title.setFont(font)
        title.setWordWrap(True)
        header.addWidget(icon)
        header.addWidget(title, 1)
        self.layout_.addLayout(header)
        if spec:
            summary = _wrap_label(spec.summary)
            summary.setStyleSheet("font-style: italic;")
            self.layout_.addWidget(summary)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)   # field under its name
        self.id_edit = QLineEdit(node_id)
        self.id_edit.setObjectName("nodeIdEdit")
        self.id_edit.setToolTip("The layer's name: letters, digits and _, unique in the graph. "
                                "It names the layer in the built model and exported code.")
        self.id_edit.textEdited.connect(self._check_name)
        self.id_edit.editingFinished.connect(self._commit_name)
        form.addRow("name", self.id_edit)
        self.name_error = _wrap_label()
        self.name_error.setStyleSheet("color: #D93025;")
        self.name_error.hide()
        form.addRow("", self.name_error)
        for param in (spec.params if spec else ()):
            editor = editor_for(param)
            editor.set_value(node.params.get(param.name, param.default))
            editor.setToolTip(f"{param.help} ({param.describe()})")
            editor.edited.connect(lambda v, n=param.name: self._edited(n, v))
            editor.finished.connect(lambda n=param.name: self._sessions.pop(n, None))
            self.editors[param.name] = editor
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            box.addWidget(editor)
            help_label = _wrap_label(param.help, selectable=False)
            _dim(help_label)
            box.addWidget(help_label)
            lock_note = _wrap_label(selectable=False)       # the workshop's reason, if locked
            lock_note.setObjectName(f"lockNote_{param.name}")
            lock_note.setStyleSheet(f"color: {LOCK_COLOR};")
            lock_note.hide()
            box.addWidget(lock_note)
            self._lock_notes[param.name] = lock_note
            form.addRow(param.name, cell)
        params_box = QGroupBox("Parameters")
        params_box.setLayout(form)
        self.layout_.addWidget(params_box)

        self.problem = _wrap_label()
        self.problem.setObjectName("inspectorProblem")
        self.problem.setStyleSheet("QLabel { color: white; background: #C5362C; "
                                   "border-radius: 5px; padding: 8px; }")
        self.layout_.addWidget(self.problem)
        self.shapes = _wrap_label()
        self.shapes.setObjectName("inspectorShapes")
        self.layout_.addWidget(self.shapes)

        arith_box = QGroupBox("Worked arithmetic")
        arith_layout = QVBoxLayout(arith_box)
        self.arithmetic = _wrap_label()
        self.arithmetic.setObjectName("arithmetic")
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * ARITHMETIC_SCALE)
        self.arithmetic.setFont(big)
        arith_layout.addWidget(self.arithmetic)
        self.layout_.addWidget(arith_box)

        if spec:
            what = QGroupBox("What it does")
            what_layout = QVBoxLayout(what)
            what_layout.addWidget(_wrap_label(spec.explanation))
            self.layout_.addWidget(what)
        for section in self.sections:
            widget = section(node_id, node.type, spec.group if spec else "")
            if widget is not None:
                self.layout_.addWidget(widget)

    def _bring_forward(self, node_id: str | None) -> None:
        """A layer was selected: show its inspector, if it is tabbed behind another panel
        (the Training tab on first launch) — not if the person closed it."""
        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if node_id is None or dock is None or not dock.toggleViewAction().isChecked():
            return
        if self.visibleRegion().isEmpty():
            dock.raise_()

    # --- updates ------------------------------------------------------------------------------
    def refresh_analysis(self) -> None:
        if self.node_id is None or self.node_id not in self.doc.graph.nodes:
            return
        info = self.doc.analysis.nodes.get(self.node_id)
        spec = find_layer(self.doc.node(self.node_id).type)
        if info is None:
            return
        if info.status == "error":
            self.problem.setText(f"<b>Problem:</b> {html.escape(info.error or '')}")
            self.problem.show()
        else:
            self.problem.hide()
        if info.status == "ok" and self.editor.concealed is not None:
            self.shapes.setText(f"<i>{html.escape(self.editor.concealed)}</i>")
            self.arithmetic.setText("<i>Shown once you have answered.</i>")
            return
        if info.status == "ok":
            ins = ", ".join(format_shape(s) for s in info.input_shapes) or "—"
            self.shapes.setText(
                f"<table cellspacing=3><tr><td>input</td><td><b>{ins}</b></td></tr>"
                f"<tr><td>output</td><td><b>{format_shape(info.output_shape)}</b></td></tr>"
                f"<tr><td>parameters</td><td><b>{info.params:,}</b></td></tr>"
                f"<tr><td>multiply-adds</td><td><b>{info.macs:,}</b></td></tr></table>")
        else:
            self.shapes.setText("<i>Shapes unknown until the problem"
                                + (" upstream" if info.status == "unknown" else "")
                                + " is fixed.</i>")
        self.arithmetic.setText(self._arithmetic_html(spec, info))

    @staticmethod
    def _arithmetic_html(spec, info) -> str:
        if spec is None or info.status != "ok" or spec.arithmetic is None:
            return "<i>—</i>"
        try:
            lines = spec.arithmetic(info.resolved, info.input_shapes, info.output_shape)
        except Exception as exc:  # a registry bug must not break the panel
            return f"<i>(arithmetic unavailable: {html.escape(str(exc))})</i>"
        return "".join(f"<p style='margin:0 0 8px 0'>{html.escape(line)}</p>" for line in lines)

    def _node_changed(self, node_id: str) -> None:
        if node_id != self.node_id:
            return
        node = self.doc.node(node_id)
        for name, editor in self.editors.items():
            value = node.params.get(name, editor.param.default)
            if editor.value() != value:
                editor.set_value(value)

    def _renamed(self, old: str, new: str) -> None:
        if self.node_id == old:
            self.node_id = new
            if self.id_edit.text() != new:
                self.id_edit.setText(new)

    def _apply_lock(self) -> None:
        if self.node_id is None:
            return
        for name, editor in self.editors.items():
            editor.setEnabled(self.doc.can_edit_param(self.node_id, name))
            reason = self.editor.locked_value(self.node_id, name)   # a workshop pack's lock
            editor.set_locked(reason)
            note = self._lock_notes.get(name)
            if note is not None:
                note.setText(f"Locked: {reason}" if reason else "")
                note.setVisible(bool(reason))
        self.id_edit.setEnabled(not self.doc.is_locked
                                and not self.editor.locked_value(self.node_id))

    # --- edits ---------------------------------------------------------------------------------
    def _edited(self, name: str, value) -> None:
        if self.node_id is None:
            return
        session = self._sessions.get(name)
        if session is None:
            session = self._sessions[name] = self.editor.new_param_session()
        if not self.editor.set_param(self.node_id, name, value, session) \
                and self.editor.last_refusal and name in self.editors:
            editor = self.editors[name]     # refused (locked): show what the document holds
            editor.set_value(self.doc.node(self.node_id).params.get(name, editor.param.default))

    def _check_name(self, text: str) -> None:
        problem = self.editor.rename_problem(self.node_id, text) if self.node_id else None
        self.name_error.setText(problem or "")
        self.name_error.setVisible(bool(problem))

    def _commit_name(self) -> None:
        if self.node_id is None:
            return
        new = self.id_edit.text().strip()
        if new == self.node_id:
            return
        problem = self.editor.rename_problem(self.node_id, new)
        if problem is None:
            self.editor.rename(self.node_id, new)
            self.name_error.hide()
            return
        # say why the old name is back (it used to revert silently)
        self.id_edit.setText(self.node_id)
        self.name_error.setText(f"Not renamed — {problem}. The name stays '{self.node_id}'.")
        self.name_error.show()
        self.editor.message.emit(f"{self.node_id} not renamed: {problem}")
