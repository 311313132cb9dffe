"""A project with its trained weights and its dataset, for ``layerlab explain`` and
``layerlab saliency``: every way it can fail becomes an ExplainError that says what to do.

This module imports torch only when used, so registering the commands stays cheap."""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ExplainError

__all__ = ["Trained", "load_trained", "add_project_arguments"]

SPLITS = ("val", "train")


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """PROJECT, --sample, --split, --weights, --json: what both commands take."""
    parser.add_argument("project", metavar="PROJECT",
                        help="a LayerLab project (.json) or a bundled template's name")
    parser.add_argument("--sample", type=int, default=0, metavar="N",
                        help="which sample of the split (default 0, the app's probe sample)")
    parser.add_argument("--split", choices=SPLITS, default="val",
                        help="validation (default) or training samples")
    parser.add_argument("--weights", metavar="FILE",
                        help="weights (.safetensors or .pt state dict); default: the trained "
                             "weights beside the project (<project>-run/checkpoint/)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


@dataclass(eq=False)
class Trained:
    project_arg: str
    opened: Any              # locations.Opened
    model: Any               # the built GraphModule with the weights applied, in eval mode
    weights: Path
    dataset: Any             # data.Dataset

    @property
    def graph(self):
        return self.opened.project.graph

    def sample(self, split: str, index: int):
        """(the model input, its label text) of sample ``index`` of ``split``."""
        x, y = ((self.dataset.x_val, self.dataset.y_val) if split == "val"
                else (self.dataset.x_train, self.dataset.y_train))
        name = "validation" if split == "val" else "training"
        if not 0 <= index < len(x):
            raise ExplainError(f"there is no {name} sample {index}: the {name} split of "
                               f"{self.dataset.name} has {len(x)} samples, 0…{len(x) - 1}")
        return x[index].numpy(), self.label_text(y[index])

    def label_text(self, y) -> str:
        ds = self.dataset
        if ds.task == "classification":
            k = int(y)
            name = ds.class_names[k] if 0 <= k < len(ds.class_names) else str(k)
            return f"class {k} ({name})" if name != str(k) else f"class {k}"
        real = ds.denormalize_target(y.numpy())
        names = ds.target_names or [f"target {i}" for i in range(len(real))]
        return ", ".join(f"{n} = {v:,.6g}" for n, v in zip(names, real.ravel()))

    def about(self, split: str, index: int, label: str, x) -> dict[str, Any]:
        """The keys both commands add to their JSON: what was explained, on which input."""
        from .numbers import to_list
        return {"project": self.opened.project.name, "weights_file": str(self.weights),
                "split": split, "sample": index, "label": label, "input": to_list(x),
                "input_normalization": self.dataset.normalization}

    def heading(self, split: str, index: int, label: str) -> str:
        name = "validation" if split == "val" else "training"
        return (f"{self.opened.project.name}: {name} sample {index} ({label}), "
                f"weights {self.weights}")

    def class_name(self, k: int) -> str:
        names = self.dataset.class_names
        return names[k] if self.dataset.task == "classification" and 0 <= k < len(names) \
            else str(k)


def load_trained(project: str | os.PathLike, weights: str | os.PathLike | None = None) -> Trained:
    """Open ``project`` (a path or a template name), build it, apply ``weights`` (default:
    its trained weights) and load its dataset."""
    from ..builder import GraphError, build_model
    from ..data import DatasetError, check_fits, load_dataset
    from ..export.errors import ExportError
    from ..export.weights import apply_weights, load_weights
    from ..locations import open_project, trained_weights
    from ..project import ProjectLoadError

    try:
        opened = open_project(project)
    except ProjectLoadError as exc:
        raise ExplainError(str(exc)) from None
    try:
        model = build_model(opened.project.graph)
    except GraphError as exc:
        raise ExplainError(f"the graph has errors, so it cannot run: "
                           f"{'; '.join(exc.problems)}") from None
    path = Path(weights) if weights else trained_weights(opened)
    if path is None:
        looked = opened.run_dir / "checkpoint" / "weights.safetensors"
        raise ExplainError(
            f"no trained weights for {project} (looked for {looked}). Without them every layer "
            f"holds random starting numbers, which explain nothing yet. Train it first — "
            f"`layerlab train {project}` or Train in the app — or pass --weights FILE.")
    try:
        state = load_weights(path)              # its messages name the file
    except ExportError as exc:
        raise ExplainError(str(exc)) from None
    try:
        apply_weights(model, state)
    except ExportError as exc:
        raise ExplainError(f"{path}: {exc}") from None
    model.eval()
    try:
        dataset = load_dataset(opened.project.dataset, opened.base_dir)
    except DatasetError as exc:
        raise ExplainError(f"the dataset cannot be loaded: {exc}") from None
    from .nodes import input_shape
    mismatch = check_fits(dataset, input_shape(opened.project.graph, model.input_id))
    if mismatch:
        raise ExplainError(f"the project's dataset does not fit its network: {mismatch}")
    return Trained(str(project), opened, model, path, dataset)
