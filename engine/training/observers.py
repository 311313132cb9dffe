"""The observer protocol (Lightning-callback-like hooks) and the wall-clock rate limiter.

Observers are called on the training thread. A GUI forwards what it receives to its own
thread (a Qt signal carrying the snapshot); snapshots are plain data, so that is safe. An
exception in an observer ends the run with status "failed" and the message — a bug in a
view must not silently corrupt training.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from .snapshots import (BatchSnapshot, EpochSnapshot, EvalSnapshot, HistogramSnapshot, RunInfo,
                        RunResult, StateSnapshot, TrainingEvent, VisualSnapshot)

__all__ = ["TrainingObserver", "ObserverSet", "RateLimiter", "EVENTS"]

EVENTS = ("on_start", "on_batch", "on_epoch", "on_evaluation", "on_visuals", "on_histograms",
          "on_state", "on_event", "on_finish")


class TrainingObserver:
    """Override the hooks you need; any object with some of these methods works too."""

    def on_start(self, info: RunInfo) -> None: ...
    def on_batch(self, snap: BatchSnapshot) -> None: ...
    def on_epoch(self, snap: EpochSnapshot) -> None: ...
    def on_evaluation(self, snap: EvalSnapshot) -> None: ...
    def on_visuals(self, snap: VisualSnapshot) -> None: ...
    def on_histograms(self, snap: HistogramSnapshot) -> None: ...
    def on_state(self, snap: StateSnapshot) -> None: ...
    def on_event(self, event: TrainingEvent) -> None: ...
    def on_finish(self, result: RunResult) -> None: ...


def _overrides(observer: Any, event: str) -> Callable | None:
    method = getattr(observer, event, None)
    if method is None or not callable(method):
        return None
    # The base class's no-op hooks do not count: the trainer skips work nobody receives.
    base = getattr(TrainingObserver, event)
    if getattr(method, "__func__", None) is base:
        return None
    return method


class ObserverSet:
    """Observers with the bound methods per event cached (dispatch is on the hot path)."""

    def __init__(self) -> None:
        self._observers: list[Any] = []
        self._hooks: dict[str, list[Callable]] = {e: [] for e in EVENTS}

    def add(self, observer: Any) -> None:
        if observer not in self._observers:
            self._observers.append(observer)
            self._rebuild()

    def remove(self, observer: Any) -> None:
        if observer in self._observers:
            self._observers.remove(observer)
            self._rebuild()

    def _rebuild(self) -> None:
        self._hooks = {e: [m for o in self._observers if (m := _overrides(o, e)) is not None]
                       for e in EVENTS}

    def wants(self, event: str) -> bool:
        return bool(self._hooks[event])

    def emit(self, event: str, payload: Any) -> None:
        for hook in self._hooks[event]:
            hook(payload)


class RateLimiter:
    """At most ``hz`` events per second of wall clock, and — with ``budget`` — spaced so the
    events' own cost stays under that share of the time (a 0.2 s snapshot with budget 0.05
    waits 4 s before the next one)."""

    def __init__(self, hz: float, budget: float | None = None) -> None:
        self.interval = 1.0 / hz if hz > 0 else math.inf
        self.budget = budget
        self.next_time = -math.inf if hz > 0 else math.inf  # hz 0: never
        self.count = 0

    def ready(self, now: float) -> bool:
        return now >= self.next_time

    def done(self, start: float, end: float) -> None:
        """Record an event that ran from ``start`` to ``end`` (monotonic seconds)."""
        gap = self.interval
        if self.budget:
            gap = max(gap, (end - start) / self.budget)
        self.next_time = start + gap
        self.count += 1
