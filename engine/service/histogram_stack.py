"""A run's histograms stacked per layer for the window, one row added per histogram pass.

After every histogram pass the worker sends every epoch's histograms so far, stacked per
layer on lined-up bins (protocol.HistogramStrips): what engine ``strips()`` gives for all the
snapshots. Stacking them all again at every pass cost more as a run went on (digits_cnn:
0.5 ms at 10 epochs, 3.7 ms at 100), and since a pass, sending included, keeps to
``histogram_budget`` of the training time, the rows of a long run came ever further apart.
:class:`HistogramStack` keeps the rows already stacked (0.15 and 0.6 ms a pass;
bench/bench_histogram_stack.py compares whole runs): a new epoch costs one row per layer; a
grid that widened re-bins the layer's rows once (it widens a few times in a run); an epoch
measured again (a loaded model) or bins that do not line up (another trainer's) restack the
layer the way ``strips()`` does.

Torch-free: the engine's histograms module (which imports torch) is imported when the first
snapshot arrives, in the worker.
"""
from __future__ import annotations

import numpy as np

from .protocol import HistogramStrips, LayerStrips

__all__ = ["HistogramStack"]


class HistogramStack:
    """HistogramSnapshots in, HistogramStrips out; a later snapshot of an epoch replaces the
    earlier one."""

    def __init__(self) -> None:
        self._layers: dict[str, dict[str, _Layer]] = {"weights": {}, "activations": {}}
        self._dead: dict[str, dict[int, float]] = {}
        self._last = None

    def add(self, snap) -> None:
        epoch = int(snap.epoch)
        self._last = snap
        for kind, layers in self._layers.items():
            for node, hist in getattr(snap, kind).items():
                layers.setdefault(node, _Layer()).add(epoch, hist)
        for node, share in snap.dead_relu.items():
            self._dead.setdefault(node, {})[epoch] = float(share)

    def strips(self, serial: int = 0) -> HistogramStrips | None:
        """Every layer's strips so far (None before the first snapshot)."""
        last = self._last
        if last is None:
            return None
        return HistogramStrips(
            epoch=int(last.epoch), step=int(last.step),
            weights={n: layer.strips() for n, layer in self._layers["weights"].items()},
            activations={n: layer.strips() for n, layer in self._layers["activations"].items()},
            dead_relu={n: tuple(sorted(v.items())) for n, v in self._dead.items()},
            samples=int(last.samples), serial=int(serial))


class _Layer:
    """One layer's histograms of one kind: as measured (by epoch), and as rows on the widest
    grid among them."""

    def __init__(self) -> None:
        self.measured: dict = {}          # epoch → engine Histogram
        self.grid = None
        self.rows: dict[int, np.ndarray] = {}

    def add(self, epoch: int, hist) -> None:
        from ..training.histograms import rebin
        again = epoch in self.measured
        self.measured[epoch] = hist
        grid = hist.grid
        if again or self.grid is None:
            self._restack(epoch)
        elif grid == self.grid or self.grid.widens(grid):
            self.rows[epoch] = rebin(hist, self.grid)
        elif grid.widens(self.grid):
            self.grid = grid
            self.rows = {e: rebin(h, grid) for e, h in self.measured.items()}
        else:
            self._restack(epoch)

    def _restack(self, newest: int) -> None:
        """As engine ``strips()`` stacks them, on the widest grid; when their bins do not
        line up, only those measured from ``newest`` on (the newest trainer's); when even
        those do not, the newest alone."""
        for keep in (lambda e: True, lambda e: e >= newest, lambda e: e == newest):
            try:
                self.grid, self.rows = _stacked({e: h for e, h in self.measured.items()
                                                 if keep(e)})
                return
            except ValueError:
                continue

    def strips(self) -> LayerStrips:
        epochs = sorted(self.rows)
        return LayerStrips(tuple(epochs), np.asarray(self.grid.edges()),
                           np.stack([self.rows[e] for e in epochs]))


def _stacked(measured: dict) -> tuple:
    from ..training.histograms import rebin
    epochs = sorted(measured)
    grid = max((measured[e].grid for e in epochs), key=lambda g: g.width)
    return grid, {e: rebin(measured[e], grid) for e in epochs}
