"""One module per ``layerlab`` sub-command (see engine/cli.py)."""
