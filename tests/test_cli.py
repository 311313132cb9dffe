"""The engine's command line: summary (text and JSON), templates, layers."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerlab.engine.cli import main
from layerlab.engine.reference import layer_reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_summary_text_lists_nodes_and_totals(capsys):
    assert main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "conv1    Conv2d     6×28×28" in out
    assert "Total parameters: 61,706" in out


def test_summary_json_contract(capsys):
    assert main(["summary", str(ROOT / "resources/templates/keras_mnist.json"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == 34_826 and data["errors"] == []
    first = data["nodes"][1]
    assert set(first) == {"id", "type", "output_shape", "params", "macs"}
    assert first == {"id": "conv1", "type": "Conv2d", "output_shape": [32, 26, 26],
                     "params": 320, "macs": 32 * 26 * 26 * 9}


def test_summary_of_a_broken_graph_exits_non_zero(tmp_path, capsys):
    data = json.loads((ROOT / "resources/templates/lenet5.json").read_text())
    data["edges"] = [e for e in data["edges"] if "flatten" not in (e["source"], e["target"])]
    data["edges"].append({"source": "pool2", "target": "fc1"})
    data["nodes"] = [n for n in data["nodes"] if n["id"] != "flatten"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    assert main(["summary", str(path), "--json"]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert errors == [{"node": "fc1", "message": "fc1 receives 16×5×5 — insert a Flatten "
                                                 "before it"}]


def test_summary_of_an_unreadable_file_explains(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.json cannot be opened" in err and "line 1, column 2" in err


def test_templates_lists_every_bundled_file(capsys):
    assert main(["templates"]) == 0
    out = capsys.readouterr().out
    for key in ("lenet5", "resnet18", "digits_cnn", "house_mlp", "worked_example"):
        assert key in out
    assert "11,689,512 parameters" in out


def test_layer_docs_are_generated_from_the_registry():
    """docs/layers.md must be regenerated when a declaration changes."""
    assert (ROOT / "docs/layers.md").read_text() == layer_reference_markdown()


def test_installed_command_runs_headless(tmp_path):
    result = subprocess.run([sys.executable, "-m", "layerlab.engine.cli", "summary", "resnet18",
                             "--json"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == 11_689_512


@pytest.mark.parametrize("argv", [["--help"], ["summary", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: layerlab" in capsys.readouterr().out
