"""Plain data passed between the GUI and the training worker: what to run, and what the
worker has loaded. Keys decide whether trained weights still fit the project on the canvas.

Nothing here imports torch or Qt widgets; the Dataset a SessionInfo carries is only read on
the GUI thread (sample images, class names, normalization) — training never writes it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerlab.engine import Graph, Project

__all__ = ["graph_key", "settings_key", "RunRequest", "LoadRequest", "SessionInfo",
           "LIVE_TRAINING_KEYS"]

#: Training keys a continued run may change without starting over: set_lr / set_epochs.
LIVE_TRAINING_KEYS = ("lr", "epochs")


def graph_key(graph: Graph) -> str:
    """What the weights depend on: node ids, types, parameters and wiring (not positions)."""
    nodes = sorted((n.id, n.type, json.dumps(n.params, sort_keys=True, default=str))
                   for n in graph.nodes.values())
    edges = sorted((e.source, e.target, e.target_port) for e in graph.edges)
    return json.dumps([nodes, edges])


def settings_key(project: Project) -> str:
    """What an exact continuation depends on besides the graph: the dataset and every training
    setting except those a live run can change."""
    training = {k: v for k, v in (project.training or {}).items()
                if k not in LIVE_TRAINING_KEYS}
    return json.dumps([project.dataset or {}, training], sort_keys=True, default=str)


@dataclass(frozen=True)
class RunRequest:
    project: Project              # a copy: the canvas may change while the worker reads it
    base_dir: Path | None         # the project file's folder (relative dataset paths)
    resume: bool                  # continue the current session (weights, optimizer, position)
    epochs: int                   # target epochs (a finished session resumed trains more)
    start_paused: bool = False
    steps: int = 0                # batches to train at once when starting paused
    probe: int = 0                # validation index whose feature maps are shown
    graph_key: str = ""
    settings_key: str = ""


@dataclass(frozen=True)
class LoadRequest:
    project: Project
    base_dir: Path | None
    checkpoint_dir: Path
    probe: int = 0
    graph_key: str = ""
    settings_key: str = ""


@dataclass(frozen=True, eq=False)
class SessionInfo:
    """A trainer the worker holds (trained, training or loaded), described for the GUI."""
    graph_key: str
    settings_key: str
    dataset: Any                  # engine Dataset (read-only on the GUI thread)
    task: str
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    node_ids: tuple[str, ...]
    node_types: dict[str, str]
    conv_ids: tuple[str, ...]
    relu_ids: tuple[str, ...]
    device: str
    device_name: str
    epoch: int                    # epochs completed
    step: int = 0                 # optimizer steps taken (a run stopped mid-epoch has some)
    history: tuple = ()           # EpochSnapshot rows so far (a loaded checkpoint's too)
    num_val: int = 0
    loaded_from: Path | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
