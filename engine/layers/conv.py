"""Convolutions and what surrounds them: Conv2d (grouped and depthwise too),
ConvTranspose2d, ZeroPad2d and ChannelShuffle."""
from __future__ import annotations

from ..params import BoolParam, IntParam, PaddingParam, PairParam, SidesParam, pair
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


def _check_groups(c: int, out_c: int, groups: int, outputs: str) -> None:
    ungroup = [set_params_fix("Set groups to 1", groups=1)]
    if c % groups:
        raise ShapeError(f"its {c} input channels cannot be split into {groups} groups — "
                         f"groups must divide the input channels", fixes=ungroup)
    if out_c % groups:
        raise ShapeError(f"its {out_c} {outputs} cannot be split into {groups} groups — "
                         f"groups must divide out_channels", fixes=ungroup)


def _infer(p: dict, inputs):
    c, h, w = single_image(inputs, "Conv2d")
    kh, kw = pair(p["kernel_size"])
    sh, sw = pair(p["stride"])
    dh, dw = pair(p["dilation"])
    _check_groups(c, p["out_channels"], p["groups"], "filters")
    out_c = p["out_channels"]
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
    return lines + _groups_lines(c, out_c, groups, kh, kw, p["bias"], params)


def _groups_lines(c: int, out_c: int, groups: int, kh: int, kw: int, bias: bool,
                  params: int) -> list[str]:
    """What groups change, in words: depthwise (groups = in_channels) and grouped convolutions,
    and what a full convolution of the same shape would cost."""
    if groups == 1:
        return []
    if groups == c:
        if out_c == c:
            first = (f"depthwise: groups = in_channels = {c}, so each filter sees 1 input "
                     f"channel — one {kh}×{kw} filter per channel, no mixing across channels "
                     f"(a 1×1 convolution usually follows to mix them)")
        else:
            first = (f"depthwise with a channel multiplier of {out_c // c}: each of the {c} "
                     f"input channels gets {out_c // c} filters, each seeing only that channel")
    else:
        first = (f"grouped: {groups} groups of {c // groups} input channels; each filter sees "
                 f"only its group's {c // groups} channels and each group makes "
                 f"{out_c // groups} of the {out_c} output channels")
    full = kh * kw * c * out_c + (out_c if bias else 0)
    bias_text = f" + {out_c}" if bias else ""
    return [first, f"a full convolution would need {kh}·{kw}·{c}·{out_c}{bias_text} = "
                   f"{fmt(full)} parameters ({full / params:.3g}× more)"]


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


# --- ConvTranspose2d: the reverse of a strided convolution (upsampling) ------------------------

def _transpose_out(size: int, k: int, s: int, pad: int, d: int, out_pad: int) -> int:
    """torch.nn.ConvTranspose2d: (size − 1)·stride − 2·padding + dilation·(k − 1) +
    output_padding + 1."""
    return (size - 1) * s - 2 * pad + d * (k - 1) + out_pad + 1


def _transpose_settings(p: dict):
    return (pair(p["kernel_size"]), pair(p["stride"]), pair(p["padding"]),
            pair(p["dilation"]), pair(p["output_padding"]))


def _transpose_infer(p: dict, inputs):
    c, h, w = single_image(inputs, "ConvTranspose2d")
    out_c = p["out_channels"]
    _check_groups(c, out_c, p["groups"], "output channels")
    k, s, pad, d, op = _transpose_settings(p)
    for i in (0, 1):
        if op[i] >= s[i] and op[i] >= d[i]:
            raise ShapeError(f"output_padding {op[i]} must be smaller than the stride ({s[i]}) "
                             f"or the dilation ({d[i]}) — it only picks among the sizes a "
                             f"stride leaves open")
    oh = _transpose_out(h, k[0], s[0], pad[0], d[0], op[0])
    ow = _transpose_out(w, k[1], s[1], pad[1], d[1], op[1])
    if oh < 1 or ow < 1:
        raise ShapeError(f"its padding removes more than the {h}×{w} input spreads to (the "
                         f"output would be {out_c}×{oh}×{ow}) — use less padding")
    return out_c, oh, ow


def _transpose_count(p: dict, inputs, out) -> tuple[int, int]:
    c, h, w = inputs[0]
    (kh, kw), *_ = _transpose_settings(p)
    per_input = kh * kw * (p["out_channels"] // p["groups"])
    params = c * per_input + (p["out_channels"] if p["bias"] else 0)
    return params, per_input * c * h * w


def _transpose_arithmetic(p: dict, inputs, out) -> list[str]:
    c, h, w = inputs[0]
    k, s, pad, d, op = _transpose_settings(p)

    def formula(i: int, size: int, result: int) -> str:
        return (f"({size} − 1)·{s[i]} − 2·{pad[i]} + {d[i]}·({k[i]}−1) + {op[i]} + 1 = "
                f"{result}")
    fh, fw = formula(0, h, out[1]), formula(1, w, out[2])
    lines = ([f"output height = width = {fh}"] if fh == fw
             else [f"output height = {fh}", f"output width = {fw}"])
    params, macs = _transpose_count(p, inputs, out)
    out_c, groups = p["out_channels"], p["groups"]
    bias = f" + {out_c}" if p["bias"] else ""
    lines.append(f"parameters = {k[0]}·{k[1]}·{c}·{out_c // groups}{bias} = {fmt(params)}")
    lines.append(f"each of the {c}·{h}·{w} input values adds a {k[0]}×{k[1]} stamp to "
                 f"{out_c // groups} output channels: multiply-adds = {fmt(macs)}")
    return lines


register(LayerSpec(
    type="ConvTranspose2d",
    group="Convolution",
    summary="Learned upsampling: each input value stamps its filters onto a bigger map.",
    explanation=(
        "A transposed convolution runs a convolution backwards: every input value multiplies a "
        "kernel_size filter and adds the result into the output, stride pixels apart, so a "
        "stride of 2 doubles the height and width. Decoders (U-Net, autoencoders) and image "
        "generators use it to grow feature maps back to image size. padding trims the border, "
        "output_padding adds the extra row a strided convolution may have dropped."),
    params=(
        IntParam("out_channels", 16, "number of output channels", minimum=1, maximum=65536),
        PairParam("kernel_size", 3, "filter height and width", maximum=1024),
        PairParam("stride", 1, "spacing of the stamps in the output (2 doubles the size)",
                  maximum=1024),
        PaddingParam("padding", 0, "rows and columns trimmed from each border", maximum=1024,
                     allow_strings=False),
        PaddingParam("output_padding", 0, "extra rows/columns added at the bottom/right",
                     maximum=1024, allow_strings=False),
        IntParam("groups", 1, "split channels into independent groups", minimum=1,
                 maximum=65536),
        BoolParam("bias", True, "add a learned bias to each output channel"),
        PairParam("dilation", 1, "spacing between filter taps", maximum=1024),
    ),
    infer=_transpose_infer,
    count=_transpose_count,
    arithmetic=_transpose_arithmetic,
    torch_call=lambda p, inputs: ("ConvTranspose2d", {
        "in_channels": inputs[0][0], "out_channels": p["out_channels"],
        "kernel_size": p["kernel_size"], "stride": p["stride"], "padding": p["padding"],
        "output_padding": p["output_padding"], "groups": p["groups"], "bias": p["bias"],
        "dilation": p["dilation"]}),
    key_params=("out_channels", "kernel_size", "stride"),
    id_prefix="deconv",
))


# --- ZeroPad2d ----------------------------------------------------------------------------------

def _pad_infer(p: dict, inputs):
    c, h, w = single_image(inputs, "ZeroPad2d")
    left, right, top, bottom = p["padding"]
    return c, top + h + bottom, left + w + right


register(LayerSpec(
    type="ZeroPad2d",
    group="Convolution",
    summary="Adds borders of zeros, each side its own width (asymmetric padding).",
    explanation=(
        "ZeroPad2d surrounds every channel with zeros: padding lists how many columns go on the "
        "left and right and how many rows on the top and bottom. A Conv2d pads all sides "
        "equally; this layer in front of it gives the uneven padding some networks need (TF "
        "\"same\" padding with stride 2 pads one more pixel on the right and bottom)."),
    params=(SidesParam("padding", [1, 1, 1, 1], "zeros added: [left, right, top, bottom]"),),
    infer=_pad_infer,
    arithmetic=lambda p, inputs, out: [
        f"height = {p['padding'][2]} + {inputs[0][1]} + {p['padding'][3]} = {out[1]} "
        f"(top + height + bottom)",
        f"width = {p['padding'][0]} + {inputs[0][2]} + {p['padding'][1]} = {out[2]} "
        f"(left + width + right)",
        "parameters = 0"],
    torch_call=lambda p, inputs: ("ZeroPad2d", {"padding": tuple(p["padding"])}),
    key_params=("padding",),
    id_prefix="pad",
))


# --- ChannelShuffle ---------------------------------------------------------------------------

def _shuffle_infer(p: dict, inputs):
    c, h, w = single_image(inputs, "ChannelShuffle")
    if c % p["groups"]:
        raise ShapeError(f"its {c} channels cannot be split into {p['groups']} groups — groups "
                         f"must divide the channels")
    return c, h, w


def _shuffle_arithmetic(p: dict, inputs, out) -> list[str]:
    c, groups = out[0], p["groups"]
    per = c // groups
    order = [g * per + i for i in range(per) for g in range(groups)]
    shown = ", ".join(map(str, order[:24])) + (", …" if c > 24 else "")
    return [f"the {c} channels, as {groups} groups of {per}, are interleaved: the output takes "
            f"input channels {shown}",
            "so the next grouped convolution sees channels from every group; parameters = 0"]


register(LayerSpec(
    type="ChannelShuffle",
    group="Convolution",
    summary="Interleaves the channels of its groups so the next grouped conv mixes them.",
    explanation=(
        "A grouped convolution only mixes channels inside each group, so stacking them would "
        "keep the groups apart forever. ChannelShuffle deals the channels out like cards: the "
        "first of every group, then the second of every group, and so on. ShuffleNet puts one "
        "after each block."),
    params=(IntParam("groups", 2, "number of groups to interleave (must divide the channels)",
                     minimum=1, maximum=65536),),
    infer=_shuffle_infer,
    arithmetic=_shuffle_arithmetic,
    torch_call=lambda p, inputs: ("ChannelShuffle", {"groups": p["groups"]}),
    key_params=("groups",),
    id_prefix="shuffle",
))
