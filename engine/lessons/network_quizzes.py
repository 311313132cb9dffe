"""Quiz kinds about the step's network: a node's output shape, a parameter count, the batches
of an epoch. Their answers come from ``engine.analyze``; the reveal is the layer's own worked
arithmetic (``LayerSpec.arithmetic``, the lines the inspector shows)."""
from __future__ import annotations

import math

from .. import registry
from ..graph import Project
from ..inference import Analysis
from ..params import IntParam
from ..registry import format_shape
from .fields import REQUIRED, NodeIdParam, article
from .quizzes import QuizKind, Solution, num, register_quiz


def _node_problems(args: dict, project: Project, analysis: Analysis) -> list[str]:
    node_id = args.get("node")
    if node_id is None:
        return [] if not analysis.problems else [
            f"the step's project has an error: {analysis.problems[0].message}"]
    if node_id not in project.graph.nodes:
        return [f"the step's project has no node called {node_id}"]
    info = analysis.nodes[node_id]
    if info.status != "ok":
        return [f"{node_id} has no shape in the step's project: {info.error or 'an error above'}"]
    return []


def _arith(node_id: str, analysis: Analysis) -> list[str]:
    info = analysis.nodes[node_id]
    spec = registry.get(info.type)
    if spec.arithmetic is None or info.status != "ok":
        return []
    return list(spec.arithmetic(info.resolved, info.input_shapes, info.output_shape))


# --- output_shape --------------------------------------------------------------------------

def _shape_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    node_id = args["node"]
    info = analysis.nodes[node_id]
    lines = [f"{node_id} ({info.type}) receives "
             + (", ".join(format_shape(s) for s in info.input_shapes) or "nothing")]
    lines += [line for line in _arith(node_id, analysis)
              if not line.startswith(("parameters", "multiply-adds"))]
    if info.type == "Input":
        lines.append("an Input's output is the shape set on it")
    if info.type == "Conv2d":
        lines.append(f"channels = out_channels = {info.output_shape[0]} (one per filter)")
    shape = format_shape(info.output_shape)
    lines.append(f"so {node_id}'s output is {shape}")
    return Solution(tuple(info.output_shape), shape, tuple(lines))


def _shape_prompt(args: dict, project: Project, analysis: Analysis) -> str:
    info = analysis.nodes[args["node"]]
    given = ", ".join(format_shape(s) for s in info.input_shapes)
    return (f"{args['node']} is {article(info.type)} that receives {given}. What shape does it "
            f"output?")


register_quiz(QuizKind(
    "output_shape", "The output shape of a node of the step's project (computed by the shape "
                    "inference; the reveal shows the layer's worked arithmetic).",
    (NodeIdParam("node", REQUIRED, "the node to ask about"),), "shape",
    _shape_solve, _shape_prompt, _node_problems,
    example={"kind": "output_shape", "node": "conv1"}, answer_on_canvas=True))


# --- param_count ---------------------------------------------------------------------------

def _params_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    node_id = args.get("node")
    if node_id is not None:
        info = analysis.nodes[node_id]
        lines = [line for line in _arith(node_id, analysis) if line.startswith("parameters")]
        if not lines:
            lines = [f"{node_id} ({info.type}) has {num(info.params)} parameters"]
        return Solution(info.params, num(info.params), tuple(lines))
    counted = [(n, analysis.nodes[n].params) for n in analysis.order
               if analysis.nodes[n].params]
    lines = [f"{n}: {num(p)}" for n, p in counted]
    total = analysis.total_params
    lines.append("total = " + " + ".join(num(p) for _, p in counted) + f" = {num(total)}"
                 if len(counted) > 1 else f"total = {num(total)}")
    lines.append("(activations, pooling, Flatten and Dropout learn nothing: 0 each)")
    return Solution(total, num(total), tuple(lines))


def _params_prompt(args: dict, project: Project, analysis: Analysis) -> str:
    if args.get("node") is None:
        return "How many trainable parameters does the whole network have?"
    info = analysis.nodes[args["node"]]
    return f"How many trainable parameters does {args['node']} ({info.type}) have?"


register_quiz(QuizKind(
    "param_count", "The trainable parameter count of a node of the step's project, or of the "
                   "whole network.",
    (NodeIdParam("node", None, "the node (default: the whole network)"),), "number",
    _params_solve, _params_prompt, _node_problems,
    example={"kind": "param_count", "node": "conv1"}, answer_on_canvas=True))


# --- batches_per_epoch ---------------------------------------------------------------------

def _batches_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    n = args["samples"]
    b = args.get("batch_size") or _batch_size(project)
    steps = math.ceil(n / b)
    lines = [f"one epoch shows every training sample once, {b} at a time",
             f"batches = ⌈{n:,} / {b}⌉ = ⌈{num(n / b, 4)}⌉ = {steps:,}"
             + (" (the last batch is smaller)" if n % b else ""),
             f"each batch is one forward pass, one backward pass and one weight update, so "
             f"an epoch is {steps:,} updates"]
    return Solution(steps, f"{steps:,}", tuple(lines))


def _batch_size(project: Project) -> int:
    from ..training.config import check_training, parse_training
    section = project.training or {}
    return parse_training(section).batch_size if not check_training(section) else 32


register_quiz(QuizKind(
    "batches_per_epoch", "How many batches (weight updates) one epoch takes: ⌈samples / "
                         "batch size⌉; the batch size defaults to the step's project's.",
    (IntParam("samples", REQUIRED, "training samples", minimum=1, maximum=10_000_000),
     IntParam("batch_size", None, "batch size (default: the project's training.batch_size)",
              minimum=1, maximum=65_536)),
    "number", _batches_solve,
    lambda a, p, an: (f"The training split has {a['samples']:,} samples and the batch size is "
                      f"{a.get('batch_size') or _batch_size(p)}. How many batches make one "
                      f"epoch?"),
    example={"kind": "batches_per_epoch", "samples": 1438}))
