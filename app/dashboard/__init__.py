"""The live training dashboard: train the network on the canvas and look inside it while it
learns — loss curves, filters, feature maps, confusion matrix, gradients — and try it.

``Dashboard(window)`` adds its panels, menu and toolbar actions to a MainWindow. Training runs
on a worker thread (training/worker.py); views only draw the latest plain-data snapshot (dashboard.py).
"""
from .dashboard import Dashboard

__all__ = ["Dashboard"]
