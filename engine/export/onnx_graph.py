"""The structure of an ONNX graph before any node is translated: which nodes lead to the output,
in what order they can run, and which tensors are constants.

A file from an unknown source may be malformed — a cycle, a node reading its own output, an
input nobody produces, two nodes writing one tensor. Each is answered here with a message that
names the node, before a translation could stumble over it.

Constants are folded with onnx's reference evaluator: initializers, ``Constant`` nodes, anything
computed only from constants, ``Shape`` of a tensor whose size is fixed (the TorchScript
exporter computes ``x.chunk()`` boundaries and ``view(x.size(0), -1)`` targets that way), and
``CastLike`` of a constant to the data's type (float32 in LayerLab). When
the batch dimension is symbolic, shapes are inferred with a batch of 1: the batch entry of a
derived shape can then only reach a reshape target's first position, which the translations
read as "the batch" and check.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["order_needed", "fold_constants", "static_shapes", "SHAPE_BATCH"]

#: The batch size shapes are inferred with when the file's batch dimension is symbolic.
SHAPE_BATCH = 1

_DEFAULT_DOMAINS = ("", "ai.onnx")
_NEVER_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
               "Multinomial", "Bernoulli"}


def order_needed(nodes: list, output: str, available: set[str],
                 label: Callable[[object], str], fail: Callable[[object, str], Exception],
                 source: str) -> list:
    """The nodes ``output`` depends on, in an order where every input is computed before it is
    read. ``available``: graph inputs and initializers."""
    producer: dict[str, object] = {}
    for node in nodes:
        for name in node.output:
            if not name:
                continue
            if name in producer and producer[name] is not node:
                raise fail(node, f"it writes the tensor '{name}', which "
                                 f"{label(producer[name])} writes too — each tensor must have "
                                 f"one producer")
            producer[name] = node
    wanted: dict[int, object] = {}
    stack = [output]
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in wanted:
            continue
        wanted[id(node)] = node
        stack += [n for n in node.input if n]
    needed = [n for n in nodes if id(n) in wanted]  # file order, each node once
    for node in needed:
        for name in node.input:
            if not name:
                continue
            if name in node.output:
                raise fail(node, f"it reads its own output '{name}'")
            if name not in producer and name not in available:
                raise fail(node, f"its input '{name}' is not produced by any node (nor is it a "
                                 f"graph input or an initializer)")
    return _topological(needed, producer, label, source)


def _topological(needed: list, producer: dict, label, source: str) -> list:
    from .errors import OnnxImportError
    position = {id(n): i for i, n in enumerate(needed)}
    waiting = {id(n): 0 for n in needed}
    users: dict[int, list] = {id(n): [] for n in needed}
    for node in needed:
        for name in set(n for n in node.input if n):
            before = producer.get(name)
            if before is not None and id(before) in waiting:
                waiting[id(node)] += 1
                users[id(before)].append(node)
    ready = [n for n in needed if waiting[id(n)] == 0]
    order = []
    while ready:
        ready.sort(key=lambda n: position[id(n)])  # keep the file's order where it is free
        node = ready.pop(0)
        order.append(node)
        for user in users[id(node)]:
            waiting[id(user)] -= 1
            if waiting[id(user)] == 0:
                ready.append(user)
    if len(order) < len(needed):
        stuck = [n for n in needed if waiting[id(n)] > 0]
        cycle = _a_cycle(stuck, producer)
        path = " → ".join(label(n) for n in cycle + cycle[:1])
        raise OnnxImportError(f"{source}: the graph has a cycle: {path}; a model's nodes must "
                              f"run one after the other", node=cycle[0].name or None)
    return order


def _a_cycle(stuck: list, producer: dict) -> list:
    """One loop among the nodes that never became ready, following inputs backwards."""
    inside = {id(n) for n in stuck}
    path, seen, node = [], {}, stuck[0]
    while id(node) not in seen:
        seen[id(node)] = len(path)
        path.append(node)
        node = next(producer[i] for i in node.input
                    if i and i in producer and id(producer[i]) in inside)
    return list(reversed(path[seen[id(node)]:]))


def static_shapes(model) -> dict[str, tuple[int, ...]]:
    """Tensor name → full shape (batch first) wherever onnx's shape inference fixes every
    dimension. A symbolic batch is inferred as :data:`SHAPE_BATCH`."""
    try:
        import onnx
        from onnx import shape_inference
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        for value in copy.graph.input:
            dims = value.type.tensor_type.shape.dim
            if len(dims) and not dims[0].HasField("dim_value"):
                dims[0].dim_value = SHAPE_BATCH
        inferred = shape_inference.infer_shapes(copy, strict_mode=False, data_prop=True).graph
    except Exception:  # a malformed file: Shape nodes stay unknown and are reported as such
        return {}
    shapes = {}
    for value in list(inferred.input) + list(inferred.value_info) + list(inferred.output):
        t = value.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if all(d is not None and d > 0 for d in dims):
            shapes[value.name] = tuple(dims)
    return shapes


def fold_constants(ordered: list, consts: dict[str, np.ndarray], opset: int,
                   shapes: dict[str, tuple[int, ...]]) -> list:
    """Fill ``consts`` with every tensor computable without the input; return the other nodes
    (in order)."""
    from onnx import helper, numpy_helper
    dynamic = []
    for node in ordered:
        inputs = [n for n in node.input if n]
        if node.domain not in _DEFAULT_DOMAINS or node.op_type in _NEVER_FOLD:
            dynamic.append(node)
        elif node.op_type == "Constant":
            value = constant_value(node, helper, numpy_helper)
            if value is None:
                dynamic.append(node)  # translated as an error naming the node
            else:
                consts[node.output[0]] = value
        elif node.op_type == "Shape" and inputs and inputs[0] in shapes:
            consts[node.output[0]] = _shape_of(node, shapes[inputs[0]], helper)
        elif node.op_type == "CastLike" and len(inputs) == 2 and inputs[0] in consts:
            # a constant cast to the type of the data: LayerLab computes in float32
            value = consts[inputs[0]]
            consts[node.output[0]] = value.astype(np.float32) if value.dtype.kind == "f" \
                else value
        elif inputs and all(n in consts for n in inputs):
            results = _evaluate(node, {n: consts[n] for n in inputs}, opset)
            if results is None:
                dynamic.append(node)
                continue
            for name, value in zip(node.output, results):
                if name:
                    consts[name] = np.asarray(value)
        else:
            dynamic.append(node)
    return dynamic


def _evaluate(node, feeds: dict, opset: int):
    from onnx.reference import ReferenceEvaluator
    try:
        evaluator = ReferenceEvaluator(node, opsets={"": opset})
        return evaluator.run(None, feeds)
    except Exception:  # a node the evaluator cannot run stays a node (and is judged as one)
        return None


def _shape_of(node, shape: tuple[int, ...], helper) -> np.ndarray:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    start, end = attrs.get("start", 0), attrs.get("end")
    return np.array(shape[start:end], dtype=np.int64)


def constant_value(node, helper, numpy_helper) -> np.ndarray | None:
    """The value of a Constant node, or None when it holds none LayerLab can read."""
    if len(node.attribute) != 1:
        return None
    attr = node.attribute[0]
    try:
        value = helper.get_attribute_value(attr)
        if attr.name == "value":
            return numpy_helper.to_array(value)
        if attr.name in ("value_float", "value_floats"):
            return np.array(value, dtype=np.float32)
        if attr.name in ("value_int", "value_ints"):
            return np.array(value, dtype=np.int64)
    except Exception:
        return None
    return None
