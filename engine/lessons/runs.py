"""What a lesson check knows about training: plain-data run records.

A :class:`RunRecord` is one training run as the checks see it — how it ended, its history rows
(``EpochSnapshot.row()`` dicts), its settings, and the project it trained. The app builds one
from a finished run (:func:`record_from_result`); headless, :func:`read_run` reads the run
folder that ``layerlab train`` and the app write beside the project (engine/locations.py).

A run answers a check only while it is *fresh*: the project it trained must still have the same
layers, wiring and settings as the open one (node positions, names and descriptions aside).
Otherwise "validation accuracy ≥ 0.9" would stay green after the learner changed the network.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import registry
from ..graph import Project
from ..project import ProjectLoadError, project_from_dict, project_to_dict

__all__ = ["RunRecord", "read_run", "record_from_result", "run_to_json", "run_from_json",
           "project_changes", "train_record", "BLOW_UP_LOSS", "HISTORY_KEYS", "RunReadError"]

#: Keys of one history row: EpochSnapshot.row() (engine/training/snapshots.py HISTORY_FIELDS).
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_mae",
                "val_rmse", "lr", "seconds")
#: A loss above this (or NaN/infinite) means the weights blew up, even when the trainer's
#: NaN guard did not trip (an SGD step can throw a net to 1e28 and back to chance level).
#: Cross-entropy of an untrained net is ln(classes) ≈ 2.3 for ten; standardized regression
#: starts near 1; no healthy run comes near 10,000.
BLOW_UP_LOSS = 1e4
STATUSES = ("finished", "stopped", "diverged", "failed", "running")


class RunReadError(ValueError):
    """A run folder or run record that cannot be read; the message names the file."""


@dataclass(frozen=True)
class RunRecord:
    status: str                          # finished | stopped | diverged | failed | running
    history: tuple[dict, ...] = ()       # EpochSnapshot.row() dicts, oldest first
    settings: dict = field(default_factory=dict)   # the resolved training config, if known
    #: The project the run trained; None when unknown (a bare metrics file), and then the run
    #: is taken to be of the open project.
    project: Project | None = None
    message: str = ""
    source: str = ""                     # where it came from, for messages

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def last(self) -> dict:
        return self.history[-1] if self.history else {}

    @property
    def blew_up(self) -> bool:
        """The loss became NaN, infinite or absurdly large at some epoch."""
        for row in self.history:
            for key in ("train_loss", "val_loss"):
                value = row.get(key)
                if value is None and key == "train_loss":
                    return True   # written as null: a non-finite value in a JSON file
                if isinstance(value, (int, float)) and (not math.isfinite(value)
                                                        or abs(value) > BLOW_UP_LOSS):
                    return True
        return False

    @property
    def diverged(self) -> bool:
        return self.status == "diverged" or self.blew_up


# --- comparing projects --------------------------------------------------------------------

def _node_signature(node) -> tuple:
    spec = registry.find(node.type)
    params = node.params
    if spec is not None:
        try:
            params = spec.resolve(node.params)
        except Exception:  # an invalid value: compare what was written
            params = node.params
    return node.type, json.dumps(params, sort_keys=True, default=str)


def project_changes(trained: Project, current: Project) -> list[str]:
    """What differs between the project a run trained and the open one, in words a learner
    reads ("conv1.kernel_size", "training.lr", "the wiring"); [] when the run still fits."""
    changes: list[str] = []
    a, b = trained.graph.nodes, current.graph.nodes
    for node_id in b:
        if node_id not in a:
            changes.append(f"added {node_id}")
        elif _node_signature(a[node_id]) != _node_signature(b[node_id]):
            if a[node_id].type != b[node_id].type:
                changes.append(f"{node_id}'s type")
            else:
                old, new = a[node_id].params, b[node_id].params
                keys = sorted({k for k in set(old) | set(new) if old.get(k) != new.get(k)})
                changes.extend(f"{node_id}.{k}" for k in keys or ["params"])
    changes.extend(f"removed {node_id}" for node_id in a if node_id not in b)
    wires = lambda p: sorted((e.source, e.target, e.target_port)  # noqa: E731
                             for e in p.graph.edges)
    if wires(trained) != wires(current) and not any(c.startswith(("added", "removed"))
                                                    for c in changes):
        changes.append("the wiring")
    for section in ("training", "dataset"):
        old, new = getattr(trained, section) or {}, getattr(current, section) or {}
        keys = sorted(k for k in set(old) | set(new)
                      if json.dumps(old.get(k), sort_keys=True) != json.dumps(new.get(k),
                                                                                sort_keys=True))
        changes.extend(f"{section}.{k}" for k in keys)
    return changes


# --- building records ----------------------------------------------------------------------

def _clean_row(row: Any) -> dict:
    if not isinstance(row, dict):
        raise RunReadError(f"a history row must be an object (found {type(row).__name__})")
    out = {}
    for key in HISTORY_KEYS:
        value = row.get(key)
        if key == "epoch":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RunReadError(f"a history row needs an epoch number from 1 "
                                   f"(found {value!r})")
        elif value is not None and (isinstance(value, bool)
                                    or not isinstance(value, (int, float))):
            raise RunReadError(f"history row {row.get('epoch')!r}: {key} must be a number or "
                               f"null (found {value!r})")
        out[key] = value
    return out


def record_from_result(result, project: Project | None = None,
                       settings: dict | None = None) -> RunRecord:
    """A record of a finished run: ``result`` is the Trainer's RunResult (or anything with
    ``status``, ``message`` and ``history`` of EpochSnapshots); ``project`` the project as it
    was when Train was pressed."""
    rows = tuple(_clean_row(h.row() if hasattr(h, "row") else h) for h in result.history)
    return RunRecord(result.status, rows, dict(settings or {}),
                     project.copy() if project is not None else None,
                     getattr(result, "message", ""), "this session")


def run_to_json(record: RunRecord) -> dict:
    return {"format": "layerlab-run", "version": 1, "status": record.status,
            "message": record.message, "history": [dict(r) for r in record.history],
            "settings": record.settings,
            "project": project_to_dict(record.project) if record.project else None}


def run_from_json(data: Any, source: str = "run") -> RunRecord:
    """A record from :func:`run_to_json`'s form; RunReadError names ``source`` and the field."""
    if not isinstance(data, dict) or data.get("format") != "layerlab-run":
        raise RunReadError(f"{source}: not a LayerLab run record (expected "
                           f"\"format\": \"layerlab-run\")")
    status = data.get("status")
    if status not in STATUSES:
        raise RunReadError(f"{source}: status must be one of {', '.join(STATUSES)} "
                           f"(found {status!r})")
    history = data.get("history", [])
    if not isinstance(history, list):
        raise RunReadError(f"{source}: history must be a list of rows")
    try:
        rows = tuple(_clean_row(r) for r in history)
    except RunReadError as exc:
        raise RunReadError(f"{source}: {exc}") from None
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise RunReadError(f"{source}: settings must be an object")
    project = None
    if data.get("project") is not None:
        try:
            project = project_from_dict(data["project"], f"{source}: project")
        except ProjectLoadError as exc:
            raise RunReadError(str(exc)) from None
    message = data.get("message", "")
    return RunRecord(status, rows, settings, project, message if isinstance(message, str)
                     else "", source)


# --- reading a run folder ------------------------------------------------------------------

def _read_json(path: Path, limit: int = 64 * 1024 * 1024) -> Any:
    try:
        if path.stat().st_size > limit:
            raise RunReadError(f"{path}: larger than {limit:,} bytes")
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunReadError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise RunReadError(f"{path}: not valid JSON ({exc})") from None


def _same_rows(a: list[dict], b: list[dict]) -> bool:
    def key(rows):
        return [(r.get("epoch"), _num(r.get("train_loss")), _num(r.get("val_loss")))
                for r in rows]
    return key(a) == key(b)


def _num(value: Any) -> Any:
    # metrics.json writes NaN/inf as null; the checkpoint keeps them. Compare them alike.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_run(path: str | os.PathLike) -> RunRecord | None:
    """The last run in a run folder (``my_net-run/``), a checkpoint folder, a metrics JSON
    (``layerlab train --metrics-json``) or a run record file; None when the folder has no
    finished run. Raises RunReadError for a file that exists but cannot be used.

    From a folder: the history, settings and trained project come from the checkpoint; how it
    ended comes from ``metrics.json`` beside it when that file describes the same run (the app
    writes it, and so does ``layerlab train --metrics-json <run folder>/metrics.json``), else
    from the run history's newest record (``runs/``, which ``layerlab train`` writes) when
    that is the same run.
    Without it, a run that stopped before its target epochs reads as "stopped" — unless its
    losses blew up, which reads as diverged either way.
    """
    path = Path(path)
    if path.is_file():
        data = _read_json(path)
        if isinstance(data, dict) and data.get("format") == "layerlab-run":
            return run_from_json(data, str(path))
        return _from_metrics(data, path)
    checkpoint = path / "checkpoint" if (path / "checkpoint").is_dir() else path
    meta_path = checkpoint / "trainer.json"
    if not meta_path.is_file():
        metrics = path / "metrics.json"
        return _from_metrics(_read_json(metrics), metrics) if metrics.is_file() else None
    meta = _read_json(meta_path)
    if not isinstance(meta, dict) or not isinstance(meta.get("history"), list):
        raise RunReadError(f"{meta_path}: not a LayerLab checkpoint (no history)")
    try:
        rows = tuple(_clean_row(r) for r in meta["history"])
    except RunReadError as exc:
        raise RunReadError(f"{meta_path}: {exc}") from None
    settings = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    project = None
    if (checkpoint / "project.json").is_file():
        try:
            project = project_from_dict(_read_json(checkpoint / "project.json"),
                                        str(checkpoint / "project.json"))
        except ProjectLoadError:
            project = None   # unknown: the run is taken as it is (see RunRecord.project)
    target = settings.get("epochs")
    status = "finished" if isinstance(target, int) and meta.get("epoch", 0) >= target \
        else "stopped"
    message = ""
    # The run history's newest record (training/run_history.py), when it is this run.
    from ..training.run_history import RunHistoryError, load_run
    try:
        newest = load_run(checkpoint.parent)
    except RunHistoryError:
        newest = None
    if newest is not None and _same_rows(list(newest.history), list(rows)):
        status = {"interrupted": "stopped"}.get(newest.summary.status, newest.summary.status)
        message = newest.summary.message
    metrics_file = checkpoint.parent / "metrics.json"
    if metrics_file.is_file():
        try:
            metrics = _read_json(metrics_file)
        except RunReadError:
            metrics = None
        if (isinstance(metrics, dict) and metrics.get("status") in STATUSES
                and isinstance(metrics.get("history"), list)
                and _same_rows(metrics["history"], list(rows))):
            status, message = metrics["status"], str(metrics.get("message") or "")
    return RunRecord(status, rows, settings, project, message, str(path))


def _from_metrics(data: Any, path: Path) -> RunRecord:
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise RunReadError(f"{path}: neither a run folder, a metrics file nor a run record")
    status = data.get("status")
    if status not in STATUSES:
        raise RunReadError(f"{path}: status must be one of {', '.join(STATUSES)} "
                           f"(found {status!r})")
    try:
        rows = tuple(_clean_row(r) for r in data["history"])
    except RunReadError as exc:
        raise RunReadError(f"{path}: {exc}") from None
    return RunRecord(status, rows, {}, None, str(data.get("message") or ""), str(path))


def train_record(project: Project, base_dir: str | os.PathLike | None = None,
                 **overrides: Any) -> RunRecord:
    """Train ``project`` headless (blocking) and return its record — for tests, scripts and
    ``layerlab lesson check --train``. ``overrides`` go to Trainer.from_project (epochs,
    device, seed…). Raises the trainer's TrainingError when the project cannot train."""
    from ..training import Trainer
    trainer = Trainer.from_project(project, base_dir, **overrides)
    result = trainer.run()
    return record_from_result(result, project, trainer.config.to_dict())
