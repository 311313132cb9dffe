"""Following one lesson: where the learner is, what is done, and the quiz score.

This is what a Lessons panel drives (plain Python, no Qt)::

    walk = Walkthrough(find_lesson("convolution"))
    walk.step                                  # text, action, hint…
    if walk.opens_project: document.open(walk.start_project())
    walk.evaluate(project, analysis, runs)     # re-run on every document change: live check
    walk.show_me()                             # an engine.edits.Fix: ONE undoable command
    walk.ask(project) / walk.answer("6×28×28", project)   # predict, then reveal
    walk.next() / walk.back()
    walk.score                                 # quizzes right at the first try, of all

Its state is plain data (:meth:`to_json` / :meth:`from_json`), so the app can remember how far
a learner got.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..edits import Fix
from ..graph import Project
from .checks import CheckResult
from .lesson import Lesson, Step
from .quizzes import Question, QuizResult, ask, grade, quiz_problems

__all__ = ["Walkthrough", "Score"]


@dataclass(frozen=True)
class Score:
    first_try: int      # quizzes answered right at the first (readable) attempt
    answered: int       # quizzes answered right eventually
    total: int          # quizzes in the lesson

    def __str__(self) -> str:
        return f"{self.first_try} of {self.total} right at the first try"


class Walkthrough:
    def __init__(self, lesson: Lesson, number: int = 1) -> None:
        self.lesson = lesson
        self.number = 1
        self.attempts: dict[int, int] = {}      # step number → readable answers given
        self.right: dict[int, int] = {}         # step number → attempt that was right
        self.satisfied: set[int] = set()        # check steps seen satisfied
        self.go(number)

    # --- where ------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.lesson.step(self.number)

    @property
    def at_end(self) -> bool:
        return self.number == len(self.lesson.steps)

    @property
    def opens_project(self) -> bool:
        """This step starts from a project of its own (the panel opens it); otherwise the
        learner goes on with the document as it is."""
        return self.step.start is not None

    def go(self, number: int) -> Step:
        self.lesson.step(number)  # IndexError for a step that is not there
        self.number = number
        return self.step

    def next(self) -> Step | None:
        """The next step (None at the end: the lesson is over)."""
        return None if self.at_end else self.go(self.number + 1)

    def back(self) -> Step | None:
        return None if self.number == 1 else self.go(self.number - 1)

    # --- doing ------------------------------------------------------------------------
    def start_project(self) -> Project:
        return self.lesson.start_project(self.number)

    def show_me(self) -> Fix | None:
        """What "Show me" applies: one Fix, which the app turns into one undoable command."""
        return self.step.show_me

    def evaluate(self, project: Project, analysis=None, runs=()) -> CheckResult:
        result = self.lesson.check(self.number, project, analysis, runs)
        if result.ok:
            self.satisfied.add(self.number)
        return result

    def quiz_project(self, project: Project | None = None) -> Project:
        """What the quiz is about: the learner's ``project`` when the question can be asked
        about it (their own numbers), else the step's starting project."""
        if project is not None and not quiz_problems(self.step.quiz, project):
            return project
        return self.start_project()

    def ask(self, project: Project | None = None) -> Question | None:
        """The step's quiz, asked about ``project`` (see quiz_project)."""
        if self.step.quiz is None:
            return None
        return ask(self.step.quiz, self.quiz_project(project))

    def answer(self, text: str, project: Project | None = None) -> QuizResult:
        """Marks an answer to the step's quiz and keeps the score. A right answer marks the
        step done; an unreadable one does not count as an attempt."""
        if self.step.quiz is None:
            raise ValueError(f"step {self.number} of '{self.lesson.id}' has no quiz")
        result = grade(self.step.quiz, self.quiz_project(project), text)
        if result.understood and self.number not in self.right:
            self.attempts[self.number] = self.attempts.get(self.number, 0) + 1
            if result.correct:
                self.right[self.number] = self.attempts[self.number]
        return result

    def done(self, number: int | None = None) -> bool:
        """Whether step ``number`` (default: this one) was completed: its check seen
        satisfied (and its quiz, if any, answered right)."""
        number = self.number if number is None else number
        step = self.lesson.step(number)
        quiz_ok = step.quiz is None or number in self.right
        check_ok = step.check is None or number in self.satisfied
        return quiz_ok and check_ok

    @property
    def score(self) -> Score:
        quizzes = [s.number for s in self.lesson.steps if s.quiz is not None]
        return Score(sum(1 for n in quizzes if self.right.get(n) == 1),
                     sum(1 for n in quizzes if n in self.right), len(quizzes))

    # --- remembering ------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"lesson": self.lesson.id, "step": self.number,
                "attempts": {str(k): v for k, v in self.attempts.items()},
                "right": {str(k): v for k, v in self.right.items()},
                "satisfied": sorted(self.satisfied)}

    @classmethod
    def from_json(cls, lesson: Lesson, data: dict) -> "Walkthrough":
        """Restores saved progress; anything that does not fit the lesson is dropped."""
        walk = cls(lesson)
        n = len(lesson.steps)

        def steps(mapping) -> dict[int, int]:
            out = {}
            for k, v in (mapping or {}).items() if isinstance(mapping, dict) else ():
                if str(k).isdigit() and 1 <= int(k) <= n and isinstance(v, int) and v > 0:
                    out[int(k)] = v
            return out

        if isinstance(data, dict) and data.get("lesson") == lesson.id:
            walk.attempts = steps(data.get("attempts"))
            walk.right = {k: v for k, v in steps(data.get("right")).items()
                          if v <= walk.attempts.get(k, 0)}
            walk.satisfied = {s for s in data.get("satisfied", []) if isinstance(s, int)
                              and 1 <= s <= n} if isinstance(data.get("satisfied"), list) \
                else set()
            step = data.get("step")
            if isinstance(step, int) and 1 <= step <= n:
                walk.number = step
        return walk
