"""Activations: element-wise non-linear functions; the shape passes through unchanged."""
from __future__ import annotations

import math

from ..params import ChoiceParam, FloatParam
from ..registry import LayerSpec, register


def _same_shape(p: dict, inputs):
    return inputs[0]


def _arithmetic(examples: tuple[str, ...] = ()):
    def arithmetic(p: dict, inputs, out) -> list[str]:
        return (["applied to every value on its own: output shape = input shape"]
                + list(examples) + ["parameters = 0"])
    return arithmetic


def _activation(type_: str, summary: str, explanation: str, params=(), kwargs=lambda p: {},
                examples: tuple[str, ...] = ()):
    register(LayerSpec(
        type=type_, group="Activation", summary=summary, explanation=explanation,
        params=tuple(params), infer=_same_shape, arithmetic=_arithmetic(examples),
        torch_call=lambda p, inputs: (type_, kwargs(p)),
        key_params=tuple(x.name for x in params), id_prefix=type_.lower(),
    ))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _relu6(x: float) -> float:
    return min(max(x, 0.0), 6.0)


_activation(
    "ReLU", "max(0, x): keeps positives, zeroes negatives — the default choice.",
    "ReLU passes positive values and replaces negative ones by 0. It is cheap, its gradient "
    "does not fade for positive inputs, and it is the usual activation after a convolution. "
    "A unit whose input is always negative outputs 0 for everything: a 'dead' ReLU.")
_activation(
    "ReLU6", "min(max(0, x), 6): a ReLU capped at 6 (mobile networks).",
    "ReLU6 is a ReLU whose output is clipped at 6, which keeps activations in a small range "
    "(useful for low-precision mobile models).")
_activation(
    "LeakyReLU", "x for positives, a small slope × x for negatives: no dead units.",
    "Leaky ReLU lets a small fraction (negative_slope) of negative values through, so a unit "
    "never stops learning entirely.",
    (FloatParam("negative_slope", 0.01, "slope for negative inputs", minimum=0.0,
                maximum=1.0),),
    lambda p: {"negative_slope": p["negative_slope"]})
_activation(
    "ELU", "x for positives, α(eˣ − 1) for negatives: smooth, mean closer to 0.",
    "ELU is like ReLU for positive values and bends smoothly to −α for negative ones, which "
    "pushes mean activations towards zero.",
    (FloatParam("alpha", 1.0, "the negative saturation value", minimum=0.0, maximum=100.0),),
    lambda p: {"alpha": p["alpha"]})
_activation(
    "SELU", "Scaled ELU with fixed constants: self-normalizing deep MLPs.",
    "SELU scales an ELU with constants chosen so that activations keep mean 0 and variance 1 "
    "through many layers (with suitable initialization) — 'self-normalizing' networks.")
_activation(
    "GELU", "x · Φ(x): a smooth ReLU used by transformers.",
    "GELU weights each value by the probability that a standard normal variable is below it: "
    "close to ReLU, but smooth around 0.",
    (ChoiceParam("approximate", "none", "exact, or the faster tanh approximation",
                 choices=("none", "tanh")),),
    lambda p: {"approximate": p["approximate"]})
_activation(
    "Sigmoid", "1 / (1 + e⁻ˣ): squashes to (0, 1).",
    "Sigmoid squashes any value into (0, 1). It was the classic activation; in deep networks "
    "its gradient fades for large inputs, so today it mostly appears at a binary output.")
_activation(
    "Tanh", "tanh(x): squashes to (−1, 1), centred on 0.",
    "Tanh squashes values into (−1, 1). Classic LeNet-5 used it; like sigmoid its gradient "
    "fades for large inputs.")
_activation(
    "Softmax", "Turns scores into probabilities that sum to 1 (over channels / features).",
    "Softmax exponentiates each score and divides by the sum, giving class probabilities. "
    "Training with cross-entropy applies it internally, so the last layer of a classifier is "
    "usually a plain Linear; put Softmax at the end to read probabilities.",
    (), lambda p: {"dim": 1})

# --- what modern mobile and efficient networks use --------------------------------------------

_activation(
    "SiLU", "x · sigmoid(x) (\"swish\"): a smooth ReLU used by EfficientNet.",
    "SiLU multiplies each value by its own sigmoid. Large positive values pass almost unchanged, "
    "large negative ones become almost 0, and in between it dips slightly below zero. "
    "EfficientNet and many recent networks use it instead of ReLU; it is also called swish.",
    examples=(f"SiLU(x) = x · σ(x): SiLU(2) = 2 · σ(2) = {2 * _sigmoid(2):.3f}, "
              f"SiLU(−1) = −1 · σ(−1) = {-_sigmoid(-1):.3f}",))
_activation(
    "Hardswish", "x · ReLU6(x + 3) / 6: SiLU made of straight pieces (MobileNetV3).",
    "Hardswish approximates SiLU with a ReLU6, which is much cheaper on phones: 0 below −3, x "
    "above +3, and a curve between. MobileNetV3 uses it in its deeper layers.",
    examples=(f"Hardswish(1) = 1 · ReLU6(1 + 3) / 6 = {_relu6(4) / 6:.3f}, "
              f"Hardswish(−4) = −4 · ReLU6(−1) / 6 = 0",))
_activation(
    "Hardsigmoid", "ReLU6(x + 3) / 6: a sigmoid made of straight pieces (MobileNetV3 gates).",
    "Hardsigmoid approximates the sigmoid with straight lines: 0 below −3, 1 above +3, a ramp "
    "between. MobileNetV3's squeeze-and-excitation gates use it.",
    examples=(f"Hardsigmoid(1) = ReLU6(1 + 3) / 6 = {_relu6(4) / 6:.3f}",))
_activation(
    "Mish", "x · tanh(softplus(x)): smooth and slightly negative for small negatives.",
    "Mish is a smooth activation like SiLU: x · tanh(ln(1 + eˣ)). Some detection networks "
    "(YOLOv4) use it.",
    examples=(f"Mish(1) = 1 · tanh(ln(1 + e)) = {math.tanh(math.log1p(math.e)):.3f}",))
