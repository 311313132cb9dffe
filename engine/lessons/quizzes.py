"""Predict, then reveal: quiz kinds, declared once, whose answers are computed.

A quiz step asks the learner for a number before LayerLab shows it: a layer's output shape or
parameter count (answered by ``engine.analyze`` on the step's project, so it is always right),
which curve had the too-high learning rate (curves computed by engine/lessons/curves.py), a
neuron's output, a softmax probability, a loss, a gradient step, a metric from a confusion
matrix, batches per epoch. A wrong answer gets the worked arithmetic with the numbers of the
project (for layers, the very lines the inspector shows: ``LayerSpec.arithmetic``); a right
one moves on.

    quiz = quiz_from_json({"kind": "output_shape", "node": "conv1"})
    question = ask(quiz, project)          # prompt, answer kind, curves to plot
    result = grade(quiz, project, "64×254×254")
    result.correct, result.message, result.worked
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..graph import Project
from ..inference import Analysis, analyze
from ..params import Param
from ..project import LoadProblem
from .checks import CheckError
from .curves import Curve, learning_rate_curves
from .fields import Registry, parse_fields

__all__ = ["QuizKind", "Quiz", "Question", "Solution", "QuizResult", "register_quiz",
           "find_quiz", "all_quizzes", "parse_quiz", "quiz_from_json", "quiz_to_json", "ask",
           "solve", "grade", "quiz_problems", "num", "number_list", "Unanswerable"]

ANSWER_KINDS = ("shape", "number", "choice")


@dataclass(frozen=True)
class Question:
    prompt: str
    answer_kind: str                      # shape | number | choice
    choices: tuple[str, ...] = ()         # for "choice": the labels to pick from
    curves: tuple[Curve, ...] = ()        # for pick_curve: what to plot, labelled
    hint: str = ""                        # how to type the answer ("like 6×28×28")


@dataclass(frozen=True)
class Solution:
    value: Any                  # tuple of ints (shape), float/int (number), label (choice)
    text: str                   # the answer as the learner would write it
    worked: tuple[str, ...]     # the arithmetic, with the project's / the lesson's numbers


@dataclass(frozen=True)
class QuizResult:
    correct: bool
    understood: bool            # False: the answer could not be read (no attempt counted)
    expected: str
    message: str
    worked: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuizKind:
    name: str
    summary: str
    params: tuple[Param, ...]
    answer_kind: str
    solve: Callable[[dict, Project, Analysis], Solution]
    prompt: Callable[[dict, Project, Analysis], str]
    #: Problems only the step's project can reveal (a node that is not there): messages.
    problems_in: Callable[[dict, Project, Analysis], list[str]] = lambda a, p, an: []
    validate: Callable[[dict], list[str]] = lambda args: []
    #: Numbers: accepted within this absolute distance, or this relative one.
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    #: Numbers that are fractions (probabilities, metrics): "66%" reads as 0.66.
    fraction: bool = False
    #: The answer is on screen in an editor of the network (the shapes and parameter counts
    #: on its cards): a window hides them while the quiz waits — predict, then reveal.
    answer_on_canvas: bool = False
    example: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Quiz:
    kind: str
    args: dict
    question: str = ""          # the lesson's own wording of the question, if any
    source: dict = field(default_factory=dict, compare=False)

    def __hash__(self) -> int:
        return hash(self.kind)


def _declare_all() -> None:
    # Importing registers the kinds; the network's come first in listings.
    from . import network_quizzes  # noqa: F401
    from . import arithmetic_quizzes  # noqa: F401


_REGISTRY: Registry[QuizKind] = Registry("quiz kind", _declare_all)
find_quiz = _REGISTRY.find


def register_quiz(kind: QuizKind) -> QuizKind:
    if kind.answer_kind not in ANSWER_KINDS:
        raise ValueError(f"quiz kind {kind.name!r}: unknown answer kind {kind.answer_kind!r}")
    return _REGISTRY.register(kind)


def all_quizzes() -> Iterator[QuizKind]:
    return _REGISTRY.all()


# --- parsing -------------------------------------------------------------------------------

def parse_quiz(data: Any, where: str, problems: list[LoadProblem]) -> Quiz | None:
    if not isinstance(data, dict):
        problems.append(LoadProblem(where, "a quiz is an object with a \"kind\""))
        return None
    name = data.get("kind")
    kind = find_quiz(name) if isinstance(name, str) else None
    if kind is None:
        known = ", ".join(k.name for k in all_quizzes())
        problems.append(LoadProblem(f"{where}.kind", f"unknown quiz kind {name!r} (known "
                                                     f"kinds: {known})"))
        return None
    question = data.get("question", "")
    if not isinstance(question, str):
        problems.append(LoadProblem(f"{where}.question", "must be text"))
        return None
    args = parse_fields(f"the {kind.name} quiz", kind.params, data, where, problems,
                        {"kind", "question"}, None, kind.validate)
    return None if args is None else Quiz(kind.name, args, question.strip(), dict(data))


def quiz_from_json(data: Any, where: str = "quiz") -> Quiz:
    problems: list[LoadProblem] = []
    quiz = parse_quiz(data, where, problems)
    if quiz is None:
        raise CheckError(problems)
    return quiz


def quiz_to_json(quiz: Quiz) -> dict:
    if quiz.source:
        return dict(quiz.source)
    out = {"kind": quiz.kind, **{k: v for k, v in quiz.args.items() if v is not None}}
    if quiz.question:
        out["question"] = quiz.question
    return out


def quiz_problems(quiz: Quiz, project: Project, analysis: Analysis | None = None) -> list[str]:
    """What makes ``quiz`` unanswerable on ``project`` (the step's starting project)."""
    analysis = analysis or analyze(project.graph)
    return find_quiz(quiz.kind).problems_in(quiz.args, project, analysis)


# --- asking and grading --------------------------------------------------------------------

class Unanswerable(ValueError):
    """The quiz cannot be asked about this project (its node is missing or has no shape); the
    message says why. The step's own starting project always can (the loader checks)."""


def _answerable(quiz: Quiz, project: Project, analysis: Analysis) -> None:
    problems = find_quiz(quiz.kind).problems_in(quiz.args, project, analysis)
    if problems:
        raise Unanswerable(problems[0].replace("the step's project", "this project"))


def ask(quiz: Quiz, project: Project, analysis: Analysis | None = None) -> Question:
    """The question, about ``project``; raises Unanswerable when it cannot be asked there."""
    kind = find_quiz(quiz.kind)
    analysis = analysis or analyze(project.graph)
    _answerable(quiz, project, analysis)
    prompt = quiz.question or kind.prompt(quiz.args, project, analysis)
    curves = learning_rate_curves(quiz.args["lrs"]) if kind.name == "pick_curve" else ()
    choices = tuple(c.label for c in curves)
    hints = {"shape": "type it channels first, like 6×28×28 (x or × between the numbers)",
             "number": "a number" + (", like 0.25 or 25%" if kind.fraction else ""),
             "choice": "one of " + ", ".join(choices)}
    return Question(prompt, kind.answer_kind, choices, curves, hints[kind.answer_kind])


def solve(quiz: Quiz, project: Project, analysis: Analysis | None = None) -> Solution:
    """The computed answer and its arithmetic; raises Unanswerable like :func:`ask`."""
    analysis = analysis or analyze(project.graph)
    _answerable(quiz, project, analysis)
    return find_quiz(quiz.kind).solve(quiz.args, project, analysis)


def grade(quiz: Quiz, project: Project, answer: str,
          analysis: Analysis | None = None) -> QuizResult:
    """Marks ``answer`` (what the learner typed). Never raises: a quiz that cannot be asked
    about ``project`` gives a result that is not understood, saying why."""
    kind = find_quiz(quiz.kind)
    try:
        solution = solve(quiz, project, analysis)
    except Unanswerable as exc:
        return QuizResult(False, False, "", f"This question cannot be asked about the open "
                                            f"project: {exc}")
    text = str(answer).strip()
    reader = {"shape": _read_shape, "number": _read_number, "choice": _read_choice}
    given = reader[kind.answer_kind](text)
    if given is None:
        return QuizResult(False, False, solution.text, f"I could not read {text[:40]!r}: "
                                                       f"{ask(quiz, project).hint}")
    note = ""
    if kind.answer_kind == "shape":
        right = given == solution.value
        if not right and len(given) == 3 == len(solution.value) \
                and given == solution.value[1:] + solution.value[:1]:
            right, note = True, (f" You wrote it channels last; LayerLab writes the channels "
                                 f"first: {solution.text}.")
    elif kind.answer_kind == "number":
        right = _close(given, solution.value, kind)
        if not right and kind.fraction and given > 1 and "%" not in text:
            right = _close(given / 100, solution.value, kind)   # "66" for 66%
    else:
        right = given.upper() == str(solution.value).upper()
    if right:
        return QuizResult(True, True, solution.text, f"Right: {solution.text}.{note}",
                          solution.worked)
    return QuizResult(False, True, solution.text,
                      f"Not quite: you answered {text}; the answer is {solution.text}.",
                      solution.worked)


def _close(given: float, want: float, kind: QuizKind) -> bool:
    return math.isclose(given, want, rel_tol=kind.rel_tol, abs_tol=kind.abs_tol) or given == want


def _read_shape(text: str) -> tuple[int, ...] | None:
    numbers = re.findall(r"\d+", text.replace(",", " "))
    rest = re.sub(r"[\d\s×xX*,\[\]()]+", "", text)
    if not numbers or rest:
        return None
    return tuple(int(n) for n in numbers)


def _read_number(text: str) -> float | None:
    clean = text.replace(",", "").replace(" ", "").replace("\u202f", "").replace("_", "")
    clean = clean.replace("\u2212", "-").replace("\u2013", "-")   # − and – as typed or pasted
    percent = clean.endswith("%")
    try:
        value = float(clean.rstrip("%"))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value / 100 if percent else value


def _read_choice(text: str) -> str | None:
    """"B", "b", "curve B", "B (lr 1.1)"."""
    match = re.match(r"(?:curve\s*)?([A-Za-z])(?![A-Za-z])", text.strip(), re.IGNORECASE)
    return match.group(1).upper() if match else None


# --- wording numbers -----------------------------------------------------------------------

def num(value: float, digits: int = 4) -> str:
    """A number as a learner writes it: 1,792 / 0.659 / −3."""
    if float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:,.{digits}g}" if abs(value) >= 1e-3 else f"{value:.{digits}g}"
    return text.replace("-", "−")


def number_list(values) -> str:
    return "[" + ", ".join(num(v) for v in values) + "]"
