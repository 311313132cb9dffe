"""A CPU budget for drawing: how long the dashboard waits before its next frame.

Drawing runs on the GUI thread, which shares the interpreter (the GIL) and, on a small
machine, the CPU with the training thread: every millisecond the GUI thread holds the lock
is one the training loop waits. ``next_delay()`` measures the GUI thread's own CPU time
(``time.thread_time``, so painting, layout and slots all count) over the last second and
lengthens the interval between frames while that is above the share, shortens it while
below — so a fast machine draws at the full 20 frames a second and a loaded 2-core one
draws fewer frames instead of slowing training down. A longest interval keeps the views alive whatever
the load.
"""
from __future__ import annotations

import collections
import time

__all__ = ["FrameBudget", "DRAW_SHARE", "FRAME_S", "MAX_FRAME_S"]

#: Share of one core the GUI thread may use while training (measured, not estimated).
DRAW_SHARE = 0.06
#: Shortest interval between frames (20 Hz: the curves' rate on a machine with room).
FRAME_S = 0.05
#: Longest interval, however busy: the views still move twice a second.
MAX_FRAME_S = 0.5


class FrameBudget:
    def __init__(self, share: float = DRAW_SHARE, frame_s: float = FRAME_S,
                 max_frame_s: float = MAX_FRAME_S, window_s: float = 1.0,
                 clock=time.monotonic, cpu_clock=time.thread_time) -> None:
        self.share, self.frame_s, self.max_frame_s = share, frame_s, max_frame_s
        self.window_s = window_s
        self.clock, self.cpu_clock = clock, cpu_clock
        self._samples: collections.deque[tuple[float, float]] = collections.deque()
        #: What the frames drew: "frames", "curves", "image:<view>" (the bench reports them).
        self.drawn = collections.Counter()
        self._interval = frame_s

    def used(self) -> float:
        """The GUI thread's CPU share over the last window (0 when just started)."""
        now, cpu = self.clock(), self.cpu_clock()
        self._samples.append((now, cpu))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        then, cpu_then = self._samples[0]
        return (cpu - cpu_then) / (now - then) if now > then else 0.0

    def next_delay(self) -> float:
        """Seconds until the next frame. The interval is steered, frame by frame, by how far
        the measured share is from the budget (at most ×2 or ×½ a step, so one slow frame
        does not swing it): it settles where the GUI thread uses its share, between
        ``frame_s`` and ``max_frame_s``."""
        used = self.used()
        ratio = used / self.share if self.share > 0 else float("inf")
        self._interval = min(self.max_frame_s,
                             max(self.frame_s, self._interval * min(2.0, max(0.5, ratio))))
        return self._interval

    def reset(self) -> None:
        """A new run: fresh counters and CPU window. The interval carries over, so a run
        starts at the rate the last one settled at instead of drawing its busiest moments
        (the first frames, the views' new session) at 20 frames a second."""
        self._samples.clear()
        self.drawn.clear()
