"""The settings every dataset kind shares, as the loader and the augmentation read them.

The settings themselves are declared in engine/data/kinds.py (COMMON_PARAMS); this module
turns resolved values into the small option objects the pipeline passes around.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..params import ParamError
from .errors import DatasetError

NORMALIZE_MODES = ("standardize", "unit")


@dataclass(frozen=True)
class AugmentOptions:
    flip: bool = False
    shift: int = 0
    fill: tuple[float, ...] = (0.0,)   # value(s) shifted-in pixels get, in model-input scale

    @property
    def active(self) -> bool:
        return self.flip or self.shift > 0


def parse_augment(aug: Any) -> AugmentOptions:
    """The ``"augment"`` object (or None), checked against its declared settings."""
    from .kinds import AUGMENT, COMMON_PARAMS, show
    if aug is None:
        return AugmentOptions()
    if not isinstance(aug, dict):
        raise DatasetError(f'dataset.augment must be an object like {{"flip": false, "shift": 0}}; '
                           f"found {show(aug)}")
    declared = {p.name[len(AUGMENT):]: p for p in COMMON_PARAMS if p.name.startswith(AUGMENT)}
    values = {name: p.default for name, p in declared.items()}
    for key, value in aug.items():
        param = declared.get(key)
        if param is None:
            raise DatasetError(f"dataset.augment.{key} is not an augmentation setting (they "
                               f"are: {', '.join(declared)})")
        try:
            values[key] = param.check(value)
        except ParamError as exc:
            raise DatasetError(f"dataset.{exc}") from None
    return options_from(values)


def options_from(values: dict) -> AugmentOptions:
    fill = values["fill"]
    return AugmentOptions(flip=values["flip"], shift=int(values["shift"]),
                          fill=tuple(fill) if isinstance(fill, list) else (float(fill),))


@dataclass(frozen=True)
class CommonOptions:
    kind: str
    val_fraction: float
    seed: int
    normalize: str
    limit: int | None
    augment: AugmentOptions = field(default_factory=AugmentOptions)
    train_samples: int | None = None


def common_options(kind: str, values: dict) -> CommonOptions:
    from .kinds import AUGMENT
    aug = {k[len(AUGMENT):]: v for k, v in values.items() if k.startswith(AUGMENT)}
    return CommonOptions(kind=kind, val_fraction=values["val_fraction"], seed=values["seed"],
                         normalize=values["normalize"], limit=values["limit"],
                         augment=options_from(aug), train_samples=values["train_samples"])
