"""Merges for branching graphs: Add (residual) and Concat (along channels)."""
from __future__ import annotations

from ..registry import LayerSpec, ShapeError, format_shape, register


def _add_infer(p: dict, inputs):
    first = inputs[0]
    for other in inputs[1:]:
        if other != first:
            raise ShapeError(f"inputs {format_shape(first)} and {format_shape(other)} differ — "
                             f"Add needs equal shapes (a 1×1 Conv2d can match the channels)")
    return first


def _concat_infer(p: dict, inputs):
    first = inputs[0]
    for other in inputs[1:]:
        if len(other) != len(first) or other[1:] != first[1:]:
            raise ShapeError(f"inputs {format_shape(first)} and {format_shape(other)} cannot be "
                             f"joined — Concat stacks channels, so height and width must match")
    return (sum(s[0] for s in inputs),) + tuple(first[1:])


def _concat_arithmetic(p: dict, inputs, out) -> list[str]:
    parts = " + ".join(str(s[0]) for s in inputs)
    unit = "channels" if len(out) == 3 else "features"
    return [f"{unit} = {parts} = {out[0]} (in input order)", "parameters = 0"]


register(LayerSpec(
    type="Add",
    group="Merge",
    summary="Adds its inputs element by element: residual (skip) connections.",
    explanation=(
        "Add sums two or more tensors of exactly the same shape, value by value. ResNet adds a "
        "block's input to its output (a skip connection), so the block only has to learn a "
        "correction and gradients flow straight through."),
    infer=_add_infer,
    arithmetic=lambda p, inputs, out: [
        f"{len(inputs)} inputs of {format_shape(out)} summed value by value", "parameters = 0"],
    torch_call=lambda p, inputs: ("Add", {}),
    min_inputs=2,
    max_inputs=None,
    id_prefix="add",
))

register(LayerSpec(
    type="Concat",
    group="Merge",
    summary="Stacks its inputs along the channels (in port order): Inception-style branches.",
    explanation=(
        "Concat joins two or more tensors along the channel (or feature) dimension, in the order "
        "of its input ports. Heights and widths must match; channels add up. Inception and "
        "DenseNet blocks use it to combine branches."),
    infer=_concat_infer,
    arithmetic=_concat_arithmetic,
    torch_call=lambda p, inputs: ("Concat", {}),
    min_inputs=2,
    max_inputs=None,
    id_prefix="concat",
))
