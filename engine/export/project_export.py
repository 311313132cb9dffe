"""Export an opened project the way a person expects: with the weights it was trained to, and
(ONNX) taking samples as the dataset's files store them. The command line and the window's
File ▸ Export both call :func:`export_project`::

    from layerlab.engine.export.project_export import export_project
    result = export_project("digits.json", "digits.onnx")
    result.weights        # Path of the trained weights used, or None (random initial values)
    result.messages()     # what to tell the person: which weights, what the file expects

``weights``: ``"trained"`` (the default) uses the weights training saved beside the project
(engine.locations.trained_weights) and says so, or says that there are none and the layers
keep random initial values; ``None`` exports random initial values on purpose; a path or a
state dict exports those.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..graph import Project
from ..locations import Opened, open_project, trained_weights
from .errors import ExportError

__all__ = ["ExportResult", "export_project", "format_for", "FORMATS", "TRAINED"]

FORMATS = ("pytorch", "onnx")
TRAINED = "trained"
_SUFFIXES = {".py": "pytorch", ".onnx": "onnx"}


@dataclass
class ExportResult:
    written: list[Path]
    format: str
    weights: Path | None                 # the weights file used (None: not from a file)
    weights_source: str                  # "trained", "file", "given", "random"
    preprocessing: Any = None            # export.preprocessing.Preprocessing, ONNX only
    max_difference: float | None = None  # with verify=True
    notes: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        """Lines for the person who exported, in the order that matters."""
        lines = list(self.notes)
        lines += [f"wrote {path}" for path in self.written]
        if self.max_difference is not None:
            lines.append(f"onnxruntime matches torch: largest difference "
                         f"{self.max_difference:.2e} (relative where outputs exceed 1)")
        return lines


def format_for(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format asked for, or the one ``path``'s suffix names; ExportError if neither."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ExportError(f"unknown export format '{fmt}' (known: {', '.join(FORMATS)})")
        return fmt
    found = _SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise ExportError(f"cannot tell the format from '{Path(path).name}': name it .py or "
                          f".onnx, or give the format")
    return found


def export_project(source: Opened | str | os.PathLike, output: str | os.PathLike, *,
                   fmt: str | None = None, weights: Any = TRAINED, preprocess: bool = True,
                   verify: bool = False, project: Project | None = None) -> ExportResult:
    """Export ``source`` (an opened project, a project file or a template's name) to
    ``output``. ``project`` replaces the file's graph (the window's unsaved edits) while the
    trained weights are still looked up beside ``source``. Raises ExportError (and
    ProjectLoadError for an unreadable project file)."""
    opened = source if isinstance(source, Opened) else open_project(source)
    project = project or opened.project
    output = Path(output)
    fmt = format_for(output, fmt)
    result = ExportResult([], fmt, None, "random")
    state = _choose_weights(opened, weights, result)
    if fmt == "pytorch":
        from .pytorch_code import export_pytorch
        result.written = export_pytorch(project, output, state)
        if verify:
            result.notes.append("note: --verify checks ONNX files; the PyTorch file is "
                                "checked by running it")
        return result
    from .onnx_export import export_onnx, verify_onnx
    if preprocess:
        result.preprocessing = _preprocessing(project, opened, result)
    if verify and state is None:  # export and check the same random weights
        from ..builder import build_model
        state = build_model(project.graph).state_dict()
    result.written = export_onnx(project, output, state, preprocessing=result.preprocessing)
    if verify:
        result.max_difference = verify_onnx(project, output, state,
                                            preprocessing=result.preprocessing)
    return result


def _choose_weights(opened: Opened, weights: Any, result: ExportResult):
    from .weights import resolve_weights
    if isinstance(weights, str) and weights == TRAINED:
        found = trained_weights(opened)
        if found is None:
            result.notes.append(
                f"note: no trained weights beside {opened.path.name} (looked in "
                f"{opened.run_dir / 'checkpoint'}): the layers keep their random initial "
                f"values — train first, or pass the weights file")
            return None
        result.weights, result.weights_source = found, "trained"
        result.notes.append(f"using the trained weights in {found}")
        return resolve_weights(found)
    if weights is None:
        result.notes.append("note: exporting random initial weights, as asked")
        return None
    if isinstance(weights, (str, os.PathLike)):
        result.weights, result.weights_source = Path(weights), "file"
        result.notes.append(f"using the weights in {weights}")
        return resolve_weights(weights)
    result.weights_source = "given"
    return resolve_weights(weights)


def _preprocessing(project: Project, opened: Opened, result: ExportResult):
    """The dataset's normalization, or None with a note saying what the file expects then."""
    from .preprocessing import from_dataset
    if not project.dataset:
        result.notes.append("note: the project names no dataset, so the file takes inputs "
                            "already normalized as in training and has no class names")
        return None
    try:
        from ..data import DatasetError, load_dataset
        dataset = load_dataset(project.dataset, opened.base_dir)
    except DatasetError as exc:
        result.notes.append(f"note: the dataset could not be loaded ({exc}), so the file takes "
                            f"inputs already normalized as in training and has no class names")
        return None
    prep = from_dataset(dataset)
    if tuple(prep.input_shape) != tuple(_input_shape(project)):
        result.notes.append("note: the dataset's samples do not fit the Input node, so the "
                            "file takes inputs already normalized as in training")
        return None
    what = ("pixel values as the dataset stores them (0 to "
            f"{1 / prep.stored_scale:g})" if len(prep.input_shape) == 3
            else "feature values as in the data file")
    names = (f"; {len(prep.class_names)} class names" if prep.class_names else "")
    result.notes.append(f"the file takes {what}: the input normalization is inside the graph"
                        f"{names}, layout and normalization are in its metadata")
    return prep


def _input_shape(project: Project) -> tuple[int, ...]:
    from ..inference import analyze
    analysis = analyze(project.graph)
    if analysis.input_node is None:
        return ()
    return tuple(analysis.nodes[analysis.input_node].output_shape or ())
