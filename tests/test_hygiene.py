"""Habits of the code base that drift unless checked: each constant defined once, the
checkers at one version everywhere, every docstring example run, a version that moves."""

from __future__ import annotations

import ast
import re
import tomllib
from collections import defaultdict
from pathlib import Path

from ordertags.base.version import VERSION

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ordertags"


def _constants(path: Path) -> dict[str, str]:
    """Module-level UPPER_CASE names bound to a literal, with the literal's text."""
    out = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9_]+", target.id):
            try:
                ast.literal_eval(value)  # type: ignore[arg-type]
            except ValueError:
                continue
            out[target.id] = ast.unparse(value)  # type: ignore[arg-type]
    return out


def duplicated_constants(paths: list[Path]) -> dict[str, list[str]]:
    """Constants bound to the same literal under the same name in several modules."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in paths:
        for name, text in _constants(path).items():
            seen[name, text].append(str(path.relative_to(ROOT)))
    return {name: where for (name, _), where in seen.items() if len(where) > 1}


def test_each_constant_is_defined_once() -> None:
    assert duplicated_constants(sorted(PACKAGE.rglob("*.py"))) == {}


def test_the_duplicate_check_finds_a_twin(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('BOM = b"\\xef\\xbb\\xbf"\n', encoding="utf-8")
    (tmp_path / "b.py").write_text('BOM = b"\\xef\\xbb\\xbf"\nX = 1\n', encoding="utf-8")
    assert duplicated_constants_at(tmp_path, ["a.py", "b.py"]) == {"BOM": ["a.py", "b.py"]}


def duplicated_constants_at(folder: Path, names: list[str]) -> dict[str, list[str]]:
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name in names:
        for const, text in _constants(folder / name).items():
            seen[const, text].append(name)
    return {c: where for (c, _), where in seen.items() if len(where) > 1}


def test_the_checkers_are_pinned_in_one_place() -> None:
    """ruff and mypy: exact versions in the test extra (what CI installs); pre-commit runs
    the installed ones, never a copy of its own at another version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    pins = [r for r in extras["test"] if re.match(r"(ruff|mypy)\b", r)]
    assert sorted(p.split("==")[0] for p in pins) == ["mypy", "ruff"]
    assert all(re.fullmatch(r"(ruff|mypy)==[0-9.]+", p) for p in pins), pins
    others = [r for name, reqs in extras.items() if name != "test" for r in reqs]
    assert not [r for r in others if re.match(r"(ruff|mypy)\b", r)]
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "rev:" not in hooks and "ruff-pre-commit" not in hooks and "mirrors-mypy" not in hooks
    assert (
        "ignore_missing_imports = true\n"
        not in (ROOT / "pyproject.toml")
        .read_text(encoding="utf-8")
        .split("[[tool.mypy.overrides]]")[0]
    )


def test_every_docstring_example_runs() -> None:
    """No example is skipped: each runs in a folder of the bundled examples (conftest.py)."""
    skipped = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "doctest: +SKIP" in line
    ]
    assert skipped == []


def test_the_changelog_names_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert f"## [{VERSION}]" in text
