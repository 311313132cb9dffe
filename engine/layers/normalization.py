"""Normalization and regularization: BatchNorm, Dropout."""
from __future__ import annotations

from ..params import BoolParam, FloatParam
from ..registry import LayerSpec, ShapeError, register
from ._rules import fmt, insert_before_fix, single_image
from ..registry import format_shape


def _bn1d_infer(p: dict, inputs):
    shape = inputs[0]
    if len(shape) != 1:
        raise ShapeError(f"{{node}} receives the image {format_shape(shape)}; BatchNorm1d "
                         f"normalizes features — use BatchNorm2d here, or Flatten first",
                         fixes=[insert_before_fix("Flatten")])
    return shape


def _bn2d_infer(p: dict, inputs):
    shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(f"{{node}} receives {shape[0]} features; BatchNorm2d normalizes "
                         f"image channels — use BatchNorm1d after a Flatten or Linear")
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
