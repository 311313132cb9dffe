"""The machinery between the training worker and the views: the outbox/inbox (nothing lost,
heavy snapshots coalesced, one wake-up for an idle GUI), the frames (one view per frame while
training, everything once when idle), and a run whose every snapshot reaches the curves."""
from __future__ import annotations

import threading
from types import SimpleNamespace

from layerlab.engine.service.outbox import Outbox
from layerlab.engine.service.protocol import Event

from dashboard_helpers import dash, dialogs, train_and_wait  # noqa: F401


def ev(kind: str, payload=None, generation: int = 1) -> Event:
    return Event(kind, payload, generation)


def test_an_idle_taker_is_woken_once_until_it_takes():
    box = Outbox()
    assert box.put(ev("batch", 1)) is True          # empty and not polling: wake
    assert box.put(ev("batch", 2)) is False         # a wake-up is already on its way
    assert box.put(ev("visuals", "v1")) is False
    assert [m.payload for m in box.take()] == [1, 2, "v1"]
    assert not box.take()                           # taken means gone
    assert box.put(ev("epoch", 1)) is True          # empty again: the next put wakes


def test_a_polling_taker_is_never_woken_and_stop_polling_hands_over_the_rest():
    box = Outbox()
    box.start_polling()
    assert box.put(ev("batch", 1)) is False
    rest = box.stop_polling()
    assert [m.payload for m in rest] == [1]
    assert box.put(ev("batch", 2)) is True          # after the last take: wake-ups again


def test_newest_visuals_replace_unsent_ones_but_every_batch_is_kept_in_order():
    box = Outbox()
    for i in range(5):
        box.put(ev("batch", i))
        box.put(ev("visuals", f"v{i}"))
    box.put(ev("visuals", "other project", generation=2))
    items = box.take()
    assert [m.payload for m in items if m.kind == "batch"] == [0, 1, 2, 3, 4]
    assert [m.payload for m in items if m.kind == "visuals"] == ["v4", "other project"]


def test_puts_from_another_thread_all_arrive():
    box = Outbox()
    n = 20_000

    def post():
        for i in range(n):
            box.put(ev("batch", i))
        box.close()
    worker = threading.Thread(target=post)
    worker.start()
    seen = []
    while box.wait():                               # as the worker's sender thread takes
        seen.extend(m.payload for m in box.take())
    worker.join()
    assert seen == list(range(n))                   # none lost, none twice, in order


class FakeView:
    def __init__(self, key: str) -> None:
        self.key, self.dirty, self.flushes = key, False, 0

    def render(self, topics) -> None:
        self.dirty = True

    def needs_flush(self) -> bool:
        return self.dirty

    def flush(self) -> None:
        self.dirty = False
        self.flushes += 1


def test_frames_draw_one_view_each_while_training_and_all_once_when_idle(qapp):
    from layerlab.app.dashboard.state.project_state import ProjectState
    from layerlab.app.dashboard.state_binding import StateBinding
    state = ProjectState()
    binding = StateBinding(state)
    views = [FakeView(k) for k in ("a", "b", "c")]
    for v in views:
        binding.add_view(SimpleNamespace(key=v.key, observes=("visuals",), max_hz=1000), v)
    state.publish()
    state.run.status = "running"
    binding.receive([ev("visuals", "v", generation=state.generation)])
    binding.frame()
    assert sorted(v.flushes for v in views) == [0, 0, 1]    # one per frame…
    binding.frame()
    binding.frame()
    assert [v.flushes for v in views] == [1, 1, 1]          # …in turn
    state.run.status = "idle"
    binding.receive([ev("visuals", "w", generation=state.generation)])
    for _ in range(4):                                      # idle: one per turn of the
        binding.frame()                                     # event loop until none is left
    assert [v.flushes for v in views] == [2, 2, 2]
    binding.receive([ev("visuals", "old", generation=state.generation + 1)])
    binding.frame()                                         # another project's: dropped
    assert [v.flushes for v in views] == [2, 2, 2]
    binding.close()


def test_every_batch_snapshot_of_a_run_reaches_the_curves(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 3
    # A snapshot at (almost) every batch: how many arrive must not hang on this machine's
    # speed, and it stresses the hand-over between the processes.
    d.doc.project.training["snapshots"] = {"batch_hz": 1000}
    d.doc.project.dataset = {"kind": "digits", "limit": 600}
    sent = []
    d.binding.after_apply.append(lambda messages: sent.extend(
        m for m in messages if getattr(m, "kind", None) == "batch"))
    result = train_and_wait(qtbot, d)
    curves = d.project_state.curves
    assert result.status == "finished"
    assert len(sent) > 10
    assert curves["val_epoch"].n == 3                       # every epoch reached the curves
    assert curves["batch_raw"].n == len(sent)               # and every batch snapshot
    assert d.binding.frames >= 1 and d.binding.drawn.get("loss", 0) >= 1
    assert d.loss_view.curve("val_epoch")[0].tolist() == [1, 2, 3]


def test_the_worker_is_a_warm_process_of_its_own(qtbot, dash):
    # The worker imported torch and paid its one-time costs (torch._dynamo) at start-up, in
    # its own process, so the first Train starts at once and nothing of it runs here
    # (tests/test_app_startup.py checks the window's process never imports torch).
    import os
    info = dash.project_state.worker.info
    assert dash.project_state.worker.warm
    assert info.pid == dash.worker.pid != os.getpid()
    assert info.torch_version and info.threads >= 1
