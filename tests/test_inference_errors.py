"""Inference reports plain-words problems, once, where they happen; it never raises."""
from layerlab.engine import Edge, Graph, Node, analyze
from layerlab.engine.compose import Composer


def chain(*layers, shape=(1, 28, 28)):
    g = Composer()
    x = g.input(list(shape))
    for type_name, node_id, params in layers:
        x = g.layer(type_name, x, id=node_id, **params)
    return g.graph


def messages(graph):
    return analyze(graph).messages()


def test_kernel_larger_than_input_names_node_and_sizes():
    g = chain(("Conv2d", "conv3", {"kernel_size": 5}), shape=(1, 3, 3))
    assert messages(g) == ["conv3: its 5×5 kernel is larger than its 3×3 input — use a kernel "
                           "of at most 3×3, or pad the input"]


def test_linear_after_image_asks_for_flatten():
    g = chain(("Conv2d", "conv1", {"out_channels": 64, "kernel_size": 3}),
              ("Linear", "fc1", {"out_features": 10}), shape=(3, 7, 7))
    assert messages(g) == ["fc1 receives 64×5×5 — insert a Flatten before it"]


def test_add_with_different_inputs():
    g = Composer()
    x = g.input([3, 28, 28])
    a = g.layer("Conv2d", x, id="a", out_channels=64, kernel_size=3, padding=1)
    b = g.layer("Conv2d", x, id="b", out_channels=32, kernel_size=3, padding=1)
    g.layer("Add", [a, b], id="add1")
    (msg,) = messages(g.graph)
    assert msg.startswith("add1: inputs 64×28×28 and 32×28×28 differ")


def test_cycle_is_named_in_order():
    graph = Graph([Node("input", "Input", {"shape": [4]}), Node("a", "Linear"),
                   Node("b", "Linear"), Node("out", "Linear")])
    for s, t in (("a", "b"), ("b", "a"), ("b", "out")):
        graph.add_edge(Edge(s, t))
    analysis = analyze(graph)
    assert "the graph has a cycle through a → b → a" in analysis.messages()
    assert analysis.nodes["out"].status == "unknown"  # downstream of the cycle, not blamed


def test_no_input_and_empty_graph():
    assert messages(Graph()) == ["the graph is empty — drag an Input node onto the canvas"]
    graph = Graph([Node("fc", "Linear")])
    analysis = analyze(graph)
    assert [p.message for p in analysis.problems] == ["no Input node — every graph starts with one"]
    assert analysis.nodes["fc"].status == "unconnected"         # not an error of its own
    assert "fc has no input yet — wire a layer's output into it, or delete it" in \
        analysis.messages()


def test_two_ends():
    g = Composer()
    x = g.input([1, 28, 28])
    c = g.layer("Conv2d", x, id="conv1", kernel_size=3)
    g.layer("MaxPool2d", c, id="pool2")
    f = g.layer("Flatten", c, id="flat")
    g.layer("Linear", f, id="fc3")
    assert messages(g.graph) == ["the graph has two ends (pool2, fc3): training needs exactly "
                                 "one — connect or delete the others"]


def test_downstream_of_an_error_is_unknown_not_an_error():
    g = chain(("Conv2d", "conv1", {"kernel_size": 9}), ("ReLU", "relu1", {}),
              ("Flatten", "flat", {}), ("Linear", "fc", {}), shape=(1, 4, 4))
    analysis = analyze(g)
    assert [p.node for p in analysis.problems] == ["conv1"]
    assert analysis.nodes["conv1"].status == "error"
    assert {analysis.nodes[n].status for n in ("relu1", "flat", "fc")} == {"unknown"}
    assert analysis.nodes["fc"].output_shape is None


def test_bad_parameter_is_reported_on_the_node():
    g = chain(("Conv2d", "conv1", {"kernel_size": 0}))
    (msg,) = messages(g)
    assert msg == "conv1: kernel_size must be at least 1 (got 0)"
    g = chain(("Conv2d", "conv1", {"kernel": 3}))
    assert "conv1: Conv2d has no parameter 'kernel'" in messages(g)[0]


def test_arity_errors():
    g = Composer()
    x = g.input([8])
    a = g.layer("Linear", x, id="a")
    b = g.layer("Linear", x, id="b")
    g.layer("ReLU", [a, b], id="relu")
    assert messages(g.graph) == ["relu: a ReLU takes one input but receives 2 (a, b) — merge "
                                 "them with an Add or Concat first"]
    g = Composer()
    x = g.input([8])
    g.layer("Add", [x], id="add")
    assert messages(g.graph) == ["add: a Add needs at least 2 inputs (it has 1)"]


def test_conv_rules():
    assert messages(chain(("Conv2d", "c", {"groups": 2, "out_channels": 4}),
                          shape=(3, 8, 8)))[0].startswith(
        "c: its 3 input channels cannot be split into 2 groups")
    assert "needs stride 1" in messages(chain(("Conv2d", "c", {"padding": "same",
                                                                "stride": 2})))[0]
    assert messages(chain(("Conv2d", "conv1", {"padding": "same", "kernel_size": 4}),
                          ("Flatten", "f", {}), ("Linear", "fc", {}))) == []
    assert "Conv2d needs a channels×height×width image" in messages(
        chain(("Conv2d", "conv1", {}), shape=(10,)))[0]


def test_pool_padding_limit_and_tiny_output():
    msg = messages(chain(("MaxPool2d", "p", {"kernel_size": 2, "padding": 2})))[0]
    assert msg.startswith("p: padding 2×2 is more than half the 2×2 window")
    msg = messages(chain(("MaxPool2d", "p", {"kernel_size": 4}), shape=(1, 2, 2)))[0]
    assert msg.startswith("p: its 4×4 window is larger than its 2×2 input")


def test_batchnorm_kinds():
    assert "use BatchNorm2d" in messages(chain(("BatchNorm1d", "bn", {})))[0]
    assert "use BatchNorm1d" in messages(chain(("BatchNorm2d", "bn", {}), shape=(5,)))[0]


def test_concat_orders_and_checks_inputs():
    g = Composer()
    x = g.input([3, 16, 16])
    a = g.layer("Conv2d", x, id="a", out_channels=4, kernel_size=3, padding=1)
    b = g.layer("Conv2d", x, id="b", out_channels=6, kernel_size=3, stride=2, padding=1)
    g.layer("Concat", [a, b], id="cat")
    (msg,) = messages(g.graph)
    assert msg.startswith("cat: inputs 4×16×16 and 6×8×8 cannot be joined")


def test_analysis_never_raises_on_garbage_params():
    graph = Graph([Node("input", "Input", {"shape": "big"}), Node("x", "NoSuchLayer")])
    graph.add_edge(Edge("input", "x"))
    analysis = analyze(graph)
    assert any("shape must be" in m for m in analysis.messages())
    assert "x: unknown layer type 'NoSuchLayer'" in analysis.messages()


# --- layers not connected yet: neutral, not problems, but not buildable ---------------------

def test_a_freshly_dropped_layer_is_not_a_problem():
    g = chain(("Conv2d", "conv1", {}), ("ReLU", "relu1", {}))
    g.add_node(Node("fc9", "Linear"))                 # dropped, not wired
    analysis = analyze(g)
    assert analysis.problems == []                    # not an error, not a second "end"
    assert analysis.nodes["fc9"].status == "unconnected"
    assert analysis.unconnected == ["fc9"]
    assert analysis.output_node == "relu1"
    assert not analysis.ok                            # …but the graph cannot train yet
    assert analysis.messages() == [
        "fc9 has no input yet — wire a layer's output into it, or delete it"]


def test_a_loose_chain_hanging_off_an_unwired_layer_is_not_an_end_either():
    g = chain(("Conv2d", "conv1", {}))
    g.add_node(Node("bn9", "BatchNorm2d"))
    g.add_node(Node("relu9", "ReLU"))
    g.add_edge(Edge("bn9", "relu9"))
    analysis = analyze(g)
    assert analysis.problems == []
    assert analysis.nodes["relu9"].status == "unknown"
    assert analysis.unconnected == ["bn9"]


def test_the_builder_refuses_loose_layers_with_a_clear_message():
    import pytest
    from layerlab.engine import build_model
    from layerlab.engine.builder import GraphError
    g = chain(("Flatten", "flat", {}), ("Linear", "fc", {}))
    g.add_node(Node("fc9", "Linear"))
    with pytest.raises(GraphError, match="fc9 has no input yet"):
        build_model(g)


# --- one-click fixes: every remedy a message names, checked to clear the error ---------------

def fixes_of(graph, node=None):
    analysis = analyze(graph)
    (problem,) = [p for p in analysis.problems if node is None or p.node == node]
    return problem.fixes


def applied(graph, fix):
    from layerlab.engine.edits import apply_edits
    from layerlab.engine.graph import Project
    return apply_edits(Project(graph), fix.edits).graph


def test_linear_after_a_conv_offers_to_insert_a_flatten():
    g = chain(("Conv2d", "conv1", {"out_channels": 64, "kernel_size": 3}),
              ("Linear", "fc1", {"out_features": 10}), shape=(3, 7, 7))
    (fix,) = fixes_of(g)
    assert fix.label == "Insert a Flatten before fc1"
    fixed = applied(g, fix)
    analysis = analyze(fixed)
    assert analysis.ok
    assert analysis.nodes["flatten1"].output_shape == (64 * 5 * 5,)
    assert [e.source for e in fixed.incoming("fc1")] == ["flatten1"]


def test_kernel_larger_than_the_input_offers_a_smaller_kernel_or_padding():
    g = chain(("Conv2d", "conv1", {"kernel_size": 5}), shape=(1, 3, 3))
    labels = [f.label for f in fixes_of(g)]
    assert labels == ["Set kernel_size to 3×3", "Set padding to 1"]
    for fix in fixes_of(g):
        assert analyze(applied(g, fix)).ok, fix.label


def test_pool_window_and_padding_fixes():
    g = chain(("MaxPool2d", "pool", {"kernel_size": 4}), shape=(1, 2, 2))
    (fix,) = fixes_of(g)
    assert fix.label == "Set kernel_size to 2×2" and analyze(applied(g, fix)).ok
    g = chain(("MaxPool2d", "pool", {"kernel_size": 2, "padding": 2}))
    (fix,) = fixes_of(g)
    assert fix.label == "Set padding to 1" and analyze(applied(g, fix)).ok


def test_same_padding_with_stride_offers_a_number_or_stride_one():
    g = chain(("Conv2d", "conv1", {"kernel_size": 5, "padding": "same", "stride": 2}))
    labels = [f.label for f in fixes_of(g)]
    assert labels == ["Set padding to 2", "Set stride to 1"]
    assert all(analyze(applied(g, f)).ok for f in fixes_of(g))


def test_groups_that_do_not_divide_offer_groups_one():
    g = chain(("Conv2d", "conv1", {"groups": 2}), shape=(3, 8, 8))
    (fix,) = fixes_of(g)
    assert fix.label == "Set groups to 1" and analyze(applied(g, fix)).ok


def test_add_of_different_channels_offers_a_matching_1x1_conv():
    g = Composer()
    x = g.input([3, 28, 28])
    a = g.layer("Conv2d", x, id="a", out_channels=64, kernel_size=3, stride=2, padding=1)
    b = g.layer("Conv2d", x, id="b", out_channels=32, kernel_size=3, padding=1)
    g.layer("Add", [a, b], id="add1")
    (fix,) = fixes_of(g.graph)
    assert fix.label == "Insert a 1×1 Conv2d (64 filters, stride 2) on input 2"
    analysis = analyze(applied(g.graph, fix))
    assert analysis.ok and analysis.nodes["add1"].output_shape == (64, 14, 14)


def test_two_inputs_into_a_single_input_layer_offer_a_merge():
    g = Composer()
    x = g.input([16])
    a = g.layer("Linear", x, id="a", out_features=8)
    b = g.layer("Linear", x, id="b", out_features=8)
    g.layer("ReLU", [a, b], id="relu")
    fixes = fixes_of(g.graph)
    assert [f.label for f in fixes] == ["Merge a, b with an Add before relu",
                                        "Merge a, b with a Concat before relu"]
    concat = applied(g.graph, fixes[1])
    assert analyze(concat).nodes["relu"].output_shape == (16,)


def test_a_fix_that_would_not_clear_the_error_is_not_offered():
    g = Composer()
    x = g.input([16])
    a = g.layer("Linear", x, id="a", out_features=8)
    b = g.layer("Linear", x, id="b", out_features=4)
    g.layer("ReLU", [a, b], id="relu")
    assert [f.label for f in fixes_of(g.graph)] == ["Merge a, b with a Concat before relu"]


def test_wires_into_an_input_cycles_and_bad_parameters_have_fixes():
    graph = Graph([Node("input", "Input", {"shape": [4]}), Node("a", "Linear"),
                   Node("b", "Linear")])
    for s, t in (("input", "a"), ("a", "b"), ("b", "a")):
        graph.add_edge(Edge(s, t))
    (fix,) = fixes_of(graph)
    assert fix.label == "Remove the wire b → a"
    g = chain(("Conv2d", "conv1", {"kernel_size": 0}))
    assert [f.label for f in fixes_of(g)] == ["Reset kernel_size to its default (3)"]
    g = chain(("Conv2d", "conv1", {"kernel_size": 0, "colour": 3}))
    (fix,) = fixes_of(g)
    assert fix.label == "Reset kernel_size, colour to their defaults"
    assert analyze(applied(g, fix)).ok
    graph = Graph([Node("fc", "Linear")])
    (fix,) = fixes_of(graph)
    assert fix.label == "Add an Input feeding fc"
    after = analyze(applied(graph, fix))
    assert after.input_node == "input1" and after.nodes["fc"].status != "unconnected"


def test_batchnorm2d_or_a_flatten_for_batchnorm1d_on_an_image():
    g = chain(("BatchNorm1d", "bn", {}))
    use, flatten = fixes_of(g)
    assert use.label == "Use a BatchNorm2d here instead" and analyze(applied(g, use)).ok
    assert flatten.label == "Insert a Flatten before bn" and analyze(applied(g, flatten)).ok


def test_a_fix_is_offered_even_when_the_next_mistake_shows_after_it():
    """Fixing the kernel reveals that fc1 needs a Flatten: the fix still clears conv1."""
    g = chain(("Conv2d", "conv1", {"out_channels": 8, "kernel_size": 9}),
              ("Linear", "fc1", {}), shape=(1, 8, 8))
    labels = [f.label for f in fixes_of(g, "conv1")]
    assert labels == ["Set kernel_size to 8×8", "Set padding to 1"]
    after = analyze(applied(g, fixes_of(g, "conv1")[0]))
    (problem,) = after.problems
    assert problem.node == "fc1" and problem.fixes[0].label == "Insert a Flatten before fc1"
