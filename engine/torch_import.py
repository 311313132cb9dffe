"""A PyTorch ``nn.Module`` → an editable LayerLab project and its weights::

    from layerlab.engine import from_torch
    project, weights = from_torch(model, torch.randn(1, 3, 32, 32))
    net = build_model(project.graph); net.load_state_dict(weights)   # same outputs

The module's ``forward`` is traced with ``torch.fx`` (symbolic tracing: the Python code runs
once with placeholder tensors and every call is recorded), and each shape is measured by
running the example input through the trace. Every call then becomes a registry layer:

- a ``torch.nn`` module whose class is a LayerLab layer (Conv2d, BatchNorm2d, Hardswish, …)
  becomes that layer with the module's own settings and tensors — BatchNorm stays BatchNorm,
  nothing is folded; ``nn.Identity`` and ``.contiguous()`` pass their input on;
- the functional calls torchvision-style code makes: ``+`` and ``*`` of two tensors (Add,
  Multiply), ``torch.cat`` (Concat; of one tensor, nothing), ``torch.flatten`` / ``view(N, -1)``
  (Flatten), ``F.relu`` and the other activations, ``F.adaptive_avg_pool2d``, ``x.mean([2, 3])``
  (global average pooling), ``x.chunk`` / ``torch.split`` / ``x[:, a:b]`` on channels (Narrow),
  the view–transpose–view channel shuffle (ChannelShuffle), permute–LayerNorm–permute
  (LayerNorm over channels), ``F.interpolate``, ``F.pad``, ``F.dropout``.

What has no layer is named with the module path it came from, all of it in one
:class:`FromTorchError`. The result is checked before it is returned: the built model with the
returned weights must reproduce the module's output on the example input.

Why torch.fx rather than torch.export: fx keeps calls at the level of the module's own code
(``nn.BatchNorm2d`` stays one call, ``self.relu`` keeps its name), which is the level a learner
edits; torch.export lowers to ATen operators and, in inference mode, decomposes BatchNorm.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from . import registry
from .export.errors import ExportError
from .graph import Edge, Graph, Node, Project, id_problem
from .training.batches import BATCH_NORMS
from .inference import analyze
from .layout import apply_layout
from .params import BoolParam, ParamError
from .registry import ShapeError, format_shape

__all__ = ["from_torch", "FromTorchError"]

_TOLERANCE = 1e-4


class FromTorchError(ExportError):
    """A module that cannot become a LayerLab graph; ``unmapped`` lists every part that has no
    layer, each as '<module path>: <what>'."""

    def __init__(self, message: str, unmapped: list[str] | None = None) -> None:
        super().__init__(message)
        self.unmapped = list(unmapped or [])


def from_torch(module: nn.Module, example_input: torch.Tensor,
               name: str | None = None) -> tuple[Project, dict[str, torch.Tensor]]:
    """(project, weights): a graph that mirrors ``module`` and a state dict that
    ``build_model(project.graph).load_state_dict`` accepts. ``example_input`` is one batch
    (N×C×H×W images or N×F features)."""
    if not isinstance(module, nn.Module):
        raise FromTorchError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(example_input, torch.Tensor) or example_input.dim() not in (2, 4):
        raise FromTorchError("the example input must be a batch: a tensor of N×C×H×W images or "
                             "N×F features")
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return _Translator(module, example_input, name or type(module).__name__).run()
    finally:
        module.train(was_training)


# --- tracing ------------------------------------------------------------------------------------

def _trace(module: nn.Module, example: torch.Tensor):
    import torch.fx as fx
    from torch.fx.passes.shape_prop import ShapeProp
    try:
        traced = fx.symbolic_trace(module)
    except Exception as exc:  # noqa: BLE001 — tracing runs the user's code
        raise FromTorchError(
            f"torch.fx could not follow {type(module).__name__}.forward(): {_first_line(exc)}. "
            f"LayerLab reads forward() as a graph, so it cannot branch on tensor values (an "
            f"'if' or a loop that depends on the data)") from None
    try:
        ShapeProp(traced).propagate(example)
    except Exception as exc:  # noqa: BLE001
        raise FromTorchError(f"{type(module).__name__} fails on the example input of shape "
                             f"{tuple(example.shape)}: {_first_line(exc)}") from None
    return traced


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# --- values the translation passes along ----------------------------------------------------------

@dataclass
class _Pending:
    """A tensor that is only part of a layer: the view–transpose steps of a channel shuffle, a
    permute before a LayerNorm. Anything else that reads it cannot be mapped."""
    kind: str
    source: str                      # the LayerLab node it started from
    info: dict = field(default_factory=dict)


@dataclass
class _Parts:
    """The tuple of x.chunk() / torch.split(): (node, sizes) until an index picks one."""
    source: str
    sizes: list[int]


class _Translator:
    def __init__(self, module: nn.Module, example: torch.Tensor, name: str) -> None:
        self.module = module
        self.example = example
        self.name = name
        self.graph = Graph()
        self.state: dict[str, torch.Tensor] = {}
        self.values: dict[str, Any] = {}        # fx node name → node id / _Pending / _Parts
        self.shapes: dict[str, tuple] = {}      # node id → per-sample shape
        self.unmapped: list[str] = []
        self.weighted_uses: dict[str, str] = {}  # module path → the node that took its tensors

    def run(self) -> tuple[Project, dict[str, torch.Tensor]]:
        traced = _trace(self.module, self.example)
        self.traced = traced
        output = None
        for node in traced.graph.nodes:
            try:
                if node.op == "output":
                    output = node
                    continue
                self._translate(node)
            except _Unmapped as exc:
                self.unmapped.append(f"{_where(node)}: {exc}")
                self.values[node.name] = _BROKEN
            except _Downstream:  # fed by a part already reported: say nothing more
                self.values[node.name] = _BROKEN
        if self.unmapped:
            shown = "\n  - ".join(self.unmapped[:12])
            more = f"\n  … and {len(self.unmapped) - 12} more" if len(self.unmapped) > 12 else ""
            raise FromTorchError(f"{self.name} has parts without a LayerLab layer:\n  - {shown}"
                                 f"{more}", self.unmapped)
        result = output.args[0] if output is not None else None
        if not isinstance(result, torch.fx.Node) or not isinstance(self.values.get(result.name),
                                                                     str):
            raise FromTorchError(f"{self.name}.forward() must return one tensor computed from "
                                 f"its input")
        self._drop_unused(self.values[result.name])
        project = Project(self.graph, self.name, f"Imported from the PyTorch module "
                                                 f"{type(self.module).__name__}.")
        apply_layout(project.graph)
        self._check(project)
        return project, self.state

    # --- dispatch ---------------------------------------------------------------------------
    def _translate(self, node) -> None:
        meta = node.meta.get("tensor_meta")
        if node.op == "placeholder":
            if self.graph.nodes:
                raise _Unmapped("a second input; a LayerLab model takes exactly one")
            shape = tuple(int(d) for d in meta.shape[1:])
            self.graph.add_node(Node("input", "Input", {"shape": list(shape)}))
            self.values[node.name] = "input"
            self.shapes["input"] = shape
            return
        if node.op == "get_attr":
            raise _Unmapped(f"reads the tensor '{node.target}' directly (a functional call "
                            f"with its own weights); only nn layers carry weights in LayerLab")
        if node.op == "call_module":
            self._call_module(node, self.traced.get_submodule(node.target))
            return
        name = _callable_name(node)
        handler = _FUNCTIONS.get(name)
        if handler is None:
            if not _is_tensor(meta):
                return  # x.size() and other Python numbers: their users are read by shape
            raise _Unmapped(f"{name}() has no LayerLab layer")
        handler(self, node)

    # --- helpers the translations use --------------------------------------------------------
    def data(self, arg) -> str:
        """The node id of a tensor argument."""
        if not isinstance(arg, torch.fx.Node):
            raise _Unmapped(f"expects a tensor computed from the input, got {arg!r}")
        value = self.values.get(arg.name)
        if value is _BROKEN:
            raise _Downstream()
        if isinstance(value, _Pending):
            raise _Unmapped(f"uses the result of {value.kind}, which LayerLab has no layer for")
        if not isinstance(value, str):
            raise _Unmapped(f"uses '{arg.name}', which does not come from the input")
        return value

    def value(self, arg):
        """Whatever the translation holds for an argument (None for a Python value)."""
        value = self.values.get(arg.name) if isinstance(arg, torch.fx.Node) else None
        if value is _BROKEN:
            raise _Downstream()
        return value

    def out_shape(self, node) -> tuple:
        meta = node.meta.get("tensor_meta")
        return tuple(int(d) for d in meta.shape[1:])

    def add(self, node, type_name: str, params: dict, sources: list[str],
            weights: dict[str, torch.Tensor] | None = None, base: str | None = None) -> str:
        spec = registry.get(type_name)
        node_id = self._node_id(node, spec, base)
        try:
            resolved = spec.resolve(params)
            inputs = [self.shapes[s] for s in sources]
            shape = tuple(int(d) for d in spec.infer(resolved, inputs))
        except ParamError as exc:
            raise _Unmapped(f"a {type_name} LayerLab cannot express: {exc}") from None
        except ShapeError as exc:
            raise _Unmapped(str(exc).replace("{node}", node_id)) from None
        if node is not None and node.op != "placeholder" and _is_tensor(node.meta.get(
                "tensor_meta")) and shape != self.out_shape(node):
            raise _Unmapped(f"gives {format_shape(self.out_shape(node))} but a {type_name} "
                            f"with these settings gives {format_shape(shape)}")
        self.graph.add_node(Node(node_id, type_name, _without_defaults(spec, params)))
        for port, source in enumerate(sources):
            self.graph.add_edge(Edge(source, node_id, port))
        self.shapes[node_id] = shape
        for key, value in (weights or {}).items():
            self.state[f"layers.{node_id}.{key}"] = value.detach().clone()
        if node is not None:
            self.values[node.name] = node_id
        return node_id

    def alias(self, node, value) -> None:
        self.values[node.name] = value

    def _node_id(self, node, spec, base: str | None) -> str:
        if base is None and node is not None:
            path = _module_path(node)
            base = f"{path}_{spec.id_prefix}" if path else None
        for candidate in (base, spec.id_prefix):
            if not candidate:
                continue
            name = _identifier(candidate, spec.id_prefix)
            if name and id_problem(name) is None and name not in self.graph.nodes:
                return name
            if name and id_problem(name) is None:
                return self.graph.unique_id(name + "_")
        return self.graph.unique_id(spec.id_prefix)

    # --- nn modules ------------------------------------------------------------------------
    def _call_module(self, node, module: nn.Module) -> None:
        cls = type(module)
        if cls in (nn.Identity,) or isinstance(module, nn.Identity):
            self.alias(node, self.data(node.args[0]))
            return
        if cls is nn.LayerNorm and node.args and isinstance(self.value(node.args[0]), _Pending):
            self._layer_norm_in_nhwc(node, module)
            return
        spec = registry.find(cls.__name__)
        if spec is None or getattr(nn, cls.__name__, None) is not cls:
            raise _Unmapped(f"{cls.__module__}.{cls.__name__} has no LayerLab layer")
        if len(node.args) != 1 or node.kwargs:
            raise _Unmapped(f"{cls.__name__} is called with {len(node.args)} arguments")
        own = module.state_dict()
        if own:
            first = self.weighted_uses.setdefault(node.target, node.name)
            if first != node.name:
                raise _Unmapped(f"{node.target} is used a second time (shared weights); every "
                                f"LayerLab layer has its own weights")
        x = self.data(node.args[0])
        params = _module_params(spec, module, self.shapes[x])
        if own:
            _check_tensors(spec, params, [self.shapes[x]], own)
        self.add(node, spec.type, params, [x], own, base=node.name)

    def _layer_norm_in_nhwc(self, node, module: nn.LayerNorm) -> None:
        pending = self.values[node.args[0].name]
        c = self.shapes[pending.source][0]
        if pending.kind != "a permute to N×H×W×C" or tuple(module.normalized_shape) != (c,):
            raise _Unmapped("a LayerNorm over other dimensions than the channels")
        self.values[node.name] = _Pending("a LayerNorm in N×H×W×C order", pending.source,
                                          {"module": module, "node": node})

    def _drop_unused(self, output_id: str) -> None:
        """Layers whose result nobody reads (a Dropout in an unused branch) would be extra
        ends: keep only what leads to the output."""
        keep, stack = set(), [output_id]
        while stack:
            n = stack.pop()
            if n in keep:
                continue
            keep.add(n)
            stack += [e.source for e in self.graph.incoming(n)]
        for node_id in [n for n in self.graph.nodes if n not in keep]:
            self.graph.remove_node(node_id)
            for key in [k for k in self.state if k.startswith(f"layers.{node_id}.")]:
                del self.state[key]

    def _check(self, project: Project) -> None:
        from .builder import build_model
        analysis = analyze(project.graph)
        if not analysis.ok:
            raise FromTorchError(f"{self.name}: the translated graph does not check out: "
                                 + "; ".join(analysis.messages()))
        model = build_model(project.graph, analysis).eval()
        model.load_state_dict(self.state)
        expected = self.module(self.example)
        got = model(self.example)
        if not isinstance(expected, torch.Tensor) or got.shape != expected.shape:
            raise FromTorchError(f"{self.name}: the translated graph gives shape "
                                 f"{tuple(got.shape)}, the module "
                                 f"{getattr(expected, 'shape', type(expected).__name__)}")
        scale = max(1.0, float(expected.abs().max()))
        worst = float((got - expected).abs().max())
        if not math.isfinite(worst) or worst > _TOLERANCE * scale:
            raise FromTorchError(f"{self.name}: the translated graph's outputs differ from the "
                                 f"module's by up to {worst:.2e} — a part of forward() LayerLab "
                                 f"did not reproduce")


def _check_tensors(spec, params: dict, inputs: list, own: dict) -> None:
    """The layer LayerLab builds holds exactly the module's tensors (checked on the meta
    device: nothing is allocated)."""
    from .builder import make_layer
    try:
        class_name, kwargs = spec.torch_call(spec.resolve(params), inputs)
    except ParamError as exc:
        raise _Unmapped(f"a {spec.type} LayerLab cannot express: {exc}") from None
    with torch.device("meta"):
        wanted = make_layer(class_name, kwargs).state_dict()
    mine = {k: tuple(v.shape) for k, v in own.items()}
    theirs = {k: tuple(v.shape) for k, v in wanted.items()}
    if mine != theirs:
        raise _Unmapped(f"holds tensors {mine} where LayerLab's {spec.type} holds {theirs}")


class _Unmapped(Exception):
    """One call without a layer; the message says what it does."""


class _Downstream(Exception):
    """A call fed by one that could not be mapped (already reported)."""


_BROKEN = object()  # the value of a call that could not be mapped


def _is_tensor(meta) -> bool:
    return meta is not None and hasattr(meta, "shape") and hasattr(meta, "dtype")


def _where(node) -> str:
    if node.op == "call_module":
        return str(node.target)
    path = _module_path(node, dotted=True)
    return f"{path} ({node.name})" if path else node.name


def _module_path(node, dotted: bool = False) -> str | None:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return None
    path = list(stack.values())[-1][0]
    return path if dotted else path.replace(".", "_")


def _identifier(text: str, prefix: str = "n") -> str | None:
    """A node id from a module path: 'layer1.0.conv1' → 'layer1_0_conv1'; a bare index in a
    Sequential ('0') gets the layer's prefix ('conv0')."""
    import re
    text = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_")
    if not text:
        return None
    if not re.match(r"[A-Za-z]", text):
        text = prefix + text
    return text[:56]


def _callable_name(node) -> str:
    """'.view' for a method, 'F.relu', 'torch.cat', 'operator.add' for functions."""
    if node.op == "call_method":
        return f".{node.target}"
    target = node.target
    name = getattr(target, "__name__", str(target))
    if getattr(nn.functional, name, None) is target:
        return f"F.{name}"
    if getattr(operator, name, None) is target:
        return f"operator.{name}"
    if getattr(torch, name, None) is target:
        return f"torch.{name}"
    return f"{getattr(target, '__module__', None) or ''}.{name}".lstrip(".")


def _without_defaults(spec, params: dict) -> dict:
    defaults = spec.defaults()
    return {k: v for k, v in params.items()
            if not (type(v) is type(defaults[k]) and v == defaults[k]) or k in spec.key_params}


# --- nn modules: read the settings the registry declares -----------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        values = [_plain(v) for v in value]
        return values[0] if len(values) == 2 and values[0] == values[1] else values
    return value


def _module_params(spec, module: nn.Module, input_shape: tuple) -> dict:
    """The registry parameters of ``spec`` read from the module's attributes of the same names
    (LayerLab's names are torch.nn's), after the checks for settings LayerLab lacks."""
    _refuse_unusual(module, input_shape)
    params = {}
    for p in spec.params:
        if p.name == "bias" and isinstance(p, BoolParam):
            params["bias"] = getattr(module, "bias", None) is not None
            continue
        if not hasattr(module, p.name):
            raise _Unmapped(f"{type(module).__name__} has no '{p.name}' setting")
        value = _plain(getattr(module, p.name))
        if p.name == "align_corners":
            value = bool(value)
        if p.name == "scale_factor":
            value = _single_scale(value)
        if p.name == "padding" and spec.type == "ZeroPad2d":
            value = list(getattr(module, "padding"))
        params[p.name] = value
    return params


def _single_scale(value) -> float:
    values = value if isinstance(value, list) else [value]
    if value is None or len(set(float(v) for v in values)) != 1:
        raise _Unmapped("an Upsample by a size or by different height and width factors; "
                        "LayerLab's Upsample scales both by one scale_factor")
    return float(values[0])


def _refuse_unusual(module: nn.Module, input_shape: tuple) -> None:
    checks: list[tuple[bool, str]] = [
        (getattr(module, "padding_mode", "zeros") != "zeros",
         f"padding_mode '{getattr(module, 'padding_mode', '')}' (LayerLab pads with zeros)"),
        (isinstance(module, BATCH_NORMS)
         and (module.momentum is None or not module.track_running_stats),
         "a BatchNorm without running statistics or with a cumulative average"),
        (getattr(module, "return_indices", False), "a pooling that also returns indices"),
        (getattr(module, "divisor_override", None) is not None,
         "an average pooling with divisor_override"),
        (isinstance(module, nn.Upsample) and module.size is not None,
         "an Upsample to a fixed size (LayerLab scales by scale_factor)"),
        (isinstance(module, nn.Flatten) and (module.start_dim, module.end_dim) != (1, -1),
         f"a Flatten of dimensions {getattr(module, 'start_dim', '?')} to "
         f"{getattr(module, 'end_dim', '?')} (LayerLab flattens everything but the batch)"),
        (isinstance(module, nn.Softmax)
         and (module.dim is None or module.dim % (len(input_shape) + 1) != 1),
         f"a Softmax over dimension {getattr(module, 'dim', '?')} (LayerLab's is over the "
         f"channels / features)"),
        (isinstance(module, nn.LayerNorm) and tuple(module.normalized_shape) !=
         (input_shape[-1],) or (isinstance(module, nn.LayerNorm) and len(input_shape) != 1),
         "a LayerNorm over other dimensions than the features of a vector (for a C×H×W map "
         "LayerLab's LayerNorm normalizes the channels: permute to N×H×W×C around it)"),
    ]
    for bad, what in checks:
        if bad:
            raise _Unmapped(what)


# --- functions and methods -------------------------------------------------------------------------

_FUNCTIONS: dict[str, Callable] = {}


def _functions(*names: str):
    def register(fn):
        for name in names:
            _FUNCTIONS[name] = fn
        return fn
    return register


def _arg(node, index: int, name: str, default: Any = None) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


_ACTIVATIONS = {"relu": "ReLU", "relu6": "ReLU6", "silu": "SiLU", "hardswish": "Hardswish",
                "hardsigmoid": "Hardsigmoid", "mish": "Mish", "sigmoid": "Sigmoid",
                "tanh": "Tanh", "selu": "SELU"}


@_functions(*[f"{prefix}{name}" for name in _ACTIVATIONS for prefix in ("F.", "torch.", ".")],
            *[f".{name}_" for name in _ACTIVATIONS], "F.relu_")
def _activation(t: _Translator, node) -> None:
    name = _callable_name(node).split(".")[-1].rstrip("_")
    t.add(node, _ACTIVATIONS[name], {}, [t.data(node.args[0])])


@_functions("F.leaky_relu", "F.elu", "F.gelu")
def _parametric_activation(t: _Translator, node) -> None:
    name = _callable_name(node)
    x = t.data(node.args[0])
    if name == "F.leaky_relu":
        t.add(node, "LeakyReLU", {"negative_slope": float(_arg(node, 1, "negative_slope",
                                                               0.01))}, [x])
    elif name == "F.elu":
        t.add(node, "ELU", {"alpha": float(_arg(node, 1, "alpha", 1.0))}, [x])
    else:
        t.add(node, "GELU", {"approximate": _arg(node, 1, "approximate", "none")}, [x])


@_functions("F.softmax", "torch.softmax", ".softmax")
def _softmax(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    dim = _arg(node, 1, "dim")
    rank = len(t.shapes[x]) + 1
    if dim is None or int(dim) % rank != 1:
        raise _Unmapped(f"a softmax over dimension {dim} (LayerLab's is over the channels / "
                        f"features)")
    t.add(node, "Softmax", {}, [x])


@_functions("operator.add", "operator.iadd", "torch.add", ".add", ".add_",
            "operator.mul", "operator.imul", "torch.mul", ".mul", ".mul_")
def _binary(t: _Translator, node) -> None:
    name = _callable_name(node)
    a, b = node.args[0], node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
    if isinstance(a, torch.fx.Node) and isinstance(b, torch.fx.Node):
        t.value(a), t.value(b)  # fed by something already reported: nothing to add
    if not (isinstance(a, torch.fx.Node) and isinstance(b, torch.fx.Node)) \
            or not all(isinstance(t.values.get(v.name), str) for v in (a, b)):
        what = "adds" if "add" in name else "multiplies by"
        raise _Unmapped(f"{what} a number or a tensor that does not come from the input; "
                        f"LayerLab's Add and Multiply combine two computed tensors")
    if "add" in name and node.kwargs.get("alpha", 1) != 1:
        raise _Unmapped("an add with alpha")
    sources = [t.data(a), t.data(b)]
    if sources[0] == sources[1]:
        raise _Unmapped("combines a tensor with itself")
    t.add(node, "Add" if "add" in name else "Multiply", {}, sources)


@_functions("torch.cat", "torch.concat", "torch.concatenate")
def _cat(t: _Translator, node) -> None:
    tensors = _arg(node, 0, "tensors")
    dim = _arg(node, 1, "dim", 0)
    sources = [t.data(v) for v in tensors]
    rank = len(t.shapes[sources[0]]) + 1
    if int(dim) % rank != 1:
        raise _Unmapped(f"a concatenation along dimension {dim} (LayerLab's Concat joins "
                        f"channels / features)")
    if len(sources) == 1:
        t.alias(node, sources[0])
        return
    t.add(node, "Concat", {}, sources)


@_functions(".contiguous", "torch.clone", ".clone", "F.dropout", "F.dropout2d", ".detach")
def _pass_through(t: _Translator, node) -> None:
    value = t.value(node.args[0])
    if value is None:
        raise _Unmapped("expects a tensor computed from the input")
    name = _callable_name(node)
    if name.startswith("F.dropout") and isinstance(value, str):
        p = float(_arg(node, 1, "p", 0.5))
        t.add(node, "Dropout2d" if name == "F.dropout2d" else "Dropout", {"p": p}, [value])
        return
    t.alias(node, value)


@_functions("torch.flatten", ".flatten")
def _flatten(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    start = _arg(node, 1, "start_dim", 0)
    end = _arg(node, 2, "end_dim", -1)
    if int(start) != 1 or int(end) != -1:
        raise _Unmapped(f"a flatten of dimensions {start} to {end} (LayerLab's Flatten keeps "
                        f"the batch apart and flattens the rest)")
    t.add(node, "Flatten", {}, [x])


@_functions(".view", ".reshape", "torch.reshape")
def _view(t: _Translator, node) -> None:
    value = t.value(node.args[0])
    out = t.out_shape(node)
    if isinstance(value, _Pending) and value.kind == "a transpose of channel groups":
        c, h, w = t.shapes[value.source]
        if out != (c, h, w):
            raise _Unmapped(f"a reshape to {format_shape(out)}")
        t.add(node, "ChannelShuffle", {"groups": value.info["groups"]}, [value.source])
        return
    x = t.data(node.args[0])
    shape = t.shapes[x]
    if out == shape:
        t.alias(node, x)
        return
    if out == (math.prod(shape),):
        t.add(node, "Flatten", {}, [x])
        return
    if len(shape) == 3 and len(out) == 4 and out[0] * out[1] == shape[0] \
            and out[2:] == shape[1:]:
        t.alias(node, _Pending("a reshape into channel groups", x, {"groups": out[0]}))
        return
    raise _Unmapped(f"a reshape of {format_shape(shape)} to {format_shape(out)}")


@_functions("torch.transpose", ".transpose")
def _transpose(t: _Translator, node) -> None:
    value = t.value(node.args[0])
    dims = sorted(int(d) for d in node.args[1:3])
    if isinstance(value, _Pending) and value.kind == "a reshape into channel groups" \
            and dims == [1, 2]:
        t.alias(node, _Pending("a transpose of channel groups", value.source, value.info))
        return
    raise _Unmapped(f"a transpose of dimensions {node.args[1]} and {node.args[2]}")


@_functions(".permute", "torch.permute")
def _permute(t: _Translator, node) -> None:
    order = node.args[1:] if len(node.args) > 2 else _arg(node, 1, "dims")
    order = [int(d) for d in (order if isinstance(order, (list, tuple)) else [order])]
    value = t.value(node.args[0])
    if order == [0, 2, 3, 1] and isinstance(value, str) and len(t.shapes[value]) == 3:
        t.alias(node, _Pending("a permute to N×H×W×C", value))
        return
    if order == [0, 3, 1, 2] and isinstance(value, _Pending) \
            and value.kind == "a LayerNorm in N×H×W×C order":
        module, ln_node = value.info["module"], value.info["node"]
        params = {"eps": float(module.eps), "elementwise_affine": module.elementwise_affine,
                  "bias": module.bias is not None}
        t.add(node, "LayerNorm", params, [value.source], module.state_dict(),
              base=ln_node.name)
        return
    raise _Unmapped(f"a permute to {order}")


@_functions(".mean", "torch.mean", ".amax", "torch.amax")
def _global_pool(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    dims = _arg(node, 1, "dim")
    keep = bool(_arg(node, 2, "keepdim", False))
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    if len(t.shapes[x]) != 3 or sorted(int(d) % 4 for d in dims) != [2, 3]:
        raise _Unmapped(f"a {node.target} over dimensions {dims} (LayerLab has it over height "
                        f"and width: global pooling)")
    kind = "AdaptiveMaxPool2d" if "amax" in _callable_name(node) else "AdaptiveAvgPool2d"
    if keep:
        t.add(node, kind, {"output_size": 1}, [x])
        return
    pooled = t.add(None, kind, {"output_size": 1}, [x], base=_base(node, kind))
    t.add(node, "Flatten", {}, [pooled])


def _base(node, type_name: str) -> str | None:
    path = _module_path(node)
    prefix = registry.get(type_name).id_prefix
    return f"{path}_{prefix}" if path else None


@_functions("F.adaptive_avg_pool2d", "F.adaptive_max_pool2d")
def _adaptive(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    size = _plain(_arg(node, 1, "output_size"))
    if size is None or (isinstance(size, list) and None in size):
        raise _Unmapped("an adaptive pooling that keeps a dimension (None)")
    kind = "AdaptiveAvgPool2d" if "avg" in _callable_name(node) else "AdaptiveMaxPool2d"
    t.add(node, kind, {"output_size": size}, [x])


@_functions("F.max_pool2d", "F.avg_pool2d")
def _pool(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    kernel = _plain(_arg(node, 1, "kernel_size"))
    stride = _plain(_arg(node, 2, "stride")) or None
    padding = _plain(_arg(node, 3, "padding", 0))
    if _callable_name(node) == "F.max_pool2d":
        params = {"kernel_size": kernel, "stride": stride, "padding": padding,
                  "dilation": _plain(_arg(node, 4, "dilation", 1)),
                  "ceil_mode": bool(_arg(node, 5, "ceil_mode", False))}
        if _arg(node, 6, "return_indices", False):
            raise _Unmapped("a max pooling that also returns indices")
        t.add(node, "MaxPool2d", params, [x])
        return
    if _arg(node, 6, "divisor_override") is not None:
        raise _Unmapped("an average pooling with divisor_override")
    t.add(node, "AvgPool2d", {"kernel_size": kernel, "stride": stride, "padding": padding,
                              "ceil_mode": bool(_arg(node, 4, "ceil_mode", False)),
                              "count_include_pad": bool(_arg(node, 5, "count_include_pad",
                                                             True))}, [x])


@_functions("F.interpolate")
def _interpolate(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    if _arg(node, 1, "size") is not None:
        raise _Unmapped("an interpolation to a fixed size (LayerLab's Upsample scales by "
                        "scale_factor)")
    mode = _arg(node, 3, "mode", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise _Unmapped(f"a {mode} interpolation (LayerLab's Upsample is nearest or bilinear)")
    t.add(node, "Upsample", {"scale_factor": _single_scale(_plain(_arg(node, 2, "scale_factor"))),
                             "mode": mode, "align_corners": bool(_arg(node, 4, "align_corners",
                                                                      False))}, [x])


@_functions("F.pad")
def _pad(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    pads = [int(v) for v in _arg(node, 1, "pad")]
    if _arg(node, 2, "mode", "constant") != "constant" or float(_arg(node, 3, "value", 0.0)
                                                                  or 0.0) != 0.0:
        raise _Unmapped("a padding with something else than zeros")
    if len(pads) == 2:
        pads += [0, 0]
    if len(pads) != 4 or min(pads) < 0:
        raise _Unmapped(f"a padding {pads} (LayerLab's ZeroPad2d adds [left, right, top, "
                        f"bottom] zeros to height and width)")
    t.add(node, "ZeroPad2d", {"padding": pads}, [x])


@_functions(".chunk", "torch.chunk", ".split", "torch.split")
def _split(t: _Translator, node) -> None:
    x = t.data(node.args[0])
    name = _callable_name(node)
    dim = _arg(node, 2, "dim", 0)
    size = t.shapes[x][0]
    if int(dim) % (len(t.shapes[x]) + 1) != 1:
        raise _Unmapped(f"a split along dimension {dim} (LayerLab's Narrow takes channels)")
    if name.endswith("chunk"):
        parts = int(_arg(node, 1, "chunks"))
        step = -(-size // parts)
        sizes = [min(step, size - i) for i in range(0, size, step)]
    else:
        given = _arg(node, 1, "split_size_or_sections")
        sizes = ([min(int(given), size - i) for i in range(0, size, int(given))]
                 if isinstance(given, int) else [int(v) for v in given])
    t.alias(node, _Parts(x, sizes))


@_functions("operator.getitem")
def _getitem(t: _Translator, node) -> None:
    container, index = node.args
    value = t.value(container)
    if isinstance(value, _Parts):
        i = int(index) % len(value.sizes)
        start = sum(value.sizes[:i])
        t.add(node, "Narrow", {"start": start, "length": value.sizes[i]}, [value.source])
        return
    if isinstance(value, str):  # x[:, a:b] on channels
        t.add(node, "Narrow", _channel_slice(index, t.shapes[value]), [value])
        return
    if value is None:
        return  # x.size()[0] and other Python numbers
    raise _Unmapped("an index into a tensor LayerLab cannot take apart")


def _channel_slice(index, shape: tuple) -> dict:
    parts = index if isinstance(index, tuple) else (index,)
    if len(parts) != 2 or parts[0] != slice(None) or not isinstance(parts[1], slice) \
            or parts[1].step not in (None, 1):
        raise _Unmapped(f"an index {index!r} (LayerLab's Narrow takes x[:, a:b])")
    start, stop, _ = parts[1].indices(shape[0])
    if stop <= start:
        raise _Unmapped(f"an index {index!r} that keeps no channel")
    return {"start": start, "length": stop - start}
