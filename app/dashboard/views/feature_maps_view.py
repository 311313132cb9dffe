"""What one node outputs for one probe sample, live: a grid of feature maps for image-shaped
outputs (each map scaled to its own range, bright = strong), a bar plot for vectors.

The probe is a validation sample chosen with the spin box / "Next sample"; it is shown next
to the maps with its true class and the model's current guess. Clicking a cell of a map (or
a bar) explains that value in the Explain view: how it was computed, with its numbers.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QStackedWidget, QVBoxLayout, QWidget)

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .image_grid import ImageGrid, minmax_unit
from .layout_helpers import caption, wraps_within
from .node_picker import NodePicker

__all__ = ["FeatureMapsView", "MAX_MAPS"]

#: Channels drawn at most (a 512-channel layer would make stamps too small to read).
MAX_MAPS = 256
#: The probe's "true:" and "guess:" captions each take at most this many lines.
PROBE_LINES = 2


class FeatureMapsView(NodePicker, DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapsView")
        self.ctx, self.state = ctx, ctx.state
        self.combo = QComboBox()
        self.combo.setObjectName("featureNode")
        self.combo.setToolTip("The layer whose output is shown (selecting a layer on the "
                              "canvas picks it here)")
        self.probe = QSpinBox()
        self.probe.setObjectName("probeIndex")
        self.probe.setPrefix("sample ")
        self.probe.setToolTip("Which validation sample flows through the network")
        self.probe.setKeyboardTracking(False)
        self.next_button = QPushButton("Next sample")
        self.next_button.clicked.connect(lambda: self.probe.setValue(
            (self.probe.value() + 1) % (self.probe.maximum() + 1)))
        self.probe.valueChanged.connect(self._probe_picked)

        self.probe_image = ImageGrid()
        self.probe_image.setFixedSize(96, 96)
        self.probe_label = caption(name="probeLabel")
        self.probe_label.setFixedWidth(96)
        # Squeezed by a short dock, the text is cut at its last line, never its first.
        self.probe_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.caption = caption(name="featuresCaption")
        self.grid = ImageGrid()
        self.bars = pg.PlotWidget(enableMenu=False)
        self.bars.setBackground(None)
        self.bars.getPlotItem().setMenuEnabled(False)
        self.bars.getPlotItem().showGrid(y=True, alpha=0.25)
        self.bar_item = self.bars.getPlotItem().plot(
            stepMode="center", fillLevel=0, brush=pg.mkBrush("#3A7BD5AA"),
            pen=pg.mkPen("#3A7BD5", width=1))
        self.grid.cellClicked.connect(lambda tile, row, col: self.explain((tile, row, col)))
        self.bars.scene().sigMouseClicked.connect(self._bar_clicked)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.bars)

        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.combo, 1)
        # The probe's controls sit under its picture: the view stays narrow in a dock row.
        for w in (self.probe, self.next_button):
            w.setFixedWidth(96)
        side = QVBoxLayout()
        side.addWidget(self.probe_image)
        side.addWidget(self.probe_label)
        side.addWidget(self.probe)
        side.addWidget(self.next_button)
        side.addStretch(1)
        maps = QWidget()
        body = QHBoxLayout(maps)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(side)
        body.addWidget(self.stack, 1)
        self.body = EmptyState(maps, "featuresEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.body, 1)
        self._drawn = None                 # (feature map array) shown now
        self._drawn_size = 0               # values of the vector shown as bars
        self._asked: set[tuple[int, int]] = set()   # (generation, index) samples asked for
        self.combo.currentTextChanged.connect(self._node_picked)
        self.render()

    @property
    def snapshot(self):
        """The visual snapshot shown (the project state's)."""
        return self.state.results.visuals

    # --- what the person picks -----------------------------------------------------------------
    def _node_picked(self, node_id: str) -> None:
        if node_id:
            self.ctx.choose(feature_node=node_id)
            self.ctx.select(node_id)
            self.render({"choices"})
            self.flush()

    def _probe_picked(self, index: int) -> None:
        self.ctx.choose(probe=int(index))
        self.ctx.ask("probe", index=int(index))

    def explain(self, index) -> None:
        """Explain the shown node's output at ``index`` (a clicked cell or bar)."""
        if self.node is None or self.state.results.visuals is None:
            return
        self.ctx.choose(explain=(self.node, tuple(int(i) for i in index)))
        self.ctx.command("show:explain")

    def _bar_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.stack.currentWidget() \
                is not self.bars or not self._drawn_size:
            return
        x = self.bars.getPlotItem().vb.mapSceneToView(event.scenePos()).x()
        k = int(round(x))
        if 0 <= k < self._drawn_size:
            self.explain((k,))

    def _layer_ids(self) -> tuple[str, ...]:
        state = self.state
        if state.session_fits:
            return tuple(n for n in state.session.node_ids
                         if state.session.node_types.get(n) != "Input")
        return state.project.layer_ids

    # --- drawing ---------------------------------------------------------------------------------
    def draw(self, _topics: frozenset) -> None:
        state = self.state
        layers = self._layer_ids()
        convs = state.session.conv_ids if state.session_fits else state.project.conv_ids
        self._set_choices(layers, fallback=convs[0] if convs else (layers[0] if layers
                                                                    else None),
                          wanted=state.choices.feature_node)
        num_val = (state.session.num_val if state.session is not None else
                   state.dataset.num_val if state.dataset is not None else 0)
        self.probe.blockSignals(True)
        self.probe.setMaximum(max(num_val - 1, 0))
        self.probe.setValue(state.choices.probe)
        self.probe.blockSignals(False)
        snap = state.results.visuals
        if not layers:
            self._show_note("The network is empty: add layers (an Input first) to see what "
                            "each one makes of a sample.")
            return
        if snap is None or not snap.feature_maps:
            what = ("once training starts…" if state.run.active else
                    "when you press Train (Ctrl+T)" if state.worker.ready else
                    "when you press Train (Ctrl+T; PyTorch is loading…)")
            self._show_note(f"What each layer makes of one validation sample appears here "
                            f"{what}: pick a layer above (or on the canvas).")
            return
        self.body.show_content()
        self._draw_probe(snap)
        fmap = snap.feature_maps.get(self.node or "")
        if fmap is None:
            self._drawn = None
            self.grid.clear_tiles()
            self._caption(f"{self.node}: no output recorded for it in this snapshot.")
            return
        if fmap is self._drawn:
            return
        self._drawn = fmap
        if fmap.ndim == 3:
            self._draw_maps(fmap)
        else:
            self._draw_bars(fmap.reshape(-1))

    def _show_note(self, text: str) -> None:
        self._drawn = None
        self.grid.clear_tiles()
        self.probe_image.clear_tiles()
        self._caption("")
        self.body.show_note(text)

    def _draw_maps(self, fmap: np.ndarray) -> None:
        channels, h, w = fmap.shape
        shown = fmap[:MAX_MAPS]
        self.stack.setCurrentWidget(self.grid)
        self.grid.set_tiles(minmax_unit(shown), "viridis", None,
                            lambda i: f"channel {i}: {shown[i].min():.3g} … {shown[i].max():.3g}")
        more = f" (first {MAX_MAPS} shown)" if channels > MAX_MAPS else ""
        dead = int(sum(1 for m in shown if m.max() <= 0))
        dead_text = f"; {dead} map{'s' if dead != 1 else ''} all zero" if dead else ""
        self._caption(f"{self.node}: {channels} feature map{'s' if channels != 1 else ''} of "
                      f"{h}×{w}{more} — bright = strong response, each map scaled to its own "
                      f"range{dead_text}. Click a cell to see how it was computed.")

    def _draw_bars(self, values: np.ndarray) -> None:
        self.stack.setCurrentWidget(self.bars)
        n = len(values)
        self.bar_item.setData(np.arange(n + 1) - 0.5, values)
        axis = self.bars.getPlotItem().getAxis("bottom")
        names = self.state.class_names
        names = names if n == len(names) and n <= 30 else ()
        axis.setTicks([[(i, str(c)) for i, c in enumerate(names)]] if names else None)
        self._drawn_size = n
        self._caption(f"{self.node}: {n} value{'s' if n != 1 else ''} for this sample. Click "
                      f"a bar to see how it was computed.")
        self.bars.setToolTip(f"min {values.min():.3g}, max {values.max():.3g}")

    def _fit_name(self, prefix: str, name: str, suffix: str) -> str:
        """``prefix + name + suffix`` in at most PROBE_LINES wrapped lines of the narrow probe
        label: a long class name (a generated 1,000-class set names three shapes side by
        side) is elided until it fits, whole in the tooltip, so the caption never runs under
        the picture or the spin box. Names that fit stay whole."""
        label = self.probe_label
        metrics = label.fontMetrics()
        room = PROBE_LINES * metrics.lineSpacing()
        shown, budget = name, PROBE_LINES * max(label.width(), 40)
        while not wraps_within(label, prefix + shown + suffix, room) \
                and budget > metrics.averageCharWidth():
            budget -= metrics.averageCharWidth()
            shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, budget)
        return prefix + shown + suffix

    def _caption(self, text: str) -> None:
        if self.caption.text() != text:   # setText relayouts the dock: only on change
            self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def _draw_probe(self, snap) -> None:
        state = self.state
        index = snap.probe_index
        sample = state.results.samples.get(index) if index is not None else None
        image = sample[0] if sample is not None else None
        if image is None:
            self.probe_image.clear_tiles()
            key = (state.generation, index)
            if index is not None and key not in self._asked and len(state.session.input_shape
                                                                    if state.session else
                                                                    ()) == 3:
                self._asked.add(key)
                self.ctx.ask("samples", indices=[int(index)])
        else:
            self.probe_image.set_tiles(np.asarray(image)[None])
        names = state.class_names
        parts = []
        target = snap.probe_target
        if target is not None and np.ndim(target) == 0 and 0 <= int(target) < len(names):
            parts.append(("true: ", names[int(target)], ""))
        out = snap.probe_output
        if (out is not None and state.task == "classification" and len(names)
                and len(out) == len(names)):
            k = int(np.argmax(out))
            parts.append(("guess: ", names[k], f" ({100 * out[k]:.0f}%)"))
        text = "\n".join(self._fit_name(*part) for part in parts)
        if self.probe_label.text() != text:
            self.probe_label.setText(text)
            self.probe_label.setToolTip("\n".join("".join(part) for part in parts))
