"""The batch it trained on: after a Step (or a pause), and every batch in slow motion, the
training samples of that batch with their labels — what the last optimizer step learned from.

The run's batch snapshots carry the samples' indices when there is time to look (engine
BatchSnapshot.indices); the view asks the worker for those samples' images (request
"batch_samples"), one batch at a time.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget

from layerlab.engine.formatting import plain_number

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .image_grid import ImageGrid
from .layout_helpers import caption, column

__all__ = ["BatchView"]


class BatchView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchView")
        self.ctx, self.state = ctx, ctx.state
        self.caption = caption(name="batchCaption")
        self.grid = ImageGrid()
        self.grid.setObjectName("batchImages")
        self.labels = caption(name="batchLabels")
        self.body = EmptyState(column(self.caption, self.grid, self.labels, grow=self.grid),
                               "batchEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.body, 1)
        self._asked: tuple | None = None
        self._shown = None
        self.render()

    def _last_batch(self):
        """The newest batch snapshot that names its samples, or None."""
        snap = self.state.run.progress
        return snap if snap is not None and snap.indices else None

    def draw(self, _topics: frozenset) -> None:
        state = self.state
        snap = self._last_batch()
        answer = state.results.extra.get("batch")
        if snap is None and answer is None:
            self._shown = None
            self.grid.clear_tiles()
            self.body.show_note(
                "The samples a training step learned from appear here: press Step (one "
                "batch), pause a run, or set a delay per batch (slow motion) in the Training "
                "panel — each batch's images with their labels.")
            return
        if snap is not None:
            key = (state.generation, snap.step, tuple(snap.indices))
            if self._asked != key and (answer is None or answer["step"] != snap.step):
                self._asked = key
                self.ctx.ask("batch_samples", indices=list(snap.indices), split=snap.split,
                             step=int(snap.step))
        if answer is None:
            self.body.show_note("Loading the batch's samples…")
            return
        self.body.show_content()
        if answer is self._shown:
            return
        self._shown = answer
        samples = answer["samples"]
        names = list(state.class_names)
        targets = list(samples.targets)

        def label(t) -> str:
            if state.task == "classification" and np.ndim(t) == 0 and 0 <= int(t) < len(names):
                return str(names[int(t)])
            return ", ".join(plain_number(v) for v in np.atleast_1d(t))
        texts = [label(t) for t in targets]
        n = len(samples.indices)
        what = (f"Step {answer['step']:,}: the {n} training sample{'s' if n != 1 else ''} of "
                f"this batch")
        if samples.images is not None:
            self.grid.show()
            self.grid.set_tiles(np.asarray(samples.images),
                                tips=[f"training sample {i}: {t}" for i, t in
                                      zip(samples.indices, texts)])
            self.caption.setText(what + ", with their labels below (in the same order).")
        else:
            self.grid.clear_tiles()
            self.grid.hide()
            self.caption.setText(what + " (table rows), their targets:")
        if state.task == "classification":
            counts: dict[str, int] = {}
            for t in texts:
                counts[t] = counts.get(t, 0) + 1
            summary = ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items()))
            self.labels.setText(f"Labels: {' '.join(texts)}  ({summary})")
        else:
            self.labels.setText("Targets: " + "; ".join(texts))
