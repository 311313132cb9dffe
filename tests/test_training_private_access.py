"""No engine module reads another object's private attributes or imports another module's
private names (issue 13: distributed.py,
checkpoint.py and commands/train.py read ~25 private Trainer attributes). A private name
(``_x``, not a dunder) may be read on ``self``/``cls``, or on any object in the module that
defines that name (a namedtuple-like ``args._module`` set by the same file). Anything else —
``trainer._train``, ``getattr(trainer, "_order")``, a third-party ``torch.nn.modules.x._Y`` —
reaches into an implementation another module owns and breaks when it changes."""
import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
#: Private-looking names that are someone's documented interface.
DOCUMENTED = {"sys._MEIPASS": "PyInstaller's documented folder of a one-file bundle",
              # what numpy pickles name: the safe CIFAR unpickler must allow exactly this
              "numpy._core.multiarray._reconstruct": "numpy's pickle reconstructor (2.x)",
              "numpy.core.multiarray._reconstruct": "numpy's pickle reconstructor (1.x)"}


def _defined(tree: ast.AST) -> set[str]:
    """Private names this module itself defines: functions, classes, attributes it assigns,
    keyword arguments it passes and names it binds."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if n.startswith("_")}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _owner_is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls") or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id == "super")


def violations(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename)
    own = _defined(tree)
    found = []
    for node in ast.walk(tree):
        name = owner = None
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            name, owner = node.attr, node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            name, owner = node.args[1].value, node.args[0]
        if isinstance(node, ast.ImportFrom):   # `from .project import _short` reaches in too
            for alias in node.names:
                what = f"{'.' * node.level}{node.module or ''}.{alias.name}"
                if _private(alias.name) and what not in DOCUMENTED:
                    found.append((node.lineno, node.col_offset, f"{filename}:{node.lineno}: "
                                                                f"{what}"))
            continue
        if name is None or not _private(name) or _owner_is_self(owner) or name in own:
            continue
        what = f"{ast.unparse(owner)}.{name}"
        if what not in DOCUMENTED:
            found.append((node.lineno, node.col_offset, f"{filename}:{node.lineno}: {what}"))
    return [text for _, _, text in sorted(found)]


def test_the_check_sees_what_it_should():
    bad = ("def f(trainer):\n    return trainer._train.n + getattr(trainer, '_order', 0)\n"
           "import torch\nB = torch.nn.modules.batchnorm._BatchNorm\n")
    assert [v.split(": ")[1] for v in violations(bad, "x.py")] == [
        "trainer._train", "trainer._order", "torch.nn.modules.batchnorm._BatchNorm"]
    assert [v.split(": ")[1] for v in violations(
        "from ..project import _kind, json_short\nfrom torch.nn.modules.utils import _pair\n",
        "z.py")] == ["..project._kind", "torch.nn.modules.utils._pair"]
    fine = ("class A:\n    def __init__(self):\n        self._x = 1\n"
            "    def f(self, other):\n        return self._x + other._x + super()._y()\n"
            "def g(args):\n    return args.__class__, args._module\n"
            "def h(p):\n    p.set_defaults(_module='m')\n")
    assert violations(fine, "y.py") == []


def test_no_engine_module_reads_anothers_private_attributes():
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(ENGINE)))
    assert found == [], "\n".join(found)
