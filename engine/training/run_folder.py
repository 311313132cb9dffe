"""What a headless run writes, for ``layerlab train`` and rank 0 of a torchrun job alike:

    <out>/checkpoint/     the trainer's checkpoint (at the end, and every checkpoint_every epochs)
    <out>/runs/           the run history: a record of this run (and of every earlier one),
                          written as it goes (training/run_history.py)
    <out>/history.csv     one row per epoch
    <out>/history.json    the same rows as JSON
    --metrics-json PATH   final metrics, history and speed; rewritten atomically when the run
                          starts and after every epoch, so another process can follow it

``RunFolder`` is a Trainer observer (the live metrics and the periodic checkpoints happen on
the training thread, between epochs) plus the closing writes after ``run()``.
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from .checkpoint import save_checkpoint
from .errors import TrainingError
from .follow import LiveMetrics, write_metrics
from .run_history import RunRecorder
from .snapshots import HISTORY_FIELDS, RunResult

__all__ = ["RunFolder", "write_history"]


def write_history(out: Path, rows: list[dict]) -> None:
    with open(out / "history.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(HISTORY_FIELDS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k))
                             for k in HISTORY_FIELDS})
    (out / "history.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


class RunFolder:
    """The run folder ``out`` and the metrics file of ``trainer``'s run of ``project``.
    ``extra`` adds keys to every metrics document (a distributed run's world_size…);
    ``keep_weights``: the run history keeps the weights of the newest N runs."""

    def __init__(self, out: str | Path, trainer, project, *,
                 metrics_path: str | Path | None = None, extra: dict | None = None,
                 keep_weights: int = 0) -> None:
        self.out = Path(out)
        self.trainer, self.project = trainer, project
        self.metrics_path = Path(metrics_path) if metrics_path else None
        self.extra = dict(extra or {})
        self.saved_epoch: int | None = None   # epoch of the last checkpoint written mid-run
        self.live: LiveMetrics | None = None
        if self.metrics_path is not None:
            self.live = LiveMetrics(self.metrics_path, project=project.name,
                                    dataset=trainer.dataset.name,
                                    history=[h.row() for h in trainer.history], extra=self.extra)
        #: The run's record in <out>/runs/, keyed by the metrics file's run id.
        self.recorder = RunRecorder(self.out, trainer, project,
                                    run_id=self.live.run_id if self.live else None,
                                    keep_weights=keep_weights)

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / "checkpoint"

    def create(self) -> None:
        """Make the run folder; raise TrainingError saying why it cannot be."""
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrainingError(f"cannot create the run folder {self.out}: "
                                f"{exc.strerror or exc}") from None
        if self.metrics_path is not None and not self.metrics_path.resolve().parent.is_dir():
            raise TrainingError(f"cannot write --metrics-json {self.metrics_path}: its folder "
                                f"does not exist")

    # --- observer hooks (the training thread) ----------------------------------------------
    def on_start(self, info) -> None:
        self.recorder.on_start(info)
        if self.live is not None:
            self.live.on_start(info)

    def on_epoch(self, snap) -> None:
        every, epochs = self.trainer.config.checkpoint_every, self.trainer.config.epochs
        if every and snap.epoch % every == 0 and snap.epoch < epochs:  # the end saves anyway
            self.save_checkpoint()
            self.saved_epoch = snap.epoch
        self.recorder.on_epoch(snap)
        if self.live is not None:
            self.live.on_epoch(snap)

    def on_event(self, event) -> None:
        self.recorder.on_event(event)

    def on_finish(self, result) -> None:
        self.recorder.on_finish(result)

    # --- writing ----------------------------------------------------------------------------
    def save_checkpoint(self) -> Path:
        return save_checkpoint(self.checkpoint_dir, self.trainer, self.project)

    def document(self, status: str, message: str, result: RunResult | None = None) -> dict:
        """The metrics file's content now (final with ``result``)."""
        t = self.trainer
        rows = [h.row() for h in t.history]
        final = (result.final if result is not None else
                 {**(rows[-1] if rows else {}), "status": status, "steps": t.global_step})
        doc = {"final": final, "history": rows, "device": t.device_info.device,
               "device_name": t.device_info.name,
               "samples_per_s": result.samples_per_s if result is not None else None,
               "seconds": result.seconds if result is not None else 0.0,
               "status": status, "message": message, "project": self.project.name,
               "dataset": t.dataset.name}
        if self.live is not None:
            return self.live.stamp(doc)
        return {**doc, **self.extra, "updated": time.time()}

    def finish(self, result: RunResult, *, save: bool = True) -> list[str]:
        """After ``run()``: the checkpoint and history files (with ``save``), then the final
        metrics. Returns what could not be written (empty when everything was)."""
        problems = []
        if save:
            try:
                self.save_checkpoint()
                write_history(self.out, [h.row() for h in result.history])
            except (OSError, TrainingError) as exc:
                problems.append(str(exc) if isinstance(exc, TrainingError) else
                                f"cannot write {self.out}: {exc.strerror or exc}")
        problem = self.write_metrics(result.status, result.message, result)
        if self.recorder.problem:
            problems.append(self.recorder.problem)
        return problems + ([problem] if problem else [])

    def write_metrics(self, status: str, message: str,
                      result: RunResult | None = None) -> str | None:
        """Write the metrics file as it stands; returns why it could not be, or None. A run
        interrupted without ending (a signal) also closes its record here."""
        self.recorder.close(status, message)
        if self.metrics_path is None:
            return None
        try:
            write_metrics(self.metrics_path, self.document(status, message, result))
        except OSError as exc:
            return f"cannot write {self.metrics_path}: {exc.strerror or exc}"
        return None

    def describe_saved(self) -> str:
        """For an interrupted run: where its last checkpoint is, if any."""
        if self.saved_epoch is not None:
            return (f"the last checkpoint in {self.checkpoint_dir} is from epoch "
                    f"{self.saved_epoch}")
        return ("no checkpoint was written (training.checkpoint_every saves one every N "
                "epochs)")

