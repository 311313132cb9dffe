"""engine/explain/saliency: Grad-CAM against an independent hook-based implementation, and
gradient saliency against torch.autograd directly."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from explain_helpers import chain, one_thread, sample  # noqa: F401
from layerlab.engine.explain import (ExplainError, grad_cam, gradient_saliency, saliency,
                                     saliency_batch, upsample)

NET = (("Conv2d", dict(out_channels=4, padding=1), "conv1"), ("ReLU", {}, "relu1"),
       ("MaxPool2d", {}, "pool1"), ("Conv2d", dict(out_channels=6, padding=1), "conv2"),
       ("BatchNorm2d", {}, "bn"), ("ReLU", {}, "relu2"), ("Flatten", {}, "flat"),
       ("Linear", dict(out_features=5), "fc"))


MAP_SIZE = {"conv1": (8, 8), "conv2": (4, 4), "relu2": (4, 4)}


def reference_grad_cam(model, layer: str, x: np.ndarray, target: int) -> np.ndarray:
    """Grad-CAM as the paper writes it, with module hooks (no forward_all): activations from a
    forward hook, their gradient from a full backward hook."""
    store = {}
    module = model.layers[layer]
    h1 = module.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    h2 = module.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
    try:
        inp = torch.as_tensor(x)[None].clone().requires_grad_(True)
        model.zero_grad()
        model(inp)[0, target].backward()
    finally:
        h1.remove()
        h2.remove()
        model.zero_grad(set_to_none=True)
    a, g = store["a"][0].detach(), store["g"][0]
    alpha = g.mean(dim=(1, 2))
    cam = torch.relu((alpha[:, None, None] * a).sum(0))
    return (cam / cam.max()).numpy() if cam.max() > 0 else cam.numpy()


@pytest.fixture(scope="module")
def net():
    return chain([2, 8, 8], *NET, seed=3)


@pytest.mark.parametrize("layer", ["conv2", "conv1", "relu2"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grad_cam_matches_a_hook_based_reference(net, layer, seed):
    graph, model = net
    x = sample((2, 8, 8), seed)
    for target in range(5):
        result = grad_cam(model, graph, x, node=layer, target=target)
        want = reference_grad_cam(model, layer, x, target)
        assert result.heatmap.shape == want.shape == MAP_SIZE[layer]
        np.testing.assert_allclose(result.heatmap, want, rtol=1e-4, atol=1e-6)
        assert result.target == target and result.node == layer
        if result.peak > 0:
            assert result.heatmap.max() == pytest.approx(1.0)


def test_grad_cam_defaults_to_the_last_conv_and_the_predicted_class(net):
    graph, model = net
    x = sample((2, 8, 8), 5)
    result = grad_cam(model, graph, x)
    with torch.no_grad():
        out = model(torch.as_tensor(x)[None])[0]
    assert result.node == "conv2" and result.heatmap.shape == (4, 4)
    assert result.target == result.predicted == int(out.argmax())
    np.testing.assert_allclose(result.outputs, out.numpy(), rtol=1e-6)
    assert result.score == pytest.approx(float(out.max()), rel=1e-6)
    np.testing.assert_allclose(result.heatmap, reference_grad_cam(model, "conv2", x,
                                                                  result.target),
                               rtol=1e-4, atol=1e-6)


def test_gradient_saliency_is_the_input_gradient_from_autograd(net):
    graph, model = net
    x = sample((2, 8, 8), 7)
    for target in (0, 3):
        inp = torch.as_tensor(x)[None].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(model(inp)[0, target], inp)
        want = grad[0].abs().amax(dim=0)
        want = (want / want.max()).numpy()
        result = gradient_saliency(model, graph, x, target=target)
        assert result.node is None and result.method == "gradient"
        np.testing.assert_allclose(result.heatmap, want, rtol=1e-5, atol=1e-7)


def test_a_batch_gives_what_each_input_gives_alone(net):
    graph, model = net
    xs = np.stack([sample((2, 8, 8), s) for s in range(7)])
    targets = [0, 1, 2, 3, 4, 0, 1]
    for method in ("gradcam", "gradient"):
        batch = saliency_batch(model, graph, xs, method, targets=targets, batch_size=3)
        assert [r.target for r in batch] == targets
        for x, t, r in zip(xs, targets, batch):
            alone = saliency(model, graph, x, method, target=t)
            np.testing.assert_allclose(r.heatmap, alone.heatmap, rtol=1e-4, atol=1e-6)
            np.testing.assert_array_equal(r.input, x)


def test_saliency_leaves_the_model_as_it_was(net):
    graph, model = net
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        grad_cam(model, graph, sample((2, 8, 8)))
        gradient_saliency(model, graph, sample((2, 8, 8)))
        assert model.training
        assert all(p.grad is None for p in model.parameters())
        for k, v in model.state_dict().items():   # BatchNorm statistics untouched
            assert torch.equal(v, before[k]), k
    finally:
        model.eval()


def test_a_network_ending_in_softmax_is_explained_from_its_logits():
    graph, model = chain([1, 6, 6], ("Conv2d", dict(out_channels=3), "conv"),
                         ("Flatten", {}, "flat"), ("Linear", dict(out_features=4), "fc"),
                         ("Softmax", {}, "soft"))
    x = sample((1, 6, 6))
    result = grad_cam(model, graph, x, target=2)
    assert result.score_node == "fc"
    with torch.no_grad():
        logits = model.forward_all(torch.as_tensor(x)[None])["fc"][0]
    assert result.score == pytest.approx(float(logits[2]), rel=1e-6)


def test_errors_say_what_to_do(net):
    graph, model = net
    x = sample((2, 8, 8))
    with pytest.raises(ExplainError, match="class 5 does not exist.*0 ≤ class < 5"):
        grad_cam(model, graph, x, target=5)
    with pytest.raises(ExplainError, match="fc's output is 5"):
        grad_cam(model, graph, x, node="fc")
    with pytest.raises(ExplainError, match="no node 'nope'"):
        grad_cam(model, graph, x, node="nope")
    with pytest.raises(ExplainError, match="unknown saliency method"):
        saliency(model, graph, x, "lime")
    with pytest.raises(ExplainError, match="batch of 2×8×8"):
        saliency_batch(model, graph, np.zeros((2, 1, 8, 8)))
    mlp_graph, mlp = chain([3], ("Linear", dict(out_features=4), "fc1"), ("ReLU", {}),
                           ("Linear", dict(out_features=1), "out"))
    with pytest.raises(ExplainError, match="no Conv2d.*gradient method"):
        grad_cam(mlp, mlp_graph, np.ones(3))
    features = gradient_saliency(mlp, mlp_graph, np.array([1.0, -2.0, 0.5]))
    assert features.heatmap.shape == (3,) and features.heatmap.max() == pytest.approx(1.0)


def test_upsample_stretches_a_map_over_the_input():
    heat = np.array([[0.0, 1.0], [0.5, 0.0]], dtype=np.float32)
    big = upsample(heat, (8, 8))
    assert big.shape == (8, 8) and big.max() <= 1.0
    assert big[0, 7] == pytest.approx(1.0) and big[7, 7] == pytest.approx(0.0)
