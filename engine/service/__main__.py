"""``python -m layerlab.engine.service``: the app's training worker (see process.py)."""
import sys

from .process import main

if __name__ == "__main__":
    sys.exit(main())
