"""The memory guard (issue 13, defect 5): training or exporting a graph that cannot fit is
refused with a message before anything is allocated — weights, gradients, optimizer state,
the last-good copy and activations estimated from the shape analysis."""
import json
import sys

import pytest

from layerlab.engine import memory
from layerlab.engine.compose import Composer
from layerlab.engine.inference import analyze
from layerlab.engine.memory import Available, human_bytes, training_estimate

from training_helpers import digits, one_thread  # noqa: F401


def mlp(hidden=4096, shape=(1, 8, 8)):
    g = Composer()
    x = g.layer("Flatten", g.input(list(shape)), id="flatten")
    x = g.layer("ReLU", g.layer("Linear", x, id="fc1", out_features=hidden), id="relu")
    g.layer("Linear", x, id="fc2", out_features=10)
    return g.graph


def huge():
    """Input 1×8×8 → Flatten → 10⁶ → 10⁶ (10¹² weights) → 10: a Linear with 10¹² parameters."""
    g = Composer()
    x = g.layer("Flatten", g.input([1, 8, 8]), id="flatten")
    x = g.layer("Linear", x, id="wide", out_features=1_000_000)
    x = g.layer("Linear", x, id="huge", out_features=1_000_000)
    g.layer("Linear", x, id="out", out_features=10)
    return g.graph


def test_the_estimate_counts_what_training_holds():
    analysis = analyze(mlp(hidden=100))
    params = 64 * 100 + 100 + 100 * 10 + 10
    adam = training_estimate(analysis, batch_size=8, optimizer="adam")
    assert adam.parameters == params and adam.weights == 4 * params
    assert adam.gradients == adam.weights and adam.optimizer_state == 2 * adam.weights
    assert adam.last_good == 3 * adam.weights                # weights + Adam's two moments
    outputs = 64 + 64 + 100 + 100 + 10                       # input, flatten, fc1, relu, fc2
    assert adam.activations == 8 * 4 * outputs + 8 * 4 * 100  # kept + the largest in flight
    assert adam.total == 7 * adam.weights + adam.activations
    sgd = training_estimate(analysis, 8, "sgd")
    assert sgd.optimizer_state == 0 and sgd.last_good == sgd.weights
    assert training_estimate(analysis, 8, "sgd", momentum=0.9).optimizer_state == sgd.weights
    assert human_bytes(4 * 1024**4) == "4.0 TB" and human_bytes(1536) == "1.5 KB"


def test_the_trainer_refuses_before_building_anything(digits, monkeypatch):
    from layerlab.engine.training import MemoryLimitError, Trainer
    from layerlab.engine.training import setup

    def never(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(setup, "build_model", never)
    monkeypatch.setattr(memory, "available_memory",
                        lambda device="cpu": Available(2 * 1024**2, "the CPU (test)"))
    with pytest.raises(MemoryLimitError) as info:
        Trainer(mlp(hidden=4096), digits, {"device": "cpu", "batch_size": 32})
    message = str(info.value)
    assert "needs about 9.7 MB of memory to train (weights 1.2 MB for 307,210 parameters" \
        in message, message
    assert "the CPU (test) has 2.0 MB free" in message
    assert "make the largest layers smaller — fc1 holds 87% of the parameters" in message
    # Activations dominate with a tiny model and a big batch: the advice says so.
    with pytest.raises(MemoryLimitError, match=r"lower batch_size, or make the inputs or "
                                               r"feature maps smaller \(input outputs"):
        Trainer(mlp(hidden=16), digits, {"device": "cpu", "batch_size": 8192})


def test_what_fits_trains(digits, monkeypatch):
    from layerlab.engine.training import Trainer
    monkeypatch.setattr(memory, "available_memory",
                        lambda device="cpu": Available(64 * 1024**2, "the CPU (test)"))
    assert Trainer(mlp(hidden=64), digits, {"device": "cpu", "epochs": 1}).run().status == \
        "finished"


def test_layerlab_train_refuses_a_trillion_parameters(tmp_path, capsys):
    from layerlab.engine.cli import main
    from layerlab.engine.graph import Project
    from layerlab.engine.project import save_project
    path = tmp_path / "huge.json"
    save_project(Project(huge(), "huge", dataset={"kind": "digits"}), path)
    assert main(["train", str(path), "--device", "cpu", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err and "TB of memory to train" in err, err
    assert "1,000,076,000,010 parameters" in err and "huge holds 100% of the parameters" in err
    assert "Traceback" not in err


def test_export_refuses_a_giant_example_input(tmp_path):
    """ONNX export would make a 240 GB example input for a 3×100000×100000 Input."""
    from layerlab.engine.export import ExportError
    from layerlab.engine.export.onnx_export import onnx_model
    from layerlab.engine.graph import Project
    pytest.importorskip("onnxscript")
    g = Composer()
    x = g.layer("AdaptiveAvgPool2d", g.input([3, 100000, 100000]), id="pool", output_size=1)
    g.layer("Linear", g.layer("Flatten", x, id="flat"), id="fc", out_features=2)
    with pytest.raises(ExportError, match=r"needs about .* GB of memory to export .*inputs "
                                          r"223\.5 GB"):
        onnx_model(Project(g.graph, "giant"))


def test_export_with_weights_refuses_a_model_too_big(tmp_path, monkeypatch):
    from layerlab.engine.export import ExportError
    from layerlab.engine.export.pytorch_code import export_pytorch
    from layerlab.engine.graph import Project
    monkeypatch.setattr(memory, "available_memory",
                        lambda device="cpu": Available(1024**2, "the CPU (test)"))
    with pytest.raises(ExportError, match="needs about .* of memory to export"):
        export_pytorch(Project(mlp(hidden=4096), "big"), tmp_path / "big.py",
                       weights={"layers.fc1.weight": None})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/meminfo")
def test_free_memory_is_read_on_linux():
    free = memory.available_memory("cpu")
    assert free is not None and free.bytes > 0 and "MemAvailable" in free.where
    meminfo = open("/proc/meminfo").read()
    assert free.bytes <= int(meminfo.split("MemAvailable:")[1].split()[0]) * 1024
    json.dumps(free.where)
