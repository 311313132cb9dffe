"""A tampered trainer.json (issue 13, defect 4: an edited history raised ``TypeError:
EpochSnapshot.__init__()…``) is refused with the documented CheckpointError naming the file
and what is wrong; whatever is accepted resumes and trains. Fuzzed with hypothesis."""
import copy
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerlab.engine.compose import Composer
from layerlab.engine.training import CheckpointError, Trainer, load_checkpoint, save_checkpoint

from training_helpers import digits, one_thread  # noqa: F401

CFG = {"epochs": 3, "batch_size": 32, "seed": 1, "device": "cpu"}


def graph():
    g = Composer()
    x = g.layer("Flatten", g.input([1, 8, 8]), id="flatten")
    x = g.layer("ReLU", g.layer("Linear", x, id="fc1", out_features=12), id="relu")
    g.layer("Linear", x, id="fc2", out_features=10)
    return g.graph


@pytest.fixture(scope="module")
def saved(digits):
    """A checkpoint saved in the middle of epoch 2, and a trainer to load it into."""
    folder = Path(tempfile.mkdtemp(prefix="layerlab-ckpt-"))
    trainer = Trainer(graph(), digits, CFG)
    trainer.pause()
    trainer.start()
    trainer.step(13, wait=True, timeout=60)     # 10 batches per epoch: in epoch 2
    save_checkpoint(folder, trainer)
    trainer.stop(wait=True, timeout=60)
    meta = json.loads((folder / "trainer.json").read_text())
    assert meta["batch"] == 3 and len(meta["history"]) == 1
    yield folder, meta, Trainer(graph(), digits, CFG)
    shutil.rmtree(folder, ignore_errors=True)


def check(folder: Path, meta, trainer) -> str | None:
    """Write ``meta`` as trainer.json, load it and train on (to the config's 3 epochs).
    Returns the refusal's message (None when accepted); anything but a CheckpointError
    fails the test."""
    (folder / "trainer.json").write_text(json.dumps(meta, allow_nan=True))
    try:
        trainer.resume_from(load_checkpoint(folder))
    except CheckpointError as exc:
        return str(exc)
    result = trainer.run()
    assert result.status in ("stopped", "finished", "diverged"), result.message
    return None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=4)


@st.composite
def tampered(draw, meta):
    meta = copy.deepcopy(meta)
    row = meta["history"][0]
    target = draw(st.sampled_from(["top", "meter", "row", "history"]))
    if target == "history":
        meta["history"] = draw(st.sampled_from([[], [row, row], [row, "x"], {"0": row}]))
        return meta
    obj = {"top": meta, "meter": meta["meter"], "row": row}[target]
    key = draw(st.sampled_from(sorted(obj) + ["unknown"]))
    if draw(st.booleans()) and key in obj:
        del obj[key]
    else:
        obj[key] = draw(json_values)
    return meta


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_tampered_trainer_json_is_refused_by_name_or_trains(saved, data):
    folder, meta, trainer = saved
    message = check(folder, data.draw(tampered(meta)), trainer)
    if message is not None and "trainer.json" not in message:
        # Refusals that are not about the file's content name what does not fit instead.
        assert "does not fit" in message or "middle of an epoch" in message, message


@pytest.mark.parametrize("edit, expected", [
    (lambda m: m["history"][0].update(val_acc="high"),
     r"history\[0\]\.val_acc must be a number or null \(found \"high\"\)"),
    (lambda m: m["history"][0].update(note="edited"), r"history\[0\]\.note: unknown field"),
    (lambda m: m["history"][0].pop("train_loss"), r"history\[0\]\.train_loss is missing"),
    (lambda m: m.pop("global_step"), "global_step is missing"),
    (lambda m: m.update(epoch=2), "history has 1 epoch but epoch says 2 were trained"),
    (lambda m: m.update(batch=99), "batch 99 is not inside an epoch of 10 batches"),
    (lambda m: m["meter"].update(count=-1), r"meter\.count must be 0 or more"),
    (lambda m: m.update(base_lr="0.01"), r"base_lr must be a number \(found \"0.01\"\)"),
    (lambda m: m.update(version="1"), r"version must be a whole number"),
])
def test_each_kind_of_damage_is_named(saved, edit, expected):
    folder, meta, trainer = saved
    meta = copy.deepcopy(meta)
    edit(meta)
    message = check(folder, meta, trainer)
    assert message is not None and "trainer.json" in message
    assert pytest.importorskip("re").search(expected, message), message


def test_the_untouched_checkpoint_still_resumes(saved):
    folder, meta, trainer = saved
    assert check(folder, meta, trainer) is None
