"""Re-records the training runs the fast lesson tests feed to run checks.

Every lesson step whose check reads a run (validation accuracy, the last run diverged…) has a
record here: ``<lesson id>-<step>.json``, the run of the project that step's "Show me" produces,
trained headless with its own seed. tests/test_lessons_e2e.py feeds them to the checks (fast);
its slow twin trains every one again and checks the same. Re-record after changing a lesson's
projects or settings — the fast test says which record is stale:

    python tests/lesson_runs/record.py              # all of them
    python tests/lesson_runs/record.py overfitting  # one lesson
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from layerlab.engine.lessons import bundled_lessons
from layerlab.engine.lessons.runs import run_to_json, train_record

HERE = Path(__file__).resolve().parent


def record_path(lesson_id: str, number: int) -> Path:
    return HERE / f"{lesson_id}-{number}.json"


def run_steps(lessons=None):
    """(lesson, step) for every step whose check needs a run."""
    for lesson in lessons or bundled_lessons():
        for step in lesson.steps:
            if step.needs_run:
                yield lesson, step


def main(argv: list[str]) -> int:
    torch.set_num_threads(1)   # the records do not depend on it (docs/workshop.md), but be plain
    for lesson, step in run_steps():
        if argv and lesson.id not in argv:
            continue
        record = train_record(lesson.solve(step.number))
        data = run_to_json(record)
        for row in data["history"]:
            row["seconds"] = 0.0   # wall time: not part of what a check reads, and noisy
        path = record_path(lesson.id, step.number)
        path.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        ok = lesson.check(step.number, lesson.solve(step.number), runs=[record])
        print(f"{path.name}: {record.status}, {record.epochs} epochs — check "
              f"{'passes' if ok.ok else 'FAILS'}: {ok.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
