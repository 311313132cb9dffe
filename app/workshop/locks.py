"""A workshop pack's locked values, enforced on the document's undo stack.

:class:`PackLocks` is what workshop mode installs with ``Editor.set_value_locks``: the panels
ask :meth:`reason` to draw a lock icon with the teacher's reason beside a field, and the editor
asks :meth:`refusal` before every edit, undo and redo — so a locked value cannot change by
typing, by Undo/Redo of an older edit, by a one-click fix or by a lesson's "Show me". The pack
itself decides what is locked (``Pack.is_locked``, engine/lessons/pack); this module only
works out which values a command would change.
"""
from __future__ import annotations

from typing import Iterator

from layerlab.engine import edits as E

from .. import commands
from ..dashboard.settings_commands import SetSection

__all__ = ["PackLocks", "changed_values", "NOT_A_PACK_PROJECT"]

#: The project key of a document that is not one of the pack's projects (a lesson's own
#: starting project): only the locks that name no project apply to it.
NOT_A_PACK_PROJECT = ""

Change = tuple[str, "str | None"]     # (node id | "training" | "dataset", param | None: any)


class PackLocks:
    """The locks of ``pack`` for the open document, which is pack project ``key`` (or
    :data:`NOT_A_PACK_PROJECT`)."""

    def __init__(self, pack, key: str = NOT_A_PACK_PROJECT) -> None:
        self.pack = pack
        self.key = key

    def reason(self, target: str, param: str | None = None) -> str | None:
        return self.pack.is_locked(target, param, project=self.key)

    def refusal(self, command) -> str | None:
        """Why ``command`` may not be done, undone or redone: the first locked value it would
        change, named, with the teacher's reason."""
        for target, param in changed_values(command):
            reason = self.reason(target, param)
            if reason:
                what = f"{target}.{param}" if param else target
                return f"{what} is locked in this workshop: {reason}"
        return None


def changed_values(command) -> Iterator[Change]:
    """The values ``command`` changes — the same whichever way it runs (undo restores what
    redo replaced). Removing or renaming a node changes all of its values."""
    if isinstance(command, commands.SetParam):
        if command.old != command.new:
            yield command.node_id, command.name
    elif isinstance(command, (SetSection, commands.SetProjectSection)):
        old, new = command.old, command.new
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key, _MISSING) != new.get(key, _MISSING):
                yield command.section, key
    elif isinstance(command, commands.ApplyFix):
        if command.parts is not None:          # done once: its commands say
            for part in command.parts:
                yield from changed_values(part)
        else:                                  # not done yet: its edits say
            yield from _fix_changes(command)
    elif isinstance(command, commands.Composite):
        for part in command.parts:
            yield from changed_values(part)
    elif isinstance(command, commands.DeleteItems):
        for _index, node in command.nodes:
            yield node.id, None
    elif isinstance(command, commands.RenameNode):
        yield command.old, None
        yield command.new, None


_MISSING = object()


def _fix_changes(command: "commands.ApplyFix") -> Iterator[Change]:
    project = command.doc.project
    for edit in command.fix.edits:
        if isinstance(edit, E.SetParams):
            node = project.graph.nodes.get(edit.node)
            current = node.params if node is not None else {}
            for name, value in edit.params.items():
                if current.get(name, None) != value:
                    yield edit.node, name
        elif isinstance(edit, E.SetSection):
            current = dict(getattr(project, edit.section) or {})
            keys = set(edit.values) | (set(current) if edit.replace else set())
            for key in sorted(keys, key=str):
                if current.get(key, None) != edit.values.get(key, None):
                    yield edit.section, key
        elif isinstance(edit, E.RemoveNode):
            yield edit.id, None
        elif isinstance(edit, E.Rename):
            yield edit.old, None
