"""The layout, checked: the direction of imports between layers, no cycles between
modules, no private name used across modules (nor of another library), and quick
commands that start without the array libraries. A dynamic import (``import_module``,
``__import__``, a ``sys.modules`` lookup) is checked as the static import it stands for,
or refused where its target cannot be read from the code; each check is shown to fail on
a synthetic violation (the ``*_catches_*`` tests at the end).

Layers, highest first; a module imports only modules of its own layer or below::

    cli > api > runs > reports > engine > customers > io > (rules, tagbook, storage) > base > errors
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ordertags"

#: Module (or subpackage) -> layer; a higher number is a higher layer.
LAYERS = {
    "ordertags.errors": 0,
    "ordertags.base": 1,
    "ordertags.rules": 2,
    "ordertags.actions": 2,  # the rule actions' kinds (ordertags.rules reads them)
    "ordertags.tagbook": 2,
    "ordertags.storage": 2,  # where the history lives: SQLite, PostgreSQL
    "ordertags.io": 3,
    "ordertags.customers": 4,
    "ordertags.engine": 5,
    "ordertags.reports": 6,
    "ordertags.runs": 7,  # the command line's runs, driven by typed requests
    "ordertags.api": 8,
    "ordertags": 8,  # the package's __init__: the public API
    "ordertags.cli": 9,
    "ordertags.clidoc": 9,
    "ordertags.apidoc": 9,
    "ordertags.__main__": 9,
    "ordertags.web": 9,  # the team screen: beside the command line; nothing imports it
}
LAYER_NAMES = {v: k.removeprefix("ordertags.") for k, v in LAYERS.items()}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    names: tuple[str, ...]  # names taken from it (from-imports)
    line: int
    lazy: bool  # inside a function body


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


#: Modules whose dynamic imports take their targets from a dict literal of the module:
#: ``ordertags`` loads each public name from the module ``_EXPORTS`` names (relative).
DECLARED_DYNAMIC = {"ordertags": "_EXPORTS"}


class DynamicImportError(AssertionError):
    """A dynamic import whose target the code does not spell out."""


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return ""


def _is_sys_modules(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _declared_targets(tree: ast.AST, source: str) -> list[tuple[str, str]]:
    """(module, name) of each entry of the dict literal ``DECLARED_DYNAMIC`` names."""
    var = DECLARED_DYNAMIC.get(source)
    for node in ast.walk(tree):
        if (
            var is not None
            and isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == var for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return [
                (f"{source}.{v.value}", k.value)
                for k, v in zip(node.value.keys, node.value.values, strict=True)
                if isinstance(k, ast.Constant)
                and isinstance(k.value, str)
                and isinstance(v, ast.Constant)
                and isinstance(v.value, str)
            ]
    return []


def _dynamic_target(node: ast.AST, package: str) -> tuple[str | None, int] | None:
    """For a dynamic import at ``node``: (its target module, or None where the code does
    not spell it out; line). None where ``node`` is no dynamic import."""
    arg: ast.expr | None = None
    if isinstance(node, ast.Call):
        name = _call_name(node.func)
        if name in ("import_module", "importlib.import_module", "__import__"):
            arg = node.args[0] if node.args else None
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault", "__getitem__")
            and _is_sys_modules(node.func.value)
        ):
            arg = node.args[0] if node.args else None
        else:
            return None
    elif isinstance(node, ast.Subscript) and _is_sys_modules(node.value):
        arg = node.slice
    else:
        return None
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        target = arg.value
        if target.startswith("."):  # import_module(".x", package): the package named, or ours
            given = node.args[1] if isinstance(node, ast.Call) and len(node.args) > 1 else None
            anchor = given.value if isinstance(given, ast.Constant) else package
            target = importlib.util.resolve_name(target, str(anchor))
        return target, node.lineno
    return None, node.lineno


def imports_of(path: Path, text: str | None = None) -> Iterator[Import]:
    """The imports of the module at ``path`` (or of ``text`` as that module), dynamic
    ones included; raises :class:`DynamicImportError` for a dynamic import whose target
    is not a string in the code nor declared (:data:`DECLARED_DYNAMIC`)."""
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    declared = _declared_targets(tree, source)

    def visit(node: ast.AST, lazy: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(source, alias.name, (), child.lineno, lazy)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(
                        [*package.split(".")[: len(package.split(".")) - child.level + 1], base]
                    ).strip(".")
                names = tuple(a.name for a in child.names)
                # ``from ordertags.customers import history``: the submodule is the target.
                modules = [f"{base}.{n}" for n in names if _is_module(f"{base}.{n}")]
                if modules:
                    for m in modules:
                        yield Import(source, m, (), child.lineno, lazy)
                else:
                    yield Import(source, base, names, child.lineno, lazy)
            else:
                dynamic = _dynamic_target(child, package)
                if dynamic is not None:
                    target, line = dynamic
                    if target is not None:
                        yield Import(source, target, (), line, lazy)
                    elif declared:
                        for module, name in declared:
                            yield Import(source, module, (name,), line, lazy)
                    else:
                        raise DynamicImportError(
                            f"{source}:{line} imports a module whose name the code does not "
                            "spell out: import it statically, or declare its targets "
                            "(DECLARED_DYNAMIC)"
                        )
                yield from visit(child, inner)

    yield from visit(tree, False)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def all_imports() -> list[Import]:
    return [i for p in sorted(PACKAGE.rglob("*.py")) for i in imports_of(p)]


def internal(imports: list[Import]) -> list[Import]:
    return [i for i in imports if i.target == "ordertags" or i.target.startswith("ordertags.")]


def test_every_module_has_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        layer_of(module_name(path))


def test_imports_point_down_the_layers() -> None:
    wrong = [
        f"{i.source}:{i.line} ({LAYER_NAMES[layer_of(i.source)]}) imports {i.target} "
        f"({LAYER_NAMES[layer_of(i.target)]})"
        for i in internal(all_imports())
        if layer_of(i.target) > layer_of(i.source)
    ]
    assert wrong == []


def test_no_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for i in internal(all_imports()):
        if i.target != i.source and i.target != "ordertags":
            graph.setdefault(i.source, set()).add(i.target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert [" -> ".join(c) for c in cycles] == []


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_name_imported_across_modules() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {n} from {i.target}"
        for i in internal(all_imports())
        for n in i.names
        if _private(n)
    ]
    assert wrong == []


def _defined_private_names(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif (  # an attribute of its own objects, not ``cell._style = ...`` of a library's
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            out.add(node.attr)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
    return {n for n in out if _private(n)}


#: Names with a leading underscore that their library documents as public.
_PUBLIC_DESPITE_UNDERSCORE = {"_exit": "os"}
#: A library's internals used on purpose, each by one module: XlsxWriter's row file
#: takes rows made as XML a column at a time (the per-cell API costs most of a big
#: sheet's time). Guarded by tests/test_xlsx_stream.py (the same bytes as the public
#: API writes) and by a fallback to the public API where these are missing.
_LIBRARY_INTERNALS = {
    ("ordertags.io.xlsx", "_write_single_row"),
    ("ordertags.io.xlsx", "_check_dimensions"),
    ("ordertags.io.xlsx", "_get_xf_index"),
}


def _dotted(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else ""


def _attribute_uses(tree: ast.AST) -> Iterator[tuple[ast.expr, str, int]]:
    """(object, attribute name, line) of every ``obj.name`` and of every ``getattr``,
    ``setattr``, ``hasattr`` or ``delattr`` with the name spelt out."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            yield node.value, node.attr, node.lineno
        elif (
            isinstance(node, ast.Call)
            and _call_name(node.func) in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            yield node.args[0], node.args[1].value, node.lineno


def foreign_private_uses(path: Path, text: str | None = None) -> list[str]:
    """Where the module at ``path`` (or ``text`` as that module) uses a private name
    (``obj._name``) it does not define itself: another module's or a library's."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    own = _defined_private_names(tree)
    return [
        f"{module_name(path)}:{line} uses .{attr}"
        for value, attr, line in _attribute_uses(tree)
        if _private(attr)
        and attr not in own
        and not (isinstance(value, ast.Name) and value.id in ("self", "cls"))
        and not _PUBLIC_DESPITE_UNDERSCORE.get(attr) == _dotted(value)
        and (module_name(path), attr) not in _LIBRARY_INTERNALS
    ]


def test_no_private_attribute_of_another_module_used() -> None:
    """``obj._name`` only where this module defines ``_name`` (its own classes)."""
    wrong = [w for path in sorted(PACKAGE.rglob("*.py")) for w in foreign_private_uses(path)]
    assert wrong == []


def test_rules_and_tags_import_no_array_library() -> None:
    heavy = ("pyarrow", "numpy", "pandas")
    for path in [PACKAGE / "rules.py", *sorted((PACKAGE / "tagbook").glob("*.py"))]:
        found = [
            f"{i.source}:{i.line} imports {i.target}"
            for i in imports_of(path)
            if i.target.split(".")[0] in heavy
        ]
        assert found == []


QUICK = [
    ["--help"],
    ["tag", "--help"],
    ["tags", "--tagbook", "tagbook.yaml"],
    ["tag", "ann@example.com", "--tag", "VIP", "--tagbook", "tagbook.yaml"],
    ["untag", "ann@example.com", "--tag", "VIP", "--tagbook", "tagbook.yaml"],
]


@pytest.mark.parametrize("args", QUICK, ids=lambda a: " ".join(a))
def test_quick_commands_start_without_pyarrow_or_pandas(
    args: list[str], tmp_path: Path, tagbook: Path
) -> None:
    (tmp_path / "tagbook.yaml").write_text(tagbook.read_text(encoding="utf-8"), encoding="utf-8")
    code = (  # the command ends the process itself (os._exit): look just before
        "import os, sys\n"
        "end = os._exit\n"
        "def leave(status):\n"
        "    heavy = sorted(m for m in ('pyarrow', 'pandas') if m in sys.modules)\n"
        "    print('HEAVY', heavy, flush=True)\n"
        "    end(status)\n"
        "os._exit = leave\n"
        "from ordertags.cli import main\n"
        f"sys.argv = ['ordertags', *{args!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"


#: What the command line may import: the public API (inside the commands, so that the
#: quick commands stay quick) and the light modules the quick commands run on.
CLI_MAY_IMPORT = (
    "ordertags.cli",  # its own modules
    "ordertags.runs",  # the runs (inside the commands, so that the quick commands stay quick)
    "ordertags.errors",
    "ordertags.tagbook",
    "ordertags.rules",
    "ordertags.base",
    "ordertags.io.options",
    "ordertags.io.lookup",
    "ordertags.customers.workspace",
    "ordertags.customers.importing",  # import and tag --from: pure Python (a quick command)
    "ordertags.web",  # serve: inside the command, so nothing else loads the web stack
)


def test_the_command_line_calls_the_api() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for path in sorted((PACKAGE / "cli").glob("*.py"))
        for i in internal(list(imports_of(path)))
        if not any(i.target == m or i.target.startswith(m + ".") for m in CLI_MAY_IMPORT)
    ]
    assert wrong == []


def test_only_the_api_is_imported_inside_functions() -> None:
    """Imports go at the top of a module; inside a function only where the quick
    commands need it (the command line's API, and slow-to-import helpers the quick
    commands use only on some paths); the package's public names load on first use
    (``DECLARED_DYNAMIC``)."""
    allowed = {
        "ordertags.api",  # the commands: pyarrow behind it
        "ordertags.runs",
        "ordertags.reports.terminal",  # api: rich, only when something is drawn
        "ordertags.customers.history",  # a workspace's history: numpy, pyarrow
        "phonenumbers",  # tens of ms to import: only for phone numbers
        "ordertags.io.xlsx",  # XlsxWriter: tens of ms to import, only for a spreadsheet
        "tabulate",  # only when a table is drawn (tens of ms to import)
        "charset_normalizer",  # only for an export that is not UTF-8 (tens of ms)
        "jsonschema",  # only when a YAML file is validated
        "jsonschema.exceptions",
        "ruamel.yaml",  # only when the tag book is edited
        "ruamel.yaml.comments",
        "ruamel.yaml.scalarstring",
        "filelock",
        "wcwidth",  # only for tables with characters beyond ASCII
        "rich",  # cli.tables: only for a table on a terminal
        "rich.console",
        "rich.table",
        "rich.text",
        "pandas",  # readers: sys.modules.get: a DataFrame only where the caller imported it
        "typer.main",  # clidoc: the reference is made on demand
        "typer.testing",
        "ordertags.cli",
        "ordertags.web",  # serve: the web stack, only for the team screen
        "getpass",  # users: only when a password is asked for
        "ordertags.storage.postgresql",  # psycopg: only where a workspace names a database
    }
    wrong = [
        f"{i.source}:{i.line} imports {i.target} inside a function"
        for i in all_imports()
        if i.lazy and i.target not in allowed and i.source not in DECLARED_DYNAMIC
    ]
    assert wrong == []


# --- each check fails on a synthetic violation ------------------------------------------

FAKE = PACKAGE / "base" / "fake.py"  # a module of the lowest layer but errors (not written)


def _layer_violations(text: str) -> list[str]:
    return [
        f"{i.line}: {i.target}"
        for i in internal(list(imports_of(FAKE, text)))
        if layer_of(i.target) > layer_of(i.source)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "import ordertags.api\n",
        "from ordertags.engine import pipeline\n",
        "import importlib\nm = importlib.import_module('ordertags.reports.lists')\n",
        "from importlib import import_module\ndef f():\n    return import_module('ordertags.cli')\n",
        "m = __import__('ordertags.engine.pipeline')\n",
        "import sys\nm = sys.modules['ordertags.api']\n",
        "import sys\ndef f():\n    return sys.modules.get('ordertags.reports')\n",
        "from importlib import import_module\nm = import_module('..api', 'ordertags.base')\n",
    ],
)
def test_the_layer_check_catches_static_and_dynamic_imports(text: str) -> None:
    assert len(_layer_violations(text)) == 1


def test_dynamic_imports_of_lower_layers_pass() -> None:
    assert (
        _layer_violations("import importlib\nm = importlib.import_module('ordertags.errors')\n")
        == []
    )


@pytest.mark.parametrize(
    "text",
    [
        "import importlib\ndef f(name):\n    return importlib.import_module(name)\n",
        "def f(name):\n    return __import__(name)\n",
        "import sys\ndef f(name):\n    return sys.modules[name]\n",
        "import sys\ndef f(name):\n    return sys.modules.get(f'ordertags.{name}')\n",
    ],
)
def test_a_dynamic_import_of_an_unspelt_name_is_refused(text: str) -> None:
    with pytest.raises(DynamicImportError, match="does not spell out"):
        list(imports_of(FAKE, text))


def test_the_declared_dynamic_imports_are_checked_as_static_ones() -> None:
    """``ordertags``' lazy names: each entry of ``_EXPORTS`` is an import the checks see
    (here one that names a private function)."""
    text = (
        "from importlib import import_module\n"
        "_EXPORTS = {'apply_files': 'api', 'sneak': 'engine.pipeline', '_hidden': 'tagbook'}\n"
        "def __getattr__(name):\n"
        "    return getattr(import_module(f'.{_EXPORTS[name]}', __name__), name)\n"
    )
    found = {(i.target, i.names) for i in imports_of(PACKAGE / "__init__.py", text)}
    assert {
        ("ordertags.api", ("apply_files",)),
        ("ordertags.engine.pipeline", ("sneak",)),
        ("ordertags.tagbook", ("_hidden",)),
    } <= found
    assert [n for i in imports_of(PACKAGE / "__init__.py", text) for n in i.names if _private(n)]


@pytest.mark.parametrize(
    "text",
    [
        # a library's private attribute read (the openpyxl case)
        "def f(cell):\n    return cell._style\n",
        # ... and set: setting it does not make it this module's own
        "def f(cell, s):\n    cell._style = s\n    return cell._style\n",
        "def f(cell):\n    return getattr(cell, '_style')\n",
        "def f(cell, s):\n    setattr(cell, '_style', s)\n",
        "import os\ndef f():\n    return os._Environ\n",
    ],
)
def test_the_private_name_check_catches_a_foreign_private_name(text: str) -> None:
    assert len(foreign_private_uses(FAKE, text)) >= 1


def test_the_private_name_check_lets_a_module_use_its_own() -> None:
    text = (
        "class A:\n"
        "    def __init__(self):\n"
        "        self._n = 1\n"
        "    def same(self, other):\n"
        "        return self._n == other._n\n"
        "def _helper():\n"
        "    return 1\n"
    )
    assert foreign_private_uses(FAKE, text) == []
