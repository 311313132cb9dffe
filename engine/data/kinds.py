"""Dataset kinds, each declared once: its settings (typed, with defaults, bounds and help), its
loader, its one-line description, what shape it gives without loading, and how to make it
give another shape.

Like the layer registry (engine/registry.py), a :class:`DatasetKind` is read by every part that
needs to know about a kind — the loader, the settings check, the description, the fit check
(engine/data/fit.py), the app's dataset dialog, which builds its form from ``params`` with the
inspector's editors, and docs/datasets.md. Nothing else lists dataset kinds or their settings.

A project's ``"dataset"`` section is ``{"kind": NAME, setting: value, …}``; the augmentation
settings sit in a nested ``"augment"`` object and are declared as ``augment.flip`` etc.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..params import (BoolParam, ChoiceParam, FloatParam, IntParam, NumbersParam, Param,
                      ParamError)
from .errors import DatasetError

__all__ = ["DatasetKind", "DataShape", "COMMON_PARAMS", "DEFAULT_KIND", "register", "find",
           "get", "all_kinds", "resolve_spec", "spec_from_values", "show"]

DEFAULT_KIND = "digits"
AUGMENT = "augment."


def show(value: Any) -> str:
    """A spec value in a message, cut short (never a file's content: specs are the user's)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class DataShape:
    """What a dataset gives, known without loading it: one sample's shape and the targets."""
    input_shape: tuple[int, ...]
    task: str                                   # "classification" | "regression"
    class_names: tuple[str, ...] = ()           # classification
    target_names: tuple[str, ...] = ()          # regression
    samples: int | None = None                  # when known cheaply

    @property
    def num_outputs(self) -> int:
        """Width of the model's last layer: classes, or regression targets."""
        return len(self.class_names) if self.task == "classification" else len(self.target_names)


Values = dict   # resolved settings: every declared name → a checked value (defaults filled in)


def _no_fit(values: Values, shape: tuple[int, ...]) -> dict | None:
    return None


@dataclass(frozen=True)
class DatasetKind:
    name: str
    #: What a picker shows ("Digits (bundled)").
    label: str
    #: One sentence: what the data is.
    summary: str
    #: The kind's own settings; COMMON_PARAMS follow them for every kind.
    params: tuple[Param, ...]
    #: (values, common options, base_dir) -> Dataset. Imports what it needs when called.
    load: Callable[[Values, Any, Path | None], Any]
    #: (values, base_dir) -> DataShape, cheaply (a header, a folder listing; cached).
    peek: Callable[[Values, Path | None], DataShape]
    #: values -> the head of the one-line description ("digits: 8×8 handwritten digits").
    describe: Callable[[Values], str]
    #: (values, wanted input shape) -> settings that make this kind give that shape, or None.
    fit: Callable[[Values, tuple[int, ...]], dict | None] = _no_fit
    #: Names of settings the dialog puts under "More options".
    advanced: tuple[str, ...] = ()
    _by_name: dict = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        names = [p.name for p in self.all_params]
        if len(set(names)) != len(names):
            raise ValueError(f"dataset kind {self.name!r} declares a setting twice")
        object.__setattr__(self, "_by_name", {p.name: p for p in self.all_params})

    @property
    def all_params(self) -> tuple[Param, ...]:
        return self.params + COMMON_PARAMS

    def param(self, name: str) -> Param | None:
        return self._by_name.get(name)

    def defaults(self) -> Values:
        return {p.name: p.default for p in self.all_params}

    @property
    def path_param(self) -> Param | None:
        """The file or folder setting, when the kind reads the user's files."""
        return self._by_name.get("path")


# --- settings every kind has -----------------------------------------------------------------
COMMON_PARAMS: tuple[Param, ...] = (
    FloatParam("val_fraction", 0.2, "share of the samples kept aside to validate on",
               minimum=0.01, maximum=1.0, exclusive_max=True),
    IntParam("train_samples", None, "use only this many training samples (seeded, every class "
             "represented) — a small set shows overfitting; validation stays as it is",
             minimum=1, none_text="all"),
    IntParam("seed", 0, "shuffles and splits the samples (and draws generated data)",
             minimum=0, maximum=2**63 - 1),
    ChoiceParam("normalize", "standardize", "inputs scaled to mean 0 / std 1 (per channel, "
                "from the training split), or to 0..1", choices=("standardize", "unit")),
    IntParam("limit", None, "load at most this many samples (before the split), for very "
             "large datasets", minimum=2, none_text="all"),
    BoolParam(AUGMENT + "flip", False, "mirror training images left-right at random"),
    IntParam(AUGMENT + "shift", 0, "move training images by up to this many pixels at random",
             minimum=0, maximum=64),
    NumbersParam(AUGMENT + "fill", 0.0, "value shifted-in pixels get (model-input scale), one "
                 "number or one per channel"),
)
#: What a form calls a setting where its name reads badly; every other name is shown as is
#: ("noise", "channels"), with "_" as spaces.
LABELS = {"val_fraction": "Validation share", "train_samples": "Use only N training samples",
          "skip_bad_rows": "Skip bad rows", "class_names": "Class names",
          AUGMENT + "flip": "Augment: flip", AUGMENT + "shift": "Augment: shift",
          AUGMENT + "fill": "Augment: fill"}


def label_of(name: str) -> str:
    text = LABELS.get(name, name.replace("_", " "))
    return text[:1].upper() + text[1:]


COMMON_ADVANCED = ("seed", "normalize", "limit", AUGMENT + "flip", AUGMENT + "shift",
                   AUGMENT + "fill")

_REGISTRY: dict[str, DatasetKind] = {}
_loaded = False


def register(kind: DatasetKind) -> DatasetKind:
    if kind.name in _REGISTRY:
        raise ValueError(f"dataset kind {kind.name!r} is declared twice")
    _REGISTRY[kind.name] = kind
    return kind


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        # Importing a format's module registers its kind; this order is the pickers' order.
        from . import cifar, digits, idx, image_folder, shapes, tabular  # noqa: F401


def find(name: Any) -> DatasetKind | None:
    _ensure_loaded()
    return _REGISTRY.get(name) if isinstance(name, str) else None


def get(name: str) -> DatasetKind:
    kind = find(name)
    if kind is None:
        raise DatasetError(f"unknown dataset kind {show(name)}; known kinds: "
                           f"{', '.join(_ordered_names())}")
    return kind


ORDER = ("digits", "shapes", "csv", "image_folder", "mnist_idx", "cifar10")


def _ordered_names() -> list[str]:
    _ensure_loaded()
    return sorted(_REGISTRY, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))


def all_kinds() -> Iterator[DatasetKind]:
    """Every declaration, in picker order."""
    for name in _ordered_names():
        yield _REGISTRY[name]


# --- reading a spec through the declarations ---------------------------------------------------
def flatten(spec: dict) -> dict:
    """``{"augment": {"flip": true}}`` → ``{"augment.flip": true}``; other keys as they are."""
    flat = {k: v for k, v in spec.items() if k not in ("kind", "augment")}
    aug = spec.get("augment")
    if aug is not None:
        if not isinstance(aug, dict):
            raise DatasetError(f'dataset.augment must be an object like {{"flip": false, '
                               f'"shift": 0}}; found {show(aug)}')
        flat.update({AUGMENT + str(k): v for k, v in aug.items()})
    return flat


def resolve_spec(spec: Any) -> tuple[DatasetKind, Values]:
    """The kind and every setting checked, defaults filled in. Raises DatasetError listing
    every problem, each naming its field (``dataset.size must be at least 8 (got 4)``)."""
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise DatasetError(f"the dataset section must be a JSON object; found {show(spec)}")
    kind = get(spec.get("kind", DEFAULT_KIND))
    problems, values = [], kind.defaults()
    for key, value in flatten(spec).items():
        param = kind.param(key)
        if param is None:
            known = ", ".join(p.name for p in kind.all_params)
            problems.append(f"dataset.{key} is not a setting of the {kind.name} dataset "
                            f"(its settings: {known})")
            continue
        try:
            values[key] = param.check(value)
        except ParamError as exc:
            problems.append(f"dataset.{exc}")
    given = flatten(spec)
    for param in kind.params:     # settings whose default does not do (a file's path)
        if param.name not in given:
            try:
                param.check(param.default)
            except ParamError:
                problems.append(f"dataset.{param.name} is required: {param.help}")
    if problems:
        raise DatasetError("; ".join(dict.fromkeys(problems)))
    return kind, values


def spec_from_values(kind: DatasetKind, values: Values) -> dict:
    """The shortest spec for ``values``: defaults left out, augment nested again."""
    spec: dict = {"kind": kind.name}
    for param in kind.all_params:
        value = values.get(param.name, param.default)
        if value == param.default and type(value) is type(param.default):
            continue
        if param.name.startswith(AUGMENT):
            spec.setdefault("augment", {})[param.name[len(AUGMENT):]] = value
        else:
            spec[param.name] = value
    return spec
