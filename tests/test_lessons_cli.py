"""`layerlab lessons` and `layerlab lesson show|start|solve|check|quiz`, in process (and the real
entry point once)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerlab.engine.cli import main
from layerlab.engine.commands.lessons import vocabulary_markdown
from layerlab.engine.lessons import CONCEPTS, bundled_lessons
from layerlab.engine.project import load_project, save_project

ROOT = Path(__file__).resolve().parent.parent


def test_lessons_json_lists_every_lesson_with_its_steps(capsys):
    assert main(["lessons", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == [lesson.id for lesson in bundled_lessons()]
    for entry in data:
        assert {"id", "title", "concepts", "steps"} <= set(entry)
        assert set(entry["concepts"]) <= set(CONCEPTS)
        for step in entry["steps"]:
            assert step["check"] or step["quiz"]
    conv = next(d for d in data if d["id"] == "convolution")
    assert conv["steps"][1]["quiz"] == {"kind": "output_shape", "node": "conv1"}
    assert conv["steps"][0]["show_me"]["edits"][0]["op"] == "add_node"


def test_the_real_entry_point_lists_lessons():
    out = subprocess.run([sys.executable, "-m", "layerlab.engine.cli", "lessons"],
                         capture_output=True, text=True, check=True).stdout
    assert "convolution" in out and "concepts: stride, padding, convolution" in out


def test_check_exits_1_with_the_reason_then_0_after_solve(tmp_path, capsys):
    start = tmp_path / "start.json"
    assert main(["lesson", "start", "--lesson", "convolution", "--step", "5",
                 "-o", str(start)]) == 0
    assert main(["lesson", "check", str(start), "--lesson", "convolution", "--step", "5"]) == 1
    out = capsys.readouterr().out
    assert "not yet: conv1 is a Conv2d but has out_channels 16 (wanted 6)" in out
    assert "[ ] conv1's output is 6×28×28 — conv1's output is 16×30×30" in out
    solved = tmp_path / "solved.json"
    assert main(["lesson", "solve", "--lesson", "convolution", "--step", "5",
                 "-o", str(solved)]) == 0
    assert main(["lesson", "check", str(solved), "--lesson", "convolution", "--step", "5",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert result["ok"] and [p["ok"] for p in result["parts"]] == [True, True]


def test_solve_applies_show_me_to_the_learners_project(tmp_path, capsys):
    mine = tmp_path / "mine.json"
    assert main(["lesson", "start", "--lesson", "pooling", "--step", "1", "-o", str(mine)]) == 0
    project = load_project(mine)
    project.name = "Mine"
    save_project(project, mine)
    out = tmp_path / "out.json"
    assert main(["lesson", "solve", str(mine), "--lesson", "pooling", "--step", "1",
                 "-o", str(out)]) == 0
    assert load_project(out).name == "Mine" and "pool1" in load_project(out).graph.nodes
    # applying it twice does not fit: said, not raised
    assert main(["lesson", "solve", str(out), "--lesson", "pooling", "--step", "1",
                 "-o", str(tmp_path / "again.json")]) == 2
    assert "already a node called 'pool1'" in capsys.readouterr().err


def test_a_run_check_reads_the_run_folder_beside_the_project(tmp_path, capsys):
    project = tmp_path / "lr.json"
    assert main(["lesson", "solve", "--lesson", "learning-rate", "--step", "4",
                 "-o", str(project)]) == 0
    assert main(["lesson", "check", str(project), "--lesson", "learning-rate",
                 "--step", "4"]) == 1
    assert "no training run yet" in capsys.readouterr().out
    assert main(["train", str(project)]) == 1          # it diverges, as the step wants
    capsys.readouterr()
    assert main(["lesson", "check", str(project), "--lesson", "learning-rate",
                 "--step", "4"]) == 0
    assert "the last run diverged" in capsys.readouterr().out


def test_quiz_asks_and_marks(capsys):
    assert main(["lesson", "quiz", "--lesson", "convolution", "--step", "3"]) == 0
    assert "How many trainable parameters does conv1" in capsys.readouterr().out
    assert main(["lesson", "quiz", "--lesson", "convolution", "--step", "3", "1728"]) == 1
    out = capsys.readouterr().out
    assert "the answer is 1,792" in out and "(3·3·3 + 1 = 28 per filter)" in out
    assert main(["lesson", "quiz", "--lesson", "convolution", "--step", "3", "1,792"]) == 0
    assert main(["lesson", "quiz", "--lesson", "learning-rate", "--step", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert data["choices"] == ["A", "B", "C"] and len(data["curves"][0]["losses"]) == 26
    assert main(["lesson", "quiz", "--lesson", "convolution", "--step", "3", "lots"]) == 2


def test_show_prints_the_lesson_for_a_terminal(capsys):
    assert main(["lesson", "show", "--lesson", "flatten-softmax"]) == 0
    out = capsys.readouterr().out
    assert "Step 2 of 6: How long is the row?" in out
    assert "Quiz: flatten is a Flatten that receives 5×7×7" in out
    assert "Done when: the network has MaxPool2d → Flatten → Linear" in out


@pytest.mark.parametrize("argv,words", [
    (["lesson", "check", "lenet5", "--lesson", "nope", "--step", "1"], "no lesson 'nope'"),
    (["lesson", "check", "lenet5", "--lesson", "convolution", "--step", "9"], "steps 1 to 5"),
    (["lesson", "check", "missing.json", "--lesson", "convolution", "--step", "1"],
     "cannot be opened"),
    (["lesson", "quiz", "--lesson", "convolution", "--step", "1"], "has no quiz"),
    (["lesson", "check", "lenet5", "--lesson", "convolution", "--step", "1", "--run",
      "nowhere"], "--run nowhere: no such"),
    (["lessons", "--pack", "missing.llpack"], "missing.llpack"),
    (["lesson", "quiz", "--lesson", "convolution", "--step", "2", "--project", "house_mlp"],
     "house_mlp: this project has no node called conv1"),
])
def test_errors_are_messages_with_exit_2(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_a_lesson_file_can_be_named_directly(tmp_path, capsys):
    path = ROOT / "resources" / "lessons" / "09-pooling.json"
    assert main(["lesson", "check", "lenet5", "--lesson", str(path), "--step", "1"]) == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "layerlab-lesson"}')
    assert main(["lesson", "show", "--lesson", str(bad)]) == 2
    assert "bad.json cannot be used as a lesson" in capsys.readouterr().err


def test_docs_list_the_current_vocabulary(capsys):
    docs = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    assert vocabulary_markdown() in docs, "regenerate: layerlab lessons --vocabulary --markdown"
    for lesson in bundled_lessons():
        assert f"| `{lesson.id}` | {lesson.title} |" in docs, f"docs/lessons.md lacks {lesson.id}"
    assert main(["lessons", "--vocabulary"]) == 0
    assert "output_shape" in capsys.readouterr().out
