"""Thread-safe control of a running loop: pause, resume, stop, single steps and commands.

The training thread calls ``checkpoint()`` between batches. When nothing is asked it costs one
attribute read (``attention``); otherwise it takes the lock, runs queued commands, and parks on
a Condition while paused — no busy waiting. Other threads only flip flags and notify.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Callable

__all__ = ["Controller"]

log = logging.getLogger(__name__)


class Controller:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        #: Read without the lock on every batch: True when anything needs the loop's attention.
        self.attention = False
        self._pause = False
        self._stop = False
        self._steps = 0
        self._commands: deque[Callable[[], None]] = deque()
        self._parked = False
        self._parks = 0          # times the loop has parked; step(wait=True) waits for the next
        self._active = False     # a run() is between begin() and end()

    # --- called from any thread ---------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._pause = True
            self._steps = 0
            self._flag()

    def resume(self) -> None:
        with self._cond:
            self._pause = False
            self._steps = 0
            self._flag()

    def stop(self) -> None:
        """Stop the active run at its next batch boundary (no effect when none is active)."""
        with self._cond:
            if self._active:
                self._stop = True
                self._flag()

    def step(self, count: int = 1) -> None:
        """Let ``count`` batches through while paused (pauses first if running)."""
        with self._cond:
            self._pause = True
            self._steps += max(0, int(count))
            self._flag()

    def submit(self, command: Callable[[], None]) -> bool:
        """Queue ``command`` to run on the training thread at its next checkpoint (also while
        paused). Returns False, queueing nothing, when no run is active: call it directly."""
        with self._cond:
            if not self._active:
                return False
            self._commands.append(command)
            self._flag()
            return True

    def wait_parked(self, timeout: float | None = None, after: int | None = None) -> bool:
        """Block until the loop is parked (after park number ``after``, if given) or the run
        ends. True when it is parked."""
        with self._cond:
            self._cond.wait_for(
                lambda: not self._active or (self._parked and (after is None
                                                               or self._parks > after)),
                timeout)
            return self._active and self._parked

    @property
    def paused(self) -> bool:
        return self._pause

    @property
    def parked(self) -> bool:
        return self._parked

    @property
    def parks(self) -> int:
        return self._parks

    @property
    def stop_requested(self) -> bool:
        return self._stop

    # --- called from the training thread ------------------------------------------------
    def begin(self) -> bool:
        """Mark a run active; False when one already is. A pause asked for before the run
        began is kept, so a run can start paused (and be single-stepped from the start)."""
        with self._cond:
            if self._active:
                return False
            self._active = True
            self._stop = False
            self._flag()
            return True

    @property
    def active(self) -> bool:
        return self._active

    def end(self) -> None:
        """The run is over: run the commands still queued (they were accepted while the run
        was active, after its last checkpoint; dropping them would lose e.g. a GUI's
        prediction request for good), then drop pending steps and wake anyone waiting.
        Only once the queue is empty does ``submit`` start returning False, so no command
        runs on two threads at once and none is lost."""
        while True:
            with self._cond:
                if not self._commands:
                    self._active = False
                    self._parked = False
                    self._pause = False
                    self._steps = 0
                    self._stop = False
                    self._flag()
                    self._cond.notify_all()
                    return
                command = self._commands.popleft()
            try:
                command()
            except Exception:  # the run is over; a late command must not hide its result
                log.exception("a command queued at the end of the run failed")

    def checkpoint(self, on_park: Callable[[], None] | None = None,
                   on_unpark: Callable[[], None] | None = None) -> bool:
        """Between batches: run queued commands, wait while paused. False means stop.

        ``on_park`` runs once each time the loop parks (e.g. to send a fresh snapshot) and
        ``on_unpark`` when it leaves; both run without the lock held, so they may call back
        into the controller."""
        parked = False
        try:
            while True:
                with self._cond:
                    command = self._commands.popleft() if self._commands else None
                    if command is not None:
                        self._parked = False  # busy with the command, not waiting
                    else:
                        if self._stop:
                            return False
                        if not self._pause:
                            return True
                        if self._steps > 0:
                            self._steps -= 1
                            return True
                        if parked:
                            self._parked = True
                            self._cond.notify_all()
                            self._cond.wait()
                            continue
                if command is not None:
                    command()
                    continue
                # About to park for the first time in this checkpoint.
                parked = True
                if on_park is not None:
                    on_park()
                with self._cond:
                    self._parks += 1
        finally:
            with self._cond:
                self._parked = False
                self._flag()
            if parked and on_unpark is not None:
                on_unpark()

    def sleep(self, deadline: Callable[[], float], clock: Callable[[], float]) -> float:
        """Slow motion, between batches: wait until ``clock()`` reaches ``deadline()``, or
        until a pause or stop is asked (the next ``checkpoint`` then acts on it at once).
        Commands queued meanwhile run here as they arrive, and the deadline is asked again
        after each (a new delay takes effect during the wait). Returns the seconds waited."""
        start = clock()
        while True:
            with self._cond:
                command = self._commands.popleft() if self._commands else None
                if command is None:
                    if self._stop or self._pause:
                        break
                    remaining = deadline() - clock()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                    continue
                self._flag()
            command()
        return clock() - start

    def _flag(self) -> None:
        # Stays True while paused so every batch boundary re-checks (single steps).
        self.attention = bool(self._pause or self._stop or self._commands)
        self._cond.notify_all()
