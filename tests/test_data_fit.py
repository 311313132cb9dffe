"""Does the graph fit its dataset: the default dataset, the cheap peek, the problems and their
one-click fixes (issue 10: from scratch to training with no typing)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from layerlab.engine.compose import Composer
from layerlab.engine.data import load_dataset
from layerlab.engine.data import image_folder as image_folder_mod
from layerlab.engine.data.fit import (dataset_problems, dataset_spec, default_spec,
                                      new_input_params, peek)
from layerlab.engine.edits import apply_edits
from layerlab.engine.graph import Project
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer

HOUSES = {"kind": "csv", "path": "resources:data/house_prices.csv", "target": "price"}


def scratch(input_shape=None, end: str | None = None, out_features: int | None = None,
            flatten: bool = True) -> Project:
    """Input → Conv2d → ReLU → MaxPool2d → Flatten → Linear with every parameter left at its
    default, as a person drags them from the palette (what issue 10 tried)."""
    g = Composer()
    x = g.input(list(input_shape)) if input_shape else g.layer("Input", [], id="input")
    x = g.layer("Conv2d", x, id="conv")
    x = g.layer("ReLU", x, id="relu")
    x = g.layer("MaxPool2d", x, id="pool")
    if flatten:
        x = g.layer("Flatten", x, id="flatten")
        x = g.layer("Linear", x, id="fc", **({"out_features": out_features}
                                              if out_features else {}))
    if end:
        g.layer(end, x, id="out")
    return Project(g.graph)


def fixed(project: Project, problem, which: int = 0) -> Project:
    return apply_edits(project, problem.fixes[which].edits)


@pytest.mark.parametrize("shape, spec", [
    (None, {"kind": "digits"}),
    ((1, 8, 8), {"kind": "digits"}),
    ((1, 28, 28), {"kind": "digits", "size": 28}),
    ((1, 28, 32), {"kind": "digits", "size": [28, 32]}),
    ((1, 200, 200), {"kind": "shapes", "size": 200, "count": 1248}),
    ((3, 32, 32), {"kind": "shapes", "size": 32, "channels": 3}),
    ((3, 224, 224), {"kind": "shapes", "size": 224, "channels": 3, "count": 330}),
    ((3, 20, 30), {"kind": "digits"}),       # nothing built in gives it: the plain default
    ((13,), {"kind": "digits"}),
])
def test_default_dataset_fits_the_input(shape, spec):
    assert default_spec(shape) == spec
    if shape and spec != {"kind": "digits"}:
        assert peek(spec).input_shape == shape


def test_a_project_with_a_section_keeps_it():
    project = scratch()
    project.dataset = {"kind": "shapes"}
    assert dataset_spec(project) == {"kind": "shapes"}
    project.dataset = {}
    assert dataset_spec(project) == {"kind": "digits", "size": 28}


def test_a_scratch_cnn_with_defaults_fits_and_trains_without_typing():
    project = scratch()
    assert dataset_problems(project) == []
    trainer = Trainer.from_project(project, epochs=1, device="cpu")
    result = trainer.run()
    assert result.status == "finished" and result.history[-1].val_acc > 0.3


def test_input_mismatch_offers_both_sides_and_each_fix_clears_it():
    project = scratch()
    project.dataset = {"kind": "digits"}
    [problem] = dataset_problems(project)
    assert problem.node == "input"
    assert problem.message == ("input: the digits dataset gives 1×8×8 images but the Input "
                               "expects 1×28×28")
    assert [f.label for f in problem.fixes] == ["Set the Input shape to 1×8×8",
                                                "Make the digits dataset give 1×28×28"]
    input_fixed = fixed(project, problem, 0)
    assert input_fixed.graph.nodes["input"].params["shape"] == [1, 8, 8]
    assert dataset_problems(input_fixed) == []
    data_fixed = fixed(project, problem, 1)
    assert data_fixed.dataset == {"kind": "digits", "size": 28}
    assert dataset_problems(data_fixed) == []


def test_gray_dataset_for_a_color_input_offers_the_shapes():
    project = scratch((3, 16, 16), out_features=6)
    project.dataset = {"kind": "digits"}
    problem, classes = dataset_problems(project)     # and the 6 outputs do not fit 10 digits
    assert classes.message.startswith("fc gives 6 outputs but the dataset has 10 classes")
    assert [f.label for f in problem.fixes] == ["Set the Input shape to 1×8×8",
                                                "Use the shapes dataset at 3×16×16"]
    assert dataset_problems(fixed(project, problem, 1)) == []      # shapes: 6 classes


def test_class_count_mismatch_sets_out_features_through_a_softmax():
    project = scratch(end="Softmax")
    project.dataset = {"kind": "shapes", "size": 28}
    [problem] = dataset_problems(project)
    assert problem.node == "fc"
    assert problem.message.startswith("fc gives 10 outputs but the dataset has 6 classes "
                                      "(circle, square, triangle, horizontal bar, vertical bar, "
                                      "diagonal bar)")
    assert problem.fixes[0].label == "Set fc.out_features to 6"
    assert problem.is_error                          # a finished network that is wrong
    assert dataset_problems(fixed(project, problem)) == []


def test_an_image_shaped_output_gets_flatten_and_linear():
    project = scratch(flatten=False)
    [problem] = dataset_problems(project)
    assert problem.node == "pool" and "Flatten and a Linear layer with 10 outputs" in \
        problem.message
    # Ending in feature maps is an unfinished network, not a wrong one: guidance, no red.
    assert problem.severity == "todo" and not problem.is_error
    after = fixed(project, problem)
    assert [n.type for n in after.graph.nodes.values()][-2:] == ["Flatten", "Linear"]
    assert dataset_problems(after) == []


def test_a_regression_table_checks_features_and_targets():
    house = load_template("house_mlp")
    assert dataset_problems(house) == []
    house.graph.nodes["input"].params["shape"] = [4]
    [problem] = dataset_problems(house)
    assert "gives rows of 3 features but the Input expects 4" in problem.message
    assert [f.label for f in problem.fixes] == ["Set the Input shape to 3"]
    assert dataset_problems(fixed(house, problem)) == []


def test_an_unreadable_dataset_is_one_problem_and_bad_rows_offer_skipping(tmp_path):
    project = scratch()
    project.dataset = {"kind": "csv", "path": "missing.csv", "target": "y"}
    [problem] = dataset_problems(project, tmp_path)
    assert problem.node is None and "'missing.csv' not found" in problem.message
    (tmp_path / "t.csv").write_text("a,b,y\n1,2,x\n3,4,y\n5,oops,x\n7,8,y\n")
    project = Project(Composer().graph)
    g = Composer()
    g.layer("Linear", g.input([2]), id="fc", out_features=2)
    project = Project(g.graph, dataset={"kind": "csv", "path": "t.csv", "target": "y",
                                        "task": "classification"})
    [problem] = dataset_problems(project, tmp_path)
    assert "1 of its 4 rows is not usable" in problem.message
    assert problem.fixes[0].label == "Skip the 1 bad row"
    assert dataset_problems(fixed(project, problem), tmp_path) == []


def test_new_input_takes_the_dataset_shape():
    project = scratch()
    assert new_input_params(project) == {}                  # no section: the default follows
    project.dataset = {"kind": "shapes", "size": 32, "channels": 3}
    assert new_input_params(project) == {"shape": [3, 32, 32]}
    project.dataset = {"kind": "csv", "path": "nowhere.csv", "target": "y"}
    assert new_input_params(project) == {}                  # unreadable: keep the default


def _pets(root, classes=("cats", "dogs"), n=2):
    for cls in classes:
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.new("RGB", (5, 7), (40 * i, 90, 200)).save(root / cls / f"{i}.png")


def test_peeking_an_image_folder_reads_no_image_and_follows_the_listing(tmp_path, monkeypatch):
    _pets(tmp_path / "pets")
    spec = {"kind": "image_folder", "path": "pets", "size": [7, 5], "channels": 3}

    def refuse(*a, **k):
        raise AssertionError("peek must not read images")
    monkeypatch.setattr(image_folder_mod, "_read_image", refuse)
    data = peek(spec, tmp_path)
    assert data.input_shape == (3, 7, 5) and data.class_names == ("cats", "dogs")
    _pets(tmp_path / "pets", classes=("birds",))
    assert peek(spec, tmp_path).class_names == ("birds", "cats", "dogs")
    monkeypatch.undo()
    ds = load_dataset(spec, tmp_path)
    assert ds.input_shape == data.input_shape and ds.class_names == ["birds", "cats", "dogs"]


@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from(["digits", "shapes"]), size=st.integers(8, 40),
       channels=st.sampled_from([1, 3]))
def test_peek_agrees_with_loading(kind, size, channels):
    spec = ({"kind": "digits", "size": size, "limit": 20} if kind == "digits" else
            {"kind": "shapes", "size": size, "channels": channels, "count": 24})
    data, ds = peek(spec), load_dataset(spec)
    assert data.input_shape == ds.input_shape
    assert list(data.class_names) == ds.class_names and data.num_outputs == ds.num_outputs


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 300),
                                 st.floats(allow_nan=True), st.text(max_size=8)),
                       lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=st.dictionaries(st.sampled_from(["kind", "size", "channels", "count", "path",
                                                "target", "task", "val_fraction", "augment",
                                                "train_samples", "limit", "features", "x"]),
                               JSONISH, max_size=5),
       kind=st.sampled_from(["digits", "shapes", "csv", "image_folder", "mnist_idx",
                             "cifar10", "nope"]),
       shape=st.sampled_from([[1, 8, 8], [3, 32, 32], [13], [2, 5, 5]]))
def test_dataset_problems_never_raise(tmp_path_factory, section, kind, shape):
    if "kind" not in section:
        section["kind"] = kind
    project = scratch(shape, flatten=True) if len(shape) == 3 else Project(Composer().graph)
    project.dataset = section
    problems = dataset_problems(project, tmp_path_factory.getbasetemp())
    assert isinstance(problems, list)
    for problem in problems:
        assert problem.message and all(f.label and f.edits for f in problem.fixes)
        for fix in problem.fixes:
            apply_edits(project, fix.edits)        # every fix applies to the project


def test_train_samples_show_in_the_description():
    from layerlab.engine.data import describe
    line = describe({"kind": "digits", "size": 28, "train_samples": 100})
    assert "upsampled to 28×28" in line and "only 100 training samples" in line
    assert np.isfinite(len(line))


def test_a_bad_table_is_read_once_per_change_not_per_check(tmp_path, monkeypatch):
    from layerlab.engine.data import tabular
    (tmp_path / "t.csv").write_text("a,y\n1,x\nbad,y\n3,x\n4,y\n")
    spec = {"kind": "csv", "path": "t.csv", "target": "y", "task": "classification"}
    calls = []
    real = tabular.read_rows
    monkeypatch.setattr(tabular, "read_rows", lambda *a: calls.append(a) or real(*a))
    for _ in range(3):
        with pytest.raises(Exception, match="not usable|only one value|rows"):
            peek(spec, tmp_path)
    assert len(calls) <= 1
