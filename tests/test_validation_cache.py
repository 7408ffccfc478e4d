"""A rule file or tag book found valid is remembered (keyed by its text and the schema),
so that a cron run does not import JSON Schema to check the same file again; a text
never found valid is always checked, and its problems always reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ordertags.errors import RulesError
from ordertags.rules import load_rules

from .conftest import ROOT

RULES = """\
version: 1
rules:
  - name: big
    when: {field: total, over: 100}
    tag: HIGH
"""

CHECK = """\
import sys
from ordertags.rules import load_rules
load_rules(sys.argv[1])
print("jsonschema" in sys.modules)
"""


def imports_jsonschema(path: Path) -> bool:
    """Does loading ``path`` in a fresh process import jsonschema?"""
    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=None,
        cwd=ROOT,
    )
    return out.stdout.strip() == "True"


def test_a_valid_file_is_checked_once(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    assert imports_jsonschema(rules)  # first time: checked
    assert not imports_jsonschema(rules)  # the same text: remembered
    rules.write_text(RULES.replace("100", "150"), encoding="utf-8")
    assert imports_jsonschema(rules)  # another text: checked again


def test_a_broken_file_is_reported_every_time(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    load_rules(rules)  # the valid text is remembered
    broken = RULES.replace("    tag: HIGH\n", "    tag: HIGH\n    colur: red\n")
    rules.write_text(broken, encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RulesError, match="colur"):
            load_rules(rules)
    rules.write_text(RULES, encoding="utf-8")
    assert load_rules(rules).rules[0].name == "big"


def test_without_the_cache_every_load_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERTAGS_NO_CACHE", "1")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    assert imports_jsonschema(rules)
    assert imports_jsonschema(rules)
