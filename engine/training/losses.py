"""Loss functions, with the target conversions each needs, and how outputs become predictions.

Class labels arrive as int64 indices. Cross-entropy takes them as they are; BCE-with-logits and
MSE/L1 on a classification dataset compare against one-hot vectors (BCE with a single output
unit and two classes uses the label itself: 1 = the second class).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["Objective", "make_objective"]


@dataclass(frozen=True)
class Objective:
    loss: str            # cross_entropy | mse | l1 | bce_with_logits
    task: str            # classification | regression
    num_classes: int     # 0 for regression
    binary: bool         # bce_with_logits with one output unit for two classes

    def __call__(self, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        """The loss of a batch: "mean" over samples (training) or "sum" over samples
        (validation adds batches up, then divides by N, giving the same per-sample scale)."""
        if self.loss == "cross_entropy":
            return F.cross_entropy(out, y, reduction=reduction)
        target = self._target(out, y)
        fn = {"bce_with_logits": F.binary_cross_entropy_with_logits, "mse": F.mse_loss,
              "l1": F.l1_loss}[self.loss]
        if reduction == "sum":
            # "mean" also averages over the output units; a per-sample sum must too.
            return fn(out, target, reduction="sum") / out.shape[1]
        return fn(out, target, reduction=reduction)

    def _target(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task == "regression":
            return y.to(out.dtype)
        if self.binary:
            return y.to(out.dtype).view(-1, 1)
        return F.one_hot(y, self.num_classes).to(out.dtype)

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        """Class indices (N,) from model outputs; classification only."""
        if self.binary:
            return (out[:, 0] > 0).long()
        return out.argmax(1)

    def probabilities(self, out: torch.Tensor) -> torch.Tensor:
        """What the outputs mean as probabilities (classification) or values (regression)."""
        if self.task == "regression":
            return out
        if self.loss == "bce_with_logits":
            p = torch.sigmoid(out)
            return torch.cat([1 - p, p], dim=1) if self.binary else p
        if self.loss == "cross_entropy":
            return torch.softmax(out.float(), dim=1)
        return out


def make_objective(loss: str, task: str, num_classes: int, num_outputs: int) -> Objective:
    """``loss`` already resolved (not "auto"); shape checks are setup.check_model's job."""
    binary = loss == "bce_with_logits" and num_classes == 2 and num_outputs == 1
    return Objective(loss, task, num_classes, binary)
