"""Check kinds about the open document: its layers, wiring, shapes, counts and settings."""
from __future__ import annotations

import json
from typing import Any

from .. import registry
from ..params import Param, ParamError, ShapeParam, pair
from ..registry import format_shape
from ..params import ChoiceParam, IntParam
from .checks import (CheckContext, CheckKind, CheckResult, bound_params, bound_words, compare,
                     judged, need_a_bound, register_check)
from .fields import REQUIRED, ListParam, NodeIdParam, TextParam, ValueParam, article

SECTIONS = ("training", "dataset")
#: What an absent key of the dataset section means (engine/data/spec.py's defaults), so
#: "normalize is standardize" holds for a section that leaves it out.
DATASET_DEFAULTS = {"kind": "digits", "normalize": "standardize", "val_fraction": 0.2,
                    "seed": 0}


class LayerTypeParam(TextParam):
    def check(self, value: Any) -> Any:
        if not isinstance(value, str) or registry.find(value) is None:
            known = ", ".join(s.type for s in registry.all_specs())
            raise ParamError(f"{self.name} must be a layer type (one of {known}); got "
                             f"{value!r}")
        return value

    def describe(self) -> str:
        return "layer type"


class LayerParamsParam(Param):
    """Layer parameters; checked against the layer type by the kind's ``validate``."""

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict) or not value:
            raise ParamError(f"{self.name} must be an object of layer parameters, like "
                             f"{{\"out_channels\": 6}}")
        return dict(value)

    def describe(self) -> str:
        return "object of layer parameters"


def _type_params_problems(args: dict) -> list[str]:
    """The wanted params must be parameters of the wanted type, with valid values."""
    if not args.get("params"):
        return []
    if not args.get("type"):
        return ["params needs a type, so that they can be checked"]
    return registry.get(args["type"]).check_params(args["params"])


# --- shared helpers ------------------------------------------------------------------------

def _resolved(ctx: CheckContext, node_id: str) -> dict | None:
    info = ctx.analysis.nodes.get(node_id)
    if info is not None and info.resolved is not None:
        return info.resolved
    node = ctx.project.graph.nodes[node_id]
    spec = registry.find(node.type)
    try:
        return spec.resolve(node.params) if spec else None
    except ParamError:
        return None


def same_value(spec, name: str, have: Any, want: Any) -> bool:
    """Two values of one layer parameter mean the same (5 and [5, 5] for a kernel size)."""
    param = spec.param(name)
    if param is not None and param.kind in ("pair", "padding"):
        try:
            return (have == want if isinstance(have, str) or isinstance(want, str)
                    else pair(have) == pair(want))
        except (TypeError, ValueError, IndexError):
            return False
    return have == want


def _show(spec, name: str, value: Any) -> str:
    param = spec.param(name)
    if param is not None and param.kind in ("pair", "padding") and not isinstance(value, str) \
            and value is not None:
        h, w = pair(value)
        return f"{h}×{w}" if name == "kernel_size" else (str(h) if h == w else f"{h}×{w}")
    return json.dumps(value) if isinstance(value, str) else str(value)


def params_words(type_name: str, params: dict) -> str:
    """"6 filters of 5×5", "1 output", "p = 0.5": what a learner would say."""
    spec = registry.get(type_name)
    words, rest = [], dict(params)
    if "out_channels" in rest:
        n = rest.pop("out_channels")
        words.append(f"{n} filter{'s' if n != 1 else ''}"
                     + (f" of {_show(spec, 'kernel_size', rest.pop('kernel_size'))}"
                        if "kernel_size" in rest else ""))
    if "out_features" in rest:
        n = rest.pop("out_features")
        words.append(f"{n} output{'s' if n != 1 else ''}")
    words += [f"{k} {_show(spec, k, v)}" for k, v in rest.items()]
    return ", ".join(words)


def _mismatches(ctx: CheckContext, node_id: str, want: dict) -> list[str]:
    node = ctx.project.graph.nodes[node_id]
    spec = registry.get(node.type)
    have = _resolved(ctx, node_id)
    if have is None:
        return ["its parameters have an error"]
    return [f"{name} {_show(spec, name, have.get(name))} (wanted {_show(spec, name, value)})"
            for name, value in want.items() if not same_value(spec, name, have.get(name), value)]


# --- layer ---------------------------------------------------------------------------------

def _layer(args: dict, ctx: CheckContext) -> CheckResult:
    type_name, want, count = args["type"], args["params"] or {}, args["count"]
    nodes = [n for n in ctx.project.graph.nodes.values() if n.type == type_name]
    matching = [n.id for n in nodes if not _mismatches(ctx, n.id, want)]
    if len(matching) >= count:
        what = f" with {params_words(type_name, want)}" if want else ""
        return CheckResult(True, f"{', '.join(matching[:count])}: {article(type_name)}{what}")
    if not nodes:
        return CheckResult(False, f"there is no {type_name} yet — add {article(type_name)}"
                                  + (f" with {params_words(type_name, want)}" if want else ""))
    if want and len(matching) < len(nodes):
        near = next(n.id for n in nodes if n.id not in matching)
        wrong = "; ".join(_mismatches(ctx, near, want))
        return CheckResult(False, f"{near} is {article(type_name)} but has {wrong}")
    return CheckResult(False, f"the network has {len(matching)} such {type_name}; "
                              f"{count} are needed")


def _layer_goal(args: dict) -> str:
    type_name, want, count = args["type"], args["params"] or {}, args["count"]
    what = f"{count} {type_name} layers" if count > 1 else article(type_name)
    return f"the network has {what}" + (f" with {params_words(type_name, want)}" if want else "")


register_check(CheckKind(
    "layer", "The network has a layer of a type (optionally with these parameter values; "
             "optionally at least `count` of them).",
    (LayerTypeParam("type", REQUIRED, "the layer type, e.g. Conv2d"),
     LayerParamsParam("params", None, "parameter values it must have (others are free)"),
     IntParam("count", 1, "how many such layers at least", minimum=1, maximum=1000)),
    _layer, _layer_goal, validate=_type_params_problems,
    example={"kind": "layer", "type": "Conv2d",
             "params": {"out_channels": 6, "kernel_size": 5}}))


# --- node ----------------------------------------------------------------------------------

def _node(args: dict, ctx: CheckContext) -> CheckResult:
    node_id, type_name, want = args["node"], args["type"], args["params"] or {}
    node = ctx.project.graph.nodes.get(node_id)
    if node is None:
        return CheckResult(False, f"there is no node called {node_id}"
                                  + (f" — add {article(type_name)} and name it {node_id}"
                                     if type_name else ""))
    if type_name and node.type != type_name:
        return CheckResult(False, f"{node_id} is {article(node.type)}, not {article(type_name)}")
    if want and node.type == (type_name or node.type):
        wrong = _mismatches(ctx, node_id, want) if registry.find(node.type) else ["?"]
        if wrong:
            return CheckResult(False, f"{node_id} has {'; '.join(wrong)}")
    return CheckResult(True, _node_goal(args))


def _node_goal(args: dict) -> str:
    node_id, type_name, want = args["node"], args["type"], args["params"] or {}
    text = f"{node_id} is {article(type_name)}" if type_name else f"there is a node {node_id}"
    return text + (f" with {params_words(type_name, want)}" if want and type_name else
                   (f" with {json.dumps(want)}" if want else ""))


def _node_problems(args: dict) -> list[str]:
    if args.get("params") and not args.get("type"):
        return ["params needs a type, so that they can be checked"]
    return _type_params_problems(args)


register_check(CheckKind(
    "node", "A node with this id exists (optionally of a type, with these parameter values).",
    (NodeIdParam("node", REQUIRED, "the node id, e.g. conv1"),
     LayerTypeParam("type", None, "the layer type it must be"),
     LayerParamsParam("params", None, "parameter values it must have")),
    _node, _node_goal, validate=_node_problems,
    example={"kind": "node", "node": "conv1", "type": "Conv2d", "params": {"kernel_size": 5}}))


# --- layer_count ---------------------------------------------------------------------------

def _layer_count(args: dict, ctx: CheckContext) -> CheckResult:
    n = sum(1 for node in ctx.project.graph.nodes.values() if node.type == args["type"])
    return judged(n, args, f"the network has {n} {args['type']} layer{'s' if n != 1 else ''}",
                  lambda v: f"{v:g}")


register_check(CheckKind(
    "layer_count", "How many layers of a type the network has (0 with at_most: none left).",
    (LayerTypeParam("type", REQUIRED, "the layer type"), *bound_params("layers")),
    _layer_count,
    lambda a: f"the network has {bound_words(a, lambda v: f'{v:g}')} {a['type']} layers",
    validate=need_a_bound, example={"kind": "layer_count", "type": "Tanh", "at_most": 0}))


# --- output_shape --------------------------------------------------------------------------

def _node_or_output(args: dict, ctx: CheckContext) -> tuple[str | None, str | None]:
    """(node id, None) or (None, why there is none)."""
    node_id = args.get("node")
    if node_id is None:
        if ctx.analysis.output_node is None:
            return None, "the network has no single output yet — wire it into one chain"
        return ctx.analysis.output_node, None
    if node_id not in ctx.project.graph.nodes:
        return None, f"there is no node called {node_id}"
    return node_id, None


def _output_shape(args: dict, ctx: CheckContext) -> CheckResult:
    node_id, why = _node_or_output(args, ctx)
    if node_id is None:
        return CheckResult(False, why)
    info = ctx.analysis.nodes[node_id]
    want = tuple(args["shape"])
    if info.status != "ok":
        cause = info.error or "a layer before it has an error"
        return CheckResult(False, f"{node_id}'s output shape is unknown: {cause}")
    if tuple(info.output_shape) == want:
        return CheckResult(True, f"{node_id}'s output is {format_shape(want)}")
    return CheckResult(False, f"{node_id}'s output is {format_shape(info.output_shape)}; "
                              f"this step wants {format_shape(want)}")


def _shape_goal(args: dict) -> str:
    who = f"{args['node']}'s output" if args.get("node") else "the network's output"
    return f"{who} is {format_shape(tuple(args['shape']))}"


class OutputShapeParam(ShapeParam):
    """Any per-sample shape of 1 to 4 dimensions (a node's output, not only an Input's)."""

    def check(self, value: Any) -> Any:
        if (not isinstance(value, list) or not 1 <= len(value) <= 4
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                           for v in value)):
            raise ParamError(f"{self.name} must be a list of 1 to 4 whole numbers ≥ 1, like "
                             f"[6, 28, 28] (got {value!r})")
        return list(value)

    def describe(self) -> str:
        return "list of 1 to 4 whole numbers"


register_check(CheckKind(
    "output_shape", "A node's output shape (channels first, like the canvas shows it); "
                    "without a node, the network's output.",
    (OutputShapeParam("shape", REQUIRED, "the shape, e.g. [6, 28, 28] or [245]"),
     NodeIdParam("node", None, "the node (default: the network's output)")),
    _output_shape, _shape_goal,
    example={"kind": "output_shape", "node": "conv1", "shape": [6, 28, 28]}))


# --- params --------------------------------------------------------------------------------

def _params(args: dict, ctx: CheckContext) -> CheckResult:
    node_id = args.get("node")
    if node_id is None:
        if ctx.analysis.problems:
            return CheckResult(False, f"the total is not known while the network has an "
                                      f"error: {ctx.analysis.problems[0].message}")
        n, who = ctx.analysis.total_params, "the network"
    else:
        if node_id not in ctx.project.graph.nodes:
            return CheckResult(False, f"there is no node called {node_id}")
        info = ctx.analysis.nodes[node_id]
        if info.status != "ok":
            return CheckResult(False, f"{node_id}'s parameter count is unknown: "
                                      f"{info.error or 'a layer before it has an error'}")
        n, who = info.params, node_id
    return judged(n, args, f"{who} has {n:,} parameters", lambda v: f"{v:,.0f}")


register_check(CheckKind(
    "params", "The trainable parameter count of a node, or of the whole network.",
    (NodeIdParam("node", None, "the node (default: the whole network)"),
     *bound_params("parameters")),
    _params,
    lambda a: f"{a['node'] if a.get('node') else 'the network'} has "
              f"{bound_words(a, lambda v: f'{v:,.0f}')} parameters",
    validate=need_a_bound, example={"kind": "params", "node": "conv1", "equals": 1792}))


# --- valid ---------------------------------------------------------------------------------

def _valid(args: dict, ctx: CheckContext) -> CheckResult:
    if ctx.analysis.problems:
        return CheckResult(False, ctx.analysis.problems[0].message)
    return CheckResult(True, "every shape fits: the network has no errors")


register_check(CheckKind(
    "valid", "The network has no errors: one input, one output, every shape fits.",
    (), _valid, lambda a: "the network has no errors", example={"kind": "valid"}))


# --- sequence ------------------------------------------------------------------------------

def _chains(ctx: CheckContext, types: list[str]) -> list[list[str]]:
    graph = ctx.project.graph
    following: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        following[e.source].append(e.target)
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        if len(path) == len(types):
            found.append(path)
            return
        for nxt in following[path[-1]]:
            if graph.nodes[nxt].type == types[len(path)] and nxt not in path:
                walk(path + [nxt])

    for node in graph.nodes.values():
        if node.type == types[0]:
            walk([node.id])
    return found


def _sequence(args: dict, ctx: CheckContext) -> CheckResult:
    types = args["types"]
    chains = _chains(ctx, types)
    if chains:
        return CheckResult(True, " → ".join(chains[0]))
    longest = 0
    for k in range(len(types) - 1, 0, -1):
        if _chains(ctx, types[:k]):
            longest = k
            break
    if longest:
        return CheckResult(False, f"{' → '.join(types[:longest])} is there, but no "
                                  f"{types[longest]} follows it directly yet")
    return CheckResult(False, f"there is no {types[0]} yet")


register_check(CheckKind(
    "sequence", "Layers of these types follow each other directly, wired in this order.",
    (ListParam("types", REQUIRED, "layer types in order, e.g. [\"Conv2d\", \"ReLU\"]",
               item=LayerTypeParam("types", REQUIRED, ""), min_items=2),),
    _sequence, lambda a: "the network has " + " → ".join(a["types"]),
    example={"kind": "sequence", "types": ["Conv2d", "ReLU", "MaxPool2d"]}))


# --- feeds ---------------------------------------------------------------------------------

def _feeds(args: dict, ctx: CheckContext) -> CheckResult:
    source, target = args["source"], args["target"]
    for node_id in (source, target):
        if node_id not in ctx.project.graph.nodes:
            return CheckResult(False, f"there is no node called {node_id}")
    if any(e.source == source and e.target == target for e in ctx.project.graph.edges):
        return CheckResult(True, f"{source} feeds {target}")
    return CheckResult(False, f"{source} does not feed {target} yet — draw a wire from "
                              f"{source}'s output to {target}")


register_check(CheckKind(
    "feeds", "A wire runs directly from one node to another.",
    (NodeIdParam("source", REQUIRED, "where the wire starts"),
     NodeIdParam("target", REQUIRED, "where it ends")),
    _feeds, lambda a: f"{a['source']} feeds {a['target']}",
    example={"kind": "feeds", "source": "flatten", "target": "fc1"}))


# --- output_layer --------------------------------------------------------------------------

def _output_layer(args: dict, ctx: CheckContext) -> CheckResult:
    node_id, why = _node_or_output(args, ctx)
    if node_id is None:
        return CheckResult(False, why)
    have = ctx.project.graph.nodes[node_id].type
    if have == args["type"]:
        return CheckResult(True, f"the network ends in {node_id}, {article(have)}")
    return CheckResult(False, f"the network ends in {node_id}, {article(have)}; end it with "
                              f"{article(args['type'])}")


register_check(CheckKind(
    "output_layer", "The network's last layer is of this type.",
    (LayerTypeParam("type", REQUIRED, "the layer type, e.g. Softmax"),),
    _output_layer, lambda a: f"the network ends in {article(a['type'])}",
    example={"kind": "output_layer", "type": "Sigmoid"}))


# --- setting -------------------------------------------------------------------------------

def _setting_value(section: str, key: str, project) -> tuple[Any, str | None]:
    values = getattr(project, section) or {}
    if section == "training":
        from ..training.config import check_training, parse_training
        if check_training(values):
            return None, f"the training settings have an error: {check_training(values)[0]}"
        resolved = parse_training(values).to_dict()
        schedule = resolved.get("schedule", {})
        resolved["schedule"] = schedule.get("kind") if isinstance(schedule, dict) else schedule
        return resolved.get(key, values.get(key)), None
    return values.get(key, DATASET_DEFAULTS.get(key)), None


def _setting(args: dict, ctx: CheckContext) -> CheckResult:
    section, key = args["section"], args["key"]
    value, error = _setting_value(section, key, ctx.project)
    if error:
        return CheckResult(False, error)
    name = f"{section}.{key}"
    shown = json.dumps(value)
    if args.get("one_of") is not None:
        ok = value in args["one_of"]
        want = "one of " + ", ".join(json.dumps(v) for v in args["one_of"])
    elif args.get("value") is not None:
        want_value = args["value"]   # true is not 1, and 1 is not true
        ok = value == want_value and isinstance(value, bool) == isinstance(want_value, bool)
        want = json.dumps(args["value"])
    else:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = number and compare(float(value), args)
        want = bound_words(args)
    if ok:
        return CheckResult(True, f"{name} is {shown}")
    return CheckResult(False, f"{name} is {shown}; this step wants {want}")


def _setting_goal(args: dict) -> str:
    name = f"{args['section']}.{args['key']}"
    if args.get("one_of") is not None:
        return f"{name} is one of " + ", ".join(json.dumps(v) for v in args["one_of"])
    if args.get("value") is not None:
        return f"{name} is {json.dumps(args['value'])}"
    return f"{name} is {bound_words(args)}"


def _setting_problems(args: dict) -> list[str]:
    given = [k for k in ("value", "one_of") if args.get(k) is not None]
    bounds = [k for k in ("equals", "at_least", "at_most", "above", "below")
              if args.get(k) is not None]
    if not given and not bounds:
        return ["give value, one_of, or a bound (at_least, at_most, …)"]
    if given and bounds or len(given) > 1:
        return ["give only one of value, one_of, or bounds"]
    return []


register_check(CheckKind(
    "setting", "A key of the project's training or dataset section (training keys read with "
               "their defaults, e.g. an absent optimizer is adam).",
    (ChoiceParam("section", REQUIRED, "training or dataset", choices=SECTIONS),
     TextParam("key", REQUIRED, "the key, e.g. lr"),
     ValueParam("value", None, "exactly this value"),
     ListParam("one_of", None, "any of these values", item=ValueParam("one_of", None, "")),
     *bound_params()),
    _setting, _setting_goal, validate=_setting_problems,
    example={"kind": "setting", "section": "training", "key": "lr", "at_least": 1.0}))
