"""The layered auto-layout (engine/layout.py): no overlaps, long chains wrap, branches sit
side by side, residual chains stay straight — on every template and on random graphs."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerlab.engine import Edge, Graph, Node, load_project
from layerlab.engine.compose import Composer
from layerlab.engine.layout import NODE_SIZE, RANK_GAP, VIEWPORT, layered_positions
from layerlab.engine.templates import list_templates, template_path

W, H = NODE_SIZE


def overlaps(positions: dict, size=NODE_SIZE) -> list[tuple[str, str]]:
    w, h = size
    items = sorted(positions.items(), key=lambda kv: kv[1])
    found = []
    for i, (a, (ax, ay)) in enumerate(items):
        for b, (bx, by) in items[i + 1:]:
            if bx >= ax + w:
                break
            if ax < bx + w and bx < ax + w and ay < by + h and by < ay + h:
                found.append((a, b))
    return found


def fitted_scale(positions: dict, viewport=VIEWPORT) -> float:
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    return min(viewport[0] / (max(xs) - min(xs) + W), viewport[1] / (max(ys) - min(ys) + H))


def chain(n: int) -> Graph:
    g = Composer()
    x = g.input([1, 8, 8])
    for _ in range(n - 1):
        x = g.layer("ReLU", x)
    return g.graph


TEMPLATES = [t.key for t in list_templates()]


@pytest.mark.parametrize("key", TEMPLATES)
def test_no_two_cards_overlap_on_any_template(key):
    graph = load_project(template_path(key)).graph
    positions = layered_positions(graph)
    assert set(positions) == set(graph.nodes)
    assert overlaps(positions) == []


@pytest.mark.parametrize("key", TEMPLATES)
def test_templates_store_the_layout(key):
    """resources/templates/generate.py lays the templates out with this layout."""
    graph = load_project(template_path(key)).graph
    stored = {n: tuple(node.position) for n, node in graph.nodes.items()}
    assert stored == layered_positions(graph)


def test_a_long_chain_wraps_into_rows_that_read_larger():
    graph = chain(30)
    positions = layered_positions(graph)
    rows = sorted({y for _, y in positions.values()})
    assert len(rows) > 1
    one_row = {n: (i * (W + RANK_GAP), 0.0) for i, n in enumerate(graph.nodes)}
    assert fitted_scale(positions) > 2 * fitted_scale(one_row)
    # reading order: each row runs left to right, and the next row starts below it
    order = list(graph.nodes)
    for a, b in zip(order, order[1:]):
        (ax, ay), (bx, by) = positions[a], positions[b]
        assert (by == ay and bx > ax) or (by > ay and bx < ax)


def test_rows_follow_the_viewport_shape():
    graph = chain(24)
    wide = layered_positions(graph, viewport=(2400.0, 300.0))
    tall = layered_positions(graph, viewport=(600.0, 1200.0))
    assert len({y for _, y in wide.values()}) < len({y for _, y in tall.values()})


def test_a_residual_chain_stays_straight_and_its_skip_keeps_a_lane():
    g = Composer()
    x = g.input([8, 16, 16])
    y = g.layer("Conv2d", x, id="c1", out_channels=8, kernel_size=3, padding=1)
    y = g.layer("BatchNorm2d", y, id="b1")
    y = g.layer("ReLU", y, id="r1")
    y = g.layer("Conv2d", y, id="c2", out_channels=8, kernel_size=3, padding=1)
    s = g.layer("Add", [y, x], id="add")
    g.layer("ReLU", s, id="out")
    positions = layered_positions(g.graph, viewport=(3000.0, 600.0))   # one row
    ys = {positions[n][1] for n in ("c1", "b1", "r1", "c2")}
    assert len(ys) == 1                        # the main line is one straight row
    assert overlaps(positions) == []


def test_parallel_branches_sit_side_by_side():
    g = Composer()
    x = g.input([8, 16, 16])
    a = g.layer("Conv2d", x, id="a", out_channels=4, kernel_size=1)
    b = g.layer("Conv2d", x, id="b", out_channels=4, kernel_size=3, padding=1)
    c = g.layer("MaxPool2d", x, id="c", kernel_size=3, stride=1, padding=1)
    g.layer("Concat", [a, b, c], id="cat")
    positions = layered_positions(g.graph)
    assert len({positions[n][0] for n in "abc"}) == 1          # one column
    ys = sorted(positions[n][1] for n in "abc")
    assert all(q - p >= H for p, q in zip(ys, ys[1:]))         # stacked, not overlapping
    assert min(ys) < positions["cat"][1] < max(ys)             # the merge sits between


@st.composite
def branchy_graphs(draw):
    n = draw(st.integers(1, 40))
    nodes = [Node(f"n{i}", "ReLU") for i in range(n)]
    edges = set()
    for j in range(1, n):
        for i in draw(st.lists(st.integers(0, j - 1), max_size=3, unique=True)):
            edges.add((i, j))
    if draw(st.booleans()) and n > 2:       # a cycle must not break the layout either
        edges.add((n - 1, 0))
    return Graph(nodes, [Edge(f"n{i}", f"n{j}", k) for k, (i, j) in enumerate(sorted(edges))])


@settings(max_examples=60, deadline=None)
@given(branchy_graphs(), st.sampled_from([(920.0, 490.0), (1600.0, 400.0), (500.0, 900.0)]))
def test_random_branchy_graphs_never_overlap(graph, viewport):
    positions = layered_positions(graph, viewport=viewport)
    assert set(positions) == set(graph.nodes)
    assert overlaps(positions) == []
    assert positions == layered_positions(graph, viewport=viewport)   # deterministic


def test_an_empty_graph_has_no_positions():
    assert layered_positions(Graph()) == {}
