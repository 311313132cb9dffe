"""Shared set-up for the training dashboard tests (tests/test_dashboard_*.py)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from layerlab.engine.templates import load_template

from app_helpers import dialogs, make_window  # noqa: F401

#: Generous waits: the suite may share the machine with other jobs. Never a pass/fail on time.
WAIT_MS = 60_000


def digits_project(**training):
    project = load_template("digits_cnn")
    project.training = {**project.training, "device": "cpu", **training}
    return project


@pytest.fixture
def dash(qtbot, tmp_path, dialogs):  # noqa: F811
    """A window with the digits template loaded; training is stopped and the worker thread
    ended at teardown, whatever the test left running."""
    window = make_window(tmp_path, qtbot)
    window.files.load_into(digits_project(), None)
    d = window.dashboard
    yield d
    d.stop()
    qtbot.waitUntil(lambda: d.state == "idle" and not d.worker_busy, timeout=WAIT_MS)
    window.editor.mark_saved()
    d.shutdown()


def wait_idle(qtbot, d, timeout: int = WAIT_MS) -> None:
    qtbot.waitUntil(lambda: d.state == "idle" and not d.worker_busy, timeout=timeout)


def wait_state(qtbot, d, state: str, timeout: int = WAIT_MS) -> None:
    qtbot.waitUntil(lambda: d.state == state, timeout=timeout)


def flush(d) -> None:
    """Draw what has arrived now (instead of waiting for the next frame)."""
    QCoreApplication.processEvents()
    d.draw_now()


def draw_seven(canvas) -> None:
    size = canvas.width()
    canvas.stroke([(0.25 * size, 0.2 * size), (0.75 * size, 0.2 * size),
                   (0.45 * size, 0.85 * size)])


def predict_now(qtbot, d, timeout: int = WAIT_MS) -> np.ndarray:
    """Ask for a prediction of the current drawing and wait for the answer."""
    with qtbot.waitSignal(d.worker.predicted, timeout=timeout):
        d.predict_panel.request()
    qtbot.waitUntil(lambda: not d._predict_inflight, timeout=timeout)
    QCoreApplication.processEvents()
    return d.predict_panel.values
