"""The loss view on its own: the curves hold what arrived (thinned for long runs), accuracy
markers grow with the epochs, and the log scale transforms the loss curves' data."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from layerlab.app.dashboard.state.project_state import ProjectState
from layerlab.app.dashboard.views.loss_view import MAX_POINTS, LossView, decimate


def batches(n: int, per_epoch: int = 10, start: int = 0):
    return [SimpleNamespace(epoch=1 + (start + i) // per_epoch, batch=(start + i) % per_epoch,
                            batches=per_epoch, step=start + i + 1,
                            loss=2.0 / (1 + start + i)) for i in range(n)]


def epochs(first: int, last: int):
    return [SimpleNamespace(epoch=e, train_loss=1.0 / e, val_loss=1.2 / e, val_mae=None,
                            train_acc=1 - 0.5 / e, val_acc=1 - 0.6 / e)
            for e in range(first, last + 1)]


class Loss:
    """A LossView on its own project state (the curves live there, not in the view)."""

    def __init__(self, qtbot) -> None:
        self.state = ProjectState()
        self.view = LossView(SimpleNamespace(state=self.state))
        self.state.subscribe(self.view.render, ("curves",))
        qtbot.addWidget(self.view)
        self.view.resize(500, 400)
        self.view.show()
        qtbot.waitExposed(self.view)
        self.reset("classification", epochs=10)

    def reset(self, task, epochs):
        self.state.curves.reset(task, epochs)
        self.state.touch("curves")

    def add_batches(self, snaps):
        self.state.curves.add_batches(snaps)
        self.state.touch("curves")

    def add_epochs(self, snaps):
        self.state.curves.add_epochs(snaps)
        self.state.touch("curves")

    def flush(self):
        self.state.publish()
        self.view.flush()

    def __getattr__(self, name):
        return getattr(self.view, name)


@pytest.fixture
def view(qtbot):
    return Loss(qtbot)


def test_curves_hold_the_points_and_markers_grow_by_the_new_epochs(view):
    view.add_batches(batches(30))
    view.add_epochs(epochs(1, 3))
    view.flush()
    x, y = view.curve("batch_raw")
    assert len(x) == 30 and y[0] == pytest.approx(2.0) and y[-1] == pytest.approx(2.0 / 30)
    assert np.all(np.diff(x) > 0)
    _, acc = view.curve("val_acc")
    np.testing.assert_allclose(acc, [100 * (1 - 0.6 / e) for e in (1, 2, 3)])
    assert len(view._marks["val_acc"].data) == 3

    view.add_epochs(epochs(4, 5))
    view.flush()
    assert len(view._marks["val_acc"].data) == 5          # two added, none duplicated
    marked = sorted(float(p["y"]) for p in view._marks["val_acc"].data)
    np.testing.assert_allclose(marked, sorted(100 * (1 - 0.6 / e) for e in range(1, 6)))

    view.reset("classification", epochs=10)               # a new run: markers cleared too
    view.add_epochs(epochs(1, 1))
    view.flush()
    assert len(view._marks["val_acc"].data) == 1


def test_log_scale_draws_log10_of_the_loss_and_back(view):
    view.add_batches(batches(20))
    view.add_epochs(epochs(1, 2))
    view.flush()
    _, linear = view.curve("batch_raw")
    view.log_scale.setChecked(True)
    _, logged = view.curve("batch_raw")
    np.testing.assert_allclose(logged, np.log10(linear))
    _, val = view.curve("val_epoch")
    np.testing.assert_allclose(val, np.log10([1.2, 0.6]))
    _, acc = view.curve("val_acc")                        # the accuracy plot stays linear
    assert acc[0] == pytest.approx(40.0)
    (x_lo, x_hi), (lo, hi) = view.loss_plot.getPlotItem().viewRange()
    assert lo <= np.log10(linear.min()) and hi >= np.log10(linear.max())
    # the x axis still spans the run's 10 epochs, like the accuracy plot under it
    assert (x_lo, x_hi) == pytest.approx(view.acc_plot.getPlotItem().viewRange()[0])
    assert x_hi >= 10
    view.log_scale.setChecked(False)
    _, again = view.curve("batch_raw")
    np.testing.assert_allclose(again, linear)


def test_long_runs_are_thinned_but_keep_the_noise_band():
    x = np.arange(10_000, dtype=float)
    y = np.sin(x) + (x == 5_000) * 10                     # one spike in the middle
    dx, dy = decimate(x, y, peaks=True)
    assert len(dx) <= MAX_POINTS + 2 and dy.max() == pytest.approx(y.max())
    assert dy.min() == pytest.approx(y.min(), abs=1e-3)
    sx, _ = decimate(x, y)
    assert len(sx) <= MAX_POINTS and np.all(np.diff(sx) > 0)
    short = np.arange(5.0)
    assert decimate(short, short)[0] is short             # short series pass untouched
