"""The project's "training" section: defaults, bounds and validation (docs/training.md).

Pure Python (no torch import), so an editor can validate settings as the user types. Parsing
collects every problem, each naming its field, and raises one TrainingConfigError, the way the
project loader reports a file.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from numbers import Integral, Real
from typing import Any

from .errors import ConfigProblem, TrainingConfigError

__all__ = ["LOSSES", "OPTIMIZERS", "SCHEDULES", "DEVICES", "PRECISIONS", "DEFAULT_LR",
           "ScheduleConfig", "SnapshotConfig", "TrainingConfig", "parse_training",
           "check_training", "resolve_loss", "DEFAULT_LOSS"]

LOSSES = ("auto", "cross_entropy", "mse", "l1", "bce_with_logits")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps")
#: lr when the section leaves it out: the usual starting point of each optimizer (Keras').
DEFAULT_LR = {"sgd": 0.01, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.001, "adagrad": 0.01}
#: training.threads at most (0 leaves torch's own choice).
MAX_THREADS = 1024
#: loss "auto" by dataset task.
DEFAULT_LOSS = {"classification": "cross_entropy", "regression": "mse"}


@dataclass(frozen=True)
class ScheduleConfig:
    kind: str = "none"        # none | step | cosine; applied per epoch
    step_size: int = 10       # step: multiply lr by gamma every step_size epochs
    gamma: float = 0.1


@dataclass(frozen=True)
class SnapshotConfig:
    """What observers receive and how often (wall clock, so cost stays a bounded share)."""
    batch_hz: float = 20.0        # batch-loss snapshots per second at most; 0 = none
    visual_hz: float = 3.0        # filters/feature maps/gradients/dead ReLUs per second at most
    visual_budget: float = 0.02   # ...and at most this share of wall time (slow models space out)
    evaluation_hz: float = 1000.0  # evaluations/s at most (a run's last epoch: always); 0 = none
    filters: bool = True
    feature_maps: bool = True
    gradients: bool = True
    dead_relu: bool = True
    probe_batch: int = 32         # validation samples the dead-ReLU fraction is measured on
    misclassified_per_cell: int = 100  # validation indices kept per confusion cell
    histograms: bool = True       # weight/activation histograms per epoch (on_histograms)
    histogram_budget: float = 0.01  # ...at most this share of wall time (1: every epoch)


@dataclass(frozen=True)
class TrainingConfig:
    loss: str = "auto"
    optimizer: str = "adam"
    lr: float = DEFAULT_LR["adam"]
    momentum: float = 0.0          # sgd, rmsprop
    nesterov: bool = False         # sgd (needs momentum > 0)
    betas: tuple[float, float] = (0.9, 0.999)  # adam, adamw
    batch_size: int = 32
    epochs: int = 10
    weight_decay: float = 0.0      # L2; decoupled for adamw
    l1: float = 0.0                # + l1 · Σ|w| over weight matrices/kernels
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    seed: int = 0
    device: str = "auto"
    #: false | true (bfloat16 where the device has it, else float16 with loss scaling) |
    #: "bf16" | "fp16" — autocast on CUDA and the CPU; ignored (with a note) on Apple MPS.
    mixed_precision: bool | str = False
    channels_last: bool = False    # image models: NHWC memory layout (faster convs on GPUs)
    deterministic: bool = True     # deterministic CUDA kernels (cuDNN, cuBLAS, scatter…)
    #: torch's CPU threads during a run (0: leave the process's setting): the same count on
    #: every laptop of a workshop gives the same curve bit for bit (docs/workshop.md).
    threads: int = 0
    checkpoint_every: int = 0      # epochs between checkpoints written by `layerlab train`
    snapshots: SnapshotConfig = field(default_factory=SnapshotConfig)

    def to_dict(self) -> dict[str, Any]:
        """The full section, every default spelled out (JSON-ready)."""
        data = asdict(self)
        data["betas"] = list(self.betas)
        return data

    def with_overrides(self, **changes: Any) -> "TrainingConfig":
        return replace(self, **changes)


def resolve_loss(loss: str, task: str) -> str:
    return DEFAULT_LOSS.get(task, "cross_entropy") if loss == "auto" else loss


# --- validation ----------------------------------------------------------------------------

_TOP = ("loss", "optimizer", "lr", "momentum", "nesterov", "betas", "batch_size", "epochs",
        "weight_decay", "l1", "schedule", "seed", "device", "mixed_precision", "channels_last",
        "deterministic", "threads",
        "checkpoint_every", "snapshots")
_SCHEDULE = ("kind", "step_size", "gamma")
_SNAPSHOTS = tuple(SnapshotConfig.__dataclass_fields__)


class _Reader:
    """Reads fields of one object, recording problems instead of raising at the first."""

    def __init__(self, data: dict, prefix: str, problems: list[ConfigProblem]) -> None:
        self.data, self.prefix, self.problems = data, prefix, problems

    def fail(self, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(f"{self.prefix}.{key}", message))

    def unknown(self, known: tuple[str, ...]) -> None:
        for key in sorted(set(self.data) - set(known), key=str):
            self.fail(str(key), f"unknown field (known fields: {', '.join(known)})")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)} (found {_show(value)})")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false (found {_show(value)})")
            return default
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, Integral):
            self.fail(key, f"must be a whole number from {low:,} to {high:,} "
                           f"(found {_show(value)})")
            return default
        if not low <= value <= high:
            self.fail(key, f"must be from {low:,} to {high:,} (found {value:,})")
            return default
        return int(value)

    def number(self, key: str, default: float, low: float, high: float,
               low_open: bool = False, high_open: bool = False) -> float:
        value = self.data.get(key, default)
        bounds = (f"{'>' if low_open else '≥'} {low:g} and "
                  f"{'<' if high_open else '≤'} {high:g}")
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            self.fail(key, f"must be a number {bounds} (found {_show(value)})")
            return default
        value = float(value)
        if (value < low or (low_open and value == low) or value > high
                or (high_open and value == high)):
            self.fail(key, f"must be {bounds} (found {value:g})")
            return default
        return value


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _json_like(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_like(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _parse_schedule(raw: Any, problems: list[ConfigProblem]) -> ScheduleConfig:
    # "cosine" is shorthand for {"kind": "cosine"}.
    if raw is None or isinstance(raw, str):
        raw = {"kind": "none" if raw is None else raw}
    if not isinstance(raw, dict):
        problems.append(ConfigProblem("training.schedule", 'must be "none", "step", "cosine" or '
                                      'an object like {"kind": "step", "step_size": 10, '
                                      f'"gamma": 0.1}} (found {_show(raw)})'))
        return ScheduleConfig()
    r = _Reader(raw, "training.schedule", problems)
    r.unknown(_SCHEDULE)
    d = ScheduleConfig()
    return ScheduleConfig(kind=r.choice("kind", d.kind, SCHEDULES),
                          step_size=r.integer("step_size", d.step_size, 1, 100_000),
                          gamma=r.number("gamma", d.gamma, 0.0, 1.0, low_open=True))


def _parse_snapshots(raw: Any, problems: list[ConfigProblem]) -> SnapshotConfig:
    if raw is None:
        return SnapshotConfig()
    if not isinstance(raw, dict):
        problems.append(ConfigProblem("training.snapshots",
                                      f"must be an object (found {_show(raw)})"))
        return SnapshotConfig()
    r = _Reader(raw, "training.snapshots", problems)
    r.unknown(_SNAPSHOTS)
    d = SnapshotConfig()
    return SnapshotConfig(
        batch_hz=r.number("batch_hz", d.batch_hz, 0.0, 1000.0),
        visual_hz=r.number("visual_hz", d.visual_hz, 0.0, 60.0),
        visual_budget=r.number("visual_budget", d.visual_budget, 0.0, 1.0, low_open=True),
        evaluation_hz=r.number("evaluation_hz", d.evaluation_hz, 0.0, 1000.0),
        filters=r.boolean("filters", d.filters),
        feature_maps=r.boolean("feature_maps", d.feature_maps),
        gradients=r.boolean("gradients", d.gradients),
        dead_relu=r.boolean("dead_relu", d.dead_relu),
        probe_batch=r.integer("probe_batch", d.probe_batch, 1, 4096),
        misclassified_per_cell=r.integer("misclassified_per_cell", d.misclassified_per_cell,
                                         0, 1_000_000),
        histograms=r.boolean("histograms", d.histograms),
        histogram_budget=r.number("histogram_budget", d.histogram_budget, 0.0, 1.0,
                                  low_open=True),
    )


PRECISIONS = ("bf16", "fp16")


def _parse_precision(r: _Reader) -> bool | str:
    value = r.data.get("mixed_precision", False)
    if isinstance(value, bool) or value in PRECISIONS:
        return value
    r.fail("mixed_precision", f'must be true, false, "bf16" or "fp16" (found {_show(value)})')
    return False


def _parse_device(r: _Reader) -> str:
    value = r.data.get("device", "auto")
    if value in DEVICES:
        return value
    # "cuda:1" picks one GPU of several.
    if isinstance(value, str) and value.startswith("cuda:") and value[5:].isdigit():
        return value
    r.fail("device", f"must be one of {', '.join(DEVICES)} or cuda:N (found {_show(value)})")
    return "auto"


def _parse(section: Any) -> tuple[TrainingConfig, list[ConfigProblem]]:
    problems: list[ConfigProblem] = []
    if section is None:
        section = {}
    if not isinstance(section, dict):
        return TrainingConfig(), [ConfigProblem("training", f"must be an object (found "
                                                            f"{_show(section)})")]
    r = _Reader(section, "training", problems)
    r.unknown(_TOP)
    d = TrainingConfig()
    optimizer = r.choice("optimizer", d.optimizer, OPTIMIZERS)
    momentum = r.number("momentum", d.momentum, 0.0, 1.0, high_open=True)
    nesterov = r.boolean("nesterov", d.nesterov)
    if nesterov and optimizer == "sgd" and momentum == 0.0:
        r.fail("nesterov", "needs momentum > 0 (Nesterov momentum is a kind of momentum) — "
                           "set momentum to e.g. 0.9")
    betas = section.get("betas", list(d.betas))
    if (not isinstance(betas, (list, tuple)) or len(betas) != 2
            or not all(isinstance(b, Real) and not isinstance(b, bool) and 0 <= b < 1
                       for b in betas)):
        r.fail("betas", f"must be two numbers ≥ 0 and < 1, like [0.9, 0.999] "
                        f"(found {_show(betas)})")
        betas = d.betas
    config = TrainingConfig(
        loss=r.choice("loss", d.loss, LOSSES),
        optimizer=optimizer,
        lr=r.number("lr", DEFAULT_LR[optimizer], 0.0, 10.0, low_open=True),
        momentum=momentum,
        nesterov=nesterov,
        betas=(float(betas[0]), float(betas[1])),
        batch_size=r.integer("batch_size", d.batch_size, 1, 65_536),
        epochs=r.integer("epochs", d.epochs, 1, 100_000),
        weight_decay=r.number("weight_decay", d.weight_decay, 0.0, 1.0),
        l1=r.number("l1", d.l1, 0.0, 1.0),
        schedule=_parse_schedule(section.get("schedule"), problems),
        seed=r.integer("seed", d.seed, 0, 2**63 - 1),
        device=_parse_device(r),
        mixed_precision=_parse_precision(r),
        channels_last=r.boolean("channels_last", d.channels_last),
        deterministic=r.boolean("deterministic", d.deterministic),
        threads=r.integer("threads", d.threads, 0, MAX_THREADS),
        checkpoint_every=r.integer("checkpoint_every", d.checkpoint_every, 0, 100_000),
        snapshots=_parse_snapshots(section.get("snapshots"), problems),
    )
    return config, problems


def check_training(section: Any) -> list[ConfigProblem]:
    """Every problem with a "training" section; empty when it is valid. Never raises."""
    return _parse(section)[1]


def parse_training(section: Any, **overrides: Any) -> TrainingConfig:
    """The validated TrainingConfig, defaults filled in. ``overrides`` (e.g. from the command
    line: epochs=5, device="cpu") replace section keys before validation, so they are checked
    the same way. Raises TrainingConfigError naming every field at fault."""
    if overrides:
        section = {**(section if isinstance(section, dict) else {}),
                   **{k: v for k, v in overrides.items() if v is not None}}
    config, problems = _parse(section)
    if problems:
        raise TrainingConfigError(problems)
    return config
