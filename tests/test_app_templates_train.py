"""Every template trains from the window's defaults (issue 10): the project File ▸ New
creates from a template is trained by the window's worker as it stands — no path, no edits,
its own dataset and training settings — and a batch goes through. The command line's side
(``layerlab train NAME``) is tests/test_templates.py."""
from __future__ import annotations

import pytest

from layerlab.engine.templates import list_templates, load_template

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, wait_idle,  # noqa: F401
                               wait_state)
from test_templates import HEAVY

#: A batch of the worked example (16 images of 3×256×256 through 64 filters) and its
#: feature maps take seconds: trained in the window by the slow test with the heavy ones.
SLOW_IN_WINDOW = HEAVY | {"worked_example"}
LIGHT = sorted(t.key for t in list_templates() if t.key not in SLOW_IN_WINDOW)


def _one_batch_in_the_window(qtbot, d, key: str, timeout: int = WAIT_MS) -> None:
    """Open ``key`` as the gallery does (an unsaved project), press Step: one batch trains
    on the window's defaults, and nothing says training failed or cannot start."""
    d.window.files.load_into(load_template(key), None)
    qtbot.waitUntil(lambda: d.project_state.worker.ready, timeout=WAIT_MS)
    assert d.doc.path is None and d.doc.project.dataset == load_template(key).dataset
    assert d.step(), key
    qtbot.waitUntil(lambda: d.project_state.run.final is not None
                    and d.project_state.run.final.step == 1
                    or d.state == "idle" and d.project_state.message is not None,
                    timeout=timeout)
    message = d.project_state.message
    assert message is None or message.kind != "error", (key, message)
    assert d.project_state.run.final.step == 1, key
    wait_state(qtbot, d, "paused")
    d.stop()
    wait_idle(qtbot, d)
    assert d.session is not None, (key, d.project_state.message, d.project_state.run.result)
    assert d.session.step == 1, key
    if d.session.task == "classification":              # "1,000 classes", as a person reads
        flush(d)
        assert f"· {len(d.session.class_names):,} classes" in d.panel.dataset_text.text(), key
    d.window.editor.mark_saved()
    d.discard_weights()


def test_every_light_template_trains_a_batch_in_the_window(qtbot, dash):
    for key in LIGHT:
        _one_batch_in_the_window(qtbot, dash, key)


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(SLOW_IN_WINDOW))
def test_heavy_templates_train_a_batch_in_the_window(qtbot, dash, key):
    # A batch of VGG-16 is 32 × 15.5 GMACs forward and twice that back: minutes on a
    # shared 2-core machine.
    _one_batch_in_the_window(qtbot, dash, key, timeout=10 * WAIT_MS)
