"""Regressions of issue 17 (a new seller tries ordertags on a month of a UK surf shop),
items 1-3: the starter tag book keeps fraudsters off mailing lists; one rule for tag
names everywhere (any case, the tag book's spelling, an unknown name named with the
closest one); every public path parameter takes ``str`` and ``os.PathLike``."""

from __future__ import annotations

import collections.abc
import os
import subprocess
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import ordertags
from ordertags import UsageError
from ordertags.cli import app
from ordertags.customers.workspace import STARTER_TAGBOOK
from ordertags.tagbook import parse_tagbook

from .conftest import ROOT, csv_text, read_csv

runner = CliRunner()
AS_OF = "2026-11-26"


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


# A Shopify orders export as Shopify writes it (one line item per order here).
HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Total",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Billing Name",
    "Shipping Name",
    "Shipping Address1",
    "Shipping City",
    "Shipping Zip",
    "Shipping Country",
]


def order(number: str, email: str, name: str, total: str, day: str, street: str) -> list[str]:
    return [
        number,
        email,
        "paid",
        "yes",
        "GBP",
        total,
        "0.00",
        total,
        "Royal Mail Tracked 48",
        f"2026-11-{day} 10:00:00 +0000",
        "1",
        "Wetsuit",
        total,
        "WS-1",
        name,
        name,
        street,
        "Newquay",
        "TR7 1AA",
        "GB",
    ]


ORDERS = [
    order("#1001", "gina@example.com", "Gina Good", "40.00", "02", "1 Fore Street"),
    order("#1002", "cary.crook@example.com", "Cary Crook", "300.00", "03", "7 Harbour Row"),
    order("#1003", "walt@example.com", "Walt Wave", "120.00", "04", "3 Beach Road"),
    # Cary again under a new email, at the same address: a suspect pair.
    order("#1004", "c.crook.new@example.com", "Cary Crook", "25.00", "20", "7 Harbour Row"),
    order("#1005", "gina@example.com", "Gina Good", "60.00", "21", "1 Fore Street"),
]


# --- 1. the starter tag book keeps fraudsters off mailing lists ------------------------------


def test_a_fraudster_tagged_vip_in_a_fresh_workspace_is_on_no_mailing_list(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "surf"
    assert run("init", ws).exit_code == 0
    shop = tmp_path / "orders_export.csv"
    shop.write_text(csv_text(HEADER, ORDERS), encoding="utf-8")
    for email, tag in [
        ("cary.crook@example.com", "FRAUD"),
        ("cary.crook@example.com", "VIP"),
        ("gina@example.com", "VIP"),
    ]:
        assert run("tag", email, "--tag", tag, "-w", ws).exit_code == 0
    out, gone = tmp_path / "vip.csv", tmp_path / "left_out.csv"

    result = run(
        "export", shop, "--tag", "VIP", "-o", out, "--suppression-out", gone,
        "-w", ws, "--as-of", AS_OF,
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    # Both VIPs accept marketing; Cary is also FRAUD, which the starter book marks
    # no_marketing: only Gina is listed (2 orders, 40.00 + 60.00).
    assert [(r["Email Address"], r["Orders"], r["Spend"]) for r in read_csv(out)] == [
        ("gina@example.com", "2", "100.00")
    ]
    assert (
        f"1 customer with VIP (1 with a no-marketing tag left out); wrote {out}; "
        f"left-out addresses in {gone}\n"
    ) in result.stderr
    assert read_csv(gone) == [{"Email": "cary.crook@example.com", "Reason": "no-marketing"}]


@pytest.mark.parametrize(
    "text",
    [STARTER_TAGBOOK, (ROOT / "tagbook.example.yaml").read_text(encoding="utf-8")],
    ids=["init", "example"],
)
def test_the_bundled_tag_books_keep_fraud_off_mailing_lists(text: str) -> None:
    assert "FRAUD" in parse_tagbook(text, file="tagbook.yaml").no_marketing_tags()


# --- 2. one rule for tag names ------------------------------------------------------------------

BOOK = """\
version: 1
tags:
  - name: FRAUD
    colour: red
    label: "FRAUD — hold"
    priority: 100
    no_marketing: true
  - name: GOLD
    colour: gold
    label: "GOLD — add a freebie"
    priority: 50
customers:
  - email: gina@example.com
    tags: [GOLD]
  - email: cary.crook@example.com
    tags: [FRAUD]
"""
HINT = (
    "Use a tag the tag book defines (`ordertags tags` lists them), or add it under `tags:` there."
)


@pytest.fixture
def surf(tmp_path: Path) -> Path:
    """A workspace with the tag book above and the month's export ingested."""
    ws = tmp_path / "surf"
    assert run("init", ws).exit_code == 0
    (ws / "tagbook.yaml").write_text(BOOK, encoding="utf-8")
    (ws / "rules.yaml").unlink()
    (tmp_path / "shop.csv").write_text(csv_text(HEADER, ORDERS), encoding="utf-8")
    assert run("ingest", tmp_path / "shop.csv", "-w", ws).exit_code == 0
    return ws


def unknown(book: Path, name: str = "golld", guess: str = "GOLD") -> str:
    return (
        f'ordertags: tag "{name}" is not in the tag book {book.resolve()}; '
        f"did you mean {guess}? {HINT}\n"
    )


#: Each command and option taking a tag name, with "{tag}" where the name goes.
TAKING_A_TAG = {
    "tag": ["tag", "new@example.com", "--tag", "{tag}"],
    "untag": ["untag", "gina@example.com", "--tag", "{tag}"],
    "customers": ["customers", "--tag", "{tag}"],
    "export --tag": ["export", "{shop}", "--tag", "{tag}", "-o", "{out}"],
    "export --not-tag": ["export", "{shop}", "--tag", "FRAUD", "--not-tag", "{tag}", "-o", "{out}"],
    "apply --list": ["apply", "{shop}", "-o", "{out}", "--list", "{out}.list:{tag}"],
    "show --tag": ["show", "{shop}", "--tag", "{tag}"],
    "report --tag": ["report", "{shop}", "--tag", "{tag}", "-o", "{out}"],
    "suspects --tag (exports)": ["suspects", "{shop}", "--tag", "{tag}"],
    "suspects --tag (history)": ["suspects", "--tag", "{tag}"],
}


def args_of(command: str, tag: str, surf: Path) -> list[str]:
    shop, out = surf.parent / "shop.csv", surf.parent / "out.csv"
    filled = [a.format(tag=tag, shop=shop, out=out) for a in TAKING_A_TAG[command]]
    return [
        *filled,
        "-w",
        str(surf),
        *(["--as-of", AS_OF] if command not in ("tag", "untag") else []),
    ]


@pytest.mark.parametrize("command", list(TAKING_A_TAG))
def test_an_unknown_tag_is_a_usage_error_naming_the_closest_tag(command: str, surf: Path) -> None:
    before = (surf / "tagbook.yaml").read_bytes()
    result = run(*args_of(command, "golld", surf))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.endswith(unknown(surf / "tagbook.yaml"))
    assert (surf / "tagbook.yaml").read_bytes() == before
    assert not any(p.name.startswith("out.csv") for p in surf.parent.iterdir())


def test_an_unknown_tag_far_from_every_name_lists_the_defined_ones(surf: Path) -> None:
    result = run("customers", "--tag", "wetsuit", "-w", surf)
    assert result.exit_code == 2
    assert result.stderr == (
        f'ordertags: tag "wetsuit" is not in the tag book {(surf / "tagbook.yaml").resolve()} '
        f"(it defines FRAUD, GOLD). {HINT}\n"
    )


def test_tag_and_untag_take_any_case_and_write_the_tag_books_spelling(surf: Path) -> None:
    tagged = run("tag", "new@example.com", "--tag", "gold", "-w", surf)
    assert tagged.exit_code == 0, tagged.stderr
    # (the history has no order of new@example.com: the second line warns of it)
    assert tagged.stderr.splitlines()[0] == "tagged new@example.com with GOLD"
    text = (surf / "tagbook.yaml").read_text(encoding="utf-8")
    assert "  - email: new@example.com\n    tags: [GOLD]\n" in text
    again = run("tag", "new@example.com", "--tag", "Gold", "-w", surf)
    assert (surf / "tagbook.yaml").read_text(encoding="utf-8") == text  # already has it
    assert again.exit_code == 0
    untagged = run("untag", "gina@example.com", "--tag", "gOLD", "-w", surf)
    assert untagged.stderr == "removed GOLD from Gina Good (gina@example.com)\n"
    assert "gina@example.com" not in (surf / "tagbook.yaml").read_text(encoding="utf-8")


def test_commands_find_a_tag_in_any_case(surf: Path) -> None:
    shop, out = surf.parent / "shop.csv", surf.parent / "out.csv"
    common = ["-w", str(surf), "--as-of", AS_OF]

    customers = run("customers", "--tag", "gold", *common)
    assert customers.exit_code == 0, customers.stderr
    assert [line.split()[0] for line in customers.stdout.splitlines()[2:]] == ["gina@example.com"]

    exported = run("export", shop, "--tag", "gold", "-o", out, *common)
    assert exported.exit_code == 0, exported.stderr
    assert [r["Email Address"] for r in read_csv(out)] == ["gina@example.com"]
    assert exported.stderr.startswith(f"1 customer with GOLD; wrote {out}\n")

    listed = surf.parent / "gold.csv"
    applied = run("apply", shop, "-o", out, "--list", f"{listed}:gold,!fraud", *common)
    assert applied.exit_code == 0, applied.stderr
    assert [r["Email Address"] for r in read_csv(listed)] == ["gina@example.com"]

    shown = run("show", shop, "--tag", "gold", "-q", *common)
    assert shown.exit_code == 0, shown.stderr
    assert [line.split("\t")[0] for line in shown.stdout.splitlines()[1:]] == ["#1001", "#1005"]

    for where in ([shop], []):  # in the exports, and in the history
        suspects = run("suspects", *where, "--tag", "fraud", *common)
        assert suspects.exit_code == 0, suspects.stderr
        assert "1 pair of possibly the same customer" in suspects.stderr
        assert "cary.crook@example.com" in suspects.stdout


RULES = """\
version: 1
rules:
  - name: Big order
    when: {field: total, over: 100}
    tag: gold
  - name: No freebies for fraud
    when: {has_tag: fraud}
    untag: Gold
"""


def test_a_rule_file_names_tags_in_any_case(surf: Path) -> None:
    shop, out = surf.parent / "shop.csv", surf.parent / "out.csv"
    rules = surf.parent / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    result = run("apply", shop, "-r", rules, "-o", out, "-w", surf, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    # Gina: GOLD by hand; Cary: FRAUD by hand, GOLD for 300.00 taken away again; Walt:
    # GOLD for 120.00; Cary's new email (25.00) is a different customer without tags.
    assert [(r["Name"], r["Customer Tags"]) for r in read_csv(out)] == [
        ("#1001", "GOLD"),
        ("#1002", "FRAUD"),
        ("#1003", "GOLD"),
        ("#1004", ""),
        ("#1005", "GOLD"),
    ]


def test_an_unknown_tag_in_a_rule_file_is_bad_data_naming_the_closest_tag(surf: Path) -> None:
    shop, out = surf.parent / "shop.csv", surf.parent / "out.csv"
    rules = surf.parent / "rules.yaml"
    rules.write_text(RULES.replace("untag: Gold", "untag: golld"), encoding="utf-8")
    result = run("apply", shop, "-r", rules, "-o", out, "-w", surf)
    assert result.exit_code == 1
    assert result.stderr == (
        f'ordertags: {rules}, line 6, key $.rules[1].tag: rule "No freebies for fraud" '
        f'removes tag "golld", which is not in the tag book {(surf / "tagbook.yaml").resolve()}; '
        f"did you mean GOLD? {HINT}\n"
    )
    assert not out.exists()


def test_tag_book_entries_name_tags_in_any_case(surf: Path) -> None:
    book = surf / "tagbook.yaml"
    book.write_text(BOOK.replace("tags: [GOLD]", "tags: [gold]"), encoding="utf-8")
    out = surf.parent / "out.csv"
    result = run("apply", surf.parent / "shop.csv", "-o", out, "-w", surf, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert read_csv(out)[0]["Customer Tags"] == "GOLD"
    # ... so two tags differing only in case are one tag defined twice.
    book.write_text(BOOK.replace("  - name: GOLD\n", "  - name: gold\n  - name: GOLD\n"), "utf-8")
    twice = run("tags", "-w", surf)
    assert twice.exit_code == 1
    assert twice.stderr == (
        f'ordertags: {book.resolve()}, line 9, key tags[2].name: tag "GOLD" is defined twice '
        '(as "gold" too: case does not count in tag names). Keep one definition.\n'
    )


def test_the_python_api_takes_tag_names_by_the_same_rule(surf: Path) -> None:
    shop, book = surf.parent / "shop.csv", surf / "tagbook.yaml"
    result = ordertags.annotate(shop, tagbook=book)
    chosen = ordertags.mailing_list(result, tags=["gold"], not_tags=["Fraud"])
    assert chosen.rows.email == ["gina@example.com"]
    rows = ordertags.customers_of_run(result, any_tags=["fraud"])
    assert rows.email == ["cary.crook@example.com"]
    with pytest.raises(UsageError) as caught:
        ordertags.mailing_list(result, tags=["golld"])
    assert caught.value.message == (
        f'tag "golld" is not in the tag book {book}; did you mean GOLD?'
    )
    with pytest.raises(UsageError):
        ordertags.customers_of_run(result, any_tags=["golld"])


def test_tag_names_keep_the_quick_commands_quick(surf: Path) -> None:
    """Resolving a name, and saying which is closest, loads no array library."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ordertags.cli import app\n"
        f"w = {str(surf)!r}\n"
        "codes = [CliRunner().invoke(app, args).exit_code for args in (\n"
        "    ['tag', 'a@example.com', '--tag', 'gold', '-w', w],\n"
        "    ['untag', 'a@example.com', '--tag', 'Gold', '-w', w],\n"
        "    ['tag', 'a@example.com', '--tag', 'golld', '-w', w])]\n"
        "print(codes, sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[0, 0, 2] []\n"


# --- 3. every public path parameter takes str and os.PathLike ---------------------------------


class FsPath:
    """An ``os.PathLike`` that is neither a ``str`` nor a ``pathlib.Path`` (as a caller's
    own path class may be)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)

    def __fspath__(self) -> str:
        return self._path


#: Parameters that name a file or folder even where their annotation says only ``str``.
PATH_NAMES = {"path", "root", "directory", "output", "mapping", "cwd", "explicit"}


def _leaves(hint: Any) -> list[Any]:
    """The types a hint accepts, through unions and sequences (``Sequence[str |
    os.PathLike[str]]``: str, os.PathLike)."""
    origin = typing.get_origin(hint)
    if origin is None:
        return [hint]
    if origin in (typing.Union, types.UnionType, list, tuple, collections.abc.Sequence):
        return [leaf for a in typing.get_args(hint) for leaf in _leaves(a)]
    return [origin]


PUBLIC = {n: getattr(ordertags, n) for n in ordertags.__all__ if n != "__version__"}


def path_parameters() -> dict[str, list[tuple[str, Any]]]:
    """Public name -> its parameters that take a path, with their annotations."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for name in ordertags.__all__:
        obj = getattr(ordertags, name)
        if isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        target = (
            next(c.__dict__["__init__"] for c in obj.__mro__ if "__init__" in c.__dict__)
            if isinstance(obj, type)
            else obj
        )
        if target is object.__init__ or isinstance(obj, type) and issubclass(obj, Exception):
            continue
        # Names some modules import only for type checkers: the public ones serve.
        hints = typing.get_type_hints(target, localns=PUBLIC)
        for param, hint in hints.items():
            if param == "return":
                continue
            leaves = _leaves(hint)
            pathish = any(isinstance(x, type) and issubclass(x, os.PathLike) for x in leaves)
            if pathish or (param in PATH_NAMES and leaves == [str]):
                found.setdefault(name, []).append((param, hint))
    return found


def test_every_public_path_parameter_takes_str_and_os_pathlike() -> None:
    wrong = [
        f"{name}({param}: {hint})"
        for name, params in path_parameters().items()
        for param, hint in params
        if str not in _leaves(hint) or os.PathLike not in _leaves(hint)
    ]
    assert wrong == []


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    ws = tmp_path / "surf"
    ordertags.init_workspace(str(ws))
    shop = tmp_path / "shop.csv"
    shop.write_text(csv_text(HEADER, ORDERS), encoding="utf-8")
    mapped = tmp_path / "mapped.csv"
    mapped.write_bytes((ROOT / "tests/fixtures/linnworks_custom.csv").read_bytes())
    mapping = tmp_path / "mapped.mapping.yaml"
    mapping.write_bytes((ROOT / "tests/fixtures/linnworks_custom.mapping.yaml").read_bytes())
    ordertags.tag_customer(str(ws / "tagbook.yaml"), "gina@example.com", ["VIP"])
    (tmp_path / "unsubscribed.txt").write_text("walt@example.com\n", encoding="utf-8")
    return {
        "ws": ws,
        "book": ws / "tagbook.yaml",
        "rules": ws / "rules.yaml",
        "history": ws / "history.sqlite",
        "shop": shop,
        "mapped": mapped,
        "mapping": mapping,
        "unsubscribed": tmp_path / "unsubscribed.txt",
        "out": tmp_path / "out",
    }


Call = Callable[[Callable[[Path], Any], dict[str, Path]], object]


#: Each public callable with a path parameter, called with every path given as ``p(path)``.
CALLS: dict[str, Call] = {
    "ListSpec": lambda p, f: ordertags.ListSpec(p(f["out"]), ["VIP"]).path == str(f["out"]),
    "ReadOptions": lambda p, f: ordertags.annotate(
        f["mapped"], tagbook=p(f["book"]), read=ordertags.ReadOptions(mapping=p(f["mapping"]))
    ),
    "RuleSet": lambda p, f: ordertags.RuleSet(p(f["rules"])).path == str(f["rules"]),
    "TagBook": lambda p, f: ordertags.TagBook(p(f["book"])).path == str(f["book"]),
    "Workspace": lambda p, f: ordertags.Workspace(p(f["ws"])).tagbook.exists(),
    "annotate": lambda p, f: ordertags.annotate(
        p(f["shop"]),
        tagbook=p(f["book"]),
        rules=p(f["rules"]),
        workspace=ordertags.Workspace(p(f["ws"])),
    ),
    "apply_files": lambda p, f: ordertags.apply_files(
        [p(f["shop"])],
        tagbook=p(f["book"]),
        rules=p(f["rules"]),
        output=p(f["out"]),
        workspace=ordertags.Workspace(p(f["ws"])),
        lists=[ordertags.ListSpec(p(f["out"].with_suffix(".list")), ["VIP"])],
    ),
    "explain_files": lambda p, f: ordertags.explain_files(
        "#1001", [p(f["shop"])], tagbook=p(f["book"]), rules=p(f["rules"])
    ),
    "export_list": lambda p, f: ordertags.export_list(
        [p(f["shop"])],
        tagbook=p(f["book"]),
        rules=p(f["rules"]),
        output=p(f["out"]),
        tags=["VIP"],
        workspace=ordertags.Workspace(p(f["ws"])),
        suppress=[p(f["unsubscribed"])],
        suppression_out=p(f["out"].with_suffix(".gone")),
    ),
    "find_order_email": lambda p, f: ordertags.find_order_email(
        p(f["mapped"]), "L-1", mapping=p(f["mapping"])
    ),
    "find_workspace": lambda p, f: ordertags.find_workspace(p(f["ws"]), cwd=p(f["ws"])),
    "ingest_files": lambda p, f: ordertags.ingest_files(
        [p(f["shop"])], workspace=ordertags.Workspace(p(f["ws"]))
    ),
    "init_workspace": lambda p, f: ordertags.init_workspace(p(f["ws"])),
    "inspect_export": lambda p, f: ordertags.inspect_export(p(f["shop"])),
    "link_identities": lambda p, f: ordertags.link_identities(
        p(f["book"]), "gina@example.com", "+447700900123"
    ),
    "lint_files": lambda p, f: ordertags.lint_files(
        p(f["rules"]), p(f["book"]), orders=[p(f["shop"])]
    ),
    "load_rules": lambda p, f: ordertags.load_rules(p(f["rules"])),
    "load_tagbook": lambda p, f: ordertags.load_tagbook(p(f["book"])),
    "mailing_list": lambda p, f: ordertags.mailing_list(
        p(f["shop"]), tagbook=p(f["book"]), rules=p(f["rules"]), tags=["VIP"]
    ),
    "open_history": lambda p, f: ordertags.open_history(p(f["history"])).close(),
    "read_orders": lambda p, f: ordertags.read_orders(p(f["mapped"]), mapping=p(f["mapping"])),
    "segments_report": lambda p, f: ordertags.segments_report(
        [p(f["shop"])],
        tagbook=p(f["book"]),
        rules=p(f["rules"]),
        workspace=ordertags.Workspace(p(f["ws"])),
    ),
    "suppress_address": lambda p, f: ordertags.suppress_address(p(f["book"]), "walt@example.com"),
    "suspects_in_files": lambda p, f: ordertags.suspects_in_files(
        [p(f["shop"])], tagbook=p(f["book"])
    ),
    "tag_customer": lambda p, f: ordertags.tag_customer(p(f["book"]), "walt@example.com", ["VIP"]),
    "tag_customers": lambda p, f: ordertags.tag_customers(
        p(f["book"]), [ordertags.TagRequest("walt@example.com", ("VIP",))]
    ),
    "change_entry": lambda p, f: (
        (
            ordertags.tag_customer(f["book"], "walt@example.com", ["VIP"]),
            ordertags.change_entry(p(f["book"]), "walt@example.com", "VIP", note="Walt"),
        )[1].after.note
        == "Walt"
    ),
    "unlink_identities": lambda p, f: ordertags.unlink_identities(
        p(f["book"]), "gina@example.com", "walt@example.com"
    ),
    "untag_customer": lambda p, f: ordertags.untag_customer(
        p(f["book"]), "gina@example.com", ["VIP"]
    ),
}


def test_every_public_callable_with_a_path_is_called_below() -> None:
    """A new public function or class taking a path joins CALLS, so that it is called
    with a str and an os.PathLike too."""
    assert sorted(path_parameters()) == sorted(CALLS)


@pytest.mark.parametrize("kind", [str, FsPath, Path])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_public_callable_takes_any_kind_of_path(
    name: str, kind: Callable[[Path], Any], files: dict[str, Path]
) -> None:
    assert CALLS[name](kind, files) is not False


def test_annotate_with_a_workspace_named_by_a_str(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's own line: ``annotate(df, workspace=ordertags.Workspace("."))``."""
    monkeypatch.chdir(files["ws"])
    result = ordertags.annotate(
        str(files["shop"]), tagbook="tagbook.yaml", workspace=ordertags.Workspace(".")
    )
    assert ordertags.Workspace(".").root == Path(".")
    assert result.to_arrow().column("Customer Tags").to_pylist() == ["VIP", "", "", "", "VIP"]


@pytest.mark.parametrize(
    "entries",
    [
        "customers:\n  - email: cary.crook@example.com\n    tags: [gold, FRAUD]\n",
        # A flow-style list: edited through the comment-preserving YAML round trip.
        "customers: [{email: cary.crook@example.com, tags: [gold, FRAUD]}]\n",
    ],
    ids=["text edit", "round trip"],
)
def test_untag_removes_a_tag_the_entry_spells_in_another_case(entries: str, surf: Path) -> None:
    book = surf / "tagbook.yaml"
    book.write_text(BOOK.split("customers:")[0] + entries, encoding="utf-8")
    result = run("untag", "cary.crook@example.com", "--tag", "GOLD", "-w", surf)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "removed GOLD from Cary Crook (cary.crook@example.com)\n"
    entry = ordertags.load_tagbook(book).entries
    assert [(e.identity, e.tags) for e in entry] == [("cary.crook@example.com", ("FRAUD",))]
