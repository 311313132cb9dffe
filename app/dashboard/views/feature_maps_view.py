"""What one node outputs for one probe sample, live: a grid of feature maps for image-shaped
outputs (each map scaled to its own range, bright = strong), a bar plot for vectors.

The probe is a validation sample chosen with the spin box / "Next sample"; it is shown next
to the maps with its true class and the model's current guess.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QStackedWidget, QVBoxLayout, QWidget)

from .deferred_draw import DeferredDraw
from .image_grid import ImageGrid, display_images, minmax_unit
from .layout_helpers import caption
from .node_picker import NodePicker
from ..threads import gui_only

__all__ = ["FeatureMapsView", "MAX_MAPS"]

#: Channels drawn at most (a 512-channel layer would make stamps too small to read).
MAX_MAPS = 256


class FeatureMapsView(NodePicker, DeferredDraw, QWidget):
    nodeChosen = Signal(str)
    probeChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapsView")
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
        self.probe.valueChanged.connect(self.probeChanged.emit)

        self.probe_image = ImageGrid()
        self.probe_image.setFixedSize(96, 96)
        self.probe_label = caption(name="probeLabel")
        self.probe_label.setFixedWidth(96)
        self.caption = caption("Train (or pick a layer) to see what each layer makes of a "
                              "sample.")
        self.grid = ImageGrid()
        self.bars = pg.PlotWidget()
        self.bars.setBackground(None)
        self.bars.getPlotItem().setMenuEnabled(False)
        self.bars.getPlotItem().showGrid(y=True, alpha=0.25)
        self.bar_item = self.bars.getPlotItem().plot(
            stepMode="center", fillLevel=0, brush=pg.mkBrush("#3A7BD5AA"),
            pen=pg.mkPen("#3A7BD5", width=1))
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
        body = QHBoxLayout()
        body.addLayout(side)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addLayout(body, 1)

        self.session = None
        self.snapshot = None
        self._dirty = False
        self.combo.currentTextChanged.connect(self._node_changed)

    def set_session(self, info) -> None:
        """A (new) model: its nodes in the combo, its validation set in the spin box."""
        self.session = info
        self._set_choices([n for n in info.node_ids if info.node_types.get(n) != "Input"],
                          fallback=info.conv_ids[0] if info.conv_ids else None)
        self.probe.blockSignals(True)
        self.probe.setMaximum(max(info.num_val - 1, 0))
        self.probe.blockSignals(False)
        self._dirty = True
        self.flush()

    def _node_changed(self, node_id: str, announce: bool = True) -> None:
        self._dirty = True
        self.flush()
        if announce and node_id:
            self.nodeChosen.emit(node_id)

    def set_visuals(self, snap) -> None:
        if snap.feature_maps:
            self.snapshot = snap
            self._dirty = True

    # --- drawing -----------------------------------------------------------------------------
    @gui_only
    def flush(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        snap, info = self.snapshot, self.session
        if snap is None or info is None:
            return
        self._draw_probe(snap, info)
        fmap = snap.feature_maps.get(self.node or "")
        if fmap is None:
            self.grid.clear_tiles()
            return
        if fmap.ndim == 3:
            self._draw_maps(fmap)
        else:
            self._draw_bars(fmap.reshape(-1), info)

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
                      f"range{dead_text}.")

    def _draw_bars(self, values: np.ndarray, info) -> None:
        self.stack.setCurrentWidget(self.bars)
        n = len(values)
        self.bar_item.setData(np.arange(n + 1) - 0.5, values)
        axis = self.bars.getPlotItem().getAxis("bottom")
        names = info.class_names if n == len(info.class_names) and n <= 30 else ()
        axis.setTicks([[(i, str(c)) for i, c in enumerate(names)]] if names else None)
        self._caption(f"{self.node}: {n} value{'s' if n != 1 else ''} for this sample.")
        self.bars.setToolTip(f"min {values.min():.3g}, max {values.max():.3g}")

    def _caption(self, text: str) -> None:
        if self.caption.text() != text:   # setText relayouts the dock: only on change
            self.caption.setText(text)

    def _draw_probe(self, snap, info) -> None:
        ds = info.dataset
        if snap.probe_index is None or len(info.input_shape) != 3:
            self.probe_image.clear_tiles()
        else:
            x = ds.x_val[snap.probe_index:snap.probe_index + 1].numpy()
            self.probe_image.set_tiles(display_images(ds, x))
        parts = []
        if snap.probe_target is not None and info.class_names and np.ndim(
                snap.probe_target) == 0:
            parts.append(f"true: {info.class_names[int(snap.probe_target)]}")
        if snap.probe_output is not None and info.task == "classification" and len(
                snap.probe_output) == len(info.class_names):
            k = int(np.argmax(snap.probe_output))
            parts.append(f"guess: {info.class_names[k]} ({100 * snap.probe_output[k]:.0f}%)")
        text = "\n".join(parts)
        if self.probe_label.text() != text:
            self.probe_label.setText(text)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._dirty = True
        self.flush()
