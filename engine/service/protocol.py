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
           "SessionInfo", "Prediction", "Samples", "WorkerInfo", "Rescued", "LayerStrips",
           "HistogramStrips", "ExplainFrames", "SaliencyMaps", "RangeTestProgress"]

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
    "histograms",   # HistogramStrips: every epoch's weight/activation histograms so far
    "marker",       # engine TrainingEvent: lr/epochs changed by hand, or an lr_hint
    "lr_find",      # RangeTestProgress: the learning-rate range test so far
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
    #: Which trainer the worker holds: a new one (trained from scratch, loaded) gets a new
    #: serial, a continued one keeps it — so (serial, step) names a set of weights.
    serial: int = 0
    standardized_targets: bool = False   # regression: the loss is on standardized targets
    loss: str = ""                       # the resolved loss name

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


# --- looking inside: what the explainer, saliency, histogram and range-test views draw -----------
@dataclass(frozen=True, eq=False)
class LayerStrips:
    """One layer's histograms over epochs on one set of bin edges (engine Strips as data)."""
    epochs: tuple[int, ...]          # epochs completed when measured (0: initial weights)
    edges: Any                       # (bins + 1,) float32
    counts: Any                      # (len(epochs), bins) int64


@dataclass(frozen=True, eq=False)
class HistogramStrips:
    """Every histogram of the session's run(s) so far, stacked per layer (a strip per epoch),
    and the dead-ReLU share of each ReLU per epoch."""
    epoch: int                                   # the newest epoch measured
    step: int
    weights: dict                                # node id → LayerStrips
    activations: dict                            # node id → LayerStrips
    dead_relu: dict                              # node id → ((epoch, share), …)
    samples: int                                 # probe samples the activations came from
    serial: int = 0                              # the trainer (SessionInfo.serial)


@dataclass(frozen=True, eq=False)
class ExplainFrames:
    """Explanations of consecutive output positions of one node for one sample — the sliding
    window's frames (a map's channel in reading order, or a vector's features). Each frame is
    the engine's explanation as a dict of its fields (numpy arrays as they are) plus
    ``lines`` (the worked text) and ``explained``."""
    node: str
    type: str
    sample: int
    split: str
    version: tuple[int, int]         # (SessionInfo.serial, step) of the weights explained
    shape: tuple[int, ...]           # the node's output shape for one sample
    channel: int | None              # the map swept (C×H×W outputs), None for vectors
    start: int                       # the first frame's position in the sweep
    total: int                       # positions in the whole sweep
    frames: tuple = ()
    source: str | None = None        # the node whose maps the window lies on
    source_channels: tuple[int, ...] = ()
    source_maps: Any = None          # (len(source_channels), H, W) float32, or None
    output_map: Any = None           # this channel's map (H, W) or the vector, float32
    image: Any = None                # the sample as shown: (H, W) or (H, W, 3) in 0..1
    label: str = ""                  # its true class / target
    predicted: str = ""              # the network's answer for it

    def position_of(self, index) -> int:
        """The sweep position of an output index (channel, row, col) or (feature,)."""
        index = tuple(int(i) for i in index)
        if self.channel is not None and len(self.shape) == 3:
            return index[1] * int(self.shape[2]) + index[2]
        return index[0] if index else 0


@dataclass(frozen=True, eq=False)
class SaliencyMaps:
    """Where the network looked, for one input or several (a gallery), ready to draw."""
    method: str                      # gradcam | gradient
    node: str | None                 # Grad-CAM's layer
    subject: str                     # what was explained, in words
    targets: tuple[int, ...]         # the class (output unit) explained, per input
    predicted: tuple[int, ...]
    images: Any                      # (N, H, W) or (N, H, W, 3) in 0..1, None for tables
    heat: Any                        # (N, H, W) in 0..1 over the image, or (N, features)
    heat_raw: Any                    # the heatmaps at their own size (Grad-CAM: the layer's)
    peaks: Any                       # (N,) the maxima before scaling (0: nothing for it)
    probabilities: Any               # (N, classes) or the outputs for regression
    indices: tuple[int, ...] = ()    # validation indices, when the inputs are samples
    labels: tuple = ()               # their true classes, when known
    version: tuple[int, int] = (0, 0)
    key: tuple = ()                  # what was asked (the view matches it to its question)


@dataclass(frozen=True, eq=False)
class RangeTestProgress:
    """The learning-rate range test as it goes; ``result`` (engine LrRangeResult) at the end."""
    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    batches: int                     # asked for
    result: Any = None
    error: str | None = None
