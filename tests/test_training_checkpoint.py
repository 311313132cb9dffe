"""Checkpoints resume the same curve, load without executing code, and refuse misfits."""
import json
import pickle

import pytest
import torch

from layerlab.engine.compose import Composer
from layerlab.engine.training import (CheckpointError, Trainer, load_checkpoint,
                                      save_checkpoint)

from training_helpers import digits, one_thread  # noqa: F401

TIMEOUT = 60


def graph(width=16):
    g = Composer()
    x = g.input([1, 8, 8])
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=width)
    x = g.layer("BatchNorm1d", x, id="bn")
    x = g.layer("ReLU", x, id="relu")
    x = g.layer("Dropout", x, id="drop", p=0.2)
    g.layer("Linear", x, id="fc2", out_features=10)
    return g.graph


CFG = {"epochs": 4, "batch_size": 32, "seed": 3, "device": "cpu",
       "optimizer": "adam", "lr": 0.01, "schedule": {"kind": "step", "step_size": 2,
                                                     "gamma": 0.5}}



def rows(history):
    return [(h.epoch, h.train_loss, h.train_acc, h.val_loss, h.val_acc, h.lr, h.step)
            for h in history]


def test_resume_at_an_epoch_boundary_continues_the_same_curve(digits, tmp_path):
    expected = Trainer(graph(), digits, CFG).run()
    first = Trainer(graph(), digits, {**CFG, "epochs": 2})
    first.run()
    save_checkpoint(tmp_path / "ckpt", first)
    resumed = Trainer(graph(), digits, CFG)
    resumed.resume_from(load_checkpoint(tmp_path / "ckpt"))
    assert resumed.epoch == 2 and len(resumed.history) == 2
    result = resumed.run()
    assert rows(result.history) == rows(expected.history)
    assert [h.lr for h in result.history] == [0.01, 0.01, 0.005, 0.005]


def test_resume_from_the_middle_of_an_epoch_is_exact(digits, tmp_path):
    reference = Trainer(graph(), digits, CFG)
    expected = reference.run()
    trainer = Trainer(graph(), digits, CFG)
    trainer.pause()
    trainer.start()
    trainer.pause(wait=True, timeout=TIMEOUT)
    trainer.step(count=13, wait=True, timeout=TIMEOUT)  # 10 batches per epoch: mid epoch 2
    save_checkpoint(tmp_path, trainer)                   # while paused
    trainer.stop(wait=True, timeout=TIMEOUT)
    ckpt = load_checkpoint(tmp_path)
    assert (ckpt.meta["epoch"], ckpt.meta["batch"], ckpt.meta["global_step"]) == (1, 3, 13)
    resumed = Trainer(graph(), digits, CFG)
    resumed.resume_from(ckpt)
    result = resumed.run()
    assert rows(result.history) == rows(expected.history)
    for key, value in reference.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_checkpoint_files_are_safe_formats(digits, tmp_path):
    trainer = Trainer(graph(), digits, {**CFG, "epochs": 1})
    trainer.run()
    save_checkpoint(tmp_path, trainer)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["state.pt", "trainer.json", "weights.safetensors"]
    meta = json.loads((tmp_path / "trainer.json").read_text())
    assert meta["format"] == "layerlab-checkpoint" and meta["epoch"] == 1
    assert meta["config"]["lr"] == 0.01 and len(meta["history"]) == 1
    from safetensors.torch import load_file
    assert set(load_file(str(tmp_path / "weights.safetensors"))) == \
        set(trainer.model.state_dict())
    # state.pt loads under weights_only=True (no code runs) ...
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    assert {"optimizer", "rng"} <= set(state)
    # ... and a state.pt that would run code on load is refused with a message.

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(tmp_path / "state.pt", "wb") as f:
        pickle.dump({"optimizer": Evil()}, f, protocol=2)
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        load_checkpoint(tmp_path)


def test_a_checkpoint_of_another_graph_is_refused_with_the_layer_named(digits, tmp_path):
    trainer = Trainer(graph(width=16), digits, {**CFG, "epochs": 1})
    trainer.run()
    save_checkpoint(tmp_path, trainer)
    other = Trainer(graph(width=8), digits, CFG)
    with pytest.raises(CheckpointError, match=r"fc1\.weight is 16×64 in the checkpoint but "
                                              r"8×64 in the model"):
        other.resume_from(load_checkpoint(tmp_path))


def test_missing_or_foreign_folders_give_messages(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint folder"):
        load_checkpoint(tmp_path / "nope")
    (tmp_path / "trainer.json").write_text("{}")
    with pytest.raises(CheckpointError, match="missing state.pt, weights.safetensors|missing"):
        load_checkpoint(tmp_path)


def test_saving_while_running_unpaused_is_refused(digits, tmp_path):
    import threading

    from layerlab.engine.training import TrainingError
    inside, release = threading.Event(), threading.Event()

    class Hold:  # keeps the training thread busy in on_epoch: running, not paused
        def on_epoch(self, snap):
            inside.set()
            release.wait(TIMEOUT)

    trainer = Trainer(graph(), digits, {**CFG, "epochs": 2}, observers=[Hold()])
    trainer.start()
    try:
        assert inside.wait(TIMEOUT)
        with pytest.raises(TrainingError, match="pause or stop"):
            save_checkpoint(tmp_path, trainer)
    finally:
        release.set()
        trainer.stop(wait=True, timeout=TIMEOUT)
    assert not (tmp_path / "trainer.json").exists()


def test_resume_with_augmentation_continues_the_same_curve(digits, tmp_path):
    aug = {"flip": True, "shift": 1}
    cfg = {**CFG, "epochs": 3}
    expected = Trainer(graph(), digits, cfg, augment=aug).run()
    unaugmented = Trainer(graph(), digits, cfg).run()
    assert rows(expected.history) != rows(unaugmented.history)  # augmentation is applied
    first = Trainer(graph(), digits, cfg, augment=aug)
    first.pause()
    first.start()
    first.pause(wait=True, timeout=TIMEOUT)
    first.step(count=15, wait=True, timeout=TIMEOUT)
    save_checkpoint(tmp_path, first)
    first.stop(wait=True, timeout=TIMEOUT)
    resumed = Trainer(graph(), digits, cfg, augment=aug)
    resumed.resume_from(load_checkpoint(tmp_path))
    assert rows(resumed.run().history) == rows(expected.history)


def test_the_optimizer_keeps_its_fast_implementation_after_loading(digits):
    """Optimizers are built fused where the device has it (the same arithmetic, faster); a
    state saved by a run without it must not switch this one off, nor the reverse."""
    trainer = Trainer(graph(), digits, {**CFG, "epochs": 1})
    trainer.run()
    assert trainer.optimizer.param_groups[0]["fused"] is True   # Adam on the CPU
    state = trainer.state_dict()
    for group in state["tensors"]["optimizer"]["param_groups"]:
        group.update(fused=None, foreach=None)                  # as saved elsewhere
    other = Trainer(graph(), digits, CFG)
    other.load_state_dict(state)
    assert other.optimizer.param_groups[0]["fused"] is True
    assert other.run().status == "finished"
