"""The layout, checked: the direction of imports between layers, no cycles between
modules, no private name used across modules, and quick commands that start without
the array libraries.

Layers, highest first; a module imports only modules of its own layer or below::

    cli > api > reports > engine > customers > io > (rules, tags) > base > errors
"""

from __future__ import annotations

import ast
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
    "ordertags.tags": 2,
    "ordertags.io": 3,
    "ordertags.customers": 4,
    "ordertags.engine": 5,
    "ordertags.reports": 6,
    "ordertags.api": 7,
    "ordertags": 7,  # the package's __init__: the public API
    "ordertags.cli": 8,
    "ordertags.clidoc": 8,
    "ordertags.apidoc": 8,
    "ordertags.__main__": 8,
    "ordertags.web": 8,  # the team screen: beside the command line; nothing imports it
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


def imports_of(path: Path) -> Iterator[Import]:
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))

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
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.add(node.attr)
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


def test_no_private_attribute_of_another_module_used() -> None:
    """``obj._name`` only where this module defines ``_name`` (its own classes)."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = _defined_private_names(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and node.attr not in own
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                and not _PUBLIC_DESPITE_UNDERSCORE.get(node.attr) == _dotted(node.value)
                and (module_name(path), node.attr) not in _LIBRARY_INTERNALS
            ):
                wrong.append(f"{module_name(path)}:{node.lineno} uses .{node.attr}")
    assert wrong == []


def test_rules_and_tags_import_no_array_library() -> None:
    heavy = ("pyarrow", "numpy", "pandas")
    for name in ("rules.py", "tags.py"):
        found = [
            f"{i.source}:{i.line} imports {i.target}"
            for i in imports_of(PACKAGE / name)
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
    "ordertags.api",
    "ordertags.errors",
    "ordertags.tags",
    "ordertags.rules",
    "ordertags.base",
    "ordertags.io.options",
    "ordertags.io.lookup",
    "ordertags.customers.workspace",
    "ordertags.web",  # serve: inside the command, so nothing else loads the web stack
)


def test_the_command_line_calls_the_api() -> None:
    wrong = [
        f"ordertags.cli:{i.line} imports {i.target}"
        for i in internal(list(imports_of(PACKAGE / "cli.py")))
        if not any(i.target == m or i.target.startswith(m + ".") for m in CLI_MAY_IMPORT)
    ]
    assert wrong == []


def test_only_the_api_is_imported_inside_functions() -> None:
    """Imports go at the top of a module; inside a function only where the quick
    commands need it (the command line's API, and slow-to-import helpers the quick
    commands use only on some paths)."""
    allowed = {
        "ordertags.api",  # the commands: pyarrow behind it
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
        "importlib",
        "typer.main",  # clidoc: the reference is made on demand
        "typer.testing",
        "ordertags.cli",
        "ordertags.web",  # serve: the web stack, only for the team screen
        "getpass",  # users: only when a password is asked for
    }
    wrong = [
        f"{i.source}:{i.line} imports {i.target} inside a function"
        for i in all_imports()
        if i.lazy and i.target not in allowed
    ]
    assert wrong == []
