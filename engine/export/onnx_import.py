"""ONNX → an editable LayerLab graph plus its weights (only the ``onnx`` package is needed).

Steps: (1) the nodes the output depends on are put in an order they can run in, and a
malformed graph (a cycle, an input nobody produces, …) is explained (onnx_graph.py); (2) every
tensor computable without the input — initializers, Constant nodes, anything fed only by those
(transposed or cast weights, reshape targets) and the Shape of a fixed-size tensor — is folded
into a constant; (3) the subgraphs exporters write for one layer (x·sigmoid(x), channel
shuffles, GroupNorm, …) are fused back into that layer (onnx_patterns.py); (4) *all* operators
without a LayerLab layer are reported together with their counts and node names
(:class:`OnnxImportError.unsupported`); (5) each node becomes a registry layer (onnx_ops.py,
onnx_ops_modern.py), its shape checked by the registry's own rule and its weights by the
layer's own tensors. Anything unexpected in a node becomes an error naming it. Node ids come
from the exporter's module names when the file has them, else from weight names, else from the
node's own name, else from the layer's usual prefix (conv1, relu2, …).
"""
from __future__ import annotations

import ast
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from .. import registry
from ..graph import Edge, Graph, Node, Project, id_problem
from ..inference import analyze
from ..layout import apply_layout
from ..registry import ShapeError, format_shape
from .errors import OnnxImportError, require
from . import onnx_ops_modern  # noqa: F401  (registers its translations)
from .onnx_graph import SHAPE_BATCH, fold_constants, order_needed, static_shapes
from .onnx_ops import HANDLERS, handler_for, unsupported_label
from .onnx_patterns import fuse
from .preprocessing import PREFIX

__all__ = ["import_onnx", "import_model"]

_DEFAULT_DOMAINS = ("", "ai.onnx")
_GENERIC_GRAPH_NAMES = {"", "main_graph", "torch_jit", "torch-jit-export", "graph"}
_NAME_SCOPES = "pkg.torch.onnx.name_scopes"


def import_onnx(path: str | os.PathLike):
    """(Project, state dict with GraphModule keys) from an ONNX file."""
    onnx = require("onnx", "ONNX import")
    path = Path(path)
    if not path.is_file():
        raise OnnxImportError(f"{path} does not exist")
    try:
        model = onnx.load(str(path))
    except Exception as exc:
        raise OnnxImportError(f"{path.name} is not a readable ONNX file: {exc}") from exc
    return import_model(model, source=path.name, default_name=path.stem)


def import_model(model, source: str = "the ONNX model", default_name: str = "Imported model"):
    return _Importer(model, source).run(default_name)


class _Importer:
    def __init__(self, model, source: str) -> None:
        from onnx import numpy_helper
        self.model = model
        self.source = source
        # one wrapper object per node, held for the whole import: id(node) stays unique
        self.nodes = list(model.graph.node)
        self.opset = next((o.version for o in model.opset_import
                           if o.domain in _DEFAULT_DOMAINS), 1)
        self.consts: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.initializers = set(self.consts)
        self.values: dict[str, str] = {}      # ONNX tensor name → LayerLab node id
        self.shapes: dict[str, tuple] = {}    # node id → per-sample shape
        self.graph = Graph()
        self.state: dict[str, Any] = {}
        self.skip: set[int] = set()           # nodes absorbed by another (MatMul's bias Add)
        self.consumers: dict[str, list] = {}
        self.index: dict[int, int] = {}
        self.fused: dict[int, tuple] = {}     # id(MatMul) → (its Add, the bias's name)
        self.batch: int | None = None
        self.shape_batch = SHAPE_BATCH       # the batch that shape-derived constants carry
        self.scopes: dict[str, str | None] = {}  # node id → the exporter's module name

    # --- driver -------------------------------------------------------------------------
    def run(self, default_name: str):
        g = self.model.graph
        if not g.input and not g.output and not g.node:
            raise OnnxImportError(f"{self.source} holds no ONNX graph")
        self.nodes = [_passed_through(node) for node in self.nodes]
        for i, node in enumerate(self.nodes):
            self.index[id(node)] = i
        output = self._single("output", [o for o in g.output])
        available = {i.name for i in g.input} | set(self.consts)
        ordered = order_needed(self.nodes, output.name, available, self.label, self.fail,
                               self.source)
        dynamic = fold_constants(ordered, self.consts, self.opset, static_shapes(self.model))
        needed = fuse(self, self._needed(dynamic, output.name))
        for i, node in enumerate(needed):
            self.index.setdefault(id(node), len(self.nodes) + i)  # fused nodes are new
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        for node in needed:
            handler = HANDLERS.get(node.op_type) if node.domain in _DEFAULT_DOMAINS else None
            if handler is not None and hasattr(handler, "prepare"):
                self._guarded(node, handler.prepare)
        unsupported: Counter = Counter()
        where: dict[str, list[str]] = {}
        for node in needed:
            label = self._guarded(node, unsupported_label)
            if label is not None:
                unsupported[label] += 1
                if node.name:
                    where.setdefault(label, []).append(node.name)
        if unsupported:
            raise OnnxImportError.for_operators(self.source, unsupported, where)
        self._add_input()
        for node in needed:
            if self.index[id(node)] not in self.skip:
                self._guarded(node, handler_for(node))
        if output.name not in self.values:
            raise OnnxImportError(f"{self.source}: the output '{output.name}' does not depend "
                                  f"on the input")
        self._check_output(output)
        name = self.model.graph.name
        project = Project(self.graph, default_name if name in _GENERIC_GRAPH_NAMES else name,
                          self._description())
        apply_layout(project.graph)
        analysis = analyze(project.graph)
        if not analysis.ok:  # a translation bug, not the user's fault: say so plainly
            raise OnnxImportError(f"{self.source}: the imported graph does not check out: "
                                  + "; ".join(analysis.messages()))
        return project, self.state

    def _guarded(self, node, step):
        """``step(self, node)``; anything unexpected in a malformed node becomes an error that
        names it instead of a traceback."""
        try:
            return step(self, node)
        except OnnxImportError:
            raise
        except Exception as exc:  # noqa: BLE001 — a foreign file can break any assumption
            raise self.fail(node, f"cannot be read ({_short(exc)})") from None

    def _needed(self, dynamic: list, output: str) -> list:
        producer = {name: node for node in dynamic for name in node.output if name}
        wanted, stack = set(), [output]
        while stack:
            node = producer.get(stack.pop())
            if node is None or id(node) in wanted:
                continue
            wanted.add(id(node))
            stack += [n for n in node.input if n]
        return [node for node in dynamic if id(node) in wanted]

    def _add_input(self) -> None:
        inputs = [i for i in self.model.graph.input if i.name not in self.consts]
        value = self._single("input", inputs)
        dims = value.type.tensor_type.shape.dim
        shape = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        sample = shape[1:]
        if len(sample) not in (1, 3) or any(not d for d in sample):
            shown = "×".join(str(d.dim_value) if d.HasField("dim_value") else
                             (d.dim_param or "?") for d in dims)
            raise OnnxImportError(f"{self.source}: the input '{value.name}' is {shown}; LayerLab "
                                  f"needs a batch of fixed-size images (N×C×H×W) or feature "
                                  f"vectors (N×F)")
        self.batch = shape[0]
        self.shape_batch = shape[0] or SHAPE_BATCH
        self.graph.add_node(Node("input", "Input", {"shape": list(sample)}))
        self.values[value.name] = "input"
        self.shapes["input"] = tuple(sample)

    def _single(self, what: str, items: list):
        if len(items) != 1:
            names = ", ".join(i.name for i in items) or "none"
            raise OnnxImportError(f"{self.source} has {len(items)} {what}s ({names}); a "
                                  f"LayerLab model has exactly one")
        return items[0]

    def _check_output(self, output) -> None:
        dims = output.type.tensor_type.shape.dim
        declared = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)[1:]
        ours = self.shapes[self.values[output.name]]
        if len(declared) == len(ours) and all(d in (None, o) for d, o in zip(declared, ours)):
            return
        if declared:
            raise OnnxImportError(f"{self.source}: the imported graph gives "
                                  f"{format_shape(ours)} per sample but the file declares "
                                  f"{'×'.join(str(d) for d in declared)}")

    def _description(self) -> str:
        text = f"Imported from {self.source}."
        if any(n.name.startswith(f"{PREFIX}preprocess_") for n in self.model.graph.node):
            text += (" The file normalized its input itself (see its metadata); this project "
                     "takes normalized input, as training gives it.")
        doc = self.model.doc_string.strip()
        return f"{doc}\n\n{text}" if doc else text

    # --- what the operator translations use ----------------------------------------------
    def label(self, node) -> str:
        return f"node '{node.name}' ({node.op_type})" if node.name else \
            f"the {node.op_type} node #{self.index[id(node)]}"

    def fail(self, node, message: str) -> OnnxImportError:
        return OnnxImportError(f"{self.source}: {self.label(node)}: {message}",
                               node=node.name or None)

    def is_const(self, name: str) -> bool:
        return name in self.consts

    def const(self, node, position: int, what: str, required: bool = False) -> np.ndarray | None:
        """Input ``position`` as an array (None when absent, unless ``required``); a
        non-constant is an error."""
        if position >= len(node.input) or not node.input[position]:
            if required:
                raise self.fail(node, f"it lacks its {what}")
            return None
        name = node.input[position]
        if name not in self.consts:
            raise self.fail(node, f"its {what} ('{name}') must be a constant")
        return self.consts[name]

    def data(self, node, position: int = 0) -> str:
        if position >= len(node.input) or not node.input[position]:
            raise self.fail(node, f"it lacks input {position + 1}")
        name = node.input[position]
        if name in self.consts:
            raise self.fail(node, f"input '{name}' is a constant where LayerLab expects the "
                                  f"data flowing through the network")
        if name not in self.values:
            raise self.fail(node, f"its input '{name}' does not come from the model's input")
        return self.values[name]

    def shape(self, value_id: str) -> tuple:
        return self.shapes[value_id]

    def alias(self, node, value_id: str) -> None:
        self.values[node.output[0]] = value_id

    def used(self, name: str) -> bool:
        return bool(name) and (bool(self.consumers.get(name))
                               or name in {o.name for o in self.model.graph.output})

    def add(self, node, type_name: str, params: dict, sources: list[str],
            weights: dict[str, np.ndarray] | None = None, weight_name: str | None = None,
            output: bool = True) -> str:
        """Create a layer fed by ``sources`` (node ids); its output becomes node.output[0]."""
        spec = registry.get(type_name)
        defaults = spec.defaults()
        node_id = self._node_id(node, spec, weight_name)
        try:
            # defaults are left out, except the key parameters the canvas shows on the node
            params = {k: v for k, v in params.items()
                      if not _same(spec.param(k).check(v), defaults[k])
                      or (k in spec.key_params and defaults[k] is not None)}
            resolved = spec.resolve(params)
            inputs = [self.shapes[s] for s in sources]
            shape = tuple(int(d) for d in spec.infer(resolved, inputs))
        except (ShapeError, ValueError) as exc:
            raise self.fail(node, str(exc).replace("{node}", node_id)) from None
        tensors = {k: _tensor(v) for k, v in (weights or {}).items() if v is not None}
        if tensors:
            self._check_weights(node, spec, resolved, inputs, tensors)
        self.graph.add_node(Node(node_id, type_name, params))
        self.scopes[node_id] = _scope_name(node)
        for port, source in enumerate(sources):
            self.graph.add_edge(Edge(source, node_id, port))
        self.shapes[node_id] = shape
        for key, value in tensors.items():
            self.state[f"layers.{node_id}.{key}"] = value
        if output:
            self.values[node.output[0]] = node_id
        return node_id

    def _check_weights(self, node, spec, resolved: dict, inputs: list, tensors: dict) -> None:
        """Each tensor has the shape and kind the layer's torch module holds (built on the meta
        device: nothing is allocated)."""
        import torch
        from ..builder import make_layer
        name, kwargs = spec.torch_call(resolved, inputs)
        with torch.device("meta"):
            wanted = make_layer(name, kwargs).state_dict()
        for key, value in tensors.items():
            if key not in wanted:
                raise self.fail(node, f"a {key} that a {spec.type} with these settings does not "
                                      f"have")
            if tuple(value.shape) != tuple(wanted[key].shape):
                raise self.fail(node, f"its {key} has shape {tuple(value.shape)} but a "
                                      f"{spec.type} with these settings needs "
                                      f"{tuple(wanted[key].shape)}")
            if wanted[key].is_floating_point() and not value.is_floating_point():
                raise self.fail(node, f"its {key} holds "
                                      f"{str(value.dtype).removeprefix('torch.')} values where "
                                      f"numbers with a fraction are needed")

    def extend(self, node, target: str, sources: list[str]) -> bool:
        """Feed ``sources`` into the existing merge ``target`` as further ports (torch writes
        a 3-input Add module as two ONNX Adds from the same module). False when the two do
        not come from one module or the shapes differ."""
        scope = _scope_name(node)
        if scope is None or self.scopes.get(target) != scope \
                or len(self.consumers.get(node.input[0], [])) != 1 \
                or any(s == target or s in [e.source for e in self.graph.incoming(target)]
                       or self.shapes[s] != self.shapes[target] for s in sources):
            return False
        for source in sources:
            self.graph.add_edge(Edge(source, target, self.graph.next_port(target)))
        self.alias(node, target)
        return True

    def _node_id(self, node, spec, weight_name: str | None) -> str:
        """The most readable free id: the exporter's module name (torch.export metadata, or the
        TorchScript exporter's '/layer1/layer1.0/conv1/Conv' path), the weight's name, the
        node's own name, else the layer's usual prefix."""
        candidates = [_scope_name(node), _path_name(node),
                      weight_name and _weight_stem(weight_name), _plain_name(node)]
        for candidate in candidates:
            name = _identifier(candidate) if candidate else None
            if not name or id_problem(name) is not None:
                continue
            if name not in self.graph.nodes:
                return name
            longer = _identifier(f"{name}_{spec.id_prefix}")
            if longer and longer not in self.graph.nodes:
                return longer
            return self.graph.unique_id(name + "_")
        return self.graph.unique_id(spec.id_prefix)


# --- helpers ---------------------------------------------------------------------------------

def _scope_name(node) -> str | None:
    """'layers.conv1' from the torch exporter's name scopes ['', 'layers.conv1', 'conv2d']."""
    for entry in node.metadata_props:
        if entry.key == _NAME_SCOPES:
            try:
                scopes = [s for s in ast.literal_eval(entry.value) if isinstance(s, str)]
            except (ValueError, SyntaxError):
                return None
            modules = [s for s in scopes[:-1] if s]
            if modules:
                return modules[-1].removeprefix("layers.")
    return None


def _passed_through(node):
    """LayerLab's own export wraps the graph in the dataset's normalization (Mul and Add nodes
    named layerlab_preprocess_* / layerlab_postprocess_*, see preprocessing.py): they are not
    layers of the model, so they become identities here."""
    if node.name.startswith((f"{PREFIX}preprocess_", f"{PREFIX}postprocess_")) \
            and node.op_type in ("Mul", "Add") and len(node.input) == 2 \
            and node.input[1].startswith(PREFIX):
        from onnx import helper
        return helper.make_node("Identity", [node.input[0]], list(node.output), name=node.name)
    return node


def _path_name(node) -> str | None:
    """'layer1.0.conv1' from the TorchScript exporter's '/layer1/layer1.0/conv1/Conv' (each
    segment is a module's attribute, or its full name under a container)."""
    if not node.name.startswith("/"):
        return None
    segments: list[str] = []
    for part in [p for p in node.name.split("/") if p][:-1]:  # the last part is the operator
        if segments and part.startswith(segments[-1] + "."):
            segments[-1] = part  # 'layer1' then 'layer1.0': a container's child
        else:
            segments.append(part)
    return ".".join(segments) or None


def _plain_name(node) -> str | None:
    """The node's own name unless an exporter made it up from the operator ('Conv_3',
    'node_conv2d_1', 'n0_2')."""
    name = node.name
    if not name or "/" in name or re.match(r"(node_|n\d+(_\d+)*$)", name):
        return None
    if re.sub(r"[^a-z]", "", name.lower()) == node.op_type.lower():
        return None
    return name


def _weight_stem(name: str) -> str | None:
    for suffix in (".weight", ".bias", ".running_mean", ".running_var", ".scale"):
        if name.endswith(suffix):
            return name[: -len(suffix)].removeprefix("layers.")
    return None


def _identifier(text: str) -> str | None:
    text = re.sub(r"[^A-Za-z0-9_]", "_", text.encode("ascii", "ignore").decode()).strip("_")
    if not text:
        return None
    if not re.match(r"[A-Za-z_]", text):
        text = "n" + text
    return text[:56]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _tensor(value: np.ndarray):
    """A torch copy with the array's own shape — a 0-d count stays 0-d (np.ascontiguousarray
    would make it (1,), which no BatchNorm's num_batches_tracked accepts)."""
    import torch
    array = np.array(value, copy=True, order="C")
    if array.dtype.kind == "f":
        array = array.astype(np.float32)
    return torch.from_numpy(array)


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:157] + "..."
