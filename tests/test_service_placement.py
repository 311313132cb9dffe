"""The worker keeps its model thread (and torch's threads) off the window's core (Linux);
elsewhere, and on one core, nothing is placed (issue 9: the window leaves training its
speed)."""
from __future__ import annotations

import os
import threading

import pytest

from layerlab.engine.service.placement import pin_this_thread, training_cores
from layerlab.engine.service.service import TrainingService

from test_service_insight import Collector

PLACES = hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def test_training_gets_every_core_but_the_lowest():
    assert training_cores({0, 1}) == {1}
    assert training_cores({2, 5, 7}) == {5, 7}
    assert training_cores({3}) is None           # one core: the window shares it
    assert training_cores(set()) is None


def test_nothing_is_pinned_without_cores():
    assert pin_this_thread(None) is False
    assert pin_this_thread(frozenset()) is False


@pytest.mark.skipif(not PLACES, reason="threads cannot be placed on this system")
def test_a_pinned_thread_and_the_threads_it_starts_keep_to_its_cores():
    allowed = os.sched_getaffinity(0)
    core = frozenset({max(allowed)})
    seen = {}

    def child():
        seen["child"] = os.sched_getaffinity(0)

    def pinned():
        seen["pinned"] = pin_this_thread(core)
        seen["own"] = os.sched_getaffinity(0)
        t = threading.Thread(target=child)
        t.start()
        t.join()

    t = threading.Thread(target=pinned)
    t.start()
    t.join()
    assert seen == {"pinned": True, "own": core, "child": core}
    assert os.sched_getaffinity(0) == allowed     # the caller's thread is left as it was


@pytest.mark.skipif(not PLACES or len(os.sched_getaffinity(0)) < 2,
                    reason="needs two cores and thread placement")
def test_the_services_model_thread_boots_on_the_training_cores():
    cores = training_cores()
    out = Collector()
    service = TrainingService(out, cores)
    service.start()
    try:
        out.wait_for(lambda m: getattr(m, "kind", None) == "warm", timeout=120)
        seen = threading.Event()
        where = {}

        def look():
            where["cores"] = os.sched_getaffinity(0)
            seen.set()

        service.call_model(look)           # runs on the model thread (no run is active)
        assert seen.wait(30)
        assert where["cores"] == cores
        ready = out.events("ready")[0]
        assert ready.threads <= len(cores)  # torch's threads fit the training cores
    finally:
        service.close()
