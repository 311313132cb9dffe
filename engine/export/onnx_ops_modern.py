"""Translations for the layers of mobile and efficient networks (issue 14): the hard and smooth
activations, GroupNorm / LayerNorm / InstanceNormalization, ConvTranspose, Resize, Pad,
and channel slices (Slice, Split) — and the fused nodes of
onnx_patterns.py (SiLU, ChannelShuffle, GroupNorm, LayerNorm over channels).

Same conventions as onnx_ops.py; importing this module registers the translations."""
from __future__ import annotations

from typing import Any

import numpy as np

from .onnx_ops import parameter_like, attrs, compact, f32, handles
from .onnx_patterns import DOMAIN

__all__: list[str] = []

_BIG = 2 ** 62  # "to the end" in Slice's ends


# --- activations ---------------------------------------------------------------------------------

@handles("HardSwish", "Mish", f"{DOMAIN}.SiLU")
def gated(ctx, node) -> None:
    name = {"HardSwish": "Hardswish", "Mish": "Mish", "SiLU": "SiLU"}[node.op_type]
    ctx.add(node, name, {}, [ctx.data(node)])


@handles("HardSigmoid")
def hard_sigmoid(ctx, node) -> None:
    a = attrs(node)
    alpha, beta = a.get("alpha", 0.2), a.get("beta", 0.5)
    if not (np.isclose(alpha, 1 / 6) and np.isclose(beta, 0.5)):
        raise ctx.fail(node, f"a hard sigmoid with alpha {alpha:g} and beta {beta:g}; "
                             f"LayerLab's Hardsigmoid is PyTorch's (alpha 1/6, beta 0.5)")
    ctx.add(node, "Hardsigmoid", {}, [ctx.data(node)])


@handles(f"{DOMAIN}.ChannelShuffle")
def channel_shuffle(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    a = attrs(node)
    split, back = list(a["split"]), list(a["back"])
    batch = (-1, 0, ctx.batch or ctx.shape_batch)
    if len(shape) != 3:
        raise ctx.fail(node, "a channel shuffle of a tensor that is not N×C×H×W")
    c, h, w = shape
    groups = split[1]
    if split[0] not in batch or groups < 1 or split[1] * split[2] != c or split[3:] != [h, w] \
            or back[0] not in batch or back[1] not in (c, -1) or back[2:] != [h, w]:
        raise ctx.fail(node, f"reshapes {'×'.join(map(str, shape))} samples to {split}, swaps "
                             f"axes 1 and 2 and reshapes to {back}: not a channel shuffle")
    ctx.add(node, "ChannelShuffle", {"groups": groups}, [x])


# --- normalization -------------------------------------------------------------------------------

def _affine(ctx, node, scale: np.ndarray | None, shift: np.ndarray | None,
            names: tuple[str, ...]) -> bool:
    """A learned scale/shift: named like a parameter, or not the identity (1, 0)."""
    if scale is None and shift is None:
        return False
    named = any(parameter_like(ctx, n) for n in names if n)
    return named or not ((scale is None or np.all(scale == 1))
                         and (shift is None or not np.any(shift)))


def _per_channel(ctx, node, value: np.ndarray | None, c: int, what: str) -> np.ndarray | None:
    if value is None:
        return None
    flat = np.asarray(value).reshape(-1)
    if flat.size == 1:
        flat = np.repeat(flat, c)
    if flat.size != c:
        raise ctx.fail(node, f"its {what} has {flat.size} values for {c} channels")
    return flat


@handles(f"{DOMAIN}.GroupNorm")
def group_norm(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    a = attrs(node)
    split, back = list(a["split"]), list(a["back"])
    if len(shape) != 3:
        raise ctx.fail(node, "a group normalization of a tensor that is not N×C×H×W")
    c, h, w = shape
    groups = split[1]
    if groups < 1 or c % groups or split[2] not in (-1, c // groups * h * w) \
            or back[1:] not in ([c, h, w], [-1, h, w], [c, -1, w], [c, h, -1]):
        raise ctx.fail(node, f"reshapes {'×'.join(map(str, shape))} samples to {split} and back "
                             f"to {back}, which is not a group normalization")
    _, *rest = node.input
    scale = ctx.const(node, 1, "scale")
    shift = ctx.const(node, 2, "shift")
    affine = _affine(ctx, node, scale, shift, tuple(rest))
    weights = {"weight": _per_channel(ctx, node, scale if scale is not None else 1.0, c, "scale"),
               "bias": _per_channel(ctx, node, shift if shift is not None else 0.0, c, "shift")
               } if affine else {}
    ctx.add(node, "GroupNorm", {"num_groups": groups, "eps": f32(a.get("epsilon", 1e-5)),
                                "affine": affine}, [x], weights,
            weight_name=rest[0] if rest and parameter_like(ctx, rest[0]) else None)


@handles("InstanceNormalization")
def instance_norm(ctx, node) -> None:
    """Per sample and channel over H×W: GroupNorm with one group per channel."""
    x = ctx.data(node)
    shape = ctx.shape(x)
    if len(shape) != 3:
        raise ctx.fail(node, "an instance normalization of a tensor that is not N×C×H×W")
    c = shape[0]
    scale = ctx.const(node, 1, "scale", True)
    shift = ctx.const(node, 2, "bias", True)
    affine = _affine(ctx, node, scale, shift, tuple(node.input[1:3]))
    weights = {"weight": _per_channel(ctx, node, scale, c, "scale"),
               "bias": _per_channel(ctx, node, shift, c, "bias")} if affine else {}
    ctx.add(node, "GroupNorm", {"num_groups": c, "eps": f32(attrs(node).get("epsilon", 1e-5)),
                                "affine": affine}, [x], weights,
            weight_name=node.input[1] if parameter_like(ctx, node.input[1]) else None)


def _layer_norm(ctx, node, x: str, c: int) -> None:
    scale = ctx.const(node, 1, "scale", True)
    shift = ctx.const(node, 2, "bias")
    names = tuple(n for n in node.input[1:3] if n)
    affine = _affine(ctx, node, scale, shift, names)
    bias = affine and shift is not None and (parameter_like(ctx, node.input[2])
                                             or bool(np.any(shift)))
    weights: dict[str, Any] = {}
    if affine:
        weights["weight"] = _per_channel(ctx, node, scale, c, "scale")
        if bias:
            weights["bias"] = _per_channel(ctx, node, shift, c, "bias")
    params = {"eps": f32(attrs(node).get("epsilon", 1e-5)), "elementwise_affine": affine,
              "bias": bias or not affine}
    ctx.add(node, "LayerNorm", params, [x], weights,
            weight_name=node.input[1] if parameter_like(ctx, node.input[1]) else None)


@handles(f"{DOMAIN}.ChannelLayerNorm")
def channel_layer_norm(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    if len(shape) != 3:
        raise ctx.fail(node, "a layer normalization over channels of a tensor that is not "
                             "N×C×H×W")
    _layer_norm(ctx, node, x, shape[0])


@handles("LayerNormalization")
def layer_norm(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    rank = len(shape) + 1
    axis = int(attrs(node).get("axis", -1)) % rank
    if len(shape) != 1 or axis != 1:
        raise ctx.fail(node, f"a layer normalization over axes {list(range(axis, rank))} of "
                             f"{'×'.join(map(str, shape))} samples; LayerLab's LayerNorm "
                             f"normalizes the features of a vector or the channels at each "
                             f"pixel")
    _layer_norm(ctx, node, x, shape[0])


# --- ConvTranspose --------------------------------------------------------------------------------

@handles("ConvTranspose")
def conv_transpose(ctx, node) -> None:
    x = ctx.data(node)
    weight = ctx.const(node, 1, "weight", True)
    bias = ctx.const(node, 2, "bias")
    if weight.ndim != 4:
        raise ctx.fail(node, f"a {weight.ndim - 2}-D transposed convolution; LayerLab's "
                             f"ConvTranspose2d is 2-D")
    a = attrs(node)
    if a.get("auto_pad", "NOTSET") != "NOTSET" or "output_shape" in a:
        raise ctx.fail(node, "its size is given by auto_pad or output_shape; LayerLab's "
                             "ConvTranspose2d takes explicit padding and output_padding")
    pads = list(a.get("pads", (0, 0, 0, 0)))
    if len(pads) != 4 or pads[:2] != pads[2:]:
        raise ctx.fail(node, f"padding {pads} (top, left, bottom, right): LayerLab pads both "
                             f"sides of each dimension equally")
    groups = int(a.get("group", 1))
    shape = ctx.shape(x)
    if len(shape) != 3 or weight.shape[0] != shape[0]:
        raise ctx.fail(node, f"weights for {weight.shape[0]} input channels, but "
                             f"{'×'.join(map(str, shape))} samples arrive")
    params = {"out_channels": int(weight.shape[1]) * groups,
              "kernel_size": compact(weight.shape[2:]),
              "stride": compact(a.get("strides", (1, 1))), "padding": compact(pads[:2]),
              "output_padding": compact(a.get("output_padding", (0, 0))),
              "dilation": compact(a.get("dilations", (1, 1))), "groups": groups,
              "bias": bias is not None}
    ctx.add(node, "ConvTranspose2d", params, [x], {"weight": weight, "bias": bias},
            weight_name=node.input[1])


# --- Resize → Upsample ----------------------------------------------------------------------------

_MODES = {("nearest", "asymmetric"): ("nearest", False),
          ("linear", "pytorch_half_pixel"): ("bilinear", False),
          ("linear", "half_pixel"): ("bilinear", False),
          ("linear", "align_corners"): ("bilinear", True)}


@handles("Resize", "Upsample")
def resize(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    if len(shape) != 3:
        raise ctx.fail(node, "a resize of a tensor that is not N×C×H×W")
    a = attrs(node)
    mode = a.get("mode", "nearest")
    transform = a.get("coordinate_transformation_mode",
                      "asymmetric" if node.op_type == "Upsample" or ctx.opset < 11
                      else "half_pixel")
    chosen = _MODES.get((mode, transform))
    if chosen is None or (mode == "nearest" and a.get("nearest_mode", "floor")
                          not in ("floor",) and node.op_type == "Resize" and ctx.opset >= 11):
        raise ctx.fail(node, f"a {mode} resize with {transform} coordinates; LayerLab's "
                             f"Upsample is PyTorch's nearest or bilinear")
    scale = _resize_scale(ctx, node, a, shape)
    ctx.add(node, "Upsample", {"scale_factor": scale, "mode": chosen[0],
                               "align_corners": chosen[1]}, [x])


def _resize_scale(ctx, node, a: dict, shape: tuple) -> float:
    c, h, w = shape
    if node.op_type == "Upsample" or ctx.opset < 11:
        scales = a.get("scales")
        scales = np.asarray(scales) if scales is not None else ctx.const(node, 1, "scales", True)
        sizes = None
    else:
        scales = ctx.const(node, 2, "scales")
        sizes = ctx.const(node, 3, "sizes")
    if scales is not None and np.asarray(scales).size:
        values = [float(v) for v in np.asarray(scales).reshape(-1)]
        if len(values) != 4 or values[:2] != [1.0, 1.0] or not np.isclose(values[2], values[3]):
            raise ctx.fail(node, f"scales {values}; LayerLab's Upsample scales height and "
                                 f"width by one factor")
        return f32(values[2])
    if sizes is None:
        raise ctx.fail(node, "neither scales nor sizes are given")
    sizes = [int(v) for v in np.asarray(sizes).reshape(-1)]
    if len(sizes) != 4 or sizes[1] != c or sizes[2] * w != sizes[3] * h:
        raise ctx.fail(node, f"a resize to {sizes}; LayerLab's Upsample scales height and width "
                             f"by one factor")
    return f32(sizes[2] / h)


# --- Pad → ZeroPad2d ------------------------------------------------------------------------------

@handles("Pad")
def pad(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    a = attrs(node)
    if a.get("mode", "constant") != "constant":
        raise ctx.fail(node, f"{a['mode']} padding; LayerLab's ZeroPad2d pads with zeros")
    if ctx.opset < 11:
        pads, value = list(a.get("pads", ())), float(a.get("value", 0.0))
    else:
        pads = [int(v) for v in ctx.const(node, 1, "pads", True).reshape(-1)]
        constant = ctx.const(node, 2, "padding value")
        value = 0.0 if constant is None or not np.asarray(constant).size \
            else float(np.asarray(constant).reshape(-1)[0])
        axes = ctx.const(node, 3, "axes")
        if axes is not None:
            pads = _pads_for_all_axes(pads, [int(v) for v in axes.reshape(-1)], len(shape) + 1)
    rank = len(shape) + 1
    if value != 0.0:
        raise ctx.fail(node, f"padding with {value:g}; LayerLab's ZeroPad2d pads with zeros")
    if len(pads) != 2 * rank or rank != 4 or any(pads[i] or pads[i + rank] for i in (0, 1)):
        raise ctx.fail(node, f"padding {pads}; LayerLab's ZeroPad2d pads the height and width "
                             f"of an N×C×H×W tensor")
    top, left, bottom, right = pads[2], pads[3], pads[6], pads[7]
    if min(top, left, bottom, right) < 0:
        raise ctx.fail(node, f"negative padding {pads} (a crop); LayerLab's ZeroPad2d only adds")
    if not any((top, left, bottom, right)):
        ctx.alias(node, x)
        return
    ctx.add(node, "ZeroPad2d", {"padding": [left, right, top, bottom]}, [x])


def _pads_for_all_axes(pads: list[int], axes: list[int], rank: int) -> list[int]:
    full = [0] * (2 * rank)
    n = len(axes)
    for i, axis in enumerate(axes):
        full[axis % rank] = pads[i]
        full[axis % rank + rank] = pads[i + n]
    return full


# --- Slice / Split on channels → Narrow -----------------------------------------------------------

def _narrow(ctx, node, x: str, start: int, length: int, output: str) -> None:
    size = ctx.shape(x)[0]
    if start == 0 and length == size:
        ctx.values[output] = x
        return
    node_id = ctx.add(node, "Narrow", {"start": start, "length": length}, [x], output=False)
    ctx.values[output] = node_id


@handles("Slice")
def slice_(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    rank = len(shape) + 1
    if ctx.opset < 10:
        a = attrs(node)
        starts, ends = list(a.get("starts", ())), list(a.get("ends", ()))
        axes, steps = list(a.get("axes", range(len(starts)))), [1] * len(starts)
    else:
        starts = [int(v) for v in ctx.const(node, 1, "starts", True).reshape(-1)]
        ends = [int(v) for v in ctx.const(node, 2, "ends", True).reshape(-1)]
        axes_v, steps_v = ctx.const(node, 3, "axes"), ctx.const(node, 4, "steps")
        axes = list(range(len(starts))) if axes_v is None else [int(v) for v in axes_v.reshape(-1)]
        steps = [1] * len(starts) if steps_v is None else [int(v) for v in steps_v.reshape(-1)]
    if not (len(starts) == len(ends) == len(axes) == len(steps)):
        raise ctx.fail(node, "its starts, ends, axes and steps differ in length")
    full = (None,) + tuple(shape)
    channel = (0, shape[0])
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis %= rank
        if step != 1:
            raise ctx.fail(node, f"a slice with step {step}; LayerLab's Narrow keeps a run")
        if axis == 0:
            if start != 0 or end < (ctx.shape_batch or 1):
                raise ctx.fail(node, "a slice of the batch; LayerLab layers keep every sample")
            continue
        size = full[axis]
        begin = max(0, min(start + size if start < 0 else start, size))
        stop = max(0, min(end + size if end < 0 else min(end, _BIG), size))
        if axis != 1:
            if (begin, stop) != (0, size):
                raise ctx.fail(node, f"a crop of axis {axis}; LayerLab's Narrow keeps a run of "
                                     f"channels or features")
            continue
        channel = (begin, stop)
    if channel[1] <= channel[0]:
        raise ctx.fail(node, "a slice that keeps no channel")
    _narrow(ctx, node, x, channel[0], channel[1] - channel[0], node.output[0])


@handles("Split")
def split(ctx, node) -> None:
    x = ctx.data(node)
    shape = ctx.shape(x)
    rank = len(shape) + 1
    a = attrs(node)
    if int(a.get("axis", 0)) % rank != 1:
        raise ctx.fail(node, "a split along another axis than the channels / features")
    c = shape[0]
    sizes = a.get("split") if ctx.opset < 13 else None
    if ctx.opset >= 13:
        given = ctx.const(node, 1, "split sizes")
        sizes = None if given is None else [int(v) for v in given.reshape(-1)]
    outputs = list(node.output)
    if not sizes:
        parts = int(a.get("num_outputs", len(outputs)))
        chunk = -(-c // parts)
        sizes = [min(chunk, c - i * chunk) for i in range(parts)]
    sizes = [int(v) for v in sizes]
    if sum(sizes) != c or len(sizes) != len(outputs) or min(sizes) < 1:
        raise ctx.fail(node, f"splits {c} channels into {sizes}")
    start = 0
    for size, output in zip(sizes, outputs):
        if output and ctx.used(output):
            _narrow(ctx, node, x, start, size, output)
        start += size
