"""Entry point of the frozen app (packaging/layerlab.spec): the ``layerlab`` command.

A frozen executable is also ``sys.executable``, so code that starts a helper process as
``[sys.executable, "-m", module, ...]`` (the training dashboard's QProcess via
layerlab.engine.train.build_command, torchrun's workers) runs this file with ``-m``: that case
runs the module as ``python -m`` would. Anything else goes to layerlab.app.launcher.main.
"""
import multiprocessing
import runpy
import sys

# Interpreter flags a launcher may put before -m; a frozen app has nothing to do for them.
_IGNORED_FLAGS = {"-u", "-B", "-E", "-s", "-S", "-I", "-O", "-OO", "-q"}


def _python_m(argv):
    args = list(argv)
    while args and (args[0] in _IGNORED_FLAGS or args[0][:2] in ("-X", "-W")):
        flag = args.pop(0)
        if flag in ("-X", "-W") and args:   # the option's value is separate
            args.pop(0)
    if len(args) >= 2 and args[0] == "-m":
        return args[1], args[2:]
    return None


if __name__ == "__main__":
    multiprocessing.freeze_support()
    module = _python_m(sys.argv[1:]) if getattr(sys, "frozen", False) else None
    if module is not None:
        name, rest = module
        sys.argv = [sys.argv[0]] + rest
        runpy.run_module(name, run_name="__main__", alter_sys=True)
        sys.exit(0)
    from layerlab.app.launcher import main
    sys.exit(main())
