"""Scale-out: `torchrun -m layerlab.engine.train` (DDP, gloo on the CPU) against one process,
rank 0 alone writing, checkpoints that the single-process Trainer resumes, live metrics files
and their follower, and failures that end every process instead of hanging."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from layerlab.engine.train import build_command
from layerlab.engine.training.follow import (LiveMetrics, MetricsFollower, write_metrics)
from layerlab.engine.training.run_history import list_runs

#: The keys `layerlab train --metrics-json` writes.
TRAIN_KEYS = {"final", "history", "device", "device_name", "samples_per_s", "seconds", "status",
              "message", "project", "dataset"}
ROW_KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_mae", "val_rmse",
            "lr", "seconds"}
TIMEOUT = 180  # a hang fails the test instead of blocking the suite


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _torchrun(*args, nproc=2):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={nproc}", "-m", "layerlab.engine.train", *map(str, args)]


def _single(*args):
    return [sys.executable, "-m", "layerlab.engine.train", *map(str, args)]


def _launch(cmd, cwd, **kwargs):
    # A session of its own, so a timeout can end torchrun's workers too (see _end).
    return subprocess.Popen(cmd, env=_env(), cwd=cwd, start_new_session=True, **kwargs)


def _end(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _run(cmd, cwd):
    proc = _launch(cmd, cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)  # a hang fails here
    finally:
        _end(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _project(tmp_path, name, **training):
    from layerlab.engine.templates import template_path
    data = json.loads(template_path("digits_cnn").read_text())
    data["training"].update(training)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path, data


# --- sharding ---------------------------------------------------------------------------------

def test_shards_form_the_global_batches_of_one_process():
    from layerlab.engine.training.distributed import shard_indices, shard_range
    perm = torch.randperm(23, generator=torch.Generator().manual_seed(0))
    world, local = 3, 2
    shards = [shard_indices(perm, r, world) for r in range(world)]
    assert [len(idx) for idx, _ in shards] == [8, 8, 8]           # padded to 24
    assert [valid for _, valid in shards] == [8, 8, 7]             # one repeat, on rank 2
    assert sorted(torch.cat([idx[:v] for idx, v in shards]).tolist()) == list(range(23))
    for k in range(4):  # batch k of all ranks = samples k·6 … k·6+5 of the permutation
        together = torch.cat([idx[k * local:(k + 1) * local] for idx, _ in shards])
        assert sorted(together.tolist()) == sorted(
            torch.cat([perm, perm[:1]])[k * 6:(k + 1) * 6].tolist())
    assert [shard_range(10, r, 3) for r in range(3)] == [(0, 3), (3, 6), (6, 10)]
    idx, valid = shard_indices(torch.arange(1), 1, 3)              # fewer samples than ranks
    assert idx.tolist() == [0] and valid == 0


def test_torchrun_variables_devices_and_backends():
    from layerlab.engine.training import DeviceError, TrainingError
    from layerlab.engine.training.distributed import (DistEnv, choose_backend, pick_device)

    assert DistEnv.from_environ({}) is None                       # not under torchrun
    env = DistEnv.from_environ({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1",
                                "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "1"})
    assert env == DistEnv(3, 4, 1, 2, 1) and not env.is_main
    with pytest.raises(TrainingError, match="RANK 5"):
        DistEnv.from_environ({"WORLD_SIZE": "2", "RANK": "5"})
    assert pick_device("cpu", env) == ("cpu", "")
    with pytest.raises(DeviceError, match="--device cpu"):
        pick_device("mps", env)
    assert choose_backend("cpu") == "gloo"
    with pytest.raises(DeviceError, match="needs CUDA"):
        choose_backend("cpu", "nccl")
    if not torch.cuda.is_available():
        assert pick_device("auto", env)[0] == "cpu"
        with pytest.raises(DeviceError):
            pick_device("cuda", env)


class Recorder:
    """Every observer event, in order, with the fields that must agree between strategies."""

    def __init__(self):
        self.events, self.paced = [], set()

    def on_start(self, info):
        self.events.append(("start", info.batches_per_epoch, info.num_train, info.num_val))

    def on_epoch(self, snap):
        self.events.append(("epoch", _same(snap.row())))

    def on_evaluation(self, snap):
        self.events.append(("evaluation", snap.epoch, snap.confusion.tolist()))

    def on_state(self, snap):
        self.events.append(("state", snap.state, snap.epoch, snap.step))

    # Batch and visual snapshots are paced by the wall clock: only that they come counts.
    def on_batch(self, snap):
        self.paced.add("batch")

    def on_visuals(self, snap):
        self.paced.add("visuals")

    def on_finish(self, result):
        self.events.append(("finish", result.status, result.steps))


def _same(row):
    return {k: v for k, v in row.items() if k != "seconds"}   # wall time differs


def test_one_gloo_process_is_the_single_process_run_exactly(tmp_path):
    """In-process, one gloo rank: the same loop under the DDP strategy gives the identical
    epoch metrics and the same observer events as one process; a NaN found in the epoch's
    sums restores the epoch's start; the process groups shut down leaving no thread."""
    import torch.distributed as dist

    from layerlab.engine.templates import load_template
    from layerlab.engine.training import Trainer
    from layerlab.engine.training.distributed import (DDPStrategy, DistEnv,
                                                      communication_threads,
                                                      shutdown_process_groups)

    single_events = Recorder()
    single = Trainer.from_project(load_template("digits_cnn"), epochs=2, device="cpu",
                                  observers=[single_events])
    expected = single.run()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                            world_size=1)
    strategy = DDPStrategy(DistEnv(0, 1, 0, 1, 0))
    try:
        ddp_events = Recorder()
        trainer = Trainer.from_project(load_template("digits_cnn"), epochs=2, device="cpu",
                                       strategy=strategy, observers=[ddp_events])
        first = trainer.run()
        assert first.status == "finished" and trainer.epoch == 2
        assert trainer.local_batch == 32 and trainer.batches_per_epoch == 45  # 1438 / 32
        assert [_same(h.row()) for h in first.history] == [
            _same(h.row()) for h in expected.history]
        assert ddp_events.events == single_events.events
        assert ddp_events.paced == single_events.paced == {"batch", "visuals"}
        for key, value in trainer.model.state_dict().items():
            assert torch.equal(value, single.model.state_dict()[key]), key

        steps = trainer.global_step
        before = trainer.state_dict()
        trainer.set_epochs(3)
        trainer.dataset.x_train[7] = float("nan")   # one poisoned sample
        result = trainer.run()
        after = trainer.state_dict()
    finally:
        shutdown_process_groups(strategy)
    # Every communication thread joined: none can outlive the interpreter (issue 15's abort).
    if sys.platform.startswith("linux"):
        assert communication_threads() == []
    assert result.status == "diverged" and "epoch 3" in result.message
    assert "restored to the start of epoch 3" in result.message
    assert trainer.epoch == 2 and len(trainer.history) == 2 and trainer.global_step == steps
    for key, value in before["weights"].items():
        assert torch.equal(after["weights"][key], value), key
    # Epoch 3 is drawn again on resume: the shuffle state is the one before its draw.
    assert torch.equal(after["tensors"]["rng"]["shuffle"], before["tensors"]["rng"]["shuffle"])
    assert after["meta"]["batch"] == 0 and after["meta"]["meter"]["count"] == 0


# --- two gloo processes against one -------------------------------------------------------------

def test_two_gloo_processes_reach_the_single_process_accuracy_and_resume(tmp_path):
    from layerlab.engine.cli import main
    from layerlab.engine.templates import load_template
    from layerlab.engine.training import Trainer, load_checkpoint

    epochs, batch = 5, 32
    ddp_out, ddp_json = tmp_path / "ddp", tmp_path / "ddp.json"
    one_out, one_json = tmp_path / "one", tmp_path / "one.json"
    common = ["--epochs", epochs, "--batch-size", batch, "--device", "cpu", "--seed", 0]
    logs = tmp_path.parent / f"{tmp_path.name}-logs"   # files, not pipes: nothing can block
    logs.mkdir()
    start = time.monotonic()
    with open(logs / "out", "w") as fout, open(logs / "err", "w") as ferr:
        proc = _launch(_torchrun("digits_cnn", *common, "--out", ddp_out,
                                 "--metrics-json", ddp_json), tmp_path, stdout=fout, stderr=ferr)
        follower, followed = MetricsFollower(ddp_json), []
        try:
            while proc.poll() is None and time.monotonic() - start < TIMEOUT:
                followed.extend(follower.poll().rows)  # a GUI's timer would do this
                time.sleep(0.05)
        finally:
            _end(proc)
    out, err = (logs / "out").read_text(), (logs / "err").read_text()
    assert proc.returncode == 0, err[-3000:]
    one = _run(_single("digits_cnn", *common, "--out", one_out, "--metrics-json", one_json),
               tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]

    ddp, single = json.loads(ddp_json.read_text()), json.loads(one_json.read_text())
    for data in (ddp, single):
        assert TRAIN_KEYS <= set(data) and data["status"] == "finished"
        assert [r["epoch"] for r in data["history"]] == list(range(1, epochs + 1))
        assert all(ROW_KEYS <= set(r) for r in data["history"])
        assert data["final"]["status"] == "finished"
    assert ddp["world_size"] == 2 and ddp["backend"] == "gloo"
    assert ddp["global_batch"] == 32 and ddp["batch_per_process"] == 16
    ddp_acc, one_acc = ddp["final"]["val_acc"], single["final"]["val_acc"]
    assert ddp_acc >= 0.9 and one_acc >= 0.9, (ddp_acc, one_acc)
    assert abs(ddp_acc - one_acc) <= 0.04, (ddp_acc, one_acc)

    # The follower saw every row once, in order, and the final status.
    followed.extend(follower.poll().rows)
    assert followed == ddp["history"] and follower.status == "finished"

    # Rank 0 alone printed and wrote: one progress line per epoch, one run folder.
    lines = err.replace("\r", "\n").splitlines()
    for e in range(1, epochs + 1):
        assert sum(line.startswith(f"epoch {e}/{epochs}  train loss") for line in lines) == 1
    assert sum("finished" in line for line in out.splitlines()) == 1
    assert sorted(p.name for p in ddp_out.iterdir()) == ["checkpoint", "history.csv",
                                                         "history.json", "runs"]
    (record,) = list_runs(ddp_out).runs      # one record, rank 0's, keyed by the metrics' id
    assert record.run_id == ddp["run_id"] and record.status == "finished"
    assert record.epochs == epochs
    assert sorted(p.name for p in (ddp_out / "checkpoint").iterdir()) == [
        "project.json", "state.pt", "trainer.json", "weights.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "ddp.json", "one", "one.json"]
    assert json.loads((ddp_out / "history.json").read_text()) == ddp["history"]

    # The checkpoint is the single-process format: the Trainer loads it as it is...
    ckpt = load_checkpoint(ddp_out / "checkpoint")
    trainer = Trainer.from_project(load_template("digits_cnn"), epochs=epochs + 1,
                                   device="cpu", batch_size=batch)
    trainer.resume_from(ckpt)
    assert trainer.epoch == epochs and trainer.global_step == ckpt.meta["global_step"]
    assert [h.row() for h in trainer.history] == ddp["history"]
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, ckpt.weights[key]), key
    # ...and `layerlab train --resume` continues the distributed run.
    resumed_json = tmp_path / "resumed.json"
    code = main(["train", "digits_cnn", "--epochs", str(epochs + 1), "--device", "cpu",
                 "--out", str(tmp_path / "resumed"), "--resume", str(ddp_out),
                 "--metrics-json", str(resumed_json)])
    assert code == 0
    resumed = json.loads(resumed_json.read_text())
    assert resumed["history"][:epochs] == ddp["history"]
    assert len(resumed["history"]) == epochs + 1 and resumed["final"]["val_acc"] >= 0.9


def test_without_dropout_two_processes_continue_the_single_process_curve(tmp_path):
    """Sharding one permutation the DistributedSampler way gives each step the same global
    batch as one process, and DDP averages the gradients: without dropout (whose masks differ
    per process) two processes resuming a single-process checkpoint after epoch 1 draw the
    single-process run's epoch 2, to rounding."""
    from layerlab.engine.project import load_project
    from layerlab.engine.training import Trainer, save_checkpoint

    path, data = _project(tmp_path, "nodrop.json")
    for node in data["nodes"]:
        if node["type"] == "Dropout":
            node["params"]["p"] = 0.0
    path.write_text(json.dumps(data))
    project = load_project(path)
    trainer = Trainer.from_project(project, tmp_path, epochs=2, device="cpu")

    class SaveAfterEpoch1:
        def on_epoch(self, snap):
            if snap.epoch == 1:
                save_checkpoint(tmp_path / "one" / "checkpoint", trainer, project)

    trainer.add_observer(SaveAfterEpoch1())
    single = trainer.run()
    assert single.status == "finished"
    metrics = tmp_path / "m.json"
    proc = _run(_torchrun(path, "--epochs", 2, "--device", "cpu", "--out", tmp_path / "run",
                          "--resume", tmp_path / "one", "--metrics-json", metrics), tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resuming after epoch 1" in proc.stderr
    ddp = json.loads(metrics.read_text())["history"]
    one = [h.row() for h in single.history]
    assert ddp[0] == one[0]  # from the checkpoint
    a, b = ddp[1], one[1]
    assert a["val_acc"] == pytest.approx(b["val_acc"], abs=1.5 / 359)   # ≤ 1 sample
    assert a["train_acc"] == pytest.approx(b["train_acc"], abs=2.5 / 1438)
    for key in ("train_loss", "val_loss"):
        assert a[key] == pytest.approx(b[key], rel=1e-4), key


# --- failures end every process, with a message ---------------------------------------------------

def test_broken_project_fails_on_every_rank_with_one_message(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "layerlab", "version": 1, "nodes": [{"id": "input", '
                      '"type": "Input", "params": {"shape": [1, 8, 8]}}, {"id": "fc", '
                      '"type": "Linear", "params": {"out_features": 4}}], "edges": '
                      '[{"source": "input", "target": "fc"}], "dataset": {"kind": "digits"}, '
                      '"training": {"epochs": 2}}')
    metrics = tmp_path / "m.json"
    proc = _run(_torchrun(broken, "--device", "cpu", "--metrics-json", metrics,
                          "--out", tmp_path / "run"), tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.count("insert a Flatten before it") == 1, proc.stderr[-3000:]
    data = json.loads(metrics.read_text())
    assert data["status"] == "failed" and "insert a Flatten" in data["message"]
    assert not (tmp_path / "run" / "checkpoint").exists()


def test_a_rank_failing_mid_run_ends_every_process(tmp_path):
    """Rank 0 cannot write its checkpoint after epoch 1 while rank 1 already waits in epoch 2's
    gradient all-reduce: both end (no hang), non-zero, with rank 0's reason."""
    path, _ = _project(tmp_path, "every.json", checkpoint_every=1)
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint").write_text("a file where the checkpoint folder should go")
    metrics = tmp_path / "m.json"
    proc = _run(_torchrun(path, "--epochs", 3, "--device", "cpu", "--out", out,
                          "--metrics-json", metrics), tmp_path)
    assert proc.returncode != 0
    assert "training failed on rank 0: cannot write the checkpoint" in proc.stderr
    data = json.loads(metrics.read_text())
    assert data["status"] == "failed" and "cannot write the checkpoint" in data["message"]
    assert [r["epoch"] for r in data["history"]] == [1]


# --- live metrics and the follower ------------------------------------------------------------

def test_follower_reads_a_file_written_in_steps(tmp_path):
    path = tmp_path / "metrics.json"
    f = MetricsFollower(path)
    u = f.poll()
    assert u.status == "waiting" and u.rows == () and not u.changed and not u.done

    row = lambda e: {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5, "val_loss": 1.0,  # noqa: E731
                     "val_acc": 0.5 + e / 100, "val_mae": None, "val_rmse": None, "lr": 0.1,
                     "seconds": 0.1}
    doc = lambda status, n, run="a": {"status": status, "history": [row(e) for e in range(1, n + 1)],  # noqa: E731
                                      "final": {}, "run_id": run}
    write_metrics(path, doc("running", 0))
    u = f.poll()
    assert u.changed and u.status == "running" and u.rows == ()
    write_metrics(path, doc("running", 2))
    assert [r["epoch"] for r in f.poll().rows] == [1, 2]
    assert f.poll().rows == () and not f.poll().changed           # nothing new

    full = json.dumps(doc("running", 3))
    path.write_text(full[:len(full) // 2])                          # a torn, non-atomic write
    u = f.poll()
    assert u.rows == () and u.status == "running" and not u.changed
    path.write_text("")                                             # truncated to nothing
    assert f.poll().rows == ()
    path.write_bytes(b"\xff\xfe garbage")
    assert f.poll().rows == ()
    path.write_text(full)                                           # the write completes
    assert [r["epoch"] for r in f.poll().rows] == [3]
    path.unlink()                                                   # replaced: briefly gone
    assert f.poll().rows == () and f.status == "running"

    doc4 = doc("finished", 4)
    doc4["history"][3]["val_loss"] = float("nan")                   # JSON has no NaN: null
    write_metrics(path, doc4)
    u = f.poll()
    assert [r["epoch"] for r in u.rows] == [4] and u.done and u.status == "finished"
    assert u.rows[0]["val_loss"] is None and len(f.history) == 4
    json.loads(path.read_text())                                    # strict JSON

    write_metrics(path, doc("running", 1, run="b"))                 # another run takes over
    u = f.poll()
    assert u.reset and [r["epoch"] for r in u.rows] == [1] and len(f.history) == 1
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_live_metrics_are_rewritten_after_every_epoch(tmp_path):
    from layerlab.engine.templates import load_template
    from layerlab.engine.training import Trainer

    path = tmp_path / "live.json"
    trainer = Trainer.from_project(load_template("digits_cnn"), epochs=2, device="cpu")
    live = LiveMetrics(path, project="p", dataset="digits")
    seen = []

    class Check:  # runs after LiveMetrics on the training thread: the file is already there
        def on_epoch(self, snap):
            data = json.loads(path.read_text())
            seen.append((data["status"], [r["epoch"] for r in data["history"]]))

    trainer.add_observer(live)
    trainer.add_observer(Check())
    assert trainer.run().status == "finished"
    assert seen == [("running", [1]), ("running", [1, 2])]
    data = json.loads(path.read_text())
    assert TRAIN_KEYS <= set(data) and data["run_id"] == live.run_id and data["epochs"] == 2
    assert data["device"] == "cpu" and data["final"]["status"] == "running"


def test_build_command_lines():
    py = "python"
    assert build_command("net.json", python=py, epochs=3, metrics_json="m.json") == [
        py, "-m", "layerlab.engine.train", "net.json", "--epochs", "3", "--metrics-json",
        "m.json"]
    assert build_command("net.json", python=py, nproc_per_node=4)[:5] == [
        py, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4"]
    cmd = build_command("net.json", python=py, nnodes=2, node_rank=1, master_addr="h0",
                        nproc_per_node=8, batch_size=256)
    assert cmd[3:7] == ["--nnodes=2", "--node_rank=1", "--master_addr=h0",
                        "--master_port=29500"] and cmd[-2:] == ["--batch-size", "256"]
    assert "--rdzv_backend=c10d" in build_command("n", python=py, nnodes=2,
                                                  rdzv_endpoint="h0:29400")
    with pytest.raises(ValueError):
        build_command("n", nnodes=2)
