"""Quiz kinds worked with the lesson's own numbers: a neuron's output, softmax, a loss, a
gradient step, the chain rule, standardizing, metrics from a confusion matrix — and which
learning-rate curve is which (curves computed by engine/lessons/curves.py)."""
from __future__ import annotations

import math
from typing import Callable

from ..graph import Project
from ..inference import Analysis
from ..params import ChoiceParam, FloatParam, IntParam
from .curves import best_loss, learning_rate_curves
from .fields import REQUIRED, ListParam, NumberListParam, TextParam
from .quizzes import QuizKind, Solution, num, register_quiz
from .quizzes import number_list as _list


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


register_quiz(QuizKind(
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


register_quiz(QuizKind(
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


register_quiz(QuizKind(
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
             f"−ln({num(probs[k])}) = {num(value)}",
             "(a confident right answer costs almost 0; a confident wrong one costs a lot)"]
    return Solution(value, num(value), tuple(lines))


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


register_quiz(QuizKind(
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


register_quiz(QuizKind(
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


register_quiz(QuizKind(
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


register_quiz(QuizKind(
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


register_quiz(QuizKind(
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
