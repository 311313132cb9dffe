"""Lessons as data: the model and the loader (the format is docs/lessons.md).

A lesson file is JSON (``resources/lessons/NN-id.json``)::

    {"format": "layerlab-lesson", "version": 1, "id": "convolution",
     "title": "…", "concepts": ["convolution"], "summary": "…",
     "steps": [{"title": "…", "text": "…" or ["paragraph", …], "action": "…",
                "start": {"template": "worked_example", "edits": [...]},
                "hint": "…", "check": {...}, "show_me": {"label": "…", "edits": [...]},
                "quiz": {...}}]}

Loading validates everything — the fields, every check and quiz against their registries,
every start project, and that every "Show me" applies to its step's starting project — and
reports each problem with the file, the step and the field. It never executes anything, and
it never raises anything but :class:`LessonLoadError`.

A step's starting project is its own ``start`` (a bundled template, a project written into the
lesson, or a project of the workshop pack the lesson came in, each optionally with edits), or,
without one, what the previous step's "Show me" produced: the lesson continues on the same
document.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from ..edits import EditError, Fix, apply_edits, edit_from_json, fix_from_json
from ..formatting import json_kind, json_short  # the project loader's wording
from ..graph import Project
from ..inference import analyze
from ..layout import apply_layout
from ..project import LoadProblem, ProjectLoadError, project_from_dict
from ..resources import resources_dir
from .checks import Check, CheckResult, evaluate, needs_run, parse_check
from .concepts import CONCEPTS
from .fields import LocatedError
from .quizzes import Quiz, parse_quiz, quiz_problems

__all__ = ["FORMAT", "VERSION", "Start", "Step", "Lesson", "LessonLoadError", "load_lesson",
           "loads_lesson", "lesson_from_dict", "lessons_dir", "load_lessons",
           "bundled_lessons", "find_lesson", "MAX_LESSON_BYTES", "ID_PATTERN"]

FORMAT = "layerlab-lesson"
VERSION = 1
MAX_LESSON_BYTES = 2 * 1024 * 1024
MAX_STEPS = 100
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_TOP = ("format", "version", "id", "title", "concepts", "summary", "steps")
_STEP = ("title", "text", "action", "start", "hint", "check", "show_me", "quiz")
_START = ("template", "project", "pack", "edits")


class LessonLoadError(LocatedError):
    def __init__(self, source: str, problems: list[LoadProblem]) -> None:
        super().__init__(source, problems, "cannot be used as a lesson")


@dataclass(frozen=True)
class Start:
    """Where a step begins: a base project and edits applied to it."""
    origin: str                  # "template lenet5", "the lesson's own project", "pack: key"
    base: Project = field(repr=False)
    edits: tuple = ()

    def project(self) -> Project:
        return apply_edits(self.base, self.edits) if self.edits else self.base.copy()


@dataclass(frozen=True)
class Step:
    number: int                  # 1-based
    title: str
    text: str                    # paragraphs separated by blank lines
    action: str                  # what the learner does now
    start: Start | None          # None: continue from the previous step
    hint: str = ""
    check: Check | None = None
    show_me: Fix | None = None
    quiz: Quiz | None = None

    @property
    def needs_run(self) -> bool:
        return self.check is not None and needs_run(self.check)


@dataclass(frozen=True, eq=False)
class Lesson:
    id: str
    title: str
    concepts: tuple[str, ...]
    summary: str
    steps: tuple[Step, ...]
    source: str = ""

    def step(self, number: int) -> Step:
        """The step by its 1-based number; IndexError names the range."""
        if not 1 <= number <= len(self.steps):
            raise IndexError(f"lesson '{self.id}' has steps 1 to {len(self.steps)} "
                             f"(asked for {number})")
        return self.steps[number - 1]

    def start_project(self, number: int) -> Project:
        """The project step ``number`` starts from (a fresh copy)."""
        step = self.step(number)
        if step.start is not None:
            return step.start.project()
        return self.solve(number - 1)

    def solve(self, number: int, project: Project | None = None) -> Project:
        """The project after "Show me" of step ``number``, applied to ``project`` (default:
        the step's starting project). Raises EditError when the edits do not fit."""
        step = self.step(number)
        base = self.start_project(number) if project is None else project
        return apply_edits(base, step.show_me.edits) if step.show_me else base.copy()

    def check(self, number: int, project: Project, analysis=None, runs=()) -> CheckResult:
        """Step ``number``'s check on the open document (a quiz-only step has none: it is
        done when its quiz is answered)."""
        step = self.step(number)
        if step.check is None:
            return CheckResult(False, "this step is a quiz: answer its question", (),
                               "answer the quiz")
        return evaluate(step.check, project, analysis, runs)

    def to_summary(self) -> dict:
        """The plain-data listing `layerlab lessons --json` prints."""
        return {"id": self.id, "title": self.title, "concepts": list(self.concepts),
                "summary": self.summary, "steps": len(self.steps),
                "step_titles": [s.title for s in self.steps],
                "quizzes": sum(1 for s in self.steps if s.quiz is not None),
                "needs_training": any(s.needs_run for s in self.steps),
                "source": self.source}


# --- loading -------------------------------------------------------------------------------

def load_lesson(path: str | os.PathLike, projects: Mapping[str, Project] | None = None
                ) -> Lesson:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_LESSON_BYTES:
            raise LessonLoadError(str(path), [LoadProblem(
                "", f"the file is {size:,} bytes; lesson files are at most "
                    f"{MAX_LESSON_BYTES:,}")])
        raw = path.read_bytes()
    except OSError as exc:
        raise LessonLoadError(str(path), [LoadProblem("", exc.strerror or str(exc))]) from None
    return loads_lesson(raw, str(path), projects)


def loads_lesson(text: str | bytes, source: str = "<lesson>",
                 projects: Mapping[str, Project] | None = None) -> Lesson:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LessonLoadError(source, [LoadProblem(
                f"byte {exc.start}", "not UTF-8 text — is this a lesson file?")]) from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise LessonLoadError(source, [LoadProblem(
            f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")]) from None
    except (ValueError, RecursionError) as exc:
        raise LessonLoadError(source, [LoadProblem("", f"not valid JSON: {exc}")]) from None
    return lesson_from_dict(data, source, projects)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a lesson file")


def lesson_from_dict(data: Any, source: str = "<lesson>",
                     projects: Mapping[str, Project] | None = None) -> Lesson:
    """A Lesson from parsed JSON; ``projects`` are the workshop pack's, for ``"pack"`` starts."""
    try:
        return _lesson_from_dict(data, source, projects or {})
    except LessonLoadError:
        raise
    except RecursionError:
        raise LessonLoadError(source, [LoadProblem("", "nested too deeply")]) from None


def _lesson_from_dict(data: Any, source: str, projects: Mapping[str, Project]) -> Lesson:
    problems: list[LoadProblem] = []
    add = lambda where, msg: problems.append(LoadProblem(where, msg))  # noqa: E731
    if not isinstance(data, dict):
        raise LessonLoadError(source, [LoadProblem("", f"a lesson is a JSON object (found "
                                                       f"{json_kind(data)})")])
    if data.get("format") != FORMAT:
        add("format", f'must be "{FORMAT}" (found {json_short(data.get("format"))})')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        add("version", f"must be a whole number ≥ 1 (found {json_short(version)})")
    elif version > VERSION:
        raise LessonLoadError(source, [LoadProblem("version", (
            f"the lesson was written for a newer LayerLab (lesson format {version}); this "
            f"version reads up to {VERSION} — update LayerLab"))])
    for key in sorted(set(data) - set(_TOP), key=str):
        add(str(key), f"unknown field (known fields: {', '.join(_TOP)})")
    lesson_id = data.get("id")
    if not isinstance(lesson_id, str) or not ID_PATTERN.match(lesson_id):
        add("id", f"must be lowercase letters, digits and dashes, like 'convolution' (found "
                  f"{json_short(lesson_id)})")
        lesson_id = "?"
    title = _text(data, "title", "", add, required=True)
    summary = _text(data, "summary", "", add)
    concepts = data.get("concepts")
    if not isinstance(concepts, list) or not concepts:
        add("concepts", f"must be a non-empty list of tags (known: {', '.join(CONCEPTS)})")
        concepts = []
    for i, tag in enumerate(concepts):
        if not isinstance(tag, str) or tag not in CONCEPTS:
            add(f"concepts[{i}]", f"unknown concept {json_short(tag)} (known: "
                                  f"{', '.join(CONCEPTS)})")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        add("steps", "must be a non-empty list of steps")
        raw_steps = []
    elif len(raw_steps) > MAX_STEPS:
        add("steps", f"at most {MAX_STEPS} steps (found {len(raw_steps)})")
        raw_steps = []
    steps = []
    for i, raw in enumerate(raw_steps):
        step = _step(raw, i, f"step {i + 1}", projects, add, problems)
        if step is not None:
            steps.append(step)
    if problems:
        raise LessonLoadError(source, problems)
    lesson = Lesson(lesson_id, title, tuple(dict.fromkeys(concepts)), summary, tuple(steps),
                    source)
    _check_steps(lesson, add)
    if problems:
        raise LessonLoadError(source, problems)
    return lesson


def _step(raw: Any, i: int, where: str, projects, add, problems) -> Step | None:
    if not isinstance(raw, dict):
        add(where, f"a step is an object with text, action, check… (found {json_kind(raw)})")
        return None
    before = len(problems)
    for key in sorted(set(raw) - set(_STEP), key=str):
        add(f"{where}.{key}", f"unknown field (known fields: {', '.join(_STEP)})")
    title = _text(raw, "title", f"Step {i + 1}", add, where)
    text = _paragraphs(raw, where, add)
    quiz = parse_quiz(raw["quiz"], f"{where}.quiz", problems) if "quiz" in raw else None
    check = parse_check(raw["check"], f"{where}.check", problems) if "check" in raw else None
    action = _text(raw, "action", "Type your answer." if "quiz" in raw else "", add, where,
                   required="quiz" not in raw)
    hint = _text(raw, "hint", "", add, where)
    show_me = None
    if "show_me" in raw:
        try:
            show_me = fix_from_json(raw["show_me"], f"{where}.show_me")
        except EditError as exc:
            add(f"{where}.show_me", str(exc).split(": ", 1)[-1] if str(exc).startswith(where)
                else str(exc))
    if "check" not in raw and "quiz" not in raw:
        add(where, "a step needs a check (what the learner must make true) or a quiz")
    if "check" in raw and "show_me" not in raw:
        add(f"{where}.show_me", "a step with a check needs a \"Show me\" (a label and the "
                                "edits that satisfy it)")
    start = _start(raw["start"], f"{where}.start", projects, add) if "start" in raw else None
    if i == 0 and "start" not in raw:
        add(f"{where}.start", "the first step needs a start: a template, a project or a pack "
                              "project")
    if len(problems) > before:
        return None
    return Step(i + 1, title, text, action, start, hint, check, show_me, quiz)


def _start(raw: Any, where: str, projects: Mapping[str, Project], add) -> Start | None:
    if not isinstance(raw, dict):
        add(where, 'must be an object: {"template": name}, {"project": {...}} or '
                   '{"pack": key}, with optional "edits"')
        return None
    for key in sorted(set(raw) - set(_START), key=str):
        add(f"{where}.{key}", f"unknown field (known fields: {', '.join(_START)})")
    given = [k for k in ("template", "project", "pack") if k in raw]
    if len(given) != 1:
        add(where, "give exactly one of template, project or pack")
        return None
    base, origin = None, ""
    if "template" in raw:
        name = raw["template"]
        from ..templates import load_template
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            add(f"{where}.template", f"must be a bundled template's name, like lenet5 (found "
                                     f"{json_short(name)}; `layerlab templates` lists them)")
        else:
            try:
                base, origin = load_template(name), f"template {name}"
            except (KeyError, FileNotFoundError) as exc:
                add(f"{where}.template", str(exc.args[0]) if exc.args else str(exc))
            except ProjectLoadError as exc:
                add(f"{where}.template", str(exc))
    elif "project" in raw:
        try:
            base, origin = project_from_dict(raw["project"], f"{where}.project"), \
                "the lesson's own project"
            nodes = raw["project"].get("nodes") or []
            if not any(isinstance(n, dict) and "position" in n for n in nodes):
                apply_layout(base.graph)   # written without positions: lay it out
        except ProjectLoadError as exc:
            for p in exc.problems:
                add(f"{where}.project" + (f".{p.location}" if p.location else ""), p.message)
    else:
        key = raw["pack"]
        if not isinstance(key, str) or key not in projects:
            known = ", ".join(projects) or "none: this lesson is not in a workshop pack"
            add(f"{where}.pack", f"no pack project {json_short(key)} (the pack's projects: "
                                 f"{known})")
        else:
            base, origin = projects[key], f"pack project {key}"
    edits: list = []
    raw_edits = raw.get("edits", [])
    if not isinstance(raw_edits, list):
        add(f"{where}.edits", "must be a list of edits")
    else:
        for j, item in enumerate(raw_edits):
            try:
                edits.append(edit_from_json(item, f"{where}.edits[{j}]"))
            except EditError as exc:
                add(f"{where}.edits[{j}]", str(exc).split(": ", 1)[-1])
    if base is None:
        return None
    return Start(origin, base, tuple(edits))


def _check_steps(lesson: Lesson, add) -> None:
    """Every start builds, every "Show me" applies, every quiz can be answered."""
    for step in lesson.steps:
        where = f"step {step.number}"
        try:
            start = lesson.start_project(step.number)
        except EditError as exc:
            add(f"{where}.start" if step.start else f"{where} (the previous step's result)",
                str(exc))
            return
        if step.show_me is not None:
            try:
                apply_edits(start, step.show_me.edits)
            except EditError as exc:
                add(f"{where}.show_me", f"does not apply to the step's starting project: {exc}")
                return
        if step.quiz is not None:
            for message in quiz_problems(step.quiz, start, analyze(start.graph)):
                add(f"{where}.quiz", message)


def _text(data: dict, key: str, default: str, add, where: str = "",
          required: bool = False) -> str:
    value = data.get(key, None)
    name = f"{where}.{key}" if where else key
    if value is None:
        if required:
            add(name, "is required (text)")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        add(name, f"must be {'non-empty ' if required else ''}text (found {json_kind(value)})")
        return default
    return value.strip()


def _paragraphs(raw: dict, where: str, add) -> str:
    value = raw.get("text")
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(p, str) and p.strip()
                                                 for p in value):
        return "\n\n".join(p.strip() for p in value)
    add(f"{where}.text", "is required: text, or a list of paragraphs")
    return ""


# --- collections of lessons ----------------------------------------------------------------

def lessons_dir() -> Path:
    return resources_dir() / "lessons"


def load_lessons(folder: str | os.PathLike,
                 projects: Mapping[str, Project] | None = None
                 ) -> tuple[list[Lesson], list[LessonLoadError]]:
    """Every ``*.json`` lesson in ``folder`` (sorted by file name), and the errors of those
    that cannot be used — one broken file does not hide the others. A second lesson with an
    id already taken is an error too."""
    lessons: list[Lesson] = []
    errors: list[LessonLoadError] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            lesson = load_lesson(path, projects)
        except LessonLoadError as exc:
            errors.append(exc)
            continue
        if lesson.id in seen:
            errors.append(LessonLoadError(str(path), [LoadProblem(
                "id", f"'{lesson.id}' is already the id of {seen[lesson.id]}")]))
            continue
        seen[lesson.id] = path.name
        lessons.append(lesson)
    return lessons, errors


@lru_cache(maxsize=1)
def _bundled() -> tuple[tuple[Lesson, ...], tuple[LessonLoadError, ...]]:
    lessons, errors = load_lessons(lessons_dir())
    return tuple(lessons), tuple(errors)


def bundled_lessons(strict: bool = True) -> list[Lesson]:
    """The lessons that ship in resources/lessons/, in course order. ``strict`` raises the
    first LessonLoadError (a broken bundled lesson is a bug); otherwise they are skipped."""
    lessons, errors = _bundled()
    if errors and strict:
        raise errors[0]
    return list(lessons)


def find_lesson(lesson_id: str, lessons: list[Lesson] | None = None) -> Lesson:
    """The lesson with this id; KeyError lists the ids there are."""
    pool = bundled_lessons(strict=False) if lessons is None else lessons
    for lesson in pool:
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(f"no lesson '{lesson_id}' (lessons: {', '.join(l.id for l in pool)})")
