"""Shared set-up for the training dashboard tests (tests/test_dashboard_*.py).

The dashboard trains in a worker process; the tests drive it as a person does (buttons,
actions) and wait — never sleep — for what the project state says (``d.project_state``).
Waits are generous: the suite may share a small machine with other jobs, and a worker
process takes seconds to import PyTorch when it starts. Never a pass/fail on time.
"""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from layerlab.engine.templates import load_template

from app_helpers import dialogs, make_window  # noqa: F401

#: Generous waits: the suite may share the machine with other jobs. Never a pass/fail on time.
WAIT_MS = 120_000


def digits_project(**training):
    project = load_template("digits_cnn")
    project.training = {**project.training, "device": "cpu", **training}
    return project


def wait_ready(qtbot, d, timeout: int = WAIT_MS) -> None:
    """The worker imported PyTorch and paid its one-time costs: Train starts at once."""
    qtbot.waitUntil(lambda: d.project_state.worker.ready and d.project_state.worker.warm,
                    timeout=timeout)


@pytest.fixture
def dash(qtbot, tmp_path, dialogs):  # noqa: F811
    """A window with the digits template loaded and its worker ready; training is stopped
    and the worker handed back at teardown, whatever the test left running."""
    window = make_window(tmp_path, qtbot)
    window.files.load_into(digits_project(), None)
    d = window.dashboard
    wait_ready(qtbot, d)
    yield d
    d.stop()
    qtbot.waitUntil(lambda: d.idle, timeout=WAIT_MS)
    window.editor.mark_saved()
    d.discard_weights()
    d.shutdown()


def wait_idle(qtbot, d, timeout: int = WAIT_MS) -> None:
    """No run, nothing loading or saving — and everything the worker sent applied."""
    qtbot.waitUntil(lambda: d.idle and d.project_state.worker.ready, timeout=timeout)
    flush(d)


def wait_state(qtbot, d, state: str, timeout: int = WAIT_MS) -> None:
    qtbot.waitUntil(lambda: d.state == state, timeout=timeout)


def train_and_wait(qtbot, d, timeout: int = WAIT_MS):
    """Press Train, wait for the run's end; returns its RunResult."""
    assert d.train()
    qtbot.waitUntil(lambda: d.state == "idle", timeout=timeout)
    wait_idle(qtbot, d, timeout)
    return d.project_state.run.result


def flush(d) -> None:
    """Apply what has arrived and draw everything now (instead of waiting for frames)."""
    QCoreApplication.processEvents()
    d.draw_now()


def draw_seven(canvas) -> None:
    size = canvas.width()
    canvas.stroke([(0.25 * size, 0.2 * size), (0.75 * size, 0.2 * size),
                   (0.45 * size, 0.85 * size)])


def predict_now(qtbot, d, timeout: int = WAIT_MS) -> np.ndarray:
    """Ask for a prediction of the current drawing (or form) and wait for the answer (the
    Predict dock in front, as a person has it to draw)."""
    d.docks["predict"].raise_()
    qtbot.waitUntil(lambda: d.predict_panel.isVisible(), timeout=timeout)
    panel = d.predict_panel
    flush(d)
    panel.request()
    qtbot.waitUntil(lambda: (flush(d), not panel.busy)[1], timeout=timeout)
    flush(d)
    return panel.values
