"""Try the model: draw (or open) an image, or type a row of features, and see what it says.

Classification shows every class's probability as a bar; regression shows the predicted
value(s) in real units (the dataset's target normalization undone). The panel only builds
the raw input; the training worker runs the model (in its own process, between two batches
when a run is active) and requests are coalesced: while one prediction is in flight only the
newest drawing waits, so drawing never queues up work.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QBoxLayout, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QPushButton, QScrollArea, QStackedWidget, QVBoxLayout, QWidget)

from .deferred_draw import DeferredDraw
from .draw_canvas import DrawCanvas, image_to_input, qimage_to_gray
from .image_grid import ImageGrid
from .layout_helpers import caption, still_plot

__all__ = ["PredictPanel"]

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif);;All files (*)"


class PredictPanel(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictPanel")
        self.ctx, self.state = ctx, ctx.state
        self.session = None                # the session the inputs are built for
        self.status = caption(name="predictStatus")
        self._token = 0                    # the newest prediction asked for
        self._inflight: int | None = None  # one at a time: a fast drawer builds no queue
        self._next = False                 # …and the newest input waits for it

        # image input
        self.canvas = DrawCanvas()
        self.canvas.changed.connect(self.request)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.canvas.clear)
        open_image = QPushButton("Open image…")
        open_image.clicked.connect(self.open_image)
        self.seen = ImageGrid()
        self.seen.setFixedSize(56, 56)
        self.seen.setToolTip("What the network sees: your drawing at the input's size")
        buttons = QHBoxLayout()
        buttons.addWidget(clear)
        buttons.addWidget(open_image)
        image_page = QWidget()
        il = QVBoxLayout(image_page)
        il.setContentsMargins(0, 0, 0, 0)
        il.addWidget(self.canvas)
        il.addLayout(buttons)
        il.addStretch(1)

        # feature input (tables)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.fields: list[QDoubleSpinBox] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_host)

        self.inputs = QStackedWidget()
        self.inputs.addWidget(image_page)
        self.inputs.addWidget(scroll)

        # output
        self.answer = caption("", "predictAnswer")
        font = self.answer.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.answer.setFont(font)
        self.plot = still_plot("probability (%)")
        item = self.plot.getPlotItem()
        item.setYRange(0, 100, padding=0.02)
        item.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=pg.mkBrush("#3A7BD5"))
        self.plot.addItem(self.bars)
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.seen)
        answer_row.addWidget(self.answer, 1)
        out = QVBoxLayout()
        out.addLayout(answer_row)
        out.addWidget(self.plot, 1)

        # Side by side in a wide dock, stacked in a tall one (e.g. beside the training panel).
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.addWidget(self.inputs)
        self.body.addLayout(out, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addLayout(self.body, 1)
        self.render()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        wide = self.width() >= 1.3 * self.height()
        direction = (QBoxLayout.Direction.LeftToRight if wide
                     else QBoxLayout.Direction.TopToBottom)
        if self.body.direction() != direction:
            self.body.setDirection(direction)

    # --- the model ----------------------------------------------------------------------------
    @property
    def values(self) -> np.ndarray | None:
        """The answer shown: probabilities, or standardized regression values."""
        prediction = self.state.results.prediction
        if prediction is None or self.session is None or prediction.token != self._token:
            return None
        return np.asarray(prediction.values, dtype=np.float64)

    def draw(self, topics: frozenset) -> None:
        state = self.state
        info = state.session if state.session_fits else None
        if info is not self.session or not topics:
            self._set_session(info)
        elif info is None:
            self._say_why_not()
        if "prediction" in topics or not topics:
            self._show_result()

    def _say_why_not(self) -> None:
        state = self.state
        if state.session is not None:
            text = "The network changed since it was trained: train again to try it."
        elif not state.worker.ready:
            text = "Loading PyTorch… Then train the model and draw here to see what it thinks."
        else:
            text = ("Train the model (or open a project with trained weights), then draw "
                    "here to see what it thinks.")
        if self.status.text() != text:
            self.status.setText(text)

    def _set_session(self, info) -> None:
        """The model to ask (None: none trained yet, or the network changed since)."""
        self.session = info
        self._inflight, self._next = None, False
        self.answer.setText("")
        self.bars.setOpts(x=[], height=[])
        if info is None:
            self._say_why_not()
            return
        tabular = len(info.input_shape) == 1
        self.inputs.setCurrentIndex(1 if tabular else 0)
        self.seen.setVisible(not tabular)
        if tabular:
            self._build_form(info)
        self.status.setText(self._how(info, tabular))
        regression = info.task == "regression"
        self.plot.setVisible(not regression)
        if not regression:
            names = list(info.class_names)
            self.plot.getPlotItem().getAxis("bottom").setTicks(
                [[(i, n) for i, n in enumerate(names)]] if len(names) <= 30 else None)
            self.plot.getPlotItem().setXRange(-0.6, len(names) - 0.4, padding=0)
        self.request()

    @staticmethod
    def _how(info, tabular: bool) -> str:
        if tabular:
            what = ("its class" if info.task == "classification"
                    else ", ".join(info.target_names) or "the target")
            return f"Enter the features in their own units to predict {what}."
        c, h, w = info.input_shape
        return (f"Draw a {' or '.join(info.class_names[:3])}… with the mouse (or open an "
                f"image); the network sees it as {h}×{w}{' colour' if c == 3 else ''}.")

    def _build_form(self, info) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = []
        norm = info.dataset.normalization
        means = norm.get("mean") or []         # in the features' own units
        lows, highs = norm.get("min") or [], norm.get("max") or []
        for i, name in enumerate(info.feature_names):
            box = QDoubleSpinBox()
            box.setRange(-1e12, 1e12)
            box.setDecimals(4)
            if i < len(means):
                box.setValue(float(means[i]))
            elif i < len(lows) and i < len(highs):
                box.setValue((float(lows[i]) + float(highs[i])) / 2)
            box.valueChanged.connect(lambda _v: self.request())
            self.form.addRow(name, box)
            self.fields.append(box)

    def model_input(self) -> np.ndarray | None:
        """The current drawing / form as a raw sample of the Input's shape, or None."""
        info = self.session
        if info is None:
            return None
        if len(info.input_shape) == 1:
            return np.asarray([b.value() for b in self.fields], dtype=np.float64)
        if self.canvas.is_blank():
            return None
        raw = image_to_input(self.canvas.gray(), tuple(info.input_shape))
        self.seen.set_tiles(raw[:1] if raw.shape[0] != 3
                            else np.transpose(raw, (1, 2, 0))[None])
        return raw

    def request(self) -> None:
        """Ask the worker about the current input: one request in flight; a newer input
        waits for it, older ones are dropped."""
        x = self.model_input()
        if x is None:
            if self.session is not None and len(self.session.input_shape) == 3:
                self.answer.setText("Draw something…")
                self.bars.setOpts(x=[], height=[])
                self.seen.clear_tiles()
                self._token += 1           # an answer still on its way is for the old one
            return
        if self._inflight is not None:
            self._next = True
            return
        self._token += 1
        self._inflight = self._token
        self.ctx.ask("predict", x=x, token=self._token)

    @property
    def busy(self) -> bool:
        return self._inflight is not None

    def open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
        if path:
            self.load_image(path)

    def load_image(self, path: str) -> bool:
        image = QImage(path)
        if image.isNull():
            self.answer.setText(f"Cannot read {path} as an image")
            return False
        # Photos are dark ink on light paper: flip them to light-on-dark like the datasets.
        if float(qimage_to_gray(image).mean()) > 0.5:
            image.invertPixels()
        self.canvas.set_image(image)
        return True

    # --- the answer ----------------------------------------------------------------------------
    def _show_result(self) -> None:
        prediction = self.state.results.prediction
        if prediction is not None and prediction.token == self._inflight:
            self._inflight = None
        error = self.state.results.errors.get("prediction")
        if error and self._inflight is not None:
            self._inflight = None
            self.answer.setText(error)
        if self._next and self._inflight is None:
            self._next = False
            self.request()
            return
        info = self.session
        values = self.values
        if values is None or info is None:
            return
        if info.task == "regression":
            real = np.atleast_1d(np.asarray(prediction.real, dtype=np.float64))
            names = list(info.dataset.target_names) or [f"output {i}" for i in range(len(real))]
            self.answer.setText("\n".join(f"Predicted {n}: {v:,.4g}" for n, v in zip(names,
                                                                                     real)))
            return
        probs = values
        k = int(np.argmax(probs))
        name = info.class_names[k] if k < len(info.class_names) else str(k)
        self.answer.setText(f"Looks like: {name} ({100 * probs[k]:.0f} %)")
        brushes = [pg.mkBrush("#E07A2E" if i == k else "#3A7BD5") for i in range(len(probs))]
        self.bars.setOpts(x=np.arange(len(probs)), height=100 * probs, width=0.7,
                          brushes=brushes)
