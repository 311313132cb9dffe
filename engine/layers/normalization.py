"""Normalization and regularization: BatchNorm, GroupNorm, LayerNorm, Dropout, Dropout2d."""
from __future__ import annotations

from ..edits import ChangeType, Fix
from ..params import BoolParam, FloatParam, IntParam
from ..registry import LayerSpec, ShapeError, format_shape, register
from ._rules import fmt, insert_before_fix, single_image


def _use(type_name: str) -> Fix:
    return Fix(f"Use a {type_name} here instead", (ChangeType("{node}", type_name),))


def _bn1d_infer(p: dict, inputs):
    shape = inputs[0]
    if len(shape) != 1:
        raise ShapeError(f"{{node}} receives the image {format_shape(shape)}; BatchNorm1d "
                         f"normalizes features — use BatchNorm2d here, or Flatten first",
                         fixes=[_use("BatchNorm2d"), insert_before_fix("Flatten")])
    return shape


def _bn2d_infer(p: dict, inputs):
    shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(f"{{node}} receives {shape[0]} features; BatchNorm2d normalizes "
                         f"image channels — use BatchNorm1d after a Flatten or Linear",
                         fixes=[_use("BatchNorm1d")])
    return single_image(inputs, "BatchNorm2d")


def _bn_count(p: dict, inputs, out) -> tuple[int, int]:
    n = 1
    for d in out:
        n *= d
    return (2 * out[0] if p["affine"] else 0), n


def _bn_arithmetic(p: dict, inputs, out) -> list[str]:
    c = out[0]
    unit = "channel" if len(out) == 3 else "feature"
    if not p["affine"]:
        return [f"normalizes each of the {c} {unit}s; affine is off, so parameters = 0"]
    return [f"one scale γ and one shift β per {unit}: parameters = 2·{c} = {fmt(2 * c)}",
            f"(plus 2·{c} running statistics, which are buffers, not trained parameters)"]


_BN_PARAMS = (
    FloatParam("eps", 1e-5, "added to the variance to avoid dividing by zero", minimum=0.0,
               maximum=1.0),
    FloatParam("momentum", 0.1, "how fast the running statistics follow the batches",
               minimum=0.0, maximum=1.0),
    BoolParam("affine", True, "learn a scale and shift per channel"),
)

_BN_TEXT = (
    "Batch normalization rescales each {unit} to mean 0 and variance 1 over the batch, then "
    "applies a learned scale (γ) and shift (β). It makes deep networks train faster and less "
    "sensitive to the learning rate. In evaluation it uses running averages instead of the "
    "batch.")

for _type, _infer, _unit in (("BatchNorm1d", _bn1d_infer, "feature"),
                             ("BatchNorm2d", _bn2d_infer, "channel")):
    register(LayerSpec(
        type=_type,
        group="Normalization & regularization",
        summary=f"Normalizes each {_unit} over the batch, then scales and shifts it.",
        explanation=_BN_TEXT.format(unit=_unit),
        params=_BN_PARAMS,
        infer=_infer,
        count=_bn_count,
        arithmetic=_bn_arithmetic,
        torch_call=lambda p, inputs: (
            "BatchNorm1d" if len(inputs[0]) == 1 else "BatchNorm2d",
            {"num_features": inputs[0][0], "eps": p["eps"], "momentum": p["momentum"],
             "affine": p["affine"]}),
        key_params=(),
        id_prefix="bn",
    ))


def _dropout_arithmetic(p: dict, inputs, out) -> list[str]:
    keep = 1 - p["p"]
    return [f"in training each value is zeroed with probability {p['p']:g} and the rest are "
            f"scaled by 1/{keep:g}; in evaluation it does nothing" if keep > 0 else
            "p = 1 zeroes everything in training", "parameters = 0"]


register(LayerSpec(
    type="Dropout",
    group="Normalization & regularization",
    summary="Randomly zeroes values during training so the network cannot rely on any one.",
    explanation=(
        "Dropout sets each value to 0 with probability p during training (and scales the rest "
        "up), so the network must spread what it knows over many units — a cheap guard against "
        "overfitting. It is switched off when evaluating."),
    params=(FloatParam("p", 0.5, "probability of zeroing a value", minimum=0.0, maximum=1.0),),
    infer=lambda p, inputs: inputs[0],
    arithmetic=_dropout_arithmetic,
    torch_call=lambda p, inputs: ("Dropout", {"p": p["p"]}),
    key_params=("p",),
    id_prefix="dropout",
))


register(LayerSpec(
    type="Dropout2d",
    group="Normalization & regularization",
    summary="Randomly zeroes whole channels during training (spatial dropout).",
    explanation=(
        "Dropout2d sets entire channels of a feature map to 0 with probability p during "
        "training, instead of single values. Neighbouring pixels of a map are so alike that "
        "zeroing single values barely hides anything; dropping whole channels does. It is "
        "switched off when evaluating."),
    params=(FloatParam("p", 0.5, "probability of zeroing a channel", minimum=0.0, maximum=1.0),),
    infer=lambda p, inputs: _image_only(inputs, "Dropout2d zeroes whole channels of an image"),
    arithmetic=lambda p, inputs, out: [
        f"in training each of the {out[0]} channels is zeroed with probability {p['p']:g} "
        f"(all {out[1]}×{out[2]} values at once); in evaluation it does nothing",
        "parameters = 0"],
    torch_call=lambda p, inputs: ("Dropout2d", {"p": p["p"]}),
    key_params=("p",),
    id_prefix="dropout",
))


def _image_only(inputs, what: str):
    shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(f"{{node}} receives {shape[0]} features; {what} — use Dropout on "
                         f"features")
    return shape


def _features_or_image(inputs, layer: str):
    shape = inputs[0]
    if len(shape) not in (1, 3):
        raise ShapeError(f"{{node}} receives {format_shape(shape)}; {layer} needs a "
                         f"channels×height×width map or a feature vector")
    return shape


def _elements(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


# --- GroupNorm: statistics per sample over groups of channels ---------------------------------

def _gn_infer(p: dict, inputs):
    shape = _features_or_image(inputs, "GroupNorm")
    c, groups = shape[0], p["num_groups"]
    if c % groups:
        raise ShapeError(f"its {c} channels cannot be split into {groups} groups — num_groups "
                         f"must divide the channels")
    return shape


def _gn_count(p: dict, inputs, out) -> tuple[int, int]:
    return (2 * out[0] if p["affine"] else 0), _elements(out)


def _gn_arithmetic(p: dict, inputs, out) -> list[str]:
    c, groups = out[0], p["num_groups"]
    per = c // groups
    size = "·".join(str(d) for d in (per,) + tuple(out[1:]))
    lines = [f"the {c} channels form {groups} groups of {per}; each group is normalized over "
             f"its {size} = {fmt(_elements((per,) + tuple(out[1:])))} values, per sample "
             f"(no batch statistics: the same in training and evaluation)"]
    lines.append(f"one scale γ and one shift β per channel: parameters = 2·{c} = {fmt(2 * c)}"
                 if p["affine"] else "affine is off, so parameters = 0")
    return lines


register(LayerSpec(
    type="GroupNorm",
    group="Normalization & regularization",
    summary="Normalizes groups of channels within each sample: BatchNorm for small batches.",
    explanation=(
        "Group normalization splits the channels into num_groups groups and rescales each "
        "group of each sample to mean 0 and variance 1, then applies a learned scale and shift "
        "per channel. Unlike BatchNorm it never looks at the other samples, so it works the "
        "same with a batch of 2 and in evaluation. num_groups = 1 normalizes all channels "
        "together; num_groups = channels normalizes each channel alone."),
    params=(IntParam("num_groups", 2, "how many groups the channels form (must divide them)",
                     minimum=1, maximum=65536),
            FloatParam("eps", 1e-5, "added to the variance to avoid dividing by zero",
                       minimum=0.0, maximum=1.0),
            BoolParam("affine", True, "learn a scale and shift per channel")),
    infer=_gn_infer,
    count=_gn_count,
    arithmetic=_gn_arithmetic,
    torch_call=lambda p, inputs: ("GroupNorm", {
        "num_groups": p["num_groups"], "num_channels": inputs[0][0], "eps": p["eps"],
        "affine": p["affine"]}),
    key_params=("num_groups",),
    id_prefix="gn",
))


# --- LayerNorm: statistics per sample and position over the channels / features ---------------

def _ln_count(p: dict, inputs, out) -> tuple[int, int]:
    per = (1 + (1 if p["bias"] else 0)) if p["elementwise_affine"] else 0
    return per * out[0], _elements(out)


def _ln_arithmetic(p: dict, inputs, out) -> list[str]:
    c = out[0]
    if len(out) == 3:
        positions = out[1] * out[2]
        lines = [f"each of the {out[1]}×{out[2]} = {fmt(positions)} positions is normalized "
                 f"over its {c} channels, per sample (as ConvNeXt does)"]
        unit = "channel"
    else:
        lines = [f"the {c} features of a sample are normalized together (mean 0, variance 1)"]
        unit = "feature"
    params, _ = _ln_count(p, inputs, out)
    if not p["elementwise_affine"]:
        lines.append("elementwise_affine is off, so parameters = 0")
    elif p["bias"]:
        lines.append(f"one scale γ and one shift β per {unit}: parameters = 2·{c} = "
                     f"{fmt(params)}")
    else:
        lines.append(f"one scale γ per {unit} (no bias): parameters = {fmt(params)}")
    return lines


def _ln_torch(p: dict, inputs):
    shape = inputs[0]
    common = {"eps": p["eps"], "elementwise_affine": p["elementwise_affine"], "bias": p["bias"]}
    if len(shape) == 3:  # torch.nn.LayerNorm normalizes the last dims: permute around it
        return "ChannelLayerNorm", {"num_channels": shape[0], **common}
    return "LayerNorm", {"normalized_shape": shape[0], **common}


register(LayerSpec(
    type="LayerNorm",
    group="Normalization & regularization",
    summary="Normalizes each sample's channels (at every position) or features.",
    explanation=(
        "Layer normalization rescales the values of one sample to mean 0 and variance 1 — over "
        "its features after a Linear, or over the channels at each pixel of a feature map (as "
        "ConvNeXt does) — then applies a learned scale and shift. Like GroupNorm it never "
        "looks at other samples, so training and evaluation behave the same."),
    params=(FloatParam("eps", 1e-5, "added to the variance to avoid dividing by zero",
                       minimum=0.0, maximum=1.0),
            BoolParam("elementwise_affine", True, "learn a scale (and shift) per channel"),
            BoolParam("bias", True, "learn the shift too (with elementwise_affine)")),
    infer=lambda p, inputs: _features_or_image(inputs, "LayerNorm"),
    count=_ln_count,
    arithmetic=_ln_arithmetic,
    torch_call=_ln_torch,
    id_prefix="ln",
))
