"""Every run of a project is kept in its run history (issue 11): one record per run in the
run folder's runs/, written as it goes, listed as a table, loaded for overlaid curves."""
import json
import signal
import subprocess
import sys
import time

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from layerlab.engine.cli import main
from layerlab.engine.inference import analyze
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, TrainingEvent, TrainingObserver
from layerlab.engine.training.run_history import (RunRecorder, list_runs, load_run, runs_dir,
                                                  runs_table)

from training_helpers import digits, one_thread  # noqa: F401

TIMEOUT = 60


def train(tmp_path, *args):
    return main(["train", "digits_cnn", "--device", "cpu", "--out", str(tmp_path / "run"),
                 *args])


def test_layerlab_train_keeps_a_record_of_each_run(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "2") == 0
    assert train(tmp_path, "--epochs", "1", "--lr", "0.01", "--seed", "5") == 0
    capsys.readouterr()
    listing = list_runs(tmp_path / "run")
    assert listing.problems == ()
    first, second = listing.runs                     # oldest first
    project = load_template("digits_cnn")
    assert (first.status, first.epochs, first.lr, first.batch_size, first.optimizer) == \
        ("finished", 2, 0.003, 32, "adam")
    assert (first.l1, first.weight_decay, first.dropout) == (0.0, 0.0, (0.25,))
    assert first.parameters == analyze(project.graph).total_params
    run = load_run(tmp_path / "run", first.run_id)
    assert [r["epoch"] for r in run.history] == [1, 2]
    assert first.best_val_acc == max(r["val_acc"] for r in run.history)
    assert first.best_epoch in (1, 2) and first.seconds > 0
    assert first.weights is None                     # off by default
    assert (second.lr, second.epochs, second.seed) == (0.01, 1, 5)
    assert second.started_at >= first.started_at and second.run_id != first.run_id
    # the lessons' reader sees the same record (same format)
    from layerlab.engine.lessons.runs import run_from_json
    record = run_from_json(json.loads(open(first.path).read()), "record")
    assert record.status == "finished" and record.project is not None


def _peek_at_epochs(digits, tmp_path, epochs=3, **recorder):
    """The (status, epochs) the record says at each epoch end, and the final record."""
    project = load_template("digits_cnn")
    trainer = Trainer(project.graph, digits, {**project.training, "epochs": epochs,
                                              "device": "cpu"})
    seen = []

    class Peek(TrainingObserver):
        def on_epoch(self, snap):
            (run,) = list_runs(tmp_path).runs
            seen.append((run.status, run.epochs))

    trainer.add_observer(RunRecorder(tmp_path, trainer, project, **recorder))
    trainer.add_observer(Peek())
    trainer.run()
    return seen, list_runs(tmp_path).runs[0]


def test_the_record_can_be_written_after_every_epoch(digits, tmp_path):
    seen, final = _peek_at_epochs(digits, tmp_path, write_every_s=0)
    assert seen == [("running", 1), ("running", 2), ("running", 3)]
    assert final.status == "finished" and final.epochs == 3


def test_a_running_record_is_written_at_most_every_few_seconds_and_always_at_the_end(
        digits, tmp_path):
    # Epochs far shorter than the spacing: the record stays valid ("running", as written when
    # the run began), and its last write holds every epoch.
    seen, final = _peek_at_epochs(digits, tmp_path, write_every_s=3600)
    assert seen == [("running", 0)] * 3
    assert final.status == "finished" and final.epochs == 3


def test_a_paused_run_brings_its_record_up_to_date(digits, tmp_path):
    project = load_template("digits_cnn")
    trainer = Trainer(project.graph, digits, {**project.training, "epochs": 3,
                                              "device": "cpu"})
    trainer.add_observer(RunRecorder(tmp_path, trainer, project, write_every_s=3600))
    trainer.start()
    try:
        trainer.pause(wait=True, timeout=TIMEOUT)
        trainer.step(2 * trainer.batches_per_epoch, wait=True, timeout=TIMEOUT)
        # Stepping parks again after each step: the epochs done are in the file.
        (run,) = list_runs(tmp_path).runs
        assert run.status == "running" and run.epochs == trainer.epoch >= 1
    finally:
        trainer.stop(wait=True, timeout=TIMEOUT)


def test_a_killed_run_leaves_a_partial_record_that_reads_as_interrupted(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "layerlab.engine.cli", "train", "digits_cnn",
                             "--epochs", "100000", "--device", "cpu", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = list_runs(out).runs
            if runs and runs[0].epochs >= 1:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the run never wrote a record with an epoch")
        assert runs[0].status == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT)
    (run,) = list_runs(out).runs
    assert run.status == "interrupted" and run.epochs >= 1
    assert "ended without" in run.message
    assert len(load_run(out, run.run_id).history) == run.epochs


def test_a_run_that_diverges_in_its_first_epoch_reads_as_diverged(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "3", "--optimizer", "sgd", "--lr", "5") == 1
    capsys.readouterr()
    (run,) = list_runs(tmp_path / "run").runs
    assert run.status == "diverged" and "too high" in run.message
    # engine/lessons reads the run folder: how it ended comes from the record
    from layerlab.engine.lessons.runs import read_run
    record = read_run(tmp_path / "run")
    assert record.status == "diverged" and "too high" in record.message


class Park(TrainingObserver):
    def __init__(self):
        self.events = []

    def on_event(self, event):
        self.events.append(event)


def test_lr_changed_while_paused_is_a_marker_in_the_record(digits, tmp_path):
    project = load_template("digits_cnn")
    trainer = Trainer(project.graph, digits, {**project.training, "epochs": 2,
                                              "device": "cpu"})
    trainer.add_observer(RunRecorder(tmp_path, trainer, project))
    trainer.pause()
    trainer.start()
    assert trainer.pause(wait=True, timeout=TIMEOUT)
    trainer.step(count=3, wait=True, timeout=TIMEOUT)
    trainer.set_lr(0.0005)
    trainer.resume()
    assert trainer.join(TIMEOUT).status == "finished"
    (summary,) = list_runs(tmp_path).runs
    run = load_run(tmp_path, summary.run_id)
    (event,) = run.events
    assert isinstance(event, TrainingEvent)
    assert (event.kind, event.step, event.old, event.new) == ("lr", 3, 0.003, 0.0005)
    assert summary.lr == 0.003 and summary.lr_changes == 1


def test_a_continued_run_is_a_new_record_that_says_where_it_began(digits, tmp_path):
    project = load_template("digits_cnn")
    trainer = Trainer(project.graph, digits, {**project.training, "epochs": 1,
                                              "device": "cpu"})
    trainer.add_observer(RunRecorder(tmp_path, trainer, project))
    trainer.run()
    trainer.set_epochs(2)
    trainer.run()
    first, second = list_runs(tmp_path).runs
    assert (first.start_epoch, first.epochs, second.start_epoch, second.epochs) == (0, 1, 1, 2)
    assert second.continues == first.run_id


def test_weights_are_kept_only_when_asked_and_only_for_the_newest_runs(digits, tmp_path):
    from safetensors.torch import load_file
    project = load_template("digits_cnn")
    for seed in (1, 2, 3):
        trainer = Trainer(project.graph, digits, {**project.training, "epochs": 1,
                                                  "device": "cpu", "seed": seed})
        trainer.add_observer(RunRecorder(tmp_path, trainer, project, keep_weights=2))
        trainer.run()
    runs = list_runs(tmp_path).runs
    assert [r.weights is not None for r in runs] == [False, True, True]
    saved = load_file(runs[-1].weights)
    assert all(torch.equal(saved[k], v) for k, v in trainer.model.state_dict().items())


def test_layerlab_runs_prints_the_table_and_json(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "1") == 0
    (tmp_path / "run" / "runs" / "garbage.json").write_text("{not json")
    capsys.readouterr()
    assert main(["runs", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    header = out.splitlines()[0]
    for column in ("lr", "batch", "optimizer", "L1 / L2", "dropout", "parameters",
                   "best val acc", "time"):
        assert column in header
    assert "adam" in out and "0.003" in out and "finished" in out
    assert "garbage.json" in err and "not valid JSON" in err     # named, not dropped
    assert main(["runs", str(tmp_path / "run"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (run,) = data["runs"]
    assert run["optimizer"] == "adam" and run["epochs"] == 1
    assert any("garbage.json" in p for p in data["problems"])
    assert main(["runs", str(tmp_path / "run"), "--run", run["run_id"][:6], "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert [r["epoch"] for r in full["history"]] == [1] and full["events"] == []


def test_runs_of_a_project_without_any(tmp_path, capsys):
    assert main(["runs", str(tmp_path / "nothing-run")]) == 0
    assert "no runs" in capsys.readouterr().out


def test_table_rows_read_plainly():
    headers, rows = runs_table(())
    assert "best val acc" in headers and rows == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200),
                 st.dictionaries(st.sampled_from(["format", "version", "run_id", "status",
                                                  "history", "events", "settings", "table",
                                                  "started_at", "summary"]),
                                 st.one_of(st.none(), st.integers(), st.text(max_size=5),
                                           st.lists(st.integers(), max_size=3),
                                           st.just("layerlab-run"), st.just("finished")),
                                 max_size=10).map(lambda d: json.dumps(d).encode())))
def test_reading_any_file_never_raises_and_never_drops_it(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("fuzz")
    (runs_dir(folder)).mkdir()
    (runs_dir(folder) / "x.json").write_bytes(content)
    listing = list_runs(folder)
    assert len(listing.runs) + len(listing.problems) == 1
    for problem in listing.problems:
        assert "x.json" in problem


def test_the_checked_fields_are_the_snapshots_fields():
    """A field added to EpochSnapshot or TrainingEvent must be checked too, or every record
    holding it is refused as having an unknown field."""
    from dataclasses import fields

    from layerlab.engine.training.rows import EVENT_FIELDS, HISTORY_ROW
    from layerlab.engine.training.snapshots import EpochSnapshot, TrainingEvent
    assert set(EVENT_FIELDS) == {f.name for f in fields(TrainingEvent)}
    assert set(HISTORY_ROW) == {f.name for f in fields(EpochSnapshot)}
