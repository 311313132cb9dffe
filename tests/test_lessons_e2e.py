"""Every bundled lesson end to end: each step's check fails on the step's starting project and
passes on what its "Show me" produces; each quiz marks its own answer right and a wrong one
wrong, with the worked arithmetic. Steps whose check reads a training run are fed the run
recorded in tests/lesson_runs/ (trained from that very project, see record.py there); two
cheap ones are trained for real here, and the slow test trains every one."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from layerlab.engine import analyze
from layerlab.engine.lessons import (CONCEPTS, bundled_lessons, grade, run_from_json, solve,
                                     train_record)
from layerlab.engine.lessons.runs import project_changes

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lesson_runs"))
from record import record_path, run_steps  # noqa: E402
from training_helpers import one_thread  # noqa: E402,F401  (tiny models train faster on one)

LESSONS = bundled_lessons()
STEPS = [(lesson, step) for lesson in LESSONS for step in lesson.steps]


def _id(item) -> str:
    lesson, step = item
    return f"{lesson.id}-{step.number}"


def recorded_run(lesson, number: int):
    path = record_path(lesson.id, number)
    assert path.is_file(), f"no recorded run for {path.name}: python tests/lesson_runs/record.py"
    record = run_from_json(json.loads(path.read_text(encoding="utf-8")), path.name)
    stale = project_changes(record.project, lesson.solve(number))
    assert stale == [], (f"{path.name} was recorded from another project (changed: {stale}); "
                         f"re-record it: python tests/lesson_runs/record.py {lesson.id}")
    return record


def test_the_course_is_covered():
    assert len(LESSONS) >= 12
    covered = {tag for lesson in LESSONS for tag in lesson.concepts}
    assert covered == set(CONCEPTS)
    assert len({lesson.id for lesson in LESSONS}) == len(LESSONS)
    assert sum(1 for _, step in STEPS if step.quiz) >= 20


@pytest.mark.parametrize("item", [s for s in STEPS if s[1].check], ids=_id)
def test_check_fails_at_the_start_and_passes_after_show_me(item):
    lesson, step = item
    start = lesson.start_project(step.number)
    solved = lesson.solve(step.number)
    before = lesson.check(step.number, start, analyze(start.graph), runs=())
    assert not before.ok, f"already satisfied at the start: {before.reason}"
    assert before.reason
    runs = [recorded_run(lesson, step.number)] if step.needs_run else []
    after = lesson.check(step.number, solved, analyze(solved.graph), runs)
    assert after.ok, after.reason


@pytest.mark.parametrize("item", [s for s in STEPS if s[1].quiz], ids=_id)
def test_quiz_marks_its_answer_right_and_a_wrong_one_with_the_arithmetic(item):
    lesson, step = item
    project = lesson.start_project(step.number)
    answer = solve(step.quiz, project)
    right = grade(step.quiz, project, answer.text)
    assert right.correct and right.understood, right.message
    wrong_answer = {"shape": "1×2×3", "number": "123456789", "choice": "Z"}
    kind = {tuple: "shape", str: "choice"}.get(type(answer.value), "number")
    wrong = grade(step.quiz, project, wrong_answer[kind])
    assert not wrong.correct and wrong.understood
    assert wrong.worked and answer.text in wrong.message


def test_a_run_of_the_start_does_not_satisfy_a_later_network():
    """The runs fed above are of the solved project; a run of anything else is stale."""
    lesson = next(lesson for lesson in LESSONS if lesson.id == "overfitting")
    record = recorded_run(lesson, 1)                    # the big network without dropout
    solved = lesson.solve(4)                            # with dropout and weight decay
    result = lesson.check(4, solved, runs=[record])
    assert not result.ok and "earlier version" in result.reason
    assert "added drop1" in result.reason and "training.weight_decay" in result.reason


@pytest.mark.parametrize("lesson_id,number", [("learning-rate", 4), ("single-neuron", 5)])
def test_run_steps_pass_when_really_trained(lesson_id, number):
    lesson = next(lesson for lesson in LESSONS if lesson.id == lesson_id)
    solved = lesson.solve(number)
    record = train_record(solved)
    assert lesson.check(number, solved, runs=[record]).ok


@pytest.mark.slow
@pytest.mark.parametrize("item", list(run_steps(LESSONS)), ids=_id)
def test_every_run_step_passes_when_really_trained(item):
    lesson, step = item
    solved = lesson.solve(step.number)
    record = train_record(solved)
    result = lesson.check(step.number, solved, runs=[record])
    assert result.ok, result.reason
    recorded = recorded_run(lesson, step.number)
    assert [r["epoch"] for r in record.history] == [r["epoch"] for r in recorded.history]
