"""The dashboard's views, declared once: each one's dock, what it observes in the project
state, whether it is an image view (drawn one per frame, in turn) and how often it may redraw.

Adding a view is one more :class:`ViewSpec` in :data:`VIEWS` and a widget class that follows
:class:`DashboardView`: the dashboard docks it, subscribes it to its topics, and its frames
draw it — nothing else to change.

A view is built with a :class:`ViewContext` (the project state, and the few things a view
may *do*: ask the worker, run a dashboard command, select on the canvas). It renders only
from the state: ``render(topics)`` notes what changed (cheap, no drawing); ``flush()`` draws
from the state when the frames say so; ``needs_flush()`` says whether there is something to
draw and the view is on screen to draw it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from PySide6.QtWidgets import QWidget

__all__ = ["ViewSpec", "ViewContext", "DashboardView", "VIEWS", "view_spec"]


class DashboardView(Protocol):
    def render(self, topics: frozenset[str]) -> None: ...
    def needs_flush(self) -> bool: ...
    def flush(self) -> None: ...


@dataclass
class ViewContext:
    state: Any                          # ProjectState
    editor: Any                         # the Editor (settings are undoable edits)
    notifier: Any                       # SettingsNotifier
    ask: Callable[..., int]             # ask(request name, **args) → call id (the worker)
    command: Callable[[str], Any]       # command("train"): what the dashboard's actions do
    select: Callable[[str], None]       # select a node on the canvas
    choose: Callable[..., None]         # choose(probe=3): what the person looks at (state)
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ViewSpec:
    key: str                            # the dock's key (remembered in the window layout)
    title: str
    make: Callable[[ViewContext], QWidget]
    observes: tuple[str, ...]           # ProjectState topics (and request store names)
    area: str = "bottom"                # "bottom" | "right"
    split_from: str | None = None       # placed to the right of this dock
    tab_with: str | None = None         # tabbed with this dock (or a main-window panel)
    image: bool = False                 # drawn one per frame, in turn with the others
    max_hz: float = 30.0                # redraws per second at most
    raised: bool = False                # in front of its tab group at start
    #: A view that needs room: shown (by a click elsewhere) in a dock smaller than this,
    #: it floats at this size over the canvas (pixels at 96 dpi; None: never).
    min_size: tuple[int, int] | None = None


def _view(module: str, name: str) -> Callable[[ViewContext], QWidget]:
    """The view class ``name`` of views/``module``.py, imported when the view is built (the
    window shows before the dashboard's view modules are even loaded)."""
    def make(ctx: ViewContext) -> QWidget:
        import importlib
        cls = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        return cls(ctx)
    make.__qualname__ = f"{module}.{name}"
    return make


VIEWS_DECLARED = (
    ViewSpec("training", "Training", _view("training_panel", "TrainingPanel"), area="right",
             tab_with="inspector", observes=("project", "dataset", "worker", "run", "progress",
                                             "session", "weights", "message", "choices",
                                             "lr_find"),
             max_hz=4, raised=True),
    ViewSpec("loss", "Loss", _view("loss_view", "LossView"), raised=True,
             observes=("project", "dataset", "worker", "run", "progress", "session",
                       "curves", "choices")),
    ViewSpec("filters", "Filters", _view("filters_view", "FiltersView"), split_from="loss",
             image=True, raised=True, max_hz=15,
             observes=("project", "worker", "run", "session", "visuals", "choices")),
    ViewSpec("features", "Feature maps", _view("feature_maps_view", "FeatureMapsView"),
             split_from="filters", image=True, raised=True, max_hz=15,
             observes=("project", "dataset", "worker", "run", "session", "visuals",
                       "choices", "samples")),
    # Its data changes once an epoch: with epochs of a tenth of a second, 4 redraws a
    # second are plenty.
    ViewSpec("confusion", "Confusion matrix", _view("confusion_view", "ConfusionView"),
             tab_with="filters", image=True, max_hz=4,
             observes=("project", "dataset", "worker", "run", "session", "evaluation",
                       "choices", "samples", "saliency_gallery")),
    ViewSpec("predict", "Predict", _view("predict_panel", "PredictPanel"), area="right",
             tab_with="training",
             observes=("project", "dataset", "worker", "session", "prediction")),
    ViewSpec("gradients", "Gradients", _view("gradients_view", "GradientsView"),
             tab_with="features", image=True, max_hz=15,
             observes=("project", "worker", "run", "session", "visuals")),
    # Seeing inside (issue 11): each draws only what the worker computed for it.
    ViewSpec("explain", "Explain", _view("explain_view", "ExplainView"),
             tab_with="features", image=True, max_hz=15, min_size=(1100, 560),
             observes=("project", "worker", "run", "session", "choices", "explanation")),
    ViewSpec("saliency", "Where it looked", _view("saliency_view", "SaliencyView"),
             tab_with="filters", image=True, max_hz=15,
             observes=("project", "worker", "run", "session", "choices", "saliency")),
    ViewSpec("histograms", "Histograms", _view("histograms_view", "HistogramsView"),
             tab_with="features", image=True, max_hz=4,
             observes=("project", "worker", "run", "session", "choices", "histograms")),
    ViewSpec("runs", "Runs", _view("runs_view", "RunsView"), tab_with="loss", max_hz=4,
             observes=("project", "worker", "run", "choices", "runs")),
    ViewSpec("batch", "Batch", _view("batch_view", "BatchView"), tab_with="filters",
             image=True, max_hz=15,
             observes=("project", "worker", "run", "session", "progress", "batch")),
    ViewSpec("regression", "Predicted vs actual", _view("regression_view", "RegressionView"),
             tab_with="confusion", image=True, max_hz=4,
             observes=("project", "dataset", "worker", "run", "session", "evaluation")),
    # The workshop's lessons (app/workshop): it also redraws on every edit and when a run's
    # record is kept, from the window's Workshop (ctx.extras["workshop"]).
    ViewSpec("lessons", "Lessons", _view("lessons_view", "LessonsView"), area="right",
             tab_with="training", observes=("project", "run"), max_hz=10),
)


#: Every view of the dashboard, in docking order.
VIEWS: tuple[ViewSpec, ...] = VIEWS_DECLARED


def view_spec(key: str) -> ViewSpec:
    return next(v for v in VIEWS if v.key == key)
