"""Reading a pack from bytes nobody vouched for: every member checked before it is used."""
from __future__ import annotations

import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from ... import registry
from ...edits import SECTIONS
from ...formatting import json_short  # the project loader's wording
from ...graph import Project
from ...project import LoadProblem, ProjectLoadError, loads_project
from ..lesson import Lesson, LessonLoadError, loads_lesson
from .model import (DATA_EXTENSIONS, KEY_PATTERN, LIMITS, MANIFEST, MANIFEST_FIELDS, PACK_FORMAT,
                    PACK_VERSION, Limits, Lock, Pack, PackError)

__all__ = ["is_pack", "open_pack", "read_pack_bytes"]


def is_pack(path: str | os.PathLike) -> bool:
    """Cheap test for the launcher: a zip file with a pack manifest (no validation)."""
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(MANIFEST)
            if info.file_size > LIMITS.text_bytes:
                return False
            return json.loads(z.read(info)).get("format") == PACK_FORMAT
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, AttributeError,
            RuntimeError, NotImplementedError, EOFError):
        return False


def open_pack(path: str | os.PathLike, limits: Limits = LIMITS) -> Pack:
    """Read and check a pack file; raises PackError naming every problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limits.pack_bytes:
            raise PackError(str(path), [LoadProblem("", f"the file is {size:,} bytes; packs are "
                                                        f"at most {limits.pack_bytes:,}")])
        raw = path.read_bytes()
    except OSError as exc:
        raise PackError(str(path), [LoadProblem("", exc.strerror or str(exc))]) from None
    return read_pack_bytes(raw, str(path), limits)


def read_pack_bytes(raw: bytes, source: str = "<pack>", limits: Limits = LIMITS) -> Pack:
    try:
        members = _read_members(raw, source, limits)
        return _pack_from_members(members, source)
    except PackError:
        raise
    except RecursionError:
        raise PackError(source, [LoadProblem("", "nested too deeply")]) from None


def _read_members(raw: bytes, source: str, limits: Limits) -> dict[str, bytes]:
    problems: list[LoadProblem] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise PackError(source, [LoadProblem("", f"not a zip file ({exc}) — is this a "
                                                 f"LayerLab workshop pack?")]) from None
    with archive:
        try:
            infos = archive.infolist()
        except Exception as exc:  # noqa: BLE001 — a corrupt central directory, in any form
            raise PackError(source, [LoadProblem("", f"the zip directory is damaged: "
                                                     f"{exc}")]) from None
        if len(infos) > limits.members:
            raise PackError(source, [LoadProblem("", f"{len(infos):,} members; a pack holds at "
                                                     f"most {limits.members:,}")])
        seen: dict[str, str] = {}
        total = 0
        out: dict[str, bytes] = {}
        for info in infos:
            name = info.filename
            problem = _check_name(name, info, limits)
            if problem:
                problems.append(LoadProblem(_shown(name), problem))
                continue
            if name.endswith("/"):
                continue   # a folder entry: nothing to read
            folded = name.casefold()
            if folded in seen:
                problems.append(LoadProblem(_shown(name), f"a second member with this name "
                                                          f"(also {seen[folded]!r})"))
                continue
            seen[folded] = name
            cap = limits.data_bytes if name.startswith("data/") else limits.text_bytes
            if info.file_size > cap:
                problems.append(LoadProblem(name, f"{info.file_size:,} bytes; at most {cap:,} "
                                                  f"for this kind of member"))
                continue
            if info.file_size > 1024 * 1024 and \
                    info.file_size > limits.ratio * max(info.compress_size, 1):
                problems.append(LoadProblem(name, f"compressed {info.file_size / max(info.compress_size, 1):,.0f} "
                                                  f"to 1 — refused as a zip bomb"))
                continue
            if total + info.file_size > limits.total_bytes:
                problems.append(LoadProblem(name, f"the members add up to more than "
                                                  f"{limits.total_bytes:,} bytes"))
                break
            try:
                data = _read_bounded(archive, info, cap)
            except PackError as exc:
                problems.extend(exc.problems)
                continue
            total += len(data)
            out[name] = data
    if problems:
        raise PackError(source, problems)
    return out


def _check_name(name: str, info: zipfile.ZipInfo, limits: Limits) -> str | None:
    if not name or len(name) > limits.name_chars:
        return f"a member name must have 1 to {limits.name_chars} characters"
    if any(ord(c) < 32 or c in '\\:*?"<>|' for c in name):
        return "the name holds a character not allowed in a pack (\\ : * ? \" < > | or a " \
               "control character)"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute path — members must be relative"
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "the path has an empty, '.' or '..' part — it could land outside the folder"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link — packs hold plain files only"
    if info.flag_bits & 0x1:
        return "encrypted — packs are not encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                  zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        return f"an unknown compression method ({info.compress_type})"
    if name.endswith("/"):
        return None if parts[0] in ("projects", "lessons", "data") else \
            "a folder that is not part of a pack (projects/, lessons/, data/)"
    if name == MANIFEST:
        return None
    top, rest = parts[0], parts[1:]
    if top in ("projects", "lessons") and len(rest) == 1 and rest[0].endswith(".json"):
        return None
    if top == "data" and rest and PurePosixPath(name).suffix.lower() in DATA_EXTENSIONS:
        return None
    return ("not part of a workshop pack (a pack holds manifest.json, projects/*.json, "
            "lessons/*.json and data/ files: " + ", ".join(sorted(DATA_EXTENSIONS)) + ")")


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """The member's bytes, stopping as soon as it yields more than it declared (or the cap):
    a zip's headers can lie."""
    limit = min(cap, info.file_size)
    chunks, size = [], 0
    try:
        with archive.open(info) as f:
            while True:
                chunk = f.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise PackError("", [LoadProblem(info.filename, "holds more than its "
                                                                    "header declares")])
                chunks.append(chunk)
    except PackError:
        raise
    except Exception as exc:  # noqa: BLE001 — CRC errors, truncation, bad streams
        raise PackError("", [LoadProblem(info.filename, f"cannot be read: {exc}")]) from None
    return b"".join(chunks)


def _shown(name: str) -> str:
    return ascii(name)[1:-1][:80]


def _pack_from_members(members: dict[str, bytes], source: str) -> Pack:
    problems: list[LoadProblem] = []
    add = lambda where, msg: problems.append(LoadProblem(where, msg))  # noqa: E731
    if MANIFEST not in members:
        raise PackError(source, [LoadProblem(MANIFEST, "missing — every pack starts with one")])
    try:
        manifest = json.loads(members[MANIFEST].decode("utf-8-sig"),
                              parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackError(source, [LoadProblem(MANIFEST, f"not valid JSON: {exc}")]) from None
    if not isinstance(manifest, dict):
        raise PackError(source, [LoadProblem(MANIFEST, "must hold a JSON object")])
    if manifest.get("format") != PACK_FORMAT:
        add(f"{MANIFEST}: format", f'must be "{PACK_FORMAT}" (found {json_short(manifest.get("format"))})')
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        add(f"{MANIFEST}: version", f"must be a whole number ≥ 1 (found {json_short(version)})")
    elif version > PACK_VERSION:
        raise PackError(source, [LoadProblem(f"{MANIFEST}: version", (
            f"made by a newer LayerLab (pack format {version}); this version reads up to "
            f"{PACK_VERSION} — update LayerLab"))])
    for key in sorted(set(manifest) - set(MANIFEST_FIELDS), key=str):
        add(f"{MANIFEST}: {key}", f"unknown field (known fields: {', '.join(MANIFEST_FIELDS)})")
    title = _text(manifest, "title", add, required=True)
    description = _text(manifest, "description", add)
    author = _text(manifest, "author", add)
    seed = manifest.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
        add(f"{MANIFEST}: seed", f"must be a whole number from 0 (found {json_short(seed)})")
        seed = 0
    listed: set[str] = {MANIFEST}

    projects: dict[str, Project] = {}
    titles: dict[str, str] = {}
    for i, entry in enumerate(_entries(manifest, "projects", add, required=True)):
        where = f"{MANIFEST}: projects[{i}]"
        key, file = _entry(entry, where, "key", "projects/", add, listed)
        if key is None:
            continue
        if key in projects:
            add(f"{where}.key", f"'{key}' is listed twice")
            continue
        if file not in members:
            add(f"{where}.file", f"'{file}' is not in the pack")
            continue
        try:
            project = loads_project(_decode(members[file], file), source=file)
        except (ProjectLoadError, PackError) as exc:
            problems.extend(LoadProblem(f"{file}: {p.location}".rstrip(": "), p.message)
                            for p in exc.problems)
            continue
        project.training = {**(project.training or {}), "seed": seed}
        projects[key] = project
        titles[key] = entry.get("title") if isinstance(entry.get("title"), str) else project.name

    lessons: list[Lesson] = []
    for i, entry in enumerate(_entries(manifest, "lessons", add)):
        where = f"{MANIFEST}: lessons[{i}]"
        _, file = _entry(entry, where, None, "lessons/", add, listed)
        if file is None:
            continue
        if file not in members:
            add(f"{where}.file", f"'{file}' is not in the pack")
            continue
        try:
            lesson = loads_lesson(members[file], source=file, projects=projects)
        except LessonLoadError as exc:
            problems.extend(LoadProblem(f"{file}: {p.location}".rstrip(": "), p.message)
                            for p in exc.problems)
            continue
        if any(other.id == lesson.id for other in lessons):
            add(f"{where}", f"a second lesson with the id '{lesson.id}'")
            continue
        lessons.append(lesson)

    for i, entry in enumerate(_entries(manifest, "data", add)):
        if not isinstance(entry, str) or not entry.startswith("data/"):
            add(f"{MANIFEST}: data[{i}]", "must be the name of a data/ member")
        elif entry not in members:
            add(f"{MANIFEST}: data[{i}]", f"'{entry}' is not in the pack")
        else:
            listed.add(entry)

    locks = []
    for i, entry in enumerate(_entries(manifest, "locks", add)):
        lock = _lock(entry, f"{MANIFEST}: locks[{i}]", projects, add)
        if lock is not None:
            locks.append(lock)

    start = manifest.get("start")
    start_lesson = lessons[0].id if lessons else None
    if start is not None:
        if not isinstance(start, dict) or set(start) - {"lesson"} or \
                not any(lesson.id == start.get("lesson") for lesson in lessons):
            add(f"{MANIFEST}: start", f'must be {{"lesson": id}} naming one of the pack\'s '
                                      f'lessons ({", ".join(l.id for l in lessons) or "none"})')
        else:
            start_lesson = start["lesson"]

    for name in sorted(set(members) - listed):
        add(_shown(name), "in the pack but not listed in manifest.json")
    if problems:
        raise PackError(source, problems)
    return Pack(source, title, description, author, seed, projects, titles, lessons,
                tuple(locks), start_lesson, dict(members))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PackError(name, [LoadProblem(name, f"not UTF-8 text (byte {exc.start})")]) \
            from None


def _text(data: dict, key: str, add, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        add(f"{MANIFEST}: {key}", f"must be {'non-empty ' if required else ''}text")
        return ""
    return value.strip()


def _entries(manifest: dict, key: str, add, required: bool = False) -> list:
    value = manifest.get(key, None)
    if value is None:
        if required:
            add(f"{MANIFEST}: {key}", "is required: a list")
        return []
    if not isinstance(value, list):
        add(f"{MANIFEST}: {key}", "must be a list")
        return []
    return value


def _entry(entry: Any, where: str, key_field: str | None, folder: str, add,
           listed: set[str]) -> tuple[str | None, str | None]:
    if not isinstance(entry, dict):
        add(where, f'must be an object like {{"file": "{folder}…"}}')
        return None, None
    allowed = {"file", "title"} | ({key_field} if key_field else {"id"})
    for extra in sorted(set(entry) - allowed, key=str):
        add(f"{where}.{extra}", f"unknown field (known: {', '.join(sorted(allowed))})")
    file = entry.get("file")
    if not isinstance(file, str) or not file.startswith(folder) or not file.endswith(".json") \
            or "/" in file[len(folder):]:
        add(f"{where}.file", f"must name a {folder}*.json member (found {json_short(file)})")
        return None, None
    listed.add(file)
    if key_field is None:
        return file, file
    key = entry.get(key_field)
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        add(f"{where}.{key_field}", f"must be a short name of letters, digits, _ and - "
                                    f"(found {json_short(key)})")
        return None, None
    return key, file


def _lock(entry: Any, where: str, projects: Mapping[str, Project], add) -> Lock | None:
    if not isinstance(entry, dict):
        add(where, 'must be an object like {"target": "conv1", "param": "kernel_size", '
                   '"reason": "…"}')
        return None
    for extra in sorted(set(entry) - {"target", "param", "reason", "project"}, key=str):
        add(f"{where}.{extra}", "unknown field (known: target, param, reason, project)")
    target, param = entry.get("target"), entry.get("param", "*")
    reason, project = entry.get("reason"), entry.get("project")
    ok = True
    if not isinstance(reason, str) or not reason.strip():
        add(f"{where}.reason", "is required: tell the students why it is locked")
        ok = False
    if project is not None and project not in projects:
        add(f"{where}.project", f"no pack project {json_short(project)} (projects: "
                                f"{', '.join(projects)})")
        return None
    if not isinstance(param, str) or not param:
        add(f"{where}.param", "must be a parameter name, or \"*\" for all of them")
        return None
    pool = [projects[project]] if project else list(projects.values())
    if target in SECTIONS:
        if target == "training" and param != "*":
            from ...training.config import TrainingConfig
            if param not in TrainingConfig.__dataclass_fields__:
                add(f"{where}.param", f"training has no setting '{param}'")
                ok = False
    elif isinstance(target, str):
        nodes = [p.graph.nodes[target] for p in pool if target in p.graph.nodes]
        if not nodes:
            add(f"{where}.target", f"no node '{target}' in "
                                   f"{'pack project ' + project if project else 'any pack project'}"
                                   f" (nor is it training or dataset)")
            ok = False
        elif param != "*":
            for node in nodes:
                spec = registry.find(node.type)
                if spec is not None and spec.param(param) is None:
                    add(f"{where}.param", f"{target} is {node.type}, which has no parameter "
                                          f"'{param}'")
                    ok = False
                    break
    else:
        add(f"{where}.target", "must be a node id, \"training\" or \"dataset\"")
        ok = False
    return Lock(target, param, reason.strip(), project) if ok else None
