"""Predict, then reveal: quiz answers are computed, answers are read leniently, a wrong one
shows the arithmetic with the project's own numbers, and a Walkthrough keeps the score."""
from __future__ import annotations

import pytest

from layerlab.engine.edits import SetParams, apply_edits
from layerlab.engine.lessons import (CheckError, Walkthrough, all_quizzes, ask, find_lesson,
                                     grade, quiz_from_json, solve)
from layerlab.engine.lessons.curves import learning_rate_curves
from layerlab.engine.templates import load_template


@pytest.fixture(scope="module")
def worked():
    return load_template("worked_example")


def q(data):
    return quiz_from_json(data)


def test_every_quiz_kind_has_a_valid_example():
    kinds = list(all_quizzes())
    assert {"output_shape", "param_count", "pick_curve"} <= {k.name for k in kinds}
    for kind in kinds:
        quiz = q(kind.example)
        assert ask(quiz, load_template("worked_example")).prompt


def test_the_course_numbers(worked):
    assert solve(q({"kind": "output_shape", "node": "conv1"}), worked).text == "64×254×254"
    params = solve(q({"kind": "param_count", "node": "conv1"}), worked)
    assert params.value == 1792
    assert params.worked == ("parameters = 3·3·3·64 + 64 = 1,792  (3·3·3 + 1 = 28 per filter)",)
    assert solve(q({"kind": "output_shape", "node": "flatten"}), worked).text == "245"


@pytest.mark.parametrize("answer", ["64×254×254", "64x254x254", "64 X 254 X 254",
                                    "[64, 254, 254]", " 64*254*254 "])
def test_shapes_are_read_however_they_are_typed(worked, answer):
    assert grade(q({"kind": "output_shape", "node": "conv1"}), worked, answer).correct


def test_channels_last_is_right_but_explained(worked):
    result = grade(q({"kind": "output_shape", "node": "conv1"}), worked, "254×254×64")
    assert result.correct and "channels first: 64×254×254" in result.message


def test_a_wrong_shape_shows_the_formula_with_the_projects_numbers(worked):
    result = grade(q({"kind": "output_shape", "node": "conv1"}), worked, "64×256×256")
    assert not result.correct and result.understood
    assert result.message == ("Not quite: you answered 64×256×256; the answer is "
                              "64×254×254.")
    assert "output height = width = ⌊(256 + 2·0 − 1·(3−1) − 1) / 1⌋ + 1 = 254" in result.worked
    # the learner's own network: the same question about their edited project
    mine = apply_edits(worked, [SetParams("conv1", {"padding": 1, "out_channels": 8})])
    result = grade(q({"kind": "output_shape", "node": "conv1"}), mine, "64×254×254")
    assert result.expected == "8×256×256"
    assert "output height = width = ⌊(256 + 2·1 − 1·(3−1) − 1) / 1⌋ + 1 = 256" in result.worked


def test_the_total_parameter_count_is_added_up_in_the_reveal(worked):
    result = grade(q({"kind": "param_count"}), worked, "7000")
    assert result.expected == "7,137"
    assert "total = 1,792 + 2,885 + 2,460 = 7,137" in result.worked


@pytest.mark.parametrize("answer,correct", [("1792", True), ("1,792", True), ("1 792", True),
                                            ("1791", False), ("1.792e3", True)])
def test_numbers_are_exact_for_counts(worked, answer, correct):
    assert grade(q({"kind": "param_count", "node": "conv1"}), worked, answer).correct is correct


def test_an_unreadable_answer_is_not_an_attempt(worked):
    result = grade(q({"kind": "param_count", "node": "conv1"}), worked, "lots")
    assert not result.understood and "could not read" in result.message


def test_the_learning_rate_curves_are_real_gradient_descent():
    low, good, high = learning_rate_curves([0.005, 0.3, 1.1])
    assert high.losses[-1] > 100 * high.losses[0]                  # it blows up
    assert good.losses[-1] < 0.1 * good.losses[0]                  # it settles
    assert 0.6 < low.losses[-1] / low.losses[0] < 1.0              # it crawls
    assert all(a > b for a, b in zip(low.losses, low.losses[1:]))
    assert (low.factor, high.factor) == pytest.approx((0.99, -1.2))


def test_pick_curve_reveals_the_step_factor():
    quiz = q({"kind": "pick_curve", "lrs": [0.3, 1.1, 0.005]})
    question = ask(quiz, load_template("house_mlp"))
    assert question.choices == ("A", "B", "C") and len(question.curves) == 3
    assert grade(quiz, load_template("house_mlp"), "curve b").correct
    wrong = grade(quiz, load_template("house_mlp"), "C")
    assert any("1 − 2·1.1 = −1.2" in line for line in wrong.worked)
    low = q({"kind": "pick_curve", "lrs": [0.3, 1.1, 0.005], "pick": "too_low"})
    assert solve(low, load_template("house_mlp")).value == "C"


def test_pick_curve_refuses_a_question_with_no_or_two_answers():
    with pytest.raises(CheckError, match="does not diverge"):
        q({"kind": "pick_curve", "lrs": [0.3, 0.6]})
    with pytest.raises(CheckError, match="only one learning rate may diverge"):
        q({"kind": "pick_curve", "lrs": [1.2, 1.5, 0.1]})


@pytest.mark.parametrize("data,answer,expected,line", [
    ({"kind": "neuron_output", "inputs": [50, 20, 30], "weights": [0.02, 0.3, 0.1],
      "bias": -5, "activation": "relu"}, "5", "5",
     "z = weights · inputs + bias = 0.02·50 + 0.3·20 + 0.1·30 − 5 = 5"),
    ({"kind": "softmax", "scores": [2, 1, 0.1]}, "66%", "0.659", "sum = 7.389 + 2.718 + 1.105 = 11.21"),
    ({"kind": "loss", "loss": "mse", "predicted": [250, 180], "target": [240, 200]}, "250",
     "250", "mean = (100 + 400) / 2 = 250"),
    ({"kind": "loss", "loss": "cross_entropy", "predicted": [0.9, 0.05, 0.05], "index": 2},
     "3", "2.996", "−ln(0.05) = 2.996"),
    ({"kind": "gradient_step", "weight": 0.8, "gradient": 0.5, "lr": 0.1}, "0.75", "0.75",
     "new w = 0.8 − 0.1 · 0.5 = 0.8 − 0.05 = 0.75"),
    ({"kind": "chain_rule", "factors": [2, 0.25, 3]}, "1.5", "1.5", "2 · 0.25 · 3 = 1.5"),
    ({"kind": "standardize", "value": 200, "mean": 150, "std": 60}, "0.83", "0.833",
     "z = (200 − 150) / 60 = 50 / 60 = 0.833"),
    ({"kind": "confusion_metric", "matrix": [[36, 8], [6, 30]], "metric": "precision"},
     "0.79", "0.789", "precision = TP / (TP + FP) = 30 / (30 + 8) = 0.789: of those called "
                      "positive, the share that were"),
    ({"kind": "confusion_metric", "matrix": [[95, 0], [5, 0]], "metric": "recall",
      "names": ["fail", "pass"]}, "0", "0", "recall = TP / (TP + FN) = 0 / (0 + 5) = 0: of the "
                                            "real pass, the share that were found"),
    ({"kind": "batches_per_epoch", "samples": 1438}, "45", "45",
     "batches = ⌈1,438 / 32⌉ = ⌈44.94⌉ = 45 (the last batch is smaller)"),
])
def test_arithmetic_quizzes(data, answer, expected, line):
    project = load_template("digits_cnn")     # batch size 32
    quiz = q(data)
    right = grade(quiz, project, answer)
    assert right.correct, right.message
    assert right.expected == expected
    wrong = grade(quiz, project, "-1234")
    assert not wrong.correct and line in wrong.worked


def test_a_quiz_about_a_missing_node_is_refused_by_the_loader_not_at_runtime():
    from layerlab.engine.lessons.quizzes import quiz_problems
    assert quiz_problems(q({"kind": "output_shape", "node": "conv9"}),
                         load_template("lenet5")) == [
        "the step's project has no node called conv9"]


# --- the walkthrough a panel drives --------------------------------------------------------

def test_walkthrough_score_counts_first_tries():
    lesson = find_lesson("convolution")
    walk = Walkthrough(lesson)
    assert walk.opens_project and walk.step.number == 1
    project = walk.start_project()
    assert not walk.evaluate(project).ok and not walk.done()
    project = walk.lesson.solve(1, project)        # what "Show me" does to the document
    assert walk.evaluate(project).ok and walk.done()
    walk.next()                                     # step 2: output shape quiz
    assert walk.ask().answer_kind == "shape" and not walk.opens_project
    assert not walk.answer("64x256x256").correct
    assert walk.answer("nonsense").understood is False
    assert walk.answer("64x254x254").correct and walk.done()
    walk.next()                                     # step 3: parameters, right first time
    assert walk.answer("1792").correct
    assert walk.answer("1792").correct              # answering again changes nothing
    assert (walk.score.first_try, walk.score.answered, walk.score.total) == (1, 2, 2)
    assert str(walk.score) == "1 of 2 right at the first try"
    saved = walk.to_json()
    again = Walkthrough.from_json(lesson, saved)
    assert again.number == 3 and again.score == walk.score
    assert again.to_json() == saved
    assert walk.back().number == 2


def test_walkthrough_restores_only_what_fits():
    lesson = find_lesson("convolution")
    walk = Walkthrough.from_json(lesson, {"lesson": "convolution", "step": 99,
                                          "attempts": {"2": "x", "3": 1, "77": 2},
                                          "right": {"3": 5}, "satisfied": [1, "2", 40]})
    assert walk.number == 1 and walk.attempts == {3: 1} and walk.right == {}
    assert walk.satisfied == {1}
    assert Walkthrough.from_json(lesson, {"lesson": "other", "step": 2}).number == 1
    with pytest.raises(IndexError, match="steps 1 to 5"):
        walk.go(6)


def test_a_question_about_a_node_the_open_project_lacks():
    from layerlab.engine.lessons.quizzes import Unanswerable
    quiz = q({"kind": "output_shape", "node": "conv1"})
    house = load_template("house_mlp")
    result = grade(quiz, house, "6×28×28")
    assert not result.understood and not result.correct
    assert result.message == ("This question cannot be asked about the open project: this "
                              "project has no node called conv1")
    with pytest.raises(Unanswerable, match="no node called conv1"):
        ask(quiz, house)
    # the walkthrough asks about the learner's project when it can, else the step's own
    walk = Walkthrough(find_lesson("convolution"), 2)
    assert walk.ask(house).prompt.startswith("conv1 is a Conv2d that receives 3×256×256")
    mine = walk.lesson.solve(1)
    mine.graph.nodes["input"].params["shape"] = [3, 32, 32]
    assert walk.answer("64×30×30", mine).correct
