"""The layer registry: one declaration per layer type.

A :class:`LayerSpec` holds everything any part of LayerLab needs to know about a layer type —
its parameters, its shape rule, its counts, its worked arithmetic, its torch builder and its
explanation. The inspector, the validator, the builder, the exporters and the docs all read it;
nothing else lists layer types.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .params import Param, ParamError

Shape = tuple[int, ...]

__all__ = ["Shape", "ShapeError", "LayerSpec", "register", "get", "find", "all_specs",
           "GROUPS", "format_shape"]

#: Palette order of the groups.
GROUPS = ("Input", "Convolution", "Pooling", "Activation", "Normalization & regularization",
          "Dense", "Merge")


class ShapeError(Exception):
    """A shape rule's reason, in plain words, without the node name (inference adds it).

    ``fixes`` are the remedies the message names, as engine.edits.Fix objects. A rule knows
    shapes, not node names, so their strings may say ``{node}`` (this node), ``{input}`` /
    ``{input1}``, ``{input2}``… (the node feeding its first, second… input) and ``{new}`` (a
    fresh id for the layer a fix adds); inference fills them in and keeps only the fixes that
    really clear the error."""

    def __init__(self, message: str, fixes=()) -> None:
        super().__init__(message)
        self.fixes = tuple(fixes)


def format_shape(shape: Shape | None) -> str:
    """(64, 28, 28) → '64×28×28'; None → '?'."""
    if shape is None:
        return "?"
    return "×".join(str(d) for d in shape)


def _no_counts(params: dict, inputs: list[Shape], output: Shape) -> tuple[int, int]:
    return 0, 0


@dataclass(frozen=True)
class LayerSpec:
    type: str
    group: str
    summary: str
    explanation: str
    infer: Callable[[dict, list[Shape]], Shape]
    # (class name, keyword arguments) of the torch layer: "Conv2d" means torch.nn.Conv2d, a
    # name in engine.torch_modules (Add, Concat, Identity) means that class. The builder and
    # the PyTorch-code exporter both read this, so they cannot disagree.
    torch_call: Callable[[dict, list[Shape]], tuple[str, dict]]
    params: tuple[Param, ...] = ()
    count: Callable[[dict, list[Shape], Shape], tuple[int, int]] = _no_counts
    arithmetic: Callable[[dict, list[Shape], Shape], list[str]] | None = None
    min_inputs: int = 1
    max_inputs: int | None = 1
    key_params: tuple[str, ...] = ()
    id_prefix: str = ""
    _by_name: dict = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.params})
        if not self.id_prefix:
            object.__setattr__(self, "id_prefix", self.type.lower())

    def param(self, name: str) -> Param | None:
        return self._by_name.get(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def check_params(self, raw: dict[str, Any]) -> list[str]:
        """Every problem with ``raw`` (unknown names, wrong types, out of range), in words."""
        problems = []
        for name, value in raw.items():
            spec = self._by_name.get(name)
            if spec is None:
                known = ", ".join(self._by_name) or "none"
                problems.append(f"{self.type} has no parameter '{name}' (its parameters: {known})")
                continue
            try:
                spec.check(value)
            except ParamError as exc:
                problems.append(str(exc))
        return problems

    def resolve(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``raw``, every value checked. Raises ParamError."""
        problems = self.check_params(raw)
        if problems:
            raise ParamError("; ".join(problems))
        values = self.defaults()
        values.update({k: self._by_name[k].check(v) for k, v in raw.items()})
        return values

    @property
    def takes_inputs(self) -> bool:
        return self.max_inputs is None or self.max_inputs > 0

    def accepts_inputs(self, count: int) -> bool:
        return count >= self.min_inputs and (self.max_inputs is None or count <= self.max_inputs)


_REGISTRY: dict[str, LayerSpec] = {}


def register(spec: LayerSpec) -> LayerSpec:
    if spec.type in _REGISTRY:
        raise ValueError(f"layer type {spec.type!r} is declared twice")
    if spec.group not in GROUPS:
        raise ValueError(f"layer type {spec.type!r} has unknown group {spec.group!r}")
    _REGISTRY[spec.type] = spec
    return spec


_loaded = False


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        from . import layers  # noqa: F401  (importing registers every declaration)
        _loaded = True


def find(type_name: str) -> LayerSpec | None:
    _ensure_loaded()
    return _REGISTRY.get(type_name)


def get(type_name: str) -> LayerSpec:
    spec = find(type_name)
    if spec is None:
        raise KeyError(f"unknown layer type {type_name!r}")
    return spec


def all_specs() -> Iterator[LayerSpec]:
    """Every declaration, in palette order (group, then declaration order)."""
    _ensure_loaded()
    order = {g: i for i, g in enumerate(GROUPS)}
    yield from sorted(_REGISTRY.values(), key=lambda s: order[s.group])
