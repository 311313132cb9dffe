"""Where did it look? Grad-CAM on a chosen convolution (default the last) or the gradient of
the class score with respect to the pixels, for the probe sample, the drawing in the Predict
panel, or an opened image — laid over the image, with a class picker: "where is the evidence
for a 4?" as well as "why did it say 9?".

Computed in the worker (request "saliency", engine/explain/attribution.py) on the weights the
worker holds now; the view asks again when the subject, the method, the layer, the class or
the weights change. A table's network gets the gradient per feature as bars.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .heat import as_rgb, heat_rgb, overlay
from .image_grid import ImageGrid
from .layout_helpers import caption, column, still_plot

__all__ = ["SaliencyView", "image_file_input", "IMAGE_FILTER"]

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif);;All files (*)"
#: While a run trains, the map follows the changing weights at most this often.
LIVE_S = 1.0
SUBJECTS = (("probe", "a validation sample"), ("drawing", "your drawing (Predict)"),
            ("image", "an opened image"))
METHODS = (("gradcam", "Grad-CAM (a layer's maps)"), ("gradient", "gradient (each pixel)"))


def image_file_input(path: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """An image file as a raw sample of ``shape`` (C, H, W) in 0..1, as the datasets' images
    are: colour scaled to the input's size; grey ink centred like the digits (a photo of
    dark ink on light paper is flipped to light on dark). None when it is not an image."""
    from .draw_canvas import image_to_input, qimage_to_gray
    image = QImage(path)
    if image.isNull():
        return None
    c, h, w = shape
    if c == 3:
        small = image.convertToFormat(QImage.Format.Format_RGB888).scaled(
            w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation)
        stride = small.bytesPerLine()
        buf = np.frombuffer(small.constBits(), dtype=np.uint8, count=stride * h)
        rgb = buf.reshape(h, stride)[:, :3 * w].reshape(h, w, 3).astype(np.float32) / 255.0
        return np.transpose(rgb, (2, 0, 1)).copy()
    gray = qimage_to_gray(image)
    return image_to_input(gray, shape, invert=float(gray.mean()) > 0.5)


class SaliencyView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saliencyView")
        self.ctx, self.state = ctx, ctx.state
        self.subject = QComboBox()
        self.subject.setObjectName("saliencySubject")
        for key, label in SUBJECTS:
            self.subject.addItem(label, key)
        self.subject.setToolTip("Whose input to explain")
        self.sample = QSpinBox()
        self.sample.setObjectName("saliencySample")
        self.sample.setPrefix("sample ")
        self.sample.setKeyboardTracking(False)
        self.sample.setToolTip("The validation sample (the Feature maps view shows the same)")
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self.open_image)
        self.method = QComboBox()
        self.method.setObjectName("saliencyMethod")
        for key, label in METHODS:
            self.method.addItem(label, key)
        self.method.setToolTip("Grad-CAM weighs a layer's maps by how much the class score "
                               "grows with each; the gradient asks each input pixel")
        self.layer = QComboBox()
        self.layer.setObjectName("saliencyLayer")
        self.layer.setToolTip("The layer whose maps Grad-CAM weighs (the last convolution "
                              "sees the most, in the coarsest grid)")
        self.klass = QComboBox()
        self.klass.setObjectName("saliencyClass")
        self.klass.setToolTip("Which class's evidence to show: the one it predicted, or any "
                              "other ('where is the 4 in this?')")
        for combo in (self.subject, self.method, self.layer, self.klass):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.subject.activated.connect(self._subject_picked)
        self.sample.valueChanged.connect(self._sample_picked)
        self.method.activated.connect(lambda _i: self._choose(
            saliency_method=self.method.currentData()))
        self.layer.activated.connect(lambda _i: self._choose(
            saliency_node=self.layer.currentData()))
        self.klass.activated.connect(lambda _i: self._choose(
            saliency_class=self.klass.currentData()))
        row1 = QHBoxLayout()
        row1.addWidget(QLabel("For"))
        row1.addWidget(self.subject, 1)
        row1.addWidget(self.sample)
        row1.addWidget(self.open_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.method, 1)
        row2.addWidget(self.layer, 1)
        row2.addWidget(QLabel("class"))
        row2.addWidget(self.klass, 1)
        self.images = ImageGrid()
        self.images.setObjectName("saliencyImages")
        self.bars = still_plot("|∂ score / ∂ feature|")
        self.bar_item = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[],
                                        brush=pg.mkBrush("#E07A2E"))
        self.bars.addItem(self.bar_item)
        self.bars.getPlotItem().invertY(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.images)
        self.stack.addWidget(self.bars)
        self.caption = caption(name="saliencyCaption")
        self.body = EmptyState(column(self.stack, self.caption, grow=self.stack),
                               "saliencyEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(self.body, 1)
        self._asked: tuple | None = None
        self._asked_at = 0.0
        self._refresh_pending = False
        self._shown = None
        self.render()

    def _refresh(self) -> None:
        self._refresh_pending = False
        self.render({"saliency"})
        self.flush()

    # --- choices -------------------------------------------------------------------------------
    def _choose(self, **changes) -> None:
        self.ctx.choose(**changes)
        self.render({"choices"})
        self.flush()

    def _subject_picked(self, _i: int) -> None:
        subject = self.subject.currentData()
        if subject == "image" and self.state.choices.saliency_name in ("", "your drawing"):
            self.open_image()
            return
        if subject == "drawing":
            self.ctx.command("saliency:drawing")
            return
        self._choose(saliency_subject=subject)

    def _sample_picked(self, index: int) -> None:
        self.ctx.choose(probe=int(index), saliency_subject="probe")
        self.ctx.ask("probe", index=int(index))
        self.render({"choices"})
        self.flush()

    def open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
        if path:
            self.load_image(path)
        else:
            self.render({"choices"})
            self.flush()

    def load_image(self, path: str) -> bool:
        session = self.state.session
        if session is None or len(session.input_shape) != 3:
            return False
        raw = image_file_input(path, tuple(session.input_shape))
        if raw is None:
            self.caption.setText(f"Cannot read {path} as an image.")
            return False
        from pathlib import Path
        self._choose(saliency_subject="image", saliency_raw=raw,
                     saliency_name=Path(path).name)
        return True

    # --- what to ask ---------------------------------------------------------------------------
    def _question(self) -> dict | None:
        """The request for what the choices say, or None when there is nothing to ask."""
        state, ch = self.state, self.state.choices
        session = state.session
        image = len(session.input_shape) == 3
        method = ch.saliency_method if image and session.conv_ids else "gradient"
        node = ch.saliency_node if ch.saliency_node in session.conv_ids else None
        args = {"method": method, "node": node if method == "gradcam" else None,
                "target": ch.saliency_class}
        if ch.saliency_subject in ("drawing", "image") and ch.saliency_raw is not None:
            raw = np.asarray(ch.saliency_raw)
            args.update(raw=raw, subject=ch.saliency_name or ch.saliency_subject)
            what = (ch.saliency_subject, hash(raw.tobytes()))
        else:
            args.update(indices=[int(ch.probe)], subject=f"validation sample {ch.probe}")
            what = ("probe", int(ch.probe))
        args["key"] = (state.weights_version, what, args["method"], args["node"],
                       args["target"])
        return args

    # --- drawing -------------------------------------------------------------------------------
    def draw(self, topics: frozenset) -> None:
        state = self.state
        note = self._empty_note()
        self._fill_controls()
        if note is not None:
            self._shown = None
            self.images.clear_tiles()
            self.body.show_note(note)
            return
        question = self._question()
        key = tuple(question["key"])
        answer = state.results.extra.get("saliency")
        error = state.results.errors.get("saliency")
        current = answer is not None and tuple(answer.key) == key
        # The same question on older weights (a run moves them every batch): shown until
        # the new answer comes, asked again at most once a second while training runs.
        same = answer is not None and tuple(answer.key)[1:] == key[1:]
        if not current and self._asked != key:
            now = time.monotonic()
            if same and state.run.status == "running" and now - self._asked_at < LIVE_S:
                if not self._refresh_pending:
                    self._refresh_pending = True
                    QTimer.singleShot(int(1000 * LIVE_S), self._refresh)
            else:
                self._asked, self._asked_at = key, now
                self.ctx.ask("saliency", **question)
        if not current and not same:
            if error and "saliency" in topics:
                self.body.show_note(f"Where it looked cannot be shown: {error}")
            else:
                self.body.show_content()
                self.images.clear_tiles()
                self._shown = None
                self.caption.setText("Working out where it looked…")
            return
        self.body.show_content()
        if answer is not self._shown:
            self._shown = answer
            self._draw_answer(answer)

    def _empty_note(self) -> str | None:
        state = self.state
        if state.session is None:
            loading = "" if state.worker.ready else " (PyTorch is loading…)"
            return ("Where the trained network looked to reach its answer — a heatmap over "
                    "the image, for the class you pick — appears here once it is trained "
                    f"(Ctrl+T).{loading}")
        if not state.session_fits:
            return "The network changed since it was trained: train it again to see where " \
                   "it looks."
        if state.session.num_val == 0 and state.choices.saliency_subject == "probe":
            return "The dataset has no validation samples to explain."
        return None

    def _fill_controls(self) -> None:
        state, ch = self.state, self.state.choices
        session = state.session if state.session_fits else None
        image = session is not None and len(session.input_shape) == 3
        convs = list(session.conv_ids) if session is not None else []
        for combo in (self.subject, self.method, self.layer, self.klass, self.sample):
            combo.blockSignals(True)
        try:
            i = self.subject.findData(ch.saliency_subject)
            self.subject.setCurrentIndex(max(i, 0))
            self.subject.setEnabled(image)
            self.open_button.setVisible(image)
            self.sample.setVisible(ch.saliency_subject == "probe")
            self.sample.setMaximum(max((session.num_val if session else 1) - 1, 0))
            self.sample.setValue(ch.probe)
            method = ch.saliency_method if image and convs else "gradient"
            self.method.setCurrentIndex(max(self.method.findData(method), 0))
            self.method.setEnabled(image and bool(convs))
            layers = [(None, f"last convolution ({convs[-1]})")] if convs else []
            layers += [(c, c) for c in convs]
            if [self.layer.itemData(k) for k in range(self.layer.count())] != \
                    [d for d, _ in layers]:
                self.layer.clear()
                for data, label in layers:
                    self.layer.addItem(label, data)
            self.layer.setCurrentIndex(max(self.layer.findData(ch.saliency_node), 0))
            self.layer.setVisible(method == "gradcam")
            names = list(state.class_names) if session is not None and \
                session.task == "classification" else []
            wanted = [None] + list(range(len(names)))
            if [self.klass.itemData(k) for k in range(self.klass.count())] != wanted:
                self.klass.clear()
                self.klass.addItem("the predicted one", None)
                for k, name in enumerate(names):
                    self.klass.addItem(str(name), k)
            self.klass.setCurrentIndex(max(self.klass.findData(ch.saliency_class), 0))
            self.klass.setEnabled(bool(names))
        finally:
            for combo in (self.subject, self.method, self.layer, self.klass, self.sample):
                combo.blockSignals(False)

    def _draw_answer(self, a) -> None:
        state = self.state
        names = list(state.class_names)
        k, p = a.targets[0], a.predicted[0]
        probs = np.asarray(a.probabilities[0])
        classification = state.task == "classification" and len(names) == len(probs)
        name = (lambda i: str(names[i]) if classification and 0 <= i < len(names) else str(i))
        truth = ""
        if a.labels and classification:
            truth = f"true {name(int(a.labels[0]))}, "
        said = (f"{truth}predicted {name(p)} ({100 * probs[p]:.0f} %)" if classification else
                f"output {k}")
        whose = f"the evidence for {name(k)}" + (f" ({100 * probs[k]:.0f} %)"
                                                 if classification and k != p else "")
        if a.images is None:                    # a table: the gradient per feature
            self.stack.setCurrentWidget(self.bars)
            features = list(state.session.feature_names) or [
                f"feature {i}" for i in range(a.heat.shape[1])]
            heat = np.asarray(a.heat[0])
            self.bar_item.setOpts(x0=np.zeros(len(heat)), y=np.arange(len(heat)),
                                  width=heat, height=0.7)
            self.bars.getPlotItem().getAxis("left").setTicks(
                [[(i, f) for i, f in enumerate(features)]])
            self.bars.getPlotItem().setYRange(-0.6, len(heat) - 0.4, padding=0)
            self.bars.getPlotItem().setXRange(0, 1.05, padding=0)
            self.caption.setText(f"{a.subject}: {said}. How much each feature moves "
                                 f"{'the prediction' if not classification else whose} "
                                 f"(1 = the most).")
            return
        self.stack.setCurrentWidget(self.images)
        image = np.asarray(a.images[0])
        heat = np.asarray(a.heat[0])
        tiles = [as_rgb(image), overlay(image, heat)]
        tips = [f"{a.subject}", f"where it looked for {name(k)}"]
        if a.method == "gradcam":
            raw = np.asarray(a.heat_raw[0])
            size = image.shape[:2]
            # The layer's own coarse map, each of its cells drawn as a block over the image.
            ry, rx = -(-size[0] // raw.shape[0]), -(-size[1] // raw.shape[1])
            blocks = np.kron(raw, np.ones((ry, rx)))[:size[0], :size[1]]
            tiles.append(heat_rgb(blocks))
            tips.append(f"{a.node}'s own {raw.shape[0]}×{raw.shape[1]} map")
            how = (f"Grad-CAM on {a.node}'s {raw.shape[0]}×{raw.shape[1]} maps (right), "
                   f"stretched over the image")
        else:
            how = "the gradient of the score with respect to each pixel"
        self.images.set_tiles(np.stack(tiles), columns=len(tiles), tips=tips)
        nothing = (f" Nothing in {a.node or 'the input'} speaks for {name(k)}: every "
                   f"weighted map is ≤ 0." if float(a.peaks[0]) <= 0 else "")
        self.caption.setText(f"{a.subject}: {said}. Showing {whose}: bright = where it "
                             f"counts most ({how}).{nothing}")
