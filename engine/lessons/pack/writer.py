"""Writing a pack: the teacher's projects, lessons, data and locks into one file."""
from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from ...fileio import atomic_write
from ...graph import Project
from ...project import LoadProblem, dumps_project
from ..lesson import Lesson
from .model import (DATA_EXTENSIONS, KEY_PATTERN, LIMITS, MANIFEST, PACK_FORMAT, PACK_VERSION,
                    Lock, Pack, PackError)
from .reader import read_pack_bytes

__all__ = ["build_pack"]


#: Every member gets this timestamp, and members are written in a fixed order, so the same
#: contents always make the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def build_pack(out: str | os.PathLike, *, title: str, seed: int,
               projects: Iterable[tuple[str, Project, str | os.PathLike | None]],
               lessons: Iterable[Lesson | str | os.PathLike] = (),
               locks: Iterable[Lock] = (), description: str = "", author: str = "",
               start_lesson: str | None = None) -> Pack:
    """Write a pack to ``out`` and return it as read back (so whatever was written has passed
    the same checks a student's machine makes).

    ``projects``: (key, project, base folder) — a dataset file or folder the project names by a
    relative or absolute path is copied into data/ and the path rewritten; bundled data
    (``resources:…``) and built-in datasets stay as they are. ``lessons``: loaded lessons
    (their source file is copied byte for byte) or paths of lesson files. Every project's
    training seed becomes ``seed``. Raises PackError naming what does not fit."""
    members: dict[str, bytes] = {}
    problems: list[LoadProblem] = []
    entries = []
    data_files: list[str] = []
    for key, project, base_dir in projects:
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            problems.append(LoadProblem(f"project {key!r}", "a key is a short name of letters, "
                                                            "digits, _ and -"))
            continue
        project = project.copy()
        project.training = {**(project.training or {}), "seed": int(seed)}
        try:
            _bundle_data(project, base_dir, key, members, data_files)
        except PackError as exc:
            problems.extend(exc.problems)
            continue
        name = f"projects/{key}.json"
        if name in members:
            problems.append(LoadProblem(f"project {key}", "two projects with the same key"))
            continue
        members[name] = dumps_project(project).encode("utf-8")
        entries.append({"key": key, "file": name, "title": project.name})
    lesson_entries = []
    for item in lessons:
        path = Path(item.source) if isinstance(item, Lesson) else Path(item)
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(LoadProblem(str(path), exc.strerror or str(exc)))
            continue
        name = f"lessons/{path.stem}.json"
        if name in members:
            problems.append(LoadProblem(str(path), "two lesson files with the same name"))
            continue
        members[name] = data
        lesson_entries.append({"file": name})
    if problems:
        raise PackError(str(out), problems, "made")
    manifest: dict[str, Any] = {"format": PACK_FORMAT, "version": PACK_VERSION,
                                "title": title, "seed": int(seed)}
    if description:
        manifest["description"] = description
    if author:
        manifest["author"] = author
    manifest["projects"] = entries
    manifest["lessons"] = lesson_entries
    if data_files:
        manifest["data"] = sorted(data_files)
    manifest["locks"] = [lock.to_json() for lock in locks]
    if start_lesson:
        manifest["start"] = {"lesson": start_lesson}
    members[MANIFEST] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    raw = _zip(members)
    try:
        pack = read_pack_bytes(raw, str(out))   # refuse to write what would not open
    except PackError as exc:
        raise PackError(str(out), exc.problems, "made") from None
    try:
        atomic_write(out, lambda tmp: Path(tmp).write_bytes(raw))
    except OSError as exc:
        raise PackError(str(out), [LoadProblem("", exc.strerror or str(exc))], "made") from None
    return pack


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    order = [MANIFEST] + sorted(n for n in members if n != MANIFEST)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            z.writestr(info, members[name])
    return buffer.getvalue()


def _bundle_data(project: Project, base_dir, key: str, members: dict[str, bytes],
                 data_files: list[str]) -> None:
    """Copy the file or folder the project's dataset path names into data/<key>/…"""
    spec = project.dataset or {}
    text = spec.get("path")
    if not isinstance(text, str) or text.startswith("resources:"):
        return
    source = Path(text).expanduser()
    if not source.is_absolute() and base_dir is not None:
        source = Path(base_dir) / source
    where = f"project {key}: dataset.path"
    if not source.exists():
        raise PackError(str(source), [LoadProblem(where, f"'{text}' not found (looked at "
                                                         f"{source})")])
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    total = 0
    prefix = f"data/{key}/"
    for file in files:
        rel = file.name if source.is_file() else file.relative_to(source).as_posix()
        if PurePosixPath(rel).suffix.lower() not in DATA_EXTENSIONS:
            continue   # an image folder's stray files: the dataset skips them too
        size = file.stat().st_size
        total += size
        if size > LIMITS.data_bytes or total > LIMITS.total_bytes // 2:
            raise PackError(str(file), [LoadProblem(where, f"the data is too big to pack "
                                                           f"({total:,} bytes so far) — hand it "
                                                           f"out separately")])
        name = prefix + rel
        members[name] = file.read_bytes()
        data_files.append(name)
    if not files:
        raise PackError(str(source), [LoadProblem(where, "the folder holds no data files")])
    # projects/<key>.json → ../data/<key>/…
    spec = dict(spec)
    spec["path"] = f"../{prefix}{source.name}" if source.is_file() else f"../{prefix}".rstrip("/")
    project.dataset = spec
