"""The dead-ReLU share (a forward pass over the probe batch, seconds on a big network) is
measured once per set of weights: a pause and then Stop, or a new probe sample while paused,
reuse it, so Stop never waits on a second pass over unchanged weights (issue 10: Stop on the
worked example outlasted the window's grace and ended the training process)."""
from layerlab.engine.training import Trainer, TrainingObserver
from layerlab.engine.training import trainer as trainer_module

from test_training_snapshots import cnn
from training_helpers import digits, one_thread  # noqa: F401


class Visuals(TrainingObserver):
    def __init__(self):
        self.snaps = []

    def on_visuals(self, snap):
        self.snaps.append(snap)


def record_dead_passes(monkeypatch, step_of) -> list:
    """Each dead-ReLU pass from now on, as the step ``step_of()`` says when it runs."""
    steps = []
    real = trainer_module.dead_relu_fractions

    def counted(*args):
        steps.append(step_of())
        return real(*args)

    monkeypatch.setattr(trainer_module, "dead_relu_fractions", counted)
    return steps


def test_dead_relus_are_measured_once_per_set_of_weights(digits, monkeypatch):
    passes = record_dead_passes(monkeypatch, lambda: t.global_step)
    seen = Visuals()
    t = Trainer(cnn(), digits, {"epochs": 1, "batch_size": 32, "seed": 0, "device": "cpu"},
                observers=[seen])
    t.run(max_batches=1)                       # stops at step 1: a forced snapshot
    assert t.global_step == 1 and seen.snaps[-1].forced and seen.snaps[-1].dead_relu
    after_run = len(passes)
    again = t.capture_visuals(forced=True)     # the same weights: the same figures, no pass
    assert len(passes) == after_run and again.dead_relu == seen.snaps[-1].dead_relu

    t.load_state_dict(t.state_dict())          # weights replaced without a step: measured
    t.capture_visuals(forced=True)
    assert len(passes) == after_run + 1

    t.run(max_batches=1)                       # a step later: measured afresh
    assert t.global_step == 2 and len(passes) > after_run + 1


class VisualsAndHistograms(Visuals):
    def __init__(self):
        super().__init__()
        self.histograms = []

    def on_histograms(self, snap):
        self.histograms.append(snap)


def test_the_last_histograms_dead_shares_serve_the_last_visual_snapshot(digits, monkeypatch):
    steps = record_dead_passes(monkeypatch, lambda: t.global_step)
    seen = VisualsAndHistograms()
    t = Trainer(cnn(), digits, {"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu"},
                observers=[seen])
    t.run()
    last_hist, last_visual = seen.histograms[-1], seen.snaps[-1]
    assert last_hist.step == last_visual.step == t.global_step and last_visual.forced
    # The weights a run ends with are measured once (the lr hint's look at the last epoch,
    # or the histograms' pass), not again for the last visual snapshot.
    assert steps.count(t.global_step) <= 1
    assert last_visual.dead_relu == last_hist.dead_relu
