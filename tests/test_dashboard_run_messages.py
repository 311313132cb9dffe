"""The message bar at a run's end: "Training finished" (or stopped) must not push away an
error the run raised on its way (a snapshot that could not be shown), nor the near-chance
hint with its remedy while the run is still near chance — but a hint the run has since
outgrown gives way to the summary, and an ending that is itself an error (the loss blew up,
training failed) says so over anything. Qt-free: the project state alone."""
from __future__ import annotations

import pytest

from layerlab.app.dashboard.state.project_state import Message, ProjectFacts, ProjectState
from layerlab.engine.service.protocol import WORKER_GENERATION, Event
from layerlab.engine.training.snapshots import EpochSnapshot, RunResult, TrainingEvent


def running_state() -> ProjectState:
    state = ProjectState()
    state.new_project(ProjectFacts(name="digits"))
    state.begin_run(token=1, held={}, epochs=3, fresh=True)
    return state


def ended(status: str, message: str = "3 epochs") -> Event:
    return Event("run_ended", RunResult(status, message, 3, 30, (), 1.0, 900.0, "cpu"),
                 WORKER_GENERATION)


def epoch(n: int, val_acc: float) -> Event:
    return Event("epoch", EpochSnapshot(epoch=n, train_loss=2.3, train_acc=val_acc,
                                        val_loss=2.3, val_acc=val_acc, val_mae=None,
                                        val_rmse=None, lr=1e-6, seconds=0.1, step=10 * n),
                 WORKER_GENERATION)


HINT = Event("marker", TrainingEvent("lr_hint", 2, 0, 20, 1.0, "Accuracy stayed near chance.",
                                     old=1e-6, new=0.01, direction="higher",
                                     near_chance_below=0.25), WORKER_GENERATION)
NOT_SHOWN = Event("failed", ("Something could not be shown",
                             "The training worker could not send its 'visuals' message."),
                  WORKER_GENERATION)


@pytest.mark.parametrize("status", ["finished", "stopped"])
@pytest.mark.parametrize("raised", [HINT, NOT_SHOWN], ids=["lr_hint", "failed"])
def test_a_quiet_ending_keeps_what_the_run_warned_about(status, raised):
    state = running_state()
    state.apply([epoch(1, 0.11), raised, epoch(2, 0.12)])        # still near chance
    during = state.message
    assert during is not None and during.kind in ("warning", "error")
    state.apply([ended(status)])
    assert state.message == during                  # its remedy buttons included
    assert state.run.outcome == status              # the run line still says how it ended


@pytest.mark.parametrize("status, title", [("diverged", "Training stopped: the loss blew up"),
                                            ("failed", "Training failed")])
def test_an_ending_that_is_an_error_says_so_over_a_warning(status, title):
    state = running_state()
    state.apply([HINT])
    state.apply([ended(status, "the loss became nan")])
    assert state.message.kind == "error" and state.message.title == title


def test_a_hint_the_run_outgrew_gives_way_to_the_summary():
    state = running_state()
    state.apply([epoch(1, 0.11), HINT, epoch(2, 0.9)])
    state.apply([ended("finished")])
    assert state.message.title == "Training finished"
    assert "90.0 %" in state.message.text


def test_a_run_without_warnings_ends_with_its_summary():
    state = running_state()
    state.set_message(Message("info", "Note", "the dataset was loaded"))
    state.apply([ended("finished")])
    assert state.message.title == "Training finished"
