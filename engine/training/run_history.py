"""The run history: every run of a project kept in its run folder, one record per run.

    my_net-run/
        checkpoint/                       the latest state (unchanged: resume, export, explain)
        runs/
            20261130-130412-3f9a1c2e.json         one run: settings, curves, markers, result
            20261130-130412-3f9a1c2e.safetensors  its weights, when asked (the newest N kept)

A record is a JSON object in the lessons' run format (``"format": "layerlab-run"``, read by
``engine.lessons.runs.run_from_json`` as it is) with more keys: the run's id (the metrics
file's ``run_id``), when it started, the process that wrote it, the dataset, the parameter
count and dropout rates, the markers (``TrainingEvent`` rows), the weights file. The
:class:`RunRecorder` observer writes it atomically when the run starts, when it ends, and in
between after an epoch or a marker at most every ``RECORD_EVERY_S`` seconds (a short epoch
must not pay a file's write and fsync each time) — so a run that crashes or is killed leaves
a valid record with the status ``running`` and the epochs it finished until a few seconds
before, which :func:`list_runs` reports as ``interrupted`` once the writing process is gone.

Reading (:func:`list_runs`, :func:`load_run`, :func:`runs_table`) needs no torch and never
raises for a damaged file: it is named in ``problems`` with what is wrong.
"""
from __future__ import annotations

import json
import math
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..fileio import process_alive
from .config import parse_training
from .errors import TrainingConfigError, TrainingError
from .follow import new_run_id, write_metrics
from .rows import event_problems, history_problems, is_int, is_number, show
from .snapshots import TrainingEvent

__all__ = ["RUNS_FOLDER", "RECORD_FORMAT", "RECORD_VERSION", "RunRecorder", "RunSummary",
           "RunList", "Run", "RunHistoryError", "runs_dir", "list_runs", "load_run",
           "runs_table", "read_record", "STATUSES"]

RUNS_FOLDER = "runs"
#: The lessons' run-record format (engine/lessons/runs.py), extended with more keys.
RECORD_FORMAT = "layerlab-run"
RECORD_VERSION = 1
#: What a record's status may be; "interrupted" is only ever reported, never written.
STATUSES = ("finished", "stopped", "diverged", "failed", "running")
#: A running record is brought up to date at most this often, and spaced so that writing it
#: takes at most RECORD_BUDGET of the time (a long history takes longer to write).
RECORD_EVERY_S = 2.0
RECORD_BUDGET = 0.01
#: Records larger than this are not read (a 100,000-epoch history is ~20 MB).
MAX_RECORD_BYTES = 64 * 1024 * 1024


class RunHistoryError(TrainingError):
    """A run that cannot be found or read; the message names it."""


def runs_dir(run_folder: str | os.PathLike) -> Path:
    """The run history of a run folder (engine/locations.run_dir gives a project's)."""
    return Path(run_folder) / RUNS_FOLDER


# --- writing --------------------------------------------------------------------------------

def _dropout_rates(project) -> list[float]:
    if project is None:
        return []
    return [float(node.params.get("p", 0.5)) for node in project.graph.nodes.values()
            if node.type == "Dropout"]


class RunRecorder:
    """A Trainer observer that keeps a record of each ``run()`` in ``<folder>/runs/``.

    ``project``: the project as it was trained (its settings, dropout rates and, for the
    lessons, its graph). ``run_id``: the first run's id (``LiveMetrics.run_id``, so the
    metrics file and the record agree); later runs of the same trainer get new ones and say
    which run they continue. ``keep_weights``: keep the weights of the newest N runs
    (0: none). ``write_every_s``: the least time between two writes of a running record
    (0: after every epoch and marker). A record that cannot be written never stops
    training: ``problem`` says why.
    """

    def __init__(self, folder: str | os.PathLike, trainer, project=None, *,
                 run_id: str | None = None, keep_weights: int = 0,
                 write_every_s: float = RECORD_EVERY_S) -> None:
        self.folder = Path(folder)
        self.write_every_s = max(0.0, float(write_every_s))
        self._next_write = 0.0
        self._unwritten = False          # epochs or markers not in the file yet
        self.trainer = trainer
        self.project = project.copy() if project is not None else None
        self.keep_weights = max(0, int(keep_weights))
        self.path: Path | None = None
        self.problem: str | None = None
        self.previous: str | None = None     # the last run this recorder finished
        self._next_id = run_id
        self._doc: dict | None = None

    @property
    def run_id(self) -> str | None:
        return self._doc["run_id"] if self._doc else self.previous

    # Trainer observer hooks (called on the training thread).
    def on_start(self, info) -> None:
        from ..project import project_to_dict
        t, now = self.trainer, time.time()
        run_id, self._next_id = self._next_id or new_run_id(), None
        stem = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{run_id[:8]}"
        self.path = runs_dir(self.folder) / f"{stem}.json"
        project = self.project
        self._doc = {
            "format": RECORD_FORMAT, "version": RECORD_VERSION, "run_id": run_id,
            "continues": self.previous, "status": "running", "message": "",
            "started_at": now, "updated_at": now, "seconds": 0.0,
            "pid": os.getpid(), "host": socket.gethostname(),
            "project_name": project.name if project is not None else "",
            "dataset": {"name": t.dataset.name, "task": info.task, "num_train": info.num_train,
                        "num_val": info.num_val, "target_names": list(info.target_names),
                        "standardized_targets": info.standardized_targets},
            "device": info.device, "start_epoch": info.start_epoch,
            "start_step": info.start_step, "target_epochs": info.epochs,
            "parameters": int(t.parts.analysis.total_params),
            "dropout": _dropout_rates(project),
            "settings": t.config.to_dict(),
            "history": [asdict(h) for h in t.history],
            "events": [asdict(e) for e in t.events],
            "weights": None,
            "project": project_to_dict(project) if project is not None else None,
        }
        self._write()

    def on_epoch(self, snap) -> None:
        if self._doc is None:
            return
        self._doc["history"].append(asdict(snap))
        self._doc["seconds"] += snap.seconds
        self._doc["target_epochs"] = self.trainer.config.epochs
        self._write_when_due()

    def on_event(self, event) -> None:
        if self._doc is None:
            return
        self._doc["events"].append(asdict(event))
        if event.kind == "epochs":
            self._doc["target_epochs"] = int(event.new)
        self._write_when_due()

    def on_state(self, snap) -> None:
        if snap.state == "paused" and self._doc is not None and self._unwritten:
            self._write()               # a paused run's record is up to date

    def on_finish(self, result) -> None:
        if self._doc is None or result is None:
            return
        self._doc["seconds"] = result.seconds
        if self.keep_weights:
            self._save_weights()
        self.close(result.status, result.message)

    def close(self, status: str, message: str) -> None:
        """The run's last write (also for a run interrupted without ``on_finish``)."""
        if self._doc is None:
            return
        self._doc["status"], self._doc["message"] = status, message
        self._write()
        self.previous, self._doc = self._doc["run_id"], None

    # --- files --------------------------------------------------------------------------
    def _write_when_due(self) -> None:
        self._unwritten = True
        if time.monotonic() >= self._next_write:
            self._write()

    def _write(self) -> None:
        start = time.monotonic()
        self._doc["updated_at"] = time.time()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_metrics(self.path, self._doc)
        except OSError as exc:
            self.problem = f"cannot write the run record {self.path}: {exc.strerror or exc}"
        self._unwritten = False
        took = time.monotonic() - start
        gap = max(self.write_every_s, took / RECORD_BUDGET) if self.write_every_s else 0.0
        self._next_write = start + gap

    def _save_weights(self) -> None:
        from safetensors.torch import save_file

        from ..fileio import atomic_write
        weights = {k: v.detach().to("cpu").contiguous().clone()
                   for k, v in self.trainer.model.state_dict().items()}
        target = self.path.with_suffix(".safetensors")
        try:
            atomic_write(target, lambda p: save_file(weights, p, metadata={"format": "pt"}))
        except OSError as exc:
            self.problem = f"cannot write the run's weights {target}: {exc.strerror or exc}"
            return
        self._doc["weights"] = target.name
        kept = sorted(runs_dir(self.folder).glob("*.safetensors"),
                      key=lambda p: (p.stat().st_mtime, p.name))
        for old in kept[:-self.keep_weights]:
            try:
                old.unlink()
            except OSError:
                pass   # bounded on the next run instead


# --- reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table (plain data)."""
    run_id: str
    path: str                        # the record file
    status: str                      # finished | stopped | diverged | failed | running |
                                     # interrupted (written "running" by a process now gone)
    message: str
    started_at: float                # seconds since the epoch
    seconds: float                   # training time (pauses and slow motion excluded)
    epochs: int                      # epochs completed (including any it continued from)
    target_epochs: int
    start_epoch: int                 # epochs already done when the run began
    task: str
    lr: float                        # the learning rate it started with
    lr_changes: int                  # times it was changed by hand
    batch_size: int
    optimizer: str
    l1: float
    weight_decay: float              # L2
    dropout: tuple[float, ...]       # the Dropout layers' rates
    parameters: int
    seed: int
    best_val_acc: float | None       # classification
    best_val_mae: float | None       # regression, in the target's units
    best_epoch: int | None
    final: dict = field(default_factory=dict)    # the last history row
    weights: str | None = None       # its weights file, when kept and still there
    continues: str | None = None     # the run id it continued (same trainer)
    project_name: str = ""
    dataset: str = ""
    target_names: tuple[str, ...] = ()
    device: str = ""

    @property
    def started(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started_at))


@dataclass(frozen=True)
class Run:
    """A run in full: its summary, curves (history rows, oldest first), markers, settings."""
    summary: RunSummary
    history: tuple[dict, ...]
    events: tuple[TrainingEvent, ...]
    settings: dict


@dataclass(frozen=True)
class RunList:
    runs: tuple[RunSummary, ...]     # oldest first
    problems: tuple[str, ...]        # one per file that could not be read, naming it


class _Bad(ValueError):
    pass


def _text(data: dict, key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _Bad(f"{key} must be text (found {show(value)})")
    return value


def _int(data: dict, key: str, default: int = 0) -> int:
    value = data.get(key, default)
    if not is_int(value) or value < 0:
        raise _Bad(f"{key} must be a whole number ≥ 0 (found {show(value)})")
    return value


def _num(data: dict, key: str, default: float = 0.0) -> float:
    value = data.get(key, default)
    if not is_number(value) or not math.isfinite(value):
        raise _Bad(f"{key} must be a number (found {show(value)})")
    return float(value)


def _best(history: list[dict], task: str) -> tuple[float | None, float | None, int | None]:
    key, better = ("val_acc", max) if task == "classification" else ("val_mae", min)
    rows = [r for r in history if is_number(r.get(key)) and math.isfinite(r[key])]
    if not rows:
        return None, None, None
    row = better(rows, key=lambda r: r[key])
    acc, mae = (row[key], None) if key == "val_acc" else (None, row[key])
    return acc, mae, row["epoch"]


def _interrupted(data: dict, epochs: int) -> str | None:
    """Why a record still saying "running" is over: its process on this machine is gone."""
    if data.get("status") != "running":
        return None
    pid, host = data.get("pid"), data.get("host")
    if not is_int(pid) or host != socket.gethostname() or process_alive(pid) is not False:
        return None
    return (f"the run ended without saying how (its process {pid} is gone: killed, crashed "
            f"or the machine stopped) after {epochs} epoch{'s' if epochs != 1 else ''}")


def read_record(data: Any, path: Path) -> Run:
    """A record's content as a Run; raises RunHistoryError naming ``path`` and the fault."""
    try:
        return _read(data, path)
    except _Bad as exc:
        raise RunHistoryError(f"{path.name}: {exc}") from None


def _read(data: Any, path: Path) -> Run:
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise _Bad(f'not a LayerLab run record (expected "format": "{RECORD_FORMAT}")')
    version = data.get("version")
    if not is_int(version) or version < 1:
        raise _Bad(f"version must be a whole number from 1 (found {show(version)})")
    if version > RECORD_VERSION:
        raise _Bad(f"written by a newer LayerLab (version {version}); update LayerLab")
    status = data.get("status")
    if status not in STATUSES:
        raise _Bad(f"status must be one of {', '.join(STATUSES)} (found {show(status)})")
    history = data.get("history")
    if not isinstance(history, list):
        raise _Bad(f"history must be a list of epochs (found {show(history)})")
    problems = history_problems(history, null_numbers=True)
    events = data.get("events", [])
    problems += event_problems(events)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _Bad(problems[0] + more)
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise _Bad(f"settings must be an object (found {show(settings)})")
    try:
        config = parse_training(settings)
    except TrainingConfigError as exc:
        raise _Bad(f"settings: {exc}") from None
    dataset = data.get("dataset") or {}
    if not isinstance(dataset, dict):
        raise _Bad(f"dataset must be an object (found {show(dataset)})")
    task = _text(dataset, "task", "classification")
    targets = dataset.get("target_names", [])
    if not (isinstance(targets, list) and all(isinstance(t, str) for t in targets)):
        raise _Bad(f"dataset.target_names must be a list of names (found {show(targets)})")
    dropout = data.get("dropout", [])
    if not (isinstance(dropout, list) and all(is_number(p) for p in dropout)):
        raise _Bad(f"dropout must be a list of numbers (found {show(dropout)})")
    weights = _text(data, "weights") or None
    if weights is not None and (Path(weights).name != weights or not weights.endswith(
            ".safetensors")):
        raise _Bad(f"weights must be the name of a .safetensors file beside the record "
                   f"(found {show(weights)})")
    weights_path = path.parent / weights if weights else None
    run_id = _text(data, "run_id") or path.stem
    epochs = len(history)
    best_acc, best_mae, best_epoch = _best(history, task)
    try:
        started = _num(data, "started_at", path.stat().st_mtime)
    except OSError:
        started = _num(data, "started_at")
    gone = _interrupted(data, epochs)
    summary = RunSummary(
        run_id=run_id, path=str(path), status="interrupted" if gone else status,
        message=gone or _text(data, "message"), started_at=started,
        seconds=_num(data, "seconds", sum(r["seconds"] for r in history
                                          if is_number(r.get("seconds")))),
        epochs=epochs, target_epochs=_int(data, "target_epochs", config.epochs),
        start_epoch=_int(data, "start_epoch"), task=task, lr=config.lr,
        lr_changes=sum(1 for e in events if e.get("kind") == "lr"),
        batch_size=config.batch_size, optimizer=config.optimizer, l1=config.l1,
        weight_decay=config.weight_decay, dropout=tuple(float(p) for p in dropout),
        parameters=_int(data, "parameters"), seed=config.seed, best_val_acc=best_acc,
        best_val_mae=best_mae, best_epoch=best_epoch, final=dict(history[-1]) if history else {},
        weights=str(weights_path) if weights_path is not None and weights_path.is_file()
        else None,
        continues=_text(data, "continues") or None, project_name=_text(data, "project_name"),
        dataset=_text(dataset, "name"), target_names=tuple(targets),
        device=_text(data, "device"))
    return Run(summary, tuple(dict(r) for r in history),
               tuple(TrainingEvent(**e) for e in events), config.to_dict())


def _load(path: Path) -> Run:
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RunHistoryError(f"{path.name}: larger than {MAX_RECORD_BYTES:,} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunHistoryError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:   # bad JSON, bad UTF-8, absurd nesting
        raise RunHistoryError(f"{path.name}: not valid JSON ({exc})") from None
    return read_record(data, path)


def _records(folder: Path) -> list[Path]:
    runs = runs_dir(folder)
    try:
        return sorted(p for p in runs.iterdir() if p.suffix == ".json"
                      and not p.name.startswith("."))
    except OSError:
        return []


def list_runs(folder: str | os.PathLike) -> RunList:
    """Every run recorded in a run folder, oldest first, and what could not be read."""
    runs, problems = [], []
    for path in _records(Path(folder)):
        try:
            runs.append(_load(path).summary)
        except RunHistoryError as exc:
            problems.append(f"{RUNS_FOLDER}/{exc}")
    runs.sort(key=lambda r: (r.started_at, r.run_id))
    return RunList(tuple(runs), tuple(problems))


def load_run(folder: str | os.PathLike, run_id: str | None = None) -> Run:
    """A run in full: ``folder`` is a record file, or a run folder and ``run_id`` the run's
    id (or its first characters; None: the newest run). Raises RunHistoryError."""
    folder = Path(folder)
    if folder.is_file():
        return _load(folder)
    listing = list_runs(folder)
    if not listing.runs:
        raise RunHistoryError(f"{folder} has no recorded runs")
    if run_id is None:
        match = [listing.runs[-1]]
    else:
        match = [r for r in listing.runs if r.run_id.startswith(run_id)]
    if not match:
        raise RunHistoryError(f"no run {run_id!r} in {runs_dir(folder)}")
    if len(match) > 1:
        raise RunHistoryError(f"{len(match)} runs start with {run_id!r}: give more of the id")
    return _load(Path(match[0].path))


# --- the table ------------------------------------------------------------------------------

def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(int(round(seconds)), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


def runs_table(runs) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(column titles, one row of texts per run): the runs table of the command line and the
    app. The last-but-one column is the best validation accuracy, or — when every run is a
    regression — the best validation MAE in the target's units."""
    from ..formatting import plain_number
    runs = list(runs)
    regression = bool(runs) and all(r.task == "regression" for r in runs)
    if regression:
        names = ", ".join(runs[-1].target_names)
        best_title = f"best val MAE ({names})" if names else "best val MAE"
    else:
        best_title = "best val acc"
    headers = ("#", "started", "status", "epochs", "lr", "batch", "optimizer", "L1 / L2",
               "dropout", "parameters", best_title, "time")
    rows = []
    for i, r in enumerate(runs, 1):
        if regression:
            best = plain_number(r.best_val_mae) if r.best_val_mae is not None else "—"
        else:
            best = f"{100 * r.best_val_acc:.1f} %" if r.best_val_acc is not None else "—"
        if r.best_epoch is not None:
            best += f" (epoch {r.best_epoch})"
        lr = f"{r.lr:g}" + (f" (changed {r.lr_changes}×)" if r.lr_changes else "")
        epochs = f"{r.epochs}/{r.target_epochs}"
        rows.append((str(i), r.started, r.status, epochs, lr, str(r.batch_size), r.optimizer,
                     f"{r.l1:g} / {r.weight_decay:g}",
                     ", ".join(f"{p:g}" for p in r.dropout) or "—", f"{r.parameters:,}",
                     best, _duration(r.seconds)))
    return headers, rows
