"""A classifier whose accuracy stays near chance after an epoch usually has a learning rate
that is off — and often the run itself can tell which way:

* **too high**: the loss jumped far above where it started (the steps overshoot), the weights
  grew several times larger, or most units of a ReLU layer died (pushed to always output 0 —
  they stop learning for good);
* **too low**: after a whole epoch the weights have barely moved and the loss is where it
  started;
* otherwise it cannot tell (bad labels, a network too small, data not normalized…): it says
  both, and points to the learning-rate range test (``layerlab lr-find``).

"Near chance" is measured against always guessing the commonest class of the training
split: within 15 % of the way from there to 100 %, for validation and training accuracy,
once the run has taken at least 40 steps.
Pure Python on numbers the trainer already has; the Trainer sends the result as a
``TrainingEvent`` of kind ``lr_hint`` (once per run, and again after the lr is changed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..formatting import plain_number

__all__ = ["RunSigns", "LrHint", "near_chance", "near_chance_below", "lr_hint", "round_down",
           "weights_norm", "NEAR_CHANCE", "LOSS_JUMP", "WEIGHT_GROWTH", "DEAD_SHARE", "STILL",
           "MIN_STEPS"]

#: Near chance: below chance + this share of the way from chance to 100 %.
NEAR_CHANCE = 0.15
#: No verdict before the run has taken this many optimizer steps (a first epoch of ten
#: batches has not had time to learn anything yet).
MIN_STEPS = 40
#: Too high: a batch loss above this multiple of the run's first loss…
LOSS_JUMP = 3.0
#: …or the weights' overall norm grown by this factor since the run began…
WEIGHT_GROWTH = 2.0
#: …or a ReLU layer with at least this share of dead units.
DEAD_SHARE = 0.9
#: Too low: the weights' norm changed by less than this share, and the loss by less than
#: LOSS_STILL of its first value.
STILL = 0.01
LOSS_STILL = 0.05


@dataclass(frozen=True)
class RunSigns:
    """What the trainer knows at an epoch's end."""
    epoch: int                      # 1-based epoch just finished
    steps: int                      # optimizer steps this run has taken
    lr: float
    chance: float                   # accuracy of always guessing the commonest class
    val_acc: float | None
    train_acc: float | None
    first_loss: float | None        # the run's first batch loss
    max_loss: float | None          # the largest batch loss read in this epoch
    train_loss: float
    norm_start: float | None        # the weights' L2 norm when the run began
    norm_now: float
    dead: dict = field(default_factory=dict)   # ReLU id → dead share (probe batch)


@dataclass(frozen=True)
class LrHint:
    direction: str                  # "lower" | "higher" | "" (cannot tell)
    message: str
    suggested_lr: float | None


def near_chance_below(chance: float) -> float:
    """The accuracy under which a run counts as near chance."""
    return chance + NEAR_CHANCE * (1.0 - chance)


def near_chance(acc: float | None, chance: float) -> bool:
    return acc is not None and acc < near_chance_below(chance)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _lr(x: float) -> str:
    return f"{x:g}"


def round_down(x: float) -> float:
    """One significant digit, rounded down: 0.0347 → 0.03 (a learning rate to try)."""
    if x <= 0:
        return x
    exp = math.floor(math.log10(x))
    return math.floor(x / 10 ** exp + 1e-9) * 10 ** exp


def weights_norm(model) -> float:
    """The L2 norm of all of a model's parameters together (one host sync)."""
    import torch
    norms = [torch.linalg.vector_norm(p.detach().float()) for p in model.parameters()]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


def lr_hint(s: RunSigns) -> LrHint | None:
    """The hint for an epoch's end, or None when accuracy is not near chance (or the run
    has taken fewer than MIN_STEPS steps)."""
    if s.steps < MIN_STEPS or not (near_chance(s.val_acc, s.chance)
            and (s.train_acc is None or near_chance(s.train_acc, s.chance))):
        return None
    where = (f"validation accuracy is {_pct(s.val_acc)} after epoch {s.epoch} — about chance "
             f"({_pct(s.chance)} for always guessing the commonest class)")
    high = []
    if s.first_loss and s.max_loss is not None and (
            not math.isfinite(s.max_loss) or s.max_loss > LOSS_JUMP * s.first_loss):
        high.append(f"the loss jumped to {plain_number(s.max_loss)} from "
                    f"{plain_number(s.first_loss)}")
    if s.norm_start and s.norm_now > WEIGHT_GROWTH * s.norm_start:
        high.append(f"the weights grew {plain_number(s.norm_now / s.norm_start, 2)}× larger")
    dead = [(share, node) for node, share in s.dead.items() if share >= DEAD_SHARE]
    if dead:
        share, node = max(dead)
        high.append(f"{_pct(share)} of {node}'s units are dead (they output 0 for every "
                    f"sample and stop learning)")
    if high:
        lower = round_down(s.lr / 10)
        return LrHint("lower", f"{where}: the learning rate {_lr(s.lr)} is probably too high "
                               f"— {'; '.join(high)}. Try {_lr(lower)}.", lower)
    if (s.norm_start and abs(s.norm_now / s.norm_start - 1.0) < STILL
            and s.first_loss and s.train_loss > (1 - LOSS_STILL) * s.first_loss):
        higher = s.lr * 10
        moved = abs(s.norm_now / s.norm_start - 1.0)
        return LrHint("higher", f"{where}: the learning rate {_lr(s.lr)} is probably too low "
                                f"— the weights have barely moved ({100 * moved:.2f} %) and "
                                f"the loss is still {plain_number(s.train_loss)} (it started "
                                f"at {plain_number(s.first_loss)}). Try {_lr(higher)}.",
                      higher)
    return LrHint("", f"{where}: the learning rate {_lr(s.lr)} may be too high or too low — "
                      f"try 10× lower and 10× higher, or run the learning-rate range test "
                      f"(layerlab lr-find).", None)
