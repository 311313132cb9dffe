"""The loss and accuracy curves of the open project's run, as growing numeric series.

They belong to the project state (a new project starts with none), not to the view that
draws them: the Loss view only turns them into plot items. Each series counts its changes
(``version``) so a view redraws only what moved; x is in epochs (fractional for batches), so
batch and epoch curves line up.

Qt-free (numpy only, imported when the first point arrives: the window paints before it).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Series", "Curves", "LIVE_SERIES", "FOLLOW_SERIES", "LOSS_SERIES",
           "EMA_HALF_LIFE_EPOCHS"]

#: The series a run draws (a new run clears them).
LIVE_SERIES = ("batch_raw", "batch_ema", "train_epoch", "val_epoch", "train_acc", "val_acc")
#: The epoch curves of a run followed in the background (dashed).
FOLLOW_SERIES = ("follow_train", "follow_val", "follow_acc")
#: The series on the loss plot (the ones a log scale applies to).
LOSS_SERIES = ("batch_raw", "batch_ema", "train_epoch", "val_epoch", "follow_train",
               "follow_val")
#: Smoothing of the batch loss, in batches (not snapshots, which skip batches at fast rates):
#: the average forgets half of its past every quarter epoch (at least every 5 batches).
EMA_HALF_LIFE_EPOCHS = 0.25


class Series:
    """A growing (x, y) buffer with amortized appends (no list → array copies per frame) that
    keeps its y extremes, so fitting the axes costs nothing per frame. Each point also keeps
    its optimizer step (NaN when unknown: a followed run's rows)."""

    def __init__(self) -> None:
        self._x = self._y = self._s = None      # allocated with the first point
        self.version = 0
        self.clear()

    def _buffers(self):
        if self._x is None:
            import numpy as np
            self._x, self._y, self._s = np.empty(256), np.empty(256), np.empty(256)
        return self._x

    def append(self, x: float, y: float, step: float = math.nan) -> None:
        if self.n == len(self._buffers()):
            import numpy as np
            self._x = np.resize(self._x, 2 * self.n)
            self._y = np.resize(self._y, 2 * self.n)
            self._s = np.resize(self._s, 2 * self.n)
        self._x[self.n], self._y[self.n], self._s[self.n] = x, y, step
        self.n += 1
        self.version += 1
        if math.isfinite(y):
            self.lo, self.hi = min(self.lo, y), max(self.hi, y)
            if y > 0:
                self.pos_lo = min(self.pos_lo, y)

    def clear(self) -> None:
        self.n = 0
        self.lo = self.pos_lo = math.inf
        self.hi = -math.inf
        self.version += 1

    @property
    def x(self) -> "np.ndarray":
        return self._buffers()[:self.n]

    @property
    def y(self) -> "np.ndarray":
        self._buffers()
        return self._y[:self.n]

    @property
    def steps(self) -> "np.ndarray":
        """The optimizer step of each point (a batch axis)."""
        self._buffers()
        return self._s[:self.n]


class Curves:
    def __init__(self) -> None:
        self.series = {name: Series() for name in LIVE_SERIES + FOLLOW_SERIES}
        self.task = ""
        self.epochs_target = 1
        #: TrainingEvents of the run: settings changed by hand (lr, epochs) and lr hints.
        self.markers: list = []
        self.markers_version = 0
        #: Optimizer steps per epoch of the run (a batch axis's scale), once known.
        self.batches_per_epoch = 0
        self._ema: float | None = None
        self._ema_step = 0

    def __getitem__(self, name: str) -> Series:
        return self.series[name]

    @property
    def empty(self) -> bool:
        return not any(s.n for s in self.series.values())

    def reset(self, task: str, epochs: int) -> None:
        """A new run from fresh weights: the live curves start over (a followed run stays)."""
        self.task = task
        self.epochs_target = max(1, int(epochs))
        for name in LIVE_SERIES:
            self.series[name].clear()
        self.markers = []
        self.markers_version += 1
        self._ema = None

    def add_marker(self, event) -> None:
        self.markers.append(event)
        self.markers_version += 1

    def add_batches(self, snaps) -> None:
        for s in snaps:
            if not math.isfinite(s.loss):
                continue
            x = (s.epoch - 1) + s.batch / max(s.batches, 1)
            if self._ema is None:
                self._ema = s.loss
            else:
                half_life = max(5.0, EMA_HALF_LIFE_EPOCHS * s.batches)
                alpha = 1.0 - 0.5 ** (max(s.step - self._ema_step, 1) / half_life)
                self._ema += alpha * (s.loss - self._ema)
            self._ema_step = s.step
            self.batches_per_epoch = s.batches
            self.series["batch_raw"].append(x, s.loss, s.step)
            self.series["batch_ema"].append(x, self._ema, s.step)

    def add_epochs(self, snaps) -> None:
        for e in snaps:
            step = getattr(e, "step", math.nan)
            self.series["train_epoch"].append(e.epoch, e.train_loss, step)
            self.series["val_epoch"].append(e.epoch, e.val_loss, step)
            if self.task == "regression":
                if e.val_mae is not None:
                    self.series["val_acc"].append(e.epoch, e.val_mae, step)
            else:
                if e.train_acc is not None:
                    self.series["train_acc"].append(e.epoch, 100 * e.train_acc, step)
                if e.val_acc is not None:
                    self.series["val_acc"].append(e.epoch, 100 * e.val_acc, step)

    def set_history(self, task: str, rows) -> None:
        """The epoch curves of weights loaded from disk (their batch losses are not kept)."""
        self.reset(task, len(rows))
        self.add_epochs(rows)

    def set_followed(self, rows: list[dict], reset: bool = False) -> None:
        """Epoch rows of a background run followed through its metrics file."""
        if reset:
            for name in FOLLOW_SERIES:
                self.series[name].clear()
        for row in rows:
            epoch = row.get("epoch")
            for name, key, scale in (("follow_train", "train_loss", 1),
                                     ("follow_val", "val_loss", 1),
                                     ("follow_acc", "val_acc", 100)):
                value = row.get(key)
                if epoch is not None and value is not None:
                    self.series[name].append(epoch, scale * value)

    @property
    def followed(self) -> bool:
        return any(self.series[n].n for n in FOLLOW_SERIES)
