"""The training step and the validation pass as plain functions of (model, objective,
optimizer, tensors): the Trainer adds control and snapshots around them, and a distributed
entry point can call them as they are."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from .batches import BatchSource
from .losses import Objective
from .optim import l1_penalty

__all__ = ["Amp", "make_amp", "forward_loss", "apply_update", "train_step", "evaluate",
           "EvalOutput", "evaluation_batch", "EVAL_BATCH", "EVAL_CPU_BYTES"]

#: Samples per forward pass of a validation pass on a GPU (without gradients, more than a
#: training batch fits), and the most on the CPU.
EVAL_BATCH = 512
#: On the CPU, a validation pass keeps one forward pass's activations (every layer's output,
#: float32) within this many bytes, so that they stay in the cache. Measured with one thread
#: on the project's 2-core VM (bench/bench_evaluation.py, docs/training.md): 512 samples at a
#: time took ResNet-8 1.9x, MobileNetV2 1.7x, the Keras MNIST convnet 1.5x and the small VGG
#: 1.35x as long as the chunks of this rule. digits_cnn's passes took 60 ms a 10-epoch run
#: at 512 and 43-44 ms at this rule's 272, in the window and headless alike.
EVAL_CPU_BYTES = 4 * 2**20
#: The fewest samples per pass on the CPU: at 32, Python's per-pass overhead made ResNet-8 and
#: the squeeze-and-excitation CNN slower again.
EVAL_BATCH_MIN = 64


def evaluation_batch(values_per_sample: int, device: torch.device,
                     train_batch: int = 1) -> int:
    """Samples per forward pass of a validation pass for a model whose layers output
    ``values_per_sample`` values for one sample (Analysis.activation_elements): on a GPU
    EVAL_BATCH or the training batch if larger; on the CPU as many as fit EVAL_CPU_BYTES."""
    if device.type != "cpu":
        return max(EVAL_BATCH, int(train_batch))
    fits = EVAL_CPU_BYTES // max(4 * int(values_per_sample), 1)
    return max(EVAL_BATCH_MIN, min(EVAL_BATCH, fits))


@dataclass(frozen=True)
class Amp:
    """Mixed precision: autocast to ``dtype`` on ``device_type``; float16 comes with a
    GradScaler against underflowing gradients (bfloat16 has float32's range and needs none)."""
    dtype: torch.dtype
    scaler: object | None  # torch GradScaler for float16
    device_type: str = "cuda"

    def context(self):
        return torch.autocast(self.device_type, dtype=self.dtype)


def _scaler(device_type: str):
    try:
        return torch.amp.GradScaler(device_type)
    except (AttributeError, TypeError):  # torch < 2.3 spells it torch.cuda.amp
        return torch.cuda.amp.GradScaler()


def make_amp(device: torch.device, mode: bool | str) -> tuple[Amp | None, str | None]:
    """(the mixed-precision setup for ``mode`` — false, true, "bf16", "fp16" — on ``device``,
    a note for the log or None). True means bfloat16 where the device has it, else float16
    with loss scaling. On the CPU, bfloat16 autocast runs everywhere but is faster only on
    CPUs with bfloat16 instructions (AVX-512 BF16, AMX); elsewhere it saves activation memory
    at some speed. Apple MPS trains in full precision."""
    if not mode:
        return None, None
    if device.type == "cuda":
        bf16 = torch.cuda.is_bf16_supported()
        if mode == "bf16" and not bf16:
            return (Amp(torch.float16, _scaler("cuda"), "cuda"),
                    "this GPU has no bfloat16: mixed precision uses float16 with loss scaling")
        if mode == "fp16" or not bf16:
            return Amp(torch.float16, _scaler("cuda"), "cuda"), None
        return Amp(torch.bfloat16, None, "cuda"), None
    if device.type == "cpu":
        if mode == "fp16":
            return (Amp(torch.float16, _scaler("cpu"), "cpu"),
                    "mixed precision on the CPU: float16 with loss scaling (slow on most "
                    "CPUs; bf16 is the usual choice there)")
        return (Amp(torch.bfloat16, None, "cpu"),
                "mixed precision on the CPU: bfloat16 autocast — faster only on CPUs with "
                "bfloat16 instructions (AVX-512 BF16, AMX), elsewhere it mainly halves the "
                "activations' memory")
    return None, (f"mixed_precision is not used on {device.type}: training in full "
                  f"precision")


def forward_loss(model: nn.Module, objective: Objective, x: torch.Tensor, y: torch.Tensor,
                 amp: Amp | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(outputs, mean loss) of one batch, in the model's current train/eval mode."""
    with amp.context() if amp else contextlib.nullcontext():
        out = model(x)
        loss = objective(out, y)
    return out, loss


def apply_update(loss: torch.Tensor, optimizer: torch.optim.Optimizer, *, l1: float = 0.0,
                 l1_params: list[nn.Parameter] | tuple = (), amp: Amp | None = None) -> None:
    """Backpropagate ``loss`` (+ the L1 penalty) and take one optimizer step. Gradients are
    left in place afterwards, so they can be looked at until the next step clears them."""
    optimizer.zero_grad(set_to_none=True)
    total = loss + l1 * l1_penalty(list(l1_params)) if l1 and l1_params else loss
    scaler = amp.scaler if amp else None
    if scaler is not None:
        scaler.scale(total).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        total.backward()
        optimizer.step()


def train_step(model: nn.Module, objective: Objective, optimizer: torch.optim.Optimizer,
               x: torch.Tensor, y: torch.Tensor, *, l1: float = 0.0,
               l1_params: list[nn.Parameter] | tuple = (), amp: Amp | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch: forward, loss, backward, step. Returns (detached loss, detached outputs)."""
    out, loss = forward_loss(model, objective, x, y, amp)
    apply_update(loss, optimizer, l1=l1, l1_params=l1_params, amp=amp)
    return loss.detach(), out.detach()


@dataclass
class EvalOutput:
    loss: float               # mean per sample
    predictions: torch.Tensor  # CPU: (N,) int64 classes or (N, T) float32 values
    n: int
    loss_sum: float = 0.0     # summed over the samples (what processes add up)


def evaluate(model: nn.Module, objective: Objective, source: BatchSource, batch_size: int,
             amp: Amp | None = None) -> EvalOutput:
    """Loss and predictions over a whole split, in eval mode without gradients (Dropout off,
    BatchNorm using its running statistics); the model's mode is restored afterwards.
    Everything accumulates on the device and syncs once at the end."""
    was_training = model.training
    model.eval()
    total = None
    preds = []
    try:
        with torch.no_grad():
            for start in range(0, source.n, batch_size):
                x, y = source.range(start, min(start + batch_size, source.n))
                with amp.context() if amp else contextlib.nullcontext():
                    out = model(x)
                s = objective(out.float(), y, reduction="sum")
                total = s if total is None else total + s
                preds.append(objective.predict(out) if objective.task == "classification"
                             else out.float())
    finally:
        model.train(was_training)
    if total is None:
        return EvalOutput(float("nan"), torch.empty(0, dtype=torch.int64), 0)
    predictions = torch.cat(preds).cpu()
    total = float(total)
    return EvalOutput(total / source.n, predictions, source.n, total)
