"""A CPU budget for drawing: the dashboard's redraws may take at most a share of one core.

Drawing runs on the GUI thread, which shares the interpreter (the GIL) and, on a small
machine, the CPU with the training thread: every millisecond spent painting plots is one the
training loop waits. The timers ask ``may_draw()`` before each redraw; it measures the GUI
thread's own CPU time (``time.thread_time``, so painting, layout and slots all count) over
the last second and says no while that is above the share — so a fast machine draws curves at
the full 20 Hz and a loaded 2-core one draws fewer frames instead of slowing training down.
A minimum rate keeps the views alive whatever the load.
"""
from __future__ import annotations

import collections
import time

__all__ = ["FrameBudget", "DRAW_SHARE"]

#: Share of one core the GUI thread may use while training (measured, not estimated).
DRAW_SHARE = 0.08


class FrameBudget:
    def __init__(self, share: float = DRAW_SHARE, window_s: float = 1.0,
                 min_interval_s: dict[str, float] | float = 0.5, clock=time.monotonic,
                 cpu_clock=time.thread_time) -> None:
        self.share, self.window_s, self.min_interval_s = share, window_s, min_interval_s
        self.clock, self.cpu_clock = clock, cpu_clock
        self._samples: collections.deque[tuple[float, float]] = collections.deque()
        self._last_draw: dict[str, float] = {}
        self.drawn = collections.Counter()
        self.skipped = collections.Counter()

    def used(self) -> float:
        """The GUI thread's CPU share over the last window (0 when just started)."""
        now, cpu = self.clock(), self.cpu_clock()
        self._samples.append((now, cpu))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        then, cpu_then = self._samples[0]
        return (cpu - cpu_then) / (now - then) if now > then else 0.0

    def may_draw(self, what: str = "") -> bool:
        """Call on the GUI thread right before a redraw of ``what``; False: skip this one."""
        now = self.clock()
        floor = (self.min_interval_s.get(what, 0.5) if isinstance(self.min_interval_s, dict)
                 else self.min_interval_s)
        overdue = now - self._last_draw.get(what, -1e9) >= floor
        if self.used() <= self.share or overdue:
            self._last_draw[what] = now
            self.drawn[what] += 1
            return True
        self.skipped[what] += 1
        return False

    def reset(self) -> None:
        self._samples.clear()
        self._last_draw.clear()
        self.drawn.clear()
        self.skipped.clear()
