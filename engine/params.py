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
    "PaddingParam", "ShapeParam", "SidesParam", "pair", "ParamError",
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
    minimum: int | None = None
    maximum: int | None = None
    kind: str = field(init=False, default="int")

    def check(self, value: Any) -> Any:
        if not _is_int(value):
            raise ParamError(f"{self.name} must be a whole number (got {value!r})")
        _check_bounds(self.name, value, self.minimum, self.maximum)
        return value

    def describe(self) -> str:
        return "integer" + _bounds_text(self.minimum, self.maximum)


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
    kind: str = field(init=False, default="choice")

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
