"""Watch it learn: each layer's weights and outputs as histograms over epochs — one strip per
epoch, oldest at the top, the colour how many values fall in each bin (log scale) — and the
share of dead ReLU units per epoch. Weights that spread, shift or collapse, outputs piling up
at 0 or saturating, are seen at a glance.

The worker stacks the trainer's per-epoch HistogramSnapshots on lined-up bins
(engine/service/histogram_stack.py); this view only draws them (event "histograms"). While it
is off screen, the worker measures no histograms during a run and fills in every epoch once
the run ends (Dashboard.tell_histograms_shown).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .image_grid import lut
from .layout_helpers import caption, column, expanding, still_plot

__all__ = ["HistogramsView", "strip_image", "rows_caption"]


def rows_caption(epochs: tuple[int, ...]) -> str:
    """What the rows of the strips of ``epochs`` are. Row 0 (the weights before training)
    is named only when it is there: a run that starts with the view behind its tab measures
    it when the run ends."""
    span = f"epochs {epochs[0]}…{epochs[-1]}" if len(epochs) > 1 else (
        f"epoch {epochs[0]}" if epochs else "")
    every = len(epochs) < 2 or epochs[-1] - epochs[0] == len(epochs) - 1
    rows = ("each row is an epoch" if every else
            "each row is a measured epoch (during a run short epochs are measured "
            "every few, so that measuring leaves training its speed; the others, as "
            "far as memory allows, when it ends)")
    first = ("the first at the top, 0 = before training" if epochs and epochs[0] == 0 else
             "the first at the top")
    return f"{span}: {rows} ({first}); colour = how many values fall in each bin (log scale)."


def strip_image(counts: np.ndarray) -> np.ndarray:
    """(epochs, bins) counts → (epochs, bins, 3) uint8: log-scaled per picture, empty bins
    left at the background's darkest colour."""
    c = np.log1p(np.asarray(counts, dtype=np.float64))
    top = c.max() if c.size else 0.0
    unit = c / top if top > 0 else c
    return lut("viridis")[(np.clip(unit, 0, 1) * 255).astype(np.uint8)]


class _Strips(QWidget):
    """One picture of strips: x = the values (bin edges), y = epochs, top = first."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = caption(title)
        self.plot = still_plot("epoch", "value")
        item = self.plot.getPlotItem()
        item.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        self.epochs: tuple[int, ...] = ()

    def show_strips(self, strips, text: str) -> None:
        self.title.setText(text)
        if strips is None or not len(strips.epochs):
            self.image.clear()
            self.epochs = ()
            return
        edges = np.asarray(strips.edges, dtype=np.float64)
        counts = np.asarray(strips.counts)
        self.epochs = tuple(strips.epochs)
        self.image.setImage(strip_image(counts), autoLevels=False, levels=(0, 255))
        n = len(self.epochs)
        self.image.setRect(QRectF(edges[0], -0.5, edges[-1] - edges[0], n))
        item = self.plot.getPlotItem()
        item.setXRange(edges[0], edges[-1], padding=0.02)
        item.setYRange(-0.5, n - 0.5, padding=0.02)
        step = max(1, n // 8)
        item.getAxis("left").setTicks([[(i, str(e)) for i, e in enumerate(self.epochs)
                                        if i % step == 0 or i == n - 1]])


class HistogramsView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("histogramsView")
        self.ctx, self.state = ctx, ctx.state
        self.combo = QComboBox()
        self.combo.setObjectName("histogramNode")
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.setToolTip("The layer whose weights and outputs are shown")
        self.combo.activated.connect(lambda _i: (
            self.ctx.choose(histogram_node=self.combo.currentData()),
            self.render({"choices"}), self.flush()))
        self.weights = _Strips("weights")
        self.weights.setObjectName("histogramWeights")
        self.outputs = _Strips("outputs")
        self.outputs.setObjectName("histogramOutputs")
        self.dead = caption(name="histogramDead")
        split = expanding(QSplitter(Qt.Orientation.Horizontal))
        split.addWidget(self.weights)
        split.addWidget(self.outputs)
        self.caption = caption("Each row is an epoch (the first at the top, 0 = before "
                               "training); colour = how many values fall in each bin (log "
                               "scale).", "histogramsCaption")
        self.body = EmptyState(column(split, self.dead, self.caption, grow=split),
                               "histogramsEmpty")
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.body, 1)
        self._shown: tuple | None = None
        self.render()

    @property
    def node(self) -> str | None:
        return self.combo.currentData()

    def draw(self, _topics: frozenset) -> None:
        state = self.state
        strips = state.insight.histograms
        if strips is None:
            self._shown = None
            self.combo.clear()
            n = len(state.project.layer_ids)
            when = ("after each epoch of this run" if state.run.active else
                    "when you train (Ctrl+T)" if state.worker.ready else
                    "when you train (PyTorch is loading…)")
            self.body.show_note(
                f"How each of the {n} layers' weights and outputs spread, shift or collapse "
                f"over the epochs — a strip per epoch, with the share of dead ReLU units — "
                f"appears here {when}." if n else
                "The network is empty: add layers to watch their weights learn.")
            return
        self.body.show_content()
        order = state.session.node_ids if state.session is not None else ()
        nodes = [n for n in order if n in strips.weights or n in strips.activations]
        nodes += [n for n in list(strips.weights) + list(strips.activations)
                  if n not in nodes]
        if [self.combo.itemData(i) for i in range(self.combo.count())] != nodes:
            self.combo.blockSignals(True)
            self.combo.clear()
            types = state.session.node_types if state.session is not None else {}
            for n in nodes:
                self.combo.addItem(f"{n} ({types.get(n, '?')})", n)
            self.combo.blockSignals(False)
        wanted = state.choices.histogram_node
        if wanted not in nodes:
            # A new project (or a first look): the first layer with weights.
            wanted = next((n for n in nodes if n in strips.weights), nodes[0] if nodes
                          else None)
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(self.combo.findData(wanted), 0))
        self.combo.blockSignals(False)
        key = (id(strips), wanted)
        if key == self._shown:
            return
        self._shown = key
        node = wanted
        w, a = strips.weights.get(node), strips.activations.get(node)
        epochs = (w or a).epochs if (w or a) is not None else ()
        self.weights.setVisible(w is not None)
        self.weights.show_strips(w, f"{node}'s weights (kernels and matrices, not biases)")
        self.outputs.show_strips(a, f"{node}'s outputs on {strips.samples} validation "
                                    f"samples" if a is not None else f"{node}: no outputs "
                                    f"measured")
        dead = dict(strips.dead_relu.get(node, ()))
        if dead:
            first, last = min(dead), max(dead)
            self.dead.setText(
                f"Dead ReLU units in {node} (output 0 for every sample): "
                + " · ".join(f"epoch {e}: {100 * s:.0f} %" for e, s in sorted(dead.items())
                             if e in (first, last) or len(dead) <= 6)
                + (" — many dead units learn nothing; a lower learning rate or LeakyReLU "
                   "helps" if dead[last] >= 0.5 else ""))
            self.dead.show()
        else:
            self.dead.hide()
        self.caption.setText(rows_caption(epochs))
