"""Graph edits refuse what can never work, with the reason."""
import pytest
import torch.nn as nn

from layerlab.engine import Edge, Graph, GraphEditError, Node, build_model
from layerlab.engine.graph import RESERVED_IDS


def test_reserved_ids_cover_every_torch_container_attribute():
    public = {n for n in dir(nn.ModuleDict()) if not n.startswith("_")}
    assert public <= RESERVED_IDS, "extend RESERVED_IDS: torch added " + str(public - RESERVED_IDS)


@pytest.mark.parametrize("bad", ["forward", "training", "keys", "9lives", "a.b", "", "x" * 65])
def test_bad_ids_are_refused_with_a_reason(bad):
    graph = Graph()
    with pytest.raises(GraphEditError) as info:
        graph.add_node(Node(bad, "ReLU"))
    assert "node" in str(info.value)
    assert bad not in graph.nodes


def test_rename_keeps_edges_and_refuses_reserved_names():
    graph = Graph([Node("input", "Input", {"shape": [4]}), Node("fc", "Linear")],
                  [Edge("input", "fc")])
    graph.rename_node("fc", "head")
    assert graph.edges == [Edge("input", "head")] and list(graph.nodes) == ["input", "head"]
    with pytest.raises(GraphEditError):
        graph.rename_node("head", "type")
    model = build_model(graph)
    assert set(model.layers.keys()) == {"input", "head"}


def test_edges_refuse_self_loops_duplicates_and_unknown_nodes():
    graph = Graph([Node("a", "ReLU"), Node("b", "ReLU")])
    graph.add_edge(Edge("a", "b"))
    for edge in (Edge("a", "a"), Edge("a", "b"), Edge("a", "zzz")):
        with pytest.raises(GraphEditError):
            graph.add_edge(edge)
    assert graph.edges == [Edge("a", "b")]


def test_unique_ids_and_remove_returns_what_undo_needs():
    graph = Graph([Node("conv1", "Conv2d"), Node("conv2", "Conv2d"), Node("x", "ReLU")],
                  [Edge("conv1", "x")])
    assert graph.unique_id("conv") == "conv3"
    node, edges = graph.remove_node("conv1")
    assert node.id == "conv1" and edges == [Edge("conv1", "x")] and graph.edges == []
    assert graph.unique_id("conv") == "conv1"
