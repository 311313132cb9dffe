"""Where a project's files are: the project itself (a path, or a bundled template's name), and
the run folder beside it that training fills — shared by every command and the app::

    my_net.json                 the project
    my_net-run/                 its run folder (``layerlab train`` and the app write here)
        checkpoint/             the latest trained state
            weights.safetensors the model's weights (safetensors: loading runs no code)
            state.pt            optimizer and random-generator state (tensors only)
            trainer.json        position, history, settings
            project.json        the project the weights were trained with
        runs/                   the run history: one record per run (and kept weights),
                                training/run_history.py
        metrics.json            live metrics of a background run
        history.csv / .json     the curves of the last command-line run

A template has no folder of its own: its run folder is ``<name>-run`` in the current folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .graph import Project

__all__ = ["RUN_SUFFIX", "Opened", "open_project", "project_file", "run_dir", "checkpoint_dir",
           "metrics_path", "has_checkpoint", "checkpoint_in", "trained_weights"]

RUN_SUFFIX = "-run"


@dataclass(frozen=True)
class Opened:
    project: Project
    path: Path              # the project file (a template's bundled file for a template)
    base_dir: Path          # what relative dataset paths are relative to
    run_dir: Path           # where its training results go
    template: str | None    # the template's name when one was opened by name


def project_file(name: str | os.PathLike) -> tuple[Path, str | None]:
    """(file, template name or None) for a path or the name of a bundled template."""
    from .templates import template_path
    path = Path(name)
    text = str(name)
    if not path.exists() and not text.endswith(".json") and os.sep not in text:
        try:
            return template_path(text), text
        except KeyError:
            pass
    return path, None


def open_project(name: str | os.PathLike) -> Opened:
    """Load a project file or a bundled template; raises ProjectLoadError saying why not."""
    from .project import load_project
    path, template = project_file(name)
    project = load_project(path)
    if template is not None:
        return Opened(project, path, path.parent, Path.cwd() / f"{template}{RUN_SUFFIX}",
                      template)
    resolved = path.resolve()
    return Opened(project, path, resolved.parent, run_dir(resolved), None)


def run_dir(project_path: str | os.PathLike) -> Path:
    project_path = Path(project_path)
    return project_path.parent / f"{project_path.stem}{RUN_SUFFIX}"


def checkpoint_dir(project_path: str | os.PathLike) -> Path:
    return run_dir(project_path) / "checkpoint"


def metrics_path(project_path: str | os.PathLike) -> Path:
    """Where a background run started from the app writes its live metrics."""
    return run_dir(project_path) / "metrics.json"


def has_checkpoint(project_path: str | os.PathLike | None) -> bool:
    return project_path is not None and (checkpoint_dir(project_path) / "trainer.json").is_file()


def checkpoint_in(path: str | os.PathLike) -> Path:
    """The checkpoint folder of ``path``, which may be a run folder or the checkpoint itself."""
    path = Path(path)
    return path / "checkpoint" if (path / "checkpoint" / "trainer.json").is_file() else path


def trained_weights(opened: Opened) -> Path | None:
    """The trained weights beside an opened project, or None when it was never trained."""
    weights = opened.run_dir / "checkpoint" / "weights.safetensors"
    return weights if weights.is_file() else None
