"""Weight and activation histograms per layer, one set per epoch, on bin edges that line up
from epoch to epoch — so a view can stack them into strips and the learner sees the
distributions spread, shift or collapse as the network learns.

Each layer's bins live on a :class:`Grid`: ``bins`` bins of a round width around a centre,
chosen from the first values it sees (a quarter of margin). When later values fall outside,
the grid *widens*: the width doubles around the same centre, so every new edge is one of the
old lattice's lines and each new bin is exactly the union of old ones. :func:`rebin` puts an
earlier histogram onto a widened grid, and :func:`strips` stacks a layer's histograms on the
latest grid — the same counts numpy's ``np.histogram`` gives on those edges.

Bins are half-open, ``edges[i] <= x < edges[i + 1]``; a grid always ends above its largest
value, so that is also exactly what ``np.histogram`` counts. NaN and infinite values are not
binned but counted (``nonfinite``). Everything is measured in eval mode without gradients,
on the probe batch the dead-ReLU share uses, so it never changes training.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .visuals import dead_share, hooked_pass, to_floats

__all__ = ["HISTOGRAM_BINS", "ACTIVATION_VALUES", "Grid", "Histogram", "Strips", "histogram",
           "weight_values", "activation_samples", "layer_histograms", "rebin", "strips"]

#: Bins per histogram (even: the grid's centre is an edge, which widening keeps).
HISTOGRAM_BINS = 32
#: A new grid spans the first values plus this share of their range, for growth.
MARGIN = 0.25
#: Widening stops after this many doublings (values near float32's limit).
MAX_WIDENINGS = 128
#: Tensors smaller than this are binned by binary search (fewer operations).
SEARCH_BELOW = 4096
#: An activation histogram bins the outputs of the first probe samples, as many as keep it
#: to about this many values (at least one sample): plenty for 32 bins, and cheap.
ACTIVATION_VALUES = 8_192


def _round_up(x: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ x (x > 0)."""
    power = 10.0 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * power >= x * (1 - 1e-12):
            return m * power
    return 10.0 * power


@dataclass(frozen=True)
class Grid:
    """``bins`` bins of ``width`` centred on ``center``."""
    center: float
    width: float
    bins: int = HISTOGRAM_BINS

    def edges(self) -> np.ndarray:
        """(bins + 1,) float32 — the values the bins are compared with (read-only: shared)."""
        return _edges(self.center, self.width, self.bins)

    def covers(self, lo: float, hi: float) -> bool:
        edges = self.edges()
        return bool(edges[0] <= lo and hi < edges[-1])

    def widened(self) -> "Grid":
        return Grid(self.center, self.width * 2, self.bins)

    def widens(self, other: "Grid") -> bool:
        """This grid is ``other`` widened one or more times (its bins are unions of
        ``other``'s)."""
        if self.center != other.center or self.bins != other.bins or other.width <= 0:
            return False
        ratio = self.width / other.width
        k = round(math.log2(ratio)) if ratio > 0 else 0
        return k >= 1 and self.width == other.width * 2.0 ** k

    @classmethod
    def around(cls, lo: float, hi: float, bins: int = HISTOGRAM_BINS) -> "Grid":
        """A grid with a round bin width over ``lo``..``hi`` and some margin."""
        span = hi - lo
        if not span > 0:
            span = max(abs(lo) * 0.1, 1e-3)
        width = _round_up(span * (1 + MARGIN) / bins)
        center = round((lo + hi) / 2 / width) * width
        return cls(center, width, bins).fit(lo, hi)

    def fit(self, lo: float, hi: float) -> "Grid":
        """This grid, widened until it covers ``lo``..``hi``."""
        grid = self
        for _ in range(MAX_WIDENINGS):
            if grid.covers(lo, hi):
                break
            grid = grid.widened()
        return grid


@functools.lru_cache(maxsize=1024)
def _edges(center: float, width: float, bins: int) -> np.ndarray:
    k = np.arange(bins + 1, dtype=np.float64) - bins // 2
    edges = (center + k * width).astype(np.float32)
    edges.flags.writeable = False
    return edges


@dataclass(frozen=True, eq=False)
class Histogram:
    counts: np.ndarray       # (bins,) int64
    grid: Grid
    nonfinite: int = 0       # NaN or infinite values, not binned

    @property
    def edges(self) -> np.ndarray:
        return self.grid.edges()

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + self.nonfinite

    @classmethod
    def empty(cls, grid: Grid) -> "Histogram":
        return cls(np.zeros(grid.bins, dtype=np.int64), grid)


def histogram(values: torch.Tensor, grid: Grid | None,
              bins: int = HISTOGRAM_BINS) -> tuple[Histogram, Grid]:
    """The histogram of ``values`` (any shape, on any device) on ``grid`` — widened as
    needed, or a new one when None — and the grid used. One host sync in the usual case."""
    v = values.detach().reshape(-1)
    if v.dtype != torch.float32:
        v = v.float()
    nonfinite = 0
    if v.numel():
        lo, hi = (float(t) for t in torch.aminmax(v))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            finite = torch.isfinite(v)
            nonfinite = int(v.numel() - finite.sum())
            v = v[finite]
            lo, hi = (float(t) for t in torch.aminmax(v)) if v.numel() else (0.0, 0.0)
    else:
        lo = hi = 0.0
    grid = Grid.around(lo, hi, bins) if grid is None else grid.fit(lo, hi)
    if not v.numel():
        return Histogram(np.zeros(grid.bins, dtype=np.int64), grid, nonfinite), grid
    counts = torch.bincount(_bin_index(v, grid), minlength=grid.bins)
    return Histogram(counts.cpu().numpy().astype(np.int64), grid, nonfinite), grid


def _bin_index(v: torch.Tensor, grid: Grid) -> torch.Tensor:
    """The bin of each value: ``edges[i] <= x < edges[i + 1]``, exactly as a binary search
    over the float32 edges (and numpy) puts it. Small tensors use that search; large ones
    an arithmetic guess, off by at most one near an edge, corrected by comparing with the
    edges themselves — a third of the search's time there."""
    edges = torch.tensor(grid.edges(), device=v.device)
    if v.numel() < SEARCH_BELOW:
        return (torch.searchsorted(edges, v, right=True) - 1).clamp_(0, grid.bins - 1)
    # Values are ≥ edges[0], so truncating is flooring (int32: half the memory traffic).
    index = torch.sub(v, edges[0]).mul_(1.0 / grid.width).to(torch.int32)
    index.clamp_(0, grid.bins - 1)
    index.sub_((v < edges.index_select(0, index)).to(torch.int32))
    index.add_((v >= edges.index_select(0, index + 1)).to(torch.int32))
    return index.clamp_(0, grid.bins - 1)


def weight_values(module: nn.Module) -> torch.Tensor | None:
    """A layer's weights as one flat tensor: its kernels and matrices (parameters with two or
    more dimensions — not biases or BatchNorm's scale and shift); None when it has none."""
    params = [p.detach().reshape(-1) for p in module.parameters() if p.dim() >= 2]
    if not params:
        return None
    return params[0] if len(params) == 1 else torch.cat(params)


def activation_samples(out: torch.Tensor) -> int:
    """How many of a batch's samples an activation histogram bins (ACTIVATION_VALUES)."""
    per_sample = max(out[0].numel(), 1) if out.shape[0] else 1
    return max(1, min(out.shape[0], ACTIVATION_VALUES // per_sample))


def layer_histograms(model, x: torch.Tensor | None, activation_ids: list[str],
                     relu_ids: list[str], grids: dict[tuple[str, str], Grid]
                     ) -> tuple[dict[str, Histogram], dict[str, Histogram], dict[str, float]]:
    """(weight histograms, activation histograms, dead-ReLU shares) by node id. Activations
    are the outputs of ``activation_ids`` for the batch ``x`` (eval mode, no gradients) —
    of its first :func:`activation_samples` samples — each reduced by a forward hook as it
    is made; the dead share is over the whole batch. ``grids`` ((kind, node) → Grid) is updated
    in place: the same grids next time keep the strips lined up."""
    weights: dict[str, Histogram] = {}
    for node_id, module in model.layers.items():
        values = weight_values(module)
        if values is not None:
            key = ("weights", node_id)
            weights[node_id], grids[key] = histogram(values, grids.get(key))
    activations: dict[str, Histogram] = {}
    dead: dict[str, torch.Tensor] = {}
    if x is None or x.shape[0] == 0:
        return weights, activations, {}
    wanted, relus = set(activation_ids), set(relu_ids)

    def hook_for(node_id: str):
        def hook(out: torch.Tensor) -> None:
            if node_id in wanted:
                key = ("activations", node_id)
                activations[node_id], grids[key] = histogram(out[:activation_samples(out)],
                                                              grids.get(key))
            if node_id in relus:
                dead[node_id] = dead_share(out)
        return hook

    hooked_pass(model, x, {n: hook_for(n) for n in [*activation_ids, *relu_ids]})
    activations = {n: activations[n] for n in activation_ids if n in activations}
    return weights, activations, to_floats(dead, relu_ids)


def rebin(hist: Histogram, grid: Grid) -> np.ndarray:
    """``hist``'s counts on ``grid``, which must be its own grid or a widening of it (each of
    its bins a union of ``hist``'s): exactly what binning the same values on ``grid`` gives."""
    if grid == hist.grid:
        return hist.counts.copy()
    if not grid.widens(hist.grid):
        raise ValueError(f"the histograms' bins do not line up (centre {hist.grid.center:g}, "
                         f"width {hist.grid.width:g} vs centre {grid.center:g}, width "
                         f"{grid.width:g})")
    factor = round(grid.width / hist.grid.width)
    half = grid.bins // 2
    target = (np.arange(hist.grid.bins) - half) // factor + half
    return np.bincount(target, weights=hist.counts, minlength=grid.bins).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Strips:
    """One layer's histograms over epochs on one set of edges: a picture's rows."""
    epochs: tuple[int, ...]      # epochs completed when measured (0: the initial weights)
    edges: np.ndarray            # (bins + 1,) float32
    counts: np.ndarray           # (len(epochs), bins) int64
    nonfinite: tuple[int, ...]


def strips(snapshots, node: str, kind: str = "weights") -> Strips:
    """Stack ``node``'s ``kind`` ("weights" or "activations") histograms from a run's
    HistogramSnapshots, oldest first, on the latest grid (a later snapshot of the same epoch
    replaces an earlier one). Raises ValueError for snapshots whose bins do not line up
    (from two different trainers)."""
    by_epoch: dict[int, Histogram] = {}
    for snap in snapshots:
        hist = getattr(snap, kind).get(node)
        if hist is not None:
            by_epoch[snap.epoch] = hist
    epochs = tuple(sorted(by_epoch))
    if not epochs:
        return Strips((), np.zeros(HISTOGRAM_BINS + 1, np.float32),
                      np.zeros((0, HISTOGRAM_BINS), np.int64), ())
    grid = max((by_epoch[e].grid for e in epochs), key=lambda g: g.width)
    counts = np.stack([rebin(by_epoch[e], grid) for e in epochs])
    return Strips(epochs, grid.edges(), counts, tuple(by_epoch[e].nonfinite for e in epochs))
