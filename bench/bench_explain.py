"""The explainer's per-element cost, against one forward pass of the same sample.

    python bench/bench_explain.py

A view slides the window across a map element by element, so explaining one element must
cost far less than running the network: the Explainer runs the forward pass once and then
reads its cache. The reference is ``model(x)`` for one sample, timed in the same run; the
ratio (explain / forward) is what counts on a shared machine.
"""
from __future__ import annotations

import numpy as np
import torch

from bench_inference import timed   # the same median timer (run from bench/ or the root)
from layerlab.engine import build_model
from layerlab.engine.explain import Explainer
from layerlab.engine.templates import load_template


def main() -> None:
    torch.set_num_threads(1)
    cases = {"digits_cnn": "conv2", "lenet5": "conv2", "shapes_cnn": "conv1",
             "keras_mnist": "conv2"}
    print(f"{'template':<13}{'node':<8}{'explain µs':>12}{'sweep/elem µs':>15}"
          f"{'forward µs':>12}{'explain/forward':>17}")
    for name, node in cases.items():
        project = load_template(name)
        torch.manual_seed(0)
        model = build_model(project.graph).eval()
        shape = tuple(project.graph.node(model.input_id).params["shape"])
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        xt = torch.as_tensor(x)[None]
        explainer = Explainer(model, project.graph, x)
        c, h, w = explainer.shape(node)
        index = (c // 2, h // 2, w // 2)
        explainer.explain(node, index)                      # memo the weights once
        with torch.no_grad():
            forward = timed(lambda: model(xt), 50)
        one = timed(lambda: explainer.explain(node, index), 200)
        sweep = timed(lambda: explainer.sweep(node, channel=0), 3) / (h * w)
        print(f"{name:<13}{node:<8}{one * 1e6:>12.0f}{sweep * 1e6:>15.0f}"
              f"{forward * 1e6:>12.0f}{one / forward:>17.2f}")


if __name__ == "__main__":
    main()
