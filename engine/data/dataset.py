"""The loaded, split and normalized dataset the trainer consumes, and the shape check for graphs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .errors import DatasetError

if TYPE_CHECKING:   # the tensors are torch's; importing it here would make every import slow
    import torch


@dataclass(eq=False)  # tensors make == ambiguous; identity is what callers need
class Dataset:
    """Train/validation tensors plus everything needed to feed new raw samples the same way.

    Images are float32 (N, C, H, W) whose raw scale is 0..1; tabular inputs are float32 (N, F).
    Classification targets are int64 (N,); regression targets are float32 (N, T) and are
    always standardized with the training split's mean/std (kept in ``normalization`` as
    ``target_mean``/``target_std``) so MSE losses start near 1 whatever the units;
    ``denormalize_target`` maps predictions back to real units.
    """

    name: str
    task: str
    x_train: torch.Tensor = field(repr=False)
    y_train: torch.Tensor = field(repr=False)
    x_val: torch.Tensor = field(repr=False)
    y_val: torch.Tensor = field(repr=False)
    class_names: list[str]
    feature_names: list[str]
    target_names: list[str]
    input_shape: tuple[int, ...]
    normalization: dict = field(repr=False)
    skipped: int = 0
    source: str = ""
    #: What the loader left out or changed, in sentences naming files and counts
    #: ("2 unreadable files skipped: cats/a.png, dogs/b.jpg"; "3 bad rows skipped: …").
    notes: list[str] = field(default_factory=list)
    #: A sample as its files store it × this = the raw 0..1 scale above (digits: 1/16, 8-bit
    #: images: 1/255). Exports use it to accept samples exactly as stored.
    stored_scale: float = 1.0

    @property
    def num_classes(self) -> int:
        """Number of classes; 0 for regression."""
        return len(self.class_names) if self.task == "classification" else 0

    @property
    def num_outputs(self) -> int:
        """Width of the model's last layer: classes, or regression targets."""
        return self.num_classes if self.task == "classification" else len(self.target_names)

    def _as_samples(self, raw: np.ndarray) -> np.ndarray:
        x = np.asarray(raw, dtype=np.float64)
        shape = tuple(self.input_shape)
        if x.shape != shape and x.shape[1:] != shape:
            raise DatasetError(f"a sample for dataset '{self.name}' must have shape {list(shape)} "
                               f"(or a batch of them); found {list(x.shape)}")
        return x

    def _stat(self, key: str) -> np.ndarray:
        stat = np.asarray(self.normalization[key], dtype=np.float64)
        # Image stats are per channel: broadcast over H and W.
        return stat.reshape(-1, 1, 1) if len(self.input_shape) == 3 else stat

    def normalize_input(self, raw: np.ndarray) -> np.ndarray:
        """Raw sample(s) -> model input (float32, same shape).

        Raw means the dataset's raw scale: images as 0..1 floats in (C, H, W) layout,
        tabular rows as the numbers in the CSV. Accepts one sample or a batch.
        """
        x = self._as_samples(raw)
        mode = self.normalization.get("mode", "unit")
        if mode == "standardize":
            x = (x - self._stat("mean")) / self._stat("std")
        elif "min" in self.normalization:  # tabular "unit": min-max scaling to 0..1
            low, high = self._stat("min"), self._stat("max")
            span = np.where(high - low > 0, high - low, 1.0)
            x = (x - low) / span
        return x.astype(np.float32)

    def denormalize_target(self, y: np.ndarray) -> np.ndarray:
        """Regression output(s) in standardized units -> real units (float64).

        Anything without target statistics (classification) comes back unchanged.
        """
        y = np.asarray(y, dtype=np.float64)
        if "target_mean" not in self.normalization:
            return y
        mean = np.asarray(self.normalization["target_mean"], dtype=np.float64)
        std = np.asarray(self.normalization["target_std"], dtype=np.float64)
        return y * std + mean


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def describe_samples(shape: tuple[int, ...]) -> str:
    """(1, 8, 8) → "1×8×8 images"; (13,) → "rows of 13 features"."""
    if len(shape) == 1:
        return f"rows of {shape[0]} feature{'s' if shape[0] != 1 else ''}"
    if len(shape) == 3:
        return f"{_shape_text(shape)} images"
    return f"samples of shape {_shape_text(shape)}"


def check_fits(dataset: Dataset, input_shape: tuple[int, ...]) -> str | None:
    """None when the graph's Input shape matches one dataset sample, else a message saying the fix."""
    wanted = tuple(int(d) for d in dataset.input_shape)
    try:
        given = tuple(input_shape)
        ok = all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in given)
    except TypeError:
        ok = False
    if not ok:
        return (f"the Input node's shape {input_shape!r} is not a list of whole numbers — "
                f"set the Input shape to {list(wanted)}")
    given = tuple(int(d) for d in given)
    if given == wanted:
        return None
    return (f"the dataset gives {describe_samples(wanted)} but the Input node expects "
            f"{_shape_text(given) if given else 'an empty shape'} — set the Input shape to "
            f"{list(wanted)}")
