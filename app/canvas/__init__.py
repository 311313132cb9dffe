"""The graph canvas: a QGraphicsScene that mirrors the Document, its items, and the view."""
