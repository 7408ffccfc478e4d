"""Each command through the CLI: output, summary, exit codes and error messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app

from .conftest import AS_OF, ROOT, csv_text, read_csv, read_rows

runner = CliRunner()
HEADER = ["Order Id", "Customer Name", "Email", "Total", "Received Date", "Postcode"]
ROWS = [
    ["1001", "Jane Doe", "Jane.Doe@gmail.com", "620.00", "2026-03-01 10:00", "01234"],
    ["1002", "Doe, Jane", "janedoe+x@gmail.com", "500.00", "2026-05-01 11:00", "01234"],
    ["1003", "Bob Brown", "bob@example.org", "20.00", "2026-06-01 09:00", "SW1A 1AA"],
    ["1004", "Vic Vip", "VIP@example.com", "151.00", "2026-07-01 09:00", "00007"],
    ["1005", "No Mail", "", "160.00", "2026-08-01 09:00", ""],
]
RULES = """\
version: 1
rules:
  - name: Big spenders
    when: {customer: spend, over: 1000}
    tag: BIG
  - name: High value
    when: {field: total, over: 150}
    tag: HIGH
"""


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    return path


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    return path


def run(*args: str | Path, input: str | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_apply_writes_tags_profile_and_colour(
    orders: Path, tagbook: Path, rules: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    result = run("apply", orders, "-t", tagbook, "-r", rules, "--as-of", AS_OF, "-o", out)
    assert result.exit_code == 0, result.stderr
    rows = read_csv(out)
    assert [r["Customer Tags"] for r in rows] == ["BIG; HIGH", "BIG; HIGH", "", "VIP; HIGH", "HIGH"]
    assert rows[0]["Customer Profile"] == "BIG — freebie; HIGH — pack with care"
    assert [r["Tag Colour"] for r in rows] == ["#1f77b4", "#1f77b4", "", "gold", "purple"]
    assert read_rows(out)[0] == [*HEADER, "Customer Tags", "Customer Profile", "Tag Colour"]
    assert [r[: len(HEADER)] for r in read_rows(out)[1:]] == ROWS
    assert result.stdout == ""
    assert result.stderr.splitlines()[:2] == [
        f"read 5 orders from {orders} (csv)",
        f"5 orders, 3 customers, 1 order without an email; as of {AS_OF}",
    ]
    assert "BIG           2            1" in result.stderr.splitlines()
    assert "tag book: 1 entry in force" in result.stderr
    assert result.stderr.splitlines()[-1] == f"wrote {out}"


def test_apply_without_rules_uses_manual_tags(orders: Path, tagbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run("apply", orders, "--tagbook", tagbook, "--output", out, "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert [r["Customer Tags"] for r in read_csv(out)] == ["", "", "", "VIP", ""]


def test_apply_stdin_to_stdout(orders: Path, tagbook: Path, rules: Path) -> None:
    result = run(
        "apply",
        "-",
        "-t",
        tagbook,
        "-r",
        rules,
        "--as-of",
        AS_OF,
        "-o",
        "-",
        "-q",
        input=orders.read_text(encoding="utf-8"),
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join([*HEADER, "Customer Tags", "Customer Profile", "Tag Colour"])
    assert lines[1].startswith("1001,Jane Doe,Jane.Doe@gmail.com,620.00,")


def test_apply_json_keeps_numbers_and_adds_keys(tagbook: Path, rules: Path, tmp_path: Path) -> None:
    src = tmp_path / "orders.json"
    src.write_text(
        '[{"id": "7", "email": "vip@example.com", "total": 200.50, "n": 1.10},\n'
        ' {"id": "8", "email": "x@y.z", "total": 12, "tags": ["a", 1]}]',
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    result = run("apply", src, "-t", tagbook, "-r", rules, "--as-of", AS_OF, "-o", out, "-q")
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert '"total": 200.50' in text and '"n": 1.10' in text and '"tags": ["a", 1]' in text
    data = json.loads(text)
    assert [d["Customer Tags"] for d in data] == ["VIP; HIGH", ""]
    assert "Customer Tags" not in src.read_text(encoding="utf-8")


def test_apply_output_format_ndjson(orders: Path, tagbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    result = run("apply", orders, "-t", tagbook, "-o", out, "--output-format", "ndjson", "-q")
    assert result.exit_code == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines[3]["Postcode"] == "00007" and lines[3]["Customer Tags"] == "VIP"


def test_apply_several_exports_share_customer_history(
    tagbook: Path, rules: Path, tmp_path: Path
) -> None:
    a = tmp_path / "shop.csv"
    b = tmp_path / "web.csv"
    a.write_text(csv_text(HEADER, ROWS[:1]), encoding="utf-8")
    b.write_text(
        csv_text(["Ref", "E-mail", "Order Total"], [["W1", "JANEDOE@gmail.com", "400.00"]]),
        encoding="utf-8",
    )
    folder = tmp_path / "out"
    result = run("apply", a, b, "-t", tagbook, "-r", rules, "-o", folder, "-q")
    assert result.exit_code == 0, result.stderr
    assert read_csv(folder / "shop.csv")[0]["Customer Tags"] == "BIG; HIGH"
    assert read_csv(folder / "web.csv")[0]["Customer Tags"] == "BIG; HIGH"


def test_apply_column_options(tmp_path: Path, tagbook: Path, rules: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text(csv_text(["Buyer", "Paid"], [["vip@example.com", "151"]]), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run(
        "apply",
        src,
        "-t",
        tagbook,
        "-r",
        rules,
        "-o",
        out,
        "-q",
        "--email-column",
        "Buyer",
        "--total-column",
        "paid",
    )
    assert result.exit_code == 0, result.stderr
    assert read_csv(out)[0]["Customer Tags"] == "VIP; HIGH"


def test_apply_keeps_bom_crlf_and_semicolons(tmp_path: Path, tagbook: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_bytes(b"\xef\xbb\xbfOrder Id;Email;Total\r\n1;vip@example.com;1,50\r\n")
    out = tmp_path / "out.csv"
    assert run("apply", src, "-t", tagbook, "-o", out, "-q").exit_code == 0
    assert out.read_bytes() == (
        b"\xef\xbb\xbfOrder Id;Email;Total;Customer Tags;"
        b"Customer Profile;Tag Colour\r\n"
        b"1;vip@example.com;1,50;VIP;VIP \xe2\x80\x94 add a note \xe2\x80\x94 picked by hand;gold\r\n"
    )


def test_apply_is_idempotent_on_its_own_output(
    orders: Path, tagbook: Path, rules: Path, tmp_path: Path
) -> None:
    once = tmp_path / "once.csv"
    twice = tmp_path / "twice.csv"
    assert (
        run(
            "apply", orders, "-t", tagbook, "-r", rules, "--as-of", AS_OF, "-o", once, "-q"
        ).exit_code
        == 0
    )
    assert (
        run(
            "apply", once, "-t", tagbook, "-r", rules, "--as-of", AS_OF, "-o", twice, "-q"
        ).exit_code
        == 0
    )
    assert once.read_bytes() == twice.read_bytes()


# --- bad input: one message, exit 1, no output file -------------------------------------


def bad(tmp_path: Path, args: list[str | Path]) -> tuple[int, str]:
    out = tmp_path / "out.csv"
    result = run(*args, "-o", out)
    assert not out.exists()
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr.strip()


def test_missing_email_column(tmp_path: Path, tagbook: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("Order Id,Mail,Total\n1,a@b.com,10\n", encoding="utf-8")
    code, err = bad(tmp_path, ["apply", src, "-t", tagbook])
    assert code == 1
    assert err == (
        f"ordertags: {src}: no customer email column (looked for: Email, E-mail, Email Address, "
        "Customer Email, Customer email address, customer_email, billing_email, "
        "Email (Billing), Buyer Email, buyer-email, cEmailAddress). Name the column with "
        "--email-column (the file's columns: Order Id, Mail, Total)."
    )


def test_non_numeric_total(tmp_path: Path, tagbook: Path, rules: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text('Order Id,Email,Total\n1,a@b.com,10\n2,c@d.com,"£1,234.50"\n', encoding="utf-8")
    code, err = bad(tmp_path, ["apply", src, "-t", tagbook, "-r", rules])
    assert code == 1
    assert err.startswith(f'ordertags: {src}, row 3, column "Total": "£1,234.50" is not')
    assert "--money-style" in err


def test_broken_yaml_names_its_line(tmp_path: Path, tagbook: Path, orders: Path) -> None:
    r = tmp_path / "r.yaml"
    r.write_text(
        "rules:\n  - name: x\n    when: {field: total, over: 5\n    tag: HIGH\n", encoding="utf-8"
    )
    code, err = bad(tmp_path, ["apply", orders, "-t", tagbook, "-r", r])
    assert code == 1
    assert err == (
        f"ordertags: {r}, line 4: YAML syntax error (column 8): did not find "
        "expected ',' or '}'. Fix the YAML at that line; check indentation and "
        "quotes."
    )


def test_schema_violation(tmp_path: Path, tagbook: Path, orders: Path) -> None:
    r = tmp_path / "r.yaml"
    r.write_text(
        'rules:\n  - name: x\n    when: {field: total, over: "5"}\n    tag: HIGH\n'
        "    colour: red\n",
        encoding="utf-8",
    )
    code, err = bad(tmp_path, ["apply", orders, "-t", tagbook, "-r", r])
    assert code == 1
    assert err == (
        f"ordertags: {r}: 2 problems with the file's layout: \n"
        "  line 3, $.rules[0].when.over: '5' is not of type 'number'.\n"
        "  line 5, $.rules[0].colour: Additional properties are not allowed ('colour' was "
        "unexpected). "
        "See `ordertags schema rules` for what is allowed."
    )


def test_unknown_tag_in_rule(tmp_path: Path, tagbook: Path, orders: Path) -> None:
    r = tmp_path / "r.yaml"
    r.write_text(
        "rules:\n  - name: x\n    when: {field: total, over: 5}\n    tag: GOLD\n", encoding="utf-8"
    )
    code, err = bad(tmp_path, ["apply", orders, "-t", tagbook, "-r", r])
    assert code == 1
    assert err == (
        f'ordertags: {r}, line 2, key $.rules[0].tag: rule "x" adds tag "GOLD", which is not '
        f"in the tag book {tagbook} (it defines FRAUD, VIP, BIG, REGULAR, HIGH, CHECK). "
        "Use a tag the tag book defines (`ordertags tags` lists them), or add it under `tags:` "
        "there."
    )


def test_unknown_tag_in_tag_book_entry(tmp_path: Path, orders: Path) -> None:
    book = tmp_path / "book.yaml"
    book.write_text(
        "tags:\n  - name: VIP\ncustomers:\n  - email: a@b.com\n    tags: [GOLD]\n", encoding="utf-8"
    )
    code, err = bad(tmp_path, ["apply", orders, "-t", book])
    assert code == 1
    assert err == (
        f'ordertags: {book}, line 5, key customers[0].tags[0]: tag "GOLD" is not '
        f"in the tag book {book} (it defines VIP). "
        "Use a tag the tag book defines (`ordertags tags` lists them), or add it under `tags:` "
        "there."
    )


def test_ragged_row(tmp_path: Path, tagbook: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text(
        'Order Id,Email,Notes\n1,a@b.com,"two\nlines"\n2,c@d.com,x,y\n', encoding="utf-8"
    )
    code, err = bad(tmp_path, ["apply", src, "-t", tagbook])
    assert code == 1
    assert err.startswith(
        f"ordertags: {src}, row 3, line 4: this row has 4 fields but the header has 3."
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty."),
        (b"\xef\xbb\xbf  \n", "the file is empty."),
        (
            # A UTF-8 BOM says UTF-8: a bad byte is an error, not a cue to guess.
            b"\xef\xbb\xbfOrder Id,Email\n1,caf\xe9@x.com\n",
            "cannot decode byte 0xe9 at byte offset 23 as utf-8.",
        ),
        (b'[{"a": 1}, 2]', "row 2: item 2 of the list is not an object."),
        (b'{"orders": [}', "line 1: not valid JSON (column 13): Expecting value."),
    ],
)
def test_unreadable_exports(tmp_path: Path, tagbook: Path, content: bytes, message: str) -> None:
    src = tmp_path / "o.csv"
    src.write_bytes(content)
    code, err = bad(tmp_path, ["apply", src, "-t", tagbook])
    assert code == 1
    assert message in err


def test_encoding_option_reads_cp1252(tmp_path: Path, tagbook: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_bytes("Order Id,Email,Name\n1,vip@example.com,Zoë\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    result = run("apply", src, "-t", tagbook, "-o", out, "--encoding", "cp1252", "-q")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().decode("cp1252").splitlines()[1].startswith("1,vip@example.com,Zoë,VIP")


@pytest.mark.parametrize(
    "args",
    [
        ["apply", "o.csv", "-t", "t.yaml"],  # no --output
        ["apply", "o.csv", "-t", "t.yaml", "-o", "x", "--as-of", "26/11/2026"],
        ["apply", "a.csv", "b.csv", "-t", "t.yaml", "-o", "-"],
        ["apply", "o.csv", "-t", "t.yaml", "-o", "x", "--output-format", "xml"],
        ["export", "o.csv", "-t", "t.yaml", "-o", "x"],  # no --tag
        ["tag", "--tag", "VIP", "-t", "t.yaml"],  # no email, no --order
        ["tag", "a@b.com", "--order", "1", "--in", "o.csv", "--tag", "VIP", "-t", "t.yaml"],
        ["schema", "orders"],
        ["nosuchcommand"],
    ],
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_verbose_shows_traceback(tmp_path: Path, tagbook: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("Order Id,Mail\n1,a\n", encoding="utf-8")
    result = run("--verbose", "apply", src, "-t", tagbook, "-o", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "ColumnError" in result.stderr


# --- export ---------------------------------------------------------------------------


def test_export_mailing_list(orders: Path, tagbook: Path, rules: Path, tmp_path: Path) -> None:
    out = tmp_path / "list.csv"
    result = run(
        "export",
        orders,
        "--tag",
        "BIG",
        "--tag",
        "VIP",
        "-t",
        tagbook,
        "-r",
        rules,
        "--as-of",
        AS_OF,
        "-o",
        out,
    )
    assert result.exit_code == 0, result.stderr
    assert read_rows(out) == [
        ["Email Address", "First Name", "Last Name", "Orders", "Spend", "Tags"],
        # one row per customer, under the address used last (order 1002); the order
        # tag HIGH on any of their orders counts for them
        ["janedoe+x@gmail.com", "Jane", "Doe", "2", "1120.00", "BIG,HIGH"],
        ["VIP@example.com", "Vic", "Vip", "1", "151.00", "VIP,HIGH"],
    ]
    assert result.stderr.strip() == f"2 customers with BIG or VIP; wrote {out}"


def test_export_not_tag_and_relay_addresses(tmp_path: Path, tagbook: Path, rules: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text(
        csv_text(
            ["Email", "Total", "Customer Name"],
            [
                ["vip@example.com", "5", "Smith, Ann"],
                ["x1@marketplace.amazon.co.uk", "2000", "Relay Buyer"],
                ["fraud@example.com", "3000", "Bad Actor"],
            ],
        ),
        encoding="utf-8",
    )
    r = tmp_path / "r.yaml"
    r.write_text(
        RULES + "  - name: f\n    when: {field: email, in: [fraud@example.com]}\n    tag: FRAUD\n",
        encoding="utf-8",
    )
    out = tmp_path / "list.csv"
    result = run(
        "export",
        src,
        "--tag",
        "BIG",
        "--tag",
        "VIP",
        "--not-tag",
        "FRAUD",
        "-t",
        tagbook,
        "-r",
        r,
        "-o",
        out,
    )
    assert result.exit_code == 0, result.stderr
    assert read_rows(out)[1:] == [["vip@example.com", "Ann", "Smith", "1", "5.00", "VIP"]]
    assert "(1 with marketplace relay addresses; 1 with FRAUD left out)" in result.stderr


def test_export_unknown_tag(orders: Path, tagbook: Path, tmp_path: Path) -> None:
    code, err = bad(tmp_path, ["export", orders, "--tag", "GOLD", "-t", tagbook])
    assert code == 2  # a name on the command line: bad usage
    assert 'tag "GOLD" is not in the tag book' in err and "(it defines FRAUD, VIP" in err


# --- the rest -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["tagbook", "rules"])
def test_schema_prints_json_schema(which: str) -> None:
    result = run("schema", which)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"].startswith("ordertags")


def test_every_command_has_help_with_an_example() -> None:
    commands = ["apply", "export", "tag", "untag", "tags", "schema"]
    for name in commands:
        result = run(name, "--help")
        assert result.exit_code == 0
        assert "Example: ordertags" in result.stdout, name
    top = run("--help")
    assert all(name in top.stdout for name in commands)


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ordertags", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ordertags 0.")
    helped = subprocess.run(
        [sys.executable, "-m", "ordertags", "--help"], capture_output=True, text=True, check=False
    )
    assert helped.returncode == 0 and "apply" in helped.stdout


def test_examples_and_readme_job(tmp_path: Path) -> None:
    """The README's main job on the bundled examples, as a person would run it."""
    for name in ("tagbook.example.yaml", "rules.example.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    out = tmp_path / "annotated.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordertags",
            "apply",
            "examples/orders.csv",
            "--tagbook",
            "tagbook.example.yaml",
            "--rules",
            "rules.example.yaml",
            "--as-of",
            AS_OF,
            "--output",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tags = {r["Order Id"]: r["Customer Tags"] for r in read_csv(out)}
    assert tags["200002"] == "VIP; BIG_SPENDER; REGULAR; HIGH_VALUE"
    assert tags["200011"] == "FRAUD; CHECK"  # the fraud rule stops later rules
    assert tags["200004"] == ""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        "ordertags apply examples/orders.csv --tagbook tagbook.example.yaml --rules "
        "rules.example.yaml --as-of 2026-11-26 --output annotated.csv"
    ) in readme


def test_every_example_rule_matches_something() -> None:
    import datetime as dt

    import ordertags

    rules = ordertags.load_rules(ROOT / "rules.example.yaml")
    result = ordertags.annotate(
        [ROOT / "examples" / "orders.csv", ROOT / "examples" / "shopify_orders.csv"],
        tagbook=ordertags.load_tagbook(ROOT / "tagbook.example.yaml"),
        rules=rules,
        as_of=dt.date(2026, 11, 26),
    )
    assert result.outcome is not None
    for rule in rules.rules:
        assert result.outcome.acted[rule.index] > 0, rule.name


def test_manual_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    for name in ("tagbook.example.yaml", "rules.example.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "tagbook.example.yaml", tmp_path / "tagbook.yaml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/python.md", "exec"), {})  # our own manual
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("{'FRAUD': 1,") and "'HIGH_VALUE': 7" in printed[0]
    # each under the address used last (Jane's latest order writes it in capitals)
    assert printed[2] == "['JANE.DOE@GMAIL.COM', 'Lena.Nguyen@example.org']"
    assert printed[3].startswith("{'no_address': 0,")
    assert "jane@example.com" in (tmp_path / "tagbook.yaml").read_text(encoding="utf-8")


def test_cli_reference_is_current() -> None:
    from ordertags.clidoc import render_reference

    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render_reference(), (
        "docs/cli.md is stale: run `python -m ordertags.clidoc > docs/cli.md`"
    )


def test_export_respects_marketing_consent(tmp_path: Path) -> None:
    """Shopify's Accepts Marketing: Jane said yes on #5001; Priya said no on #5002."""
    args = [
        "export",
        str(ROOT / "examples" / "orders.csv"),
        str(ROOT / "examples" / "shopify_orders.csv"),
        "--tag",
        "NEW",
        "--tag",
        "VIP",
        "-t",
        str(ROOT / "tagbook.example.yaml"),
        "-r",
        str(ROOT / "rules.example.yaml"),
        "--as-of",
        AS_OF,
    ]
    out = tmp_path / "list.csv"
    result = run(*args, "-o", out)
    assert result.exit_code == 0, result.stderr
    emails = [r["Email Address"] for r in read_csv(out)]
    # Only Jane's latest answer is yes; every other customer never answered or said no.
    # (under the address she used last, on her Shopify order)
    assert emails == ["jane.doe@gmail.com"]
    assert "without marketing consent left out" in result.stderr
    everyone = run(*args, "-o", out, "--include-without-consent")
    assert everyone.exit_code == 0
    listed = {r["Email Address"] for r in read_csv(out)}
    assert {"jane.doe@gmail.com", "mary-jane.smith@icloud.com", "Lena.Nguyen@example.org"} <= listed
