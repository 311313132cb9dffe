"""engine/edits.py: the plain-data edit vocabulary shared by quick fixes and lessons."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerlab.engine import analyze
from layerlab.engine.edits import (AddNode, ChangeType, Connect, Disconnect, EditError, Fix,
                                   InsertBetween, RemoveNode, Rename, SetParams, SetSection, apply_edits,
                                   edit_from_json, edit_to_json, fix_from_json, fix_to_json)
from layerlab.engine.templates import load_template


def test_a_flatten_inserted_between_a_conv_and_a_linear_makes_the_graph_valid():
    project = load_template("keras_mnist")
    flatten = next(e for e in project.graph.edges
                   if project.graph.nodes[e.target].type == "Flatten")
    target = next(e.target for e in project.graph.outgoing(flatten.target))
    broken = apply_edits(project, [RemoveNode(flatten.target), Connect(flatten.source, target)])
    assert analyze(broken.graph).problems
    fixed = apply_edits(broken, [InsertBetween(flatten.source, target, "flat", "Flatten")])
    assert not analyze(fixed.graph).problems
    assert analyze(fixed.graph).total_params == analyze(project.graph).total_params


def test_apply_leaves_the_original_alone_and_names_the_failing_edit():
    project = load_template("digits_cnn")
    before = project.copy()
    with pytest.raises(EditError, match=r"edit 2 \(set_params nope\).*no node called 'nope'"):
        apply_edits(project, [SetSection("training", {"lr": 0.5}), SetParams("nope", {"a": 1})])
    assert project.graph == before.graph and project.training == before.training


def test_set_params_merges_and_none_restores_the_default():
    project = load_template("digits_cnn")
    conv = next(n for n in project.graph.nodes.values() if n.type == "Conv2d")
    changed = apply_edits(project, [SetParams(conv.id, {"out_channels": 6, "padding": None})])
    params = changed.graph.nodes[conv.id].params
    assert params["out_channels"] == 6 and "padding" not in params
    assert params["kernel_size"] == conv.params["kernel_size"]


def test_sections_merge_or_replace():
    project = load_template("digits_cnn")
    merged = apply_edits(project, [SetSection("training", {"lr": 0.1, "epochs": None})])
    assert merged.training["lr"] == 0.1 and "epochs" not in merged.training
    assert merged.training["optimizer"] == project.training["optimizer"]
    replaced = apply_edits(project, [SetSection("dataset", {"kind": "shapes"}, replace=True)])
    assert replaced.dataset == {"kind": "shapes"}
    with pytest.raises(EditError, match="unknown section 'graph'"):
        apply_edits(project, [SetSection("graph", {})])


def test_rename_disconnect_and_add_node():
    project = load_template("digits_cnn")
    first = project.graph.edges[0]
    out = apply_edits(project, [Rename(first.target, "renamed"),
                                Disconnect(first.source, "renamed"),
                                AddNode("extra", "ReLU")])
    assert "renamed" in out.graph.nodes and first.target not in out.graph.nodes
    assert not any(e.source == first.source and e.target == "renamed" for e in out.graph.edges)
    rightmost = max(n.position[0] for n in project.graph.nodes.values())
    assert out.graph.nodes["extra"].position[0] > rightmost
    with pytest.raises(EditError, match="does not feed"):
        apply_edits(out, [Disconnect(first.source, "renamed")])


def test_change_type_keeps_the_id_the_wires_and_the_shared_parameters():
    project = load_template("digits_cnn")
    conv = next(n for n in project.graph.nodes.values() if n.type == "Conv2d")
    wires = [e for e in project.graph.edges if conv.id in (e.source, e.target)]
    out = apply_edits(project, [SetParams(conv.id, {"kernel_size": 5}),
                                ChangeType(conv.id, "MaxPool2d")])
    node = out.graph.nodes[conv.id]
    assert node.type == "MaxPool2d" and node.params["kernel_size"] == 5
    assert "out_channels" in conv.params and "out_channels" not in node.params
    assert [e for e in out.graph.edges if conv.id in (e.source, e.target)] == wires
    assert project.graph.nodes[conv.id].type == "Conv2d"                   # copy, not original
    with pytest.raises(EditError, match="no layer type 'Blob'"):
        apply_edits(project, [ChangeType(conv.id, "Blob")])
    with pytest.raises(EditError, match="no node called 'nope'"):
        apply_edits(project, [ChangeType("nope", "ReLU")])


def test_batchnorm2d_fed_a_vector_offers_batchnorm1d_and_it_clears_the_error():
    project = load_template("digits_cnn")
    last = next(n for n in project.graph.nodes.values() if n.type == "Linear")
    fed = apply_edits(project, [AddNode("bn", "BatchNorm2d", {"momentum": 0.2}),
                                Connect(last.id, "bn")])
    problem = next(p for p in analyze(fed.graph).problems if p.node == "bn")
    assert [f.label for f in problem.fixes] == ["Use a BatchNorm1d here instead"]
    fixed = apply_edits(fed, problem.fixes[0].edits)
    assert fixed.graph.nodes["bn"].type == "BatchNorm1d"
    assert fixed.graph.nodes["bn"].params == {"momentum": 0.2}
    assert not any(p.node == "bn" for p in analyze(fixed.graph).problems)


EDITS = st.one_of(
    st.builds(AddNode, id=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
              type=st.sampled_from(["ReLU", "Conv2d", "Linear"]),
              params=st.dictionaries(st.sampled_from(["out_channels", "kernel_size"]),
                                     st.integers(1, 9), max_size=2),
              position=st.none() | st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3))),
    st.builds(RemoveNode, id=st.text(min_size=1, max_size=5)),
    st.builds(ChangeType, node=st.text(min_size=1, max_size=5),
              type=st.sampled_from(["ReLU", "BatchNorm1d"])),
    st.builds(Connect, source=st.text(min_size=1, max_size=5),
              target=st.text(min_size=1, max_size=5), port=st.none() | st.integers(0, 3)),
    st.builds(SetSection, section=st.sampled_from(["dataset", "training"]),
              values=st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
              replace=st.booleans()),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(EDITS, max_size=4))
def test_every_edit_survives_its_json_form(edits):
    fix = Fix("label", tuple(edits))
    assert fix_from_json(fix_to_json(fix)) == fix


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.text(max_size=8),
                 st.dictionaries(st.sampled_from(["op", "id", "type", "params", "port",
                                                  "source", "target", "position", "x"]),
                                 st.one_of(st.none(), st.integers(-2, 3), st.text(max_size=6),
                                           st.lists(st.integers(), max_size=3),
                                           st.sampled_from(list(["add_node", "connect",
                                                                 "set_params"]))),
                                 max_size=5)))
def test_bad_json_is_an_edit_error_never_a_crash(data):
    try:
        edit = edit_from_json(data, "lesson.steps[0].show_me[0]")
    except EditError as exc:
        assert "lesson.steps[0].show_me[0]" in str(exc)
    else:
        assert edit_from_json(edit_to_json(edit)) == edit
