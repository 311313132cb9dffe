"""Predict, then reveal: quiz kinds, declared once, whose answers are computed.

A quiz step asks the learner for a number before LayerLab shows it: a layer's output shape or
parameter count (answered by ``engine.analyze`` on the step's project, so it is always right),
which curve had the too-high learning rate (curves computed by engine/lessons/curves.py), a
neuron's output, a softmax probability, a loss, a gradient step, a metric from a confusion
matrix, batches per epoch. A wrong answer gets the worked arithmetic with the numbers of the
project (for layers, the very lines the inspector shows: ``LayerSpec.arithmetic``); a right
one moves on.

    quiz = quiz_from_json({"kind": "output_shape", "node": "conv1"})
    question = ask(quiz, project)          # prompt, answer kind, curves to plot
    result = grade(quiz, project, "64×254×254")
    result.correct, result.message, result.worked
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .. import registry
from ..graph import Project
from ..inference import Analysis, analyze
from ..params import ChoiceParam, FloatParam, IntParam, Param
from ..project import LoadProblem
from ..registry import format_shape
from .checks import CheckError
from .curves import Curve, best_loss, learning_rate_curves
from .fields import REQUIRED, ListParam, NodeIdParam, NumberListParam, TextParam, parse_fields

__all__ = ["QuizKind", "Quiz", "Question", "Solution", "QuizResult", "find_quiz", "all_quizzes",
           "parse_quiz", "quiz_from_json", "quiz_to_json", "ask", "solve", "grade",
           "quiz_problems"]

ANSWER_KINDS = ("shape", "number", "choice")


@dataclass(frozen=True)
class Question:
    prompt: str
    answer_kind: str                      # shape | number | choice
    choices: tuple[str, ...] = ()         # for "choice": the labels to pick from
    curves: tuple[Curve, ...] = ()        # for pick_curve: what to plot, labelled
    hint: str = ""                        # how to type the answer ("like 6×28×28")


@dataclass(frozen=True)
class Solution:
    value: Any                  # tuple of ints (shape), float/int (number), label (choice)
    text: str                   # the answer as the learner would write it
    worked: tuple[str, ...]     # the arithmetic, with the project's / the lesson's numbers


@dataclass(frozen=True)
class QuizResult:
    correct: bool
    understood: bool            # False: the answer could not be read (no attempt counted)
    expected: str
    message: str
    worked: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuizKind:
    name: str
    summary: str
    params: tuple[Param, ...]
    answer_kind: str
    solve: Callable[[dict, Project, Analysis], Solution]
    prompt: Callable[[dict, Project, Analysis], str]
    #: Problems only the step's project can reveal (a node that is not there): messages.
    problems_in: Callable[[dict, Project, Analysis], list[str]] = lambda a, p, an: []
    validate: Callable[[dict], list[str]] = lambda args: []
    #: Numbers: accepted within this absolute distance, or this relative one.
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    #: Numbers that are fractions (probabilities, metrics): "66%" reads as 0.66.
    fraction: bool = False
    example: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Quiz:
    kind: str
    args: dict
    question: str = ""          # the lesson's own wording of the question, if any
    source: dict = field(default_factory=dict, compare=False)

    def __hash__(self) -> int:
        return hash(self.kind)


_REGISTRY: dict[str, QuizKind] = {}


def _register(kind: QuizKind) -> QuizKind:
    if kind.name in _REGISTRY:
        raise ValueError(f"quiz kind {kind.name!r} is declared twice")
    if kind.answer_kind not in ANSWER_KINDS:
        raise ValueError(f"quiz kind {kind.name!r}: unknown answer kind {kind.answer_kind!r}")
    _REGISTRY[kind.name] = kind
    return kind


def find_quiz(name: str) -> QuizKind | None:
    return _REGISTRY.get(name)


def all_quizzes() -> Iterator[QuizKind]:
    yield from _REGISTRY.values()


# --- parsing -------------------------------------------------------------------------------

def parse_quiz(data: Any, where: str, problems: list[LoadProblem]) -> Quiz | None:
    if not isinstance(data, dict):
        problems.append(LoadProblem(where, "a quiz is an object with a \"kind\""))
        return None
    name = data.get("kind")
    kind = find_quiz(name) if isinstance(name, str) else None
    if kind is None:
        problems.append(LoadProblem(f"{where}.kind", f"unknown quiz kind {name!r} (known "
                                                     f"kinds: {', '.join(_REGISTRY)})"))
        return None
    question = data.get("question", "")
    if not isinstance(question, str):
        problems.append(LoadProblem(f"{where}.question", "must be text"))
        return None
    args = parse_fields(f"the {kind.name} quiz", kind.params, data, where, problems,
                        {"kind", "question"}, None, kind.validate)
    return None if args is None else Quiz(kind.name, args, question.strip(), dict(data))


def quiz_from_json(data: Any, where: str = "quiz") -> Quiz:
    problems: list[LoadProblem] = []
    quiz = parse_quiz(data, where, problems)
    if quiz is None:
        raise CheckError(problems)
    return quiz


def quiz_to_json(quiz: Quiz) -> dict:
    if quiz.source:
        return dict(quiz.source)
    out = {"kind": quiz.kind, **{k: v for k, v in quiz.args.items() if v is not None}}
    if quiz.question:
        out["question"] = quiz.question
    return out


def quiz_problems(quiz: Quiz, project: Project, analysis: Analysis | None = None) -> list[str]:
    """What makes ``quiz`` unanswerable on ``project`` (the step's starting project)."""
    analysis = analysis or analyze(project.graph)
    return find_quiz(quiz.kind).problems_in(quiz.args, project, analysis)


# --- asking and grading --------------------------------------------------------------------

def ask(quiz: Quiz, project: Project, analysis: Analysis | None = None) -> Question:
    kind = find_quiz(quiz.kind)
    analysis = analysis or analyze(project.graph)
    prompt = quiz.question or kind.prompt(quiz.args, project, analysis)
    curves = learning_rate_curves(quiz.args["lrs"]) if kind.name == "pick_curve" else ()
    choices = tuple(c.label for c in curves)
    hints = {"shape": "type it channels first, like 6×28×28 (x or × between the numbers)",
             "number": "a number" + (", like 0.25 or 25%" if kind.fraction else ""),
             "choice": "one of " + ", ".join(choices)}
    return Question(prompt, kind.answer_kind, choices, curves, hints[kind.answer_kind])


def solve(quiz: Quiz, project: Project, analysis: Analysis | None = None) -> Solution:
    return find_quiz(quiz.kind).solve(quiz.args, project, analysis or analyze(project.graph))


def grade(quiz: Quiz, project: Project, answer: str,
          analysis: Analysis | None = None) -> QuizResult:
    """Marks ``answer`` (what the learner typed). Never raises."""
    kind = find_quiz(quiz.kind)
    solution = solve(quiz, project, analysis)
    text = str(answer).strip()
    reader = {"shape": _read_shape, "number": _read_number, "choice": _read_choice}
    given = reader[kind.answer_kind](text)
    if given is None:
        return QuizResult(False, False, solution.text, f"I could not read {text[:40]!r}: "
                                                       f"{ask(quiz, project).hint}")
    note = ""
    if kind.answer_kind == "shape":
        right = given == solution.value
        if not right and len(given) == 3 == len(solution.value) \
                and given == solution.value[1:] + solution.value[:1]:
            right, note = True, (f" You wrote it channels last; LayerLab writes the channels "
                                 f"first: {solution.text}.")
    elif kind.answer_kind == "number":
        right = _close(given, solution.value, kind)
        if not right and kind.fraction and given > 1 and "%" not in text:
            right = _close(given / 100, solution.value, kind)   # "66" for 66%
    else:
        right = given.upper() == str(solution.value).upper()
    if right:
        return QuizResult(True, True, solution.text, f"Right: {solution.text}.{note}",
                          solution.worked)
    return QuizResult(False, True, solution.text,
                      f"Not quite: you answered {text}; the answer is {solution.text}.",
                      solution.worked)


def _close(given: float, want: float, kind: QuizKind) -> bool:
    return math.isclose(given, want, rel_tol=kind.rel_tol, abs_tol=kind.abs_tol) or given == want


def _read_shape(text: str) -> tuple[int, ...] | None:
    numbers = re.findall(r"\d+", text.replace(",", " "))
    rest = re.sub(r"[\d\s×xX*,\[\]()]+", "", text)
    if not numbers or rest:
        return None
    return tuple(int(n) for n in numbers)


def _read_number(text: str) -> float | None:
    clean = text.replace(",", "").replace(" ", "").replace("\u202f", "").replace("_", "")
    percent = clean.endswith("%")
    try:
        value = float(clean.rstrip("%"))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value / 100 if percent else value


def _read_choice(text: str) -> str | None:
    match = re.fullmatch(r"(?:curve\s*)?([A-Za-z])\.?", text.strip(), re.IGNORECASE)
    return match.group(1).upper() if match else None


# --- helpers for the kinds -----------------------------------------------------------------

def num(value: float, digits: int = 4) -> str:
    """A number as a learner writes it: 1,792 / 0.659 / −3."""
    if float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:,.{digits}g}" if abs(value) >= 1e-3 else f"{value:.{digits}g}"
    return text.replace("-", "−")


def _node_problems(args: dict, project: Project, analysis: Analysis) -> list[str]:
    node_id = args.get("node")
    if node_id is None:
        return [] if not analysis.problems else [
            f"the step's project has an error: {analysis.problems[0].message}"]
    if node_id not in project.graph.nodes:
        return [f"the step's project has no node called {node_id}"]
    info = analysis.nodes[node_id]
    if info.status != "ok":
        return [f"{node_id} has no shape in the step's project: {info.error or 'an error above'}"]
    return []


def _arith(node_id: str, analysis: Analysis) -> list[str]:
    info = analysis.nodes[node_id]
    spec = registry.get(info.type)
    if spec.arithmetic is None or info.status != "ok":
        return []
    return list(spec.arithmetic(info.resolved, info.input_shapes, info.output_shape))


# --- output_shape --------------------------------------------------------------------------

def _shape_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    node_id = args["node"]
    info = analysis.nodes[node_id]
    lines = [f"{node_id} ({info.type}) receives "
             + (", ".join(format_shape(s) for s in info.input_shapes) or "nothing")]
    lines += [line for line in _arith(node_id, analysis)
              if not line.startswith(("parameters", "multiply-adds"))]
    if info.type == "Input":
        lines.append("an Input's output is the shape set on it")
    if info.type == "Conv2d":
        lines.append(f"channels = out_channels = {info.output_shape[0]} (one per filter)")
    shape = format_shape(info.output_shape)
    lines.append(f"so {node_id}'s output is {shape}")
    return Solution(tuple(info.output_shape), shape, tuple(lines))


def _shape_prompt(args: dict, project: Project, analysis: Analysis) -> str:
    info = analysis.nodes[args["node"]]
    given = ", ".join(format_shape(s) for s in info.input_shapes)
    return (f"{args['node']} is {_a(info.type)} that receives {given}. What shape does it "
            f"output?")


_register(QuizKind(
    "output_shape", "The output shape of a node of the step's project (computed by the shape "
                    "inference; the reveal shows the layer's worked arithmetic).",
    (NodeIdParam("node", REQUIRED, "the node to ask about"),), "shape",
    _shape_solve, _shape_prompt, _node_problems,
    example={"kind": "output_shape", "node": "conv1"}))


# --- param_count ---------------------------------------------------------------------------

def _params_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    node_id = args.get("node")
    if node_id is not None:
        info = analysis.nodes[node_id]
        lines = [line for line in _arith(node_id, analysis) if line.startswith("parameters")]
        if not lines:
            lines = [f"{node_id} ({info.type}) has {num(info.params)} parameters"]
        return Solution(info.params, num(info.params), tuple(lines))
    counted = [(n, analysis.nodes[n].params) for n in analysis.order
               if analysis.nodes[n].params]
    lines = [f"{n}: {num(p)}" for n, p in counted]
    total = analysis.total_params
    lines.append("total = " + " + ".join(num(p) for _, p in counted) + f" = {num(total)}"
                 if len(counted) > 1 else f"total = {num(total)}")
    lines.append("(activations, pooling, Flatten and Dropout learn nothing: 0 each)")
    return Solution(total, num(total), tuple(lines))


def _params_prompt(args: dict, project: Project, analysis: Analysis) -> str:
    if args.get("node") is None:
        return "How many trainable parameters does the whole network have?"
    info = analysis.nodes[args["node"]]
    return f"How many trainable parameters does {args['node']} ({info.type}) have?"


_register(QuizKind(
    "param_count", "The trainable parameter count of a node of the step's project, or of the "
                   "whole network.",
    (NodeIdParam("node", None, "the node (default: the whole network)"),), "number",
    _params_solve, _params_prompt, _node_problems,
    example={"kind": "param_count", "node": "conv1"}))


# --- pick_curve ----------------------------------------------------------------------------

def _curve_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    curves = learning_rate_curves(args["lrs"])
    pick = max if args["pick"] == "too_high" else min
    answer = pick(curves, key=lambda c: c.lr)
    lines = ["each curve fits price ≈ w · size on the house table by gradient descent; with "
             "both columns standardized the loss is a bowl with curvature 2, so one step "
             "multiplies the distance to the best w by (1 − 2·lr)"]
    for c in curves:
        size = abs(c.factor)
        if size > 1:
            fate = f"size {num(size, 3)} > 1: every step overshoots further, the loss grows"
        elif size > 0.9:
            fate = (f"size {num(size, 3)}: only {num(100 * (1 - size), 2)}% closer per step, "
                    f"it crawls")
        else:
            fate = f"size {num(size, 3)}: it settles within a few steps"
        lines.append(f"curve {c.label}: lr {num(c.lr)} → 1 − 2·{num(c.lr)} = "
                     f"{num(c.factor, 3)}; {fate}")
    lines.append(f"the best any learning rate can reach here is a loss of "
                 f"{num(best_loss(), 3)}")
    return Solution(answer.label, f"curve {answer.label} (lr {num(answer.lr)})", tuple(lines))


def _curve_prompt(args: dict, project: Project, analysis: Analysis) -> str:
    which = "far too high" if args["pick"] == "too_high" else "far too low"
    return (f"The same model was trained with {len(args['lrs'])} learning rates. Which "
            f"curve had the {which} learning rate?")


def _curve_problems(args: dict) -> list[str]:
    lrs = args["lrs"]
    if len(set(lrs)) != len(lrs):
        return ["the learning rates must differ"]
    if args["pick"] == "too_high" and abs(1 - 2 * max(lrs)) <= 1:
        return [f"the highest learning rate {max(lrs):g} does not diverge (it needs to be "
                f"above 1 on this bowl)"]
    if args["pick"] == "too_high" and sum(abs(1 - 2 * lr) > 1 for lr in lrs) > 1:
        return ["only one learning rate may diverge, or the question has two answers"]
    return []


_register(QuizKind(
    "pick_curve", "Which of several loss curves (gradient descent with the given learning "
                  "rates, computed) had the too-high or the too-low learning rate.",
    (NumberListParam("lrs", REQUIRED, "the learning rates, in the order the curves are "
                                      "labelled A, B, C…", min_items=2, max_items=6,
                     minimum=1e-6, maximum=5.0),
     ChoiceParam("pick", "too_high", "which curve to find", choices=("too_high", "too_low"))),
    "choice", _curve_solve, _curve_prompt, validate=_curve_problems,
    example={"kind": "pick_curve", "lrs": [0.3, 1.1, 0.005]}))


# --- neuron_output -------------------------------------------------------------------------

ACTIVATIONS: dict[str, tuple[Callable[[float], float], str, str]] = {
    "none": (lambda z: z, "no activation: the output is z", ""),
    "relu": (lambda z: max(0.0, z), "ReLU(z) = max(0, z)", "ReLU"),
    "sigmoid": (lambda z: 1 / (1 + math.exp(-min(z, 700.0))), "sigmoid(z) = 1 / (1 + e^(−z))",
                "sigmoid"),
    "tanh": (math.tanh, "tanh(z) squashes z into −1…1", "tanh"),
}


def _neuron_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    xs, ws, b = args["inputs"], args["weights"], args["bias"]
    z = sum(w * x for w, x in zip(ws, xs)) + b
    act, rule, name = ACTIVATIONS[args["activation"]]
    out = act(z)
    terms = " + ".join(f"{num(w)}·{num(x)}" for w, x in zip(ws, xs))
    bias = f" − {num(-b)}" if b < 0 else f" + {num(b)}"
    lines = [f"z = weights · inputs + bias = {terms}{bias} = {num(z)}", rule]
    if name:
        lines.append(f"{name}({num(z)}) = {num(out)}")
    return Solution(out, num(out), tuple(lines))


_register(QuizKind(
    "neuron_output", "What one neuron outputs: weights · inputs + bias, then its activation.",
    (NumberListParam("inputs", REQUIRED, "the input values", max_items=8),
     NumberListParam("weights", REQUIRED, "one weight per input", max_items=8),
     FloatParam("bias", 0.0, "the bias"),
     ChoiceParam("activation", "relu", "none, relu, sigmoid or tanh",
                 choices=tuple(ACTIVATIONS))),
    "number", _neuron_solve,
    lambda a, p, an: (f"A neuron gets inputs {_list(a['inputs'])} with weights "
                      f"{_list(a['weights'])} and bias {num(a['bias'])}; its activation is "
                      f"{a['activation']}. What does it output?"),
    validate=lambda a: [] if len(a["inputs"]) == len(a["weights"]) else
    ["give one weight per input"], abs_tol=0.011, rel_tol=0.01,
    example={"kind": "neuron_output", "inputs": [1, 2], "weights": [0.5, -1], "bias": 0.2,
             "activation": "relu"}))


# --- softmax -------------------------------------------------------------------------------

def _softmax_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    scores, k = args["scores"], args["index"]
    exps = [math.exp(s) for s in scores]
    total = sum(exps)
    p = exps[k] / total
    names = args.get("names") or [f"class {i}" for i in range(len(scores))]
    lines = ["softmax: p(class) = e^score / (sum of e^score over all classes)",
             ", ".join(f"e^{num(s)} = {num(e)}" for s, e in zip(scores, exps)),
             f"sum = {' + '.join(num(e) for e in exps)} = {num(total)}",
             f"p({names[k]}) = {num(exps[k])} / {num(total)} = {num(p, 3)}",
             "(the probabilities of all classes add up to 1)"]
    return Solution(p, num(p, 3), tuple(lines))


_register(QuizKind(
    "softmax", "The probability softmax gives one class, from the scores of all classes.",
    (NumberListParam("scores", REQUIRED, "the scores (logits) of the classes", min_items=2,
                     max_items=10, minimum=-50, maximum=50),
     IntParam("index", 0, "which class to ask about (0 = the first)", minimum=0, maximum=9),
     ListParam("names", None, "names of the classes", item=TextParam("names", REQUIRED, ""),
               min_items=2, max_items=10)),
    "number", _softmax_solve,
    lambda a, p, an: (f"The last layer gives the scores {_list(a['scores'])}. What probability "
                      f"does softmax give "
                      f"{(a.get('names') or [None] * 10)[a['index']] or 'class ' + str(a['index'])}?"),
    validate=lambda a: (["index is past the last score"] if a["index"] >= len(a["scores"]) else
                        ["give one name per score"] if a.get("names") and
                        len(a["names"]) != len(a["scores"]) else []),
    abs_tol=0.011, fraction=True,
    example={"kind": "softmax", "scores": [2.0, 1.0, 0.1], "index": 0}))


# --- loss ----------------------------------------------------------------------------------

def _loss_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    if args["loss"] == "mse":
        pred, true = args["predicted"], args["target"]
        squares = [(p - t) ** 2 for p, t in zip(pred, true)]
        value = sum(squares) / len(squares)
        lines = ["mean squared error = the mean of (prediction − target)²",
                 " , ".join(f"({num(p)} − {num(t)})² = {num(s)}"
                            for p, t, s in zip(pred, true, squares)),
                 f"mean = ({' + '.join(num(s) for s in squares)}) / {len(squares)} = "
                 f"{num(value)}"]
        return Solution(value, num(value), tuple(lines))
    probs, k = args["predicted"], args["index"]
    value = -math.log(probs[k])
    lines = ["cross-entropy = −ln(the probability given to the true class)",
             f"the true class is number {k}, given {num(probs[k])}",
             f"−ln({num(probs[k])}) = {num(value, 3)}",
             "(a confident right answer costs almost 0; a confident wrong one costs a lot)"]
    return Solution(value, num(value, 3), tuple(lines))


def _loss_prompt(args: dict, project: Project, analysis: Analysis) -> str:
    if args["loss"] == "mse":
        return (f"The network predicts {_list(args['predicted'])}; the targets are "
                f"{_list(args['target'])}. What is the mean squared error?")
    return (f"The network gives the probabilities {_list(args['predicted'])}, and the true "
            f"class is number {args['index']}. What is the cross-entropy loss?")


def _loss_problems(args: dict) -> list[str]:
    if args["loss"] == "mse":
        if not args.get("target") or len(args["target"]) != len(args["predicted"]):
            return ["mse needs one target per prediction"]
        return []
    probs = args["predicted"]
    if any(not 0 < p <= 1 for p in probs) or abs(sum(probs) - 1) > 0.011:
        return ["cross_entropy needs probabilities above 0 that add up to 1"]
    if args["index"] >= len(probs):
        return ["index is past the last probability"]
    return []


_register(QuizKind(
    "loss", "A loss by hand: the mean squared error of predictions and targets, or the "
            "cross-entropy of predicted probabilities for the true class.",
    (ChoiceParam("loss", REQUIRED, "mse or cross_entropy", choices=("mse", "cross_entropy")),
     NumberListParam("predicted", REQUIRED, "predictions (mse) or class probabilities",
                     max_items=10),
     NumberListParam("target", None, "targets (mse only)", max_items=10),
     IntParam("index", 0, "the true class (cross_entropy only)", minimum=0, maximum=9)),
    "number", _loss_solve, _loss_prompt, validate=_loss_problems, abs_tol=0.011,
    rel_tol=0.01,
    example={"kind": "loss", "loss": "cross_entropy", "predicted": [0.7, 0.2, 0.1],
             "index": 0}))


# --- gradient_step -------------------------------------------------------------------------

def _step_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    w, g, lr = args["weight"], args["gradient"], args["lr"]
    new = w - lr * g
    lines = ["gradient descent moves a weight against its gradient: new w = w − lr · gradient",
             f"new w = {num(w)} − {num(lr)} · {num(g)} = {num(w)} − {num(lr * g)} = {num(new)}"]
    if g > 0:
        lines.append("the gradient is positive (more w, more loss), so w goes down")
    elif g < 0:
        lines.append("the gradient is negative (more w, less loss), so w goes up")
    return Solution(new, num(new), tuple(lines))


_register(QuizKind(
    "gradient_step", "One gradient-descent update of a weight: w − lr · gradient.",
    (FloatParam("weight", REQUIRED, "the weight now"),
     FloatParam("gradient", REQUIRED, "dLoss/dweight, from backpropagation"),
     FloatParam("lr", REQUIRED, "the learning rate", minimum=0.0)),
    "number", _step_solve,
    lambda a, p, an: (f"A weight is {num(a['weight'])}; backpropagation says its gradient is "
                      f"{num(a['gradient'])}. With learning rate {num(a['lr'])}, what is the "
                      f"weight after one update?"),
    abs_tol=0.0011, rel_tol=0.001,
    example={"kind": "gradient_step", "weight": 0.8, "gradient": 0.5, "lr": 0.1}))


# --- chain_rule ----------------------------------------------------------------------------

def _chain_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    factors, names = args["factors"], args.get("names")
    product = math.prod(factors)
    lines = ["backpropagation multiplies the local slopes along the path from the loss back to "
             "the weight (the chain rule)"]
    if names:
        lines.append(" · ".join(names) + " = " + " · ".join(num(f) for f in factors))
    lines.append(" · ".join(num(f) for f in factors) + f" = {num(product)}")
    return Solution(product, num(product), tuple(lines))


_register(QuizKind(
    "chain_rule", "A gradient by the chain rule: the product of the local slopes along the "
                  "path from the loss back to a weight.",
    (NumberListParam("factors", REQUIRED, "the local slopes, from the loss backwards",
                     min_items=2, max_items=6),
     ListParam("names", None, "how each slope is written, e.g. \"dL/dy\"",
               item=TextParam("names", REQUIRED, ""), min_items=2, max_items=6)),
    "number", _chain_solve,
    lambda a, p, an: ("Going backwards from the loss, the local slopes are "
                      + (", ".join(f"{n} = {num(f)}" for n, f in zip(a["names"], a["factors"]))
                         if a.get("names") else _list(a["factors"]))
                      + ". What is the gradient of the loss with respect to the weight?"),
    validate=lambda a: (["give one name per factor"] if a.get("names")
                        and len(a["names"]) != len(a["factors"]) else []),
    abs_tol=0.0011, rel_tol=0.001,
    example={"kind": "chain_rule", "factors": [2, 0.25, 3],
             "names": ["dL/dy", "dy/dz", "dz/dw"]}))


# --- standardize ---------------------------------------------------------------------------

def _standardize_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    x, mean, std = args["value"], args["mean"], args["std"]
    z = (x - mean) / std
    lines = ["standardizing: z = (value − mean) / standard deviation",
             f"z = ({num(x)} − {num(mean)}) / {num(std)} = {num(x - mean)} / {num(std)} = "
             f"{num(z, 3)}",
             "so every column ends up centred on 0 with a spread of about 1, whatever its units"]
    return Solution(z, num(z, 3), tuple(lines))


_register(QuizKind(
    "standardize", "One value scaled the way LayerLab standardizes inputs: (value − mean) / "
                   "standard deviation.",
    (FloatParam("value", REQUIRED, "the raw value"), FloatParam("mean", REQUIRED, "the mean"),
     FloatParam("std", REQUIRED, "the standard deviation", minimum=1e-12)),
    "number", _standardize_solve,
    lambda a, p, an: (f"A column has mean {num(a['mean'])} and standard deviation "
                      f"{num(a['std'])}. What does the value {num(a['value'])} become after "
                      f"standardizing?"),
    abs_tol=0.011, rel_tol=0.01,
    example={"kind": "standardize", "value": 200, "mean": 150, "std": 60}))


# --- confusion_metric ----------------------------------------------------------------------

def _confusion_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    (tn, fp), (fn, tp) = args["matrix"] if args["positive"] == 1 else \
        [list(reversed(r)) for r in reversed(args["matrix"])]
    names = args.get("names") or ["negative", "positive"]
    pos = names[args["positive"]]
    lines = [f"rows are the true class, columns the predicted one; the positive class is "
             f"{pos}",
             f"true positives {tp}, false positives {fp}, false negatives {fn}, "
             f"true negatives {tn}"]
    metric = args["metric"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    if metric == "accuracy":
        value = (tp + tn) / (tp + tn + fp + fn)
        lines.append(f"accuracy = (TP + TN) / all = ({tp} + {tn}) / {tp + tn + fp + fn} = "
                     f"{num(value, 3)}")
    elif metric == "precision":
        value = precision
        lines.append(f"precision = TP / (TP + FP) = {tp} / ({tp} + {fp}) = {num(value, 3)}: "
                     f"of those called {pos}, the share that were")
    elif metric == "recall":
        value = recall
        lines.append(f"recall = TP / (TP + FN) = {tp} / ({tp} + {fn}) = {num(value, 3)}: "
                     f"of the real {pos}, the share that were found")
    else:
        value = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines += [f"precision = {tp} / ({tp} + {fp}) = {num(precision, 3)}; recall = {tp} / "
                  f"({tp} + {fn}) = {num(recall, 3)}",
                  f"F1 = 2 · precision · recall / (precision + recall) = 2 · "
                  f"{num(precision, 3)} · {num(recall, 3)} / ({num(precision, 3)} + "
                  f"{num(recall, 3)}) = {num(value, 3)}"]
    return Solution(value, num(value, 3), tuple(lines))


def _confusion_problems(args: dict) -> list[str]:
    m = args["matrix"]
    if (len(m) != 2 or not all(isinstance(r, list) and len(r) == 2 for r in m)
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for r in m for v in r)):
        return ["matrix must be [[a, b], [c, d]] of whole numbers ≥ 0 (rows: true class)"]
    if sum(sum(r) for r in m) == 0:
        return ["matrix must count at least one sample"]
    if args.get("names") and len(args["names"]) != 2:
        return ["give two names"]
    return []


_register(QuizKind(
    "confusion_metric", "Accuracy, precision, recall or F1 from a two-class confusion matrix "
                        "(rows: true class; columns: predicted).",
    (ListParam("matrix", REQUIRED, "[[true 0 → predicted 0, true 0 → 1], [true 1 → 0, "
                                   "true 1 → 1]]", min_items=2, max_items=2),
     ChoiceParam("metric", REQUIRED, "accuracy, precision, recall or f1",
                 choices=("accuracy", "precision", "recall", "f1")),
     IntParam("positive", 1, "which class is 'positive' (0 or 1)", minimum=0, maximum=1),
     ListParam("names", None, "the two class names", item=TextParam("names", REQUIRED, ""),
               min_items=2, max_items=2)),
    "number",
    _confusion_solve,
    lambda a, p, an: (f"A classifier's confusion matrix (rows: the true class, columns: the "
                      f"prediction{', order ' + ' / '.join(a['names']) if a.get('names') else ''}"
                      f") is {a['matrix']}. What is its {a['metric']}?"),
    validate=_confusion_problems, abs_tol=0.011, fraction=True,
    example={"kind": "confusion_metric", "matrix": [[40, 10], [5, 45]],
             "metric": "precision"}))


# --- batches_per_epoch ---------------------------------------------------------------------

def _batches_solve(args: dict, project: Project, analysis: Analysis) -> Solution:
    n = args["samples"]
    b = args.get("batch_size") or _batch_size(project)
    steps = math.ceil(n / b)
    lines = [f"one epoch shows every training sample once, {b} at a time",
             f"batches = ⌈{n:,} / {b}⌉ = ⌈{num(n / b, 4)}⌉ = {steps:,}"
             + (" (the last batch is smaller)" if n % b else ""),
             f"each batch is one forward pass, one backward pass and one weight update, so "
             f"an epoch is {steps:,} updates"]
    return Solution(steps, f"{steps:,}", tuple(lines))


def _batch_size(project: Project) -> int:
    from ..training.config import check_training, parse_training
    section = project.training or {}
    return parse_training(section).batch_size if not check_training(section) else 32


_register(QuizKind(
    "batches_per_epoch", "How many batches (weight updates) one epoch takes: ⌈samples / "
                         "batch size⌉; the batch size defaults to the step's project's.",
    (IntParam("samples", REQUIRED, "training samples", minimum=1, maximum=10_000_000),
     IntParam("batch_size", None, "batch size (default: the project's training.batch_size)",
              minimum=1, maximum=65_536)),
    "number", _batches_solve,
    lambda a, p, an: (f"The training split has {a['samples']:,} samples and the batch size is "
                      f"{a.get('batch_size') or _batch_size(p)}. How many batches make one "
                      f"epoch?"),
    example={"kind": "batches_per_epoch", "samples": 1437}))


def _list(values) -> str:
    return "[" + ", ".join(num(v) for v in values) + "]"


def _a(word: str) -> str:
    return ("an " if word[:1] in "AEIOU" else "a ") + word
