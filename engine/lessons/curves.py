"""Learning-rate curves that are computed, not drawn: gradient descent on real data.

The "which curve had the too-high learning rate?" quiz needs curves that are certainly right.
They come from fitting ``price ≈ w · size`` on the bundled house-price table
(resources/data/house_prices.csv) by plain gradient descent on the mean squared error, once per
learning rate. With both columns standardized the loss is a bowl in ``w`` whose curvature is
exactly 2, so each step multiplies the distance to the best weight by ``1 − 2·lr``: below 1
in size it shrinks (fast or slowly), above 1 it grows. That one number is the worked arithmetic
the learner sees.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache

from ..resources import resource_path

__all__ = ["Curve", "learning_rate_curves", "step_factor", "CURVATURE"]

#: d²L/dw² of the mean squared error with a standardized feature.
CURVATURE = 2.0


@dataclass(frozen=True)
class Curve:
    label: str                 # "A", "B", … as the quiz shows them
    lr: float
    losses: tuple[float, ...]  # the loss before the first step, then after each step
    factor: float              # 1 − 2·lr: what one step does to the distance to the best w

    @property
    def points(self) -> list[tuple[int, float]]:
        """(step, loss) pairs: what a plot draws."""
        return list(enumerate(self.losses))

    def to_json(self) -> dict:
        return {"label": self.label, "lr": self.lr, "factor": self.factor,
                "losses": [v if math.isfinite(v) else None for v in self.losses]}


@lru_cache(maxsize=1)
def _correlation() -> float:
    """Correlation of size and price in the bundled table: the best standardized weight."""
    with open(resource_path("data/house_prices.csv"), newline="", encoding="utf-8") as f:
        rows = [(float(r["size_m2"]), float(r["price"])) for r in csv.DictReader(f)]
    n = len(rows)
    mx = sum(x for x, _ in rows) / n
    my = sum(y for _, y in rows) / n
    sx = math.sqrt(sum((x - mx) ** 2 for x, _ in rows) / n)
    sy = math.sqrt(sum((y - my) ** 2 for _, y in rows) / n)
    return sum((x - mx) * (y - my) for x, y in rows) / (n * sx * sy)


def step_factor(lr: float) -> float:
    return 1.0 - CURVATURE * lr


def _descend(lr: float, steps: int) -> tuple[float, ...]:
    rho = _correlation()
    w = 0.0
    losses = []
    for _ in range(steps + 1):
        # mean((w·x − y)²) over standardized columns = w² − 2·w·ρ + 1
        loss = w * w - 2 * w * rho + 1.0
        losses.append(loss if math.isfinite(loss) else math.inf)
        w -= lr * CURVATURE * (w - rho)       # the gradient is 2·(w − ρ)
    return tuple(losses)


def learning_rate_curves(lrs, steps: int = 25) -> tuple[Curve, ...]:
    """One curve per learning rate, labelled A, B, C… in the order given."""
    return tuple(Curve(chr(ord("A") + i), float(lr), _descend(float(lr), steps),
                       step_factor(float(lr))) for i, lr in enumerate(lrs))


def best_loss() -> float:
    """The lowest loss any learning rate can reach: 1 − ρ²."""
    return 1.0 - _correlation() ** 2
