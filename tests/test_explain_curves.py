"""engine/explain/curves: an activation's f and f′ over the inputs it really receives."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from explain_helpers import chain, one_thread, sample  # noqa: F401
from layerlab.engine.explain import ExplainError, activation_curve


def batch(n=12):
    return np.stack([sample((1, 6, 6), s) * 2 for s in range(n)])


@pytest.mark.parametrize("type_,derivative", [
    ("ReLU", lambda x, y: (x > 0).astype(float)),
    ("Tanh", lambda x, y: 1 - y ** 2),
    ("Sigmoid", lambda x, y: y * (1 - y)),
])
def test_the_curve_spans_the_inputs_seen_with_f_and_its_derivative(type_, derivative):
    graph, model = chain([1, 6, 6], ("Conv2d", dict(out_channels=3), "conv"), (type_, {}, "act"))
    xs = batch()
    curve = activation_curve(model, graph, "act", xs, points=101, bins=20)
    with torch.no_grad():
        seen = model.forward_all(torch.as_tensor(xs))["conv"].numpy().ravel()
    assert curve.low == pytest.approx(float(seen.min())) and curve.high == pytest.approx(
        float(seen.max()))
    assert curve.x[0] == pytest.approx(curve.low) and curve.x[-1] == pytest.approx(curve.high)
    assert len(curve.x) == 101 and curve.samples == 12
    with torch.no_grad():
        want_y = model.layers["act"](torch.as_tensor(curve.x, dtype=torch.float32)).double()
    np.testing.assert_allclose(curve.y, want_y.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(curve.dy, derivative(curve.x, curve.y), rtol=1e-4, atol=1e-6)
    assert curve.counts.sum() == seen.size and len(curve.edges) == 21
    assert curve.share_negative == pytest.approx(float((seen < 0).mean()))
    assert set(curve.to_json()) >= {"x", "y", "dy", "low", "high", "counts", "edges"}


def test_a_constant_input_still_gets_a_range_to_plot():
    graph, model = chain([4], ("ReLU", {}, "act"))
    curve = activation_curve(model, graph, "act", np.zeros((3, 4), dtype=np.float32))
    assert curve.low == curve.high == 0.0 and curve.x[0] < 0 < curve.x[-1]


def test_only_element_wise_activations_have_a_curve():
    graph, model = chain([4], ("Softmax", {}, "soft"), ("Linear", dict(out_features=2), "fc"))
    with pytest.raises(ExplainError, match="not an element-wise activation"):
        activation_curve(model, graph, "soft", np.zeros((2, 4)))
    with pytest.raises(ExplainError, match="no node 'relu'"):
        activation_curve(model, graph, "relu", np.zeros((2, 4)))
