"""From graph + dataset + config to the pieces a training loop needs, with the checks that
turn mismatches into messages saying the fix.

Kept apart from the Trainer so another loop (a DDP entry point, a notebook) can build the same
model, objective and optimizer and call loop.train_step itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..builder import GraphError, GraphModule, build_model
from ..graph import Graph
from ..inference import Analysis, analyze
from ..registry import format_shape
from .config import TrainingConfig, resolve_loss
from .errors import (ConfigProblem, DataMismatchError, MemoryLimitError, ModelError,
                     TrainingConfigError)
from .losses import Objective, make_objective
from .optim import l1_parameters, make_optimizer

__all__ = ["TrainingParts", "prepare", "check_model", "check_memory", "logits_view",
           "DEAD_RELU_TYPES", "SAME_VALUE_TYPES"]

#: Activations whose output is exactly 0 on a whole half-line: their units can "die".
DEAD_RELU_TYPES = ("ReLU", "ReLU6")
#: Nodes whose output repeats values already shown (in eval mode): no activation histogram.
SAME_VALUE_TYPES = ("Input", "Flatten", "Dropout")
#: Layers that keep the width of their input: walking back through them finds who sets it.
_SAME_WIDTH = {"ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "GELU", "Sigmoid", "Tanh", "Softmax",
               "Dropout", "BatchNorm1d", "BatchNorm2d"}


@dataclass
class TrainingParts:
    model: GraphModule          # the whole graph: what is saved, exported, looked inside
    train_model: nn.Module      # what the loss sees: the model, or its logits view
    objective: Objective
    optimizer: torch.optim.Optimizer
    l1_params: list[nn.Parameter]
    analysis: Analysis
    loss_node: str              # node whose output the loss reads
    stripped: str | None        # final Softmax/Sigmoid the loss bypasses, if any
    conv_ids: list[str] = field(default_factory=list)
    relu_ids: list[str] = field(default_factory=list)
    #: Nodes whose outputs get activation histograms (all but SAME_VALUE_TYPES).
    histogram_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _classes_text(n: int) -> str:
    return f"{n} class{'es' if n != 1 else ''}"


def _width_setter(graph: Graph, node_id: str) -> str:
    """Walk back through activations/dropout/normalization to the layer that sets the width."""
    seen = set()
    while graph.nodes[node_id].type in _SAME_WIDTH and node_id not in seen:
        seen.add(node_id)
        incoming = graph.incoming(node_id)
        if len(incoming) != 1:
            break
        node_id = incoming[0].source
    return node_id


def check_model(graph: Graph, dataset, loss: str, analysis: Analysis | None = None
                ) -> tuple[Analysis, str, str | None, list[str]]:
    """Raise ModelError / DataMismatchError / TrainingConfigError when this graph cannot train
    on this dataset with this (resolved) loss. Returns (analysis, loss node, stripped node,
    notes)."""
    from ..data import check_fits

    analysis = analysis or analyze(graph)
    if not analysis.ok:
        lines = "\n".join(f"  - {m}" for m in analysis.messages())
        raise ModelError(f"the graph cannot be trained until these are fixed:\n{lines}",
                         analysis.messages())
    task = dataset.task
    if loss in ("cross_entropy", "bce_with_logits") and task != "classification":
        raise TrainingConfigError([ConfigProblem(
            "training.loss", f"{loss} needs a classification dataset, but '{dataset.name}' is a "
                             f"regression dataset — use mse or l1 (or auto)")])
    input_shape = analysis.nodes[analysis.input_node].output_shape
    misfit = check_fits(dataset, input_shape)
    if misfit:
        raise DataMismatchError(misfit)

    notes: list[str] = []
    out_id = analysis.output_node
    out_type = graph.nodes[out_id].type
    loss_node, stripped = out_id, None
    if out_type == "Softmax" and loss == "cross_entropy":
        # Cross-entropy applies log-softmax itself; feeding it probabilities would apply
        # softmax twice. Train on the scores before the Softmax; the model keeps it for use.
        stripped, loss_node = out_id, graph.incoming(out_id)[0].source
        notes.append(f"the model ends in Softmax ({out_id}): cross_entropy is computed from "
                     f"the scores before it ({loss_node}), which is the same as log-softmax + "
                     f"NLL and numerically stable")
    elif out_type == "Sigmoid" and loss == "bce_with_logits":
        stripped, loss_node = out_id, graph.incoming(out_id)[0].source
        notes.append(f"the model ends in Sigmoid ({out_id}): bce_with_logits is computed from "
                     f"the scores before it ({loss_node})")
    elif out_type == "Softmax" and loss == "bce_with_logits":
        raise ModelError(f"the model ends in Softmax ({out_id}), but bce_with_logits needs raw "
                         f"scores (it applies a sigmoid to each) — use cross_entropy, or end "
                         f"the model with the Linear layer")
    elif out_type in ("Softmax", "Sigmoid") and loss in ("mse", "l1") and task == "classification":
        notes.append(f"{loss} compares the {out_type} outputs ({out_id}) with one-hot targets")
    elif out_type == "Sigmoid" and loss == "cross_entropy":
        notes.append(f"the model ends in Sigmoid ({out_id}): cross_entropy treats its 0..1 "
                     f"outputs as scores, which learns slowly — remove the Sigmoid")

    shape = analysis.nodes[loss_node].output_shape
    want = dataset.num_classes if task == "classification" else len(dataset.target_names)
    what = (_classes_text(want) if task == "classification" else
            f"{want} target{'s' if want != 1 else ''} ({', '.join(dataset.target_names)})")
    if len(shape) != 1:
        raise ModelError(
            f"the model's output ({loss_node}) is {format_shape(shape)} per sample, but the "
            f"dataset has {what}: end the model with Flatten and a Linear layer with "
            f"out_features = {want}")
    width = shape[0]
    binary_ok = loss == "bce_with_logits" and want == 2 and width == 1
    if width != want and not binary_ok:
        setter = _width_setter(graph, loss_node)
        if graph.nodes[setter].type == "Linear":
            fix = f"set out_features to {want}"
        else:
            fix = f"end the model with a Linear layer with out_features = {want}"
        raise ModelError(f"{setter} gives {width} output{'s' if width != 1 else ''} but the "
                         f"dataset has {what} — {fix}")
    return analysis, loss_node, stripped, notes


def check_memory(analysis: Analysis, config: TrainingConfig, device: torch.device) -> None:
    """Raise MemoryLimitError, before anything is allocated, when training this graph needs
    more memory than ``device`` has free (engine/memory.py)."""
    from ..memory import memory_problem, training_estimate
    estimate = training_estimate(analysis, config.batch_size, config.optimizer,
                                 config.momentum, half_activations=bool(config.mixed_precision))
    problem = memory_problem(estimate, device, "train")
    if problem:
        raise MemoryLimitError(problem)


def logits_view(model: GraphModule, stripped: str, loss_node: str) -> GraphModule:
    """The same layers (shared parameters) without the final node: returns its input."""
    order = [n for n in model.order if n != stripped]
    layers = {n: model.layers[n] for n in order}
    sources = {n: model.sources[n] for n in order}
    return GraphModule(layers, order, sources, model.input_id, loss_node)


def prepare(graph: Graph, dataset, config: TrainingConfig, device: torch.device,
            model: GraphModule | None = None) -> TrainingParts:
    """Check, build (seeded by config.seed unless ``model`` is given), move to ``device``,
    and make the objective and optimizer."""
    loss = resolve_loss(config.loss, dataset.task)
    analysis, loss_node, stripped, notes = check_model(graph, dataset, loss)
    if model is None:
        check_memory(analysis, config, device)
        torch.manual_seed(config.seed)  # the initial weights follow the seed
        try:
            model = build_model(graph, analysis)
        except GraphError as exc:  # analysis said ok; a torch-level refusal is still possible
            raise ModelError(f"the graph cannot be built: {exc}", exc.problems) from None
    model = model.to(device)
    train_model = logits_view(model, stripped, loss_node) if stripped else model
    width = analysis.nodes[loss_node].output_shape[0]
    objective = make_objective(loss, dataset.task, dataset.num_classes, width)
    types = {n: graph.nodes[n].type for n in model.order}
    return TrainingParts(
        model=model, train_model=train_model, objective=objective,
        optimizer=make_optimizer(model.parameters(), config),
        l1_params=l1_parameters(model) if config.l1 > 0 else [],
        analysis=analysis, loss_node=loss_node, stripped=stripped,
        conv_ids=[n for n in model.order if types[n] == "Conv2d"],
        relu_ids=[n for n in model.order if types[n] in DEAD_RELU_TYPES],
        histogram_ids=[n for n in model.order if types[n] not in SAME_VALUE_TYPES],
        notes=notes)
