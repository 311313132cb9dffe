"""Opening packs nobody vouched for: traversal, links, bombs, lying headers, junk — each refused
with the member named and what is wrong, nothing written; and fuzzed bytes never raise anything
but PackError."""
from __future__ import annotations

import io
import json
import stat
import struct
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerlab.engine.lessons.pack import (Limits, PackError, build_pack, is_pack, open_pack,
                                          read_pack_bytes)
from layerlab.engine.project import dumps_project
from layerlab.engine.templates import load_template

PROJECT = dumps_project(load_template("house_mlp")).encode()
MANIFEST = {"format": "layerlab-pack", "version": 1, "title": "T", "seed": 1,
            "projects": [{"key": "house", "file": "projects/house.json"}]}


def zip_of(members: dict, manifest: dict | None = MANIFEST, *, attrs: dict | None = None,
           method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        if manifest is not None:
            z.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            if attrs and name in attrs:
                info.external_attr = attrs[name]
            z.writestr(info, data)
    return buffer.getvalue()


def refused(raw: bytes, limits: Limits | None = None) -> list[tuple[str, str]]:
    with pytest.raises(PackError) as err:
        read_pack_bytes(raw, "evil.llpack", *(limits and [limits] or []))
    assert str(err.value).startswith("evil.llpack cannot be opened as a workshop pack")
    return [(p.location, p.message) for p in err.value.problems]


def test_a_minimal_pack_opens():
    pack = read_pack_bytes(zip_of({"projects/house.json": PROJECT}))
    assert list(pack.projects) == ["house"] and pack.lessons == []


@pytest.mark.parametrize("name,words", [
    ("../escape.json", "'..' part"),
    ("projects/../../escape.json", "'..' part"),
    ("/etc/passwd", "absolute path"),
    ("C:/Windows/x.json", "character not allowed"),
    ("projects\\..\\x.json", "character not allowed"),
    ("projects//x.json", "empty"),
    ("projects/./x.json", "'.' or '..' part"),
    ("projects/x\x01.json", "control character"),
    ("run.py", "not part of a workshop pack"),
    ("data/model.pt", "not part of a workshop pack"),
    ("projects/sub/x.json", "not part of a workshop pack"),
    ("x" * 300, "1 to 200 characters"),
])
def test_bad_member_names_are_refused(name, words):
    found = refused(zip_of({"projects/house.json": PROJECT, name: b"{}"}))
    assert any(words in message for _, message in found), found


def test_links_and_duplicates_and_unlisted_members():
    link = (stat.S_IFLNK | 0o777) << 16
    found = refused(zip_of({"projects/house.json": PROJECT, "data/x.csv": b"/etc/passwd"},
                           attrs={"data/x.csv": link}))
    assert ("data/x.csv", "a symbolic link — packs hold plain files only") in found
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("manifest.json", json.dumps(MANIFEST))
        z.writestr("projects/house.json", PROJECT)
        z.writestr("projects/House.json", PROJECT)
    found = refused(buffer.getvalue())
    assert ("projects/House.json", "a second member with this name (also "
                                   "'projects/house.json')") in found
    found = refused(zip_of({"projects/house.json": PROJECT, "data/extra.csv": b"a\n1\n"}))
    assert ("data/extra.csv", "in the pack but not listed in manifest.json") in found


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    bomb = b"0" * (50 * 1024 * 1024)
    manifest = {**MANIFEST, "data": ["data/bomb.csv"]}
    found = refused(zip_of({"projects/house.json": PROJECT, "data/bomb.csv": bomb}, manifest))
    assert len(found) == 1 and found[0][0] == "data/bomb.csv"
    assert found[0][1].startswith("compressed ") and found[0][1].endswith(
        " to 1 — refused as a zip bomb")


def test_size_limits_name_the_member():
    small = Limits(text_bytes=1000, data_bytes=10, total_bytes=5000, members=4)
    manifest = {**MANIFEST, "data": ["data/a.csv"]}
    found = refused(zip_of({"projects/house.json": PROJECT, "data/a.csv": b"x" * 11},
                           manifest), small)
    assert ("projects/house.json", f"{len(PROJECT):,} bytes; at most 1,000 for this kind of "
                                   "member") in found
    assert ("data/a.csv", "11 bytes; at most 10 for this kind of member") in found
    many = {f"data/{i}.csv": b"1" for i in range(5)}
    assert refused(zip_of(many), small) == [("", "6 members; a pack holds at most 4")]


def _set_sizes(raw: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of ``name`` in both the local and central headers."""
    out = bytearray(raw)
    local = out.find(b"PK\x03\x04" + b"", 0)
    while local != -1:
        n = struct.unpack_from("<H", out, local + 26)[0]
        if out[local + 30:local + 30 + n] == name:
            struct.pack_into("<I", out, local + 22, size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        n = struct.unpack_from("<H", out, central + 28)[0]
        if out[central + 46:central + 46 + n] == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_a_header_that_understates_the_size_is_caught_while_reading():
    raw = zip_of({"projects/house.json": PROJECT}, method=zipfile.ZIP_STORED)
    lying = _set_sizes(raw, b"projects/house.json", 100)
    found = refused(lying)
    assert found and found[0][0] == "projects/house.json", found
    assert "cannot be read" in found[0][1] or "more than its header" in found[0][1]


def test_encrypted_members_are_refused():
    raw = bytearray(zip_of({"projects/house.json": PROJECT}, method=zipfile.ZIP_STORED))
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        flags = struct.unpack_from("<H", raw, central + 8)[0]
        struct.pack_into("<H", raw, central + 8, flags | 1)
        central = raw.find(b"PK\x01\x02", central + 4)
    assert ("manifest.json", "encrypted — packs are not encrypted") in refused(bytes(raw))


@pytest.mark.parametrize("manifest,location,words", [
    ({**MANIFEST, "format": "zip"}, "manifest.json: format", 'must be "layerlab-pack"'),
    ({**MANIFEST, "version": 2}, "manifest.json: version", "newer LayerLab"),
    ({**MANIFEST, "seed": -1}, "manifest.json: seed", "whole number"),
    ({**MANIFEST, "projects": [{"key": "a b", "file": "projects/house.json"}]},
     "manifest.json: projects[0].key", "short name"),
    ({**MANIFEST, "projects": [{"key": "h", "file": "projects/other.json"}]},
     "manifest.json: projects[0].file", "not in the pack"),
    ({**MANIFEST, "lessons": [{"file": "lessons/x.json"}]}, "manifest.json: lessons[0].file",
     "not in the pack"),
    ({**MANIFEST, "locks": [{"target": "fc1", "param": "out_features"}]},
     "manifest.json: locks[0].reason", "tell the students why"),
    ({**MANIFEST, "start": {"lesson": "nope"}}, "manifest.json: start", "naming one of"),
    ({**MANIFEST, "extra": 1}, "manifest.json: extra", "unknown field"),
])
def test_manifest_problems_are_located(manifest, location, words):
    found = refused(zip_of({"projects/house.json": PROJECT}, manifest))
    assert any(loc == location and words in msg for loc, msg in found), found


def test_member_contents_are_located():
    found = refused(zip_of({"projects/house.json": b'{"format": "layerlab", "version": 1, '
                                                   b'"nodes": [{"id": "x", "type": "Nope"}]}'}))
    assert any(loc == "projects/house.json: nodes[0] (x).type" for loc, _ in found), found
    bad_lesson = {**MANIFEST, "lessons": [{"file": "lessons/l.json"}]}
    found = refused(zip_of({"projects/house.json": PROJECT,
                            "lessons/l.json": b'{"format": "layerlab-lesson", "version": 1, '
                                              b'"id": "l", "title": "L", "concepts": ["x"], '
                                              b'"steps": []}'}, bad_lesson))
    assert ("lessons/l.json: concepts[0]", "unknown concept 'x' (known: neuron, layers, "
            "activation, forward, loss, backprop, learning-rate, batch-epoch, convolution, "
            "stride, padding, pooling, flatten, softmax, metrics, overfitting, regularization, "
            "normalization, tabular, architectures)") in found


def test_extraction_writes_only_inside_the_folder(tmp_path):
    pack = build_pack(tmp_path / "p.llpack", title="T", seed=1,
                      projects=[("house", load_template("house_mlp"), None)])
    out = pack.extract(tmp_path / "out")
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["manifest.json", "projects/house.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "p.llpack"]


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.llpack"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(PackError, match="not a zip file"):
        open_pack(path)
    assert not is_pack(path)


# --- fuzzing -------------------------------------------------------------------------------

GOOD = zip_of({"projects/house.json": PROJECT})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_packs_never_raise_anything_else(data):
    raw = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    try:
        read_pack_bytes(bytes(raw), "fuzz.llpack")
    except PackError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=30), max_size=4),
       manifest=st.dictionaries(st.sampled_from(["format", "version", "title", "seed",
                                                 "projects", "lessons", "locks", "data",
                                                 "start"]),
                                st.none() | st.integers() | st.text(max_size=5)
                                | st.lists(st.dictionaries(st.sampled_from(
                                    ["key", "file", "target", "param", "reason", "lesson"]),
                                    st.text(max_size=25), max_size=4), max_size=3),
                                max_size=9))
def test_fuzzed_members_and_manifests_say_what_is_wrong(names, manifest):
    try:
        raw = zip_of({name: b"{}" for name in names}, manifest)
    except (ValueError, UnicodeEncodeError):
        return   # names zipfile itself cannot write
    try:
        read_pack_bytes(raw, "fuzz.llpack")
    except PackError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
