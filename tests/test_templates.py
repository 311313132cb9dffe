"""Every bundled template reproduces its reference figures, in inference and in torch."""
import pytest

from layerlab.engine import analyze, load_project
from layerlab.engine.templates import list_templates, load_template, template_path

REFERENCE_PARAMS = {
    "lenet5": 61_706,
    "keras_mnist": 34_826,
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    # modern blocks on 32×32 colour shapes (issue 14): our own figures
    "mobilenet_v2_shapes": 19_526,
    "se_net_shapes": 26_914,
    # CIFAR-sized versions of the classics (issue 10): our own figures
    "resnet8_shapes": 78_042,
    "vgg_small_shapes": 204_570,
}
#: Templates whose one batch takes seconds on a laptop CPU: trained in the slow test.
HEAVY = {"alexnet", "vgg16", "resnet18"}


def test_every_bundled_template_is_listed_and_error_free():
    keys = {t.key for t in list_templates()}
    assert set(REFERENCE_PARAMS) | {"worked_example", "house_mlp", "digits_cnn"} <= keys
    for t in list_templates():
        analysis = analyze(load_project(t.path).graph)
        assert analysis.ok, (t.key, analysis.messages())
        assert t.name and t.description


@pytest.mark.parametrize("key,expected", sorted(REFERENCE_PARAMS.items()))
def test_reference_parameter_counts(key, expected):
    analysis = analyze(load_project(template_path(key)).graph)
    assert analysis.total_params == expected


def test_worked_example_figures():
    analysis = analyze(load_project(template_path("worked_example")).graph)
    conv1 = analysis.nodes["conv1"]
    assert conv1.output_shape == (64, 254, 254)
    assert conv1.params == 1_792 and conv1.params // 64 == 28
    assert analysis.nodes["pool2"].output_shape == (5, 7, 7)
    assert analysis.nodes["flatten"].output_shape == (245,)
    assert analysis.nodes["l2pool1"].type == "LPPool2d"


def test_small_templates_shapes():
    mlp = analyze(load_project(template_path("house_mlp")).graph)
    assert mlp.nodes["input"].output_shape == (3,) and mlp.output_shape == (1,)
    digits = analyze(load_project(template_path("digits_cnn")).graph)
    assert digits.nodes["input"].output_shape == (1, 8, 8) and digits.output_shape == (10,)


def test_resnet18_has_branches_and_bias_free_downsamples():
    graph = load_project(template_path("resnet18")).graph
    adds = [n for n in graph.nodes.values() if n.type == "Add"]
    downs = [n for n in graph.nodes.values() if n.id.endswith("_down")]
    assert len(adds) == 8 and len(downs) == 3
    assert all(n.params["kernel_size"] == 1 and n.params["bias"] is False for n in downs)


@pytest.mark.parametrize("key", ["lenet5", "keras_mnist", "resnet18", "digits_cnn",
                                 "worked_example", "house_mlp", "mobilenet_v2_shapes",
                                 "se_net_shapes", "resnet8_shapes", "vgg_small_shapes"])
def test_built_model_matches_inference(key):
    import torch
    from layerlab.engine import build_model
    graph = load_project(template_path(key)).graph
    analysis = analyze(graph)
    model = build_model(graph).eval()
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    shape = analysis.nodes[analysis.input_node].output_shape
    with torch.no_grad():
        outputs = model.forward_all(torch.zeros((2,) + shape))
    for node_id, info in analysis.nodes.items():
        assert tuple(outputs[node_id].shape[1:]) == info.output_shape, node_id


def test_mobilenet_v2_template_is_depthwise_separable():
    project = load_project(template_path("mobilenet_v2_shapes"))
    analysis = analyze(project.graph)
    depthwise = [i for i in analysis.nodes.values() if i.type == "Conv2d"
                 and i.resolved["groups"] > 1]
    assert len(depthwise) == 4
    assert all(i.resolved["groups"] == i.input_shapes[0][0] == i.output_shape[0]
               for i in depthwise)
    assert analysis.nodes["block3_dw"].output_shape == (96, 8, 8)
    assert analysis.nodes["block3_dw"].params == 3 * 3 * 96          # one 3×3 filter per channel
    assert [n.id for n in project.graph.nodes.values() if n.type == "Add"] == ["block1_add",
                                                                               "block3_add"]
    assert analysis.output_shape == (6,)
    assert f"{analysis.total_params:,} parameters" in project.description
    assert project.dataset == {"kind": "shapes", "size": 32, "channels": 3, "count": 3000}


def test_se_template_gates_every_stage():
    project = load_project(template_path("se_net_shapes"))
    analysis = analyze(project.graph)
    gates = [i for i in analysis.nodes.values() if i.type == "Multiply"]
    assert [g.input_shapes for g in gates] == [[(16, 32, 32), (16, 1, 1)],
                                                [(32, 16, 16), (32, 1, 1)],
                                                [(64, 8, 8), (64, 1, 1)]]
    assert analysis.nodes["se1_fc1"].output_shape == (4, 1, 1)       # reduction 4
    assert analysis.nodes["se3_fc2"].params == 16 * 64 + 64
    assert analysis.output_shape == (6,)
    assert project.dataset["size"] == 32 and project.dataset["channels"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("key", ["mobilenet_v2_shapes", "se_net_shapes", "resnet8_shapes",
                                 "vgg_small_shapes"])
def test_modern_templates_learn_the_shapes(key, tmp_path):
    import json
    from layerlab.engine.cli import main
    metrics = tmp_path / "metrics.json"
    assert main(["train", key, "--out", str(tmp_path / "run"), "--metrics-json",
                 str(metrics)]) == 0
    final = json.loads(metrics.read_text())["final"]
    assert final["val_acc"] >= 0.95, final


# --- every template trains (issue 10) ------------------------------------------------------------
TEMPLATE_KEYS = sorted(t.key for t in list_templates())


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_every_template_carries_a_dataset_that_fits_it(key):
    from layerlab.engine.data.fit import dataset_problems
    path = template_path(key)
    project = load_project(path)
    assert project.dataset, f"{key} has no dataset section"
    assert project.training, f"{key} has no training section"
    assert dataset_problems(project, path.parent) == [], key


def test_the_reference_heads_keep_their_classes():
    from layerlab.engine.data.fit import peek
    for key, classes in (("alexnet", 1000), ("vgg16", 1000), ("resnet18", 1000),
                         ("worked_example", 10)):
        project = load_project(template_path(key))
        assert analyze(project.graph).output_shape == (classes,)
        data = peek(project.dataset)
        assert data.num_outputs == classes
        assert data.input_shape == analyze(project.graph).nodes["input"].output_shape


def test_light_templates_are_light():
    """A template trained one batch in the fast test must stay cheap (below ~0.2 GMACs a
    sample); a heavier new one belongs in HEAVY."""
    for key in set(TEMPLATE_KEYS) - HEAVY:
        assert analyze(load_template(key).graph).total_macs < 200e6, key


def _train(key, out, *extra):
    from layerlab.engine.cli import main
    return main(["train", key, "--epochs", "1", "--out", str(out), *extra])


@pytest.mark.parametrize("key", sorted(set(TEMPLATE_KEYS) - HEAVY))
def test_every_light_template_trains_a_batch(key, tmp_path, capsys):
    assert _train(key, tmp_path / "run", "--max-batches", "1") == 0
    assert "stopped after 1 batch" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(HEAVY))
def test_heavy_templates_train_one_epoch_capped(key, tmp_path, capsys):
    assert _train(key, tmp_path / "run", "--max-batches", "2") == 0
    assert "stopped after 2 batches" in capsys.readouterr().out



# --- the gallery's facts (engine side) ------------------------------------------------------------
def test_template_facts_are_the_analysis_and_the_dataset():
    from layerlab.engine.templates import template_facts
    lenet = next(t for t in list_templates() if t.key == "lenet5")
    facts = template_facts(lenet)
    assert facts.params == 61_706 and facts.macs == 416_520
    assert facts.dataset.startswith("digits:") and "8×8" in facts.dataset
    assert facts.work.train_samples + facts.work.val_samples == 1_797
    assert facts.nodes == 13


def test_simplest_first():
    from layerlab.engine.templates import simplest_first
    entries = simplest_first()
    keys = [f.template.key for f in entries]
    assert sorted(keys) == TEMPLATE_KEYS
    assert keys[0] == "house_mlp" and keys[-1] == "vgg16"
    assert keys.index("resnet8_shapes") < keys.index("resnet18") < keys.index("alexnet")
    sizes = [(f.params, f.macs) for f in entries]
    assert sizes == sorted(sizes)


def test_the_templates_command_lists_simplest_first_with_datasets_and_estimates(capsys,
                                                                                monkeypatch):
    from layerlab.engine import epoch_estimate
    from layerlab.engine.cli import main
    from test_epoch_estimate import RATE
    monkeypatch.setattr(epoch_estimate, "measure_rate", lambda device="auto": RATE)
    assert main(["templates", "--estimate"]) == 0
    out = capsys.readouterr().out
    assert out.index("house_mlp") < out.index("digits_cnn") < out.index("vgg16")
    assert "dataset: shapes: 240 generated 224×224 color images of 1,000 classes" in out
    assert out.count("epoch: ") == len(TEMPLATE_KEYS)
    assert "per epoch on the CPU (4 threads)" in out


# --- the README's table (issue 10: "every template carries a working dataset" must be true) ----
def _readme_template_rows() -> dict[str, list[str]]:
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Bundled templates"):]
    section = section[:section.index("\n## ")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 1 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = cells
    return rows


def test_the_readme_lists_every_template_with_its_parameters_and_dataset():
    rows = _readme_template_rows()
    assert sorted(rows) == TEMPLATE_KEYS
    for key, (_, what, params, dataset, epoch) in rows.items():
        assert params == f"{analyze(load_template(key).graph).total_params:,}", key
        assert what and dataset and epoch, key
    # Listed as the gallery shows them: simplest first.
    from layerlab.engine.templates import simplest_first
    assert list(rows) == [f.template.key for f in simplest_first()]
