"""What the app and its training worker say to each other: plain, picklable data.

The app sends :class:`Call` s; the worker answers each with a :class:`Reply` and, unasked,
sends :class:`Event` s (the training stream: the Trainer's own snapshots, unchanged). Every
message carries a *generation*: the app starts a new one for every project it opens, and
drops anything tagged with another — so nothing a previous project's run still sends can
reach the new project's views. Generation 0 is the worker's own (start-up, devices), valid for
every project.

Nothing here imports torch: the app reads these types without loading it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "Reply", "Event", "EVENTS", "WORKER_GENERATION", "DatasetFacts",
           "SessionInfo", "Prediction", "Samples", "WorkerInfo", "Rescued"]

#: Events that belong to the worker, not to a project.
WORKER_GENERATION = 0

#: What the worker sends unasked, and the payload of each:
EVENTS = (
    "ready",        # WorkerInfo: torch is imported, the devices are known
    "warm",         # None: torch's one-time costs are paid (the first Train starts at once)
    "session",      # SessionInfo: the model the worker now holds for this project
    "run_started",  # engine RunInfo
    "batch",        # engine BatchSnapshot
    "epoch",        # engine EpochSnapshot
    "visuals",      # engine VisualSnapshot (feature maps only of the watched nodes)
    "evaluation",   # engine EvalSnapshot
    "state",        # engine StateSnapshot
    "run_ended",    # engine RunResult, or None when the run never began
    "failed",       # (title, message): the engine's words, no traceback
    "rescued",      # Rescued: the last good weights are on disk (crash recovery)
)


@dataclass(frozen=True)
class Call:
    """A request to the worker: ``name`` is a declared request (requests.py)."""
    id: int
    name: str
    args: dict = field(default_factory=dict)
    generation: int = WORKER_GENERATION


@dataclass(frozen=True)
class Reply:
    """The answer to one Call: ``value`` (plain data) or ``error`` (a sentence); ``store``
    names where the app keeps it (the request's declaration says)."""
    id: int
    name: str
    store: str | None
    value: Any = None
    error: str | None = None
    generation: int = WORKER_GENERATION


@dataclass(frozen=True)
class Event:
    kind: str
    payload: Any = None
    generation: int = WORKER_GENERATION


@dataclass(frozen=True)
class WorkerInfo:
    pid: int
    torch_version: str
    devices: tuple[tuple[str, str], ...]      # (value for the "device" setting, label)
    dataset_kinds: dict                       # kind → one-line description (for tooltips)
    threads: int                              # torch intra-op threads the worker uses


@dataclass(frozen=True)
class DatasetFacts:
    """A project's dataset as the views need it (no tensors): how many classes, what they
    are called, the sample shape, the normalization to show raw values — or why it cannot be
    loaded."""
    description: str = ""
    name: str = ""
    task: str = ""                           # classification | regression ("" unknown)
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    target_names: tuple[str, ...] = ()
    input_shape: tuple[int, ...] = ()
    num_train: int = 0
    num_val: int = 0
    normalization: dict = field(default_factory=dict)   # JSON-like: lists, not arrays
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.input_shape)


@dataclass(frozen=True)
class SessionInfo:
    """The trainer the worker holds for the project (trained, training or loaded)."""
    graph_key: str                  # what the weights depend on (the app computed it)
    settings_key: str               # what an exact continuation depends on
    dataset: DatasetFacts
    node_ids: tuple[str, ...]
    node_types: dict
    conv_ids: tuple[str, ...]
    relu_ids: tuple[str, ...]
    device: str
    device_name: str
    epoch: int                      # epochs completed
    step: int = 0                   # optimizer steps taken
    epochs_target: int = 0          # the epochs its last run aimed for
    history: tuple = ()             # EpochSnapshot rows so far
    loaded_from: str | None = None  # the checkpoint folder it came from, if loaded
    notes: tuple[str, ...] = ()

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.dataset.class_names

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.dataset.input_shape

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.dataset.feature_names

    @property
    def target_names(self) -> tuple[str, ...]:
        return self.dataset.target_names

    @property
    def num_val(self) -> int:
        return self.dataset.num_val


@dataclass(frozen=True, eq=False)
class Prediction:
    token: int
    values: Any                     # probabilities (classification) or standardized values
    real: Any = None                # regression: the values in the target's own units


@dataclass(frozen=True, eq=False)
class Samples:
    """Validation samples, ready to show: images 0..1 as (N, H, W) or (N, H, W, 3)."""
    indices: tuple[int, ...]
    images: Any                     # numpy array, or None for tables
    targets: tuple = ()


@dataclass(frozen=True)
class Rescued:
    directory: str
    epoch: int
    step: int
