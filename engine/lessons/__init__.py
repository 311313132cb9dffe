"""Workshop mode beneath the window: lessons as data, their checks and quizzes, the runs they
read, and workshop packs. Plain Python, no Qt (a Lessons panel calls it directly).

    from layerlab.engine.lessons import bundled_lessons, find_lesson, Walkthrough, evaluate
    lesson = find_lesson("convolution")
    lesson.start_project(1), lesson.solve(1), lesson.check(1, project, analysis, runs)

Formats: docs/lessons.md (lessons, checks, quizzes) and docs/workshop.md (packs).
"""
from .checks import (Check, CheckError, CheckKind, CheckResult, all_checks, check_from_json,
                     check_to_json, describe, evaluate, find_check, needs_run)
from .concepts import CONCEPTS
from .lesson import (Lesson, LessonLoadError, Start, Step, bundled_lessons, find_lesson,
                     lesson_from_dict, lessons_dir, load_lesson, load_lessons, loads_lesson)
from .quizzes import (Question, Quiz, QuizKind, QuizResult, Solution, all_quizzes, ask,
                      find_quiz, grade, quiz_from_json, quiz_to_json, solve)
from .runs import (RunReadError, RunRecord, project_changes, read_run, record_from_result,
                   run_from_json, run_to_json, train_record)
from .walkthrough import Score, Walkthrough

__all__ = [
    "Check", "CheckError", "CheckKind", "CheckResult", "all_checks", "check_from_json",
    "check_to_json", "describe", "evaluate", "find_check", "needs_run", "CONCEPTS", "Lesson",
    "LessonLoadError", "Start", "Step", "bundled_lessons", "find_lesson", "lesson_from_dict",
    "lessons_dir", "load_lesson", "load_lessons", "loads_lesson", "Question", "Quiz",
    "QuizKind", "QuizResult", "Solution", "all_quizzes", "ask", "find_quiz", "grade",
    "quiz_from_json", "quiz_to_json", "solve", "RunReadError", "RunRecord", "project_changes",
    "read_run", "record_from_result", "run_from_json", "run_to_json", "train_record", "Score",
    "Walkthrough",
]
