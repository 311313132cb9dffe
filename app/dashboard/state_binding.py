"""The thin Qt adapter of the project state: the worker's messages in, the views' frames out.

The worker process's reader thread hands each list of messages to :meth:`StateBinding.receive`
(an append under a lock — it never touches Qt objects); a queued ``woke`` signal wakes an
idle GUI once. On the GUI thread, a *frame* applies everything that arrived to the
:class:`~.state.project_state.ProjectState`, publishes the changed topics to the views that
observe them (they only note it), then draws **one** view: the one that has waited longest
among those with something new, on screen, and due by their rate (views/registry.py). While
a run is active frames tick every ``FRAME_MS``: the curves redraw at display rates and each
image view in turn, and no frame does much — the event loop never stalls on drawing. Idle,
whatever is dirty is drawn at once and the frames stop.

Training runs in another process, so this is about the GUI's own time only: nothing here
can slow training down.
"""
from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from layerlab.engine.service.outbox import Outbox

from .state.project_state import ProjectState
from .threads import gui_only

__all__ = ["StateBinding", "FRAME_MS"]

#: While a run is active, a frame this often (each draws one view at most).
FRAME_MS = 10


class StateBinding(QObject):
    #: Emitted from the worker's reader thread: messages wait and no frame is coming.
    woke = Signal()

    def __init__(self, state: ProjectState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker = None
        self.inbox = Outbox()
        self.views: list[tuple] = []           # (ViewSpec, widget)
        self._drawn_at: dict[str, float] = {}
        #: Called with each list of messages after it was applied (the dashboard reacts to
        #: the worker's exit, saved weights…), before the state publishes.
        self.after_apply: list[Callable[[list], None]] = []
        #: What frames drew, by view key, and how many frames ran (the bench reports them).
        self.drawn: dict[str, int] = {}
        self.frames = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)   # 10 ms, not "about 10–15"
        self.timer.timeout.connect(self.frame)
        self.woke.connect(self._on_wake, Qt.ConnectionType.QueuedConnection)
        self._closed = False

    # --- the worker ------------------------------------------------------------------------------
    def attach(self, worker) -> None:
        """Listen to ``worker`` (a WorkerProcess); what it already said (ready, warm) counts."""
        from layerlab.engine.service.protocol import Event
        self.worker = worker
        known = []
        if worker.info is not None:
            known.append(Event("ready", worker.info))
        if worker.warm:
            known.append(Event("warm"))
        worker.on_messages = self.receive
        if known:
            self.receive(known)

    def receive(self, messages: list) -> None:
        """From the worker's reader thread: queue, and wake the GUI if it is not framing."""
        wake = False
        for message in messages:
            wake = self.inbox.put(message) or wake
        if wake and not self._closed:
            self.woke.emit()

    def call(self, name: str, **args) -> int:
        """Ask the worker, for the open project's generation. Returns the call's id."""
        if self.worker is None:
            return -1
        return self.worker.call(name, self.state.generation, **args)

    # --- views -----------------------------------------------------------------------------------
    def add_view(self, spec, widget) -> None:
        self.views.append((spec, widget))
        self.state.subscribe(widget.render, spec.observes)

    # --- frames ----------------------------------------------------------------------------------
    @gui_only
    def _on_wake(self) -> None:
        self.schedule()

    def schedule(self, delay_ms: int = 0) -> None:
        """A frame soon (state changed on the GUI thread, or mail arrived)."""
        if not self._closed and not self.timer.isActive():
            self.timer.start(delay_ms)

    def pump(self) -> frozenset:
        """Apply what arrived, publish what changed; returns the topics published."""
        messages = self.inbox.take()
        if messages:
            self.state.apply(messages)
            for hook in list(self.after_apply):
                hook(messages)
        return self.state.publish()

    @gui_only
    def frame(self) -> None:
        self.frames += 1
        self.inbox.start_polling()
        self.pump()
        active = self.state.run.active
        # One view per frame, also idle (then without waiting for rates, one per turn of the
        # event loop): the last drawing of a run is spread, never one long stall.
        drew = self._draw_one(rates=active)
        if active:
            self.timer.start(FRAME_MS)
        elif drew or self.inbox:
            self.timer.start(0)
        else:
            # Idle: from now on the first message wakes us. Whatever came in between the
            # last take and here is handed over, so nothing is stranded.
            rest = self.inbox.stop_polling()
            if rest:
                self.receive(rest)

    def _draw_one(self, rates: bool = True) -> bool:
        """Draw the most overdue view among those with something new (and, with ``rates``,
        due by their rate): overdue in periods of its own rate, so the curves (30 a second)
        are not starved by four image views (15 a second each). False when none is due."""
        now = time.monotonic()
        best, best_score = None, -1.0
        for spec, widget in self.views:
            if not widget.needs_flush():
                continue
            waited = now - self._drawn_at.get(spec.key, 0.0)
            if rates and waited < 1.0 / spec.max_hz:
                continue
            score = waited * spec.max_hz
            if score > best_score:
                best, best_score = (spec, widget), score
        if best is None:
            return False
        spec, widget = best
        self._drawn_at[spec.key] = now
        widget.flush()
        self.drawn[spec.key] = self.drawn.get(spec.key, 0) + 1
        return True

    def draw_now(self) -> None:
        """Apply, publish and draw every view with something new at once — also those off
        screen (tests read their widgets)."""
        self.pump()
        for _spec, widget in self.views:
            widget.flush()

    def close(self) -> None:
        self._closed = True
        self.timer.stop()
