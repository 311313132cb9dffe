"""``layerlab lesson …``: follow a lesson headless.

    layerlab lesson show  --lesson ID [--step N]              the step's text, action and hint
    layerlab lesson start --lesson ID --step N -o OUT.json    the project the step starts from
    layerlab lesson solve --lesson ID --step N -o OUT.json [PROJECT]
                                                              what "Show me" produces
    layerlab lesson check PROJECT --lesson ID --step N [--run PATH | --train] [--pack FILE]
                                                              exit 0 satisfied, 1 not (and why)
    layerlab lesson quiz  --lesson ID --step N [ANSWER] [--project P] [--json]
                                                              ask; with an answer, mark it

``--lesson`` takes a bundled lesson's id or a lesson file; with ``--pack`` the pack's lessons.
Exit status 2 for anything that cannot be read (a message, no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser, step: bool = True) -> None:
        p.add_argument("--lesson", required=True, metavar="ID",
                       help="a lesson id (`layerlab lessons`) or a lesson file")
        if step:
            p.add_argument("--step", required=True, type=int, metavar="N",
                           help="the step number, from 1")
        p.add_argument("--pack", metavar="FILE", help="take the lesson from a workshop pack")

    show = sub.add_parser("show", help="print a lesson's steps (or one step)")
    common(show, step=False)
    show.add_argument("--step", type=int, metavar="N", help="only this step")

    start = sub.add_parser("start", help="write the project a step starts from")
    common(start)
    start.add_argument("-o", "--output", required=True, metavar="OUT.json")

    solve = sub.add_parser("solve", help="write the project the step's \"Show me\" produces")
    common(solve)
    solve.add_argument("project", nargs="?", metavar="PROJECT",
                       help="apply \"Show me\" to this project (default: the step's start)")
    solve.add_argument("-o", "--output", required=True, metavar="OUT.json")

    check = sub.add_parser("check", help="evaluate a step's check on a project: exit 0 when "
                                         "satisfied, 1 when not")
    check.add_argument("project", metavar="PROJECT", help="a project file or template name")
    common(check)
    check.add_argument("--run", metavar="PATH",
                       help="the run to judge: a run folder, metrics JSON or run record "
                            "(default: the project's run folder, <name>-run/)")
    check.add_argument("--train", action="store_true",
                       help="train the project first (headless) and judge that run")
    check.add_argument("--pack-project", metavar="KEY",
                       help="with --pack: which pack project this is (default: by name)")
    check.add_argument("--json", action="store_true", help="machine-readable result")

    quiz = sub.add_parser("quiz", help="ask a step's quiz; with ANSWER, mark it (exit 0 "
                                       "right, 1 wrong)")
    common(quiz)
    quiz.add_argument("answer", nargs="?", metavar="ANSWER")
    quiz.add_argument("--project", metavar="P",
                      help="ask about this project (default: the step's start)")
    quiz.add_argument("--json", action="store_true", help="machine-readable question/result")


class _Fail(Exception):
    """An error already worded for the learner; exit status 2."""


def run(args: argparse.Namespace) -> int:
    try:
        return {"show": _show, "start": _start, "solve": _solve, "check": _check,
                "quiz": _quiz}[args.action](args)
    except _Fail as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


# --- shared --------------------------------------------------------------------------------

def _pack(args):
    if not getattr(args, "pack", None):
        return None
    from ..lessons.pack import PackError, open_pack
    try:
        return open_pack(args.pack)
    except PackError as exc:
        raise _Fail(str(exc)) from None


def _lesson(args):
    from ..lessons import LessonLoadError, find_lesson, load_lesson
    pack = _pack(args)
    if pack is not None:
        try:
            return find_lesson(args.lesson, pack.lessons)
        except KeyError as exc:
            raise _Fail(f"{exc.args[0]} in {args.pack}") from None
    path = Path(args.lesson)
    if path.suffix == ".json" or path.exists():
        try:
            return load_lesson(path)
        except LessonLoadError as exc:
            raise _Fail(str(exc)) from None
    try:
        return find_lesson(args.lesson)
    except KeyError as exc:
        raise _Fail(exc.args[0]) from None


def _step(lesson, number: int):
    try:
        return lesson.step(number)
    except IndexError as exc:
        raise _Fail(str(exc)) from None


def _open(name: str):
    from ..locations import open_project
    from ..project import ProjectLoadError
    try:
        return open_project(name)
    except ProjectLoadError as exc:
        raise _Fail(str(exc)) from None


def _write(project, output: str) -> None:
    from ..project import save_project
    try:
        save_project(project, output)
    except OSError as exc:
        raise _Fail(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}")


# --- actions -------------------------------------------------------------------------------

def _show(args) -> int:
    lesson = _lesson(args)
    steps = [_step(lesson, args.step)] if args.step else lesson.steps
    if not args.step:
        print(f"{lesson.title}  [{', '.join(lesson.concepts)}]")
        if lesson.summary:
            print(lesson.summary)
        print()
    for step in steps:
        print(f"Step {step.number} of {len(lesson.steps)}: {step.title}")
        if step.start is not None:
            print(f"  (starts from {step.start.origin})")
        print()
        for paragraph in step.text.split("\n\n"):
            print(paragraph)
            print()
        if step.quiz is not None:
            from ..lessons import ask
            print(f"Quiz: {ask(step.quiz, lesson.start_project(step.number)).prompt}")
        if step.check is not None:
            from ..lessons import describe
            print(f"To do: {step.action}")
            print(f"Done when: {describe(step.check)}")
        if step.hint:
            print(f"Hint: {step.hint}")
        print()
    return 0


def _start(args) -> int:
    lesson = _lesson(args)
    _step(lesson, args.step)
    _write(lesson.start_project(args.step), args.output)
    return 0


def _solve(args) -> int:
    from ..edits import EditError
    lesson = _lesson(args)
    _step(lesson, args.step)
    base = _open(args.project).project if args.project else None
    try:
        project = lesson.solve(args.step, base)
    except EditError as exc:
        raise _Fail(f"\"Show me\" does not fit this project: {exc} — start from the step's "
                    f"own project (layerlab lesson start)") from None
    _write(project, args.output)
    return 0


def _runs(args, opened) -> list:
    from ..lessons.runs import RunReadError, read_run, train_record
    if args.train:
        from ..training import TrainingError
        try:
            return [train_record(opened.project, opened.base_dir)]
        except TrainingError as exc:
            raise _Fail(f"cannot train {args.project}: {exc}") from None
    path = Path(args.run) if args.run else opened.run_dir
    try:
        record = read_run(path) if path.exists() else None
    except RunReadError as exc:
        raise _Fail(str(exc)) from None
    return [record] if record is not None else []


def _check(args) -> int:
    from ..inference import analyze
    lesson = _lesson(args)
    step = _step(lesson, args.step)
    opened = _open(args.project)
    if args.run and not Path(args.run).exists():
        raise _Fail(f"--run {args.run}: no such file or folder")
    problems = []
    pack = _pack(args)
    if pack is not None:
        try:
            problems = [v.message for v in pack.check_locks(opened.project, args.pack_project)]
        except KeyError as exc:
            raise _Fail(f"{exc.args[0]} (--pack-project)") from None
    runs = _runs(args, opened) if step.needs_run and not problems else []
    if problems:
        from ..lessons import CheckResult
        result = CheckResult(False, "; ".join(problems), (), "the locked values are unchanged")
    else:
        result = lesson.check(args.step, opened.project, analyze(opened.project.graph), runs)
    if step.needs_run and not runs and not problems and not args.json:
        print(f"(headless, `layerlab train {args.project}` writes the run folder this step "
              f"reads; or pass --train, or --run PATH)", file=sys.stderr)
    if args.json:
        print(json.dumps({"lesson": lesson.id, "step": args.step, "ok": result.ok,
                          "goal": result.goal, "reason": result.reason,
                          "parts": [{"ok": p.ok, "goal": p.goal, "reason": p.reason}
                                    for p in result.parts]}, indent=2, ensure_ascii=False))
    else:
        print(f"{'satisfied' if result.ok else 'not yet'}: {result.reason}")
        for part in result.parts:
            print(f"  [{'x' if part.ok else ' '}] {part.goal}"
                  + ("" if part.ok else f" — {part.reason}"))
    return 0 if result.ok else 1


def _quiz(args) -> int:
    from ..lessons import ask, grade
    lesson = _lesson(args)
    step = _step(lesson, args.step)
    if step.quiz is None:
        raise _Fail(f"step {args.step} of '{lesson.id}' has no quiz (its check: "
                    f"layerlab lesson check)")
    from ..lessons.quizzes import Unanswerable
    project = _open(args.project).project if args.project else \
        lesson.start_project(args.step)
    try:
        question = ask(step.quiz, project)
    except Unanswerable as exc:
        raise _Fail(f"{args.project}: {exc}") from None
    if args.answer is None:
        if args.json:
            print(json.dumps({"prompt": question.prompt, "answer_kind": question.answer_kind,
                              "hint": question.hint, "choices": list(question.choices),
                              "curves": [c.to_json() for c in question.curves]}, indent=2,
                             ensure_ascii=False))
        else:
            print(question.prompt)
            for curve in question.curves:
                losses = ", ".join(f"{v:.3g}" for v in curve.losses[:8])
                print(f"  curve {curve.label}: loss {losses}, …")
            print(f"({question.hint})")
        return 0
    result = grade(step.quiz, project, args.answer)
    if args.json:
        print(json.dumps({"correct": result.correct, "understood": result.understood,
                          "expected": result.expected, "message": result.message,
                          "worked": list(result.worked)}, indent=2, ensure_ascii=False))
    else:
        print(result.message)
        if result.understood and not result.correct:
            for line in result.worked:
                print(f"  {line}")
    if not result.understood:
        return 2
    return 0 if result.correct else 1
