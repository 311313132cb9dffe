"""Project files: round trip, every problem reported with its location, atomic saves, fuzz."""
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerlab.engine import (ProjectLoadError, dumps_project, load_project, loads_project,
                             project_to_dict, save_project)
from layerlab.engine.templates import list_templates, template_path

MINIMAL = {"format": "layerlab", "version": 1, "name": "LeNet-5",
           "nodes": [{"id": "input", "type": "Input", "params": {"shape": [1, 32, 32]},
                      "position": [0, 0]},
                     {"id": "conv1", "type": "Conv2d",
                      "params": {"out_channels": 6, "kernel_size": 5}}],
           "edges": [{"source": "input", "target": "conv1"}],
           "dataset": {}, "training": {}}


def problems(data) -> list[str]:
    text = data if isinstance(data, str) else json.dumps(data)
    with pytest.raises(ProjectLoadError) as info:
        loads_project(text, source="net.json")
    assert str(info.value).startswith("net.json cannot be opened")
    return [str(p) for p in info.value.problems]


def test_the_documented_minimal_file_loads():
    project = loads_project(json.dumps(MINIMAL))
    assert project.name == "LeNet-5"
    assert project.graph.nodes["conv1"].params == {"out_channels": 6, "kernel_size": 5}
    assert project.graph.nodes["conv1"].position == (0.0, 0.0)


@pytest.mark.parametrize("template", list_templates(), ids=lambda t: t.key)
def test_templates_round_trip(template, tmp_path):
    project = load_project(template.path)
    path = tmp_path / "copy.json"
    save_project(project, path)
    again = load_project(path)
    assert again.graph == project.graph
    assert project_to_dict(again) == project_to_dict(project)
    assert json.loads(path.read_text()) == json.loads(template.path.read_text())


def test_every_problem_is_reported_with_its_location():
    data = json.loads(json.dumps(MINIMAL))
    data["nodes"] += [
        {"id": "conv1", "type": "Conv2d"},                                   # duplicate id
        {"id": "c3", "type": "Conv3d"},                                      # unknown type
        {"id": "c4", "type": "Conv2d", "params": {"kernel_size": "big",      # wrong type
                                                  "stride": 0}},             # out of range
        {"id": "c5", "type": "Dropout", "params": {"p": 1.5}},
        {"id": "9bad", "type": "ReLU"},
    ]
    data["edges"] += [{"source": "conv1", "target": "ghost"}, {"source": 3, "target": "c4"}]
    found = problems(data)
    expected = [
        "nodes[2] (conv1).id: duplicate id",
        "nodes[3] (c3).type: unknown layer type 'Conv3d'",
        "nodes[4] (c4).params: kernel_size must be a whole number or [height, width]",
        "nodes[4] (c4).params: stride must be at least 1 (got 0)",
        "nodes[5] (c5).params: p must be at most 1.0 (got 1.5)",
        "nodes[6].id: '9bad' is not a valid node id",
        "edges[1].target: refers to 'ghost', which is not a node in this file (a dangling edge)",
        "edges[2].source: must be a node id (found 3)",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in found), (text, found)
    assert len(found) == len(expected)


def test_malformed_json_names_line_and_column():
    (msg,) = problems('{"format": "layerlab",\n "version": 1,,}')
    assert msg.startswith("line 2, column 15: not valid JSON")


def test_newer_version_is_refused_plainly():
    (msg,) = problems(dict(MINIMAL, version=7))
    assert "newer LayerLab (format version 7)" in msg and "reads up to 1" in msg


def test_not_a_project():
    assert problems([1, 2]) == ["the file must hold a JSON object (found a list)"]
    assert any(p.startswith("format: must be \"layerlab\"") for p in problems({"version": 1}))
    assert any("NaN is not allowed" in p for p in problems('{"format": NaN}'))


def test_loading_never_executes_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = dict(MINIMAL, name=f"__import__('os').system('touch {marker}')")
    evil["nodes"][1]["params"]["out_channels"] = {"__reduce__": "os.system"}
    with pytest.raises(ProjectLoadError):
        loads_project(json.dumps(evil))
    assert not marker.exists()


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ProjectLoadError) as info:
        load_project(tmp_path / "nope.json")
    assert "nope.json" in str(info.value) and "No such file" in str(info.value)
    binary = tmp_path / "x.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProjectLoadError) as info:
        load_project(binary)
    assert "not UTF-8" in str(info.value)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    project = load_project(template_path("lenet5"))
    save_project(project, path)
    before = path.read_text()
    project.name = "changed"

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        save_project(project, path)
    assert path.read_text() == before          # the old file is intact
    assert os.listdir(tmp_path) == ["net.json"]  # and no temp file is left behind


# --- fuzz: nothing but ProjectLoadError may come out -------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "type", "params", "source", "target", "shape", "kernel_size",
                         "nodes", "edges", "format", "version", "position", "target_port",
                         "out_channels", "x"]) | st.text(max_size=6), children, max_size=4),
    max_leaves=20)


def _load_or_refuse(text):
    try:
        project = loads_project(text)
    except ProjectLoadError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
        return None
    # whatever loads must survive analysis and a save round trip
    from layerlab.engine import analyze
    analyze(project.graph)
    assert loads_project(dumps_project(project)).graph == project.graph
    return project


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_fuzz_random_text(text):
    _load_or_refuse(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_fuzz_random_json(value):
    _load_or_refuse(json.dumps(value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.lists(st.sampled_from(["nodes", "edges", 0, 1, 2, "params", "id", "type",
                                      "shape", "kernel_size", "source", "position"]),
                     min_size=1, max_size=4),
       value=json_values)
def test_fuzz_mutated_template(path, value):
    data = json.loads(template_path("lenet5").read_text())
    target = data
    for key in path[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            break
    try:
        target[path[-1]] = value
    except (IndexError, TypeError):
        pass
    _load_or_refuse(json.dumps(data))


def test_fuzz_deep_nesting_and_huge_numbers():
    for text in ["[" * 100_000, '{"format": "layerlab", "version": 1, "nodes": [{"id": "a", '
                 '"type": "Input", "params": {"shape": [1' + "0" * 5000 + "]}}]}",
                 '{"format":"layerlab","version":1,"nodes":[{"id":"a","type":"Dropout",'
                 '"params":{"p":1e999}}]}']:
        assert _load_or_refuse(text) is None


def test_save_keeps_the_files_permissions(tmp_path):
    """The temporary file must not leave the project private (mkstemp's 0600)."""
    path = tmp_path / "net.json"
    project = load_project(template_path("lenet5"))
    save_project(project, path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    os.chmod(path, 0o640)
    save_project(project, path)
    assert path.stat().st_mode & 0o777 == 0o640


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
