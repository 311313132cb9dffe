"""Live metrics files: a training process rewrites its ``--metrics-json`` file after every
epoch, and another process (the GUI on a workshop machine, a script) follows it.

Writer side (``layerlab train`` and ``python -m layerlab.engine.train``, rank 0 only)::

    write_metrics(path, document)         # atomic: a reader never sees half a file

Follower side (no torch, no Qt: cheap to import from a GUI)::

    follower = MetricsFollower("run/metrics.json")
    update = follower.poll()              # call it from a timer, e.g. twice a second
    for row in update.rows: ...           # new history rows since the last poll
    update.status                         # waiting | running | finished | stopped | diverged | failed

The document has the keys of ``layerlab train --metrics-json`` ("final", "history", "device",
"device_name", "samples_per_s", "seconds", "status", "message", "project", "dataset") plus
"run_id" (a new id per run: a follower seeing another id starts over), "epochs" (the target)
and "updated" (seconds since the epoch, when it was written). While training, "status" is
"running" and "history" holds the epochs done so far.
"""
from __future__ import annotations

import json
import math
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text
from .errors import TrainingError

__all__ = ["write_metrics", "new_run_id", "LiveMetrics", "MetricsFollower", "FollowUpdate",
           "RUNNING", "TERMINAL_STATUSES", "WAITING"]

RUNNING = "running"
#: The file does not exist yet (or has never held a complete document).
WAITING = "waiting"
#: Statuses after which the writer changes the file no more.
TERMINAL_STATUSES = frozenset({"finished", "stopped", "diverged", "failed"})


def new_run_id() -> str:
    return uuid.uuid4().hex


def _finite(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null (a diverged run's losses)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_metrics(path: str | os.PathLike, document: dict) -> None:
    """Write ``document`` as JSON to ``path`` atomically (a temporary file in the same folder,
    then a rename), so a follower reads either the previous version or the new one. NaN and
    infinite numbers become null. Raises OSError."""
    path = Path(path)
    text = json.dumps(_finite(document), indent=2, allow_nan=False) + "\n"
    atomic_write_text(path, text)


class LiveMetrics:
    """A Trainer observer that rewrites the metrics file with status "running" when a run
    starts and after every epoch. The caller writes the final document itself (with
    ``stamp``), as ``layerlab train`` does after the run."""

    def __init__(self, path: str | os.PathLike, *, project: str = "", dataset: str = "",
                 history: list[dict] | tuple = (), extra: dict | None = None) -> None:
        self.path = Path(path)
        self.run_id = new_run_id()
        self.project, self.dataset = project, dataset
        self.extra = dict(extra or {})   # keys added to every document (world_size…)
        self.rows = [dict(r) for r in history]
        self.device = self.device_name = ""
        self.epochs: int | None = None
        self.steps = 0
        self.started = time.monotonic()

    def stamp(self, document: dict) -> dict:
        """``document`` with this run's id, target epochs, extra keys and the time added."""
        return {**document, **self.extra, "run_id": self.run_id, "epochs": self.epochs,
                "updated": time.time()}

    def document(self) -> dict:
        final = {**(self.rows[-1] if self.rows else {}), "status": RUNNING, "steps": self.steps}
        return self.stamp({
            "final": final, "history": list(self.rows), "device": self.device,
            "device_name": self.device_name, "samples_per_s": None,
            "seconds": time.monotonic() - self.started, "status": RUNNING, "message": "",
            "project": self.project, "dataset": self.dataset})

    def write(self) -> None:
        try:
            write_metrics(self.path, self.document())
        except OSError as exc:
            raise TrainingError(f"cannot write the metrics file {self.path}: "
                                f"{exc.strerror or exc}") from None

    # Trainer observer hooks (called on the training thread).
    def on_start(self, info) -> None:
        self.device, self.device_name, self.epochs = info.device, info.device_name, info.epochs
        self.steps = info.start_step
        self.write()

    def on_epoch(self, snap) -> None:
        self.rows.append(snap.row())
        self.steps = snap.step
        self.write()


@dataclass(frozen=True)
class FollowUpdate:
    """What changed since the previous ``poll()``."""
    rows: tuple[dict, ...]      # new history rows, oldest first (all of them after a reset)
    status: str                 # waiting | running | finished | stopped | diverged | failed
    changed: bool               # the file held a new complete document
    reset: bool                 # another run now writes the file: drop the old curves first
    metrics: dict | None        # the latest complete document (device, final, message, ...)

    @property
    def done(self) -> bool:
        """The writer has finished with the file (finished, stopped, diverged or failed).
        A writer that was killed never gets here: watch its process too."""
        return self.status in TERMINAL_STATUSES


def _valid(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        return False
    history = data.get("history")
    return isinstance(history, list) and all(
        isinstance(r, dict) and isinstance(r.get("epoch"), int) for r in history)


class MetricsFollower:
    """Follows a metrics file written by another process. ``poll()`` never raises for a
    missing, empty, partly written or garbled file: it reports no change and tries again at
    the next poll. Not thread-safe; poll from one thread (a GUI timer)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.history: list[dict] = []
        self.status = WAITING
        self.metrics: dict | None = None
        self.run_id: str | None = None
        self._signature: tuple | None = None

    def poll(self) -> FollowUpdate:
        unchanged = FollowUpdate((), self.status, False, False, self.metrics)
        try:
            st = self.path.stat()
        except OSError:
            return unchanged
        signature = (st.st_mtime_ns, st.st_size, getattr(st, "st_ino", 0))
        if signature == self._signature:
            return unchanged
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # ValueError covers UnicodeDecodeError and JSON errors
            return unchanged  # a partial write (by a non-atomic writer): try again next poll
        self._signature = signature
        if not _valid(data):
            return unchanged
        rows = data["history"]
        run_id = data.get("run_id")
        seen = self.history
        reset = ((run_id is not None and self.run_id is not None and run_id != self.run_id)
                 or len(rows) < len(seen)
                 or [r["epoch"] for r in rows[:len(seen)]] != [r["epoch"] for r in seen])
        if reset:
            new = list(rows)
            self.history = list(rows)
        else:
            new = rows[len(seen):]
            self.history = seen + new
        if run_id is not None:
            self.run_id = run_id
        self.status = data["status"]
        self.metrics = data
        return FollowUpdate(tuple(new), self.status, True, bool(reset), data)
