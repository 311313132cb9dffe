"""`layerlab train`: metrics JSON, run folder, progress on stderr, errors without tracebacks."""
import json
import subprocess
import sys


from layerlab.engine.cli import main


def test_train_digits_writes_metrics_history_and_checkpoint(tmp_path, capsys):
    metrics = tmp_path / "metrics.json"
    out = tmp_path / "run"
    code = main(["train", "digits_cnn", "--epochs", "2", "--device", "cpu", "--seed", "1",
                 "--out", str(out), "--metrics-json", str(metrics)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(metrics.read_text())
    assert {"final", "history", "device", "samples_per_s"} <= set(data)
    assert data["device"] == "cpu" and data["samples_per_s"] > 0
    assert [row["epoch"] for row in data["history"]] == [1, 2]
    for row in data["history"]:
        assert {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                "seconds"} <= set(row)
        assert 0 <= row["val_acc"] <= 1 and row["train_loss"] > 0
    assert data["final"]["status"] == "finished"
    assert data["final"]["val_acc"] == data["history"][-1]["val_acc"]
    assert (out / "history.csv").read_text().splitlines()[0].startswith(
        "epoch,train_loss,train_acc,val_loss,val_acc")
    assert len(json.loads((out / "history.json").read_text())) == 2
    assert (out / "checkpoint" / "weights.safetensors").is_file()
    # Progress bar and header on stderr; the final metrics on stdout.
    assert "\r" in captured.err and "samples/s" in captured.err and "ETA" in captured.err
    assert "device: cpu" in captured.err
    assert "val_acc" in captured.out and "finished" in captured.out

    # --resume continues from the run folder's checkpoint up to the new epoch count.
    metrics2 = tmp_path / "metrics2.json"
    code = main(["train", "digits_cnn", "--epochs", "3", "--device", "cpu", "--seed", "1",
                 "--out", str(tmp_path / "run2"), "--resume", str(out),
                 "--metrics-json", str(metrics2)])
    assert code == 0
    resumed = json.loads(metrics2.read_text())
    assert [row["epoch"] for row in resumed["history"]] == [1, 2, 3]
    assert resumed["history"][:2] == data["history"]


def test_broken_project_exits_nonzero_with_a_message(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "layerlab", "version": 1, "nodes": [{"id": "input", '
                      '"type": "Input", "params": {"shape": [1, 8, 8]}}, {"id": "fc", '
                      '"type": "Linear", "params": {"out_features": 4}}], "edges": '
                      '[{"source": "input", "target": "fc"}], "dataset": {"kind": "digits"}, '
                      '"training": {"lr": -1, "epochs": 2}}')
    assert main(["train", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "training.lr" in err and "Traceback" not in err

    broken.write_text(broken.read_text().replace('"lr": -1', '"lr": 0.1'))
    assert main(["train", str(broken), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "the graph cannot be trained" in err and "insert a Flatten before it" in err

    assert main(["train", str(tmp_path / "missing.json")]) == 2
    assert "cannot be opened" in capsys.readouterr().err


def test_cli_subprocess_error_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = subprocess.run([sys.executable, "-m", "layerlab.engine.cli", "train", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "not valid JSON" in proc.stderr and "Traceback" not in proc.stderr


def test_lr_batch_size_optimizer_and_max_batches(tmp_path, capsys):
    """Issue 10's flags: the settings reach the trainer, and --max-batches stops a run early —
    reported as stopped after N batches, exit 0, checkpoint written — which --resume
    continues."""
    from layerlab.engine.training import OPTIMIZERS, load_checkpoint
    from layerlab.engine.commands.train import OPTIMIZER_CHOICES
    assert OPTIMIZER_CHOICES == OPTIMIZERS

    metrics, out = tmp_path / "m.json", tmp_path / "run"
    code = main(["train", "digits_cnn", "--epochs", "3", "--device", "cpu", "--lr", "0.02",
                 "--batch-size", "64", "--optimizer", "sgd", "--max-batches", "30",
                 "--out", str(out), "--metrics-json", str(metrics)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(metrics.read_text())
    assert data["status"] == "stopped" and "stopped after 30 batches" in data["message"]
    assert [r["epoch"] for r in data["history"]] == [1]          # 23 batches of 64 per epoch
    assert data["final"]["steps"] == 30
    assert "stopped after 30 batches" in captured.out and "sgd lr 0.02, batch 64" in captured.err
    meta = load_checkpoint(out / "checkpoint").meta
    assert (meta["epoch"], meta["batch"], meta["global_step"]) == (1, 7, 30)
    assert (meta["config"]["optimizer"], meta["config"]["lr"],
            meta["config"]["batch_size"]) == ("sgd", 0.02, 64)

    code = main(["train", "digits_cnn", "--epochs", "2", "--device", "cpu", "--lr", "0.02",
                 "--batch-size", "64", "--optimizer", "sgd", "--resume", str(out),
                 "--out", str(tmp_path / "run2"), "--metrics-json", str(metrics)])
    assert code == 0
    data = json.loads(metrics.read_text())
    assert data["status"] == "finished" and data["final"]["steps"] == 46


def test_bad_flags_are_refused_with_a_message(tmp_path, capsys):
    import pytest
    with pytest.raises(SystemExit) as info:
        main(["train", "digits_cnn", "--max-batches", "0"])
    assert info.value.code == 2 and "--max-batches: must be 1 or more" in capsys.readouterr().err
    assert main(["train", "digits_cnn", "--lr", "-1", "--out", str(tmp_path / "r")]) == 2
    assert "training.lr" in capsys.readouterr().err


def test_a_learning_rate_far_too_high_gets_a_hint_on_stderr(tmp_path, capsys):
    code = main(["train", "digits_cnn", "--epochs", "2", "--device", "cpu", "--lr", "0.5",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 0
    assert "hint: validation accuracy is" in err and "too high" in err and "Try 0.05" in err
