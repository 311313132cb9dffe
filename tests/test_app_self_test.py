"""`layerlab --self-test`: the packaged app's end-to-end check, run here in-process."""
from __future__ import annotations

import json

from layerlab.app import launcher, self_test


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_self_test_trains_the_digits_template_and_reports_json(qapp, capsys):
    assert launcher.main(["--self-test", "--epochs", "1"]) == 0
    report = _last_json(capsys)
    assert report["ok"] is True and report["epochs"] == 1 and report["status"] == "finished"
    assert report["template"] == "digits_cnn" and report["layers"] > 0
    assert report["path"] == "dashboard" and report["device"] == "cpu"
    assert 0.3 <= report["val_accuracy"] <= 1.0
    assert report["seconds"] >= report["train_seconds"] > 0
    assert report["frozen"] is False


def test_self_test_fails_when_the_model_learns_too_little(qapp, capsys):
    assert self_test.main(["--epochs", "1", "--min-accuracy", "1.01"]) == 1
    report = _last_json(capsys)
    assert report["ok"] is False and "below 1.01" in report["error"]


def test_self_test_engine_path_without_a_dashboard(qapp, capsys, monkeypatch):
    """The fallback for a window without a dashboard trains with the engine's Trainer."""
    monkeypatch.setattr(self_test, "_choose_training",
                        lambda window: ("engine", self_test._train_with_engine))
    assert self_test.main(["--epochs", "1"]) == 0
    report = _last_json(capsys)
    assert report["ok"] is True and report["path"] == "engine" and report["epochs"] == 1


def test_self_test_rejects_bad_arguments(capsys):
    assert launcher.main(["--self-test", "--epochs", "0"]) == 2
    assert "--epochs must be" in capsys.readouterr().err
