"""Checkpoints: a folder that resumes training exactly and cannot execute code when loaded.

    weights.safetensors   the model's state_dict (parameters and BatchNorm buffers)
    state.pt              optimizer state, random-generator states, AMP scaler: tensors and
                          plain containers only, read back with torch.load(weights_only=True)
    trainer.json          position (epoch, batch, step), history, config, learning rate, the
                          epoch's running sums and what the data looked like
    project.json          the project the run trained (when known), for reference

Files are written to temporary names and renamed, so an interrupted save leaves the previous
checkpoint intact.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_write
from .errors import CheckpointError
from .rows import event_problems, history_problems
from .rows import is_int as _is_int
from .rows import number as _number
from .rows import show as _show
from .rows import whole as _whole

__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint", "check_meta", "check_weights",
           "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION"]

CHECKPOINT_FORMAT = "layerlab-checkpoint"
CHECKPOINT_VERSION = 1
WEIGHTS = "weights.safetensors"
STATE = "state.pt"
META = "trainer.json"
PROJECT = "project.json"
#: Problems named in one message at most (the rest are counted).
SHOWN_PROBLEMS = 5


@dataclass
class Checkpoint:
    path: Path
    weights: dict[str, torch.Tensor]
    tensors: dict[str, Any]
    meta: dict[str, Any]

    @property
    def epoch(self) -> int:
        return int(self.meta["epoch"])

    @property
    def history(self) -> list[dict]:
        return list(self.meta.get("history", []))

    @property
    def state(self) -> dict[str, Any]:
        """What ``Trainer.load_state_dict`` takes."""
        return {"weights": self.weights, "tensors": self.tensors, "meta": self.meta}


def save_checkpoint(directory: str | os.PathLike, trainer, project=None) -> Path:
    """Write ``trainer``'s state into ``directory`` (created if needed). Call it when the
    trainer is idle, paused, or from an observer on the training thread."""
    from safetensors.torch import save_file

    from ..project import dumps_project

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        state = trainer.state_dict()
        # safetensors wants contiguous CPU tensors that share no memory with each other.
        weights = {k: v.detach().to("cpu").contiguous().clone()
                   for k, v in state["weights"].items()}
        meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "torch": torch.__version__, **state["meta"]}
        atomic_write(directory / WEIGHTS, lambda p: save_file(weights, p,
                                                               metadata={"format": "pt"}))
        atomic_write(directory / STATE, lambda p: torch.save(state["tensors"], p))
        if project is not None:
            text = dumps_project(project)
            atomic_write(directory / PROJECT,
                          lambda p: Path(p).write_text(text, encoding="utf-8"))
        text = json.dumps(meta, indent=2, allow_nan=True)
        atomic_write(directory / META, lambda p: Path(p).write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"cannot write the checkpoint to {directory}: "
                              f"{exc.strerror or exc}") from None
    return directory


def load_checkpoint(directory: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint folder (or its trainer.json). Nothing in it can run code; a file
    that is not what LayerLab wrote raises CheckpointError naming the file and the fault."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    if directory.is_file() and directory.name == META:
        directory = directory.parent
    if not directory.is_dir():
        raise CheckpointError(f"no checkpoint folder at {directory}")
    missing = [n for n in (WEIGHTS, STATE, META) if not (directory / n).is_file()]
    if missing:
        raise CheckpointError(f"{directory} is not a complete LayerLab checkpoint: missing "
                              f"{', '.join(missing)}")
    try:
        meta = json.loads((directory / META).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{directory / META} cannot be read: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{directory / META} is not a LayerLab checkpoint")
    version = meta.get("version", 0)
    if not _is_int(version):
        raise CheckpointError(f"{directory / META}: version must be a whole number "
                              f"(found {_show(version)})")
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(f"the checkpoint was written by a newer LayerLab (version "
                              f"{version}); update LayerLab to read it")
    problems = check_meta(meta)
    if problems:
        raise CheckpointError(f"{directory / META} has been changed or damaged: "
                              f"{_listed(problems)}")
    try:
        weights = load_file(str(directory / WEIGHTS))
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"{directory / WEIGHTS} cannot be read: {exc}") from None
    try:
        tensors = torch.load(directory / STATE, map_location="cpu", weights_only=True)
    except Exception as exc:  # the unpickler refuses anything but tensors and containers
        raise CheckpointError(f"{directory / STATE} cannot be read safely: {exc}") from None
    if not isinstance(tensors, dict):
        raise CheckpointError(f"{directory / STATE} does not hold a trainer's state")
    return Checkpoint(directory, weights, tensors, meta)


# --- what trainer.json must hold ------------------------------------------------------------

def _listed(problems: list[str]) -> str:
    more = len(problems) - SHOWN_PROBLEMS
    return "; ".join(problems[:SHOWN_PROBLEMS]) + (f" (and {more} more)" if more > 0 else "")


def check_meta(meta: Any) -> list[str]:
    """What is wrong with a checkpoint's trainer.json (its position, sums and history), one
    message per problem, naming the field; empty when it is sound. Never raises."""
    if not isinstance(meta, dict):
        return [f"it must be a JSON object (found {_show(meta)})"]
    problems: list[str] = []
    missing = [k for k in ("epoch", "batch", "global_step", "base_lr", "meter", "history",
                           "num_train", "batches_per_epoch") if k not in meta]
    if missing:
        return [f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"]

    def add(problem: str | None) -> None:
        if problem:
            problems.append(problem)

    add(_whole("epoch", meta["epoch"], 0, 100_000))
    add(_whole("global_step", meta["global_step"], 0))
    add(_whole("num_train", meta["num_train"], 0))
    add(_whole("batches_per_epoch", meta["batches_per_epoch"], 0))
    add(_whole("batch", meta["batch"], 0))
    if "num_val" in meta:
        add(_whole("num_val", meta["num_val"], 0))
    add(_number("base_lr", meta["base_lr"], positive=True))
    if "lr" in meta:
        add(_number("lr", meta["lr"], finite=True))
    for key in ("dataset", "task", "device"):
        if key in meta and not isinstance(meta[key], str):
            add(f"{key} must be text (found {_show(meta[key])})")
    if "config" in meta and not isinstance(meta["config"], dict):
        add(f"config must be an object (found {_show(meta['config'])})")
    if not problems and meta["batch"] and meta["batch"] >= meta["batches_per_epoch"]:
        add(f"batch {meta['batch']} is not inside an epoch of {meta['batches_per_epoch']} "
            f"batches")
    meter = meta["meter"]
    if not isinstance(meter, dict):
        add(f"meter must be an object with loss, correct and count (found {_show(meter)})")
    else:
        for key in ("loss", "correct", "count"):
            if key not in meter:
                add(f"meter.{key} is missing")
        if "loss" in meter:
            add(_number("meter.loss", meter["loss"], finite=True))
        for key in ("correct", "count"):
            if key in meter:
                add(_whole(f"meter.{key}", meter[key], 0))
    if "events" in meta:
        problems += event_problems(meta["events"])
    history = meta["history"]
    if not isinstance(history, list):
        add(f"history must be a list of epochs (found {_show(history)})")
        return problems
    if _is_int(meta["epoch"]) and len(history) != meta["epoch"]:
        add(f"history has {len(history)} epoch{'s' if len(history) != 1 else ''} but epoch "
            f"says {meta['epoch']} were trained")
    problems += history_problems(history)
    return problems


def check_weights(model, weights: Any) -> None:
    """Raise CheckpointError naming the layers whose weights do not fit ``model``."""
    if not isinstance(weights, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()):
        raise CheckpointError("the checkpoint's weights are not a table of tensors")
    own = model.state_dict()

    def name(key: str) -> str:  # "layers.conv1.weight" → "conv1.weight": node ids
        return key[len("layers."):] if key.startswith("layers.") else key

    def shape(t: torch.Tensor) -> str:
        return "×".join(map(str, t.shape)) or "a scalar"

    problems = []
    for key, value in own.items():  # in the model's order, so the first shown is the first cause
        if key not in weights:
            problems.append(f"{name(key)} is missing from the checkpoint")
        elif tuple(value.shape) != tuple(weights[key].shape):
            problems.append(f"{name(key)} is {shape(weights[key])} in the checkpoint but "
                            f"{shape(value)} in the model")
    problems += [f"the checkpoint has {name(k)}, which this model lacks"
                 for k in weights if k not in own]
    if problems:
        shown = "; ".join(problems[:4])
        more = f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""
        raise CheckpointError(f"the checkpoint's weights do not fit this graph: {shown}{more}")
