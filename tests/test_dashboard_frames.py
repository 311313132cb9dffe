"""The dashboard's frame machinery without a window: the mailbox the training thread posts to
(wake-ups only for an idle GUI, nothing lost between threads) and the frame budget's steering
of the interval between frames."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from layerlab.app.dashboard.training.frame_budget import FrameBudget
from layerlab.app.dashboard.training.mailbox import Mailbox

from dashboard_helpers import WAIT_MS, dash, dialogs, wait_idle  # noqa: F401


def test_an_idle_gui_is_woken_once_until_it_takes():
    box = Mailbox()
    assert box.post_batch("b1") is True            # empty and not polling: wake the GUI
    assert box.post_batch("b2") is False           # a wake-up is already on its way
    assert box.post_visuals("v1") is False
    mail = box.take()
    assert mail.batches == ["b1", "b2"] and mail.visuals == "v1"
    assert not box.take()                          # taken means gone
    assert box.post_epoch("e1") is True            # empty again: the next post wakes


def test_a_polling_gui_is_never_woken_and_stop_polling_hands_over_the_rest():
    box = Mailbox()
    box.start_polling()
    assert box.post_batch("b1") is False
    assert box.post_evaluation("x") is False
    rest = box.stop_polling()
    assert rest.batches == ["b1"] and rest.evaluation == "x"
    assert box.post_batch("b2") is True            # after the last take: wake-ups again


def test_newest_visuals_replace_undrawn_ones_but_every_batch_is_kept():
    box = Mailbox()
    for i in range(5):
        box.post_batch(i)
        box.post_visuals(f"v{i}")
    mail = box.take()
    assert mail.batches == [0, 1, 2, 3, 4] and mail.visuals == "v4"


def test_a_new_run_drops_the_old_runs_leftovers_and_comes_first():
    box = Mailbox()
    box.post_batch("old")
    box.post_visuals("old")
    assert box.begin_run("info") is False          # leftovers were waiting: already woken
    box.post_batch("new")
    mail = box.take()
    assert mail.started == "info" and mail.batches == ["new"] and mail.visuals is None


def test_posts_from_another_thread_all_arrive():
    box = Mailbox()
    box.start_polling()
    n = 20_000

    def post():
        for i in range(n):
            box.post_batch(i)
    worker = threading.Thread(target=post)
    worker.start()
    seen = []
    while worker.is_alive():
        seen.extend(box.take().batches)
    worker.join()
    seen.extend(box.stop_polling().batches)
    assert seen == list(range(n))                  # none lost, none twice, in order


class FakeClocks:
    """Wall and CPU clocks the test advances: the GUI thread 'uses' a share of a core."""

    def __init__(self) -> None:
        self.now = self.cpu = 0.0

    def run(self, seconds: float, share: float) -> None:
        self.now += seconds
        self.cpu += seconds * share


@pytest.mark.parametrize("share_used, expected", [(0.02, 0.05), (0.5, 0.5)])
def test_budget_settles_at_the_fastest_or_slowest_frame_rate(share_used, expected):
    clocks = FakeClocks()
    budget = FrameBudget(share=0.06, clock=lambda: clocks.now, cpu_clock=lambda: clocks.cpu)
    delay = budget.next_delay()
    for _ in range(40):
        clocks.run(delay, share_used)
        delay = budget.next_delay()
    assert delay == pytest.approx(expected)


def test_budget_steers_the_gui_thread_to_its_share():
    # Each frame costs 6 ms of CPU on top of 1 % for everything else: the interval that
    # keeps the GUI thread at 6 % of a core is 6 ms / 5 % = 120 ms.
    clocks = FakeClocks()
    budget = FrameBudget(share=0.06, clock=lambda: clocks.now, cpu_clock=lambda: clocks.cpu)
    delay = budget.next_delay()
    delays = []
    for _ in range(300):
        clocks.cpu += 0.006                       # the frame
        clocks.run(delay, 0.01)                    # the time until the next one
        delay = budget.next_delay()
        delays.append(delay)
    settled = sum(delays[-100:]) / 100
    assert 0.09 <= settled <= 0.16
    assert 0.05 <= min(delays[-100:]) and max(delays[-100:]) <= 0.5


def test_a_new_run_starts_at_the_interval_the_last_one_settled_at():
    clocks = FakeClocks()
    budget = FrameBudget(share=0.06, clock=lambda: clocks.now, cpu_clock=lambda: clocks.cpu)
    delay = budget.next_delay()
    for _ in range(40):
        clocks.run(delay, 0.5)
        delay = budget.next_delay()
    budget.reset()
    assert budget.drawn == {} and budget.next_delay() >= 0.25   # not back to 20 Hz


def test_one_expensive_frame_does_not_swing_the_interval_by_more_than_double():
    clocks = FakeClocks()
    budget = FrameBudget(share=0.06, clock=lambda: clocks.now, cpu_clock=lambda: clocks.cpu)
    budget.next_delay()
    clocks.run(0.05, 0.0)
    clocks.cpu += 0.2                              # a 200 ms hiccup
    assert budget.next_delay() == pytest.approx(0.1)


def test_a_run_never_wakes_the_gui_per_snapshot_and_its_frames_draw_everything(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 3
    # A snapshot at (almost) every batch: how many arrive must not hang on this machine's
    # speed (at 20 a second, a fast 3-epoch run sent only 10), and it stresses the hand-over.
    d.doc.project.training["snapshots"] = {"batch_hz": 1000}
    wakes, batches = [], []
    d.worker.mail.connect(lambda: wakes.append(1), Qt.ConnectionType.DirectConnection)
    d.worker.batch.connect(batches.append, Qt.ConnectionType.DirectConnection)
    assert d.train()
    wait_idle(qtbot, d)
    assert len(batches) > 10
    assert wakes == []                       # frames polled the mailbox; no wake-up per post
    assert d.budget.drawn["frames"] >= 1 and d.budget.drawn["curves"] >= 1
    assert d.loss_view.series["val_epoch"].n == 3            # every epoch reached the curves
    assert d.loss_view.series["batch_raw"].n == len(batches)  # and every batch snapshot
    assert not d.worker.mailbox.polling and not d.worker.mailbox.take()

    # idle again: a probe change sends one snapshot, and one wake-up draws it
    with qtbot.waitSignal(d.worker.mail, timeout=WAIT_MS):
        d.set_probe(3)
    qtbot.waitUntil(lambda: d.feature_view.snapshot is not None
                    and d.feature_view.snapshot.probe_index == 3, timeout=WAIT_MS)
    assert len(wakes) == 1


def test_the_worker_pays_torchs_one_time_import_before_the_first_train(qtbot, dash):
    # The first optimizer imports torch._dynamo (seconds, holding the GIL in long
    # stretches): done at start-up on the worker, the first Train neither waits for it nor
    # stalls the GUI while the curves should be moving.
    import sys
    qtbot.waitUntil(lambda: dash.worker.warmed, timeout=WAIT_MS)
    assert "torch._dynamo" in sys.modules
