"""Shape inference speed: LayerLab's analyze() against torch's own shape propagation.

    python bench/bench_inference.py

The reference is what torch would do to learn the same shapes: build the modules on the
'meta' device (no memory, no compute) and run a meta tensor through them. The editor calls
analyze() on every edit, so it must stay far below a frame (16 ms) even on large graphs.
"""
from __future__ import annotations

import statistics
import time

import torch

from layerlab.engine import analyze, build_model
from layerlab.engine.compose import Composer
from layerlab.engine.templates import load_template


def densenet_like(blocks: int = 4, layers_per_block: int = 12) -> Composer:
    """A DenseNet-style graph: every layer of a block concatenates all earlier outputs."""
    g = Composer()
    x = g.input([3, 64, 64])
    x = g.layer("Conv2d", x, out_channels=32, kernel_size=3, padding=1)
    for b in range(blocks):
        features = [x]
        for _ in range(layers_per_block):
            inp = features[0] if len(features) == 1 else g.layer("Concat", features)
            y = g.layer("BatchNorm2d", inp)
            y = g.layer("ReLU", y)
            y = g.layer("Conv2d", y, out_channels=12, kernel_size=3, padding=1)
            features.append(y)
        x = g.layer("Concat", features)
        if b < blocks - 1:
            x = g.layer("Conv2d", x, out_channels=64, kernel_size=1)
            x = g.layer("AvgPool2d", x, kernel_size=2)
    x = g.layer("AdaptiveAvgPool2d", x, output_size=1)
    x = g.layer("Flatten", x)
    g.layer("Linear", x, out_features=10)
    return g


def timed(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    cases = {"resnet18": load_template("resnet18").graph,
             "vgg16": load_template("vgg16").graph,
             "densenet_like": densenet_like().graph}
    print(f"{'graph':<15}{'nodes':>7}{'analyze ms':>12}{'torch meta ms':>15}{'ratio':>8}")
    for name, graph in cases.items():
        analysis = analyze(graph)
        assert analysis.ok, analysis.messages()
        shape = analysis.nodes[analysis.input_node].output_shape
        ours = timed(lambda: analyze(graph), 20)

        def torch_shapes():
            with torch.device("meta"):
                model = build_model(graph, analysis)
                model.forward_all(torch.empty((1,) + shape))
        reference = timed(torch_shapes, 5)
        print(f"{name:<15}{len(graph):>7}{ours * 1e3:>12.2f}{reference * 1e3:>15.1f}"
              f"{ours / reference:>8.3f}")


if __name__ == "__main__":
    main()
