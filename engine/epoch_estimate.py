"""How long one epoch will take, said before training starts.

The shape analysis knows every node's multiply-accumulates (MACs) and output size per sample;
the dataset's declaration knows how many samples there are without loading them; a short
micro-benchmark measures how fast *this* machine's device does each kind of work. The epoch
time is then

    batches × (a step's fixed cost + layers × a layer's fixed cost)
    + training samples × (3 × forward MACs ÷ MAC rate + 2 × activation values ÷ value rate)
    + validation samples × a third of that

Training costs about three forward passes (the forward, and the backward's gradients with
respect to the inputs and to the weights). MACs alone miss what dominates big images through
cheap layers — reading and writing memory: each value a node outputs is written, read by the
next layer and passed back as a gradient, so it is charged two passes at the rate a ReLU
moves values forward and back here. Small networks are dominated by the fixed costs of a step
and of each layer, measured on a tiny model.

The rates are measured once per process, device and thread count (under a second on a laptop
CPU, then cached; each figure is the fastest of several runs), never hard-coded.
``bench/bench_epoch_estimate.py`` compares the estimates with measured epochs of every
template: within about a factor of two, except where one layer type does many passes over
big maps (the worked example's L2 pooling on 64×254×254 takes several times its estimate).

    from layerlab.engine.epoch_estimate import estimate_epoch
    estimate = estimate_epoch(project, base_dir)       # None: the graph cannot be built
    print(estimate.text())                             # "≈ 40 s per epoch on the CPU (8 threads)"

This module imports torch only when a rate is measured.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .graph import Project
from .inference import Analysis, analyze

__all__ = ["DeviceRate", "Work", "EpochEstimate", "measure_rate", "cached_rate", "epoch_work",
           "estimate_epoch", "format_duration"]

#: Validation is a forward pass: about a third of a training step's work per sample.
VALIDATION_SHARE = 1 / 3
#: Each value a node outputs is written, read by the next layer and passed back as a gradient:
#: about two ReLU passes' worth (bench/bench_epoch_estimate.py).
VALUE_PASSES = 2
#: How long each measurement runs (after a warm-up), in seconds.
MEASURE_S = 0.2


@dataclass(frozen=True)
class DeviceRate:
    """What one device does per second, measured here."""
    device: str           # torch device string: "cpu", "cuda:0", "mps"
    name: str             # for people: "the CPU (8 threads)", "NVIDIA H100"
    macs_per_s: float     # training MACs (3 × the forward's) per second, in a 3×3 convolution
    values_per_s: float   # activation values per second through a ReLU, forward and backward
    layer_s: float        # the fixed cost of one layer's forward and backward, whatever its size
    step_s: float         # the fixed cost of one optimizer step (a tiny model's whole step)


@dataclass(frozen=True)
class Work:
    """What one epoch of ``project`` asks for; known without torch or loading the data."""
    forward_macs: int               # per sample
    activation_values: int          # per sample: every node's output
    layers: int                     # nodes: each has a fixed cost per step, whatever its size
    train_samples: int | None       # None: the dataset does not say without loading it
    val_samples: int | None
    batch_size: int

    @property
    def batches(self) -> int | None:
        if self.train_samples is None:
            return None
        return max(1, math.ceil(self.train_samples / self.batch_size))


@dataclass(frozen=True)
class EpochEstimate:
    work: Work
    rate: DeviceRate
    #: Seconds per training sample (MACs and values), and the fixed seconds of a step.
    sample_s: float
    step_s: float
    #: The whole epoch, validation included; None when the sample count is not known.
    seconds: float | None

    def per_epoch(self) -> str:
        """"≈ 40 s per epoch", or per 1,000 samples when the sample count is not known."""
        if self.seconds is None:
            per = 1000 * self.sample_s * (1 + VALIDATION_SHARE) + \
                math.ceil(1000 / self.work.batch_size) * self.step_s
            return f"{format_duration(per)} per 1,000 samples"
        return f"{format_duration(self.seconds)} per epoch"

    def text(self) -> str:
        """"≈ 40 s per epoch on the CPU (8 threads)"."""
        return f"{self.per_epoch()} on {self.rate.name}"


def format_duration(seconds: float) -> str:
    """An estimate's duration, as precise as an estimate is: "under a second", "≈ 8 s",
    "≈ 2 min 30 s", "≈ 14 min", "≈ 1 h 20 min"."""
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"≈ {round(seconds)} s"
    if seconds < 600:
        tens = round(seconds / 10) * 10
        minutes, rest = divmod(tens, 60)
        return f"≈ {minutes} min" + (f" {rest} s" if rest else "")
    if seconds < 3600:
        return f"≈ {round(seconds / 60)} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"≈ {hours} h" + (f" {minutes} min" if minutes else "")


# --- the work ------------------------------------------------------------------------------------
def epoch_work(project: Project, base_dir: str | Path | None = None,
               analysis: Analysis | None = None, samples: int | None = None) -> Work | None:
    """The epoch's work, or None when the graph cannot be built or its training section or
    dataset cannot be read (the editor reports those). ``samples``: the dataset's size, when
    the caller knows it and the declaration does not (a CSV, an image folder)."""
    from .data import DatasetError
    from .data.fit import dataset_spec, peek
    from .data.kinds import resolve_spec
    from .data.splits import split_indices
    from .training.config import parse_training
    from .training.errors import TrainingConfigError

    analysis = analysis or analyze(project.graph)
    if not analysis.ok:
        return None
    try:
        batch_size = parse_training(project.training or {}).batch_size
        spec = dataset_spec(project, analysis)
        _kind, values = resolve_spec(spec)
        known = peek(spec, base_dir).samples
    except (DatasetError, TrainingConfigError):
        return None
    total = samples if samples is not None else known
    train = val = None
    if total is not None and total >= 2:
        # The split's own arithmetic (a permutation of ``total`` indices: cheap).
        train_idx, val_idx = split_indices(total, values["val_fraction"], values["seed"],
                                           values["limit"])
        train, val = len(train_idx), len(val_idx)
        if values["train_samples"] is not None:
            train = min(train, values["train_samples"])
    return Work(analysis.total_macs, analysis.activation_elements(), len(analysis.nodes), train,
                val, batch_size)


def estimate_epoch(project: Project, base_dir: str | Path | None = None, *,
                   device: str = "auto", samples: int | None = None,
                   rate: DeviceRate | None = None,
                   analysis: Analysis | None = None) -> EpochEstimate | None:
    """How long one epoch of ``project`` will take on ``device`` ("auto": where the trainer
    would run it), or None when the graph cannot be built or the dataset cannot be read.
    Measures the device's rate the first time in this process (see :func:`measure_rate`);
    pass ``rate`` to use one measured before."""
    work = epoch_work(project, base_dir, analysis, samples)
    if work is None:
        return None
    return estimate_from(work, rate or measure_rate(device))


def estimate_from(work: Work, rate: DeviceRate) -> EpochEstimate:
    """The estimate for ``work`` at ``rate`` (pure arithmetic)."""
    sample_s = (3 * work.forward_macs / rate.macs_per_s
                + VALUE_PASSES * work.activation_values / rate.values_per_s)
    step_s = rate.step_s + work.layers * rate.layer_s
    seconds = None
    if work.train_samples is not None:
        seconds = (work.batches * step_s + work.train_samples * sample_s
                   + (work.val_samples or 0) * sample_s * VALIDATION_SHARE)
    return EpochEstimate(work, rate, sample_s, step_s, seconds)


# --- the rate ------------------------------------------------------------------------------------
_rates: dict[tuple, DeviceRate] = {}
_lock = threading.Lock()


def cached_rate(device: str = "auto") -> DeviceRate | None:
    """The rate measured for ``device`` in this process, or None when not yet measured
    (never measures: safe to call from a GUI thread)."""
    key = _key(device, measure=False)
    return _rates.get(key) if key is not None else None


def measure_rate(device: str = "auto") -> DeviceRate:
    """``device``'s rate, measured the first time it is asked for in this process (about a
    second; call it from a worker thread in a GUI) and cached, per device and thread count.
    Raises training.DeviceError when the device is not available."""
    key = _key(device, measure=True)
    with _lock:
        found = _rates.get(key)
        if found is None:
            found = _rates[key] = _measure(key[0])
    return found


def _key(device: str, measure: bool) -> tuple | None:
    import sys
    if "torch" not in sys.modules and not measure:
        return None        # nothing can have been measured yet; do not import torch here
    import torch

    from .training.device import resolve_device
    info = resolve_device(device)
    return (info.device, torch.get_num_threads())


def _measure(device: str) -> DeviceRate:
    import torch

    from .training.device import resolve_device
    info = resolve_device(device)
    dev = torch.device(info.device)
    name = f"the CPU ({torch.get_num_threads()} threads)" if dev.type == "cpu" else info.name

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        elif dev.type == "mps":
            torch.mps.synchronize()

    def fastest(step) -> float:
        """The fastest of at least three ``step()`` runs within about MEASURE_S seconds
        (after a warm-up): what the device does when nothing else gets in its way."""
        step()
        sync()
        best, runs, start = math.inf, 0, time.perf_counter()
        while runs < 3 or time.perf_counter() - start < MEASURE_S:
            t = time.perf_counter()
            step()
            sync()
            best = min(best, time.perf_counter() - t)
            runs += 1
        return best

    gen = torch.Generator(device="cpu").manual_seed(0)
    big = 8 if dev.type != "cpu" else 1      # keep an accelerator busy enough to be measured

    # MACs: a 3×3 convolution of 64 channels on 56×56 maps, forward and backward.
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(dev)
    x = torch.randn((8 * big, 64, 56, 56), generator=gen).to(dev).requires_grad_()
    macs = 3 * x.shape[0] * 64 * 64 * 9 * 56 * 56
    macs_per_s = macs / fastest(lambda: conv(x).sum().backward())

    # Values: a ReLU on 8 million values (beyond the caches), forward and backward.
    v = torch.randn((8_000_000 * big,), generator=gen).to(dev).requires_grad_()
    grad = torch.ones_like(v)
    values_per_s = v.numel() / fastest(lambda: torch.relu(v).backward(grad))

    # A layer's fixed cost: 16 ReLUs on a handful of values, forward and backward.
    w = torch.randn((4, 8), generator=gen).to(dev).requires_grad_()

    def chain() -> None:
        y = w
        for _ in range(16):
            y = torch.relu(y)
        y.sum().backward()

    layer_s = fastest(chain) / 16

    # A step's fixed cost: a tiny model's forward, loss, backward and Adam update.
    tiny = torch.nn.Linear(8, 4).to(dev)
    opt = torch.optim.Adam(tiny.parameters())
    xs = torch.randn((4, 8), generator=gen).to(dev)
    ys = torch.zeros(4, dtype=torch.long, device=dev)

    def tiny_step() -> None:
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(tiny(xs), ys).backward()
        opt.step()

    return DeviceRate(info.device, name, macs_per_s, values_per_s, layer_s, fastest(tiny_step))
