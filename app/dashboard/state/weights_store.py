"""Where trained weights live beside a project, shared with ``layerlab train``:

    my_net.json                 the project
    my_net-run/checkpoint/      written by the dashboard (and by `layerlab train my_net.json`)
        weights.safetensors     the model's weights (safetensors: loading runs no code)
        state.pt                optimizer and random-generator state (tensors only)
        trainer.json            position, history, settings
        project.json            the project the weights were trained with

So weights trained on the command line open in the app, and `layerlab train my_net.json
--resume my_net-run` continues what the app trained. The engine's checkpoint functions write
each file atomically.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["run_dir", "checkpoint_dir", "has_checkpoint", "metrics_path"]

RUN_SUFFIX = "-run"


def run_dir(project_path: Path) -> Path:
    project_path = Path(project_path)
    return project_path.parent / f"{project_path.stem}{RUN_SUFFIX}"


def checkpoint_dir(project_path: Path) -> Path:
    return run_dir(project_path) / "checkpoint"


def metrics_path(project_path: Path) -> Path:
    """Where a background run started from the app writes its live metrics."""
    return run_dir(project_path) / "metrics.json"


def has_checkpoint(project_path: Path | None) -> bool:
    return project_path is not None and (checkpoint_dir(project_path) / "trainer.json").is_file()
