"""Reading and checking the project's "dataset" section, with messages that name the field."""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from .errors import DatasetError

NORMALIZE_MODES = ("standardize", "unit")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def get_int(spec: dict, key: str, default: int | None, *, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    # bool is an int subclass; "flip": true in the wrong field should not read as 1.
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise DatasetError(f"dataset.{key} must be a whole number; found {_show(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise DatasetError(f"dataset.{key} must be at least {minimum}; found {value}")
    if maximum is not None and value > maximum:
        raise DatasetError(f"dataset.{key} must be at most {maximum}; found {value}")
    return value


def get_float(spec: dict, key: str, default: float, *, minimum: float, maximum: float,
              exclusive: bool = False) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise DatasetError(f"dataset.{key} must be a number; found {_show(value)}")
    value = float(value)
    inside = (minimum < value < maximum) if exclusive else (minimum <= value <= maximum)
    if not inside:
        bounds = "strictly between" if exclusive else "between"
        raise DatasetError(f"dataset.{key} must be {bounds} {minimum:g} and {maximum:g}; "
                           f"found {value:g}")
    return value


def get_choice(spec: dict, key: str, default: Any, choices: tuple) -> Any:
    value = spec.get(key, default)
    if value not in choices:
        raise DatasetError(f"dataset.{key} must be one of {', '.join(map(repr, choices))}; "
                           f"found {_show(value)}")
    return value


def get_str(spec: dict, key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"dataset.{key} is required (a non-empty text); found {_show(value)}")
    return value.strip()


def get_str_list(spec: dict, key: str) -> list[str] | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value or \
            not all(isinstance(v, str) and v.strip() for v in value):
        raise DatasetError(f"dataset.{key} must be a list of non-empty texts; found {_show(value)}")
    return [v.strip() for v in value]


def get_image_size(spec: dict, default: int = 28) -> tuple[int, int]:
    """``size`` as [H, W] or one int for square images."""
    value = spec.get("size", default)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        pair = value
    else:
        pair = (value, value)
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and 1 <= v <= 1024
               for v in pair):
        raise DatasetError(f"dataset.size must be a whole number or [height, width] between "
                           f"1 and 1024; found {_show(value)}")
    return int(pair[0]), int(pair[1])


@dataclass(frozen=True)
class AugmentOptions:
    flip: bool = False
    shift: int = 0
    fill: tuple[float, ...] = (0.0,)   # value(s) shifted-in pixels get, in model-input scale

    @property
    def active(self) -> bool:
        return self.flip or self.shift > 0


def parse_augment(aug: Any) -> AugmentOptions:
    if aug is None:
        return AugmentOptions()
    if not isinstance(aug, dict):
        raise DatasetError(f'dataset.augment must be an object like {{"flip": false, "shift": 0}}; '
                           f"found {_show(aug)}")
    flip = aug.get("flip", False)
    if not isinstance(flip, bool):
        raise DatasetError(f"dataset.augment.flip must be true or false; found {_show(flip)}")
    shift = aug.get("shift", 0)
    if isinstance(shift, bool) or not isinstance(shift, Integral) or not 0 <= shift <= 64:
        raise DatasetError(f"dataset.augment.shift must be a whole number of pixels from 0 to 64; "
                           f"found {_show(shift)}")
    fill = aug.get("fill", 0.0)
    fills = fill if isinstance(fill, (list, tuple)) else [fill]
    if not fills or not all(isinstance(v, Real) and not isinstance(v, bool) for v in fills):
        raise DatasetError(f"dataset.augment.fill must be a number or a list of numbers (one per "
                           f"channel); found {_show(fill)}")
    return AugmentOptions(flip=flip, shift=int(shift), fill=tuple(float(v) for v in fills))


@dataclass(frozen=True)
class CommonOptions:
    kind: str
    val_fraction: float
    seed: int
    normalize: str
    limit: int | None
    augment: AugmentOptions = field(default_factory=AugmentOptions)


def parse_common(spec: dict, known_kinds) -> CommonOptions:
    if not isinstance(spec, dict):
        raise DatasetError(f"the dataset section must be a JSON object; found {_show(spec)}")
    kind = spec.get("kind", "digits")
    if not isinstance(kind, str) or kind not in known_kinds:
        raise DatasetError(f"unknown dataset kind {_show(kind)}; known kinds: "
                           f"{', '.join(known_kinds)}")
    return CommonOptions(
        kind=kind,
        val_fraction=get_float(spec, "val_fraction", 0.2, minimum=0.0, maximum=1.0, exclusive=True),
        seed=get_int(spec, "seed", 0, minimum=0, maximum=2**63 - 1),
        normalize=get_choice(spec, "normalize", "standardize", NORMALIZE_MODES),
        limit=get_int(spec, "limit", None, minimum=2),
        augment=parse_augment(spec.get("augment")),
    )
