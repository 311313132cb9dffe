"""Dockable panels around the canvas: palette, inspector, summary, problems."""
