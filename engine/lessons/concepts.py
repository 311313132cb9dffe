"""The concept tags lessons teach: the course's topics, declared once.

Every lesson lists the tags it teaches (``"concepts": ["convolution", "stride"]``); the loader
refuses unknown tags, ``layerlab lessons`` shows them, and a test checks that the bundled
lessons together cover every one.
"""
from __future__ import annotations

__all__ = ["CONCEPTS"]

#: tag → what it covers (shown in `layerlab lessons --concepts` and docs/lessons.md).
CONCEPTS: dict[str, str] = {
    "neuron": "weights, a bias and an activation; one sigmoid unit as a yes/no classifier",
    "layers": "input, hidden and output layers; fully connected (Linear) layers",
    "activation": "why a network needs a non-linearity: ReLU, sigmoid, tanh, SELU…",
    "forward": "the forward pass: values flowing from the input to the output",
    "loss": "measuring the error: mean squared error versus cross-entropy",
    "backprop": "gradients by the chain rule, and the weight update they drive",
    "learning-rate": "the step size: too high diverges, too low crawls",
    "batch-epoch": "batches (one update each) and epochs (one pass over the data)",
    "convolution": "filters, depth and shared weights: 3×256×256 with 64 filters of 3×3",
    "stride": "how far a filter moves between positions",
    "padding": "valid, same and zero padding around the border",
    "pooling": "max, average and L2-norm pooling: smaller maps, no weights",
    "flatten": "unrolling a C×H×W map into one vector: 5×7×7 → 245",
    "softmax": "turning scores into probabilities that add up to 1",
    "metrics": "accuracy, precision, recall and F1 from the confusion matrix",
    "overfitting": "learning the training set by heart: the train/validation gap",
    "regularization": "L1, L2 (weight decay) and dropout against overfitting",
    "normalization": "scaling the inputs, and batch normalization inside the network",
    "tabular": "tables of numbers: an MLP for house prices, a pass/fail classifier",
    "architectures": "from LeNet to AlexNet: depth, scale and ImageNet",
}
