"""The editor: every edit a person (or a later panel) makes goes through here.

:class:`Editor` checks an edit (wiring rules, lock, valid ids), turns it into one command on
its QUndoStack, and reports refusals through ``message`` (the status bar) instead of raising.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QUndoStack

from layerlab.engine import Edge, Node, Project, find_layer
from layerlab.engine.edits import EditError, Fix, apply_edits
from layerlab.engine.inference import Problem
from layerlab.engine.graph import ID_PATTERN
from layerlab.engine.layout import COLUMN_WIDTH, VIEWPORT, layered_positions

from . import clipboard, commands
from .document import Document, ParamFilter
from .selection import Selection
from .wiring import insertion_problem, target_port_for, wire_problem

__all__ = ["Editor"]

log = logging.getLogger(__name__)
PASTE_STEP = 40.0


class Editor(QObject):
    #: A sentence for the status bar: why an edit was refused, or what just happened.
    message = Signal(str)
    #: The document differs from its file (drives the title's [*]).
    modifiedChanged = Signal(bool)
    #: Arrange laid the graph out anew: the canvas shows all of it.
    arranged = Signal()
    #: Every Problem to show (the analysis's, then each problem source's), after each change.
    problemsChanged = Signal(list)
    #: A fix changed the project's "dataset" or "training" section (views showing it reload).
    sectionChanged = Signal(str)
    #: Which values are locked changed (a workshop pack was opened or left): lock icons redraw.
    valueLocksChanged = Signal()
    #: Shapes and parameter counts were hidden or shown again (``concealed``).
    concealedChanged = Signal()

    def __init__(self, document: Document | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document or Document(parent=self)
        self.undo_stack = QUndoStack(self)
        self.selection = Selection(self)
        self.last_refusal: str | None = None
        self._session = 0
        self._forced_modified = False
        self._paste_count = 0
        #: The canvas's visible size in pixels (the view keeps it current): Arrange wraps
        #: a long network into as many rows as show it largest there.
        self.viewport_size: tuple[float, float] = VIEWPORT
        #: Functions project → [Problem] beyond the graph's own (e.g. the dataset's fit,
        #: engine.data.fit.dataset_problems): their problems and fixes show like any other.
        self.problem_sources: list[Callable[[Project], list[Problem]]] = []
        self._problems: list[Problem] | None = None
        #: Values that may not change besides the structure lock — a workshop pack's locked
        #: parameters (app/workshop/locks.py): an object with ``reason(target, param)`` and
        #: ``refusal(command)``, each a sentence or None. None: no such locks.
        self.value_locks = None
        #: Why the shapes and parameter counts are hidden now (a lesson's quiz asks for one:
        #: predict, then reveal), or None. The canvas, Inspector, Summary and status bar
        #: read it.
        self.concealed: str | None = None
        self.undo_stack.cleanChanged.connect(lambda _clean: self._emit_modified())
        self.document.analysisChanged.connect(lambda _a: self.refresh_problems())
        self.document.nodeRemoved.connect(self.selection.forget)
        self.document.nodeRenamed.connect(self.selection.rename)
        self.document.projectReset.connect(self.selection.clear)

    @property
    def graph(self):
        return self.document.graph

    # --- modified state ----------------------------------------------------------------------
    def is_modified(self) -> bool:
        return self._forced_modified or not self.undo_stack.isClean()

    def mark_saved(self) -> None:
        self._forced_modified = False
        self.undo_stack.setClean()
        self._emit_modified()

    def mark_modified(self) -> None:
        """Modified without an undo step (e.g. a recovered autosave)."""
        self._forced_modified = True
        self._emit_modified()

    def reset_history(self) -> None:
        self.undo_stack.clear()
        self._forced_modified = False
        self._emit_modified()

    def _emit_modified(self) -> None:
        try:
            self.modifiedChanged.emit(self.is_modified())
        except RuntimeError:  # the stack is being destroyed with the editor
            pass

    # --- locking ----------------------------------------------------------------------------
    def set_locked(self, reason: str | None, editable_params: ParamFilter | None = None) -> None:
        """Lock structural edits (e.g. while training) with a reason shown to the user;
        ``editable_params(node_id, name)`` may allow some parameter edits. None unlocks."""
        self.document.set_locked(reason, editable_params)

    def set_value_locks(self, locks) -> None:
        """Install (None: remove) per-value locks; every edit, undo and redo asks them."""
        self.value_locks = locks
        self.valueLocksChanged.emit()

    def locked_value(self, target: str, param: str | None = None) -> str | None:
        """Why ``target``'s ``param`` (a node id, or "training" / "dataset"; None: any of its
        parameters) is locked, or None — what the panels show beside a lock icon."""
        return self.value_locks.reason(target, param) if self.value_locks is not None else None

    def _refuse(self, reason: str) -> bool:
        self.last_refusal = reason
        self.message.emit(reason)
        return False

    def _lock_refusal(self) -> str | None:
        reason = self.document.lock_reason
        return f"Editing is locked: {reason}" if reason else None

    def _command_refusal(self, command) -> str | None:
        """Why ``command`` may not be done, undone or redone now: the structure is locked, or
        the command itself says (``refusal()``: e.g. a setting a running run holds)."""
        if getattr(command, "structural", True) and (refusal := self._lock_refusal()):
            return refusal
        if self.value_locks is not None and (refusal := self.value_locks.refusal(command)):
            return refusal
        check = getattr(command, "refusal", None)
        return check() if callable(check) else None

    def push(self, command: commands.DocumentCommand) -> bool:
        """Run ``command`` as one undo step. Never raises into Qt."""
        if refusal := self._command_refusal(command):
            return self._refuse(refusal)
        try:
            self.undo_stack.push(command)
        except Exception as exc:  # a bug must not take the editor down
            log.exception("edit failed: %s", command.text())
            return self._refuse(f"{command.text()} failed: {exc}")
        self.last_refusal = None
        return True

    # --- nodes ---------------------------------------------------------------------------------
    def new_node(self, type_name: str, position: tuple[float, float],
                 node_id: str | None = None) -> Node | None:
        spec = find_layer(type_name)
        if spec is None:
            self._refuse(f"unknown layer type {type_name!r}")
            return None
        node_id = node_id or self.graph.unique_id(spec.id_prefix)
        params = {}
        if spec.type == "Input":   # a new Input takes the shape the dataset gives (issue 10)
            from layerlab.engine.data.fit import new_input_params
            path = self.document.path
            params = new_input_params(self.document.project, path.parent if path else None)
        return Node(node_id, spec.type, params, (float(position[0]), float(position[1])))

    def add_node(self, type_name: str, position: tuple[float, float],
                 node_id: str | None = None) -> str | None:
        node = self.new_node(type_name, position, node_id)
        if node is None or not self.push(commands.AddNode(self.document, node)):
            return None
        self.selection.select([node.id])
        return node.id

    def _room_on(self, edge: Edge, position: tuple[float, float], moving: str | None = None
                 ) -> tuple[tuple[float, float], list[commands.DocumentCommand]]:
        """Where a layer inserted into ``edge`` goes. When the wire's ends are closer than
        two columns, every layer from the target's column on shifts one column right (part
        of the same undo step) and the new layer takes the freed column."""
        graph = self.graph
        (sx, sy), (tx, ty) = graph.nodes[edge.source].position, graph.nodes[edge.target].position
        if tx - sx >= 2 * COLUMN_WIDTH - 1 or tx <= sx:
            return position, []
        old = {n: node.position for n, node in graph.nodes.items()
               if node.position[0] >= tx and n != moving}
        new = {n: (x + COLUMN_WIDTH, y) for n, (x, y) in old.items()}
        shift = commands.MoveNodes(self.document, old, new, "Make room")
        return (sx + COLUMN_WIDTH, sy if abs(ty - sy) < 1 else (sy + ty) / 2), [shift]

    def add_node_on_edge(self, type_name: str, edge: Edge,
                         position: tuple[float, float]) -> str | None:
        if problem := insertion_problem(self.graph, type_name, edge):
            self._refuse(problem)
            return None
        position, shift = self._room_on(edge, position)
        node = self.new_node(type_name, position)
        if node is None:
            return None
        insert = commands.InsertNodeOnEdge(self.document, edge, node=node)
        if not self.push(commands.Composite(self.document, insert.text(), shift + [insert])
                         if shift else insert):
            return None
        self.selection.select([node.id])
        return node.id

    def splice_node(self, node_id: str, edge: Edge, new_pos: tuple[float, float]) -> bool:
        """An unwired node dragged onto a wire: one step that moves and inserts it."""
        node = self.graph.nodes.get(node_id)
        if node is None:
            return False
        if problem := insertion_problem(self.graph, node.type, edge, node_id):
            return self._refuse(problem)
        new_pos, shift = self._room_on(edge, new_pos, moving=node_id)
        insert = commands.InsertNodeOnEdge(self.document, edge, existing_id=node_id,
                                           position=new_pos)
        return self.push(commands.Composite(self.document, insert.text(), shift + [insert])
                         if shift else insert)

    def append_node(self, type_name: str, after: str | None = None) -> str | None:
        """Add a layer to the right of ``after`` (default: the selected node) and wire it
        there when the wiring rules allow — one undo step. Palette double-click."""
        after = after if after is not None else self.selection.current
        if after not in self.graph.nodes:
            x = max((n.position[0] for n in self.graph.nodes.values()), default=-COLUMN_WIDTH)
            return self.add_node(type_name, (x + COLUMN_WIDTH, 0.0))
        ax, ay = self.graph.nodes[after].position
        node = self.new_node(type_name, (ax + COLUMN_WIDTH, ay))
        if node is None:
            return None
        spec = find_layer(type_name)
        parts: list[commands.DocumentCommand] = [commands.AddNode(self.document, node)]
        if spec is not None and spec.takes_inputs:
            parts.append(commands.AddEdge(self.document, Edge(after, node.id, 0)))
        if not self.push(commands.Composite(self.document, f"Add {type_name} after {after}",
                                            parts)):
            return None
        self.selection.select([node.id])
        return node.id

    def delete(self, node_ids: list[str], edges: list[Edge] = ()) -> bool:
        node_ids = [n for n in node_ids if n in self.graph.nodes]
        edges = [e for e in edges if e in self.graph.edges]
        if not node_ids and not edges:
            return False
        return self.push(commands.DeleteItems(self.document, node_ids, edges))

    def delete_selection(self) -> bool:
        return self.delete(self.selection.nodes, self.selection.edges)

    def move_nodes(self, old: dict[str, tuple[float, float]],
                   new: dict[str, tuple[float, float]]) -> bool:
        moved = {n: p for n, p in new.items() if n in self.graph.nodes and old.get(n) != p}
        if not moved:
            return False
        return self.push(commands.MoveNodes(self.document, {n: old[n] for n in moved}, moved))

    def auto_layout(self) -> bool:
        if not self.graph.nodes:
            return False
        positions = layered_positions(self.graph, viewport=self.viewport_size)
        if all(self.graph.nodes[n].position == p for n, p in positions.items()):
            self.arranged.emit()
            return False
        if not self.push(commands.AutoLayout(self.document, positions)):
            return False
        self.arranged.emit()
        return True

    # --- wires ------------------------------------------------------------------------------
    def wire_refusal(self, source: str, target: str) -> str | None:
        return self._lock_refusal() or wire_problem(self.graph, source, target)

    def connect(self, source: str, target: str) -> bool:
        if problem := self.wire_refusal(source, target):
            return self._refuse(problem)
        edge = Edge(source, target, target_port_for(self.graph, target))
        return self.push(commands.AddEdge(self.document, edge))

    # --- parameters and names ------------------------------------------------------------------
    def new_param_session(self) -> int:
        """A token for one editing session of one field: edits with the same token merge."""
        self._session += 1
        return self._session

    def set_param(self, node_id: str, name: str, value: Any, session: int | None = None) -> bool:
        node = self.graph.nodes.get(node_id)
        if node is None:
            return False
        if not self.document.can_edit_param(node_id, name):
            return self._refuse(self._lock_refusal() or f"{node_id}.{name} cannot change now")
        spec = find_layer(node.type)
        param = spec.param(name) if spec else None
        if param is None:
            return self._refuse(f"{node.type} has no parameter '{name}'")
        try:
            value = param.check(value)
        except ValueError as exc:
            return self._refuse(str(exc))
        if node.params.get(name, object()) == value:
            return False
        return self.push(commands.SetParam(self.document, node_id, name, value, session))

    def rename_problem(self, old: str, new: str) -> str | None:
        if new == old:
            return None
        if not ID_PATTERN.match(new):
            return (f"'{new}' is not a valid name: use letters, digits and _, starting with a "
                    f"letter (at most 64 characters)")
        if new in self.graph.nodes:
            return f"there is already a layer called '{new}'"
        return self._lock_refusal()

    def rename(self, old: str, new: str) -> bool:
        if old not in self.graph.nodes or new == old:
            return False
        if problem := self.rename_problem(old, new):
            return self._refuse(problem)
        return self.push(commands.RenameNode(self.document, old, new))

    # --- clipboard --------------------------------------------------------------------------
    def copy_selection(self) -> bool:
        ids = self.selection.nodes
        if not ids:
            return self._refuse("nothing selected to copy")
        QGuiApplication.clipboard().setMimeData(clipboard.fragment_to_mime(self.graph, ids))
        self._paste_count = 0
        self.message.emit(f"Copied {len(ids)} layer{'s' if len(ids) != 1 else ''}")
        return True

    def cut_selection(self) -> bool:
        return self.copy_selection() and self.delete_selection()

    def paste(self) -> list[str]:
        fragment = clipboard.fragment_from_mime(QGuiApplication.clipboard().mimeData())
        if fragment is None or not fragment.nodes:
            self._refuse("the clipboard holds no LayerLab layers")
            return []
        self._paste_count += 1
        return self._insert_fragment(fragment, self._paste_count * PASTE_STEP, "Paste")

    def duplicate_selection(self) -> list[str]:
        ids = self.selection.nodes
        if not ids:
            self._refuse("nothing selected to duplicate")
            return []
        fragment = clipboard.fragment_from_json(clipboard.fragment_json(self.graph, ids))
        return self._insert_fragment(fragment, PASTE_STEP, "Duplicate") if fragment else []

    def _insert_fragment(self, fragment, step: float, text: str) -> list[str]:
        nodes, edges = clipboard.place_fragment(fragment, self.graph, (step, step))
        if not self.push(commands.Paste(self.document, nodes, edges, text)):
            return []
        ids = [n.id for n in nodes]
        self.selection.select(ids)
        return ids

    # --- problems and their fixes -----------------------------------------------------------
    def add_problem_source(self, source: Callable[[Project], list[Problem]]) -> None:
        self.problem_sources.append(source)
        self.refresh_problems()

    def problems(self) -> list[Problem]:
        if self._problems is None:
            found = list(self.document.analysis.problems)
            for source in self.problem_sources:
                try:
                    found += [p for p in source(self.document.project) if p not in found]
                except Exception:   # a source's bug must not hide the graph's problems
                    log.exception("problem source failed")
            self._problems = found
        return list(self._problems)

    def refresh_problems(self) -> None:
        """Recompute and announce the problems (call when a source's inputs changed)."""
        self._problems = None
        self.problemsChanged.emit(self.problems())

    def fixes_for(self, node_id: str) -> list[Fix]:
        return [f for p in self.problems() if p.node == node_id for f in p.fixes]

    def set_concealed(self, reason: str | None) -> None:
        if reason != self.concealed:
            self.concealed = reason
            self.concealedChanged.emit()

    def apply_fix(self, fix: Fix) -> bool:
        """One undo step that applies ``fix``; refused (with the reason) when it no longer
        fits the project, e.g. after an edit made it stale."""
        try:
            apply_edits(self.document.project, fix.edits)
        except EditError as exc:
            return self._refuse(f"{fix.label}: cannot be applied — {exc}")
        command = commands.ApplyFix(self.document, fix, self._room_on,
                                    self.sectionChanged.emit)
        if not self.push(command):
            return False
        self.message.emit(f"Fixed: {fix.label}")
        return True

    # --- history ----------------------------------------------------------------------------
    def undo(self) -> bool:
        return self._step(self.undo_stack.index() - 1, self.undo_stack.undo)

    def redo(self) -> bool:
        return self._step(self.undo_stack.index(), self.undo_stack.redo)

    def _step(self, index: int, action) -> bool:
        if not 0 <= index < self.undo_stack.count():
            return False
        command = self.undo_stack.command(index)
        if refusal := self._command_refusal(command):
            return self._refuse(refusal)
        try:
            action()
        except Exception as exc:
            log.exception("undo/redo failed")
            return self._refuse(f"undo/redo failed: {exc}")
        return True
