"""What the worker computes from a dataset or a trainer for the app: plain data only.

Everything that reads a tensor or runs the model lives here and runs in the worker, so the
app never needs torch: dataset facts, validation samples ready to show, a validation pass
for a loaded model, predictions in the target's own units.

These functions read the Trainer through its public attributes (``model``, ``parts``,
``objective``, ``dataset``, ``device``, ``config``); run them where the model may be read
(requests.py: MODEL).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .protocol import DatasetFacts, Prediction, Samples

__all__ = ["limit_torch_threads", "use_training_cores", "devices", "dataset_facts",
           "display_images", "samples", "evaluation", "predict", "plain"]


def limit_torch_threads(cores: int | None = None) -> int:
    """Leave one core to the app's window: torch's intra-op pool would otherwise take every
    core (on 2 cores, 2 torch threads also fight each other and the window). ``cores``: the
    cores training keeps to (placement.py), else all but one of the machine's."""
    import torch
    if cores is None:
        cores = (os.cpu_count() or 1) - 1
    wanted = max(1, min(torch.get_num_threads(), cores))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def use_training_cores(cores: frozenset[int] | None) -> int:
    """Keep the calling thread on ``cores`` (placement.py) where threads can be placed, and
    fit torch's threads to them (else leave one core of the machine): call it before torch
    starts its intra-op threads, which then start on this thread's cores. Returns torch's
    thread count. The worker's model thread and the bench's headless reference train so."""
    from .placement import pin_this_thread
    if pin_this_thread(cores):
        return limit_torch_threads(len(cores))
    return limit_torch_threads()


def devices() -> tuple[tuple[str, str], ...]:
    """(value of the "device" setting, label) for each device this machine can train on."""
    import torch

    from ..training import available_devices
    cuda_name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    mps = "mps" in available_devices()
    auto = (f"GPU: {cuda_name}" if cuda_name else "Apple GPU (MPS)" if mps else
            "CPU — no GPU found")
    found = [("auto", f"auto ({auto})"), ("cpu", f"CPU ({os.cpu_count() or 1} cores)")]
    if cuda_name:
        found.append(("cuda", f"cuda ({cuda_name})"))
    if mps:
        found.append(("mps", "mps (Apple GPU)"))
    return tuple(found)


def plain(value: Any) -> Any:
    """Numpy arrays and scalars inside dicts/lists → lists and Python numbers."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def dataset_facts(dataset, description: str = "") -> DatasetFacts:
    return DatasetFacts(
        description=description, name=dataset.name, task=dataset.task,
        class_names=tuple(str(c) for c in dataset.class_names),
        feature_names=tuple(str(f) for f in dataset.feature_names),
        target_names=tuple(str(t) for t in dataset.target_names),
        input_shape=tuple(int(d) for d in dataset.input_shape),
        num_train=int(len(dataset.y_train)), num_val=int(len(dataset.y_val)),
        normalization=plain(dataset.normalization))


def display_images(dataset, x: np.ndarray) -> np.ndarray:
    """Model-input images (N, C, H, W) → (N, H, W) or (N, H, W, 3) in 0..1 for showing: the
    normalization undone when known, else stretched per image."""
    x = np.asarray(x, dtype=np.float32)
    norm = getattr(dataset, "normalization", {}) or {}
    if norm.get("mode") == "standardize" and "mean" in norm:
        mean = np.asarray(norm["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(norm["std"], dtype=np.float32).reshape(1, -1, 1, 1)
        x = np.clip(x * std + mean, 0.0, 1.0)
    elif norm.get("mode") != "unit":
        low = x.min(axis=(1, 2, 3), keepdims=True)
        span = x.max(axis=(1, 2, 3), keepdims=True) - low
        x = (x - low) / np.where(span > 0, span, 1.0)
    if x.shape[1] == 3:
        return np.transpose(x, (0, 2, 3, 1)).copy()
    return (x[:, 0] if x.shape[1] == 1 else x.mean(axis=1)).copy()


def samples(dataset, indices, split: str = "val") -> Samples:
    """Samples of a split by index (out-of-range ones left out), images ready to show;
    regression targets in their own units."""
    xs, ys = ((dataset.x_val, dataset.y_val) if split == "val"
              else (dataset.x_train, dataset.y_train))
    n = len(ys)
    keep = tuple(int(i) for i in indices if 0 <= int(i) < n)
    y = ys[list(keep)].numpy() if keep else np.zeros(0)
    if dataset.task == "regression" and len(y):
        y = np.asarray(dataset.denormalize_target(y)).reshape(len(keep), -1)
    targets = tuple(int(t) if np.ndim(t) == 0 else np.asarray(t).tolist() for t in y)
    if len(dataset.input_shape) != 3 or not keep:
        return Samples(keep, None, targets)
    x = xs[list(keep)].numpy()
    return Samples(keep, display_images(dataset, x), targets)


def evaluation(trainer):
    """A validation pass of the trainer's model now, as the EvalSnapshot a run sends after
    each epoch (e.g. for weights loaded from disk: the confusion matrix without training)."""
    import torch

    from ..training.metrics import (confusion_matrix, misclassified_cells, per_class_scores,
                                    regression_errors)
    from ..training.snapshots import EvalSnapshot
    ds, objective = trainer.dataset, trainer.objective
    model = trainer.parts.train_model
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    try:
        with torch.no_grad():
            step = trainer.eval_batch
            for start in range(0, len(ds.y_val), step):
                x = ds.x_val[start:start + step].to(trainer.device)
                y = ds.y_val[start:start + step].to(trainer.device)
                out = model(x).float()
                total += float(objective(out, y, reduction="sum"))
                preds.append((objective.predict(out) if ds.task == "classification"
                              else out).cpu())
    finally:
        model.train(was_training)
    n = len(ds.y_val)
    val_loss = total / n if n else float("nan")
    y_val = ds.y_val.numpy()
    epoch = int(trainer.epoch)
    if not preds:
        return EvalSnapshot(epoch=epoch, task=ds.task, val_loss=val_loss,
                            predictions=np.zeros(0))
    p = torch.cat(preds).numpy()
    if ds.task == "classification":
        cm = confusion_matrix(y_val, p, ds.num_classes)
        precision, recall, f1, support = per_class_scores(cm)
        return EvalSnapshot(
            epoch=epoch, task=ds.task, val_loss=val_loss, predictions=p.astype(np.int64),
            class_names=tuple(ds.class_names), confusion=cm, precision=precision,
            recall=recall, f1=f1, support=support,
            accuracy=float(np.trace(cm) / max(cm.sum(), 1)),
            misclassified=misclassified_cells(
                y_val, p, trainer.config.snapshots.misclassified_per_cell))
    mae, rmse = regression_errors(p, y_val, ds.normalization.get("target_std"))
    return EvalSnapshot(epoch=epoch, task=ds.task, val_loss=val_loss,
                        predictions=p.astype(np.float32), target_names=tuple(ds.target_names),
                        mae=mae, rmse=rmse, predicted=ds.denormalize_target(p),
                        actual=ds.denormalize_target(y_val))


def predict(trainer, raw, token: int) -> Prediction:
    """Class probabilities (or regression values) for one raw sample (the dataset's own
    scale: images 0..1 in (C, H, W), table rows as in the file), in eval mode."""
    import torch
    ds = trainer.dataset
    x = ds.normalize_input(np.asarray(raw))
    model = trainer.parts.train_model
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.as_tensor(x).unsqueeze(0).to(trainer.device))
            values = trainer.objective.probabilities(out.float())[0]
    finally:
        model.train(was_training)
    values = values.detach().cpu().numpy().copy()
    real = np.atleast_1d(ds.denormalize_target(values)) if ds.task == "regression" else None
    return Prediction(token=token, values=values, real=real)
