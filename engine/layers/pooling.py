"""Pooling: shrink the feature maps by summarising small windows — and Upsample, the way back."""
from __future__ import annotations

import math

from ..params import BoolParam, ChoiceParam, FloatParam, PaddingParam, PairParam, pair
from ..registry import LayerSpec, ShapeError, register
from ._rules import check_pool_padding, check_positive, out_formula, pool_out, single_image


def _window(p: dict, dilation: bool = True, padding: bool = True):
    k = pair(p["kernel_size"])
    s = pair(p["stride"]) if p.get("stride") is not None else k
    d = pair(p["dilation"]) if dilation else (1, 1)
    pad = pair(p["padding"]) if padding else (0, 0)
    return k, s, pad, d


def _pool_infer(layer: str, dilation: bool, padding: bool):
    def infer(p: dict, inputs):
        c, h, w = single_image(inputs, layer)
        k, s, pad, d = _window(p, dilation, padding)
        check_pool_padding(k, pad)
        oh = pool_out(h, k[0], s[0], pad[0], d[0], p["ceil_mode"])
        ow = pool_out(w, k[1], s[1], pad[1], d[1], p["ceil_mode"])
        check_positive(oh, ow, c, h, w, f"{k[0]}×{k[1]} window")
        return c, oh, ow
    return infer


def _pool_arithmetic(dilation: bool, padding: bool):
    def arithmetic(p: dict, inputs, out) -> list[str]:
        c, h, w = inputs[0]
        k, s, pad, d = _window(p, dilation, padding)
        fh = out_formula(h, k[0], s[0], pad[0], d[0], out[1], p["ceil_mode"])
        fw = out_formula(w, k[1], s[1], pad[1], d[1], out[2], p["ceil_mode"])
        lines = ([f"output height = width = {fh}"] if fh == fw
                 else [f"output height = {fh}", f"output width = {fw}"])
        if p.get("stride") is None:
            lines.append("stride = kernel_size (the default), so windows do not overlap")
        lines.append(f"parameters = 0 (pooling learns nothing); channels stay {c}")
        return lines
    return arithmetic


def _kernel(default=2):
    return PairParam("kernel_size", default, "window height and width", maximum=1024)


def _stride():
    return PairParam("stride", None, "step between windows (empty = kernel_size)",
                     maximum=1024, allow_none=True)


def _padding():
    return PaddingParam("padding", 0, "border added on each side (at most half the window)",
                        maximum=512, allow_strings=False)


_CEIL = BoolParam("ceil_mode", False, "round the output size up instead of down")

register(LayerSpec(
    type="MaxPool2d",
    group="Pooling",
    summary="Keeps the largest value of each window: smaller maps, strongest responses.",
    explanation=(
        "Max pooling slides a window (usually 2×2, stride 2) over every channel and keeps only "
        "the largest value in it. The map gets smaller — fewer computations further on — and a "
        "feature still counts if it moves by a pixel. It has no weights to learn."),
    params=(_kernel(), _stride(), _padding(),
            PairParam("dilation", 1, "spacing between window taps", maximum=1024), _CEIL),
    infer=_pool_infer("MaxPool2d", True, True),
    arithmetic=_pool_arithmetic(True, True),
    torch_call=lambda p, inputs: ("MaxPool2d", {
        "kernel_size": p["kernel_size"], "stride": p["stride"], "padding": p["padding"],
        "dilation": p["dilation"], "ceil_mode": p["ceil_mode"]}),
    key_params=("kernel_size", "stride"),
    id_prefix="pool",
))

register(LayerSpec(
    type="AvgPool2d",
    group="Pooling",
    summary="Averages each window: a smoother way to shrink the maps.",
    explanation=(
        "Average pooling replaces each window by the mean of its values, shrinking the map like "
        "max pooling but keeping a little of every value. Classic LeNet-5 used it."),
    params=(_kernel(), _stride(), _padding(), _CEIL,
            BoolParam("count_include_pad", True, "count padding zeros in the average")),
    infer=_pool_infer("AvgPool2d", False, True),
    arithmetic=_pool_arithmetic(False, True),
    torch_call=lambda p, inputs: ("AvgPool2d", {
        "kernel_size": p["kernel_size"], "stride": p["stride"], "padding": p["padding"],
        "ceil_mode": p["ceil_mode"], "count_include_pad": p["count_include_pad"]}),
    key_params=("kernel_size", "stride"),
    id_prefix="pool",
))

register(LayerSpec(
    type="LPPool2d",
    group="Pooling",
    summary="Power-average pooling; norm_type 2 is L2-norm pooling (√ of the sum of squares).",
    explanation=(
        "LP pooling computes (Σ xᵖ)^(1/p) over each window. With p = 2 it is the L2 norm of the "
        "window — between average pooling (p = 1) and max pooling (p → ∞)."),
    params=(FloatParam("norm_type", 2.0, "the power p (2 = L2-norm pooling)", minimum=0.1,
                       maximum=100.0),
            _kernel(), _stride(), _CEIL),
    infer=_pool_infer("LPPool2d", False, False),
    arithmetic=_pool_arithmetic(False, False),
    torch_call=lambda p, inputs: ("LPPool2d", {
        "norm_type": p["norm_type"], "kernel_size": p["kernel_size"], "stride": p["stride"],
        "ceil_mode": p["ceil_mode"]}),
    key_params=("norm_type", "kernel_size"),
    id_prefix="pool",
))


def _adaptive_infer(p: dict, inputs):
    c, h, w = single_image(inputs, "AdaptiveAvgPool2d")
    oh, ow = pair(p["output_size"])
    return c, oh, ow


def _adaptive_arithmetic(p: dict, inputs, out) -> list[str]:
    c, h, w = inputs[0]
    return [f"any {h}×{w} map becomes {out[1]}×{out[2]}: PyTorch picks the window sizes",
            "parameters = 0"]


register(LayerSpec(
    type="AdaptiveAvgPool2d",
    group="Pooling",
    summary="Averages to a fixed output size, whatever the input size (1 = global average).",
    explanation=(
        "Adaptive average pooling chooses its windows so the output always has output_size "
        "height and width. With output_size 1 it averages each whole channel to one number "
        "(global average pooling), as ResNet does before its classifier."),
    params=(PairParam("output_size", 1, "output height and width", maximum=4096),),
    infer=_adaptive_infer,
    arithmetic=_adaptive_arithmetic,
    torch_call=lambda p, inputs: ("AdaptiveAvgPool2d", {"output_size": p["output_size"]}),
    key_params=("output_size",),
    id_prefix="gap",
))


register(LayerSpec(
    type="AdaptiveMaxPool2d",
    group="Pooling",
    summary="Keeps the largest value of windows chosen to give a fixed output size.",
    explanation=(
        "Adaptive max pooling chooses its windows so the output always has output_size height "
        "and width, and keeps the largest value of each. With output_size 1 it reports, per "
        "channel, the strongest response anywhere in the image (global max pooling)."),
    params=(PairParam("output_size", 1, "output height and width", maximum=4096),),
    infer=lambda p, inputs: (single_image(inputs, "AdaptiveMaxPool2d")[0],
                             *pair(p["output_size"])),
    arithmetic=_adaptive_arithmetic,
    torch_call=lambda p, inputs: ("AdaptiveMaxPool2d", {"output_size": p["output_size"]}),
    key_params=("output_size",),
    id_prefix="gmp",
))


# --- Upsample: the way back up -------------------------------------------------------------------

def _upsample_infer(p: dict, inputs):
    c, h, w = single_image(inputs, "Upsample")
    if p["align_corners"] and p["mode"] != "bilinear":
        raise ShapeError('align_corners only applies to "bilinear" — switch it off for '
                         '"nearest"')
    scale = p["scale_factor"]
    oh, ow = math.floor(h * scale), math.floor(w * scale)
    if oh < 1 or ow < 1:
        raise ShapeError(f"scale_factor {scale:g} shrinks its {h}×{w} input to nothing "
                         f"({oh}×{ow})")
    return c, oh, ow


def _upsample_arithmetic(p: dict, inputs, out) -> list[str]:
    c, h, w = inputs[0]
    s = f"{p['scale_factor']:g}"
    fh, fw = f"⌊{h} · {s}⌋ = {out[1]}", f"⌊{w} · {s}⌋ = {out[2]}"
    lines = ([f"output height = width = {fh}"] if h == w
             else [f"output height = {fh}", f"output width = {fw}"])
    lines.append("nearest: every output pixel copies the closest input pixel"
                 if p["mode"] == "nearest" else
                 "bilinear: every output pixel blends the 4 closest input pixels by distance"
                 + (" (corner pixels aligned)" if p["align_corners"] else ""))
    lines.append(f"parameters = 0; channels stay {c}")
    return lines


def _upsample_torch(p: dict, inputs):
    kwargs = {"scale_factor": p["scale_factor"], "mode": p["mode"]}
    if p["mode"] == "bilinear" or p["align_corners"]:  # torch refuses it with "nearest"
        kwargs["align_corners"] = p["align_corners"]
    return "Upsample", kwargs


register(LayerSpec(
    type="Upsample",
    group="Pooling",
    summary="Enlarges the maps by a scale factor (nearest or bilinear); learns nothing.",
    explanation=(
        "Upsample makes every feature map scale_factor times taller and wider. 'nearest' copies "
        "each pixel into a block; 'bilinear' blends neighbouring pixels smoothly. Decoders "
        "(U-Net, feature pyramids) use it, often followed by a convolution — a cheaper, "
        "checkerboard-free alternative to ConvTranspose2d."),
    params=(FloatParam("scale_factor", 2.0, "how many times taller and wider", minimum=0.01,
                       maximum=64.0),
            ChoiceParam("mode", "nearest", "how new pixels are filled in",
                        choices=("nearest", "bilinear")),
            BoolParam("align_corners", False,
                      "bilinear only: align the corner pixels of input and output")),
    infer=_upsample_infer,
    arithmetic=_upsample_arithmetic,
    torch_call=_upsample_torch,
    key_params=("scale_factor", "mode"),
    id_prefix="up",
))
