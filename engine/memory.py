"""How much memory training or exporting a graph needs — estimated from the shape analysis,
before anything is allocated — and how much the device has.

Issue 13 (defect 5): a Linear with 10¹² parameters made ``layerlab train`` try to allocate
4 TB, and ``export`` of a 3×100000×100000 Input a 240 GB example input. The analysis already
knows every parameter and every node's output size, so the trainer (``training.setup``) and
the exporters ask here first and refuse with a message saying what to shrink.

Training needs, in float32 (mixed precision halves the saved activations):

* the weights, their gradients, the optimizer's state (Adam keeps two values per weight,
  SGD with momentum and RMSprop one, Adagrad one) and the trainer's last-good copy of weights
  and optimizer state (for NaN recovery);
* the activations autograd keeps for the backward pass — every node's output for the batch —
  plus the largest output's gradient in flight.

Available memory: a CUDA GPU's free memory (``torch.cuda.mem_get_info``); on the CPU, Linux's
MemAvailable (capped by a cgroup's memory.max, as in containers), Windows'
GlobalMemoryStatusEx, else the physical memory size (macOS). When nothing can be read, no
limit is applied.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MemoryEstimate", "training_estimate", "inference_estimate", "available_memory",
           "memory_problem", "export_problem", "human_bytes", "BYTES_PER_VALUE",
           "OPTIMIZER_STATES"]

BYTES_PER_VALUE = 4  # float32
#: Values of optimizer state per weight (SGD/RMSprop: one more with momentum).
OPTIMIZER_STATES = {"sgd": 0, "adam": 2, "adamw": 2, "rmsprop": 1, "adagrad": 1}


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs, by what holds them."""
    parameters: int            # how many weights
    weights: int
    gradients: int
    optimizer_state: int
    last_good: int             # the trainer's copy of weights + optimizer state
    inputs: int                # example or batch inputs made for the run
    activations: int
    batch_size: int
    optimizer: str = ""
    biggest_params: tuple[str, float] | None = None       # (node, share of the parameters)
    biggest_activation: tuple[str, float] | None = None   # (node, share of the activations)

    @property
    def total(self) -> int:
        return (self.weights + self.gradients + self.optimizer_state + self.last_good
                + self.inputs + self.activations)

    def describe(self) -> str:
        parts = [f"weights {human_bytes(self.weights)} for {self.parameters:,} parameters"]
        if self.gradients:
            parts.append(f"gradients {human_bytes(self.gradients)}")
        if self.optimizer_state:
            parts.append(f"{self.optimizer} state {human_bytes(self.optimizer_state)}")
        if self.last_good:
            parts.append(f"a last-good copy {human_bytes(self.last_good)}")
        if self.inputs:
            parts.append(f"inputs {human_bytes(self.inputs)}")
        parts.append(f"activations {human_bytes(self.activations)} for a batch of "
                     f"{self.batch_size}")
        return ", ".join(parts)

    def advice(self) -> str:
        """What to shrink: the layer holding most parameters, or the batch and the feature
        maps when activations dominate."""
        if self.activations + self.inputs > self.weights + self.gradients + self.optimizer_state:
            where = ""
            if self.biggest_activation:
                node, share = self.biggest_activation
                where = f" ({node} outputs {share:.0%} of them)"
            return (f"lower batch_size, or make the inputs or feature maps smaller{where}")
        where = ""
        if self.biggest_params:
            node, share = self.biggest_params
            where = f" — {node} holds {share:.0%} of the parameters"
        return f"make the largest layers smaller{where}"


def _shares(analysis) -> tuple[tuple[str, float] | None, tuple[str, float] | None]:
    infos = [i for i in analysis.nodes.values() if i.status == "ok"]
    total_p = sum(i.params for i in infos)
    total_a = sum(i.output_elements for i in infos if i.output_shape)
    params = max(infos, key=lambda i: i.params, default=None)
    acts = max((i for i in infos if i.output_shape), key=lambda i: i.output_elements,
               default=None)
    return ((params.id, params.params / total_p) if params and total_p else None,
            (acts.id, acts.output_elements / total_a) if acts and total_a else None)


def training_estimate(analysis, batch_size: int, optimizer: str = "adam",
                      momentum: float = 0.0, half_activations: bool = False) -> MemoryEstimate:
    """What training ``analysis``'s graph with this batch and optimizer needs (float32
    weights; ``half_activations`` for mixed precision)."""
    n = analysis.total_params
    weights = n * BYTES_PER_VALUE
    states = OPTIMIZER_STATES.get(optimizer, 2)
    if optimizer in ("sgd", "rmsprop") and momentum > 0:
        states += 1
    per_value = BYTES_PER_VALUE // 2 if half_activations else BYTES_PER_VALUE
    outputs = [i.output_elements for i in analysis.nodes.values() if i.output_shape]
    kept = sum(outputs) * batch_size * per_value
    in_flight = max(outputs, default=0) * batch_size * BYTES_PER_VALUE
    params, acts = _shares(analysis)
    return MemoryEstimate(parameters=n, weights=weights, gradients=weights,
                          optimizer_state=states * weights, last_good=(1 + states) * weights,
                          inputs=0, activations=kept + in_flight, batch_size=batch_size,
                          optimizer=optimizer, biggest_params=params, biggest_activation=acts)


def inference_estimate(analysis, batch_size: int = 1) -> MemoryEstimate:
    """A forward pass without gradients on a made-up batch (an export's example input): the
    weights, the inputs, and the two largest node outputs alive at once."""
    n = analysis.total_params
    outputs = sorted((i.output_elements for i in analysis.nodes.values() if i.output_shape),
                     reverse=True)
    inputs = 0
    if analysis.input_node is not None and analysis.nodes[analysis.input_node].output_shape:
        inputs = analysis.nodes[analysis.input_node].output_elements * batch_size
    params, acts = _shares(analysis)
    return MemoryEstimate(parameters=n, weights=n * BYTES_PER_VALUE, gradients=0,
                          optimizer_state=0, last_good=0, inputs=inputs * BYTES_PER_VALUE,
                          activations=sum(outputs[:2]) * batch_size * BYTES_PER_VALUE,
                          batch_size=batch_size, biggest_params=params,
                          biggest_activation=acts)


@dataclass(frozen=True)
class Available:
    bytes: int
    where: str       # "the CPU (MemAvailable)", "cuda:0"


def _linux_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
                break
        else:
            return None
    except (OSError, ValueError, IndexError):
        return None
    # A container's limit (cgroup v2) can be far below the machine's free memory.
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            free = min(free, max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    return free


def _windows_available() -> int | None:
    import ctypes

    class Status(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong),
                    ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong),
                    ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = Status()
    status.dwLength = ctypes.sizeof(Status)
    try:
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore
            return int(status.ullAvailPhys)
    except (AttributeError, OSError):
        pass
    return None


def _physical() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def available_memory(device: Any = "cpu") -> Available | None:
    """Free memory of ``device`` (a torch.device or its name), or None when it cannot be
    known."""
    kind = getattr(device, "type", str(device).split(":")[0])
    if kind == "cuda":
        import torch
        try:
            free, _total = torch.cuda.mem_get_info(torch.device(device))
        except (RuntimeError, AssertionError):
            return None
        return Available(int(free), str(device))
    if sys.platform.startswith("linux"):
        free, how = _linux_available(), "MemAvailable"
    elif sys.platform == "win32":
        free, how = _windows_available(), "available physical memory"
    else:  # macOS (and MPS, whose memory is the machine's): the physical size, a ceiling
        free, how = _physical(), "physical memory"
    if free is None:
        return None
    return Available(free, f"{'the CPU' if kind == 'cpu' else kind} ({how})")


def memory_problem(estimate: MemoryEstimate, device: Any = "cpu", what: str = "train"
                   ) -> str | None:
    """A message saying why ``estimate`` does not fit ``device``, or None when it fits (or
    the free memory cannot be read)."""
    free = available_memory(device)
    if free is None or estimate.total <= free.bytes:
        return None
    return (f"the model needs about {human_bytes(estimate.total)} of memory to {what} "
            f"({estimate.describe()}), but {free.where} has {human_bytes(free.bytes)} free: "
            f"{estimate.advice()}")


def export_problem(analysis, batch_size: int = 1) -> str | None:
    """Why exporting (building the model on the CPU and running ``batch_size`` made-up
    samples through it) cannot fit in memory, or None."""
    return memory_problem(inference_estimate(analysis, batch_size), "cpu", "export")
