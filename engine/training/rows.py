"""What a history row and a marker look like, checked field by field: shared by the
checkpoint's trainer.json and the run records of the run history. Pure Python (no torch), so
reading a folder of run records stays light."""
from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["HISTORY_ROW", "EVENT_FIELDS", "is_int", "is_number", "show", "whole", "number",
           "history_problems", "event_problems"]

#: EpochSnapshot's fields: how each is checked.
HISTORY_ROW = {"epoch": "int", "train_loss": "number", "train_acc": "optional",
               "val_loss": "number", "val_acc": "optional", "val_mae": "optional",
               "val_rmse": "optional", "lr": "number", "seconds": "number", "step": "int"}
#: TrainingEvent's fields: how each is checked.
EVENT_FIELDS = {"kind": "text", "epoch": "int", "batch": "int", "step": "int",
                "at_epoch": "number", "message": "text", "old": "optional", "new": "optional",
                "direction": "text", "near_chance_below": "optional"}
_EVENT_REQUIRED = ("kind", "epoch", "batch", "step", "at_epoch", "message")


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def show(value: Any) -> str:
    """A short rendering of a bad value for a message."""
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= 30 else text[:27] + "..."


def whole(where: str, value: Any, low: int, high: int | None = None) -> str | None:
    if not is_int(value):
        return f"{where} must be a whole number (found {show(value)})"
    if value < low or (high is not None and value > high):
        bound = f"from {low:,} to {high:,}" if high is not None else f"{low:,} or more"
        return f"{where} must be {bound} (found {value:,})"
    return None


def number(where: str, value: Any, *, optional: bool = False, finite: bool = False,
           positive: bool = False) -> str | None:
    if value is None and optional:
        return None
    kind = "a number" + (" or null" if optional else "")
    if not is_number(value):
        return f"{where} must be {kind} (found {show(value)})"
    if (finite or positive) and not math.isfinite(value):
        return f"{where} must be a finite number (found {show(value)})"
    if positive and value <= 0:
        return f"{where} must be > 0 (found {value:g})"
    return None


def history_problems(history: list, *, null_numbers: bool = False) -> list[str]:
    """What is wrong with a list of history rows (``EpochSnapshot`` as dicts, numbered 1…N).
    ``null_numbers``: losses may be null (JSON written without NaN)."""
    problems: list[str] = []

    def add(problem: str | None) -> None:
        if problem:
            problems.append(problem)

    for i, row in enumerate(history):
        where = f"history[{i}]"
        if not isinstance(row, dict):
            add(f"{where} must be an object (found {show(row)})")
            continue
        for key in sorted(set(row) - set(HISTORY_ROW), key=str):
            add(f"{where}.{key}: unknown field (known: {', '.join(HISTORY_ROW)})")
        for key, kind in HISTORY_ROW.items():
            if key not in row:
                add(f"{where}.{key} is missing")
            elif kind == "int":
                add(whole(f"{where}.{key}", row[key], 1 if key == "epoch" else 0))
            else:
                add(number(f"{where}.{key}", row[key],
                           optional=kind == "optional" or null_numbers))
        if is_int(row.get("epoch")) and row["epoch"] != i + 1:
            add(f"{where}.epoch must be {i + 1} (found {row['epoch']})")
    return problems


def event_problems(events: Any) -> list[str]:
    """What is wrong with a list of markers (``TrainingEvent`` as dicts)."""
    if not isinstance(events, list):
        return [f"events must be a list of markers (found {show(events)})"]
    problems: list[str | None] = []
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(event, dict):
            problems.append(f"{where} must be an object (found {show(event)})")
            continue
        for key in sorted(set(event) - set(EVENT_FIELDS), key=str):
            problems.append(f"{where}.{key}: unknown field (known: {', '.join(EVENT_FIELDS)})")
        for key in _EVENT_REQUIRED:
            if key not in event:
                problems.append(f"{where}.{key} is missing")
        for key, kind in EVENT_FIELDS.items():
            if key not in event:
                continue
            value = event[key]
            if kind == "text":
                if not isinstance(value, str):
                    problems.append(f"{where}.{key} must be text (found {show(value)})")
            elif kind == "int":
                problems.append(whole(f"{where}.{key}", value, 0))
            else:
                problems.append(number(f"{where}.{key}", value, optional=kind == "optional"))
    return [p for p in problems if p]
