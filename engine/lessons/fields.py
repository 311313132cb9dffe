"""What check kinds and quiz kinds share: their registries, their declared fields, the one
parser that reads those fields, and the located errors of lesson files and packs.

Check kinds and quiz kinds declare their fields with the layer registry's Param types
(engine/params.py) plus the few below; :func:`parse_fields` checks a JSON object against such a
declaration and reports every problem with its location, never raising.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterator, TypeVar

from ..graph import ID_PATTERN
from ..params import Param, ParamError
from ..project import LoadProblem

__all__ = ["REQUIRED", "TextParam", "NodeIdParam", "ListParam", "ValueParam", "ChecksParam",
           "NumberListParam", "parse_fields", "short", "article", "Registry", "LocatedError"]

#: Marks a field without a default: the lesson must give it.
REQUIRED = object()

K = TypeVar("K")


class Registry(Generic[K]):
    """Kinds by name, each declared once; ``load`` imports the modules that declare them the
    first time anyone asks (so importing the machinery stays cheap and cycle-free)."""

    def __init__(self, what: str, load: Callable[[], None]) -> None:
        self.what, self._load, self._kinds = what, load, {}

    def register(self, kind: K) -> K:
        if kind.name in self._kinds:
            raise ValueError(f"{self.what} {kind.name!r} is declared twice")
        self._kinds[kind.name] = kind
        return kind

    def find(self, name: str) -> K | None:
        self._load()
        return self._kinds.get(name)

    def all(self) -> Iterator[K]:
        self._load()
        yield from self._kinds.values()


class LocatedError(ValueError):
    """Something a learner or teacher wrote that cannot be used: ``problems`` locate each
    cause (the file, the step, the field), ``source`` names the file."""

    def __init__(self, source: str, problems: list[LoadProblem], headline: str) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} {headline}:\n{lines}")


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class TextParam(Param):
    kind: str = field(init=False, default="text")

    def check(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ParamError(f"{self.name} must be a non-empty text (got {short(value)})")
        return value

    def describe(self) -> str:
        return "text"


@dataclass(frozen=True)
class NodeIdParam(TextParam):
    kind: str = field(init=False, default="node id")

    def check(self, value: Any) -> Any:
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            raise ParamError(f"{self.name} must be a node id like conv1 (got {short(value)})")
        return value

    def describe(self) -> str:
        return "node id"


@dataclass(frozen=True)
class ListParam(Param):
    """A list whose items another Param checks (``item``), with a length range."""
    item: Param | None = None
    min_items: int = 1
    max_items: int = 1000
    kind: str = field(init=False, default="list")

    def check(self, value: Any) -> Any:
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            raise ParamError(f"{self.name} must be a list of {self.min_items} to "
                             f"{self.max_items} items (got {short(value)})")
        return [self.item.check(v) for v in value] if self.item else list(value)

    def describe(self) -> str:
        inner = self.item.describe() if self.item else "values"
        return f"list of {inner} ({self.min_items} to {self.max_items})"


@dataclass(frozen=True)
class NumberListParam(ListParam):
    """A list of finite numbers (optionally all within [minimum, maximum])."""
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: Any) -> Any:
        items = super().check(value)
        for v in items:
            if (isinstance(v, bool) or not isinstance(v, (int, float))
                    or not math.isfinite(v)):
                raise ParamError(f"{self.name} must hold numbers only (got {short(v)})")
            if (self.minimum is not None and v < self.minimum) or \
                    (self.maximum is not None and v > self.maximum):
                raise ParamError(f"{self.name}: {v} is outside {self.minimum} to "
                                 f"{self.maximum}")
        return [float(v) for v in items]

    def describe(self) -> str:
        return f"list of numbers ({self.min_items} to {self.max_items})"


@dataclass(frozen=True)
class ValueParam(Param):
    """Any JSON value but an object (a setting's expected value)."""
    kind: str = field(init=False, default="value")

    def check(self, value: Any) -> Any:
        if isinstance(value, dict):
            raise ParamError(f"{self.name} must be a number, text, true/false or a list")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{self.name} must be a finite number")
        return value

    def describe(self) -> str:
        return "number, text, true/false or list"


@dataclass(frozen=True)
class ChecksParam(Param):
    """The parts of a combinator (all, any, not): checks, parsed recursively."""
    kind: str = field(init=False, default="checks")

    def describe(self) -> str:
        return "list of checks"


def parse_fields(what: str, params: tuple[Param, ...], data: dict, where: str,
                 problems: list[LoadProblem], ignore: set[str],
                 parse_part: Callable | None = None,
                 validate: Callable[[dict], list[str]] = lambda args: []) -> dict | None:
    """The arguments ``data`` gives for ``params`` (defaults filled in), or None after adding
    each problem to ``problems``. ``what`` names the thing in messages ("the layer check");
    ``ignore`` lists keys handled by the caller; ``parse_part`` parses ChecksParam items."""
    before = len(problems)
    names = {p.name for p in params}
    for key in sorted(set(data) - names - ignore, key=str):
        problems.append(LoadProblem(f"{where}.{key}", f"{what} has no field '{key}' (its "
                                                      f"fields: {', '.join(sorted(names)) or 'none'})"))
    args: dict[str, Any] = {}
    for param in params:
        if param.name not in data:
            if param.default is REQUIRED:
                problems.append(LoadProblem(f"{where}.{param.name}",
                                            f"{what} needs '{param.name}' ({param.help})"))
            else:
                args[param.name] = param.default
            continue
        value = data[param.name]
        if isinstance(param, ChecksParam):
            if not isinstance(value, list) or not value:
                problems.append(LoadProblem(f"{where}.{param.name}",
                                            "must be a non-empty list of checks"))
                continue
            parts = [parse_part(item, f"{where}.{param.name}[{i}]", problems)
                     for i, item in enumerate(value)]
            args[param.name] = tuple(p for p in parts if p is not None)
            continue
        if value is None and param.default is None:
            args[param.name] = None
            continue
        try:
            args[param.name] = param.check(value)
        except ParamError as exc:
            problems.append(LoadProblem(f"{where}.{param.name}", str(exc)))
    if len(problems) > before:
        return None
    for message in validate(args):
        problems.append(LoadProblem(where, f"{what}: {message}"))
    return None if len(problems) > before else args


def article(word: str) -> str:
    """"a Conv2d", "an AvgPool2d": the article a learner would read."""
    return ("an " if word[:1] in "AEIOU" else "a ") + word
