"""Patterns exporters emit for one PyTorch layer, fused back into that layer before translation.

ONNX has no single operator for several layers, so exporters write them as small subgraphs:

==========================================  ==========================================
exported as                                 read back as
==========================================  ==========================================
``x · Sigmoid(x)``                          SiLU
``x · HardSigmoid(x)`` (α = 1/6, β = ½)      Hardswish (opsets before HardSwish)
``x · Tanh(Softplus(x))``                   Mish
``Reshape(N,g,C/g,H,W) → Transpose(0,2,1,3,4) → Reshape(N,C,H,W)``  ChannelShuffle(g)
``Reshape(N,G,−1) → InstanceNormalization → Reshape(N,C,H,W) [→ Mul γ → Add β]``  GroupNorm(G)
``Transpose(0,2,3,1) → LayerNormalization → Transpose(0,3,1,2)``  LayerNorm over channels
==========================================  ==========================================

A match needs every intermediate tensor to be read only inside the pattern. The fused node
lives in the private ``layerlab`` domain, keeps the name and exporter metadata of the node
that ends the pattern (node ids come from them), and is translated like any other node.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable

import numpy as np

__all__ = ["DOMAIN", "fuse"]

DOMAIN = "layerlab"
_HARD_ALPHA, _HARD_BETA = 1 / 6, 0.5


class _View:
    """Producers and readers of the tensors among the nodes being fused."""

    def __init__(self, ctx, nodes: list) -> None:
        self.ctx = ctx
        self.producer = {o: n for n in nodes for o in n.output if o}
        self.readers: dict[str, list] = defaultdict(list)
        for node in nodes:
            for name in node.input:
                if name:
                    self.readers[name].append(node)
        self.outputs = {o.name for o in ctx.model.graph.output}

    def made_by(self, name: str, op: str):
        node = self.producer.get(name)
        return node if node is not None and node.op_type == op and node.domain in ("", "ai.onnx") \
            else None

    def private(self, name: str, reader) -> bool:
        """Only ``reader`` reads ``name``, and it is not a graph output."""
        return name not in self.outputs and self.readers.get(name) == [reader]

    def const(self, name: str) -> np.ndarray | None:
        return self.ctx.consts.get(name) if name else None


def _attr(node, name: str, default=None):
    from onnx import helper
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _fused(op: str, inputs: list[str], end, **attrs):
    """The fused node: ``end``'s output, name and exporter metadata."""
    from onnx import helper
    node = helper.make_node(op, inputs, [end.output[0]], name=end.name, domain=DOMAIN, **attrs)
    node.metadata_props.extend(end.metadata_props)
    return node


# --- x · f(x) activations -----------------------------------------------------------------------

def _gated_activation(view: _View, mul):
    """Mul(x, Sigmoid(x)) → SiLU, Mul(x, HardSigmoid(x)) → HardSwish, Mul(x, Tanh(Softplus(x)))
    → Mish."""
    if mul.op_type != "Mul" or len(mul.input) != 2:
        return None
    for x, gate in (mul.input, mul.input[::-1]):
        if not gate or not view.private(gate, mul):
            continue
        sigmoid = view.made_by(gate, "Sigmoid")
        if sigmoid is not None and list(sigmoid.input) == [x]:
            return [sigmoid, mul], _fused("SiLU", [x], mul)
        hard = view.made_by(gate, "HardSigmoid")
        if hard is not None and list(hard.input) == [x] \
                and np.isclose(_attr(hard, "alpha", 0.2), _HARD_ALPHA) \
                and np.isclose(_attr(hard, "beta", 0.5), _HARD_BETA):
            from onnx import helper
            node = helper.make_node("HardSwish", [x], [mul.output[0]], name=mul.name)
            node.metadata_props.extend(mul.metadata_props)
            return [hard, mul], node
        tanh = view.made_by(gate, "Tanh")
        softplus = tanh is not None and view.private(tanh.input[0], tanh) \
            and view.made_by(tanh.input[0], "Softplus")
        if softplus and list(softplus.input) == [x]:
            from onnx import helper
            node = helper.make_node("Mish", [x], [mul.output[0]], name=mul.name)
            node.metadata_props.extend(mul.metadata_props)
            return [softplus, tanh, mul], node
    return None


# --- channel shuffle ------------------------------------------------------------------------------

def _channel_shuffle(view: _View, last):
    """Reshape to (N, g, C/g, H, W), swap axes 1 and 2, Reshape back to (N, C, H, W)."""
    if last.op_type != "Reshape" or len(last.input) < 2:
        return None
    transpose = view.made_by(last.input[0], "Transpose")
    if transpose is None or not view.private(last.input[0], last) \
            or list(_attr(transpose, "perm", [])) != [0, 2, 1, 3, 4]:
        return None
    first = view.made_by(transpose.input[0], "Reshape")
    if first is None or not view.private(transpose.input[0], transpose) or len(first.input) < 2:
        return None
    split, back = view.const(first.input[1]), view.const(last.input[1])
    if split is None or back is None or split.size != 5 or back.size != 4:
        return None
    # the sizes are checked against the real shape when the fused node is translated
    return [first, transpose, last], _fused("ChannelShuffle", [first.input[0]], last,
                                            split=[int(v) for v in split.reshape(-1)],
                                            back=[int(v) for v in back.reshape(-1)])


# --- GroupNorm ------------------------------------------------------------------------------------

def _group_norm(view: _View, end):
    """Reshape(N, G, −1) → InstanceNormalization(1, 0) → Reshape(N, C, H, W) [→ Mul γ → Add β]."""
    nodes, scale, shift = [], "", ""
    node = end
    if node.op_type == "Add" and len(node.input) == 2:
        mul_out, shift = _data_and_const(view, node)
        mul = view.made_by(mul_out, "Mul") if mul_out else None
        if mul is None or not view.private(mul_out, node):
            return None
        back_out, scale = _data_and_const(view, mul)
        nodes, node = [mul, node], view.made_by(back_out, "Reshape") if back_out else None
        if node is None or not view.private(back_out, mul):
            return None
    if node is None or node.op_type != "Reshape":
        return None
    if not nodes and any(r.op_type == "Mul" for r in view.readers.get(node.output[0], [])):
        return None  # the affine form follows: match it from its Add
    back = node
    norm = view.made_by(back.input[0], "InstanceNormalization")
    if norm is None or not view.private(back.input[0], back) or len(norm.input) < 3:
        return None
    first = view.made_by(norm.input[0], "Reshape")
    if first is None or not view.private(norm.input[0], norm):
        return None
    ones, zeros = view.const(norm.input[1]), view.const(norm.input[2])
    if ones is None or zeros is None or not np.all(ones == 1) or np.any(zeros):
        return None
    target = view.const(first.input[1]) if len(first.input) > 1 else None
    restore = view.const(back.input[1]) if len(back.input) > 1 else None
    if target is None or target.size != 3 or restore is None or restore.size != 4:
        return None
    attrs = {"split": [int(v) for v in target.reshape(-1)],
             "back": [int(v) for v in restore.reshape(-1)],
             "epsilon": float(_attr(norm, "epsilon", 1e-5))}
    inputs = [first.input[0], scale, shift] if nodes else [first.input[0]]
    return [first, norm, back] + nodes, _fused("GroupNorm", inputs, end, **attrs)


def _data_and_const(view: _View, node) -> tuple[str | None, str]:
    a, b = node.input[0], node.input[1]
    if view.const(b) is not None and view.const(a) is None:
        return a, b
    if view.const(a) is not None and view.const(b) is None:
        return b, a
    return None, ""


# --- LayerNorm over the channels of a map ----------------------------------------------------------

def _channel_layer_norm(view: _View, last):
    if last.op_type != "Transpose" or list(_attr(last, "perm", [])) != [0, 3, 1, 2]:
        return None
    norm = view.made_by(last.input[0], "LayerNormalization")
    if norm is None or not view.private(last.input[0], last) \
            or int(_attr(norm, "axis", -1)) not in (-1, 3):
        return None
    first = view.made_by(norm.input[0], "Transpose")
    if first is None or not view.private(norm.input[0], norm) \
            or list(_attr(first, "perm", [])) != [0, 2, 3, 1]:
        return None
    inputs = [first.input[0]] + list(norm.input[1:])
    return [first, norm, last], _fused("ChannelLayerNorm", inputs, last,
                                       epsilon=float(_attr(norm, "epsilon", 1e-5)))


_PATTERNS: tuple[Callable, ...] = (_gated_activation, _channel_shuffle, _group_norm,
                                   _channel_layer_norm)


def fuse(ctx, nodes: list) -> list:
    """``nodes`` with every pattern replaced by its fused node (in the place of the node that
    ends it)."""
    view = _View(ctx, nodes)
    claimed: set[int] = set()
    replacement: dict[int, object] = {}
    for node in nodes:
        for pattern in _PATTERNS:
            found = pattern(view, node)
            if found is None:
                continue
            parts, fused = found
            if any(id(p) in claimed for p in parts):
                continue
            claimed.update(id(p) for p in parts)
            replacement[id(node)] = fused
            break
    out = []
    for node in nodes:
        if id(node) in replacement:
            out.append(replacement[id(node)])
        elif id(node) not in claimed:
            out.append(node)
    return out
