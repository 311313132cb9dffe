"""Typed parameter declarations shared by the registry, the loader, the inspector and the docs.

A parameter validates a JSON value and says in plain words what is wrong with it. Values
stay as the user wrote them (``5`` or ``[5, 3]``); rules read them through ``pair()``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Param", "IntParam", "FloatParam", "BoolParam", "ChoiceParam", "PairParam",
    "PaddingParam", "ShapeParam", "SidesParam", "TextParam", "PathParam", "TextListParam",
    "NumbersParam", "ColumnParam", "pair", "ParamError",
]


class ParamError(ValueError):
    """A parameter value that does not fit its declaration; the message names no node."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def pair(value: Any) -> tuple[int, int]:
    """``5`` → (5, 5); ``[5, 3]`` → (5, 3)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    help: str
    kind: str = field(init=False, default="any")

    def check(self, value: Any) -> Any:
        """Return the value (possibly normalised, e.g. tuple → list) or raise ParamError."""
        return value

    def describe(self) -> str:
        """Type and bounds in words, for docs and tooltips."""
        return self.kind


@dataclass(frozen=True)
class IntParam(Param):
    """A whole number. ``none_text`` set: null is allowed too and means that text ("all")."""
    minimum: int | None = None
    maximum: int | None = None
    none_text: str | None = None
    kind: str = field(init=False, default="int")

    def check(self, value: Any) -> Any:
        if value is None and self.none_text is not None:
            return None
        if not _is_int(value):
            extra = f" or null ({self.none_text})" if self.none_text is not None else ""
            raise ParamError(f"{self.name} must be a whole number{extra} (got {_short(value)})")
        _check_bounds(self.name, value, self.minimum, self.maximum)
        return value

    def describe(self) -> str:
        text = "integer" + _bounds_text(self.minimum, self.maximum)
        return text + (f", or null ({self.none_text})" if self.none_text is not None else "")


@dataclass(frozen=True)
class FloatParam(Param):
    minimum: float | None = None
    maximum: float | None = None
    exclusive_max: bool = False
    kind: str = field(init=False, default="float")

    def check(self, value: Any) -> Any:
        if not _is_number(value):
            raise ParamError(f"{self.name} must be a number (got {value!r})")
        _check_bounds(self.name, value, self.minimum, self.maximum, self.exclusive_max)
        return float(value)

    def describe(self) -> str:
        return "number" + _bounds_text(self.minimum, self.maximum, self.exclusive_max)


@dataclass(frozen=True)
class BoolParam(Param):
    kind: str = field(init=False, default="bool")

    def check(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ParamError(f"{self.name} must be true or false (got {value!r})")
        return value

    def describe(self) -> str:
        return "true / false"


@dataclass(frozen=True)
class ChoiceParam(Param):
    choices: tuple = ()
    #: What a picker shows for a choice whose str() reads badly (a tab delimiter), by index.
    labels: tuple = ()
    kind: str = field(init=False, default="choice")

    def label(self, choice: Any) -> str:
        for i, c in enumerate(self.choices):
            if c == choice and type(c) is type(choice) and i < len(self.labels):
                return self.labels[i]
        return str(choice)

    def check(self, value: Any) -> Any:
        # type() as well as ==, so that True never passes for 1 nor 1.0 for 1
        if not any(value == c and type(value) is type(c) for c in self.choices):
            options = ", ".join(repr(c) for c in self.choices)
            raise ParamError(f"{self.name} must be one of {options} (got {value!r})")
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)


@dataclass(frozen=True)
class PairParam(Param):
    """An int or ``[h, w]`` — kernel sizes, strides, dilations. ``allow_none``: None means
    "same as the kernel" (pooling strides, as in torch)."""
    minimum: int = 1
    maximum: int | None = 4096
    allow_none: bool = False
    kind: str = field(init=False, default="pair")

    def check(self, value: Any) -> Any:
        if value is None and self.allow_none:
            return None
        if isinstance(value, (list, tuple)):
            if len(value) != 2 or not all(_is_int(v) for v in value):
                raise ParamError(f"{self.name} must be a whole number or [height, width] "
                                 f"(got {_short(value)})")
            for v in value:
                _check_bounds(self.name, v, self.minimum, self.maximum)
            return [value[0], value[1]]
        if not _is_int(value):
            extra = " or null (same as kernel_size)" if self.allow_none else ""
            raise ParamError(f"{self.name} must be a whole number or [height, width]{extra} "
                             f"(got {_short(value)})")
        _check_bounds(self.name, value, self.minimum, self.maximum)
        return value

    def describe(self) -> str:
        text = "integer or [h, w]" + _bounds_text(self.minimum, self.maximum)
        return text + (", or null (= kernel_size)" if self.allow_none else "")


@dataclass(frozen=True)
class PaddingParam(PairParam):
    """Padding: an int, ``[h, w]``, or the strings ``"same"`` / ``"valid"`` (Conv2d only)."""
    minimum: int = 0
    allow_strings: bool = True
    kind: str = field(init=False, default="padding")

    def check(self, value: Any) -> Any:
        if isinstance(value, str):
            if self.allow_strings and value in ("same", "valid"):
                return value
            raise ParamError(f"{self.name} must be a whole number, [height, width]"
                             + (', "same" or "valid"' if self.allow_strings else "")
                             + f" (got {value!r})")
        return super().check(value)

    def describe(self) -> str:
        return ('integer ≥ 0, [h, w], "same" or "valid"' if self.allow_strings
                else "integer ≥ 0 or [h, w]")


@dataclass(frozen=True)
class ShapeParam(Param):
    """A per-sample tensor shape: ``[C, H, W]`` for images or ``[features]``."""
    maximum: int = 100_000
    kind: str = field(init=False, default="shape")

    def check(self, value: Any) -> Any:
        if (not isinstance(value, (list, tuple)) or len(value) not in (1, 3)
                or not all(_is_int(v) for v in value)):
            raise ParamError(f"{self.name} must be [channels, height, width] or [features] "
                             f"(got {_short(value)})")
        for v in value:
            _check_bounds(self.name, v, 1, self.maximum)
        return list(value)

    def describe(self) -> str:
        return "[C, H, W] or [features]"


@dataclass(frozen=True)
class SidesParam(ShapeParam):
    """``[left, right, top, bottom]`` — ZeroPad2d's padding, always all four sides (torch also
    takes one int; one spelling keeps files and the inspector simple).

    A ShapeParam underneath only so that the inspector's list-of-numbers editor edits it."""
    maximum: int = 4096
    kind: str = field(init=False, default="sides")

    def check(self, value: Any) -> Any:
        if _is_int(value):
            raise ParamError(f"{self.name} must list all four sides: write [{value}, {value}, "
                             f"{value}, {value}] for [left, right, top, bottom]")
        if (not isinstance(value, (list, tuple)) or len(value) != 4
                or not all(_is_int(v) for v in value)):
            raise ParamError(f"{self.name} must be [left, right, top, bottom] "
                             f"(got {_short(value)})")
        for v in value:
            _check_bounds(self.name, v, 0, self.maximum)
        return list(value)

    def describe(self) -> str:
        return f"[left, right, top, bottom], each 0 to {self.maximum}"


class _TextLike(Param):
    """Values typed on one line of text: ``to_text`` / ``from_text`` convert for editors."""

    def to_text(self, value: Any) -> str:
        return "" if value is None else str(value)

    def from_text(self, text: str) -> Any:
        return self.check(text)


@dataclass(frozen=True)
class TextParam(_TextLike):
    """One line of text, kept stripped; ``required``: it must not be empty."""
    required: bool = False
    kind: str = field(init=False, default="text")

    def check(self, value: Any) -> Any:
        if value is None and not self.required:
            return None
        if not isinstance(value, str):
            raise ParamError(f"{self.name} must be a text (got {_short(value)})")
        value = value.strip()
        if self.required and not value:
            raise ParamError(f"{self.name} is required")
        return value

    def describe(self) -> str:
        return "text" + ("" if self.required else " (optional)")


@dataclass(frozen=True)
class PathParam(TextParam):
    """A file (``folder`` False) or folder: absolute, relative to the project's folder, or
    ``resources:…`` inside the bundled resources."""
    folder: bool = False
    kind: str = field(init=False, default="path")

    def describe(self) -> str:
        return ("path of a folder" if self.folder else "path of a file") + \
            " (absolute, or relative to the project file)"


def _texts(name: str, value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)) or not value or \
            not all(isinstance(v, str) and v.strip() for v in value):
        raise ParamError(f"{name} must be a list of non-empty texts (got {_short(value)})")
    return [v.strip() for v in value]


@dataclass(frozen=True)
class TextListParam(_TextLike):
    """A list of non-empty texts (class names), written "a, b, c"; null when ``optional``."""
    optional: bool = True
    kind: str = field(init=False, default="texts")

    def check(self, value: Any) -> Any:
        if value is None and self.optional:
            return None
        return _texts(self.name, value)

    def to_text(self, value: Any) -> str:
        return "" if value is None else ", ".join(value)

    def from_text(self, text: str) -> Any:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return self.check(parts or None)

    def describe(self) -> str:
        return "list of texts" + (", or null" if self.optional else "")


@dataclass(frozen=True)
class NumbersParam(_TextLike):
    """A number, or a list of numbers (one per channel)."""
    kind: str = field(init=False, default="numbers")

    def check(self, value: Any) -> Any:
        if _is_number(value):
            return float(value)
        if (isinstance(value, (list, tuple)) and value
                and all(_is_number(v) for v in value)):
            return [float(v) for v in value]
        raise ParamError(f"{self.name} must be a number or a list of numbers "
                         f"(got {_short(value)})")

    def to_text(self, value: Any) -> str:
        values = value if isinstance(value, (list, tuple)) else [value]
        return ", ".join(f"{float(v):g}" for v in values)

    def from_text(self, text: str) -> Any:
        try:
            values = [float(p) for p in text.replace(";", ",").split(",") if p.strip()]
        except ValueError:
            raise ParamError(f"{self.name}: write numbers separated by commas") from None
        return self.check(values[0] if len(values) == 1 else values)

    def describe(self) -> str:
        return "number, or a list of numbers"


@dataclass(frozen=True)
class ColumnParam(Param):
    """Column name(s) of a table, chosen from the columns of the file ``source`` names.

    ``multiple`` False: one name (or, with ``allow_list``, a list of names); ``multiple``
    True: a list of names, or null for "every other column"."""
    multiple: bool = False
    allow_list: bool = False
    source: str = "path"
    kind: str = field(init=False, default="column")

    def check(self, value: Any) -> Any:
        if value is None and self.multiple:
            return None
        if isinstance(value, str) and value.strip() and not self.multiple:
            return value.strip()
        if isinstance(value, (list, tuple)) and (self.multiple or self.allow_list):
            names = _texts(self.name, value)
            if len(set(names)) != len(names):
                raise ParamError(f"{self.name} names a column twice (got {_short(value)})")
            return names
        what = ("a list of column names, or null (every other column)" if self.multiple else
                "a column name" + (" or a list of column names" if self.allow_list else ""))
        raise ParamError(f"{self.name} must be {what} (got {_short(value)})")

    def describe(self) -> str:
        if self.multiple:
            return "list of column names, or null (all other columns)"
        return "column name" + (" or list of names" if self.allow_list else "")


def _check_bounds(name: str, value: float, lo: float | None, hi: float | None,
                  exclusive_max: bool = False) -> None:
    if lo is not None and value < lo:
        raise ParamError(f"{name} must be at least {lo} (got {value})")
    if hi is not None and (value >= hi if exclusive_max else value > hi):
        raise ParamError(f"{name} must be {'below' if exclusive_max else 'at most'} {hi} "
                         f"(got {value})")


def _bounds_text(lo: float | None, hi: float | None, exclusive_max: bool = False) -> str:
    parts = []
    if lo is not None:
        parts.append(f"≥ {lo}")
    if hi is not None:
        parts.append(f"{'<' if exclusive_max else '≤'} {hi}")
    return (" " + ", ".join(parts)) if parts else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
