"""Large graphs load, copy and build in time linear in their size (issue 13, defect 6: the
duplicate-edge checks made loading quadratic — 20k nodes took 16 s). Counted, not timed: the
number of Python function calls cProfile sees grows with the size, so a quadratic step shows
as four times the work for twice the nodes. bench/bench_load.py has the times."""
import json
import sys

import pytest

from layerlab.engine.graph import Edge, Graph, GraphEditError, Node
from layerlab.engine.project import ProjectLoadError, loads_project


def chain(nodes: int) -> dict:
    ids = ["input"] + [f"n{i}" for i in range(1, nodes)]
    data = [{"id": "input", "type": "Input", "params": {"shape": [4]}}]
    data += [{"id": n, "type": "Linear" if i % 2 else "ReLU",
              "params": {"out_features": 4} if i % 2 else {}}
             for i, n in enumerate(ids[1:], start=1)]
    return {"format": "layerlab", "version": 1, "nodes": data,
            "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])]}


def lines(fn) -> int:
    """Python lines executed by ``fn()`` (a loop body, a comprehension's test: each time)."""
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("step", ["load", "copy", "build"])
def test_loading_copying_and_building_are_linear(step):
    from layerlab.engine.builder import build_model
    counts = []
    for n in (1000, 2000):
        text = json.dumps(chain(n if n % 2 == 0 else n + 1))
        if step == "load":
            counts.append(lines(lambda: loads_project(text)))
            continue
        project = loads_project(text)
        if step == "copy":
            counts.append(lines(project.graph.copy))
        else:
            import torch
            with torch.device("meta"):  # no memory: only the builder's own work counts
                counts.append(lines(lambda: build_model(project.graph)))
    assert counts[1] / counts[0] < 2.5, counts   # quadratic would be ~4


def test_duplicate_edges_are_still_refused_on_load_and_edit():
    data = chain(4)
    data["edges"].append({"source": "input", "target": "n1"})
    with pytest.raises(ProjectLoadError, match=r"edges\[3\]: duplicate edge: 'input' already "
                                               r"feeds 'n1'"):
        loads_project(json.dumps(data))
    graph = loads_project(json.dumps(chain(4))).graph
    with pytest.raises(GraphEditError, match="already feeds"):
        graph.add_edge(Edge("n1", "n2", 1))   # another port is still the same connection
    with pytest.raises(GraphEditError, match="already feeds"):
        Graph([Node("a", "ReLU"), Node("b", "ReLU")], [Edge("a", "b"), Edge("a", "b")])


def test_the_edge_index_follows_every_way_the_list_is_changed():
    """The app edits ``graph.edges`` in place (insert/pop/del for undo): the duplicate check
    must see those changes too."""
    import copy
    import pickle
    graph = Graph([Node(n, "ReLU") for n in "abcd"])
    ab, bc, cd = Edge("a", "b"), Edge("b", "c"), Edge("c", "d")
    for e in (ab, bc, cd):
        graph.add_edge(e)
    del graph.edges[0]
    graph.add_edge(ab)                              # free again after del
    graph.edges.insert(0, graph.edges.pop())        # the app's re-insert at an index
    assert graph.edges == [ab, bc, cd]
    graph.edges.remove(bc)
    graph.add_edge(Edge("b", "c", 0))
    graph.edges[0] = Edge("a", "c")                 # replaced: a→b free, a→c taken
    graph.add_edge(Edge("a", "b"))
    with pytest.raises(GraphEditError):
        graph.add_edge(Edge("a", "c"))
    graph.edges = [cd]                              # reassigned, as remove_node does
    graph.add_edge(ab)
    for clone in (graph.copy().edges, copy.deepcopy(graph).edges, copy.copy(graph.edges),
                  pickle.loads(pickle.dumps(graph)).edges):
        assert clone == [cd, ab]
    twin = copy.deepcopy(graph)
    twin.edges.clear()
    twin.add_edge(ab)                               # the copy's index is its own
    with pytest.raises(GraphEditError):
        graph.add_edge(ab)
    graph.remove_node("a")
    assert graph.edges == [cd]
