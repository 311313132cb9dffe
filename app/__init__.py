"""LayerLab's Qt GUI (PySide6 + pyqtgraph). Everything it does to a model goes through layerlab.engine."""
