"""Loading lessons: every problem is reported with the file, the step and the field, never as a
traceback — also for fuzzed files."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerlab.engine.lessons import (LessonLoadError, bundled_lessons, find_lesson,
                                     lesson_from_dict, lessons_dir, load_lesson, load_lessons,
                                     loads_lesson)

GOOD = {
    "format": "layerlab-lesson", "version": 1, "id": "tiny", "title": "Tiny",
    "concepts": ["convolution"],
    "steps": [
        {"title": "Add a filter", "text": ["One.", "Two."], "action": "Add conv1.",
         "start": {"project": {"format": "layerlab", "version": 1, "name": "t",
                               "nodes": [{"id": "input", "type": "Input",
                                          "params": {"shape": [1, 8, 8]}}]}},
         "check": {"kind": "node", "node": "conv1", "type": "Conv2d"},
         "show_me": {"label": "Add it", "edits": [
             {"op": "add_node", "id": "conv1", "type": "Conv2d",
              "params": {"out_channels": 4, "kernel_size": 3}},
             {"op": "connect", "source": "input", "target": "conv1"}]}},
        {"text": "Predict.", "quiz": {"kind": "output_shape", "node": "conv1"}},
    ]}


def problems_of(data):
    with pytest.raises(LessonLoadError) as err:
        lesson_from_dict(data, "tiny.json")
    assert str(err.value).startswith("tiny.json cannot be used as a lesson")
    return [(p.location, p.message) for p in err.value.problems]


def edited(**changes):
    data = copy.deepcopy(GOOD)
    for path, value in changes.items():
        target = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is ...:
            del target[keys[-1]]
        elif isinstance(target, list):
            target[int(keys[-1])] = value
        else:
            target[keys[-1]] = value
    return data


def test_the_good_lesson_loads_and_continues_from_step_to_step():
    lesson = lesson_from_dict(GOOD, "tiny.json")
    assert lesson.steps[0].text == "One.\n\nTwo."
    assert lesson.steps[1].start is None                       # continues on the document
    assert list(lesson.start_project(2).graph.nodes) == ["input", "conv1"]
    # written without positions: laid out so that nodes do not sit on each other
    positions = [n.position for n in lesson.start_project(2).graph.nodes.values()]
    assert len(set(positions)) == 2


@pytest.mark.parametrize("changes,location,words", [
    ({"id": "Tiny Lesson"}, "id", "lowercase letters"),
    ({"concepts": ["convolutions"]}, "concepts[0]", "unknown concept 'convolutions'"),
    ({"format": "x"}, "format", 'must be "layerlab-lesson"'),
    ({"extra": 1}, "extra", "unknown field"),
    ({"steps": []}, "steps", "non-empty list"),
    ({"steps__0__check__kind": "layers"}, "step 1.check.kind", "unknown check kind 'layers'"),
    ({"steps__0__check__params": {"kernel": 3}}, "step 1.check", "no parameter 'kernel'"),
    ({"steps__0__show_me": ...}, "step 1.show_me", "needs a \"Show me\""),
    ({"steps__0__action": ...}, "step 1.action", "is required"),
    ({"steps__0__start": ...}, "step 1.start", "first step needs a start"),
    ({"steps__0__start": {"template": "lenet6"}}, "step 1.start.template", "no template"),
    ({"steps__0__start": {"template": "../x"}}, "step 1.start.template", "bundled template"),
    ({"steps__0__start": {"pack": "digits"}}, "step 1.start.pack", "not in a workshop pack"),
    ({"steps__0__start__project__nodes__0__type": "Inputt"},
     "step 1.start.project.nodes[0] (input).type", "unknown layer type"),
    ({"steps__0__show_me__edits__0__op": "add"}, "step 1.show_me", "unknown op 'add'"),
    ({"steps__1__quiz__node": "conv9"}, "step 2.quiz", "no node called conv9"),
    ({"steps__1__quiz__kind": "guess"}, "step 2.quiz.kind", "unknown quiz kind"),
    ({"steps__1__quiz": ...}, "step 2", "needs a check"),
    ({"steps__1__text": 5}, "step 2.text", "is required"),
])
def test_problems_are_located(changes, location, words):
    found = problems_of(edited(**changes))
    assert any(loc == location and words in msg for loc, msg in found), found


def test_a_show_me_that_does_not_fit_its_start_is_caught_at_load():
    data = edited(steps__0__show_me__edits__1__source="inputs")
    found = problems_of(data)
    assert found == [("step 1.show_me", "does not apply to the step's starting project: edit 2 "
                                        "(connect inputs → conv1): there is no node called "
                                        "'inputs'")]


def test_text_errors_and_newer_versions(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "layerlab-lesson",\n "id": }')
    with pytest.raises(LessonLoadError, match=r"line 2, column 8: not valid JSON"):
        load_lesson(path)
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(LessonLoadError, match="not UTF-8"):
        load_lesson(path)
    with pytest.raises(LessonLoadError, match="newer LayerLab"):
        lesson_from_dict(edited(version=9))
    with pytest.raises(LessonLoadError, match="No such file"):
        load_lesson(tmp_path / "missing.json")
    with pytest.raises(LessonLoadError, match="NaN is not allowed"):
        loads_lesson('{"id": NaN}')


def test_one_broken_file_does_not_hide_the_others_and_ids_are_unique(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(GOOD))
    (tmp_path / "b.json").write_text(json.dumps(GOOD))
    (tmp_path / "c.json").write_text("[]")
    lessons, errors = load_lessons(tmp_path)
    assert [lesson.id for lesson in lessons] == ["tiny"]
    assert [e.source.rsplit("/", 1)[-1] for e in errors] == ["b.json", "c.json"]
    assert "already the id of a.json" in str(errors[0])


def test_bundled_lessons_load_in_course_order():
    lessons = bundled_lessons()
    assert lessons[0].id == "single-neuron" and lessons[-1].id == "lenet-alexnet"
    assert find_lesson("convolution").title.startswith("Convolution")
    with pytest.raises(KeyError, match="no lesson 'nope'"):
        find_lesson("nope")
    assert sorted(p.name for p in lessons_dir().glob("*.json")) == \
        sorted(p.name for p in lessons_dir().iterdir())


# --- fuzzing -------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False)
                    | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, prefix + (i,))


PATHS = list(_paths(GOOD))[1:]


def _load(data):
    try:
        lesson = lesson_from_dict(data, "fuzz.json")
    except LessonLoadError as exc:
        assert exc.problems and all(isinstance(p.message, str) for p in exc.problems)
        return
    for step in lesson.steps:   # whatever loads, can be followed
        lesson.solve(step.number)
        lesson.check(step.number, lesson.start_project(step.number))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=JSON, delete=st.booleans())
def test_fuzzed_lessons_load_or_say_where(path, value, delete):
    data = copy.deepcopy(GOOD)
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = value
    _load(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzzed_bytes_never_raise_anything_else(raw):
    try:
        loads_lesson(raw, "fuzz.json")
    except LessonLoadError:
        pass


def test_deep_nesting_is_an_error_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(LessonLoadError):
        loads_lesson(deep)
