"""Regenerate the bundled template files: ``python resources/templates/generate.py``.

The JSON files are what ships; this script is how they were written, so a change to a
template is a reviewed change here. The reference parameter counts are checked by
tests/test_templates.py.
"""
from __future__ import annotations

from pathlib import Path

from layerlab.engine.compose import Composer
from layerlab.engine.project import save_project

HERE = Path(__file__).resolve().parent


def seeds_example():
    g = Composer()
    x = g.input([3, 256, 256])
    x = g.layer("Conv2d", x, id="conv1", out_channels=64, kernel_size=3, stride=1)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("LPPool2d", x, id="l2pool1", norm_type=2.0, kernel_size=2)
    x = g.layer("Conv2d", x, id="conv2", out_channels=5, kernel_size=3, stride=2)
    x = g.layer("ReLU", x, id="relu2")
    x = g.layer("MaxPool2d", x, id="pool2", kernel_size=9)
    x = g.layer("Flatten", x, id="flatten")
    g.layer("Linear", x, id="fc", out_features=10)
    return g.project(
        "Worked example (3×256×256)",
        "The course's worked example: 64 3×3 filters on a 3×256×256 image give 64×254×254 and "
        "1,792 parameters (28 per filter); L2-norm pooling; flattening 5×7×7 gives 245 features.",
        # Ten generated shape classes at the example's own size, 25 of each: the 10 outputs
        # stay the course's, and the set stays at 200 MB.
        dataset={"kind": "shapes", "size": 256, "channels": 3, "classes": 10, "count": 250},
        training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.001, "batch_size": 16,
                  "epochs": 10, "seed": 0})


def lenet5():
    g = Composer()
    x = g.input([1, 32, 32])
    x = g.layer("Conv2d", x, id="conv1", out_channels=6, kernel_size=5)
    x = g.layer("Tanh", x, id="tanh1")
    x = g.layer("AvgPool2d", x, id="pool1", kernel_size=2)
    x = g.layer("Conv2d", x, id="conv2", out_channels=16, kernel_size=5)
    x = g.layer("Tanh", x, id="tanh2")
    x = g.layer("AvgPool2d", x, id="pool2", kernel_size=2)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=120)
    x = g.layer("Tanh", x, id="tanh3")
    x = g.layer("Linear", x, id="fc2", out_features=84)
    x = g.layer("Tanh", x, id="tanh4")
    g.layer("Linear", x, id="fc3", out_features=10)
    return g.project("LeNet-5", "LeCun et al. 1998 on 1×32×32 images: 61,706 parameters.",
                     dataset={"kind": "digits", "size": 32},
                     training={"loss": "cross_entropy", "optimizer": "sgd", "lr": 0.01,
                               "momentum": 0.9, "batch_size": 64, "epochs": 10, "seed": 0})


def keras_mnist():
    g = Composer()
    x = g.input([1, 28, 28])
    x = g.layer("Conv2d", x, id="conv1", out_channels=32, kernel_size=3)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("MaxPool2d", x, id="pool1", kernel_size=2)
    x = g.layer("Conv2d", x, id="conv2", out_channels=64, kernel_size=3)
    x = g.layer("ReLU", x, id="relu2")
    x = g.layer("MaxPool2d", x, id="pool2", kernel_size=2)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Dropout", x, id="dropout", p=0.5)
    g.layer("Linear", x, id="fc", out_features=10)
    return g.project("Keras MNIST convnet",
                     "The Keras 'simple MNIST convnet' example on 1×28×28: 34,826 parameters.",
                     dataset={"kind": "digits", "size": 28},
                     # The Keras example's settings: Adam, batch 128, 15 epochs.
                     training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.001,
                               "batch_size": 128, "epochs": 15, "seed": 0})


def alexnet():
    g = Composer()
    x = g.input([3, 224, 224])
    x = g.layer("Conv2d", x, id="conv1", out_channels=64, kernel_size=11, stride=4, padding=2)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("MaxPool2d", x, id="pool1", kernel_size=3, stride=2)
    x = g.layer("Conv2d", x, id="conv2", out_channels=192, kernel_size=5, padding=2)
    x = g.layer("ReLU", x, id="relu2")
    x = g.layer("MaxPool2d", x, id="pool2", kernel_size=3, stride=2)
    x = g.layer("Conv2d", x, id="conv3", out_channels=384, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu3")
    x = g.layer("Conv2d", x, id="conv4", out_channels=256, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu4")
    x = g.layer("Conv2d", x, id="conv5", out_channels=256, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu5")
    x = g.layer("MaxPool2d", x, id="pool5", kernel_size=3, stride=2)
    x = g.layer("AdaptiveAvgPool2d", x, id="avgpool", output_size=6)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Dropout", x, id="drop1", p=0.5)
    x = g.layer("Linear", x, id="fc1", out_features=4096)
    x = g.layer("ReLU", x, id="relu6")
    x = g.layer("Dropout", x, id="drop2", p=0.5)
    x = g.layer("Linear", x, id="fc2", out_features=4096)
    x = g.layer("ReLU", x, id="relu7")
    g.layer("Linear", x, id="fc3", out_features=1000)
    return g.project("AlexNet", "torchvision's AlexNet on 3×224×224: 61,100,840 parameters. "
                                + _IMAGENET_DATA_NOTE,
                     dataset=dict(_IMAGENET_SIZED_SHAPES), training=_imagenet_sgd(0.01, 5e-4))


#: The ImageNet-sized templates keep their 1,000-way heads (the reference figures) and train
#: on generated images at their own input size with as many classes: three shapes side by
#: side. 240 images keep an epoch to minutes on a laptop CPU and the set to 145 MB; with fewer
#: images than classes nothing is learned (the loss stays near ln 1000 ≈ 6.9 over two epochs),
#: and the description and the trainer's note say so.
_IMAGENET_SIZED_SHAPES = {"kind": "shapes", "size": 224, "channels": 3, "classes": 1000,
                          "count": 240}
_IMAGENET_DATA_NOTE = (
    "On a laptop it trains on 240 generated 224×224 images of 1,000 classes (three shapes side "
    "by side): enough to see what an epoch of a full-size network costs and its filters and "
    "feature maps, far too few to learn 1,000 classes — ImageNet has 1.28 million images.")


def _imagenet_sgd(lr, weight_decay):
    # The papers' optimizer: SGD with momentum 0.9 and weight decay (ImageNet runs take 90
    # epochs, dividing the learning rate by 10 every 30). Two epochs here: each one on the
    # generated set already takes minutes on a laptop CPU.
    return {"loss": "cross_entropy", "optimizer": "sgd", "lr": lr, "momentum": 0.9,
            "weight_decay": weight_decay, "batch_size": 32, "epochs": 2, "seed": 0}


def vgg16():
    g = Composer()
    x = g.input([3, 224, 224])
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
           512, 512, 512, "M"]
    block, conv = 1, 1
    for v in cfg:
        if v == "M":
            x = g.layer("MaxPool2d", x, id=f"pool{block}", kernel_size=2, stride=2)
            block, conv = block + 1, 1
        else:
            x = g.layer("Conv2d", x, id=f"conv{block}_{conv}", out_channels=v, kernel_size=3,
                        padding=1)
            x = g.layer("ReLU", x, id=f"relu{block}_{conv}")
            conv += 1
    x = g.layer("AdaptiveAvgPool2d", x, id="avgpool", output_size=7)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=4096)
    x = g.layer("ReLU", x, id="relu_fc1")
    x = g.layer("Dropout", x, id="drop1", p=0.5)
    x = g.layer("Linear", x, id="fc2", out_features=4096)
    x = g.layer("ReLU", x, id="relu_fc2")
    x = g.layer("Dropout", x, id="drop2", p=0.5)
    g.layer("Linear", x, id="fc3", out_features=1000)
    return g.project("VGG-16", "Simonyan & Zisserman's VGG-16 (torchvision) on 3×224×224: "
                               "138,357,544 parameters. " + _IMAGENET_DATA_NOTE,
                     dataset=dict(_IMAGENET_SIZED_SHAPES), training=_imagenet_sgd(0.01, 5e-4))


def _basic_block(g, x, name, c_in, c_out, stride):
    """ResNet's basic block: two 3×3 convolutions with BatchNorm, added to the block's input
    (through a 1×1 projection where the shape changes), then ReLU."""
    y = g.layer("Conv2d", x, id=f"{name}_conv1", out_channels=c_out, kernel_size=3,
                stride=stride, padding=1, bias=False)
    y = g.layer("BatchNorm2d", y, id=f"{name}_bn1")
    y = g.layer("ReLU", y, id=f"{name}_relu1")
    y = g.layer("Conv2d", y, id=f"{name}_conv2", out_channels=c_out, kernel_size=3, padding=1,
                bias=False)
    y = g.layer("BatchNorm2d", y, id=f"{name}_bn2")
    shortcut = x
    if stride != 1 or c_in != c_out:
        shortcut = g.layer("Conv2d", x, id=f"{name}_down", out_channels=c_out, kernel_size=1,
                           stride=stride, bias=False)
        shortcut = g.layer("BatchNorm2d", shortcut, id=f"{name}_down_bn")
    x = g.layer("Add", [y, shortcut], id=f"{name}_add")
    return g.layer("ReLU", x, id=f"{name}_relu2")


def resnet18():
    g = Composer()
    x = g.input([3, 224, 224])
    x = g.layer("Conv2d", x, id="conv1", out_channels=64, kernel_size=7, stride=2, padding=3,
                bias=False)
    x = g.layer("BatchNorm2d", x, id="bn1")
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("MaxPool2d", x, id="maxpool", kernel_size=3, stride=2, padding=1)
    channels = 64
    for stage, out_c in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            x = _basic_block(g, x, f"l{stage}b{block}", channels, out_c, stride)
            channels = out_c
    x = g.layer("AdaptiveAvgPool2d", x, id="avgpool", output_size=1)
    x = g.layer("Flatten", x, id="flatten")
    g.layer("Linear", x, id="fc", out_features=1000)
    return g.project("ResNet-18", "He et al.'s ResNet-18 (torchvision) on 3×224×224, with "
                                  "BatchNorm and residual Add branches: 11,689,512 parameters. "
                                  + _IMAGENET_DATA_NOTE,
                     dataset=dict(_IMAGENET_SIZED_SHAPES),
                     training={**_imagenet_sgd(0.1, 1e-4), "schedule": "cosine"})


def house_mlp():
    g = Composer()
    x = g.input([3])
    x = g.layer("Linear", x, id="fc1", out_features=16)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("Linear", x, id="fc2", out_features=16)
    x = g.layer("ReLU", x, id="relu2")
    g.layer("Linear", x, id="price", out_features=1)
    return g.project(
        "House prices (MLP regression)",
        "A small multilayer perceptron predicting a house's price from its size, stories and "
        "distance to school — tabular regression.",
        dataset={"kind": "csv", "path": "resources:data/house_prices.csv", "target": "price",
                 "task": "regression"},
        training={"loss": "mse", "optimizer": "adam", "lr": 0.01, "batch_size": 32,
                  "epochs": 150, "seed": 0})


def digits_cnn():
    g = Composer()
    x = g.input([1, 8, 8])
    x = g.layer("Conv2d", x, id="conv1", out_channels=16, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("MaxPool2d", x, id="pool1", kernel_size=2)
    x = g.layer("Conv2d", x, id="conv2", out_channels=32, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu2")
    x = g.layer("MaxPool2d", x, id="pool2", kernel_size=2)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=64)
    x = g.layer("ReLU", x, id="relu3")
    x = g.layer("Dropout", x, id="dropout", p=0.25)
    g.layer("Linear", x, id="fc2", out_features=10)
    return g.project("Digits CNN (8×8)",
                     "A small CNN for scikit-learn's bundled 8×8 handwritten digits: trains to "
                     "over 95 % validation accuracy in seconds on a laptop CPU.",
                     dataset={"kind": "digits"},
                     # ≥ 95 % validation accuracy in ~450 steps: a few seconds on two cores
                     # (tests/test_training_digits.py holds it to that).
                     training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.003,
                               "batch_size": 32, "epochs": 10, "seed": 0})


def shapes_cnn():
    g = Composer()
    x = g.input([3, 28, 28])
    x = g.layer("Conv2d", x, id="conv1", out_channels=8, kernel_size=5, padding=2)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("MaxPool2d", x, id="pool1", kernel_size=2)
    x = g.layer("Conv2d", x, id="conv2", out_channels=16, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu2")
    x = g.layer("MaxPool2d", x, id="pool2", kernel_size=2)
    x = g.layer("Flatten", x, id="flatten")
    g.layer("Linear", x, id="fc", out_features=6)
    return g.project("Shapes CNN (color)",
                     "Circles, squares, triangles and bars in color: watch the first layer's "
                     "5×5 filters turn into edge and color detectors.",
                     dataset={"kind": "shapes", "size": 28, "channels": 3, "count": 3000},
                     training={"optimizer": "adam", "lr": 0.003, "batch_size": 32,
                               "epochs": 5, "seed": 0})


# --- modern mobile blocks on 32×32 colour shapes (issue 14) ---------------------------------------

#: 3,000 generated 32×32 colour shapes: both modern templates train on them in well under a
#: minute on a laptop CPU.
_COLOR_SHAPES_32 = {"kind": "shapes", "size": 32, "channels": 3, "count": 3000}


def _inverted_residual(g, x, name, c_in, c_out, stride, expand):
    """MobileNetV2's block: 1×1 expand → 3×3 depthwise → 1×1 linear projection (+ skip)."""
    hidden = c_in * expand
    y = x
    if expand != 1:
        y = g.layer("Conv2d", y, id=f"{name}_expand", out_channels=hidden, kernel_size=1,
                    bias=False)
        y = g.layer("BatchNorm2d", y, id=f"{name}_expand_bn")
        y = g.layer("ReLU6", y, id=f"{name}_expand_relu")
    y = g.layer("Conv2d", y, id=f"{name}_dw", out_channels=hidden, kernel_size=3, stride=stride,
                padding=1, groups=hidden, bias=False)
    y = g.layer("BatchNorm2d", y, id=f"{name}_dw_bn")
    y = g.layer("ReLU6", y, id=f"{name}_dw_relu")
    y = g.layer("Conv2d", y, id=f"{name}_project", out_channels=c_out, kernel_size=1,
                bias=False)
    y = g.layer("BatchNorm2d", y, id=f"{name}_project_bn")
    if stride == 1 and c_in == c_out:
        y = g.layer("Add", [y, x], id=f"{name}_add")
    return y


def mobilenet_v2_shapes():
    g = Composer()
    x = g.input([3, 32, 32])
    x = g.layer("Conv2d", x, id="stem", out_channels=16, kernel_size=3, stride=2, padding=1,
                bias=False)
    x = g.layer("BatchNorm2d", x, id="stem_bn")
    x = g.layer("ReLU6", x, id="stem_relu")
    for name, c_in, c_out, stride, expand in (("block1", 16, 16, 1, 1), ("block2", 16, 24, 2, 4),
                                              ("block3", 24, 24, 1, 4), ("block4", 24, 32, 2, 4)):
        x = _inverted_residual(g, x, name, c_in, c_out, stride, expand)
    x = g.layer("Conv2d", x, id="head", out_channels=64, kernel_size=1, bias=False)
    x = g.layer("BatchNorm2d", x, id="head_bn")
    x = g.layer("ReLU6", x, id="head_relu")
    x = g.layer("AdaptiveAvgPool2d", x, id="avgpool", output_size=1)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Dropout", x, id="dropout", p=0.2)
    g.layer("Linear", x, id="fc", out_features=6)
    return g.project(
        "MobileNetV2-style (shapes)",
        "MobileNetV2's inverted residuals on 32×32 colour shapes: each block widens the channels "
        "with a 1×1 convolution, filters every channel on its own with a 3×3 depthwise "
        "convolution (groups = channels), and narrows back with a linear 1×1 projection, adding "
        "a skip where the shape allows. 19,526 parameters — a regular 3×3 convolution at each "
        "depthwise step would need many times more.",
        dataset=dict(_COLOR_SHAPES_32),
        training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.005, "batch_size": 64,
                  "epochs": 6, "seed": 0})


def _squeeze_excite(g, x, name, channels, reduction=4):
    """Squeeze (average each channel), excite (two 1×1 convolutions and a sigmoid), scale."""
    s = g.layer("AdaptiveAvgPool2d", x, id=f"{name}_squeeze", output_size=1)
    s = g.layer("Conv2d", s, id=f"{name}_fc1", out_channels=channels // reduction,
                kernel_size=1)
    s = g.layer("ReLU", s, id=f"{name}_relu")
    s = g.layer("Conv2d", s, id=f"{name}_fc2", out_channels=channels, kernel_size=1)
    s = g.layer("Sigmoid", s, id=f"{name}_gate")
    return g.layer("Multiply", [x, s], id=f"{name}_scale")


def se_net_shapes():
    g = Composer()
    x = g.input([3, 32, 32])
    for i, channels in enumerate((16, 32, 64), start=1):
        x = g.layer("Conv2d", x, id=f"conv{i}", out_channels=channels, kernel_size=3, padding=1,
                    bias=False)
        x = g.layer("BatchNorm2d", x, id=f"bn{i}")
        x = g.layer("SiLU", x, id=f"silu{i}")
        x = _squeeze_excite(g, x, f"se{i}", channels)
        if i < 3:
            x = g.layer("MaxPool2d", x, id=f"pool{i}", kernel_size=2)
    x = g.layer("AdaptiveAvgPool2d", x, id="avgpool", output_size=1)
    x = g.layer("Flatten", x, id="flatten")
    g.layer("Linear", x, id="fc", out_features=6)
    return g.project(
        "Squeeze-and-excitation CNN (shapes)",
        "Three convolution stages on 32×32 colour shapes, each followed by a squeeze-and-"
        "excitation gate: average every channel to one number, pass the numbers through two 1×1 "
        "convolutions and a sigmoid, and multiply each channel by its gate (Multiply with a "
        "C×1×1 input). SiLU activations, as in EfficientNet.",
        dataset=dict(_COLOR_SHAPES_32),
        training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.005, "batch_size": 64,
                  "epochs": 6, "seed": 0})


# --- CIFAR-sized versions of the classics on 32×32 colour shapes (issue 10) -----------------------

#: 3,000 generated 32×32 colour images of the ten shapes: the size and class count of CIFAR-10,
#: so the same projects train on the real thing with a cifar10 dataset section.
_CIFAR_SIZED_SHAPES = {"kind": "shapes", "size": 32, "channels": 3, "classes": 10,
                       "count": 3000}


def resnet8_shapes():
    g = Composer()
    x = g.input([3, 32, 32])
    x = g.layer("Conv2d", x, id="conv1", out_channels=16, kernel_size=3, padding=1, bias=False)
    x = g.layer("BatchNorm2d", x, id="bn1")
    x = g.layer("ReLU", x, id="relu1")
    for name, c_in, c_out, stride in (("stage1", 16, 16, 1), ("stage2", 16, 32, 2),
                                      ("stage3", 32, 64, 2)):
        x = _basic_block(g, x, name, c_in, c_out, stride)
    x = g.layer("AdaptiveAvgPool2d", x, id="avgpool", output_size=1)
    x = g.layer("Flatten", x, id="flatten")
    g.layer("Linear", x, id="fc", out_features=10)
    return g.project(
        "ResNet-8 (32×32 shapes)",
        "He et al.'s ResNet for CIFAR-sized images with one basic block per stage (16, 32 and "
        "64 channels on 32×32, 16×16 and 8×8 maps): ResNet-18's residual Adds and BatchNorm "
        "at a size a laptop trains in under a minute, on ten classes of 32×32 colour shapes "
        "(point the dataset at a CIFAR-10 folder to train on real photos). 1×1 projections "
        "where the shape changes.",
        dataset=dict(_CIFAR_SIZED_SHAPES),
        training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.005, "batch_size": 64,
                  "epochs": 5, "seed": 0})


def vgg_small_shapes():
    g = Composer()
    x = g.input([3, 32, 32])
    for block, channels in enumerate((16, 32, 64), start=1):
        for conv in (1, 2):
            x = g.layer("Conv2d", x, id=f"conv{block}_{conv}", out_channels=channels,
                        kernel_size=3, padding=1)
            x = g.layer("ReLU", x, id=f"relu{block}_{conv}")
        x = g.layer("MaxPool2d", x, id=f"pool{block}", kernel_size=2, stride=2)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=128)
    x = g.layer("ReLU", x, id="relu_fc1")
    x = g.layer("Dropout", x, id="drop1", p=0.5)
    g.layer("Linear", x, id="fc2", out_features=10)
    return g.project(
        "Small VGG (32×32 shapes)",
        "VGG-16's recipe at CIFAR size: pairs of 3×3 convolutions, each pair followed by 2×2 "
        "max pooling that halves the map while the channels double (16, 32, 64), then fully "
        "connected layers. Ten classes of 32×32 colour shapes; trains in under a minute on a "
        "laptop CPU.",
        dataset=dict(_CIFAR_SIZED_SHAPES),
        training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.002, "batch_size": 64,
                  "epochs": 6, "seed": 0})


def overfitting():
    # Issue 11, "overfitting made visible": 17,000 parameters for 200 drivers with noisy
    # outcomes. The Dropout layers are there but off (p = 0) and weight_decay is 0: the
    # toggle the description names. tests/test_training_overfitting.py holds it to that.
    g = Composer()
    x = g.input([3])
    x = g.layer("Linear", x, id="fc1", out_features=128)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("Dropout", x, id="drop1", p=0.0)
    x = g.layer("Linear", x, id="fc2", out_features=128)
    x = g.layer("ReLU", x, id="relu2")
    x = g.layer("Dropout", x, id="drop2", p=0.0)
    g.layer("Linear", x, id="fc3", out_features=2)
    return g.project(
        "Overfitting: 200 drivers learned by heart",
        "17,282 parameters and only 200 training drivers: training accuracy climbs to ~98 % "
        "while validation stays near 80 % — the gap is overfitting. Close it: set p of drop1 "
        "and drop2 to 0.5 (dropout), or training weight_decay to 0.01 (L2), and train again.",
        dataset={"kind": "csv", "path": "resources:data/driving_test.csv", "target": "passed",
                 "task": "classification", "train_samples": 200},
        training={"loss": "cross_entropy", "optimizer": "adam", "lr": 0.01, "batch_size": 16,
                  "epochs": 150, "weight_decay": 0.0, "seed": 0})


TEMPLATES = {
    "worked_example": seeds_example,
    "lenet5": lenet5,
    "keras_mnist": keras_mnist,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "house_mlp": house_mlp,
    "digits_cnn": digits_cnn,
    "shapes_cnn": shapes_cnn,
    "mobilenet_v2_shapes": mobilenet_v2_shapes,
    "se_net_shapes": se_net_shapes,
    "resnet8_shapes": resnet8_shapes,
    "vgg_small_shapes": vgg_small_shapes,
    "overfitting": overfitting,
}

if __name__ == "__main__":
    for key, make in TEMPLATES.items():
        save_project(make(), HERE / f"{key}.json")
        print(f"wrote {key}.json")
