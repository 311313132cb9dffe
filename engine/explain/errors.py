"""The one error the explanations raise: a message a learner can act on, never a traceback."""
from __future__ import annotations

__all__ = ["ExplainError"]


class ExplainError(ValueError):
    """Wrong node, index out of range, a sample that does not fit, weights that do not load…
    The message names the node, index, sample or file and says what is wrong."""
