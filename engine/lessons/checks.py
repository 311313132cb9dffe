"""Lesson checks: a small declarative vocabulary, declared once.

A lesson step says *what* must be true ("the network has a Conv2d with 6 filters of 5×5",
"validation accuracy ≥ 0.9") as plain data::

    {"kind": "layer", "type": "Conv2d", "params": {"out_channels": 6, "kernel_size": 5}}
    {"kind": "metric", "metric": "val_acc", "at_least": 0.9}

Each kind is one :class:`CheckKind` in the registry below (graph_checks.py and run_checks.py
declare them, like engine/layers/ declares layer types): its parameters, a description, and
the function that evaluates it. The loader, :func:`evaluate`, the command line and
docs/lessons.md all read the registry; a lesson file never holds code.

:func:`evaluate` takes the open document (project and its ``engine.analyze`` analysis) and the
run records (engine/lessons/runs.py) and returns a :class:`CheckResult` whose ``reason`` tells
the learner what is still missing — or, when satisfied, what was achieved.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from ..graph import Project
from ..inference import Analysis, analyze
from ..params import FloatParam, Param
from ..project import LoadProblem
from .fields import REQUIRED, ChecksParam, Registry, parse_fields, short

__all__ = ["CheckKind", "Check", "CheckResult", "CheckContext", "CheckError", "register_check",
           "find_check", "all_checks", "parse_check", "check_from_json", "check_to_json",
           "evaluate", "evaluate_in", "describe", "needs_run", "BOUNDS", "bound_params",
           "need_a_bound", "compare", "bound_words", "judged"]

class CheckError(ValueError):
    """A check (or quiz) that does not fit the vocabulary; ``problems`` name the field."""

    def __init__(self, problems: list[LoadProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    #: Satisfied: what is true now. Not satisfied: what is still missing, in words the learner
    #: can act on ("conv1 has 16 filters; make it 6").
    reason: str
    #: The results of an "all" / "any" check's parts, in order (the panel's checklist).
    parts: tuple["CheckResult", ...] = ()
    #: What the check asks, in words (describe()).
    goal: str = ""


@dataclass(frozen=True)
class CheckContext:
    project: Project
    analysis: Analysis
    runs: tuple = ()          # RunRecord, oldest first; checks read the last one

    @property
    def last_run(self):
        return self.runs[-1] if self.runs else None


@dataclass(frozen=True)
class CheckKind:
    name: str
    summary: str                       # one line, for docs and `layerlab lessons --checks`
    params: tuple[Param, ...]
    evaluate: Callable[[dict, CheckContext], CheckResult]
    describe: Callable[[dict], str]
    #: Whether the check reads a training run (the panel re-evaluates it when a run ends).
    needs_run: bool = False
    #: Cross-field rules ("give one of at_least, at_most"): messages, [] when fine.
    validate: Callable[[dict], list[str]] = lambda args: []
    example: dict = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class Check:
    """One parsed check: its kind and its arguments (defaults filled in, validated)."""
    kind: str
    args: dict
    source: dict = field(default_factory=dict, compare=False)   # the JSON it came from

    def __hash__(self) -> int:
        return hash(self.kind)


def _declare_all() -> None:
    from . import graph_checks, run_checks  # noqa: F401  (importing registers every kind)


_REGISTRY: Registry[CheckKind] = Registry("check kind", _declare_all)
register_check = _REGISTRY.register
find_check = _REGISTRY.find


def all_checks() -> Iterator[CheckKind]:
    return _REGISTRY.all()


#: Numeric bounds shared by every check that compares a number.
BOUNDS = ("equals", "at_least", "at_most", "above", "below")


def bound_params(help_unit: str = "") -> tuple[Param, ...]:
    unit = f" ({help_unit})" if help_unit else ""
    return (FloatParam("equals", None, f"exactly this value{unit}"),
            FloatParam("at_least", None, f"this value or more{unit}"),
            FloatParam("at_most", None, f"this value or less{unit}"),
            FloatParam("above", None, f"more than this value{unit}"),
            FloatParam("below", None, f"less than this value{unit}"))


def need_a_bound(args: dict) -> list[str]:
    if all(args.get(b) is None for b in BOUNDS):
        return [f"give at least one of {', '.join(BOUNDS)}"]
    return []


def compare(value: float, args: dict, tolerance: float = 1e-9) -> bool:
    """``value`` meets every bound given in ``args``."""
    tests = {"equals": lambda b: abs(value - b) <= tolerance * max(1.0, abs(b)),
             "at_least": lambda b: value >= b - tolerance,
             "at_most": lambda b: value <= b + tolerance,
             "above": lambda b: value > b, "below": lambda b: value < b}
    return all(test(args[k]) for k, test in tests.items() if args.get(k) is not None)


def bound_words(args: dict, show: Callable[[float], str] = lambda v: f"{v:,g}") -> str:
    """"at least 90%, less than 95%" — the bounds of ``args``, ``show`` formatting numbers."""
    words = {"equals": "", "at_least": "at least ", "at_most": "at most ",
             "above": "more than ", "below": "less than "}
    return ", ".join(f"{words[k]}{show(args[k])}" for k in BOUNDS if args.get(k) is not None)


def judged(value: float, args: dict, said: str, show: Callable[[float], str],
           what: str = "") -> CheckResult:
    """The result of comparing ``value`` with the bounds in ``args``: ``said`` describes the
    value ("conv1 has 156 parameters"); when it misses, the bounds are added in words."""
    if compare(value, args):
        return CheckResult(True, said)
    return CheckResult(False, f"{said}; this step wants {what + ' ' if what else ''}"
                              f"{bound_words(args, show)}")


# --- parsing -------------------------------------------------------------------------------

def parse_check(data: Any, where: str, problems: list[LoadProblem]) -> Check | None:
    """A Check from its JSON form, or None with every problem added to ``problems`` (each
    naming its location, e.g. ``steps[2].check.params``)."""
    if not isinstance(data, dict):
        problems.append(LoadProblem(where, "a check is an object with a \"kind\" (found "
                                           f"{short(data)})"))
        return None
    name = data.get("kind")
    kind = find_check(name) if isinstance(name, str) else None
    if kind is None:
        known = ", ".join(k.name for k in all_checks())
        problems.append(LoadProblem(f"{where}.kind", f"unknown check kind {short(name)} "
                                                     f"(known kinds: {known})"))
        return None
    args = parse_fields(f"the {kind.name} check", kind.params, data, where, problems,
                        {"kind"}, parse_check, kind.validate)
    return None if args is None else Check(kind.name, args, dict(data))


def check_from_json(data: Any, where: str = "check") -> Check:
    problems: list[LoadProblem] = []
    check = parse_check(data, where, problems)
    if check is None:
        raise CheckError(problems)
    return check


def check_to_json(check: Check) -> dict:
    """The check's JSON form: what the lesson file said, or one built from the arguments."""
    if check.source:
        return dict(check.source)
    kind = find_check(check.kind)
    out: dict[str, Any] = {"kind": check.kind}
    for param in kind.params:
        value = check.args.get(param.name)
        if isinstance(param, ChecksParam):
            out[param.name] = [check_to_json(c) for c in value]
        elif value is not None and value != param.default:
            out[param.name] = value
    return out


# --- evaluating ----------------------------------------------------------------------------

def describe(check: Check) -> str:
    """What the check asks, in words: "conv1's output is 6×28×28"."""
    return find_check(check.kind).describe(check.args)


def needs_run(check: Check) -> bool:
    kind = find_check(check.kind)
    if kind.needs_run:
        return True
    return any(needs_run(c) for c in check.args.get("checks", ()))


def evaluate(check: Check, project: Project, analysis: Analysis | None = None,
             runs: Sequence = ()) -> CheckResult:
    """Whether ``check`` holds for the open document and the runs (oldest first). Never
    raises: a check that cannot be decided is not satisfied, and says why."""
    context = CheckContext(project, analysis if analysis is not None else
                           analyze(project.graph), tuple(runs))
    return evaluate_in(check, context)


def evaluate_in(check: Check, context: CheckContext) -> CheckResult:
    kind = find_check(check.kind)
    goal = kind.describe(check.args)
    try:
        result = kind.evaluate(check.args, context)
    except Exception as exc:  # a bug in one check must not take the lesson panel down
        return CheckResult(False, f"this check could not be evaluated ({exc!r})", (), goal)
    return CheckResult(result.ok, result.reason, result.parts, goal)


# --- combinators ---------------------------------------------------------------------------

def _all(args: dict, ctx: CheckContext) -> CheckResult:
    parts = tuple(evaluate_in(c, ctx) for c in args["checks"])
    missing = [p for p in parts if not p.ok]
    if missing:
        return CheckResult(False, missing[0].reason
                           + (f" (and {len(missing) - 1} more to do)" if len(missing) > 1
                              else ""), parts)
    return CheckResult(True, "; ".join(p.reason for p in parts), parts)


def _any(args: dict, ctx: CheckContext) -> CheckResult:
    parts = tuple(evaluate_in(c, ctx) for c in args["checks"])
    done = [p for p in parts if p.ok]
    if done:
        return CheckResult(True, done[0].reason, parts)
    return CheckResult(False, "one of these is needed: "
                       + "; or ".join(p.goal for p in parts), parts)


def _not(args: dict, ctx: CheckContext) -> CheckResult:
    inner = evaluate_in(args["checks"][0], ctx)
    if inner.ok:
        return CheckResult(False, f"it should not be true that {inner.goal} ({inner.reason})",
                           (inner,))
    return CheckResult(True, f"not so: {inner.reason}", (inner,))


register_check(CheckKind(
    "all", "Every one of the listed checks holds (the panel shows each as a line).",
    (ChecksParam("checks", REQUIRED, "the checks that must all hold"),),
    _all, lambda a: " and ".join(describe(c) for c in a["checks"]),
    example={"kind": "all", "checks": [{"kind": "valid"},
                                       {"kind": "layer", "type": "Flatten"}]}))
register_check(CheckKind(
    "any", "At least one of the listed checks holds.",
    (ChecksParam("checks", REQUIRED, "the checks of which one must hold"),),
    _any, lambda a: " or ".join(describe(c) for c in a["checks"]),
    example={"kind": "any", "checks": [{"kind": "output_layer", "type": "Softmax"},
                                       {"kind": "output_layer", "type": "Sigmoid"}]}))
register_check(CheckKind(
    "not", "The one listed check does not hold.",
    (ChecksParam("checks", REQUIRED, "one check that must not hold"),),
    _not, lambda a: f"not: {describe(a['checks'][0])}" if a["checks"] else "not",
    validate=lambda a: [] if len(a["checks"]) == 1 else ["takes exactly one check"],
    example={"kind": "not", "checks": [{"kind": "layer", "type": "Tanh"}]}))

