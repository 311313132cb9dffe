"""Branches: Add (residual), Concat (along channels), Multiply (gates), Identity, and Narrow
(one part of a channel split)."""
from __future__ import annotations

from ..params import IntParam
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


# --- Multiply: the squeeze-and-excitation gate --------------------------------------------------

def _broadcast(first, other):
    if len(first) != len(other) or any(a != b and 1 not in (a, b) for a, b in zip(first, other)):
        raise ShapeError(f"inputs {format_shape(first)} and {format_shape(other)} cannot be "
                         f"multiplied — each size must match or be 1 (a C×1×1 gate scales "
                         f"whole channels of a C×H×W map)")
    return tuple(max(a, b) for a, b in zip(first, other))


def _multiply_infer(p: dict, inputs):
    out = inputs[0]
    for other in inputs[1:]:
        out = _broadcast(out, other)
    return out


def _multiply_count(p: dict, inputs, out) -> tuple[int, int]:
    n = 1
    for d in out:
        n *= d
    return 0, n * (len(inputs) - 1)


def _multiply_arithmetic(p: dict, inputs, out) -> list[str]:
    lines = [" · ".join(format_shape(s) for s in inputs) + f" → {format_shape(out)}: value by "
             f"value, a size of 1 repeated to match"]
    for shape in inputs:
        if shape != out and len(out) == 3 and shape == (out[0], 1, 1):
            lines.append(f"each of the {out[0]} gate values scales one whole {out[1]}×{out[2]} "
                         f"channel (squeeze-and-excitation)")
    return lines + ["parameters = 0"]


register(LayerSpec(
    type="Multiply",
    group="Merge",
    summary="Multiplies its inputs value by value; a C×1×1 input scales whole channels.",
    explanation=(
        "Multiply takes the product of two (or more) tensors, value by value. A size of 1 is "
        "repeated to match the other input, so a C×1×1 'gate' multiplies each whole channel of "
        "a C×H×W map by one number. That is the squeeze-and-excitation block of MobileNetV3 "
        "and EfficientNet: average each channel, pass the C numbers through two small layers "
        "and a sigmoid, and scale the channels by the result."),
    infer=_multiply_infer,
    count=_multiply_count,
    arithmetic=_multiply_arithmetic,
    torch_call=lambda p, inputs: ("Multiply", {}),
    min_inputs=2,
    max_inputs=None,
    id_prefix="mul",
))


register(LayerSpec(
    type="Identity",
    group="Merge",
    summary="Passes its input on unchanged: a placeholder, or the plain path of a branch.",
    explanation=(
        "Identity outputs exactly what it receives. It is useful as a named placeholder while "
        "building a graph, and marks the straight path of a residual block where the other "
        "branch does the work."),
    infer=lambda p, inputs: inputs[0],
    arithmetic=lambda p, inputs, out: [f"output = input ({format_shape(out)})",
                                       "parameters = 0"],
    torch_call=lambda p, inputs: ("Identity", {}),
    id_prefix="identity",
))


# --- Narrow: one part of a channel split --------------------------------------------------------

def _narrow_infer(p: dict, inputs):
    shape = inputs[0]
    if len(shape) not in (1, 3):
        raise ShapeError(f"{{node}} receives {format_shape(shape)}; Narrow takes channels of a "
                         f"C×H×W map or features of a vector")
    start, length = p["start"], p["length"]
    if start + length > shape[0]:
        unit = "channels" if len(shape) == 3 else "features"
        raise ShapeError(f"it keeps {unit} {start} to {start + length - 1}, but it has "
                         f"{shape[0]} (numbered 0 to {shape[0] - 1})")
    return (length,) + tuple(shape[1:])


def _narrow_arithmetic(p: dict, inputs, out) -> list[str]:
    shape = inputs[0]
    unit = "channels" if len(shape) == 3 else "features"
    return [f"keeps {unit} {p['start']} to {p['start'] + p['length'] - 1} of {shape[0]}: "
            f"{format_shape(shape)} → {format_shape(out)}", "parameters = 0"]


register(LayerSpec(
    type="Narrow",
    group="Merge",
    summary="Keeps a run of channels (torch.narrow): one half of a channel split.",
    explanation=(
        "Narrow keeps length channels (or features) starting at start and drops the rest. Two "
        "Narrows on the same input split its channels into parts, as ShuffleNetV2 does: one "
        "half goes through a few layers, the other passes untouched, and a Concat joins them "
        "again."),
    params=(IntParam("start", 0, "the first channel kept (0 = the first)", minimum=0,
                     maximum=1_000_000),
            IntParam("length", 1, "how many channels are kept", minimum=1, maximum=1_000_000)),
    infer=_narrow_infer,
    arithmetic=_narrow_arithmetic,
    torch_call=lambda p, inputs: ("Narrow", {"start": p["start"], "length": p["length"]}),
    key_params=("start", "length"),
    id_prefix="narrow",
))
