"""Mixed precision and channels_last as training options (issue 13, "GPU-ready"). On the CPU,
mixed precision is bfloat16 autocast (no loss scaling: bfloat16 has float32's range), or
float16 with a GradScaler when asked for "fp16"; channels_last stores image batches and conv
weights in NHWC order. tests/test_training_cuda.py runs the GPU side where there is one."""
import pytest
import torch

from layerlab.engine.compose import Composer
from layerlab.engine.training import (Trainer, TrainingConfigError, load_checkpoint,
                                      parse_training, save_checkpoint)

from training_helpers import digits, one_thread  # noqa: F401

TIMEOUT = 60


def cnn():
    g = Composer()
    x = g.layer("Conv2d", g.input([1, 8, 8]), id="conv", out_channels=8, kernel_size=3,
                padding=1)
    x = g.layer("MaxPool2d", g.layer("ReLU", x, id="relu"), id="pool", kernel_size=2)
    g.layer("Linear", g.layer("Flatten", x, id="flat"), id="fc", out_features=10)
    return g.graph


CFG = {"epochs": 3, "batch_size": 32, "seed": 2, "device": "cpu", "lr": 0.01}


def test_the_settings_are_checked():
    assert parse_training({"mixed_precision": "bf16"}).mixed_precision == "bf16"
    assert parse_training({"mixed_precision": True, "channels_last": True}).channels_last
    for bad in ("yes", 1, None):
        with pytest.raises(TrainingConfigError, match=r'training.mixed_precision: must be '
                                                      r'true, false, "bf16" or "fp16"'):
            parse_training({"mixed_precision": bad})


def test_bfloat16_on_the_cpu_trains_as_well_as_float32(digits):
    full = Trainer(cnn(), digits, CFG).run()
    trainer = Trainer(cnn(), digits, {**CFG, "mixed_precision": True})
    assert trainer.amp.dtype == torch.bfloat16 and trainer.amp.scaler is None
    assert any("bfloat16" in note for note in trainer.notes)
    seen = []
    trainer.add_observer(type("R", (), {"on_start": lambda self, info: seen.append(info)})())
    mixed = trainer.run()
    assert mixed.status == "finished" and seen[0].mixed_precision
    assert mixed.history[-1].val_acc >= full.history[-1].val_acc - 0.1
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())  # weights stay


def test_float16_with_loss_scaling_resumes_exactly(digits, tmp_path):
    cfg = {**CFG, "mixed_precision": "fp16"}
    expected = Trainer(cnn(), digits, cfg).run()
    assert expected.status == "finished"
    first = Trainer(cnn(), digits, cfg)
    assert first.amp.dtype == torch.float16 and first.amp.scaler is not None
    first.pause()
    first.start()
    first.step(count=13, wait=True, timeout=TIMEOUT)
    save_checkpoint(tmp_path, first)
    first.stop(wait=True, timeout=TIMEOUT)
    assert "scaler" in load_checkpoint(tmp_path).tensors
    resumed = Trainer(cnn(), digits, cfg)
    resumed.resume_from(load_checkpoint(tmp_path))
    result = resumed.run()
    assert [(h.train_loss, h.val_acc) for h in result.history] == \
        [(h.train_loss, h.val_acc) for h in expected.history]


def test_channels_last_keeps_weights_and_batches_in_nhwc(digits):
    plain = Trainer(cnn(), digits, CFG).run()
    trainer = Trainer(cnn(), digits, {**CFG, "channels_last": True})
    conv = trainer.model.layers["conv"].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    batches = []
    trainer.model.layers["conv"].register_forward_pre_hook(
        lambda module, args: batches.append(args[0].is_contiguous(
            memory_format=torch.channels_last)))
    result = trainer.run()
    assert result.status == "finished" and batches and all(batches)
    # The same arithmetic in another order: the same curve to rounding.
    for a, b in zip(plain.history, result.history):
        assert a.train_loss == pytest.approx(b.train_loss, rel=1e-3)
    assert trainer.model.layers["conv"].weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_on_vectors_is_a_note(digits):
    g = Composer()
    x = g.layer("Flatten", g.input([1, 8, 8]), id="flat")
    g.layer("Linear", x, id="fc", out_features=10)
    trainer = Trainer(g.graph, digits, {**CFG, "channels_last": True, "epochs": 1})
    assert trainer.run().status == "finished"   # the Input is an image: nothing to note
    from layerlab.engine.data import load_dataset
    house = load_dataset({"kind": "csv", "path": "resources:data/house_prices.csv",
                          "target": "price"})
    g = Composer()
    g.layer("Linear", g.input([3]), id="fc", out_features=1)
    trainer = Trainer(g.graph, house, {**CFG, "channels_last": True, "epochs": 1})
    assert any("channels_last is for image inputs" in n for n in trainer.notes)
