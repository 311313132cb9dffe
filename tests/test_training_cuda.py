"""The GPU side of training, where a CUDA GPU is present (skipped elsewhere): the data kept on
the device, mixed precision in both float formats, channels_last, the accelerator's NaN
check on device-side sums, the memory estimate against the GPU's free memory, a GPU
checkpoint resumed on the CPU, and one NCCL process of DDP."""
import pytest
import torch

from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def trainer(**overrides):
    settings = {"epochs": 2, "device": "cuda", **overrides}
    return Trainer.from_project(load_template("digits_cnn"), **settings)


def test_digits_train_on_the_gpu_with_the_data_resident():
    t = trainer()
    infos = []
    t.add_observer(type("R", (), {"on_start": lambda self, info: infos.append(info)})())
    result = t.run()
    assert result.status == "finished" and result.device.startswith("cuda")
    assert infos[0].data_on_device and t.data_on_device
    assert result.history[-1].val_acc > 0.8
    assert next(t.model.parameters()).is_cuda


@pytest.mark.parametrize("mode", [True, "bf16", "fp16"])
def test_mixed_precision_on_the_gpu(mode, tmp_path):
    t = trainer(mixed_precision=mode)
    if mode == "fp16" or not torch.cuda.is_bf16_supported():
        assert t.amp.dtype == torch.float16 and t.amp.scaler is not None
    else:
        assert t.amp.dtype == torch.bfloat16 and t.amp.scaler is None
    result = t.run()
    assert result.status == "finished" and result.history[-1].val_acc > 0.75
    save_checkpoint(tmp_path, t)
    resumed = trainer(mixed_precision=mode, epochs=3)
    resumed.resume_from(load_checkpoint(tmp_path))
    assert resumed.run().status == "finished"


def test_channels_last_on_the_gpu():
    t = trainer(channels_last=True)
    conv = next(m for m in t.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert t.run().status == "finished"


def test_a_nan_is_caught_in_the_device_sums():
    t = trainer(optimizer="sgd", lr=10.0, loss="mse", snapshots={"batch_hz": 0.001})
    result = t.run()
    assert result.status == "diverged"
    assert all(torch.isfinite(p).all() for p in t.model.parameters())


def test_the_memory_estimate_reads_the_gpu():
    from layerlab.engine.memory import available_memory
    free = available_memory(torch.device("cuda:0"))
    total = torch.cuda.get_device_properties(0).total_memory
    assert free is not None and 0 < free.bytes <= total and free.where == "cuda:0"


def test_a_gpu_checkpoint_resumes_on_the_cpu(tmp_path):
    t = trainer(epochs=1)
    t.run()
    save_checkpoint(tmp_path, t)
    cpu = Trainer.from_project(load_template("digits_cnn"), epochs=2, device="cpu")
    cpu.resume_from(load_checkpoint(tmp_path))
    for key, value in cpu.model.state_dict().items():
        assert torch.equal(value, t.model.state_dict()[key].cpu()), key
    assert cpu.run().status == "finished"


def test_one_nccl_process_trains_like_one_process(tmp_path):
    """DDP's gradients over NCCL, the epoch's sums over gloo, as under torchrun."""
    import torch.distributed as dist

    from layerlab.engine.training.distributed import (DDPStrategy, DistEnv,
                                                      communication_threads,
                                                      shutdown_process_groups)
    if not dist.is_nccl_available():
        pytest.skip("this PyTorch has no NCCL")
    single = trainer(epochs=1, deterministic=True).run()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                            world_size=1)
    nccl = dist.new_group(backend="nccl")
    strategy = DDPStrategy(DistEnv(0, 1, 0, 1, 0), group=nccl)
    try:
        t = Trainer.from_project(load_template("digits_cnn"), epochs=1, device="cuda:0",
                                 strategy=strategy, deterministic=True)
        result = t.run()
    finally:
        shutdown_process_groups(strategy, [nccl])
    assert result.status == "finished"
    assert result.history[0].val_acc == pytest.approx(single.history[0].val_acc, abs=0.02)
    assert communication_threads() == []
