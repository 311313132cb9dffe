"""Project → ONNX through ``torch.onnx.export(dynamo=True)``, with a dynamic batch dimension.

Why this path: in torch 2.13 the TorchScript exporter (``dynamo=False``) still works offline,
but it warns that it will be removed, and in eval mode it folds every BatchNorm into the
Conv before it. The torch.export-based exporter is the default and the maintained one, and
it needs only ``onnxscript`` (part of the export extra) — no network. Its *default* graph
optimizer also folds BatchNorm into Conv and deletes all-zero biases, which would change the
graph a learner built (and break the import round trip), so LayerLab exports with
``optimize=False`` and runs a chosen subset itself: constant folding, a constant Reshape target
for Flatten, removal of no-op Mul/Add/Cast, and removal of the all-zero bias torch invents for a
bias-free convolution. BatchNorm stays a BatchNormalization node; Dropout (an identity at
inference) disappears.

LPPool2d with an even integer ``norm_type`` and windows that tile the input exactly becomes one
ONNX ``LpPool`` node (identical numbers); otherwise torch's decomposition (Pow, AveragePool,
Sign, …) is exported, which runs correctly but does not import back as an LPPool2d.
"""
from __future__ import annotations

import contextlib
import copy
import logging
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..graph import Project
from ..layers._rules import pool_out
from ..memory import export_problem
from ..params import pair
from .errors import ExportError, require
from .pytorch_code import checked_analysis
from .weights import Weights, apply_weights, resolve_weights

__all__ = ["export_onnx", "onnx_model", "verify_onnx", "INPUT_NAME", "OUTPUT_NAME"]

INPUT_NAME = "input"
OUTPUT_NAME = "output"
EXAMPLE_BATCH = 2           # torch.export specialises batch sizes 0 and 1
EXTERNAL_DATA_BYTES = 1_500_000_000  # protobuf cannot hold 2 GB: store weights beside the file
_REWRITE_RULES = ("materialize_reshape_shape_rule", "mul_by_1_rule", "div_by_1_rule",
                  "add_0_rule", "sub_0_rule", "no_op_cast_rule", "no_op_expand_rule",
                  "cast_cast_rule", "reshape_reshape_rule")
_KEEP_NODE_METADATA = ("pkg.torch.onnx.name_scopes",)  # the node ids; drop stack traces etc.


def export_onnx(project: Project, path: str | os.PathLike, weights: Weights | None = None,
                opset: int | None = None, preprocessing=None) -> list[Path]:
    """Write ``project`` (with ``weights``, else freshly initialised ones) as ONNX. With
    ``preprocessing`` (export/preprocessing.py) the file takes samples as stored and carries
    the input normalization, class names and input layout. The file is checked with
    ``onnx.checker``. Returns the files written."""
    onnx = require("onnx", "ONNX export")
    proto = onnx_model(project, weights, opset)
    if preprocessing is not None:
        from .preprocessing import bake_into_onnx
        bake_into_onnx(proto, preprocessing)
        if proto.ByteSize() < 2_000_000_000:
            onnx.checker.check_model(proto, full_check=True)
    path = Path(path)
    data_name = path.name + ".data"
    if sum(len(t.raw_data) for t in proto.graph.initializer) > EXTERNAL_DATA_BYTES:
        onnx.save_model(proto, str(path), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data_name)
        onnx.checker.check_model(str(path))
        return [path, path.with_name(data_name)]
    onnx.save_model(proto, str(path))
    return [path]


def onnx_model(project: Project, weights: Weights | None = None, opset: int | None = None):
    """The checked ``onnx.ModelProto`` of ``project``."""
    onnx = require("onnx", "ONNX export")
    require("onnxscript", "ONNX export")
    _check_torch()
    analysis = checked_analysis(project)
    if problem := export_problem(analysis, EXAMPLE_BATCH):  # before allocating anything
        raise ExportError(problem)
    model = _model(project, weights)
    shape = analysis.nodes[analysis.input_node].output_shape
    example = torch.randn(EXAMPLE_BATCH, *shape)
    export_model, table = _with_lp_pool_nodes(model, project, analysis)
    batch = torch.export.Dim("batch", min=1)
    kwargs: dict[str, Any] = dict(
        dynamo=True, dynamic_shapes=({0: batch},), input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME], optimize=False, verbose=False)
    if table:
        kwargs["custom_translation_table"] = table
    if opset is not None:
        kwargs["opset_version"] = opset
    try:
        with _quiet():
            program = torch.onnx.export(export_model, (example,), **kwargs)
    except Exception as exc:
        raise ExportError(f"torch could not export the model to ONNX: {exc}") from exc
    ir_model = program.model
    _tidy(ir_model)
    from onnxscript import ir
    proto = ir.serde.serialize_model(ir_model)
    _drop_invented_biases(proto, set(model.state_dict()))
    _strip_node_metadata(proto)
    proto.producer_name = "LayerLab"
    proto.graph.name = project.name or "model"
    proto.doc_string = project.description
    if proto.ByteSize() < 2_000_000_000:
        onnx.checker.check_model(proto, full_check=True)
    return proto


def verify_onnx(project: Project, path: str | os.PathLike, weights: Weights,
                batch_sizes: tuple[int, ...] = (1, 3), seed: int = 0,
                preprocessing=None) -> float:
    """Run the file in onnxruntime and the project in torch (with ``weights``: the ones the
    file was exported with, and the ``preprocessing`` it was exported with) on the same random
    batches; return the largest difference, relative to the outputs' size where that is
    above 1 (float32 cannot tell 421,900.03 from 421,900.06: a regression exported in the
    target's units would otherwise fail on rounding alone)."""
    ort = require("onnxruntime", "Checking an ONNX export")
    analysis = checked_analysis(project)
    if problem := export_problem(analysis, max(batch_sizes)):
        raise ExportError(problem)
    model = _model(project, weights)
    shape = analysis.nodes[analysis.input_node].output_shape
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    for n in batch_sizes:
        x = torch.randn(n, *shape, generator=generator)
        feed = x.numpy()
        if preprocessing is not None:  # the file takes stored samples: give it such
            feed = (x.numpy() * 0.5 + 0.5) / preprocessing.stored_scale
            x = torch.from_numpy(preprocessing.apply(feed))
        with torch.no_grad():
            expected = model(x).numpy()
        if preprocessing is not None:
            expected = preprocessing.finish(expected)
        got = session.run(None, {session.get_inputs()[0].name: feed.astype(np.float32)})[0]
        if got.shape != expected.shape:
            raise ExportError(f"onnxruntime gives shape {got.shape}, torch {expected.shape}")
        scale = max(1.0, float(abs(expected).max()))
        worst = max(worst, float(abs(got - expected).max()) / scale)
    return worst


# --- steps ----------------------------------------------------------------------------------

def _check_torch() -> None:
    import inspect
    wanted = {"dynamo", "dynamic_shapes", "custom_translation_table", "optimize"}
    have = set(inspect.signature(torch.onnx.export).parameters)
    if not wanted <= have or not hasattr(torch.library, "custom_op"):
        raise ExportError(f"ONNX export needs a newer PyTorch (2.6 or later); this is "
                          f"{torch.__version__}")


def _model(project: Project, weights: Weights | None) -> nn.Module:
    from ..builder import build_model
    model = build_model(project.graph)
    state = resolve_weights(weights)
    if state is not None:
        apply_weights(model, state)
    return model.eval()


@contextlib.contextmanager
def _quiet():
    """The exporter's progress lines, deprecation chatter and 'torchvision is not installed'
    log lines are noise for a learner; real failures still raise."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _tidy(ir_model) -> None:
    import onnxscript
    from onnxscript.rewriter.rules import common as rules
    onnxscript.optimizer.fold_constants(ir_model)
    chosen = [getattr(rules, name) for name in _REWRITE_RULES if hasattr(rules, name)]
    onnxscript.rewriter.rewrite(ir_model, chosen)
    onnxscript.optimizer.fold_constants(ir_model)
    onnxscript.optimizer.remove_unused_nodes(ir_model)


def _drop_invented_biases(proto, parameter_names: set[str]) -> None:
    """torch.export turns ``Conv2d(bias=False)`` into a Conv with an all-zero bias computed from
    the weight's shape; after folding it is a nameless constant. Drop it, so the file says
    'no bias' like the graph does (a real bias is an initializer named after the parameter)."""
    from onnx import numpy_helper
    constants = {t.name: t for t in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type in ("Conv", "Gemm") and len(node.input) == 3:
            bias = node.input[2]
            if bias in constants and bias not in parameter_names \
                    and not numpy_helper.to_array(constants[bias]).any():
                del node.input[2]
    used = {name for node in proto.graph.node for name in node.input}
    keep = [t for t in proto.graph.initializer if t.name in used]
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(keep)


def _strip_node_metadata(proto) -> None:
    for node in proto.graph.node:
        keep = [(m.key, m.value) for m in node.metadata_props if m.key in _KEEP_NODE_METADATA]
        del node.metadata_props[:]
        for key, value in keep:
            entry = node.metadata_props.add()
            entry.key, entry.value = key, value


# --- LPPool2d → LpPool ------------------------------------------------------------------------

class _LpPoolForOnnx(nn.Module):
    """Same numbers as the nn.LPPool2d it replaces; exports as one ONNX LpPool node."""

    def __init__(self, p: int, kernel: tuple[int, int], stride: tuple[int, int]) -> None:
        super().__init__()
        self.p, self.kernel, self.stride = p, list(kernel), list(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _lp_pool_op()(x, self.p, self.kernel, self.stride)


def _with_lp_pool_nodes(model: nn.Module, project: Project, analysis):
    swaps = {}
    for node_id, info in analysis.nodes.items():
        if info.type != "LPPool2d":
            continue
        p = info.resolved["norm_type"]
        k = pair(info.resolved["kernel_size"])
        s = pair(info.resolved["stride"]) if info.resolved["stride"] is not None else k
        _, h, w = info.input_shapes[0]
        exact = all(pool_out(n, kk, ss, 0, 1, True) == pool_out(n, kk, ss, 0, 1, False)
                    for n, kk, ss in ((h, k[0], s[0]), (w, k[1], s[1])))
        # ONNX LpPool sums |x|^p; torch sums x^p: equal for even p. A partial window (ceil_mode)
        # is averaged differently by the two, so only exact tilings are mapped.
        if float(p).is_integer() and int(p) % 2 == 0 and (exact or not info.resolved["ceil_mode"]):
            swaps[node_id] = _LpPoolForOnnx(int(p), k, s)
    if not swaps:
        return model, None
    model = copy.deepcopy(model)
    for node_id, module in swaps.items():
        model.layers[node_id] = module
    _lp_pool_op()  # defines torch.ops.layerlab.lp_pool2d
    return model, {torch.ops.layerlab.lp_pool2d.default: _lp_pool_onnx()}


@lru_cache(maxsize=1)
def _lp_pool_op():
    @torch.library.custom_op("layerlab::lp_pool2d", mutates_args=())
    def lp_pool2d(x: torch.Tensor, p: int, kernel: list[int], stride: list[int]) -> torch.Tensor:
        return nn.functional.lp_pool2d(x, float(p), kernel, stride)

    @lp_pool2d.register_fake
    def _(x, p, kernel, stride):
        return nn.functional.lp_pool2d(x, float(p), kernel, stride)

    return lp_pool2d


@lru_cache(maxsize=1)
def _lp_pool_onnx():
    from onnxscript import opset18 as op

    def lp_pool(x, p: int, kernel: list[int], stride: list[int]):
        return op.LpPool(x, kernel_shape=kernel, strides=stride, p=p)
    return lp_pool
