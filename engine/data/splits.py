"""From raw arrays to a Dataset: seeded shuffle, limit, train/val split, normalization.

Statistics come from the training split only, so validation numbers are not flattered by
having seen the validation data's mean/std.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .errors import DatasetError
from .spec import CommonOptions

# Separate random streams per seed: the split must not change when a generator draws more numbers.
SPLIT_STREAM = 0
GENERATE_STREAM = 1

_MIN_STD = 1e-12


@dataclass
class RawSamples:
    """What a loader hands over: samples in their stored form plus the scale to the raw 0..1 range.

    Keeping e.g. uint8 images with ``scale=1/255`` lets the pipeline convert to float32 only the
    samples that survive ``limit``, which matters for CIFAR-sized folders.
    """

    x: np.ndarray          # (N, C, H, W) images or (N, F) tabular
    y: np.ndarray          # (N,) int class indices, or (N, T) float regression targets
    scale: float = 1.0


def rng_for(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def split_indices(n: int, val_fraction: float, seed: int,
                  limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    order = rng_for(seed, SPLIT_STREAM).permutation(n)
    if limit is not None:
        order = order[:limit]
    if len(order) < 2:
        raise DatasetError(f"the dataset has {len(order)} sample(s); at least 2 are needed "
                           f"(one to train on, one to validate)")
    n_val = min(max(int(round(len(order) * val_fraction)), 1), len(order) - 1)
    return order[n_val:], order[:n_val]


def subset(train_idx: np.ndarray, labels: np.ndarray | None, count: int | None) -> np.ndarray:
    """The first ``count`` training samples of the (seeded) training order, taken class by
    class in turn when ``labels`` are classes, so that a small subset still shows every class
    (counts differ by at most one where the data allows). Deterministic: the order is the
    seeded shuffle's."""
    if count is None or count >= len(train_idx):
        return train_idx
    if labels is None:
        return train_idx[:count]
    by_class: dict[int, list[int]] = {}
    for i in train_idx:
        by_class.setdefault(int(labels[i]), []).append(int(i))
    queues = [by_class[c] for c in sorted(by_class)]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < count:
        for queue in queues:
            if depth < len(queue) and len(chosen) < count:
                chosen.append(queue[depth])
        depth += 1
    keep = set(chosen)
    return np.array([i for i in train_idx if int(i) in keep], dtype=train_idx.dtype)


def upsample(x: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """(N, C, h, w) floats in 0..1 → (N, C, H, W), bilinear."""
    import torch
    import torch.nn.functional as F
    out = F.interpolate(torch.from_numpy(x), size=size_hw, mode="bilinear", align_corners=False)
    return out.clamp_(0.0, 1.0).numpy()


def _safe_std(std: np.ndarray) -> np.ndarray:
    # A constant feature/channel would divide by zero; leaving it unscaled is harmless.
    return np.where(np.isfinite(std) & (std > _MIN_STD), std, 1.0)


def _channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean/std of (N, C, H, W) float32 without a float64 copy of the whole array."""
    means, stds = [], []
    for c in range(x.shape[1]):
        xc = x[:, c]
        mean = float(xc.mean(dtype=np.float64))
        d = xc - np.float32(mean)
        stds.append(float(np.sqrt(np.mean(np.square(d, out=d), dtype=np.float64))))
        means.append(mean)
    return np.array(means), _safe_std(np.array(stds))


def _normalize_images(x_train: np.ndarray, x_val: np.ndarray, mode: str) -> dict:
    if mode == "unit":
        return {"mode": "unit"}
    mean, std = _channel_stats(x_train)
    for x in (x_train, x_val):
        x -= mean.astype(np.float32).reshape(1, -1, 1, 1)
        x /= std.astype(np.float32).reshape(1, -1, 1, 1)
    return {"mode": "standardize", "mean": mean.tolist(), "std": std.tolist()}


def _normalize_table(x_train: np.ndarray, x_val: np.ndarray,
                     mode: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Tabular inputs arrive as float64 and are scaled before the float32 cast (large magnitudes)."""
    if mode == "unit":
        low, high = x_train.min(axis=0), x_train.max(axis=0)
        span = np.where(high - low > 0, high - low, 1.0)
        info = {"mode": "unit", "min": low.tolist(), "max": high.tolist()}
        return (x_train - low) / span, (x_val - low) / span, info
    mean = x_train.mean(axis=0)
    std = _safe_std(x_train.std(axis=0))
    info = {"mode": "standardize", "mean": mean.tolist(), "std": std.tolist()}
    return (x_train - mean) / std, (x_val - mean) / std, info


def _to_tensor(a: np.ndarray, dtype):
    import torch
    return torch.from_numpy(np.ascontiguousarray(a, dtype=dtype))


def build_dataset(raw: RawSamples, common: CommonOptions, *, name: str, task: str,
                  class_names: list[str] | None = None, feature_names: list[str] | None = None,
                  target_names: list[str] | None = None, skipped: int = 0,
                  source: str = "", notes: list[str] | None = None,
                  stored_scale: float | None = None) -> Dataset:
    import torch
    n = len(raw.x)
    if n == 0:
        raise DatasetError(f"dataset '{name}' is empty: no samples were found")
    try:
        train_idx, val_idx = split_indices(n, common.val_fraction, common.seed, common.limit)
    except DatasetError as exc:
        raise DatasetError(f"dataset '{name}': {exc}") from None
    notes = list(notes or [])
    if common.train_samples is not None and common.train_samples < len(train_idx):
        available = len(train_idx)
        train_idx = subset(train_idx, raw.y if task == "classification" else None,
                           common.train_samples)
        notes.append(f"training on {len(train_idx):,} of the {available:,} training samples "
                     f"(dataset.train_samples)")

    images = raw.x.ndim == 4
    if images:
        x_train = raw.x[train_idx].astype(np.float32)
        x_val = raw.x[val_idx].astype(np.float32)
        if raw.scale != 1.0:
            x_train *= np.float32(raw.scale)
            x_val *= np.float32(raw.scale)
        normalization = _normalize_images(x_train, x_val, common.normalize)
    else:
        x_train, x_val, normalization = _normalize_table(
            raw.x[train_idx].astype(np.float64) * raw.scale,
            raw.x[val_idx].astype(np.float64) * raw.scale, common.normalize)

    if task == "regression":
        y_train = raw.y[train_idx].astype(np.float64).reshape(len(train_idx), -1)
        y_val = raw.y[val_idx].astype(np.float64).reshape(len(val_idx), -1)
        mean, std = y_train.mean(axis=0), _safe_std(y_train.std(axis=0))
        y_train, y_val = (y_train - mean) / std, (y_val - mean) / std
        normalization["target_mean"] = mean.tolist()
        normalization["target_std"] = std.tolist()
        y_dtype = np.float32
    else:
        y_train, y_val = raw.y[train_idx], raw.y[val_idx]
        y_dtype = np.int64

    tensors = [_to_tensor(x_train, np.float32), _to_tensor(y_train, y_dtype),
               _to_tensor(x_val, np.float32), _to_tensor(y_val, y_dtype)]
    for t in tensors:
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise DatasetError(f"dataset '{name}' has values too large to represent after "
                               f"normalization (outside float32 range)")
    return Dataset(
        name=name, task=task,
        x_train=tensors[0], y_train=tensors[1], x_val=tensors[2], y_val=tensors[3],
        class_names=list(class_names or []) if task == "classification" else [],
        feature_names=list(feature_names or []),
        target_names=list(target_names or []) if task == "regression" else [],
        input_shape=tuple(int(d) for d in raw.x.shape[1:]),
        normalization=normalization, skipped=skipped, source=source, notes=notes,
        stored_scale=raw.scale if stored_scale is None else stored_scale,
    )
