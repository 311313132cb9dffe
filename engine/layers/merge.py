"""Merges for branching graphs: Add (residual) and Concat (along channels)."""
from __future__ import annotations

from ..registry import LayerSpec, ShapeError, format_shape, register
from ._rules import insert_before_fix


def _add_infer(p: dict, inputs):
    first = inputs[0]
    for i, other in enumerate(inputs[1:], start=2):
        if other != first:
            raise ShapeError(f"inputs {format_shape(first)} and {format_shape(other)} differ — "
                             f"Add needs equal shapes (a 1×1 Conv2d can match the channels)",
                             fixes=_matching_conv(first, other, i))
    return first


def _matching_conv(first, other, i: int) -> list:
    """A 1×1 Conv2d on input ``i`` that gives it ``first``'s shape (a ResNet downsample),
    when a whole stride gets there."""
    if len(first) != 3 or len(other) != 3 or first[1] < 1 or first[2] < 1:
        return []
    stride = other[1] // first[1]
    if stride < 1 or any(-(-o // stride) != f for o, f in zip(other[1:], first[1:])):
        return []
    params = {"out_channels": first[0], "kernel_size": 1,
              **({"stride": stride} if stride > 1 else {})}
    return [insert_before_fix("Conv2d", params, source=f"{{input{i}}}",
                              label=f"Insert a 1×1 Conv2d ({first[0]} filters"
                                    + (f", stride {stride}" if stride > 1 else "")
                                    + f") on input {i}")]


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
