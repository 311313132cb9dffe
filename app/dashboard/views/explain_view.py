"""Explain one value: for the clicked cell of a feature map (or any output of any layer), how
the trained network computed it for the probe sample — with its own numbers.

* Conv2d: the input window under the kernel highlighted on the map it reads (the input image,
  or the previous layer's map of the chosen input channel; padding drawn around it), the
  window's values × the kernel's weights = the products, each a coloured number; their sum
  per channel (a bar for every input channel the filter reads), the bias, the result, and
  the activation that follows.
* Pooling: the window on its channel, which value won (max), the average, the p-norm.
* Linear: the largest contributions w·x, the rest summed, the bias; Softmax: logits → eˣ →
  their sum → probabilities; BatchNorm, activations and the rest: the worked formula.

Step, play and speed slide the window across the map. The numbers are computed in the worker
(request "explain", engine/explain); a whole map's frames (or a chunk of a large one) arrive
at once and are kept per (weights, sample), so stepping is a lookup and playing asks ahead.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QSpinBox, QSplitter, QTabWidget, QToolButton,
                               QVBoxLayout, QWidget)

from layerlab.engine.explain.numbers import num

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .layout_helpers import caption, column, expanding, still_plot
from .number_grid import MapView, NumberGrid

__all__ = ["ExplainView", "SPEEDS", "TOP"]

#: Positions per second the window slides at.
SPEEDS = (1, 2, 4, 8, 16)
#: Contributions of a Linear shown one by one (the rest are summed in one row).
TOP = 10
#: Ask for the next chunk of frames this many positions before the cached ones run out.
AHEAD = 24
#: While a run is training, the explanation follows the changing weights at most this often.
LIVE_REFRESH_S = 1.0
#: Input channels whose sums are drawn as bars (a filter may read hundreds).
MAX_BARS = 64


class _Flow(QWidget):
    """The grids side by side when they fit, else one under another (a narrow dock)."""

    def __init__(self, widgets) -> None:
        super().__init__()
        self.widgets = widgets
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        for w in widgets:
            self.box.addWidget(w, 1 if isinstance(w, NumberGrid) else 0)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.sync()

    def sync(self) -> None:
        """Side by side or stacked, whichever gives the cells more room (a 5×5 kernel in a
        wide, short dock reads side by side even when squeezed); one cell size for every
        grid."""
        shown = [w for w in self.widgets if not w.isHidden()]
        hints = [(w.sizeHint(), isinstance(w, NumberGrid)) for w in shown]
        fixed_w = sum(h.width() for h, grid in hints if not grid)
        fixed_h = sum(h.height() for h, grid in hints if not grid)
        grid_w = sum(h.width() for h, grid in hints if grid) or 1
        grid_h = sum(h.height() for h, grid in hints if grid) or 1
        tallest = max((h.height() for h, grid in hints if grid), default=1)
        widest = max((h.width() for h, grid in hints if grid), default=1)
        across = min((self.width() - fixed_w) / grid_w, self.height() / tallest)
        down = min(self.width() / widest, (self.height() - fixed_h) / grid_h)
        direction = (QBoxLayout.Direction.LeftToRight if across >= min(down, 1.0)
                     else QBoxLayout.Direction.TopToBottom)
        if self.box.direction() != direction:
            self.box.setDirection(direction)
        grids = [w for w in self.widgets if isinstance(w, NumberGrid) and not w.isHidden()]
        for g in grids:
            g.shared_factor = None
        shared = min((g.fit_factor() for g in grids), default=1.0)
        for g in grids:
            g.shared_factor = shared
            g.update()


def _vector_label(i: int, names, shape) -> str:
    if names and i < len(names):
        return f"{names[i]}"
    if len(shape) > 1:
        return "[" + ",".join(str(int(v)) for v in np.unravel_index(i, shape)) + "]"
    return f"input {i}"


class ExplainView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explainView")
        self.ctx, self.state = ctx, ctx.state
        self.heading = caption(name="explainHeading")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)

        # --- controls ---
        self.node_combo = QComboBox()
        self.node_combo.setObjectName("explainNode")
        self.node_combo.setToolTip("The layer whose output value is explained")
        self.node_combo.activated.connect(self._node_picked)
        self.back = QToolButton()
        self.back.setText("◀")
        self.back.setToolTip("The previous position of the window")
        self.forward = QToolButton()
        self.forward.setText("▶")
        self.forward.setToolTip("The next position of the window")
        self.play = QPushButton("Play")
        self.play.setObjectName("explainPlay")
        self.play.setCheckable(True)
        self.play.setToolTip("Slide the window across the map, one position after another")
        self.speed = QComboBox()
        self.speed.setObjectName("explainSpeed")
        for s in SPEEDS:
            self.speed.addItem(f"{s} / s", s)
        self.speed.setCurrentIndex(1)
        self.speed.setToolTip("Positions per second while playing")
        self.in_channel = QSpinBox()
        self.in_channel.setObjectName("explainInputChannel")
        self.in_channel.setPrefix("input channel ")
        self.in_channel.setToolTip("Which input channel's window, kernel and products are "
                                   "shown (the sum adds every channel's)")
        self.back.clicked.connect(lambda: self.step(-1))
        self.forward.clicked.connect(lambda: self.step(1))
        self.play.toggled.connect(self._play_toggled)
        self.speed.currentIndexChanged.connect(lambda _i: self._play_toggled(
            self.play.isChecked()))
        self.in_channel.valueChanged.connect(lambda _v: self._redraw())
        self.where = caption(name="explainWhere")
        self.node_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.node_combo.setMinimumContentsLength(8)
        # Two rows: the view also lives in a narrow dock (it takes the Feature maps' place).
        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Layer"))
        row1.addWidget(self.node_combo, 1)
        row1.addWidget(self.in_channel)
        row2 = QHBoxLayout()
        row2.addWidget(self.back)
        row2.addWidget(self.play)
        row2.addWidget(self.forward)
        row2.addWidget(self.speed)
        row2.addWidget(self.where, 1)

        # --- the maps: what the window lies on, and the output it makes ---
        self.source_title = caption(name="explainSourceTitle")
        self.source_map = MapView()
        self.source_map.setObjectName("explainSourceMap")
        self.output_title = caption(name="explainOutputTitle")
        self.output_map = MapView()
        self.output_map.setObjectName("explainOutputMap")
        self.output_map.cellClicked.connect(self._output_clicked)
        maps = QWidget()
        ml = QVBoxLayout(maps)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.source_title)
        ml.addWidget(self.source_map, 3)
        ml.addWidget(self.output_title)
        ml.addWidget(self.output_map, 2)

        # --- the arithmetic, per type ---
        self.window_grid = NumberGrid("window")
        self.window_grid.setObjectName("explainWindow")
        self.kernel_grid = NumberGrid("kernel")
        self.kernel_grid.setObjectName("explainKernel")
        self.products_grid = NumberGrid("products")
        self.products_grid.setObjectName("explainProducts")
        times, equals = QLabel("×"), QLabel("=")
        for sign in (times, equals):
            f = sign.font()
            f.setPointSizeF(f.pointSizeF() * 1.6)
            sign.setFont(f)
            sign.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grids = _Flow((self.window_grid, times, self.kernel_grid, equals,
                            self.products_grid))
        self.times_label, self.equals_label = times, equals
        self.sums_plot = still_plot("sum", "input channel")
        self.sums_plot.setObjectName("explainChannelSums")
        self.sums_plot.setMaximumHeight(6 * self.fontMetrics().height() + 40)
        self.sums_bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.sums_plot.addItem(self.sums_bars)
        numbers = QWidget()
        nl = QVBoxLayout(numbers)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addWidget(self.grids, 3)
        nl.addWidget(self.sums_plot, 1)
        self.text = QPlainTextEdit()
        self.text.setObjectName("explainText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = self.text.font()
        mono.setStyleHint(mono.StyleHint.Monospace)
        mono.setFamily("monospace")
        self.text.setFont(mono)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("explainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(numbers, "Numbers")
        self.tabs.addTab(self.text, "Worked out in words")
        self.equation = caption(name="explainEquation")
        big = self.equation.font()
        big.setPointSizeF(big.pointSizeF() * 1.2)
        self.equation.setFont(big)
        self.equation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        split = expanding(QSplitter(Qt.Orientation.Horizontal))
        split.addWidget(maps)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        self.body = EmptyState(column(row1, row2, split, self.equation, grow=split),
                               "explainEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.body, 1)

        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.step(1, wrap=True))
        self._asked: dict[tuple, float] = {}     # (sweep, start) → when it was asked
        self._frame: dict | None = None          # the frame drawn now
        self._refresh_pending = False
        self._kind = "text"
        self.render()

    # --- what is wanted ------------------------------------------------------------------------
    @property
    def target(self) -> tuple[str, tuple[int, ...]] | None:
        """(node, index) the person is looking at, or None."""
        choice = self.state.choices.explain
        if choice is None:
            return None
        node, index = choice
        return node, tuple(int(i) for i in index)

    @property
    def frame(self) -> dict | None:
        """The explanation drawn now (the worker's numbers), or None."""
        return self._frame

    def _wanted(self):
        """(version, sample, node, channel, position) of the frame to draw, or None."""
        state, target = self.state, self.target
        if target is None or not state.session_fits:
            return None
        node, index = target
        channel = index[0] if len(index) == 3 else None
        return state.weights_version, int(state.choices.probe), node, channel, index

    def _position(self, index, shape) -> int:
        if len(index) == 3 and len(shape) == 3:
            return index[1] * int(shape[2]) + index[2]
        return int(np.ravel_multi_index(index, shape)) if len(index) == len(shape) else 0

    def _index_at(self, position: int, shape, channel) -> tuple[int, ...]:
        if channel is not None and len(shape) == 3:
            return (channel, position // int(shape[2]), position % int(shape[2]))
        return tuple(int(v) for v in np.unravel_index(position, shape))

    # --- what the person does ------------------------------------------------------------------
    def step(self, delta: int, wrap: bool = False) -> None:
        """Move the window by ``delta`` positions along the map (or the vector)."""
        cache = self.state.insight.explanation
        target = self.target
        if target is None or cache.meta is None or cache.meta.node != target[0]:
            return
        meta = cache.meta
        total = meta.total
        position = self._position(target[1], meta.shape) + delta
        if wrap:
            position %= max(total, 1)
        position = max(0, min(position, total - 1))
        self.show_index(meta.node, self._index_at(position, meta.shape, meta.channel))

    def show_index(self, node: str, index) -> None:
        """Explain ``node``'s output at ``index`` (choice of the project state)."""
        self.ctx.choose(explain=(node, tuple(int(i) for i in index)))
        self.render({"choices"})
        self.flush()

    def _node_picked(self, _i: int) -> None:
        node = self.node_combo.currentData()
        if not node:
            return
        target = self.target
        if target is not None and target[0] == node:
            return
        shape = self._shape_of(node)
        index = (0, 0, 0) if shape is not None and len(shape) == 3 else (0,)
        if shape is not None and len(shape) == 3:     # the middle of the map: a full window
            index = (0, shape[1] // 2, shape[2] // 2)
        self.show_index(node, index)

    def _shape_of(self, node: str):
        cache = self.state.insight.explanation
        if cache.meta is not None and cache.meta.node == node:
            return cache.meta.shape
        return None

    def _output_clicked(self, row: int, col: int) -> None:
        meta = self.state.insight.explanation.meta
        if meta is None:
            return
        if meta.channel is not None:
            self.show_index(meta.node, (meta.channel, row, col))
        else:
            self.show_index(meta.node, (col,))

    def _play_toggled(self, on: bool) -> None:
        self.play.setText("Pause" if on else "Play")
        if on:
            self.timer.start(int(1000 / max(self.speed.currentData() or 1, 1)))
        else:
            self.timer.stop()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.play.setChecked(False)       # nothing slides unseen

    # --- asking the worker ---------------------------------------------------------------------
    def _ask(self, version, sample, node, channel, index=None, start=None) -> None:
        key = (version, sample, node, channel, start if index is None else ("at", index))
        now = time.monotonic()
        last = self._asked.get(key)
        if last is not None and now - last < 30.0:
            return
        if self.state.run.status == "running":      # weights change every batch
            recent = max((t for k, t in self._asked.items() if k[2] == node), default=0.0)
            if now - recent < LIVE_REFRESH_S:
                if not self._refresh_pending:
                    self._refresh_pending = True
                    QTimer.singleShot(int(1000 * LIVE_REFRESH_S), self._refresh)
                return
        self._asked[key] = now
        args = {"node": node, "sample": int(sample)}
        if index is not None:
            args["index"] = list(index)
        else:
            args.update(channel=channel, start=int(start))
        self.ctx.ask("explain", **args)

    def _refresh(self) -> None:
        self._refresh_pending = False
        if self.state.run.active:
            self.render({"explanation"})
            self.flush()

    # --- drawing -------------------------------------------------------------------------------
    def draw(self, topics: frozenset) -> None:
        state = self.state
        self._fill_nodes()
        note = self._empty_note()
        if note is not None:
            self._frame = None
            self.play.setChecked(False)
            self.heading.setText("")
            self.heading.hide()
            self.body.show_note(note)
            return
        version, sample, node, channel, index = self._wanted()
        cache = state.insight.explanation
        fits = cache.covers(version, sample, node, channel)
        error = state.results.errors.get("explanation")
        if not fits:
            stale = cache.meta is not None and cache.meta.node == node and \
                cache.meta.sample == sample and cache.meta.channel == channel
            self._ask(version, sample, node, channel, index=index)
            if error and "explanation" in topics:
                self.play.setChecked(False)
                self.body.show_note(f"{node} {list(index)} cannot be explained: {error}")
                return
            if not stale:
                self.heading.show()
                self.heading.setText(f"Working out {node} {list(index)}…")
                return
        meta = cache.meta
        position = self._position(index, meta.shape)
        frame = cache.frame(position)
        if frame is None:
            if fits:
                self._ask(version, sample, node, channel, start=(position // 256) * 256)
            return
        self.body.show_content()
        self.heading.show()
        if fits and cache.frame(min(position + AHEAD, meta.total - 1)) is None \
                and position + 1 < meta.total:
            end = max(k for k in cache.frames) + 1          # ask ahead while playing
            self._ask(version, sample, node, channel, start=end)
        self._frame = frame
        self._draw_frame(meta, frame, position, stale=not fits)

    def _fill_nodes(self) -> None:
        state = self.state
        ids = [n for n in (state.session.node_ids if state.session_fits else ())
               if state.session.node_types.get(n) != "Input"]
        current = [self.node_combo.itemData(i) for i in range(self.node_combo.count())]
        if current != ids:
            self.node_combo.blockSignals(True)
            self.node_combo.clear()
            for n in ids:
                self.node_combo.addItem(f"{n} ({state.session.node_types.get(n, '')})", n)
            self.node_combo.blockSignals(False)
        target = self.target
        if target is not None:
            i = self.node_combo.findData(target[0])
            if i >= 0 and i != self.node_combo.currentIndex():
                self.node_combo.blockSignals(True)
                self.node_combo.setCurrentIndex(i)
                self.node_combo.blockSignals(False)

    def _empty_note(self) -> str | None:
        state = self.state
        if state.session is None:
            loading = "" if state.worker.ready else " (PyTorch is loading…)"
            return ("How one number of the trained network came about — the window of the "
                    "input under the kernel, its weights, their products and sum, the bias and "
                    "the activation, with the network's own numbers — appears here. Train the "
                    f"network first (Ctrl+T), then click a cell of a feature map.{loading}")
        if not state.session_fits:
            return ("The network changed since it was trained: its trained numbers no longer "
                    "describe it. Train again, then click a cell of a feature map.")
        if self.target is None:
            return ("Click a cell of a feature map (the Feature maps view) — or a bar of a "
                    "layer's outputs — to see how that one number was computed for the sample "
                    "shown there: the window under the kernel, the weights, their products, "
                    "the sum, the bias and the activation, with this network's own numbers.")
        node = self.target[0]
        if node not in state.session.node_ids:
            return f"{node} is not in the trained network: pick a layer above."
        return None

    def _draw_frame(self, meta, f: dict, position: int, stale: bool) -> None:
        state = self.state
        node_type = f.get("type", meta.type)
        index = tuple(f.get("index", ()))
        step = meta.version[1]
        running = state.run.status == "running"
        when = (f"weights after step {step:,}" + (" (they change every batch — Pause to "
                                                  "study them)" if running else ""))
        if stale:
            when += " — updating…"
        sample = (f"validation sample {meta.sample}" + (f" (true {meta.label}, predicted "
                                                        f"{meta.predicted})" if meta.label
                                                        else ""))
        heading = f"{meta.node} ({node_type}) {list(index)} = {num(f['value'])} · {sample} · {when}"
        if self.heading.text() != heading:
            self.heading.setText(heading)
        if meta.channel is not None:
            row, col = index[1], index[2]
            self.where.setText(f"map {meta.channel}, row {row}, column {col} · "
                               f"{position + 1} of {meta.total}")
        else:
            self.where.setText(f"output {index[0] if index else 0} · {position + 1} of "
                               f"{meta.total}")
        many = meta.total > 1
        for w in (self.back, self.forward, self.play, self.speed):
            w.setEnabled(many)
        self._draw_output(meta, index)
        kind = ("conv" if node_type == "Conv2d" and "window" in f else
                "pool" if "op" in f and "window" in f else
                "linear" if node_type == "Linear" and "products" in f else
                "softmax" if "logits" in f else "text")
        self._kind = kind
        getattr(self, f"_draw_{kind}")(meta, f)
        self.grids.sync()
        self.text.setPlainText("\n".join(f.get("lines", ())))
        self.equation.setText(self._equation(f, kind))

    def _redraw(self) -> None:
        if self._frame is not None:
            self.render({"explanation"})
            self.flush()

    def _draw_output(self, meta, index) -> None:
        out = meta.output_map
        if out is None:
            self.output_map.set_map(None)
            return
        if meta.channel is not None:
            self.output_title.setText(f"{meta.node}: map {meta.channel} "
                                      f"({out.shape[0]}×{out.shape[1]}) — click a cell")
            self.output_map.set_map(out, colors="viridis")
            self.output_map.set_mark(index[1], index[2])
        else:
            self.output_title.setText(f"{meta.node}: its {out.size} outputs — click one")
            self.output_map.set_map(np.asarray(out).reshape(1, -1), colors="viridis")
            self.output_map.set_mark(0, index[0] if index else 0)

    def _show_source(self, meta, channel_pos: int, rows, cols, pad: int) -> None:
        maps = meta.source_maps
        if maps is None or not len(maps):
            self.source_map.set_map(None)
            self.source_title.setText("")
            return
        channel_pos = max(0, min(channel_pos, len(maps) - 1))
        channel = meta.source_channels[channel_pos]
        if meta.source == "input" and meta.image is not None and np.ndim(meta.image) == 3 \
                and len(maps) == 3:
            picture, what = meta.image, "the input image"      # colour: the image itself
            unit = True
        else:
            picture, unit = maps[channel_pos], False
            what = ("the input" if meta.source == "input" else meta.source) + (
                f", channel {channel}" if len(maps) > 1 or maps.shape[0] > 1 else "")
        self.source_title.setText(f"The window on {what} (the yellow cells"
                                  + (", grey = zero padding" if pad else "") + ")")
        self.source_map.set_map(picture, pad=pad, unit=unit)
        self.source_map.set_window(rows, cols)

    def _pad_needed(self, f: dict, h: int, w: int) -> int:
        rows, cols = np.asarray(f.get("rows", [0])), np.asarray(f.get("cols", [0]))
        return int(max(0, -rows.min(), -cols.min(), rows.max() - h + 1, cols.max() - w + 1))

    # --- per type ------------------------------------------------------------------------------
    def _set_grids(self, visible: bool, sums: bool = False) -> None:
        self.grids.setVisible(visible)
        self.sums_plot.setVisible(sums)
        for w in (self.window_grid, self.kernel_grid, self.products_grid, self.times_label,
                  self.equals_label):
            w.show()
        self.times_label.setText("×")
        self.equals_label.setText("=")

    def _draw_conv(self, meta, f: dict) -> None:
        window, kernel, products = (np.asarray(f[k], dtype=np.float64) for k in
                                    ("window", "kernel", "products"))
        channels = list(np.asarray(f["channels"]).ravel())
        cg = len(channels)
        self.in_channel.setVisible(cg > 1)
        self.in_channel.blockSignals(True)
        self.in_channel.setRange(0, max(cg - 1, 0))
        self.in_channel.setPrefix("input channel " if cg > 1 else "")
        self.in_channel.blockSignals(False)
        k = self.in_channel.value() if cg > 1 else 0
        padding = ~np.asarray(f["inside"], dtype=bool)
        h, w = (meta.source_maps.shape[1:] if meta.source_maps is not None else (0, 0))
        pad = self._pad_needed(f, h, w)
        self._set_grids(True, sums=cg > 1)
        # One colour scale for every channel's window (and one for the products): the
        # colours compare across channels as the numbers do.
        self.window_grid.set_values(window[k], scale=float(np.abs(window).max()) or 1.0,
                                    title=f"window (channel {channels[k]})", padding=padding)
        self.kernel_grid.set_values(kernel[k], scale=float(np.abs(kernel).max()) or 1.0,
                                    title=f"kernel {f['index'][0]}, channel {channels[k]}")
        self.products_grid.set_values(products[k], scale=float(np.abs(products).max()) or 1.0,
                                      title=f"products (sum {num(products[k].sum())})",
                                      padding=padding)
        self._show_source(meta, k, f["rows"], f["cols"], pad)
        if cg > 1:
            sums = np.asarray(f["channel_sums"], dtype=np.float64)[:MAX_BARS]
            brushes = [pg.mkBrush("#D9483C" if s >= 0 else "#3A7BD5") for s in sums]
            self.sums_bars.setOpts(x=np.arange(len(sums)), height=sums, width=0.8,
                                   brushes=brushes)
            # Whole channels on the axis (not 0.5, 1.5), at most ~16 labels.
            every = max(1, -(-len(sums) // 16))
            self.sums_plot.getPlotItem().getAxis("bottom").setTicks(
                [[(i, str(channels[i] if i < len(channels) else i))
                  for i in range(0, len(sums), every)]])

    def _draw_pool(self, meta, f: dict) -> None:
        self.in_channel.hide()
        window = np.asarray(f["window"], dtype=np.float64)
        counted = np.asarray(f["counted"], dtype=bool)
        winner = f.get("winner")
        self._set_grids(True)
        self.kernel_grid.hide()
        self.times_label.hide()
        self.equals_label.setText("→")
        op = f["op"]
        self.window_grid.set_values(np.where(counted, window, np.nan),
                                    highlight=[tuple(winner)] if winner else (),
                                    title=f"window on channel {f['channel']} of {f['source']}",
                                    blank="—")
        self.products_grid.set_values(np.array([[f["value"]]]),
                                      title={"max": "the largest", "average": "the average",
                                             "p-norm": "the p-norm"}.get(op, op))
        h, w = (meta.source_maps.shape[1:] if meta.source_maps is not None else (0, 0))
        self._show_source(meta, 0, f["rows"], f["cols"], self._pad_needed(f, h, w))

    def _draw_linear(self, meta, f: dict) -> None:
        self.in_channel.hide()
        x, wts, prod = (np.asarray(f[k], dtype=np.float64) for k in
                        ("inputs", "weights", "products"))
        top = [int(i) for i in np.asarray(f["top"])[:TOP]]
        names = f.get("input_names")
        shape = tuple(f.get("source_shape", (len(x),)))
        labels = [_vector_label(i, names, shape) for i in top]
        rest = np.delete(prod, top)
        rows_x, rows_w, rows_p = list(x[top]), list(wts[top]), list(prod[top])
        if len(rest):
            labels.append(f"the other {len(rest)}")
            rows_x.append(np.nan)
            rows_w.append(np.nan)
            rows_p.append(float(rest.sum()))
        self._set_grids(True)
        self.window_grid.set_values(np.array(rows_x), row_labels=labels,
                                    title=f"inputs x from {f['source']}", blank="")
        self.kernel_grid.set_values(np.array(rows_w), title=f"weights w (row {f['index'][0]})",
                                    blank="")
        self.products_grid.set_values(np.array(rows_p), title="w·x, largest first", blank="")
        self.source_map.set_map(None)
        self.source_title.setText(f"The {len(x)} inputs, each times its weight: the "
                                  f"{min(TOP, len(x))} largest contributions")

    def _draw_softmax(self, meta, f: dict) -> None:
        self.in_channel.hide()
        logits, exps, probs = (np.asarray(f[k], dtype=np.float64) for k in
                               ("logits", "exp", "probabilities"))
        names = list(self.state.class_names)
        labels = names if len(names) == len(logits) else [str(i) for i in range(len(logits))]
        here = [(int(f["position"]), 0)]
        self._set_grids(True)
        self.times_label.setText("→")
        self.equals_label.setText("→")
        self.window_grid.set_values(logits, row_labels=labels, highlight=here,
                                    title=f"logits from {f['source']}")
        shift = f" (x − {num(f['shift'])})" if f.get("shift") else ""
        self.kernel_grid.set_values(exps, highlight=here,
                                    title=f"e^x{shift}: sum {num(f['sum_exp'])}")
        self.products_grid.set_values(probs, scale=1.0, highlight=here,
                                      title="probability = eˣ / sum")
        self.source_map.set_map(None)
        self.source_title.setText("Softmax turns the scores into probabilities that add up "
                                  "to 1")

    def _draw_text(self, meta, f: dict) -> None:
        self.in_channel.hide()
        self._set_grids(False)
        self.source_map.set_map(None)
        self.source_title.setText("")

    def _equation(self, f: dict, kind: str) -> str:
        act = f.get("activation")
        after = (f" → {act['node']} ({act['type']}): {act['formula']}" if act else "")
        if kind == "conv":
            cg = len(np.asarray(f["channels"]).ravel())
            parts = f"Σ of the {np.asarray(f['products']).size} products"
            if cg > 1:
                parts += f" over {cg} channels"
            bias = (f" + bias {num(f['bias'])}" if f.get("bias") is not None else
                    " (no bias)")
            return f"{parts} = {num(f['sum'])}{bias} = {num(f['pre_activation'])}{after}"
        if kind == "linear":
            bias = (f" + bias {num(f['bias'])}" if f.get("bias") is not None else
                    " (no bias)")
            return (f"Σ w·x over {len(f['inputs'])} inputs = {num(f['sum'])}{bias} = "
                    f"{num(f['pre_activation'])}{after}")
        if kind == "pool":
            if f["op"] == "average":
                return f"({num(f['sum'])}) / {f['divisor']} = {num(f['value'])}{after}"
            if f["op"] == "p-norm":
                return f"(Σ xᵖ = {num(f['sum'])}, p = {num(f['p'])}) → {num(f['value'])}{after}"
            return f"max of the window = {num(f['value'])}{after}"
        if kind == "softmax":
            k = int(f["position"])
            return (f"probability {k} = {num(f['exp'][k])} / {num(f['sum_exp'])} = "
                    f"{num(f['value'])}")
        lines = list(f.get("lines", ()))
        return lines[-1] if lines else f"value {num(f['value'])}"
