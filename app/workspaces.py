"""Workspaces: named dock arrangements of the main window, each remembered as the person
leaves it.

* **Build** — the canvas large, the Layers palette and the Inspector beside it; everything
  else (Summary, Problems, the training views) one row of tabs below, low.
* **Train** — the training views large below a smaller canvas, side by side as the views
  registry declares them; the Training panel over the Inspector on the right.

A workspace is declared once in :data:`WORKSPACES` (``register`` adds one: a presenter
layout is one more entry). Its default arrangement is *derived*: every dock has a place — the
main window's own panels here (:data:`PANELS`), the dashboard's views from their
``ViewSpec`` (area, ``split_from``, ``tab_with``, ``raised``), any other panel from the area it
was added to — and the workspace says which dock anchors each area, whether declared
side-by-side docks stay side by side, what is hidden, and the sizes. A view added to the
registry later lands in both without code of its own.

Switching saves the window's dock state (``QMainWindow.saveState``) under the workspace it
leaves and restores the one it enters (QSettings ``workspaces/<key>/state``); docks that a
remembered state does not know yet are placed by the workspace's rule. A panel behind
another's tab does not size its tab group (:meth:`Workspaces.fit_tabs`): the Feature maps
view, once shown in Train, needs 225 px, and would otherwise hold Build's bottom row of tabs
that high — in front it gets its room back. A run that starts
switches to Train: pressing Train shows the training views; a new message brings the docks
that show messages (the Training panel) to the front.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup

__all__ = ["Workspace", "DockPlace", "WORKSPACES", "PANELS", "register", "Workspaces",
           "dock_places", "arrange"]

Area = Qt.DockWidgetArea
AREAS = {"left": Area.LeftDockWidgetArea, "right": Area.RightDockWidgetArea,
         "bottom": Area.BottomDockWidgetArea, "top": Area.TopDockWidgetArea}
AREA_NAMES = {v: k for k, v in AREAS.items()}
#: The window size the sizes below are given for; Qt gets them scaled to the real one.
REFERENCE_SIZE = (1440, 900)
#: The size of a dock side by side with others that the workspace does not size.
DEFAULT_SHARE = 300


@dataclass(frozen=True)
class DockPlace:
    """Where a dock belongs: its area, and the dock it sits beside or is tabbed with."""
    area: str
    split_from: str | None = None       # to the right of this dock (when a workspace splits)
    tab_with: str | None = None         # in this dock's tab group
    raised: bool = False                # in front of its tab group (when a workspace splits)


#: The main window's own panels (the dashboard's views come from views/registry.py).
PANELS = {
    "palette": DockPlace("left"),
    "inspector": DockPlace("right"),
    "summary": DockPlace("bottom"),
    "problems": DockPlace("bottom", tab_with="summary"),
}


@dataclass(frozen=True)
class Workspace:
    key: str
    title: str
    tip: str
    shortcut: str | None = None
    #: area → the dock whose tab group the area's other docks join (first present one wins)
    anchors: dict = field(default_factory=dict)
    #: honour the docks' declared ``split_from`` / ``tab_with`` / ``raised`` (else one tab
    #: group per area, the anchor in front)
    follow_declared: bool = False
    #: (upper, lower) docks of one side stacked one over the other
    stacked: tuple[tuple[str, str], ...] = ()
    hidden: tuple[str, ...] = ()
    #: sizes at REFERENCE_SIZE: "left"/"right" widths and "bottom" height of the areas, and
    #: widths of docks side by side (by key; the others share what is left)
    sizes: dict = field(default_factory=dict)
    in_toolbar: bool = True
    #: an arrangement of its own instead of the derived one: arrange(window, places)
    custom: Callable | None = None


BUILD = Workspace(
    "build", "Build", "Edit the network: the canvas large, the layers and the inspector "
    "beside it", "Ctrl+Shift+B",
    anchors={"left": "palette", "right": "inspector", "bottom": "summary"},
    sizes={"left": 210, "right": 350, "bottom": 185})
TRAIN = Workspace(
    "train", "Train", "Watch it train: the plots large, the canvas small", "Ctrl+Shift+T",
    anchors={"right": "training", "bottom": "loss"}, follow_declared=True,
    stacked=(("training", "inspector"),), hidden=("palette",),
    sizes={"right": 340, "bottom": 500, "loss": 420, "training": 560, "inspector": 240})

#: Every workspace, by key, in menu order.
WORKSPACES: dict[str, Workspace] = {}


def register(workspace: Workspace) -> Workspace:
    if workspace.key in WORKSPACES:
        raise ValueError(f"workspace {workspace.key!r} is declared twice")
    WORKSPACES[workspace.key] = workspace
    return workspace


register(BUILD)
register(TRAIN)


# --- the arrangement ------------------------------------------------------------------------
def dock_places(window) -> dict[str, DockPlace]:
    """Every dock of ``window``'s place: declared (PANELS, the views registry), else the area
    it is in now."""
    from .dashboard.views.registry import VIEWS
    declared = dict(PANELS)
    for spec in VIEWS:
        declared[spec.key] = DockPlace(spec.area, spec.split_from, spec.tab_with, spec.raised)
    places = {}
    for key, dock in window.panels.items():
        if key in declared:
            places[key] = declared[key]
        else:
            area = AREA_NAMES.get(window.dockWidgetArea(dock), "right")
            places[key] = DockPlace(area)
    return places


def arrange(window, workspace: Workspace) -> None:
    """Lay ``window``'s docks out as ``workspace``'s default."""
    places = dock_places(window)
    if workspace.custom is not None:
        workspace.custom(window, places)
        return
    docks = window.panels
    for dock in docks.values():
        window.removeDockWidget(dock)
    shown = [k for k in docks if k not in workspace.hidden]
    anchors: dict[str, str] = {}
    for key in shown:
        area = places[key].area
        wanted = workspace.anchors.get(area)
        if area not in anchors or key == wanted:
            anchors[area] = key
    placed: set[str] = set()
    rows: dict[str, list[str]] = {}        # area → its docks side by side (or stacked)
    for area, key in anchors.items():
        window.addDockWidget(AREAS[area], docks[key])
        placed.add(key)
        rows[area] = [key]
    for upper, lower in workspace.stacked:
        if upper in placed and lower in shown and lower not in placed:
            window.splitDockWidget(docks[upper], docks[lower], Qt.Orientation.Vertical)
            placed.add(lower)
            rows[places[upper].area].append(lower)
    if workspace.follow_declared:
        for key in shown:
            split = places[key].split_from
            if key not in placed and split in placed and places[split].area == places[key].area:
                window.splitDockWidget(docks[split], docks[key], Qt.Orientation.Horizontal)
                placed.add(key)
                rows[places[key].area].append(key)
    for key in shown:
        if key in placed:
            continue
        place = places[key]
        partner = place.tab_with if workspace.follow_declared else None
        if partner not in placed or places[partner].area != place.area:
            partner = anchors[place.area]
        window.tabifyDockWidget(docks[partner], docks[key])
        placed.add(key)
    for key, dock in docks.items():
        dock.setVisible(key in placed)
    front = [k for k in shown if workspace.follow_declared and places[k].raised]
    for key in front + list(anchors.values()) + [lower for _u, lower in workspace.stacked]:
        if key in placed:
            docks[key].raise_()
    _hide_stale_tab_bars(window)
    apply_sizes(window, workspace, anchors, rows)
    # Sizes need the laid-out window: again once the event loop has run.
    QTimer.singleShot(0, window, lambda: apply_sizes(window, workspace, anchors, rows))


def _dock_tab_bars(window) -> list:
    """The tab bars of the window's dock tab groups (QMainWindow makes them its children)."""
    from PySide6.QtWidgets import QTabBar
    return window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)


def _hide_stale_tab_bars(window) -> None:
    """Tab bars of tab groups that were undone before the window laid them out stay on
    screen, stranded (Qt retires a tab bar only when a laid-out state drops it): hide them
    all — laying the window out shows the ones in use again."""
    for bar in _dock_tab_bars(window):
        bar.hide()


def whole_tab_titles(window) -> None:
    """Tab titles of the dock groups are never cut to "F…" / "Conf…": a group with more tabs
    than room scrolls its tabs with arrows instead (Qt's dock tab bars elide by default)."""
    for bar in _dock_tab_bars(window):
        if bar.elideMode() != Qt.TextElideMode.ElideNone:
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)


def apply_sizes(window, workspace: Workspace, anchors: dict[str, str],
                rows: dict[str, list[str]]) -> None:
    """The workspace's sizes, scaled from REFERENCE_SIZE to the window's: the side areas'
    widths, the bottom's height, and the shares of docks side by side or stacked (a dock
    it does not size gets DEFAULT_SHARE)."""
    sx = max(window.width(), 1) / REFERENCE_SIZE[0]
    sy = max(window.height(), 1) / REFERENCE_SIZE[1]
    docks, sizes = window.panels, workspace.sizes
    horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical

    def resize(keys: list[str], orientation, scale: float, default: int | None = None) -> None:
        keys = [k for k in keys if k in docks and (k in sizes or default is not None)]
        if keys:
            window.resizeDocks([docks[k] for k in keys],
                               [round(sizes.get(k, default) * scale) for k in keys],
                               orientation)
    for area, orientation, scale in (("left", horizontal, sx), ("right", horizontal, sx),
                                     ("bottom", vertical, sy), ("top", vertical, sy)):
        if area in anchors and area in sizes:
            window.resizeDocks([docks[anchors[area]]], [round(sizes[area] * scale)],
                               orientation)
    for area, row in rows.items():
        if len(row) > 1:
            resize(row, vertical if area in ("left", "right") else horizontal,
                   sy if area in ("left", "right") else sx, DEFAULT_SHARE)


# --- switching and remembering --------------------------------------------------------------
class Workspaces(QObject):
    """The window's current workspace, its actions (toolbar, View menu) and what each one
    remembers."""
    #: the key of the workspace now shown
    changed = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        current = str(self.settings.value("workspaces/current", BUILD.key))
        self.current = current if current in WORKSPACES else BUILD.key
        self.actions: dict[str, QAction] = {}
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        for ws in WORKSPACES.values():
            action = QAction(ws.title, window)
            action.setCheckable(True)
            action.setChecked(ws.key == self.current)
            action.setStatusTip(ws.tip)
            action.setToolTip(f"{ws.title} workspace: {ws.tip}"
                              + (f" ({ws.shortcut})" if ws.shortcut else ""))
            if ws.shortcut:
                action.setShortcut(ws.shortcut)
            action.triggered.connect(lambda _c=False, key=ws.key: self.switch(key))
            self.group.addAction(action)
            self.actions[ws.key] = action
        self.act_reset = QAction("&Reset Workspace", window)
        self.act_reset.setStatusTip("Put the panels of this workspace back where they start")
        self.act_reset.triggered.connect(lambda _c=False: self.reset())
        self._run_was_active = False
        self._message = None
        self._watched: set[str] = set()
        self._minimums: dict[str, object] = {}       # key → its widget's own minimumSize
        self._fit_pending = False
        dashboard = getattr(window, "dashboard", None)
        if dashboard is not None:
            dashboard.project_state.subscribe(self._on_run, ("run",))
            dashboard.project_state.subscribe(self._on_message, ("message",))

    @property
    def workspace(self) -> Workspace:
        return WORKSPACES[self.current]

    def start(self, restored: bool) -> None:
        """At start-up: the window's state was restored (then docks it did not know yet are
        placed), or there was none (then the current workspace's default)."""
        self._relax_all()
        if restored:
            self._place_unknown(self._known(self.current))
        else:
            arrange(self.window, self.workspace)
        self._schedule_fit()

    def switch(self, key: str) -> None:
        """Leave the current workspace (remembering its layout) for ``key``'s."""
        if key not in WORKSPACES:
            raise KeyError(f"no workspace {key!r} (known: {', '.join(WORKSPACES)})")
        self.actions[key].setChecked(True)
        if key == self.current:
            return
        self.remember()
        self.current = key
        self.settings.setValue("workspaces/current", key)
        self._relax_all()          # the remembered sizes, not the panels' minimums, decide
        state = self.settings.value(f"workspaces/{key}/state")
        if state is not None and self.window.restoreState(state):
            self._place_unknown(self._known(key))
        else:
            arrange(self.window, self.workspace)
        self._schedule_fit()
        self.changed.emit(key)

    def reset(self) -> None:
        """The current workspace's default arrangement (its remembered one is replaced)."""
        self._relax_all()
        arrange(self.window, self.workspace)
        self.remember()
        self._schedule_fit()

    def remember(self) -> None:
        """Keep the current arrangement as the current workspace's."""
        self.settings.setValue(f"workspaces/{self.current}/state", self.window.saveState())
        self.settings.setValue(f"workspaces/{self.current}/docks", list(self.window.panels))

    def knows(self, dock_key: str) -> bool:
        """The current workspace's remembered layout has a place for this dock."""
        return dock_key in (self._known(self.current) or ())

    def _known(self, key: str) -> list[str] | None:
        known = self.settings.value(f"workspaces/{key}/docks")
        if known is None:
            return None
        return [known] if isinstance(known, str) else [str(k) for k in known]

    def _place_unknown(self, known: list[str] | None) -> None:
        """Docks a remembered state did not know (a view added since): by the rule."""
        if known is not None:
            self.place([key for key in self.window.panels if key not in known])

    def place(self, keys: list[str]) -> None:
        """Put these docks where the current workspace's rule says (a panel added while the
        window runs, or one its remembered layout does not know)."""
        ws, places, docks = self.workspace, dock_places(self.window), self.window.panels
        for key in keys:
            if key in ws.hidden:
                docks[key].hide()
                continue
            place = places[key]
            partners = [place.tab_with, place.split_from] if ws.follow_declared else []
            partners.append(ws.anchors.get(place.area))
            partner = next((p for p in partners if p in docks and p != key
                            and docks[p].isVisible() and places[p].area == place.area), None)
            if partner is None:
                self.window.addDockWidget(AREAS[place.area], docks[key])
            else:
                self.window.tabifyDockWidget(docks[partner], docks[key])
            docks[key].show()

    # --- tab groups sized by the panel in front --------------------------------------------
    def _schedule_fit(self, *_args) -> None:
        if not self._fit_pending:
            self._fit_pending = True
            QTimer.singleShot(0, self, self.fit_tabs)   # not once the window is gone

    def fit_tabs(self) -> None:
        """Panels behind another's tab ask for no room; the one in front for its own. (Qt
        sizes a tab group by the largest minimum of all its panels.)"""
        self._fit_pending = False
        window = self.window
        for key, dock in window.panels.items():
            if key not in self._watched:
                self._watched.add(key)
                dock.visibilityChanged.connect(self._schedule_fit)   # a tab chosen
            behind = (dock.isVisible() and bool(window.tabifiedDockWidgets(dock))
                      and dock.visibleRegion().isEmpty())
            if behind:
                self._relax(key)
            elif key in self._minimums and dock.widget() is not None:
                dock.widget().setMinimumSize(self._minimums.pop(key))
        whole_tab_titles(window)

    def _relax_all(self) -> None:
        for key in self.window.panels:
            self._relax(key)

    def _relax(self, key: str) -> None:
        widget = self.window.panels[key].widget()
        if widget is not None and key not in self._minimums:
            self._minimums[key] = widget.minimumSize()
            widget.setMinimumSize(1, 1)     # (0, 0) would mean "its own minimum"

    def _on_message(self, _topics) -> None:
        """A new message (a run's end, weights loaded, an error) is news: the docks that show
        messages come to the front of their tab group, in any workspace."""
        from .dashboard.views.registry import VIEWS
        message = self.window.dashboard.project_state.message
        if message is None or message is self._message:
            self._message = message
            return
        self._message = message
        for spec in VIEWS:
            dock = self.window.panels.get(spec.key)
            if "message" in spec.observes and dock is not None and dock.isVisible():
                dock.raise_()

    def _on_run(self, _topics) -> None:
        """A run that starts brings the training views forward (the Train workspace)."""
        active = self.window.dashboard.project_state.run.active
        if active and not self._run_was_active:
            QTimer.singleShot(0, self, lambda: self.switch(TRAIN.key))
        self._run_was_active = active
