"""The storage layer, checked from the code: only it opens a database connection or
writes SQL; its SQL takes values as parameters only (nothing from data is put into the
text of a statement); a database URL's password is never written or shown. Each check
is shown to fail on a synthetic violation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ordertags.storage.location import check_url, redact, without_password
from ordertags.storage.postgresql import dialect

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ordertags"

#: The storage layer: the backends, and the history's modules that hold its SQL.
STORAGE = (
    "ordertags/storage/",
    "ordertags/customers/store.py",
    "ordertags/customers/ingest.py",
    "ordertags/customers/queries.py",
    "ordertags/customers/history.py",
    "ordertags/customers/applied.py",
    "ordertags/customers/accounts.py",
    "ordertags/customers/workspace.py",
    "ordertags/customers/migration.py",
)
#: The money rules' SQL renderings stand beside their array twins (one concept, one
#: module); they take a table alias only.
SQL_FRAGMENTS = ("ordertags/base/amounts.py",)
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool")
STATEMENT = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TEMP\s+)?(TABLE|INDEX|TRIGGER)|DROP\s+(TABLE|INDEX)|PRAGMA\s+\w+|COPY\s+\w+)",
    re.S,
)
SQLISH = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|PRAGMA|WHERE|FROM|JOIN|SUM|COALESCE|"
    r"IFNULL|LIMIT|ORDER BY|GROUP BY)\b"
)
#: What may stand in the text of a statement (f-string): the history's own names. A
#: name in capitals is a module constant; these local names only ever hold the
#: history's constants (tables, columns, a customer scope, a list of ``?`` marks).
ALLOWED_NAMES = {
    "alias", "col", "cols", "column", "columns", "factor", "first", "marks", "name",
    "order", "scope", "sql", "table", "where",
    # the customer facts and search (customers/store.py derived_sql): a kind of FACTS,
    # its column expression, the orders' source, the temporary table of ids and its
    # IN clause, the search table's id column: each chosen from the module's constants
    "kind", "value", "source", "present", "only", "mine", "rid",
}  # fmt: skip
ALLOWED_CALLS = {"int", "counted_sql", "net_spend_sql"}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def in_storage(path: Path) -> bool:
    return rel(path).startswith(STORAGE)


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def strings_of(tree: ast.AST) -> list[tuple[int, str]]:
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value
                for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            out.append((node.lineno, text))
    return out


def outside_violations(source: str, name: str) -> list[str]:
    """What a module outside the storage layer must not do: import a database driver,
    call ``execute``, or hold a SQL statement."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            found += [
                f"{name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in DRIVERS
            ]
        elif isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "cursor"):
            found.append(f"{name}:{node.lineno} calls .{node.attr}")
    for line, text in strings_of(tree):
        if STATEMENT.search(text):
            found.append(f"{name}:{line} holds SQL: {text[:40]!r}")
    return found


def test_no_module_outside_the_storage_layer_opens_a_database_or_writes_sql() -> None:
    wrong = []
    for path in modules():
        if in_storage(path) or rel(path) in SQL_FRAGMENTS:
            continue
        wrong += outside_violations(path.read_text(encoding="utf-8"), rel(path))
    assert wrong == []


@pytest.mark.parametrize(
    "text",
    [
        "import sqlite3\n",
        "from psycopg import connect\n",
        "def f(h):\n    h.db.execute('x')\n",
        "Q = 'SELECT key FROM customers WHERE id = ?'\n",
        "def f(t):\n    return f'DELETE FROM {t}'\n",
    ],
)
def test_the_outside_check_catches_a_connection_or_sql(text: str) -> None:
    assert outside_violations(text, "m") != []


def built_sql(source: str, name: str) -> list[str]:
    """Statements whose text is built from something other than the history's own
    names: an f-string interpolating anything else, or %-formatting / ``.format`` of
    SQL text."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value
                for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if not SQLISH.search(text):
                continue
            for v in node.values:
                if isinstance(v, ast.FormattedValue) and not allowed(v.value):
                    found.append(f"{name}:{node.lineno} puts {ast.unparse(v.value)} into SQL")
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
            and SQLISH.search(node.left.value)
        ):
            found.append(f"{name}:{node.lineno} %-formats SQL")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and SQLISH.search(node.func.value.value)
        ):
            found.append(f"{name}:{node.lineno} formats SQL with .format")
    return found


def allowed(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id.isupper() or expr.id.lstrip("_").isupper() or expr.id in ALLOWED_NAMES
    if isinstance(expr, ast.Subscript):  # _SEARCH_TEXT[backend]: one of a constant's texts
        return allowed(expr.value)
    if isinstance(expr, ast.Attribute):  # self._COLUMNS and the like
        return expr.attr.lstrip("_").isupper()
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        return expr.func.id in ALLOWED_CALLS
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        # ", ".join(columns): the columns, one of the history's constants
        return expr.func.attr == "join" and all(allowed(a) for a in expr.args)
    return False


def test_the_storage_layer_builds_no_sql_from_data() -> None:
    wrong = []
    for path in modules():
        if in_storage(path) or rel(path) in SQL_FRAGMENTS:
            wrong += built_sql(path.read_text(encoding="utf-8"), rel(path))
    assert wrong == []


@pytest.mark.parametrize(
    "text",
    [
        "def f(key):\n    return f\"SELECT id FROM customers WHERE key = '{key}'\"\n",
        "def f(n):\n    return 'SELECT id FROM orders LIMIT %d' % n\n",
        "def f(k):\n    return 'DELETE FROM links WHERE a = {}'.format(k)\n",
        "def f(row):\n    return f'INSERT INTO meta VALUES ({row.value})'\n",
    ],
)
def test_the_built_sql_check_catches_data_in_a_statement(text: str) -> None:
    assert built_sql(text, "m") != []


def test_the_built_sql_check_lets_the_historys_own_names_pass() -> None:
    text = "def f(table, columns):\n    return f'SELECT {\", \".join(columns)} FROM {table}'\n"
    assert built_sql(text, "m") == []


# --- the password --------------------------------------------------------------------


def test_a_url_with_a_password_is_never_written_into_a_workspace() -> None:
    from ordertags.errors import UsageError

    for url in (
        "postgresql://shop:s3cret@db.example.com/shop",
        "postgresql://shop@db.example.com/shop?password=s3cret",
    ):
        with pytest.raises(UsageError, match="holds a password") as err:
            check_url(url)
        assert "s3cret" not in str(err.value)
        assert "s3cret" not in redact(url)
        assert "s3cret" not in without_password(url)


def test_the_dialect_changes_only_words_outside_quoted_text() -> None:
    assert dialect("SELECT 'a?b', \"x?\" FROM t WHERE k = ?") == (
        "SELECT 'a?b', \"x?\" FROM t WHERE k = %s"
    )
    assert dialect("INSERT OR IGNORE INTO t_in VALUES (?)") == (
        "INSERT INTO t_in VALUES (%s) ON CONFLICT DO NOTHING"
    )
    assert dialect("SELECT 1 FROM a CROSS JOIN b ON b.i = a.i WHERE n LIKE ?") == (
        "SELECT 1 FROM a JOIN b ON b.i = a.i WHERE n ILIKE %s"
    )
