"""Trainer.visual_offload: the periodic visual snapshots of a run may be taken elsewhere (the
worker's capture process); the forced ones never are, and what was handed over goes out
before them (training/offload.py)."""
from __future__ import annotations

import time

from layerlab.engine.training import Trainer

from test_training_snapshots import Recorder, cnn
from training_helpers import digits, one_thread  # noqa: F401

FAST_VISUALS = {"visual_hz": 60.0, "visual_budget": 1.0}


class FakeOffload:
    """Answers every offer with ``answer``; records what the Trainer asked, in order."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[str] = []

    def begin(self, trainer):
        self.calls.append("begin")

    def offer(self, trainer):
        self.calls.append("offer")
        return self.answer

    def settle(self):
        self.calls.append("settle")

    def end(self):
        self.calls.append("end")


def run_with(digits, answer, epochs=10):
    recorder = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": epochs, "device": "cpu",
                                      "snapshots": FAST_VISUALS}, observers=[recorder])
    offload = FakeOffload(answer)
    trainer.visual_offload = offload
    result = trainer.run()
    assert result.status == "finished"
    return recorder, offload


def test_periodic_snapshots_handed_over_are_not_taken_here(digits):
    recorder, offload = run_with(digits, True)
    visuals = recorder.of("visuals")
    assert [v.forced for v in visuals] == [True]          # only the end's, taken here
    assert offload.calls[0] == "begin" and offload.calls[-1] == "end"
    assert offload.calls.count("offer") >= 2
    # Before the end's forced snapshot, what was handed over is waited for.
    assert offload.calls[-2:] == ["settle", "end"]


def test_an_offload_that_declines_leaves_them_to_the_trainer(digits):
    recorder, offload = run_with(digits, None)
    periodic = [v for v in recorder.of("visuals") if not v.forced]
    assert len(periodic) >= 2
    assert offload.calls.count("offer") == len(periodic)


def test_a_busy_offload_is_asked_again_at_the_next_batch_and_nothing_is_taken_here(digits):
    recorder, offload = run_with(digits, False)
    assert [v.forced for v in recorder.of("visuals")] == [True]
    batches = sum(1 for v in recorder.of("batch"))
    offers = offload.calls.count("offer")
    # Due once, then asked after every batch while it stays busy (60 Hz: due at once).
    steps = recorder.of("finish")[0].steps
    assert offers >= steps - 5 and offers > batches


def test_a_pause_waits_for_the_snapshot_in_flight_before_its_own(digits):
    recorder = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": 50, "device": "cpu",
                                      "snapshots": FAST_VISUALS}, observers=[recorder])
    offload = FakeOffload(True)
    trainer.visual_offload = offload
    trainer.start()
    try:
        deadline = time.monotonic() + 30
        while "offer" not in offload.calls and time.monotonic() < deadline:
            time.sleep(0.005)
        assert trainer.pause(wait=True, timeout=30)
        calls = list(offload.calls)
        assert "offer" in calls
        assert calls[-1] == "settle"                      # then the paused weights' snapshot
        assert [v.forced for v in recorder.of("visuals")] == [True]
    finally:
        trainer.stop()
        trainer.join(30)
