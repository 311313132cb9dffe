"""The ``layerlab`` command: engine sub-commands run headless, ``--self-test`` checks the whole
app offscreen (see app/self_test.py), anything else opens the GUI."""
from __future__ import annotations

import sys

from layerlab.engine import cli as engine_cli


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--self-test":
        from layerlab.app.self_test import main as self_test
        return self_test(argv[1:])
    if argv and (argv[0] in engine_cli.COMMANDS or argv[0] in ("-h", "--help", "--version")):
        return engine_cli.main(argv)
    return main_gui(argv)


def main_gui(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from layerlab.app.main_window import run_app
    except ImportError as exc:  # the GUI is optional for headless installs
        print(f"layerlab: the GUI cannot start ({exc}); engine commands still work: "
              f"{', '.join(engine_cli.COMMANDS)}", file=sys.stderr)
        return 2
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
