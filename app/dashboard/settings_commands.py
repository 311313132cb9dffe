"""Undoable edits of the project's "dataset" and "training" sections.

They are not structural (the graph stays as it is), so the structure lock does not refuse
them; but a running training run *holds* its settings (all but the learning rate): while it
runs, an edit — and an undo or redo — of a held setting is refused with the reason
(``SetSection.refusal``, asked by the Editor), never silently applied to the project while
the run goes on with the old value. They mark the project modified and are saved with it
like any other edit. Consecutive edits of one field in one editing session (typing in a
spin box) merge into one undo step.
"""
from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from ..commands import DocumentCommand
from ..document import Document

__all__ = ["SettingsNotifier", "SetSection", "set_setting", "replace_section"]

_SET_SECTION_ID = 4201
_MISSING = object()
SECTIONS = ("dataset", "training")


class SettingsNotifier(QObject):
    """Announces that a section changed (the Document has no signal for sections), and knows
    which settings a run holds (``held(section, key)`` → the reason, or None)."""
    changed = Signal(str)   # "dataset" | "training"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.held = lambda _section, _key: None


class SetSection(DocumentCommand):
    structural = False

    def __init__(self, doc: Document, notifier: SettingsNotifier, section: str, new: dict,
                 text: str, merge_key: tuple | None = None) -> None:
        if section not in SECTIONS:
            raise ValueError(f"unknown project section {section!r}")
        super().__init__(doc, text)
        self.notifier, self.section, self.merge_key = notifier, section, merge_key
        self.old = copy.deepcopy(getattr(doc.project, section) or {})
        self.new = copy.deepcopy(new)

    def id(self) -> int:  # noqa: A003  (Qt's name)
        return _SET_SECTION_ID

    def refusal(self) -> str | None:
        """Why this edit cannot be done or undone now: a running run holds a setting it
        changes (None: it can)."""
        for key in sorted(set(self.old) | set(self.new), key=str):
            if self.old.get(key, _MISSING) != self.new.get(key, _MISSING):
                reason = self.notifier.held(self.section, key)
                if reason:
                    return reason
        return None

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if (not isinstance(other, SetSection) or self.merge_key is None
                or other.merge_key != self.merge_key or other.section != self.section):
            return False
        self.new = other.new
        self.setText(other.text())
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def _apply(self, value: dict) -> None:
        setattr(self.doc.project, self.section, copy.deepcopy(value))
        self.notifier.changed.emit(self.section)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(
        value, float) else str(value)
    return text if len(text) <= 24 else text[:21] + "…"


def set_setting(editor, notifier: SettingsNotifier, section: str, key: str, value: Any,
                session: int | None = None) -> bool:
    """Set ``section.key`` (None removes the key: the engine's default applies). False when
    nothing changed."""
    current = dict(getattr(editor.document.project, section) or {})
    if value is None:
        if key not in current:
            return False
        current.pop(key)
        text = f"Reset {section}.{key}"
    else:
        if current.get(key, object()) == value:
            return False
        current[key] = copy.deepcopy(value)
        text = f"Set {section}.{key} = {_short(value)}"
    merge = (section, key, session) if session is not None else None
    return editor.push(SetSection(editor.document, notifier, section, current, text, merge))


def replace_section(editor, notifier: SettingsNotifier, section: str, new: dict,
                    text: str) -> bool:
    """Replace a whole section in one undo step (e.g. importing a dataset)."""
    if (getattr(editor.document.project, section) or {}) == new:
        return False
    return editor.push(SetSection(editor.document, notifier, section, new, text))
