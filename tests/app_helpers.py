"""Shared fixtures and event helpers for the GUI tests (tests/test_app_*.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from layerlab.app.dragdrop import layer_mime

LEFT = Qt.MouseButton.LeftButton
NO_BUTTON = Qt.MouseButton.NoButton


class Dialogs:
    """Replaces every modal dialog: records what would have been shown, answers as told."""

    def __init__(self) -> None:
        self.shown: list[dict] = []
        self.answer = QMessageBox.StandardButton.Discard
        self.question_answer = QMessageBox.StandardButton.No
        self.open_path = ""
        self.save_path = ""

    def texts(self) -> str:
        return "\n".join(" ".join(str(v) for v in d.values()) for d in self.shown)


@pytest.fixture
def dialogs(monkeypatch) -> Dialogs:
    rec = Dialogs()

    def box_exec(box):
        rec.shown.append({"kind": "box", "title": box.windowTitle(), "text": box.text(),
                          "info": box.informativeText(), "details": box.detailedText()})
        return rec.answer

    def static(kind):
        def show(parent, title, text, *args, **kwargs):
            rec.shown.append({"kind": kind, "title": title, "text": text})
            return rec.question_answer if kind == "question" else QMessageBox.StandardButton.Ok
        return staticmethod(show)

    monkeypatch.setattr(QMessageBox, "exec", box_exec)
    for kind in ("question", "information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, static(kind))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a: None))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (rec.open_path, "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (rec.save_path, "")))
    return rec


def make_window(tmp_path: Path, qtbot, size: tuple[int, int] | None = (1400, 900)):
    from layerlab.app.main_window import MainWindow
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, autosave_dir=tmp_path / "autosave",
                        autosave_interval_s=3600)
    qtbot.addWidget(window)
    if size:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot, tmp_path, dialogs):
    w = make_window(tmp_path, qtbot)
    yield w
    w.editor.mark_saved()   # closing must not ask about unsaved changes


# --- events -------------------------------------------------------------------------------
def _send_mouse(view, kind, scene_pos: QPointF, button, buttons, modifiers) -> None:
    viewport = view.viewport()
    pos = view.mapFromScene(scene_pos)
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button,
                        buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def drag_mouse(view, start: QPointF, end: QPointF, steps: int = 4,
               modifiers=Qt.KeyboardModifier.NoModifier, button=LEFT) -> None:
    """Press at ``start``, move in steps, release at ``end`` (scene coordinates)."""
    _send_mouse(view, QMouseEvent.Type.MouseButtonPress, start, button, button, modifiers)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        _send_mouse(view, QMouseEvent.Type.MouseMove, p, NO_BUTTON, button, modifiers)
    _send_mouse(view, QMouseEvent.Type.MouseButtonRelease, end, button, NO_BUTTON, modifiers)


def click(view, pos: QPointF, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    _send_mouse(view, QMouseEvent.Type.MouseButtonPress, pos, LEFT, LEFT, modifiers)
    _send_mouse(view, QMouseEvent.Type.MouseButtonRelease, pos, LEFT, NO_BUTTON, modifiers)


def palette_drop(view, type_name: str, scene_pos: QPointF) -> bool:
    """Drag ``type_name`` from the palette and drop it at ``scene_pos``; True if accepted."""
    viewport = view.viewport()
    mime = layer_mime(type_name)
    pos: QPoint = view.mapFromScene(scene_pos)
    action = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(pos, action, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    move = QDragMoveEvent(pos, action, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, move)
    if not move.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), action, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    return drop.isAccepted()


def out_port(window, node_id: str) -> QPointF:
    return window.scene.node_items[node_id].output_port.scenePos()


def in_port(window, node_id: str) -> QPointF:
    """The input port, or for an Input (which has none) a point on its card."""
    item = window.scene.node_items[node_id]
    if item.input_port is None:
        return item.sceneBoundingRect().center()
    return item.input_port.scenePos()


def wire(window, source: str, target: str) -> None:
    """Drag a wire from ``source``'s output port to ``target``'s input port."""
    window.view.centerOn((out_port(window, source) + in_port(window, target)) / 2)
    drag_mouse(window.view, out_port(window, source), in_port(window, target))
