"""The selected Conv2d's filters, changing live.

What teaches best depends on the layer's input:
  * 3 input channels (a colour image): each filter as one RGB tile — the colour edges and
    blobs the first layer of an image network learns;
  * 1 input channel: one grey tile per filter;
  * more channels (a deeper layer): one row per filter, one tile per input channel (every
    kernel the filter holds), or the mean over input channels when there are too many tiles.
Each filter is scaled to its own range with 0 at mid-grey (white = positive weight, black =
negative), so a filter that is still small stays visible.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .deferred_draw import DeferredDraw
from .image_grid import ImageGrid, symmetric_unit
from .layout_helpers import caption
from .node_picker import NodePicker
from ..threads import gui_only

__all__ = ["FiltersView", "filter_tiles", "MODES", "MAX_TILES"]

RGB, CHANNELS, MEAN = "Colour (RGB)", "Every input channel", "Mean over input channels"
MODES = (RGB, CHANNELS, MEAN)
#: Above this many kernels (filters × input channels) the per-channel grid becomes a carpet.
MAX_TILES = 1024


def modes_for(in_channels: int, out_channels: int) -> list[str]:
    if in_channels == 1:
        return [CHANNELS]
    modes = [RGB] if in_channels == 3 else []
    if in_channels * out_channels <= MAX_TILES:
        modes.append(CHANNELS)
    return modes + [MEAN]


def filter_tiles(weights: np.ndarray, mode: str):
    """(out, in, kh, kw) weights → (tiles in 0..1, fixed column count or None, tooltip function
    index → text; formatted on hover, not per frame)."""
    out_ch, in_ch = weights.shape[:2]
    scaled = symmetric_unit(weights)                      # per filter, over all its channels

    def span(a: np.ndarray) -> str:
        return f"weights {a.min():+.3f} … {a.max():+.3f}"

    if mode == RGB and in_ch == 3:
        tiles = np.transpose(scaled, (0, 2, 3, 1))        # (out, kh, kw, 3)
        return tiles, None, lambda i: f"filter {i}: {span(weights[i])}"
    if mode == CHANNELS or in_ch == 1:
        tiles = scaled.reshape(out_ch * in_ch, *weights.shape[2:])
        return tiles, (in_ch if in_ch > 1 else None), lambda k: (
            f"filter {k // in_ch}, input channel {k % in_ch}: "
            f"{span(weights[k // in_ch, k % in_ch])}")
    mean = weights.mean(axis=1)                           # (out, kh, kw)
    return symmetric_unit(mean), None, lambda i: (f"filter {i} (mean over {in_ch} channels): "
                                                  f"{span(mean[i])}")


class FiltersView(NodePicker, DeferredDraw, QWidget):
    #: The user picked a layer here: the dashboard selects it on the canvas.
    nodeChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filtersView")
        self.combo = QComboBox()
        self.combo.setObjectName("filtersNode")
        self.combo.setToolTip("The convolution layer whose filters are shown (selecting one "
                              "on the canvas picks it here)")
        self.mode = QComboBox()
        self.mode.setObjectName("filtersMode")
        self.caption = caption("Train a network with a Conv2d layer to see its filters learn.")
        self.grid = ImageGrid()
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.combo, 1)
        top.addWidget(self.mode, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.grid, 1)
        self.filters: dict[str, np.ndarray] = {}
        self.epoch_step = ""
        self._dirty = False
        self._mode_by_node: dict[str, str] = {}
        self.combo.currentTextChanged.connect(self._node_changed)
        self.mode.currentTextChanged.connect(self._mode_changed)

    def set_layers(self, conv_ids) -> None:
        self._set_choices(conv_ids)
        self.filters = {k: v for k, v in self.filters.items() if k in conv_ids}
        self._node_changed(self.node or "", announce=False)

    def _node_changed(self, node_id: str, announce: bool = True) -> None:
        self._update_modes()
        self._dirty = True
        self.flush()
        if announce and node_id:
            self.nodeChosen.emit(node_id)

    def _update_modes(self) -> None:
        weights = self.filters.get(self.node or "")
        self.mode.blockSignals(True)
        self.mode.clear()
        if weights is not None:
            self.mode.addItems(modes_for(weights.shape[1], weights.shape[0]))
            wanted = self._mode_by_node.get(self.node)
            if wanted and self.mode.findText(wanted) >= 0:
                self.mode.setCurrentText(wanted)
        self.mode.setVisible(self.mode.count() > 1)
        self.mode.blockSignals(False)

    def _mode_changed(self, mode: str) -> None:
        if self.node and mode:
            self._mode_by_node[self.node] = mode
        self._dirty = True
        self.flush()

    def set_visuals(self, snap) -> None:
        if not snap.filters:
            return
        first = not self.filters or set(snap.filters) != set(self.filters)
        self.filters = snap.filters
        self.epoch_step = f"after step {snap.step:,}"
        if first or self.mode.count() == 0:
            self._update_modes()
        self._dirty = True

    @gui_only
    def flush(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        weights = self.filters.get(self.node or "")
        if weights is None:
            self.grid.clear_tiles()
            return
        mode = self.mode.currentText() or CHANNELS
        tiles, cols, tips = filter_tiles(weights, mode)
        self.grid.set_tiles(tiles, "gray", cols, tips)
        out_ch, in_ch, kh, kw = weights.shape
        how = {RGB: "each filter as a colour image",
               CHANNELS: ("one row per filter, one tile per input channel" if in_ch > 1
                          else "one tile per filter"),
               MEAN: "each filter averaged over its input channels"}[mode]
        # The same text while the node and mode stay: setText relayouts the dock.
        text = (f"{self.node}: {out_ch} filters of {kh}×{kw} over {in_ch} input channel"
                f"{'s' if in_ch != 1 else ''} — {how}. White = positive weight, black = "
                f"negative, each filter scaled to its own range.")
        if self.caption.text() != text:
            self.caption.setText(text)
        self.grid.setToolTip(f"Weights {self.epoch_step}")

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._dirty = True
        self.flush()
