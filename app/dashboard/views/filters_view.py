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
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .image_grid import ImageGrid, symmetric_unit
from .layout_helpers import caption
from .node_picker import NodePicker

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
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filtersView")
        self.ctx, self.state = ctx, ctx.state
        self.combo = QComboBox()
        self.combo.setObjectName("filtersNode")
        self.combo.setToolTip("The convolution layer whose filters are shown (selecting one "
                              "on the canvas picks it here)")
        self.mode = QComboBox()
        self.mode.setObjectName("filtersMode")
        self.mode.setToolTip("How a filter over several input channels is drawn")
        self.caption = caption(name="filtersCaption")
        self.grid = ImageGrid()
        self.body = EmptyState(self.grid, "filtersEmpty")
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.combo, 1)
        top.addWidget(self.mode, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.body, 1)
        self._drawn = None                 # (weights array, mode) shown now
        self.combo.currentTextChanged.connect(self._node_picked)
        self.mode.currentTextChanged.connect(self._mode_picked)
        self.render()

    # --- what the person picks -----------------------------------------------------------------
    def _node_picked(self, node_id: str) -> None:
        if node_id:
            self.ctx.choose(filter_node=node_id)
            self.ctx.select(node_id)
            self.render({"choices"})
            self.flush()

    def _mode_picked(self, mode: str) -> None:
        node = self.node
        if node and mode:
            modes = dict(self.state.choices.filter_modes)
            modes[node] = mode
            self.ctx.choose(filter_modes=modes)
            self.render({"choices"})
            self.flush()

    def _conv_ids(self) -> tuple[str, ...]:
        state = self.state
        return state.session.conv_ids if state.session_fits else state.project.conv_ids

    def _weights(self) -> np.ndarray | None:
        visuals = self.state.results.visuals
        return visuals.filters.get(self.node or "") if visuals is not None else None

    # --- drawing ---------------------------------------------------------------------------------
    def draw(self, _topics: frozenset) -> None:
        state = self.state
        convs = self._conv_ids()
        self._set_choices(convs, fallback=convs[0] if convs else None,
                          wanted=state.choices.filter_node)
        weights = self._weights()
        self._update_modes(weights)
        if not convs:
            self._show_note("This network has no convolution layer. Filters are what a "
                            "Conv2d layer learns to look for: add one to see them here.")
            return
        if weights is None:
            what = ("once training starts…" if state.run.active else
                    "when you press Train (Ctrl+T)" if state.worker.ready else
                    "when you press Train (Ctrl+T; PyTorch is loading…)")
            self._show_note(f"{self.node}: its filters appear here {what} — each filter a "
                            f"small grid of weights, changing as the network learns.")
            return
        self.body.show_content()
        mode = self.mode.currentText() or CHANNELS
        if self._drawn is None or self._drawn[0] is not weights or self._drawn[1] != mode:
            self._drawn = (weights, mode)
            tiles, cols, tips = filter_tiles(weights, mode)
            self.grid.set_tiles(tiles, "gray", cols, tips)
        out_ch, in_ch, kh, kw = weights.shape
        how = {RGB: "each filter as a colour image",
               CHANNELS: ("one row per filter, one tile per input channel" if in_ch > 1
                          else "one tile per filter"),
               MEAN: "each filter averaged over its input channels"}[mode]
        self._caption(f"{self.node}: {out_ch} filters of {kh}×{kw} over {in_ch} input channel"
                      f"{'s' if in_ch != 1 else ''} — {how}. White = positive weight, black "
                      f"= negative, each filter scaled to its own range.")
        visuals = state.results.visuals
        self.grid.setToolTip(f"Weights after step {visuals.step:,}")

    def _show_note(self, text: str) -> None:
        self._drawn = None
        self.grid.clear_tiles()
        self._caption("")
        self.body.show_note(text)

    def _caption(self, text: str) -> None:
        if self.caption.text() != text:      # setText relayouts the dock: only on change
            self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def _update_modes(self, weights: np.ndarray | None) -> None:
        modes = modes_for(weights.shape[1], weights.shape[0]) if weights is not None else []
        current = [self.mode.itemText(i) for i in range(self.mode.count())]
        wanted = self.state.choices.filter_modes.get(self.node or "")
        self.mode.blockSignals(True)
        if modes != current:
            self.mode.clear()
            self.mode.addItems(modes)
        if wanted and self.mode.findText(wanted) >= 0:
            self.mode.setCurrentText(wanted)
        elif modes and self.mode.currentText() not in modes:
            self.mode.setCurrentIndex(0)
        self.mode.blockSignals(False)
        self.mode.setVisible(self.mode.count() > 1)
