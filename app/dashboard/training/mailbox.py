"""Snapshots from the training thread, kept for the GUI's next frame.

Why not one queued signal per snapshot: each one wakes the GUI thread, and every wake-up
takes the interpreter lock (the GIL) from the training thread — on a small CPU model, where
the training loop needs the lock between every torch op, dozens of wake-ups a second cost
more training speed than the drawing itself. So the training thread only *posts* here (a
lock and a list append), and the GUI *takes* everything once per frame, at a rate it
chooses. A wake-up is asked for only when the GUI is not polling (idle: e.g. a probe change
or loaded weights sent one snapshot) and the mailbox was empty.

Qt-free and thread-safe; what is kept: every batch and epoch snapshot (the curves need each
point), the latest visual and evaluation snapshot (a newer one replaces an undrawn older
one), and the RunInfo of a run that began since the last take.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Mailbox", "Mail"]


@dataclass
class Mail:
    started: Any = None              # RunInfo of a run begun since the last take
    batches: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    visuals: Any = None              # the newest VisualSnapshot
    evaluation: Any = None           # the newest EvalSnapshot

    def __bool__(self) -> bool:
        return bool(self.started is not None or self.batches or self.epochs
                    or self.visuals is not None or self.evaluation is not None)


class Mailbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mail = Mail()
        self._polling = False

    # --- the training thread --------------------------------------------------------------
    def begin_run(self, info) -> bool:
        """A run starts: what is left of an earlier one is dropped (its final frame was
        drawn when it ended) and the run's info goes first, before its snapshots."""
        with self._lock:
            was_empty = not self._mail
            self._mail = Mail(started=info)
            return was_empty and not self._polling

    def post_batch(self, snap) -> bool:
        return self._post(lambda m: m.batches.append(snap))

    def post_epoch(self, snap) -> bool:
        return self._post(lambda m: m.epochs.append(snap))

    def post_visuals(self, snap) -> bool:
        return self._post(lambda m: setattr(m, "visuals", snap))

    def post_evaluation(self, snap) -> bool:
        return self._post(lambda m: setattr(m, "evaluation", snap))

    def _post(self, put) -> bool:
        """Store; True when the GUI must be woken (it is not polling, and nothing was
        waiting — else a wake-up is already on its way)."""
        with self._lock:
            was_empty = not self._mail
            put(self._mail)
            return was_empty and not self._polling

    # --- the GUI thread -------------------------------------------------------------------
    def take(self) -> Mail:
        with self._lock:
            mail, self._mail = self._mail, Mail()
            return mail

    def start_polling(self) -> None:
        """The GUI draws frames on its own timer from now on (a run is active): posts
        never ask for a wake-up."""
        with self._lock:
            self._polling = True

    def stop_polling(self) -> Mail:
        """The last take of a run: from now on a post to the (empty) mailbox wakes the GUI,
        so nothing posted after this is stranded."""
        with self._lock:
            mail, self._mail = self._mail, Mail()
            self._polling = False
            return mail

    @property
    def polling(self) -> bool:
        return self._polling
