"""Lesson checks: the registry, what each kind says when it holds and when it does not, the run
records they read (from a real run folder too), and a parser that never raises but CheckError."""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerlab.engine.edits import SetParams, SetSection, apply_edits
from layerlab.engine.lessons import (CheckError, RunRecord, all_checks, check_from_json,
                                     check_to_json, describe, evaluate, needs_run, read_run,
                                     run_from_json, run_to_json)
from layerlab.engine.lessons.runs import RunReadError, project_changes
from layerlab.engine.templates import load_template


def ev(data, project, runs=()):
    return evaluate(check_from_json(data), project, runs=runs)


def row(epoch, train_loss=1.0, val_loss=1.0, train_acc=None, val_acc=None, val_mae=None):
    return {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
            "val_loss": val_loss, "val_acc": val_acc, "val_mae": val_mae, "val_rmse": None,
            "lr": 0.01, "seconds": 0.1}


@pytest.fixture(scope="module")
def lenet():
    return load_template("lenet5")


def test_every_kind_is_declared_once_with_a_description_and_an_example():
    kinds = list(all_checks())
    assert len({k.name for k in kinds}) == len(kinds) >= 15
    for kind in kinds:
        assert kind.summary and kind.example["kind"] == kind.name
        check = check_from_json(kind.example)          # every example is itself valid
        assert describe(check)
        assert check_to_json(check) == kind.example


def test_the_issue_examples_read_like_the_issue(lenet):
    conv = ev({"kind": "layer", "type": "Conv2d", "params": {"out_channels": 6,
                                                              "kernel_size": 5}}, lenet)
    assert conv.ok and conv.goal == "the network has a Conv2d with 6 filters of 5×5"
    shape = ev({"kind": "output_shape", "node": "conv1", "shape": [6, 28, 28]}, lenet)
    assert shape.ok and shape.goal == "conv1's output is 6×28×28"


def test_a_missing_layer_says_what_to_change(lenet):
    changed = apply_edits(lenet, [SetParams("conv1", {"out_channels": 16, "kernel_size": 3})])
    result = ev({"kind": "layer", "type": "Conv2d", "params": {"out_channels": 6,
                                                                "kernel_size": 5}}, changed)
    assert not result.ok
    assert result.reason == ("conv1 is a Conv2d but has out_channels 16 (wanted 6); "
                             "kernel_size 3×3 (wanted 5×5)")
    shape = ev({"kind": "output_shape", "node": "conv1", "shape": [6, 28, 28]}, changed)
    assert shape.reason == "conv1's output is 16×30×30; this step wants 6×28×28"


def test_kernel_sizes_compare_as_pairs(lenet):
    assert ev({"kind": "node", "node": "conv1", "type": "Conv2d",
               "params": {"kernel_size": [5, 5]}}, lenet).ok


def test_graph_kinds_on_lenet(lenet):
    assert ev({"kind": "params", "equals": 61706}, lenet).ok
    assert ev({"kind": "params", "node": "conv1", "equals": 156}, lenet).ok
    assert ev({"kind": "valid"}, lenet).ok
    assert ev({"kind": "sequence", "types": ["Conv2d", "Tanh", "AvgPool2d"]}, lenet).ok
    seq = ev({"kind": "sequence", "types": ["Conv2d", "Tanh", "MaxPool2d"]}, lenet)
    assert seq.reason == "Conv2d → Tanh is there, but no MaxPool2d follows it directly yet"
    assert ev({"kind": "feeds", "source": "conv1", "target": "tanh1"}, lenet).ok
    assert not ev({"kind": "feeds", "source": "conv1", "target": "pool1"}, lenet).ok
    assert ev({"kind": "output_layer", "type": "Linear"}, lenet).ok
    count = ev({"kind": "layer_count", "type": "Tanh", "at_most": 0}, lenet)
    assert not count.ok and "4 Tanh layers" in count.reason
    assert ev({"kind": "setting", "section": "training", "key": "optimizer",
               "value": "sgd"}, lenet).ok
    # training keys read with their defaults: lenet5 leaves weight_decay out
    assert ev({"kind": "setting", "section": "training", "key": "weight_decay",
               "equals": 0}, lenet).ok
    # and true is not 1
    project = apply_edits(lenet, [SetSection("training", {"nesterov": True})])
    assert not ev({"kind": "setting", "section": "training", "key": "nesterov",
                   "value": 1}, project).ok


def test_combinators(lenet):
    result = ev({"kind": "all", "checks": [{"kind": "valid"},
                                           {"kind": "layer", "type": "Softmax"},
                                           {"kind": "layer", "type": "Dropout"}]}, lenet)
    assert not result.ok and len(result.parts) == 3
    assert [p.ok for p in result.parts] == [True, False, False]
    assert result.reason.endswith("(and 1 more to do)")
    assert ev({"kind": "any", "checks": [{"kind": "layer", "type": "Softmax"},
                                         {"kind": "valid"}]}, lenet).ok
    assert ev({"kind": "not", "checks": [{"kind": "layer", "type": "Softmax"}]}, lenet).ok


def test_a_broken_graph_gives_reasons_not_exceptions(lenet):
    broken = apply_edits(lenet, [SetParams("conv1", {"kernel_size": 40})])
    assert "kernel" in ev({"kind": "valid"}, broken).reason
    shape = ev({"kind": "output_shape", "node": "conv2", "shape": [16, 10, 10]}, broken)
    assert not shape.ok and "unknown" in shape.reason
    assert "error" in ev({"kind": "params", "equals": 1}, broken).reason


# --- parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize("data,where,words", [
    ({"kind": "nope"}, "check.kind", "unknown check kind 'nope'"),
    ({"kind": "layer"}, "check.type", "needs 'type'"),
    ({"kind": "layer", "type": "Conv3d"}, "check.type", "must be a layer type"),
    ({"kind": "layer", "type": "Conv2d", "params": {"out_channel": 6}}, "check",
     "no parameter 'out_channel'"),
    ({"kind": "layer", "type": "Conv2d", "params": {"kernel_size": 0}}, "check",
     "at least 1"),
    ({"kind": "metric", "metric": "val_acc"}, "check", "give at least one of"),
    ({"kind": "metric", "metric": "accuracy", "at_least": 1}, "check.metric", "one of"),
    ({"kind": "output_shape", "shape": "6x28x28"}, "check.shape", "list of 1 to 4"),
    ({"kind": "all", "checks": []}, "check.checks", "non-empty list"),
    ({"kind": "all", "checks": [{"kind": "valid", "x": 1}]}, "check.checks[0].x",
     "has no field 'x'"),
    ({"kind": "setting", "section": "model", "key": "lr", "value": 1}, "check.section",
     "one of"),
    ({"kind": "setting", "section": "training", "key": "lr", "value": 1, "at_least": 2},
     "check", "only one of"),
    ([1, 2], "check", "a check is an object"),
])
def test_bad_checks_are_located(data, where, words):
    with pytest.raises(CheckError) as err:
        check_from_json(data)
    assert any(p.location == where and words in p.message for p in err.value.problems), \
        err.value.problems


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                    | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
KINDS = st.sampled_from([k.name for k in all_checks()] + ["x"])
FIELDS = st.sampled_from(["type", "params", "node", "shape", "checks", "metric", "at_least",
                          "equals", "section", "key", "value", "types", "status", "count"])


@settings(max_examples=300, deadline=None)
@given(kind=KINDS, fields=st.dictionaries(FIELDS, JSON, max_size=5))
def test_fuzzed_checks_parse_or_say_why_and_evaluate_without_raising(kind, fields):
    project = load_template("digits_cnn")
    try:
        check = check_from_json({"kind": kind, **fields})
    except CheckError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    result = evaluate(check, project, runs=[RunRecord("finished", (row(1), row(2)))])
    assert isinstance(result.ok, bool) and result.reason


# --- runs ----------------------------------------------------------------------------------

def test_run_checks_read_the_last_run(lenet):
    good = RunRecord("finished", (row(1, 2.0, 1.5, 0.5, 0.6), row(2, 0.5, 0.6, 0.97, 0.91)),
                     project=lenet)
    assert ev({"kind": "metric", "metric": "val_acc", "at_least": 0.9}, lenet, [good]).reason \
        == "final validation accuracy is 91%"
    gap = ev({"kind": "gap", "below": 5}, lenet, [good])
    assert not gap.ok and "97% − validation accuracy 91% = 6.0 points" in gap.reason
    assert ev({"kind": "loss_drop", "at_least": 0.7}, lenet, [good]).ok
    assert ev({"kind": "trained", "epochs": 2}, lenet, [good]).ok
    assert ev({"kind": "run_status", "status": "finished"}, lenet, [good]).ok
    assert not ev({"kind": "run_status", "status": "diverged"}, lenet, [good]).ok
    none = ev({"kind": "metric", "metric": "val_acc", "at_least": 0.9}, lenet, [])
    assert not none.ok and "Train" in none.reason


def test_a_loss_that_blew_up_counts_as_diverged_even_when_the_run_finished(lenet):
    exploded = RunRecord("finished", (row(1, 4e28), row(2, 2.3)), project=lenet)
    assert exploded.diverged
    assert ev({"kind": "run_status", "status": "diverged"}, lenet, [exploded]).ok
    nan = RunRecord("stopped", (row(1, math.nan),))
    assert nan.diverged


def test_a_run_of_an_earlier_version_is_stale_unless_fresh_is_false(lenet):
    run = RunRecord("finished", (row(1, val_acc=0.95),), project=lenet)
    changed = apply_edits(lenet, [SetSection("training", {"lr": 0.5}),
                                  SetParams("fc3", {"out_features": 12})])
    result = ev({"kind": "metric", "metric": "val_acc", "at_least": 0.9}, changed, [run])
    assert not result.ok
    assert "since then: fc3.out_features, training.lr" in result.reason
    assert ev({"kind": "metric", "metric": "val_acc", "at_least": 0.9, "fresh": False},
              changed, [run]).ok
    # moving a node is not a change
    moved = lenet.copy()
    moved.graph.nodes["conv1"].position = (999.0, 5.0)
    assert project_changes(lenet, moved) == []


def test_run_records_round_trip_and_bad_ones_are_named(lenet):
    run = RunRecord("diverged", (row(1, val_acc=0.5),), {"lr": 2.0}, lenet, "boom")
    again = run_from_json(json.loads(json.dumps(run_to_json(run))))
    assert again.status == "diverged" and again.history == run.history
    assert project_changes(again.project, lenet) == []
    with pytest.raises(RunReadError, match="status must be one of"):
        run_from_json({"format": "layerlab-run", "status": "great"}, "r.json")
    with pytest.raises(RunReadError, match="r.json: history row 1: val_acc"):
        run_from_json({"format": "layerlab-run", "status": "finished",
                       "history": [{**row(1), "val_acc": "high"}]}, "r.json")


def test_read_run_from_a_real_run_folder(tmp_path):
    """What `layerlab train` leaves beside a project is what `lesson check` reads."""
    from layerlab.engine.cli import main
    from layerlab.engine.project import save_project
    project = load_template("house_mlp")
    project.training.update(epochs=3)
    path = tmp_path / "house.json"
    save_project(project, path)
    assert main(["train", str(path)]) == 0
    record = read_run(tmp_path / "house-run")
    assert record.status == "finished" and record.epochs == 3
    assert project_changes(record.project, project) == []
    assert record.settings["epochs"] == 3
    # with the metrics file of that run beside it, its status is taken from there
    metrics = {"status": "stopped", "message": "stopped by the teacher",
               "history": [dict(r) for r in record.history]}
    (tmp_path / "house-run" / "metrics.json").write_text(json.dumps(metrics))
    assert read_run(tmp_path / "house-run").message == "stopped by the teacher"
    # …but not when it describes another run
    metrics["history"] = metrics["history"][:1]
    (tmp_path / "house-run" / "metrics.json").write_text(json.dumps(metrics))
    assert read_run(tmp_path / "house-run").status == "finished"


def test_read_run_names_a_broken_file(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "trainer.json").write_text("{nope")
    with pytest.raises(RunReadError, match="trainer.json: not valid JSON"):
        read_run(tmp_path)
    assert read_run(tmp_path / "checkpoint" / "missing") is None


def test_needs_run_sees_inside_combinators():
    assert needs_run(check_from_json({"kind": "all", "checks": [
        {"kind": "valid"}, {"kind": "gap", "below": 5}]}))
    assert not needs_run(check_from_json({"kind": "any", "checks": [{"kind": "valid"}]}))
