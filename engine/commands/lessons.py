"""``layerlab lessons [--json] [--pack FILE] [--vocabulary [--markdown]]``: list the lessons
(bundled, or a workshop pack's), or the check and quiz kinds lesson files may use."""
from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="a list of objects: id, title, concepts, steps, …")
    parser.add_argument("--pack", metavar="FILE", help="list a workshop pack's lessons")
    parser.add_argument("--vocabulary", action="store_true",
                        help="list the check kinds, quiz kinds and concept tags instead")
    parser.add_argument("--markdown", action="store_true",
                        help="with --vocabulary: Markdown tables (docs/lessons.md)")


def run(args: argparse.Namespace) -> int:
    if args.vocabulary:
        print(vocabulary_markdown() if args.markdown else vocabulary_text())
        return 0
    from ..lessons import bundled_lessons, lessons_dir, load_lessons
    errors: list = []
    if args.pack:
        from ..lessons.pack import PackError, open_pack
        try:
            lessons = open_pack(args.pack).lessons
        except PackError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        lessons, errors = load_lessons(lessons_dir())
        if not errors:
            lessons = bundled_lessons()
    if args.json:
        print(json.dumps([lesson_json(lesson) for lesson in lessons], indent=2,
                         ensure_ascii=False))
    else:
        width = max((len(lesson.id) for lesson in lessons), default=0)
        for lesson in lessons:
            print(f"{lesson.id.ljust(width)}  {lesson.title} — {len(lesson.steps)} steps")
            print(f"{' ' * width}  concepts: {', '.join(lesson.concepts)}")
    for exc in errors:
        print(f"error: {exc}", file=sys.stderr)
    return 1 if errors else 0


def lesson_json(lesson) -> dict:
    """A lesson as `layerlab lessons --json` lists it: the plain data a panel needs."""
    from ..edits import fix_to_json
    from ..lessons import check_to_json, describe, quiz_to_json
    return {
        "id": lesson.id, "title": lesson.title, "concepts": list(lesson.concepts),
        "summary": lesson.summary, "source": lesson.source,
        "steps": [{
            "number": s.number, "title": s.title, "text": s.text, "action": s.action,
            "hint": s.hint, "starts_project": s.start.origin if s.start else None,
            "check": check_to_json(s.check) if s.check else None,
            "goal": describe(s.check) if s.check else None,
            "needs_training": s.needs_run,
            "show_me": fix_to_json(s.show_me) if s.show_me else None,
            "quiz": quiz_to_json(s.quiz) if s.quiz else None,
        } for s in lesson.steps]}


def _kinds():
    from ..lessons import CONCEPTS, all_checks, all_quizzes
    return list(all_checks()), list(all_quizzes()), CONCEPTS


def _fields(params) -> str:
    from ..lessons.checks import BOUNDS
    from ..lessons.fields import REQUIRED
    parts = []
    bounds = [p for p in params if p.name in BOUNDS]
    for p in params:
        if p.name in BOUNDS:
            if p is bounds[0]:   # the five bounds read as one field
                unit = p.help.partition("(")[2].rstrip(")")
                parts.append(" / ".join(f"`{b.name}`" for b in bounds)
                             + f": bounds on the number{f' ({unit})' if unit else ''}")
            continue
        need = "" if p.default is not REQUIRED else " (required)"
        parts.append(f"`{p.name}`{need}: {p.describe()} — {p.help}")
    return "; ".join(parts) or "none"


def vocabulary_text() -> str:
    checks, quizzes, concepts = _kinds()
    lines = ["Check kinds (a step's \"check\"):"]
    for kind in checks:
        lines.append(f"  {kind.name:<13} {kind.summary}" + ("  [reads a run]" if kind.needs_run
                                                              else ""))
        for p in kind.params:
            lines.append(f"  {'':<13}   {p.name}: {p.describe()}")
    lines.append("\nQuiz kinds (a step's \"quiz\"):")
    for kind in quizzes:
        lines.append(f"  {kind.name:<17} {kind.summary}")
    lines.append("\nConcept tags:")
    for tag, text in concepts.items():
        lines.append(f"  {tag:<15} {text}")
    return "\n".join(lines)


def vocabulary_markdown() -> str:
    checks, quizzes, concepts = _kinds()
    lines = ["### Check kinds", "", "| kind | what it checks | fields | example |",
             "| --- | --- | --- | --- |"]
    for kind in checks:
        run = " Reads the last run." if kind.needs_run else ""
        lines.append(f"| `{kind.name}` | {kind.summary}{run} | {_fields(kind.params)} | "
                     f"`{json.dumps(kind.example, ensure_ascii=False)}` |")
    lines += ["", "### Quiz kinds", "", "| kind | what it asks | answer | fields | example |",
              "| --- | --- | --- | --- | --- |"]
    for kind in quizzes:
        lines.append(f"| `{kind.name}` | {kind.summary} | {kind.answer_kind} | "
                     f"{_fields(kind.params)} | "
                     f"`{json.dumps(kind.example, ensure_ascii=False)}` |")
    lines += ["", "### Concept tags", "", "| tag | covers |", "| --- | --- |"]
    lines += [f"| `{tag}` | {text} |" for tag, text in concepts.items()]
    return "\n".join(lines)
