"""Import straight from PyTorch (issue 14): ``layerlab.engine.from_torch(module, example)``
gives a project that mirrors the module and weights that reproduce its outputs to 1e-5 with
the same parameter count — BatchNorm kept as BatchNorm — for every torchvision family; what
has no layer is named with its module path; ``layerlab import --torch`` does it from the
command line."""
import sys
import textwrap

import pytest
import torch
from torch import nn

from layerlab.engine import analyze, build_model, from_torch
from layerlab.engine.cli import main
from layerlab.engine.export.weights import load_weights
from layerlab.engine.project import load_project
from layerlab.engine.torch_import import FromTorchError

from torch_families import FAMILIES, make

torch.set_num_threads(1)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_round_trips_exactly(family):
    module = make(family)
    x = torch.randn(3, 3, 32, 32)
    project, weights = from_torch(module, x)
    analysis = analyze(project.graph)
    assert analysis.ok, analysis.messages()
    assert analysis.total_params == sum(p.numel() for p in module.parameters())
    net = build_model(project.graph)
    net.load_state_dict(weights)  # strict
    with torch.no_grad():
        expected = module(x)
        got = net.eval()(x)
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5)
    bn_in_module = sum(isinstance(m, nn.BatchNorm2d) for m in module.modules())
    bn_in_project = sum(n.type == "BatchNorm2d" for n in project.graph.nodes.values())
    assert bn_in_project == bn_in_module  # not folded


def test_names_and_layers_follow_the_module():
    project, weights = from_torch(make("resnet"), torch.randn(2, 3, 32, 32))
    nodes = project.graph.nodes
    assert {"conv1", "bn1", "relu", "maxpool", "layer1_0_conv1", "layer1_0_bn1",
            "layer1_0_relu", "layer1_0_relu_1", "layer1_0_add", "layer2_0_downsample_0",
            "fc"} <= set(nodes), sorted(nodes)
    assert nodes["conv1"].params["kernel_size"] == 7 and nodes["conv1"].params["bias"] is False
    assert weights["layers.bn1.num_batches_tracked"].item() == 5
    assert project.name == "ResNet"
    project, _ = from_torch(make("shufflenet_v2"), torch.randn(2, 3, 32, 32))
    types = [n.type for n in project.graph.nodes.values()]
    assert types.count("ChannelShuffle") == 2 and types.count("Narrow") == 2


def test_layer_norm_over_channels_and_functional_calls():
    class ConvNeXtish(nn.Module):
        def __init__(self):
            super().__init__()
            self.dw = nn.Conv2d(4, 4, 7, padding=3, groups=4)
            self.norm = nn.LayerNorm(4, eps=1e-6)
            self.up = nn.Upsample(scale_factor=2, mode="bilinear")
            self.head = nn.Linear(4, 3)

        def forward(self, x):
            y = self.dw(x).permute(0, 2, 3, 1)
            y = self.norm(y).permute(0, 3, 1, 2)
            y = torch.nn.functional.gelu(y) + x
            y = self.up(torch.nn.functional.pad(y, (0, 1, 0, 1)))
            y = y[:, 1:3] * torch.sigmoid(y[:, :2])
            y = torch.cat([y, torch.relu(y)], 1)
            return self.head(torch.flatten(nn.functional.adaptive_max_pool2d(y, 1), 1))
    module = ConvNeXtish().eval()
    with torch.no_grad():
        module.norm.weight.uniform_(0.5, 1.5)
        module.norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 4, 8, 8)
    project, weights = from_torch(module, x)
    types = {n.type for n in project.graph.nodes.values()}
    assert {"LayerNorm", "GELU", "Add", "ZeroPad2d", "Upsample", "Narrow", "Multiply",
            "Concat", "AdaptiveMaxPool2d"} <= types
    net = build_model(project.graph)
    net.load_state_dict(weights)
    with torch.no_grad():
        assert torch.allclose(net.eval()(x), module(x), atol=1e-5)


def test_what_has_no_layer_is_named_with_its_module_path():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.rnn_like = nn.Softplus()

        def forward(self, x):
            return self.rnn_like(self.conv(x)) * 2.0

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.shared = nn.Linear(3, 3)

        def forward(self, x):
            x = torch.sin(self.block(x)).mean((2, 3))
            return self.shared(self.shared(x))

    with pytest.raises(FromTorchError) as err:
        from_torch(Net(), torch.randn(2, 3, 8, 8))
    text = str(err.value)
    assert "block.rnn_like: torch.nn.modules.activation.Softplus has no LayerLab layer" in text
    assert "block (mul): multiplies by a number" in text
    assert "sin (sin): torch.sin() has no LayerLab layer" in text or "torch.sin()" in text
    assert "shared: shared is used a second time (shared weights)" in text
    assert len(err.value.unmapped) == 4


def test_untraceable_modules_and_bad_inputs_are_explained():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(FromTorchError, match="cannot branch on tensor values"):
        from_torch(Branchy(), torch.randn(2, 3))
    with pytest.raises(FromTorchError, match="must be a batch"):
        from_torch(nn.Linear(3, 2), torch.randn(3))
    with pytest.raises(FromTorchError, match="fails on the example input of shape"):
        from_torch(nn.Linear(3, 2), torch.randn(2, 5))


def test_training_mode_is_restored_and_bn_statistics_untouched():
    module = make("mobilenet_v2").train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    from_torch(module, torch.randn(2, 3, 32, 32))
    assert module.training
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_cli_imports_a_factory(tmp_path, capsys, monkeypatch):
    (tmp_path / "mynets.py").write_text(textwrap.dedent("""
        import torch
        from torch import nn

        def tiny():
            torch.manual_seed(0)
            return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    """))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "tiny.json"
    assert main(["import", "--torch", "mynets:tiny", "--input-shape", "3,16,16",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Total parameters: 130" in printed and f"wrote {out}" in printed
    assert "conv0" in printed and "fc5" in printed
    project = load_project(out)
    assert [n.type for n in project.graph.nodes.values()] == [
        "Input", "Conv2d", "BatchNorm2d", "ReLU", "AdaptiveAvgPool2d", "Flatten", "Linear"]
    build_model(project.graph).load_state_dict(load_weights(tmp_path / "tiny.safetensors"))
    sys.modules.pop("mynets", None)


@pytest.mark.parametrize("argv, message", [
    (["--torch", "nowhere_module_xyz:make", "--input-shape", "3,8,8"],
     "cannot import nowhere_module_xyz"),
    (["--torch", "mynets_bad:missing", "--input-shape", "3,8,8"], "has no 'missing'"),
    (["--torch", "mynets_bad:not_a_module", "--input-shape", "3,8,8"],
     "returned int, not a torch.nn.Module"),
    (["--torch", "mynets_bad", "--input-shape", "3,8,8"], "package.module:factory"),
    (["--torch", "mynets_bad:not_a_module", "--input-shape", "3,x,8"], "--input-shape"),
    (["--torch", "mynets_bad:boom", "--input-shape", "3,8,8"], "raised ValueError: no"),
])
def test_cli_explains_what_went_wrong(argv, message, tmp_path, capsys, monkeypatch):
    (tmp_path / "mynets_bad.py").write_text(
        "def not_a_module():\n    return 3\n\ndef boom():\n    raise ValueError('no')\n")
    monkeypatch.chdir(tmp_path)
    assert main(["import", *argv, "-o", str(tmp_path / "x.json")]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    sys.modules.pop("mynets_bad", None)
