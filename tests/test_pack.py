"""Workshop packs: made, opened, extracted, locks reported and enforced headless, the commands."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from layerlab.engine.cli import main
from layerlab.engine.edits import SetParams, SetSection, apply_edits
from layerlab.engine.lessons import find_lesson
from layerlab.engine.lessons.pack import (SEED_REASON, Lock, PackError, build_pack, is_pack,
                                          open_pack)
from layerlab.engine.project import load_project, save_project
from layerlab.engine.templates import load_template

ROOT = Path(__file__).resolve().parent.parent


def make(tmp_path, **kw):
    args = dict(title="CNN day 1", seed=42,
                projects=[("digits", load_template("digits_cnn"), None),
                          ("house", load_template("house_mlp"), None)],
                lessons=[find_lesson("first-cnn"), find_lesson("learning-rate")],
                locks=[Lock("conv1", "kernel_size", "Today we compare 3×3 filters", "digits"),
                       Lock("training", "batch_size", "Everyone uses the same batches")],
                description="Filters and learning rates")
    args.update(kw)
    return build_pack(tmp_path / "day1.llpack", **args)


def test_round_trip(tmp_path):
    made = make(tmp_path)
    pack = open_pack(tmp_path / "day1.llpack")
    assert is_pack(tmp_path / "day1.llpack") and not is_pack(ROOT / "README.md")
    assert (pack.title, pack.seed, pack.start_lesson) == ("CNN day 1", 42, "first-cnn")
    assert list(pack.projects) == ["digits", "house"]
    assert [lesson.id for lesson in pack.lessons] == ["first-cnn", "learning-rate"]
    assert all(p.training["seed"] == 42 for p in pack.projects.values())
    assert made.locks == pack.locks


def test_the_same_contents_make_the_same_bytes(tmp_path):
    make(tmp_path)
    first = (tmp_path / "day1.llpack").read_bytes()
    make(tmp_path)
    assert (tmp_path / "day1.llpack").read_bytes() == first


def test_is_locked_gives_the_teachers_reason(tmp_path):
    pack = make(tmp_path)
    assert pack.is_locked("conv1", "kernel_size", "digits") == "Today we compare 3×3 filters"
    assert pack.is_locked("conv1", "kernel_size") == "Today we compare 3×3 filters"
    assert pack.is_locked("conv1", "padding", "digits") is None
    assert pack.is_locked("conv1", "kernel_size", "house") is None
    assert pack.is_locked("training", "batch_size", "house") == "Everyone uses the same batches"
    assert pack.is_locked("training", "seed") == SEED_REASON
    assert pack.is_locked("training", "lr") is None


def test_check_locks_names_what_a_student_changed(tmp_path):
    pack = make(tmp_path)
    digits = pack.projects["digits"]
    assert pack.check_locks(digits) == []
    edited = apply_edits(digits, [SetParams("conv1", {"kernel_size": 5, "out_channels": 4}),
                                  SetSection("training", {"batch_size": 8, "lr": 0.1,
                                                          "seed": 1})])
    messages = [v.message for v in pack.check_locks(edited, "digits")]
    assert messages == [
        "training.seed is 1 but the pack sets 42 — locked: " + SEED_REASON,
        "conv1.kernel_size is 5 but the pack sets 3 — locked: Today we compare 3×3 filters",
        "training.batch_size is 8 but the pack sets 32 — locked: Everyone uses the same "
        "batches"]
    # writing the default explicitly is no change; removing a locked node is
    same = apply_edits(digits, [SetParams("conv1", {"kernel_size": [3, 3]})])
    assert pack.check_locks(same, "digits") == []
    default = apply_edits(digits, [SetParams("conv1", {"kernel_size": None})])
    assert pack.check_locks(default, "digits") == []     # Conv2d's default kernel is 3
    from layerlab.engine.edits import RemoveNode
    removed = apply_edits(digits, [RemoveNode("conv1")])
    assert pack.check_locks(removed, "digits")[-1].message.startswith("conv1 was removed")
    with pytest.raises(KeyError, match="which pack project"):
        pack.check_locks(load_template("lenet5"))


def test_a_whole_node_or_section_can_be_locked(tmp_path):
    pack = make(tmp_path, locks=[Lock("fc2", "*", "The output layer stays as it is"),
                                 Lock("dataset", "*", "Same data for all")])
    digits = pack.projects["digits"]
    assert pack.is_locked("fc2", "out_features") == "The output layer stays as it is"
    assert pack.is_locked("fc2") == "The output layer stays as it is"
    edited = apply_edits(digits, [SetParams("fc2", {"bias": False}),
                                  SetSection("dataset", {"limit": 100})])
    assert [v.lock.target for v in pack.check_locks(edited)] == ["fc2", "dataset"]


@pytest.mark.parametrize("lock,words", [
    (Lock("conv9", "kernel_size", "x"), "no node 'conv9' in any pack project"),
    (Lock("conv1", "kernel", "x", "digits"), "conv1 is Conv2d, which has no parameter "
                                             "'kernel'"),
    (Lock("training", "learning_rate", "x"), "training has no setting 'learning_rate'"),
    (Lock("conv1", "kernel_size", " "), "tell the students why"),
    (Lock("conv1", "kernel_size", "x", "nope"), "no pack project 'nope'"),
])
def test_bad_locks_are_refused_when_the_pack_is_made(tmp_path, lock, words):
    with pytest.raises(PackError, match="cannot be made as a workshop pack") as err:
        make(tmp_path, locks=[lock])
    assert any(words in p.message for p in err.value.problems), err.value.problems
    assert not (tmp_path / "day1.llpack").exists()


def test_a_csv_dataset_travels_with_the_pack_and_trains_after_extraction(tmp_path):
    folder = tmp_path / "teacher"
    folder.mkdir()
    (folder / "exam.csv").write_text("hours,passed\n" + "".join(
        f"{h},{int(h > 5)}\n" for h in range(12)) * 4)
    project = load_template("house_mlp")
    project.dataset = {"kind": "csv", "path": "exam.csv", "target": "passed",
                       "task": "classification"}
    project.graph.nodes["input"].params["shape"] = [1]
    project.graph.nodes["price"].params["out_features"] = 2
    project.training.update(epochs=2, loss="cross_entropy")
    pack = build_pack(tmp_path / "exam.llpack", title="Exam", seed=3,
                      projects=[("exam", project, folder)])
    assert pack.projects["exam"].dataset["path"] == "../data/exam/exam.csv"
    out = pack.extract(tmp_path / "student")
    assert (out / "data" / "exam" / "exam.csv").read_text() == (folder / "exam.csv").read_text()
    assert main(["train", str(out / "projects" / "exam.json")]) == 0


def test_extract_refuses_a_folder_in_use(tmp_path):
    pack = make(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("x")
    with pytest.raises(PackError, match="not empty"):
        pack.extract(tmp_path / "busy")


def test_a_lesson_may_start_from_a_pack_project(tmp_path):
    lesson = {"format": "layerlab-lesson", "version": 1, "id": "ours", "title": "Ours",
              "concepts": ["learning-rate"],
              "steps": [{"text": "Lower it.", "action": "Set lr to 0.001.",
                         "start": {"pack": "digits"},
                         "check": {"kind": "setting", "section": "training", "key": "lr",
                                   "at_most": 0.001},
                         "show_me": {"label": "Lower the lr", "edits": [
                             {"op": "set_section", "section": "training",
                              "values": {"lr": 0.001}}]}}]}
    path = tmp_path / "ours.json"
    path.write_text(json.dumps(lesson))
    pack = make(tmp_path, lessons=[path], locks=[])
    ours = pack.lessons[0]
    assert ours.start_project(1).training["seed"] == 42
    assert not ours.check(1, ours.start_project(1)).ok and ours.check(1, ours.solve(1)).ok


# --- the commands --------------------------------------------------------------------------

def test_pack_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["pack", "create", "-o", "day.llpack", "--title", "Day", "--seed", "7",
                 "--project", "digits_cnn=digits", "--lesson", "first-cnn",
                 "--lock", "digits:conv1.kernel_size=We compare 3×3 filters today",
                 "--lock", "training.lr=Same for all"]) == 0
    assert "1 project(s), 1 lesson(s), 2 lock(s), seed 7" in capsys.readouterr().out
    assert main(["pack", "info", "day.llpack", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["locks"][0] == {"target": "conv1", "param": "kernel_size",
                                "reason": "We compare 3×3 filters today", "project": "digits"}
    assert main(["pack", "extract", "day.llpack", "out"]) == 0
    student = tmp_path / "out" / "projects" / "digits.json"
    assert main(["pack", "verify", "day.llpack", str(student)]) == 0
    project = load_project(student)
    project.graph.nodes["conv1"].params["kernel_size"] = 5
    save_project(project, student)
    capsys.readouterr()
    assert main(["pack", "verify", "day.llpack", str(student)]) == 1
    assert "changed: conv1.kernel_size is 5 but the pack sets 3" in capsys.readouterr().out
    # lesson check with the pack refuses the edited project before looking at the step
    assert main(["lesson", "check", str(student), "--pack", "day.llpack", "--lesson",
                 "first-cnn", "--step", "1"]) == 1
    assert "locked: We compare 3×3 filters today" in capsys.readouterr().out
    assert main(["lessons", "--pack", "day.llpack"]) == 0
    assert "first-cnn" in capsys.readouterr().out


@pytest.mark.parametrize("argv,words", [
    (["pack", "create", "-o", "x.llpack", "--title", "x", "--project", "digits_cnn",
      "--lock", "conv1kernel"], "write [KEY:]TARGET.PARAM=REASON"),
    (["pack", "create", "-o", "x.llpack", "--title", "x", "--project", "nope.json"],
     "cannot be opened"),
    (["pack", "create", "-o", "x.llpack", "--title", "x", "--project", "digits_cnn",
      "--lesson", "nope"], "no lesson 'nope'"),
    (["pack", "info", "missing.llpack"], "No such file"),
    (["pack", "verify", "missing.llpack", "x.json"], "No such file"),
])
def test_pack_command_errors(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_the_manifest_is_documented(tmp_path):
    make(tmp_path)
    with zipfile.ZipFile(tmp_path / "day1.llpack") as z:
        manifest = json.loads(z.read("manifest.json"))
        names = z.namelist()
    assert names[0] == "manifest.json"
    docs = (ROOT / "docs" / "workshop.md").read_text(encoding="utf-8")
    for key in manifest:
        assert f"`{key}`" in docs, key
