"""One translation per ONNX operator: attributes and constant inputs → registry parameters and
weights. ``ctx`` is the importer (onnx_import._Importer): ``ctx.data`` / ``ctx.const`` read
inputs, ``ctx.add`` creates the layer (its shape checked by the registry), ``ctx.alias`` maps
an output onto an existing layer, ``ctx.fail`` builds an error naming the node."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["HANDLERS", "handler_for", "unsupported_label"]

HANDLERS: dict[str, Callable] = {}
_SELU_ALPHA, _SELU_GAMMA = 1.6732632423543772, 1.0507009873554805


def handles(*ops: str):
    def register(fn):
        for op in ops:
            HANDLERS[op] = fn
        return fn
    return register


def _key(node) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def handler_for(node) -> Callable:
    return HANDLERS[_key(node)]


def unsupported_label(ctx, node) -> str | None:
    """None when LayerLab can represent the node, else the name to list it under."""
    if _key(node) not in HANDLERS:
        return _key(node)
    if node.op_type in ("Add", "Sub", "Mul", "Div") and node.domain in ("", "ai.onnx"):
        if ctx.index.get(id(node)) in ctx.skip:
            return None  # a Linear's bias
        a, b = (node.input[0] if node.input else ""), (node.input[1] if len(node.input) > 1 else "")
        if not ctx.is_const(a) and not ctx.is_const(b):
            return None if node.op_type in ("Add", "Mul") else node.op_type
        if _neutral(ctx, node) is None:
            return f"{node.op_type} with a constant"
    return None


def _neutral(ctx, node) -> str | None:
    """The data input of x+0, x−0, x·1, 1·x, x/1 (a no-op), else None."""
    a, b = node.input[0], node.input[1]
    one = node.op_type in ("Mul", "Div")
    for data, const in ((a, b), (b, a)):
        if ctx.is_const(const) and not ctx.is_const(data):
            if const == a and node.op_type in ("Sub", "Div"):
                continue  # 0 − x and 1 / x are not no-ops
            value = ctx.consts[const]
            if value.size and np.all(value == (1 if one else 0)):
                return data
    return None


# --- attributes ------------------------------------------------------------------------------

def attrs(node) -> dict[str, Any]:
    from onnx import helper
    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        out[a.name] = value.decode() if isinstance(value, bytes) else value
    return out


def compact(values) -> int | list[int]:
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def f32(value: float) -> float:
    """0.20000000298 (a float32 attribute) → 0.2."""
    return float(str(np.float32(value)))


def _window(ctx, node, a: dict, kernel: tuple[int, ...], image: tuple) -> tuple:
    """(strides, dilations, (pad_h, pad_w) or 'same') from the ONNX attributes."""
    if len(kernel) != 2:
        raise ctx.fail(node, f"a {len(kernel)}-D window; LayerLab layers are 2-D")
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    auto = a.get("auto_pad", "NOTSET")
    if auto == "VALID":
        return strides, dilations, (0, 0)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s, d in zip(image, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            begin = total // 2 if auto == "SAME_UPPER" else total - total // 2
            pads.append((begin, total - begin))
        pads = [p[0] for p in pads] + [p[1] for p in pads]
    else:
        pads = list(a.get("pads", (0, 0, 0, 0)))
    begin, end = tuple(pads[:2]), tuple(pads[2:])
    if begin == end:
        return strides, dilations, begin
    torch_same = all(s == 1 for s in strides) and all(
        b == d * (k - 1) // 2 and e == d * (k - 1) - b
        for b, e, k, d in zip(begin, end, kernel, dilations))
    if torch_same and node.op_type == "Conv":
        return strides, dilations, "same"
    raise ctx.fail(node, f"asymmetric padding {pads} (top, left, bottom, right): LayerLab pads "
                         f"both sides of each dimension equally")


def _single_output(ctx, node) -> None:
    for extra in node.output[1:]:
        if ctx.used(extra):
            raise ctx.fail(node, f"its extra output '{extra}' is used; LayerLab layers have one")


# --- convolution and pooling -----------------------------------------------------------------

@handles("Conv")
def conv(ctx, node) -> None:
    x = ctx.data(node)
    weight = ctx.const(node, 1, "weight")
    bias = ctx.const(node, 2, "bias")
    if weight.ndim != 4:
        raise ctx.fail(node, f"a {weight.ndim - 2}-D convolution; LayerLab's Conv2d is 2-D")
    a = attrs(node)
    kernel = tuple(weight.shape[2:])
    if "kernel_shape" in a and tuple(a["kernel_shape"]) != kernel:
        raise ctx.fail(node, f"kernel_shape {a['kernel_shape']} does not match its weights")
    shape = ctx.shape(x)
    strides, dilations, padding = _window(ctx, node, a, kernel, shape[1:])
    groups = int(a.get("group", 1))
    if len(shape) == 3 and weight.shape[1] * groups != shape[0]:
        raise ctx.fail(node, f"weights for {weight.shape[1] * groups} input channels, but "
                             f"{shape[0]} arrive")
    params = {"out_channels": int(weight.shape[0]), "kernel_size": compact(kernel),
              "stride": compact(strides), "dilation": compact(dilations), "groups": groups,
              "padding": padding if padding == "same" else compact(padding),
              "bias": bias is not None}
    ctx.add(node, "Conv2d", params, [x], {"weight": weight, "bias": bias},
            weight_name=node.input[1])


@handles("MaxPool", "AveragePool", "LpPool")
def pool(ctx, node) -> None:
    _single_output(ctx, node)
    x = ctx.data(node)
    a = attrs(node)
    kernel = tuple(a.get("kernel_shape", ()))
    shape = ctx.shape(x)
    if len(shape) != 3:
        raise ctx.fail(node, f"it pools a {len(shape) + 1}-D tensor; LayerLab pools images")
    strides, dilations, padding = _window(ctx, node, a, kernel, shape[1:])
    params: dict[str, Any] = {"kernel_size": compact(kernel),
                              "stride": None if strides == kernel else compact(strides),
                              "ceil_mode": bool(a.get("ceil_mode", 0))}
    if node.op_type == "MaxPool":
        params.update(padding=compact(padding), dilation=compact(dilations))
        ctx.add(node, "MaxPool2d", params, [x])
        return
    if any(d != 1 for d in dilations):
        raise ctx.fail(node, "a dilated window; LayerLab's average and LP pooling have none")
    if node.op_type == "AveragePool":
        params["padding"] = compact(padding)
        if any(padding):  # without padding, count_include_pad changes nothing
            params["count_include_pad"] = bool(a.get("count_include_pad", 0))
        ctx.add(node, "AvgPool2d", params, [x])
        return
    if any(padding):
        raise ctx.fail(node, f"padding {padding}; LayerLab's LPPool2d has none")
    params["norm_type"] = float(a.get("p", 2))
    ctx.add(node, "LPPool2d", params, [x])


_GLOBAL = {"GlobalAveragePool": ("AdaptiveAvgPool2d", "average"),
           "ReduceMean": ("AdaptiveAvgPool2d", "average"),
           "GlobalMaxPool": ("AdaptiveMaxPool2d", "max"), "ReduceMax": ("AdaptiveMaxPool2d", "max")}


@handles(*_GLOBAL)
def global_pool(ctx, node) -> None:
    """Average / maximum over height and width: global pooling (+ Flatten when a Reduce* has
    keepdims=0)."""
    x = ctx.data(node)
    layer, what = _GLOBAL[node.op_type]
    rank = len(ctx.shape(x)) + 1
    if node.op_type.startswith("Global"):
        if rank != 4:
            raise ctx.fail(node, f"LayerLab's global {what} pooling needs an N×C×H×W input")
        ctx.add(node, layer, {"output_size": 1}, [x])
        return
    a = attrs(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = ctx.const(node, 1, "axes").reshape(-1).tolist()
    if axes is None or sorted(int(v) % rank for v in axes) != [2, 3] or rank != 4:
        raise ctx.fail(node, f"a {'mean' if what == 'average' else 'maximum'} over axes {axes}; "
                             f"LayerLab only has it over height and width (global {what} "
                             f"pooling)")
    if a.get("keepdims", 1):
        ctx.add(node, layer, {"output_size": 1}, [x])
    else:
        pooled = ctx.add(node, layer, {"output_size": 1}, [x], output=False)
        ctx.add(node, "Flatten", {}, [pooled])


# --- activations -----------------------------------------------------------------------------

_SIMPLE = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}


@handles(*_SIMPLE)
def simple(ctx, node) -> None:
    ctx.add(node, _SIMPLE[node.op_type], {}, [ctx.data(node)])


@handles("LeakyRelu")
def leaky_relu(ctx, node) -> None:
    alpha = f32(attrs(node).get("alpha", 0.01))
    ctx.add(node, "LeakyReLU", {"negative_slope": alpha}, [ctx.data(node)])


@handles("Elu")
def elu(ctx, node) -> None:
    ctx.add(node, "ELU", {"alpha": f32(attrs(node).get("alpha", 1.0))}, [ctx.data(node)])


@handles("Selu")
def selu(ctx, node) -> None:
    a = attrs(node)
    alpha, gamma = a.get("alpha", _SELU_ALPHA), a.get("gamma", _SELU_GAMMA)
    if not (math.isclose(alpha, _SELU_ALPHA, rel_tol=1e-6)
            and math.isclose(gamma, _SELU_GAMMA, rel_tol=1e-6)):
        raise ctx.fail(node, f"SELU with alpha {alpha:g} and gamma {gamma:g}; LayerLab's SELU "
                             f"uses the standard constants")
    ctx.add(node, "SELU", {}, [ctx.data(node)])


@handles("Gelu")
def gelu(ctx, node) -> None:
    ctx.add(node, "GELU", {"approximate": attrs(node).get("approximate", "none")},
            [ctx.data(node)])


@handles("Softmax")
def softmax(ctx, node) -> None:
    x = ctx.data(node)
    rank = len(ctx.shape(x)) + 1
    axis = int(attrs(node).get("axis", 1 if ctx.opset < 13 else -1)) % rank
    if axis != 1 or (ctx.opset < 13 and rank != 2):
        raise ctx.fail(node, "a softmax over another axis than the channels / features")
    ctx.add(node, "Softmax", {}, [x])


@handles("Clip")
def clip(ctx, node) -> None:
    a = attrs(node)
    if ctx.opset < 11:
        low, high = a.get("min"), a.get("max")
    else:
        low_v, high_v = ctx.const(node, 1, "minimum"), ctx.const(node, 2, "maximum")
        low = None if low_v is None else float(low_v)
        high = None if high_v is None else float(high_v)
    high = None if high is not None and math.isinf(high) and high > 0 else high
    if low == 0 and high == 6:
        ctx.add(node, "ReLU6", {}, [ctx.data(node)])
    elif low == 0 and high is None:
        ctx.add(node, "ReLU", {}, [ctx.data(node)])
    else:
        raise ctx.fail(node, f"clipping to [{low}, {high}]; LayerLab has ReLU6 (clip to "
                             f"[0, 6]) and ReLU (clip below 0)")


# --- normalization, dropout ------------------------------------------------------------------

@handles("BatchNormalization")
def batch_norm(ctx, node) -> None:
    a = attrs(node)
    if a.get("training_mode", 0):
        raise ctx.fail(node, "batch normalization in training mode; export the model in eval "
                             "mode")
    _single_output(ctx, node)
    x = ctx.data(node)
    scale, bias = ctx.const(node, 1, "scale", True), ctx.const(node, 2, "bias", True)
    mean = ctx.const(node, 3, "running mean", True)
    var = ctx.const(node, 4, "running variance", True)
    rank = len(ctx.shape(x))
    if rank not in (1, 3):
        raise ctx.fail(node, "LayerLab normalizes feature vectors or N×C×H×W images")
    named = any(parameter_like(ctx, n) for n in node.input[1:3])
    affine = named or not (np.all(scale == 1) and np.all(bias == 0))
    weights = {"running_mean": mean, "running_var": var,
               "num_batches_tracked": np.array(0, dtype=np.int64)}
    if affine:
        weights.update(weight=scale, bias=bias)
    params = {"eps": f32(a.get("epsilon", 1e-5)),
              "momentum": round(1.0 - f32(a.get("momentum", 0.9)), 6), "affine": affine}
    ctx.add(node, "BatchNorm2d" if rank == 3 else "BatchNorm1d", params, [x], weights,
            weight_name=node.input[1] if named else node.input[3])


def parameter_like(ctx, name: str) -> bool:
    """A real (trainable) tensor is an initializer with a parameter-style name
    ('layers.bn1.weight', 'bn.gamma'); exporters make nameless constants ('val_4') for the
    scale and shift of a BatchNorm without affine."""
    return name in ctx.initializers and ("." in name or name.split("_")[-1].lower() in
                                         ("weight", "bias", "gamma", "beta", "scale"))


@handles("Dropout")
def dropout(ctx, node) -> None:
    _single_output(ctx, node)
    ratio = ctx.const(node, 1, "ratio") if ctx.opset >= 12 else None
    p = float(ratio) if ratio is not None else attrs(node).get("ratio", 0.5)
    ctx.add(node, "Dropout", {"p": f32(p)}, [ctx.data(node)])


# --- dense -----------------------------------------------------------------------------------

@handles("Flatten")
def flatten(ctx, node) -> None:
    x = ctx.data(node)
    rank = len(ctx.shape(x)) + 1
    if int(attrs(node).get("axis", 1)) % rank != 1:
        raise ctx.fail(node, "a flatten that does not keep the batch dimension apart")
    ctx.add(node, "Flatten", {}, [x])


@handles("Reshape")
def reshape(ctx, node) -> None:
    x = ctx.data(node)
    target = [int(v) for v in ctx.const(node, 1, "target shape").tolist()]
    shape = ctx.shape(x)
    size = int(np.prod(shape))
    zero_copies = not attrs(node).get("allowzero", 0)
    batch_ok = target and (target[0] == -1 or (target[0] == 0 and zero_copies)
                           or target[0] == (ctx.batch or ctx.shape_batch))
    if len(target) == 2 and batch_ok and target[1] in (-1, size) and target != [-1, -1]:
        ctx.add(node, "Flatten", {}, [x])
        return
    raise ctx.fail(node, f"a reshape of {'×'.join(map(str, shape))} samples to {target}; "
                         f"LayerLab only has Flatten (to [batch, {size}])")


@handles("Gemm")
def gemm(ctx, node) -> None:
    a = attrs(node)
    if a.get("transA", 0):
        raise ctx.fail(node, "a transposed input (transA); LayerLab's Linear reads samples "
                             "as rows")
    x = ctx.data(node)
    b = ctx.const(node, 1, "weight")
    c = ctx.const(node, 2, "bias")
    weight = (b if a.get("transB", 0) else b.T) * float(a.get("alpha", 1.0))
    bias = None if c is None else np.asarray(c) * float(a.get("beta", 1.0))
    _linear(ctx, node, x, weight, bias, node.input[1])


@handles("MatMul")
def matmul(ctx, node) -> None:
    x = ctx.data(node)
    b = ctx.const(node, 1, "weight")
    bias = None
    fused = ctx.fused.get(id(node))
    if fused is not None:
        bias = ctx.consts[fused[1]]
    out = _linear(ctx, node, x, b.T, bias, node.input[1])
    if fused is not None:
        ctx.values[fused[0].output[0]] = out


def _matmul_prepare(ctx, node) -> None:
    """MatMul + Add(constant) is one Linear with a bias: remember the pair."""
    users = ctx.consumers.get(node.output[0], [])
    if len(users) != 1 or users[0].op_type != "Add" or not ctx.is_const(node.input[1]):
        return
    add = users[0]
    other = add.input[1] if add.input[0] == node.output[0] else add.input[0]
    weight = ctx.consts[node.input[1]]
    if ctx.is_const(other) and weight.ndim == 2 and ctx.consts[other].size == weight.shape[1]:
        ctx.fused[id(node)] = (add, other)
        ctx.skip.add(ctx.index[id(add)])


matmul.prepare = _matmul_prepare


def _linear(ctx, node, x: str, weight: np.ndarray, bias, weight_name: str) -> str:
    shape = ctx.shape(x)
    if len(shape) != 1:
        raise ctx.fail(node, f"a matrix product on {'×'.join(map(str, shape))} samples; "
                             f"LayerLab's Linear takes feature vectors (insert a Flatten)")
    if weight.ndim != 2 or weight.shape[1] != shape[0]:
        raise ctx.fail(node, f"weights of shape {tuple(weight.shape)} for {shape[0]} inputs")
    out = weight.shape[0]
    if bias is not None:
        bias = np.asarray(bias).reshape(-1)
        if bias.size == 1:
            bias = np.repeat(bias, out)
        if bias.size != out:
            raise ctx.fail(node, f"a bias of {bias.size} values for {out} outputs")
    return ctx.add(node, "Linear", {"out_features": int(out), "bias": bias is not None}, [x],
                   {"weight": weight, "bias": bias}, weight_name=weight_name)


# --- merges and no-ops -----------------------------------------------------------------------

@handles("Add", "Sub", "Mul", "Div")
def arithmetic(ctx, node) -> None:
    neutral = _neutral(ctx, node) if any(ctx.is_const(n) for n in node.input) else None
    if neutral is not None:
        ctx.alias(node, ctx.values[neutral])
        return
    _merge(ctx, node, "Multiply" if node.op_type == "Mul" else "Add")


@handles("Concat")
def concat(ctx, node) -> None:
    sources = [ctx.data(node, i) for i in range(len(node.input))]
    if len(sources) == 1:  # torch.cat([x]) — DenseNet's first layer: nothing to join
        ctx.alias(node, sources[0])
        return
    rank = len(ctx.shape(sources[0])) + 1
    if int(attrs(node).get("axis", 1)) % rank != 1:
        raise ctx.fail(node, "a concatenation along another axis than channels / features")
    _merge(ctx, node, "Concat", sources)


def _merge(ctx, node, type_name: str, sources: list[str] | None = None) -> None:
    sources = sources or [ctx.data(node, i) for i in range(len(node.input))]
    first = ctx.graph.nodes.get(sources[0])
    if first is not None and first.type == type_name and ctx.extend(node, first.id, sources[1:]):
        return
    if len(set(sources)) != len(sources):
        raise ctx.fail(node, f"it takes the same tensor twice; in LayerLab a layer feeds a "
                             f"{type_name} once")
    ctx.add(node, type_name, {}, sources)


@handles("Identity")
def identity(ctx, node) -> None:
    ctx.alias(node, ctx.data(node))
