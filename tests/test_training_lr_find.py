"""The learning-rate range test (issue 11): ≤ 100 batches on an exponential schedule, the
smoothed loss against the lr, a suggested value with its reason — and the trainer exactly as
it was before."""
import json
import math

import numpy as np
import pytest
import torch

from layerlab.engine.cli import main
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, TrainingError
from layerlab.engine.training.lr_finder import MAX_BATCHES, LrRangeResult, range_test, suggest

from test_training_control import CFG, TIMEOUT, losses, small_graph
from training_helpers import digits, one_thread  # noqa: F401


def snapshot(trainer):
    """Everything the test could disturb: the state dict, the gradients, torch's RNG."""
    state = trainer.state_dict()
    return {"weights": {k: v.clone() for k, v in state["weights"].items()},
            "optimizer": _clone(state["tensors"]["optimizer"]),
            "rng": torch.get_rng_state().clone(),
            "grads": [None if p.grad is None else p.grad.clone()
                      for p in trainer.model.parameters()],
            "meta": json.dumps(state["meta"], sort_keys=True), "training": trainer.model.training}


def _clone(obj):
    if isinstance(obj, torch.Tensor):
        return obj.clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return obj


def same(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.dtype == b.dtype and torch.equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return a == b


def test_the_range_test_leaves_the_trainer_exactly_as_it_was(digits):
    trainer = Trainer(small_graph(), digits, CFG)
    trainer.run(max_batches=7)          # mid-epoch, optimizer state and gradients present
    before = snapshot(trainer)
    result = trainer.lr_range_test(num_batches=30)
    assert len(result.lrs) == len(result.losses) <= 30
    assert same(snapshot(trainer), before)
    # …so training continues exactly as it would have without it.
    reference = Trainer(small_graph(), digits, CFG)
    reference.run(max_batches=7)
    assert losses(trainer.run().history) == losses(reference.run().history)


def test_it_can_run_while_paused_on_the_training_thread(digits):
    expected = Trainer(small_graph(), digits, CFG).run()
    trainer = Trainer(small_graph(), digits, CFG)
    trainer.pause()
    trainer.start()
    assert trainer.pause(wait=True, timeout=TIMEOUT)
    with pytest.raises(TrainingError, match="pause"):
        trainer.lr_range_test()         # from another thread while a run is active: refused
    trainer.step(count=4, wait=True, timeout=TIMEOUT)
    found = []
    assert trainer.call_soon(lambda: found.append(trainer.lr_range_test(num_batches=20)))
    trainer.resume()
    assert losses(trainer.join(TIMEOUT).history) == losses(expected.history)
    assert found and found[0].suggestion is not None


def test_a_range_test_on_the_digits_cnn_suggests_a_sensible_rate():
    project = load_template("digits_cnn")
    trainer = Trainer.from_project(project, None, device="cpu")
    result = trainer.lr_range_test()
    assert isinstance(result, LrRangeResult)
    lrs = np.array(result.lrs)
    assert len(lrs) <= MAX_BATCHES and lrs[0] == pytest.approx(1e-7)
    ratios = lrs[1:] / lrs[:-1]
    assert np.allclose(ratios, ratios[0])                      # exponential schedule
    assert 1e-4 <= result.suggestion <= 0.03                   # Adam on digits: ~1e-3..1e-2
    assert "steepest" in result.reason
    assert result.min_lr is not None and result.suggestion <= result.min_lr / 10
    assert all(math.isfinite(v) for v in result.losses)


def test_the_suggestion_is_the_steepest_descent_of_the_smoothed_curve():
    lrs = np.logspace(-6, 0, 100)
    x = np.log10(lrs)
    curve = 2.3 - 2.0 / (1 + np.exp(-(x + 3) * 3)) + np.where(x > -1, (x + 1) ** 2 * 20, 0)
    suggestion, min_lr, reason = suggest(list(lrs), list(curve))
    assert suggestion == pytest.approx(1e-3, rel=0.2)
    assert min_lr == pytest.approx(lrs[np.argmin(curve)])
    assert "falls steepest at lr 0.00093" in reason and "lowest" in reason


def test_the_suggestion_is_at_most_a_tenth_of_the_minimum():
    lrs = np.logspace(-6, 0, 100)
    x = np.log10(lrs)
    # steepest at 1e-2, lowest near 3e-2: a tenth of the minimum is the lower of the two
    curve = 2.3 - 2.0 / (1 + np.exp(-(x + 2) * 3)) + np.where(x > -1.5, (x + 1.5) ** 2 * 20, 0)
    suggestion, min_lr, reason = suggest(list(lrs), list(curve))
    assert suggestion == pytest.approx(min_lr / 10) and suggestion < 1e-2
    assert "a tenth of it" in reason


def test_a_loss_that_only_rises_gives_no_suggestion():
    lrs = list(np.logspace(-7, 1, 50))
    suggestion, _, reason = suggest(lrs, [2.3 + i * 0.1 for i in range(50)])
    assert suggestion is None and "never fell" in reason
    suggestion, _, reason = suggest(lrs, [2.3 - 0.01 * (i == 2) for i in range(50)])
    assert suggestion is None and "never fell" in reason


def test_the_loop_stops_when_the_loss_blows_up_and_smooths_it():
    seen = []

    def step(lr):
        seen.append(lr)
        return 1.0 if lr < 1e-2 else 1e6
    result = range_test(step, start_lr=1e-5, end_lr=1.0, num_batches=100)
    assert result.stopped_early and len(result.lrs) < 100 and seen == list(result.lrs)
    assert result.raw_losses[0] == 1.0 and result.losses[0] == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, words", [({"num_batches": 101}, "100"),
                                           ({"num_batches": 2}, "at least"),
                                           ({"start_lr": 1.0, "end_lr": 0.1}, "end_lr")])
def test_bad_settings_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        range_test(lambda lr: 1.0, **kwargs)


def test_layerlab_lr_find(capsys):
    assert main(["lr-find", "digits_cnn", "--device", "cpu", "--batches", "40"]) == 0
    out = capsys.readouterr().out
    assert "suggested learning rate" in out and "steepest" in out and "← suggested" in out
    assert main(["lr-find", "digits_cnn", "--device", "cpu", "--batches", "40", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"lrs", "losses", "suggestion", "reason", "min_lr", "stopped_early"} <= set(data)
    assert len(data["lrs"]) == len(data["losses"]) <= 40


def test_layerlab_lr_find_refuses_more_than_100_batches(capsys):
    assert main(["lr-find", "digits_cnn", "--batches", "500"]) == 2
    assert "100" in capsys.readouterr().err
