"""engine/locations.py: a project by path or template name, and the run folder beside it."""
from __future__ import annotations

import pytest

from layerlab.engine import ProjectLoadError, save_project
from layerlab.engine.locations import (checkpoint_in, has_checkpoint, open_project,
                                       trained_weights)
from layerlab.engine.templates import load_template


def test_a_template_by_name_runs_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = open_project("lenet5")
    assert opened.template == "lenet5" and opened.project.name
    assert opened.run_dir == tmp_path / "lenet5-run"


def test_a_project_file_runs_beside_itself_and_its_weights_are_found(tmp_path):
    path = tmp_path / "net.json"
    save_project(load_template("digits_cnn"), path)
    opened = open_project(str(path))
    assert opened.template is None and opened.run_dir == tmp_path / "net-run"
    assert trained_weights(opened) is None and not has_checkpoint(path)
    ckpt = tmp_path / "net-run" / "checkpoint"
    ckpt.mkdir(parents=True)
    (ckpt / "weights.safetensors").write_bytes(b"")
    (ckpt / "trainer.json").write_text("{}")
    assert trained_weights(opened) == ckpt / "weights.safetensors"
    assert has_checkpoint(path)
    assert checkpoint_in(tmp_path / "net-run") == ckpt and checkpoint_in(ckpt) == ckpt


def test_an_unknown_name_is_a_load_error_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProjectLoadError, match="no_such_net"):
        open_project("no_such_net")
