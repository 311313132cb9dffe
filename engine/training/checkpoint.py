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

__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint", "apply_checkpoint",
           "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION"]

CHECKPOINT_FORMAT = "layerlab-checkpoint"
CHECKPOINT_VERSION = 1
WEIGHTS = "weights.safetensors"
STATE = "state.pt"
META = "trainer.json"
PROJECT = "project.json"


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


def save_checkpoint(directory: str | os.PathLike, trainer, project=None) -> Path:
    """Write ``trainer``'s state into ``directory`` (created if needed). Call it when the
    trainer is idle, paused, or from an observer on the training thread."""
    from safetensors.torch import save_file

    from ..project import dumps_project

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        state = trainer.capture_state()
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
    """Read a checkpoint folder (or its trainer.json). Nothing in it can run code."""
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
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{directory / META} cannot be read: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{directory / META} is not a LayerLab checkpoint")
    if meta.get("version", 0) > CHECKPOINT_VERSION:
        raise CheckpointError(f"the checkpoint was written by a newer LayerLab (version "
                              f"{meta.get('version')}); update LayerLab to read it")
    try:
        weights = load_file(str(directory / WEIGHTS))
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"{directory / WEIGHTS} cannot be read: {exc}") from None
    try:
        tensors = torch.load(directory / STATE, map_location="cpu", weights_only=True)
    except Exception as exc:  # the unpickler refuses anything but tensors and containers
        raise CheckpointError(f"{directory / STATE} cannot be read safely: {exc}") from None
    return Checkpoint(directory, weights, tensors, meta)


def _check_weights(model, weights: dict[str, torch.Tensor]) -> None:
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


def apply_checkpoint(trainer, ckpt: Checkpoint) -> None:
    """Load ``ckpt`` into an idle trainer (Trainer.resume_from calls this)."""
    from .snapshots import EpochSnapshot

    meta, tensors = ckpt.meta, ckpt.tensors
    _check_weights(trainer.model, ckpt.weights)
    batch = int(meta.get("batch", 0))
    if batch and (meta.get("num_train") != trainer._train.n
                  or meta.get("batches_per_epoch") != trainer.batches_per_epoch):
        raise CheckpointError(
            f"the checkpoint was saved in the middle of an epoch with {meta.get('num_train')} "
            f"training samples in {meta.get('batches_per_epoch')} batches; this run has "
            f"{trainer._train.n} in {trainer.batches_per_epoch} — use the same dataset and "
            f"batch size, or a checkpoint saved at the end of an epoch")
    if meta.get("num_train") != trainer._train.n:
        trainer.notes.append(f"the checkpoint was trained on {meta.get('num_train')} samples, "
                             f"this dataset has {trainer._train.n}")
    try:
        with torch.no_grad():
            for key, value in trainer.model.state_dict().items():
                value.copy_(ckpt.weights[key])
        trainer.optimizer.load_state_dict(tensors["optimizer"])
        rng = tensors["rng"]
        glob = {k[len("global_"):]: v for k, v in rng.items() if k.startswith("global_")}
        trainer._shuffle_gen.set_state(rng["shuffle"])
        trainer._augment_gen.set_state(rng["augment"])
        if "scaler" in tensors and trainer.amp is not None and trainer.amp.scaler is not None:
            trainer.amp.scaler.load_state_dict(tensors["scaler"])
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"the checkpoint's optimizer or random state does not fit this "
                              f"training setup: {exc}") from None
    trainer.epoch = int(meta["epoch"])
    trainer.global_step = int(meta["global_step"])
    trainer.base_lr = float(meta["base_lr"])
    trainer.history = [EpochSnapshot(**row) for row in meta.get("history", [])]
    trainer._good.clear()
    # The random states of this device: a CPU checkpoint resumed on a GPU keeps the GPU's own.
    trainer._rng = {**trainer._rng, **{k: v for k, v in glob.items() if k in trainer._rng}}
    meter = trainer._new_meter()
    if batch:
        trainer._draw_order()   # from the epoch's saved starting state: the same permutation
        m = meta["meter"]
        meter.set(m["loss"], m["correct"], m["count"])
        trainer._epoch_active_start = trainer._active_total()
    else:
        trainer._order = None
    trainer._meter = meter
    trainer.batch = batch
