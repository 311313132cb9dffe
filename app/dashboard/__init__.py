"""The live training dashboard: train the network on the canvas and look inside it while it
learns — loss curves, filters, feature maps, confusion matrix, gradients — and try it.

``Dashboard(window)`` adds its views, menu and toolbar actions to a MainWindow. Training runs
in a worker process (engine/service); the views render the project state (state/), which is
Qt-free — importing ``layerlab.app.dashboard.state`` loads no Qt, so the package's Qt parts
load only when asked for.
"""
__all__ = ["Dashboard"]


def __getattr__(name: str):
    if name == "Dashboard":
        from .dashboard import Dashboard
        return Dashboard
    raise AttributeError(name)
