"""Keys that decide whether trained weights still fit the project on the canvas, and which
settings a run holds.

Qt-free and torch-free.
"""
from __future__ import annotations

import json

from layerlab.engine import Graph, Project

__all__ = ["graph_key", "settings_key", "LIVE_TRAINING_KEYS"]

#: Training keys a running (or paused) run takes live (set_lr): never held by the run.
LIVE_TRAINING_KEYS = ("lr",)


def graph_key(graph: Graph) -> str:
    """What the weights depend on: node ids, types, parameters and wiring (not positions)."""
    nodes = sorted((n.id, n.type, json.dumps(n.params, sort_keys=True, default=str))
                   for n in graph.nodes.values())
    edges = sorted((e.source, e.target, e.target_port) for e in graph.edges)
    return json.dumps([nodes, edges])


def settings_key(project: Project) -> str:
    """What an exact continuation depends on besides the graph: the dataset and every training
    setting except the learning rate and the epochs (a continued run takes those)."""
    training = {k: v for k, v in (project.training or {}).items()
                if k not in LIVE_TRAINING_KEYS + ("epochs",)}
    return json.dumps([project.dataset or {}, training], sort_keys=True, default=str)
