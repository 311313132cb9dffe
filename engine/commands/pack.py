"""``layerlab pack …``: workshop packs (docs/workshop.md).

    layerlab pack create -o DAY1.llpack --title T --seed S --project P[=KEY]… [--lesson L]…
                         [--lock [KEY:]TARGET.PARAM=REASON]… [--start LESSON]
    layerlab pack info FILE [--json]          check a pack and say what it holds
    layerlab pack extract FILE DIR            write its projects, lessons and data into DIR
    layerlab pack verify FILE PROJECT [--project KEY]
                                              exit 0 when no locked value changed, 1 when
"""
from __future__ import annotations

import argparse
import json
import re
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="make a pack from projects, lessons and locks")
    create.add_argument("-o", "--output", required=True, metavar="FILE.llpack")
    create.add_argument("--title", required=True, help="what students see")
    create.add_argument("--description", default="")
    create.add_argument("--author", default="")
    create.add_argument("--seed", type=int, default=0,
                        help="the fixed seed every project trains with (default 0)")
    create.add_argument("--project", action="append", default=[], metavar="P[=KEY]",
                        help="a project file or template name, optionally =KEY (default: "
                             "its file name); repeat for more")
    create.add_argument("--lesson", action="append", default=[], metavar="L",
                        help="a bundled lesson's id or a lesson file; repeat for more")
    create.add_argument("--lock", action="append", default=[],
                        metavar="[KEY:]TARGET.PARAM=REASON",
                        help="lock a parameter: a node id or training/dataset, a parameter "
                             "or *, and the reason students see; KEY: only in that project")
    create.add_argument("--start", metavar="LESSON", help="the lesson the pack opens with")

    info = sub.add_parser("info", help="check a pack and list what it holds")
    info.add_argument("file")
    info.add_argument("--json", action="store_true")

    extract = sub.add_parser("extract", help="write a pack's files into an empty folder")
    extract.add_argument("file")
    extract.add_argument("folder")

    verify = sub.add_parser("verify", help="check that a project kept the pack's locked "
                                           "values (exit 0 yes, 1 no)")
    verify.add_argument("file", help="the pack")
    verify.add_argument("project", help="the edited project file")
    verify.add_argument("--project", dest="key", metavar="KEY",
                        help="which pack project it started as (default: by name)")


def run(args: argparse.Namespace) -> int:
    from ..lessons.pack import PackError
    try:
        return {"create": _create, "info": _info, "extract": _extract,
                "verify": _verify}[args.action](args)
    except PackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except _Fail as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


class _Fail(Exception):
    pass


_LOCK = re.compile(r"^(?:(?P<key>[A-Za-z0-9][\w-]*):)?(?P<target>[A-Za-z][\w]*)\."
                   r"(?P<param>\*|[A-Za-z_]\w*)=(?P<reason>.+)$", re.S)


def parse_lock(text: str):
    """"digits:conv1.kernel_size=We compare 3×3 filters" → Lock."""
    from ..lessons.pack import Lock
    match = _LOCK.match(text.strip())
    if not match or not match["reason"].strip():
        raise _Fail(f"--lock {text!r}: write [KEY:]TARGET.PARAM=REASON, e.g. "
                    f"conv1.kernel_size=\"We compare 3×3 filters today\"")
    return Lock(match["target"], match["param"], match["reason"].strip(), match["key"])


def _create(args) -> int:
    from ..lessons import find_lesson
    from ..lessons.pack import build_pack
    from ..locations import open_project
    from ..project import ProjectLoadError
    if not args.project:
        raise _Fail("a pack needs at least one --project")
    projects = []
    for spec in args.project:
        name, _, key = spec.partition("=")
        try:
            opened = open_project(name)
        except ProjectLoadError as exc:
            raise _Fail(str(exc)) from None
        key = key or (opened.template or opened.path.stem)
        key = re.sub(r"[^A-Za-z0-9_-]", "_", key)
        projects.append((key, opened.project, opened.base_dir))
    lessons = []
    for item in args.lesson:
        if item.endswith(".json"):
            lessons.append(item)   # a file: checked when the pack is read back (it may start
            continue               # from one of the pack's own projects)
        try:
            lessons.append(find_lesson(item))
        except KeyError as exc:
            raise _Fail(exc.args[0]) from None
    locks = [parse_lock(text) for text in args.lock]
    pack = build_pack(args.output, title=args.title, seed=args.seed, projects=projects,
                      lessons=lessons, locks=locks, description=args.description,
                      author=args.author, start_lesson=args.start)
    print(f"wrote {args.output}: {len(pack.projects)} project(s), {len(pack.lessons)} "
          f"lesson(s), {len(pack.locks)} lock(s), seed {pack.seed}")
    return 0


def _info(args) -> int:
    from ..inference import analyze
    from ..lessons.pack import open_pack
    pack = open_pack(args.file)
    if args.json:
        print(json.dumps({
            "title": pack.title, "description": pack.description, "author": pack.author,
            "seed": pack.seed, "start_lesson": pack.start_lesson,
            "projects": [{"key": k, "title": pack.project_titles[k], "name": p.name,
                          "parameters": analyze(p.graph).total_params}
                         for k, p in pack.projects.items()],
            "lessons": [{"id": lesson.id, "title": lesson.title, "steps": len(lesson.steps)}
                        for lesson in pack.lessons],
            "locks": [lock.to_json() for lock in pack.locks]}, indent=2, ensure_ascii=False))
        return 0
    print(f"{pack.title} — seed {pack.seed}" + (f", by {pack.author}" if pack.author else ""))
    if pack.description:
        print(pack.description)
    print("projects:")
    for key, project in pack.projects.items():
        print(f"  {key}: {pack.project_titles[key]} "
              f"({analyze(project.graph).total_params:,} parameters)")
    print("lessons:")
    for lesson in pack.lessons:
        first = " (opens first)" if lesson.id == pack.start_lesson else ""
        print(f"  {lesson.id}: {lesson.title}, {len(lesson.steps)} steps{first}")
    print("locked:")
    print("  training.seed — the workshop's fixed seed")
    for lock in pack.locks:
        print(f"  {lock} — {lock.reason}")
    return 0


def _extract(args) -> int:
    from ..lessons.pack import open_pack
    pack = open_pack(args.file)
    folder = pack.extract(args.folder)
    print(f"extracted {len(pack.members)} files into {folder} (projects are in "
          f"{folder / 'projects'})")
    return 0


def _verify(args) -> int:
    from ..lessons.pack import open_pack
    from ..locations import open_project
    from ..project import ProjectLoadError
    pack = open_pack(args.file)
    try:
        project = open_project(args.project).project
    except ProjectLoadError as exc:
        raise _Fail(str(exc)) from None
    try:
        violations = pack.check_locks(project, args.key)
    except KeyError as exc:
        raise _Fail(f"{exc.args[0]} (--project KEY)") from None
    if not violations:
        print("every locked value is as the pack sets it")
        return 0
    for v in violations:
        print(f"changed: {v.message}")
    return 1
