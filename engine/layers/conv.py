"""Conv2d: learned filters slid over the image."""
from __future__ import annotations

from ..params import BoolParam, IntParam, PaddingParam, PairParam, pair
from ..registry import LayerSpec, ShapeError, register
from ._rules import (conv_out, fmt, out_formula, pad_text, pair_text, pair_value,
                     set_params_fix, single_image)


def _padding(p: dict, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int] | str:
    padding = p["padding"]
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return "same"
    return pair(padding)


def _infer(p: dict, inputs):
    c, h, w = single_image(inputs, "Conv2d")
    kh, kw = pair(p["kernel_size"])
    sh, sw = pair(p["stride"])
    dh, dw = pair(p["dilation"])
    groups, out_c = p["groups"], p["out_channels"]
    if c % groups:
        raise ShapeError(f"its {c} input channels cannot be split into {groups} groups — "
                         f"groups must divide the input channels",
                         fixes=[set_params_fix("Set groups to 1", groups=1)])
    if out_c % groups:
        raise ShapeError(f"its {out_c} filters cannot be split into {groups} groups — "
                         f"groups must divide out_channels",
                         fixes=[set_params_fix("Set groups to 1", groups=1)])
    padding = _padding(p, (kh, kw), (dh, dw))
    if padding == "same":
        if (sh, sw) != (1, 1):
            same = (dh * (kh - 1) // 2, dw * (kw - 1) // 2)
            raise ShapeError('padding "same" needs stride 1 (a PyTorch rule) — give the '
                             'padding as a number instead',
                             fixes=[set_params_fix(f"Set padding to {pad_text(*same)}",
                                                   padding=pair_value(*same)),
                                    set_params_fix("Set stride to 1", stride=1)])
        return out_c, h, w
    ph, pw = padding
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if span_h > h + 2 * ph or span_w > w + 2 * pw:
        fit = (min(kh, h + 2 * ph), min(kw, w + 2 * pw))
        pad = (max(ph, -(-(span_h - h) // 2)), max(pw, -(-(span_w - w) // 2)))
        fixes = [set_params_fix(f"Set kernel_size to {pair_text(*fit)}",
                                kernel_size=pair_value(*fit), dilation=None),
                 set_params_fix(f"Set padding to {pad_text(*pad)}", padding=pair_value(*pad))]
        if (ph, pw) == (0, 0) and (dh, dw) == (1, 1):
            raise ShapeError(f"its {kh}×{kw} kernel is larger than its {h}×{w} input — use a "
                             f"kernel of at most {h}×{w}, or pad the input", fixes=fixes)
        raise ShapeError(f"its {kh}×{kw} kernel (spanning {span_h}×{span_w} with dilation) is "
                         f"larger than its padded {h + 2 * ph}×{w + 2 * pw} input", fixes=fixes)
    return (out_c, conv_out(h, kh, sh, ph, dh), conv_out(w, kw, sw, pw, dw))


def _count(p: dict, inputs, out) -> tuple[int, int]:
    c = inputs[0][0]
    kh, kw = pair(p["kernel_size"])
    per_filter = (c // p["groups"]) * kh * kw
    params = per_filter * p["out_channels"] + (p["out_channels"] if p["bias"] else 0)
    return params, per_filter * out[0] * out[1] * out[2]


def _arithmetic(p: dict, inputs, out) -> list[str]:
    c, h, w = inputs[0]
    kh, kw = pair(p["kernel_size"])
    sh, sw = pair(p["stride"])
    dh, dw = pair(p["dilation"])
    lines = []
    padding = _padding(p, (kh, kw), (dh, dw))
    if padding == "same":
        lines.append(f'padding "same": PyTorch pads so that output height × width = input '
                     f"height × width = {h}×{w}")
    else:
        ph, pw = padding
        fh = out_formula(h, kh, sh, ph, dh, out[1])
        fw = out_formula(w, kw, sw, pw, dw, out[2])
        if fh == fw:
            lines.append(f"output height = width = {fh}")
        else:
            lines += [f"output height = {fh}", f"output width = {fw}"]
    groups, out_c = p["groups"], p["out_channels"]
    per_group = c // groups
    weights = f"{kh}·{kw}·{per_group}·{out_c}"
    params, macs = _count(p, inputs, out)
    bias = f" + {out_c}" if p["bias"] else ""
    lines.append(f"parameters = {weights}{bias} = {fmt(params)}"
                 + (f"  ({kh}·{kw}·{per_group}{' + 1' if p['bias'] else ''} = "
                    f"{kh * kw * per_group + (1 if p['bias'] else 0)} per filter)"))
    lines.append(f"multiply-adds = {kh}·{kw}·{per_group} per output value × "
                 f"{out_c}·{out[1]}·{out[2]} values = {fmt(macs)}")
    return lines


register(LayerSpec(
    type="Conv2d",
    group="Convolution",
    summary="Learned filters slid over the image; each filter makes one output channel.",
    explanation=(
        "A convolution slides out_channels small filters (kernel_size × kernel_size × the input "
        "channels) over the image. At each position a filter multiplies its weights with the "
        "pixels under it and adds them up (plus a bias), so each filter becomes one output "
        "channel — a map of where its pattern (an edge, a color, later whole parts) appears. "
        "stride skips positions, padding adds a border of zeros, dilation spreads the filter."),
    params=(
        IntParam("out_channels", 16, "number of filters = output channels", minimum=1,
                 maximum=65536),
        PairParam("kernel_size", 3, "filter height and width", maximum=1024),
        PairParam("stride", 1, "step between filter positions", maximum=1024),
        PaddingParam("padding", 0, 'zeros added on each border, or "same" / "valid"',
                     maximum=1024),
        PairParam("dilation", 1, "spacing between filter taps", maximum=1024),
        IntParam("groups", 1, "split channels into independent groups (depthwise = in_channels)",
                 minimum=1, maximum=65536),
        BoolParam("bias", True, "add a learned bias to each filter's output"),
    ),
    infer=_infer,
    count=_count,
    arithmetic=_arithmetic,
    torch_call=lambda p, inputs: ("Conv2d", {
        "in_channels": inputs[0][0], "out_channels": p["out_channels"],
        "kernel_size": p["kernel_size"], "stride": p["stride"], "padding": p["padding"],
        "dilation": p["dilation"], "groups": p["groups"], "bias": p["bias"]}),
    key_params=("out_channels", "kernel_size", "stride", "padding"),
    id_prefix="conv",
))
