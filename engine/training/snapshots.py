"""What observers receive: plain data only (Python numbers, strings, numpy arrays copied off
the device), so a GUI thread can keep them while training goes on and nothing holds tensors,
the graph of autograd, or GPU memory."""
from __future__ import annotations

from dataclasses import dataclass, field

import math

import numpy as np

__all__ = ["RunInfo", "BatchSnapshot", "EpochSnapshot", "EvalSnapshot", "VisualSnapshot",
           "StateSnapshot", "RunResult", "TrainingEvent", "HistogramSnapshot", "HISTORY_FIELDS", "format_eta",
           "loss_label", "Gap", "train_val_gap"]

def format_eta(seconds: float) -> str:
    """A BatchSnapshot's ``eta_s`` as ``m:ss`` or ``h:mm:ss`` (``--:--`` when unknown)."""
    if not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def loss_label(info: "RunInfo") -> str:
    """How a loss curve is labelled: ``loss (cross_entropy)``, or for regression on
    standardized targets ``loss (mse on standardized price)`` — its numbers are not in the
    target's units (MAE and RMSE are)."""
    if info.standardized_targets:
        names = ", ".join(info.target_names) or "targets"
        return f"loss ({info.loss} on standardized {names})"
    return f"loss ({info.loss})"


@dataclass(frozen=True)
class Gap:
    """The train/validation gap of one epoch: what a view shades between the two curves.
    Positive means the network does better on what it trained on — overfitting."""
    epoch: int
    train_acc: float | None
    val_acc: float | None
    accuracy: float | None       # train_acc − val_acc (a fraction; None for regression)
    train_loss: float | None
    val_loss: float | None
    loss: float | None           # val_loss − train_loss


def _value(row, key: str) -> float | None:
    value = row.get(key) if isinstance(row, dict) else getattr(row, key, None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def train_val_gap(history) -> list[Gap]:
    """The gap per epoch of a history: EpochSnapshots, or their ``row()`` dicts as in
    history.json, a metrics file or a run record. Missing and non-finite values give None.
    The training numbers are the epoch's running means, taken while the weights changed and
    with dropout active; validation is measured after the epoch in eval mode — so with
    dropout the training side reads a little low."""
    gaps = []
    for row in history:
        ta, va = _value(row, "train_acc"), _value(row, "val_acc")
        tl, vl = _value(row, "train_loss"), _value(row, "val_loss")
        gaps.append(Gap(int(_value(row, "epoch") or 0), ta, va,
                        ta - va if ta is not None and va is not None else None, tl, vl,
                        vl - tl if tl is not None and vl is not None else None))
    return gaps


#: Keys of one history row (EpochSnapshot.row()), in CSV column order.
HISTORY_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_mae",
                  "val_rmse", "lr", "seconds")


@dataclass(frozen=True)
class RunInfo:
    """Sent once when run() starts (and again on each later run())."""
    device: str                  # "cuda:0", "mps", "cpu"
    device_name: str             # "NVIDIA H100 …", "Apple MPS (Metal)", "x86_64 (8 threads)"
    device_reason: str           # why this device: "auto: CUDA is available"
    task: str                    # classification | regression
    loss: str                    # the resolved loss name
    optimizer: str
    epochs: int                  # target number of epochs
    start_epoch: int             # epochs already done (resume)
    start_step: int
    batch_size: int
    batches_per_epoch: int
    num_train: int
    num_val: int
    class_names: tuple[str, ...]
    target_names: tuple[str, ...]
    node_ids: tuple[str, ...]    # every node, in run order
    conv_ids: tuple[str, ...]    # nodes whose filters VisualSnapshot.filters shows
    relu_ids: tuple[str, ...]    # nodes whose dead fraction VisualSnapshot.dead_relu shows
    data_on_device: bool         # whole dataset resident on the device (no per-batch copy)
    mixed_precision: bool
    notes: tuple[str, ...]       # remarks for the log: a stripped Softmax, AMP ignored on CPU…
    #: Regression: the loss compares *standardized* targets ((y − mean) / std per target),
    #: so it starts near 1 whatever the units; MAE/RMSE and EvalSnapshot.predicted/actual
    #: are in real units. real = standardized × target_std + target_mean.
    standardized_targets: bool = False
    target_mean: tuple[float, ...] = ()
    target_std: tuple[float, ...] = ()


@dataclass(frozen=True)
class BatchSnapshot:
    epoch: int          # 1-based number of the epoch in progress
    batch: int          # 1-based batch within the epoch just finished
    batches: int        # batches per epoch
    step: int           # optimizer steps taken so far (all epochs)
    loss: float         # this batch's loss (without the L1 penalty)
    running_loss: float  # mean loss of the epoch so far
    running_acc: float | None  # training accuracy of the epoch so far (None: regression)
    lr: float
    samples_seen: int   # training samples processed by this run() (not counting resumed ones)
    samples_per_s: float
    elapsed_s: float    # wall time of this run(), pauses and slow-motion waits excluded
    eta_s: float        # estimated time to the last epoch's end (slow-motion waits included)
    #: The samples this batch trained on, as indices into ``split`` (this process's share,
    #: before augmentation): sent after a Step or a pause and in slow motion, else None.
    indices: tuple[int, ...] | None = None
    split: str = "train"

    @property
    def position(self) -> float:
        """Where the batch ends on an epoch axis: 1.5 = half-way through the second epoch.
        (``step`` is its place on a batch axis.)"""
        return self.epoch - 1 + self.batch / max(self.batches, 1)


@dataclass(frozen=True)
class EpochSnapshot:
    """One row of the training history."""
    epoch: int                   # 1-based
    train_loss: float            # mean over the epoch's batches, per sample
    train_acc: float | None      # fraction 0..1 (classification) — None for regression
    val_loss: float
    val_acc: float | None
    val_mae: float | None        # regression, in the target's real units (mean over targets)
    val_rmse: float | None
    lr: float                    # learning rate at the end of the epoch
    seconds: float               # wall time of this epoch including validation
    step: int

    def row(self) -> dict:
        return {k: getattr(self, k) for k in HISTORY_FIELDS}


@dataclass(frozen=True, eq=False)
class EvalSnapshot:
    """The validation pass at the end of an epoch, in detail."""
    epoch: int
    task: str
    val_loss: float
    predictions: np.ndarray        # (N,) int64 classes, or (N, T) float32 standardized values
    class_names: tuple[str, ...] = ()
    confusion: np.ndarray | None = None   # (C, C) int64: rows = true class, columns = predicted
    precision: np.ndarray | None = None   # (C,) float64, 0 where undefined
    recall: np.ndarray | None = None
    f1: np.ndarray | None = None
    support: np.ndarray | None = None     # (C,) int64 true samples per class
    accuracy: float | None = None
    #: (true, predicted) → validation indices of samples in that off-diagonal cell, at most
    #: snapshots.misclassified_per_cell each, in index order.
    misclassified: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    target_names: tuple[str, ...] = ()
    mae: np.ndarray | None = None         # (T,) per target, real units
    rmse: np.ndarray | None = None
    #: Regression, in the target's real units (un-standardized), (N, T) float64: what the
    #: model predicted for each validation sample, and the true value.
    predicted: np.ndarray | None = None
    actual: np.ndarray | None = None

    @property
    def residuals(self) -> np.ndarray | None:
        """predicted − actual, in real units (regression)."""
        if self.predicted is None or self.actual is None:
            return None
        return self.predicted - self.actual


@dataclass(frozen=True, eq=False)
class VisualSnapshot:
    """The heavy look inside, at most snapshots.visual_hz times per second."""
    epoch: int
    step: int
    #: Conv2d node id → weights (out_channels, in_channels/groups, kh, kw) float32.
    filters: dict[str, np.ndarray]
    #: node id → the probe sample's output at that node, batch dimension removed, float32.
    feature_maps: dict[str, np.ndarray]
    #: node id → L2 norm of the gradient of that node's parameters (the last batch's).
    grad_norms: dict[str, float]
    #: ReLU/ReLU6 node id → fraction 0..1 of units (channels for images, features for vectors)
    #: that output 0 for every sample of the probe batch.
    dead_relu: dict[str, float]
    probe_index: int | None         # validation index of the probe, None for a custom array
    probe_target: int | np.ndarray | None
    probe_output: np.ndarray | None  # class probabilities, or regression values (standardized)
    forced: bool = False            # sent regardless of the rate (pause, step, end)


@dataclass(frozen=True, eq=False)
class HistogramSnapshot:
    """Weight and activation histograms per layer (training/histograms.py): one for the
    initial weights (epoch 0) when a run starts from scratch, then one per epoch."""
    epoch: int                      # epochs completed when measured (0: before training)
    step: int
    #: node id → Histogram of its kernels/matrices (nodes with such parameters).
    weights: dict
    #: node id → Histogram of its output on the probe batch (every node but Input, Flatten
    #: and Dropout, whose outputs repeat their input's values in eval mode).
    activations: dict
    #: ReLU/ReLU6 node id → fraction of units that are 0 for the whole probe batch.
    dead_relu: dict[str, float]
    samples: int                    # probe samples the activations were measured on


@dataclass(frozen=True)
class TrainingEvent:
    """Something worth a marker on the curves: a setting changed by hand mid-run ("lr",
    "epochs"), or a hint about the run ("lr_hint": accuracy near chance). Where it happened
    is given on both axes: ``step`` (a batch axis) and ``at_epoch`` (an epoch axis)."""
    kind: str                 # lr | epochs | lr_hint
    epoch: int                # 1-based epoch the next batch belongs to
    batch: int                # batches already done in that epoch
    step: int                 # optimizer steps done so far
    at_epoch: float           # epochs done, as a fraction: 2.25 = a quarter into the third
    message: str              # one sentence for the log
    old: float | None = None  # lr / epochs: the value before
    new: float | None = None  # lr / epochs: the value after; lr_hint: a learning rate to try
    #: lr_hint: "lower" (the loss blew up, units died, weights grew), "higher" (nothing
    #: moved), or "" when the run cannot tell which.
    direction: str = ""
    #: lr_hint: the validation accuracy below which this run counts as near chance, so that
    #: a later epoch can tell whether the hint still stands.
    near_chance_below: float | None = None


@dataclass(frozen=True)
class StateSnapshot:
    state: str          # running | paused | stopping | finished | stopped | diverged | failed
    message: str
    epoch: int          # epochs completed
    step: int


@dataclass(frozen=True)
class RunResult:
    """What run() returns (and on_finish receives)."""
    status: str                     # finished | stopped | diverged | failed
    message: str
    epochs_completed: int
    steps: int
    history: tuple[EpochSnapshot, ...]
    seconds: float                  # wall time of this run(), pauses excluded
    samples_per_s: float
    device: str

    @property
    def final(self) -> dict:
        """The last history row, with status: what `layerlab train` prints and saves."""
        row = self.history[-1].row() if self.history else {}
        return {**row, "status": self.status, "steps": self.steps}
