"""Workshop packs in the window: built by a teacher (File ▸ New Workshop Pack…), opened from
File ▸ Open / `layerlab FILE.llpack` into workshop mode offline — the first project open, the
Lessons panel at the pack's lesson, locked fields read-only with the teacher's reason
(inspector, training panel, dataset dialog) and refused on the undo stack, the pack's seed in
training — and a bad pack is a message, never a traceback."""
from __future__ import annotations

import zipfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PySide6.QtWidgets import QApplication

from layerlab.app.dashboard.settings_commands import set_setting
from layerlab.engine.edits import Fix, SetParams, SetSection
from layerlab.engine.lessons import find_lesson
from layerlab.engine.lessons.pack import SEED_REASON, Lock, build_pack, open_pack
from layerlab.engine.project import project_to_dict
from layerlab.engine.templates import load_template

from app_helpers import dialogs, make_window, window  # noqa: F401
from dashboard_helpers import WAIT_MS, wait_idle, wait_ready

KERNEL_REASON = "Today we compare 3×3 filters"
BATCH_REASON = "Everyone uses the same batches"
SPLIT_REASON = "The same validation digits for everyone"


def digits(epochs: int = 1):
    project = load_template("digits_cnn")
    project.training = {**project.training, "epochs": epochs, "device": "cpu"}
    return project


def make_pack(tmp_path, seed: int = 1234):
    path = tmp_path / "day1.llpack"
    build_pack(path, title="CNN day 1", seed=seed,
               projects=[("digits", digits(), None), ("house", load_template("house_mlp"), None)],
               lessons=[find_lesson("first-cnn"), find_lesson("convolution")],
               locks=[Lock("conv1", "kernel_size", KERNEL_REASON, "digits"),
                      Lock("training", "batch_size", BATCH_REASON),
                      Lock("dataset", "val_fraction", SPLIT_REASON)],
               start_lesson="first-cnn")
    return path


def open_it(window, path):
    window.workshop.folder = path.parent / "extracted"
    assert window.files.open_path(path)
    QApplication.processEvents()


def test_opening_a_pack_starts_workshop_mode(window, tmp_path):
    path = make_pack(tmp_path)
    open_it(window, path)
    ws = window.workshop
    assert ws.active and ws.pack.title == "CNN day 1"
    assert window.document.project.name == load_template("digits_cnn").name
    assert window.document.path == ws.pack_dir / "projects" / "digits.json"
    assert ws.pack_dir.parent == tmp_path / "extracted"          # its own per-user folder
    assert (ws.pack_dir / "manifest.json").is_file()
    assert ws.walk.lesson.id == "first-cnn"                       # the pack's lesson
    assert window.dashboard.docks["lessons"].isVisible()
    view = window.dashboard.views["lessons"].view
    QApplication.processEvents()
    view.flush()
    assert "Workshop: CNN day 1 · seed 1234" in view.pack_banner.text()
    assert (window.document.project.training or {})["seed"] == 1234


def test_file_open_pack_opens_the_chosen_pack(window, tmp_path, dialogs):
    dialogs.open_path = str(make_pack(tmp_path))
    window.workshop.folder = tmp_path / "extracted"
    window.act_open_pack.trigger()
    QApplication.processEvents()
    assert window.workshop.active and window.workshop.pack.title == "CNN day 1"
    assert window.workshop.walk.lesson.id == "first-cnn"


def test_a_locked_field_is_read_only_with_the_reason_and_refused_every_way(window, tmp_path):
    open_it(window, make_pack(tmp_path))
    ed, doc = window.editor, window.document
    # The inspector: a padlock and the reason; the field does not take edits.
    ed.selection.select(["conv1"])
    inspector = window.inspector
    kernel = inspector.editors["kernel_size"]
    assert kernel.locked_reason == KERNEL_REASON
    assert not kernel.h.isEnabled()
    assert kernel._lock_mark.isVisibleTo(kernel) and KERNEL_REASON in kernel._lock_mark.toolTip()
    note = inspector._lock_notes["kernel_size"]
    assert note.isVisibleTo(inspector) and note.text() == f"Locked: {KERNEL_REASON}"
    assert inspector.editors["out_channels"].locked_reason is None      # others stay free
    before = project_to_dict(doc.project)
    inspector._edited("kernel_size", 5)                 # however the value got there
    assert project_to_dict(doc.project) == before
    assert KERNEL_REASON in ed.last_refusal and "conv1.kernel_size" in ed.last_refusal
    # A one-click fix or a lesson's Show me that would change it: refused, with the reason.
    assert not ed.apply_fix(Fix("Bigger filters", (SetParams("conv1", {"kernel_size": 5}),)))
    assert KERNEL_REASON in ed.last_refusal and project_to_dict(doc.project) == before
    assert not ed.apply_fix(Fix("Batches", (SetSection("training", {"batch_size": 7}),)))
    assert BATCH_REASON in ed.last_refusal
    assert not ed.delete(["conv1"]) and KERNEL_REASON in ed.last_refusal
    assert not ed.rename("conv1", "conv_a")
    # Undo of an edit made before the lock (here: with the locks set aside) is refused too.
    locks = ed.value_locks
    ed.set_value_locks(None)
    assert ed.set_param("conv1", "kernel_size", 5)
    ed.set_value_locks(locks)
    assert not ed.undo() and KERNEL_REASON in ed.last_refusal
    assert doc.node("conv1").params["kernel_size"] == 5
    # A free value still changes, and its undo still works.
    assert ed.set_param("conv1", "out_channels", 8)
    assert ed.undo() and doc.node("conv1").params.get("out_channels") != 8


def test_the_training_panel_and_the_dataset_dialog_show_the_locks(window, tmp_path):
    from layerlab.app.dashboard.dialogs.dataset_dialog import DatasetDialog
    open_it(window, make_pack(tmp_path))
    d, ed = window.dashboard, window.editor
    panel = d.panel
    assert panel.batch_size.lock_mark.reason == BATCH_REASON and not panel.batch_size.isEnabled()
    assert panel.seed.lock_mark.reason == SEED_REASON and not panel.seed.isEnabled()
    assert panel.lr.lock_mark.reason is None and panel.lr.isEnabled()
    assert panel.locks_note.isVisibleTo(panel) and BATCH_REASON in panel.locks_note.text()
    panel.set_run_state("idle", False, True)            # a run's end enables fields again…
    assert not panel.batch_size.isEnabled()              # …but never a locked one
    assert not set_setting(ed, d.notifier, "training", "seed", 7)
    assert SEED_REASON in ed.last_refusal
    dialog = DatasetDialog("digits", dict(window.document.project.dataset or {}), None, window,
                           project=window.document.project, locks=ed.locked_value)
    split = dialog.editor("val_fraction")
    assert split.locked_reason == SPLIT_REASON and not split.spin.isEnabled()
    assert dialog.editor("limit").locked_reason is None
    dialog.values["val_fraction"] = 0.5                  # however the dialog got it
    assert not dialog.apply(ed, d.notifier) and SPLIT_REASON in ed.last_refusal
    dialog.deleteLater()


def test_a_lesson_step_from_a_template_keeps_the_global_locks_and_the_seed(window, tmp_path):
    open_it(window, make_pack(tmp_path))
    ws, ed = window.workshop, window.editor
    assert ws.open_lesson("convolution", from_start=True)   # starts from its own project
    assert window.document.path is None and ws.project_key == ""
    assert window.document.project.training["seed"] == 1234
    assert ed.locked_value("training", "batch_size") == BATCH_REASON
    ws.show_me()
    assert ed.locked_value("conv1", "kernel_size") is None   # the digits project's lock only


def test_a_pack_made_in_the_window_opens_in_the_window(window, tmp_path, dialogs):
    from layerlab.app.workshop.pack_dialog import PackDialog
    window.files.load_into(digits(), None)
    dialog = PackDialog(window)
    assert dialog.project_list.count() == 1            # the open project, to begin with
    dialog.add_template("house_mlp")
    dialog.title.setText("Friday")
    dialog.seed.setValue(99)
    dialog.tick_lessons({"first-cnn", "learning-rate"})
    dialog.start.setCurrentIndex(dialog.start.findData("learning-rate"))
    key = dialog.plan.projects[0][0]
    assert not dialog.add_lock("conv1", "kernel_size", "  ", key)      # a reason is required
    assert "reason" in dialog.problems.text()
    assert dialog.add_lock("conv1", "kernel_size", KERNEL_REASON, key)
    assert dialog.add_lock("training", "lr", "We compare one learning rate")
    assert dialog.lock_table.rowCount() == 2
    out = tmp_path / "friday.llpack"
    assert dialog.save(out)
    pack = open_pack(out)
    assert (pack.title, pack.seed, pack.start_lesson) == ("Friday", 99, "learning-rate")
    assert {lesson.id for lesson in pack.lessons} == {"first-cnn", "learning-rate"}
    assert pack.is_locked("conv1", "kernel_size", key) == KERNEL_REASON
    window.editor.mark_saved()
    open_it(window, out)
    assert window.workshop.walk.lesson.id == "learning-rate"
    assert window.editor.locked_value("training", "lr") == "We compare one learning rate"


def test_the_pack_dialog_lists_what_build_pack_refuses(window, tmp_path):
    from layerlab.app.workshop.pack_dialog import PackDialog
    dialog = PackDialog(window)                          # an empty canvas: no project yet
    assert not dialog.save(tmp_path / "x.llpack")
    assert "at least one project" in dialog.problems.text()
    dialog.add_template("digits_cnn")
    dialog.add_lock("conv9", "kernel_size", "gone")      # a node no project has
    assert not dialog.save(tmp_path / "x.llpack")
    assert "conv9" in dialog.problems.text() and not (tmp_path / "x.llpack").exists()


def test_a_bad_pack_is_a_message_and_the_work_stays(window, tmp_path, dialogs):
    window.files.load_into(digits(), None)
    before = project_to_dict(window.document.project)
    bad = tmp_path / "broken.llpack"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("manifest.json", '{"format": "layerlab-pack", "version": 1}')
        z.writestr("run.py", "import os")
    window.workshop.folder = tmp_path / "extracted"
    assert not window.files.open_path(bad, confirm=False)
    assert [d["title"] for d in dialogs.shown] == ["Cannot open workshop pack"]
    assert "run.py: not part of a workshop pack" in dialogs.shown[0]["details"]
    assert project_to_dict(window.document.project) == before and not window.workshop.active


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_packs_never_raise(window, tmp_path, dialogs, data):
    good = make_pack(tmp_path).read_bytes()
    raw = bytearray(good)
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = bytes(raw[:data.draw(st.integers(0, len(raw)))])
    path = tmp_path / "fuzz.llpack"
    path.write_bytes(raw)
    dialogs.shown.clear()
    window.workshop.folder = tmp_path / "fuzz-extracted"
    opened = window.files.open_path(path, confirm=False)     # never raises
    assert opened or [d["title"] for d in dialogs.shown] == ["Cannot open workshop pack"]
    window.editor.mark_saved()


def test_the_packs_seed_reaches_training(qtbot, tmp_path, dialogs):
    window = make_window(tmp_path, qtbot)
    d = window.dashboard
    try:
        open_it(window, make_pack(tmp_path, seed=4321))
        sent = []
        call = d.binding.call
        d.binding.call = lambda name, **kw: (sent.append((name, kw)), call(name, **kw))[1]
        wait_ready(qtbot, d)
        assert d.train(start_over=True)
        qtbot.waitUntil(lambda: bool(window.workshop.runs), timeout=WAIT_MS)
        wait_idle(qtbot, d)
        train = [kw for name, kw in sent if name == "train"]
        assert [kw["project"]["training"]["seed"] for kw in train] == [4321]
        record = window.workshop.runs[-1]
        assert record.settings["seed"] == 4321 and record.status == "finished"
        assert record.project.training["seed"] == 4321
    finally:
        d.stop()
        qtbot.waitUntil(lambda: d.idle, timeout=WAIT_MS)
        window.editor.mark_saved()
        d.discard_weights()
        d.shutdown()


@pytest.mark.parametrize("name", ["notes.txt", "day.llpack"])
def test_files_that_are_not_packs_still_open_as_projects_or_say_why(window, tmp_path, dialogs,
                                                                     name):
    path = tmp_path / name
    path.write_text("not a pack, not a project")
    assert not window.files.open_path(path, confirm=False)
    titles = [d["title"] for d in dialogs.shown]
    assert titles == (["Cannot open workshop pack"] if name.endswith(".llpack")
                      else ["Cannot open project"])
