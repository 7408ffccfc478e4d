"""The README and the manual in docs/: every relative link and anchor resolves (read as
Markdown files and in the built site alike), every page is in the site's nav, the site
builds in strict mode, and CI still finds the README's two set-up commands."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

DOCS = ROOT / "docs"

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
_HTML_ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def manual_files() -> list[Path]:
    """The README and every Markdown page of the manual (pages added later included)."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def prose(text: str) -> str:
    """The text outside fenced code blocks (their lines blanked, so line numbers hold)."""
    out, fence = [], ""
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            out.append("")
        elif opened:
            fence = opened.group(1)
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


def _heading_text(raw: str) -> str:
    """A heading as it reads: links by their text, no code or emphasis marks."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    return re.sub(r"[`*_]", "", text).strip()


def github_slug(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def site_slug(text: str) -> str:
    """The anchor Python-Markdown's toc (the site's builder) gives a heading."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", ascii_text).strip().lower())


def anchors(text: str) -> set[str]:
    """The anchors a page has both on GitHub and in the site (a repeated heading is
    numbered differently by each, so only its first reaches both), and any HTML id."""
    gh: set[str] = set()
    site: set[str] = set()
    for line in prose(text).split("\n"):
        found = _HEADING.match(line)
        if not found:
            continue
        heading = _heading_text(found.group(2))
        for slugs, slug, sep in ((gh, github_slug(heading), "-"), (site, site_slug(heading), "_")):
            name, n = slug, 0
            while name in slugs:
                n += 1
                name = f"{slug}{sep}{n}"
            slugs.add(name)
    return (gh & site) | set(_HTML_ID.findall(text))


def link_targets(text: str) -> list[str]:
    """Every link and image target of a Markdown text, outside code."""
    body = _CODE_SPAN.sub(lambda m: "x" if m.group(0).startswith("`") else "", prose(text))
    return _LINK.findall(body) + _REFERENCE.findall(body) + _HTML.findall(body)


def broken_links(files: list[Path], root: Path) -> list[str]:
    """Each relative link of ``files`` that names no file under ``root``, or an anchor its
    Markdown page does not have: ``"README.md: docs/x.md#y (no such anchor)"``."""
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for target in link_targets(text):
            if _SCHEME.match(target) or target.startswith("//"):
                continue  # a web address: not checked here (no network in the suite)
            where, _, anchor = target.partition("#")
            dest = (path.parent / where).resolve() if where else path
            name = f"{path.relative_to(root)}: {target}"
            if not dest.is_relative_to(root.resolve()):
                problems.append(f"{name} (outside the repository)")
            elif not dest.exists():
                problems.append(f"{name} (no such file)")
            elif anchor and dest.suffix == ".md":
                if anchor not in anchors(dest.read_text(encoding="utf-8")):
                    problems.append(f"{name} (no such anchor)")
    return problems


def test_every_relative_link_and_anchor_resolves() -> None:
    assert broken_links(manual_files(), ROOT) == []


def test_the_link_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(
        "# Page\n\n## Big exports: two passes\n\n## Notes\n\n## Notes\n\n"
        "## Tag names — one rule\n\n```sh\n# not a heading\n```\n",
        encoding="utf-8",
    )
    readme = tmp_path / "README.md"
    readme.write_text(
        "See [the page](docs/page.md), [passes](docs/page.md#big-exports-two-passes),\n"
        "[the second notes](docs/page.md#notes-1), [top](#top), ![a picture\nover two "
        "lines](docs/gone.png), [an anchor](docs/page.md#gone), [code](docs/page.md#not-a-heading),\n"
        "[a dash](docs/page.md#tag-names--one-rule), [out](../elsewhere.md), "
        "[web](https://example.com/x.md) and `[in code](docs/gone.md)`.\n\n"
        "```md\n[in a block](docs/gone.md)\n```\n\n# Top\n",
        encoding="utf-8",
    )
    assert broken_links([readme], tmp_path) == [
        # a repeated heading is notes-1 on GitHub, notes_1 in the site: no link reaches both
        "README.md: docs/page.md#notes-1 (no such anchor)",
        # the two lines of a link's text are one link
        "README.md: docs/gone.png (no such file)",
        "README.md: docs/page.md#gone (no such anchor)",
        "README.md: docs/page.md#not-a-heading (no such anchor)",  # a comment in code
        # GitHub makes "tag-names--one-rule", the site "tag-names-one-rule": neither works
        # in both, so the link is refused
        "README.md: docs/page.md#tag-names--one-rule (no such anchor)",
        "README.md: ../elsewhere.md (outside the repository)",
    ]


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


def test_every_page_is_in_the_nav() -> None:
    """A new page in docs/ is added to mkdocs.yml's nav, and the nav names only pages
    that exist (the site's strict build says so too, where it is installed)."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = _nav_pages(config["nav"])
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(set(pages) - set(in_nav)) == [], "add these pages to the nav in mkdocs.yml"
    assert sorted(set(in_nav) - set(pages)) == [], "the nav names pages that do not exist"
    assert len(in_nav) == len(set(in_nav)), "a page is in the nav twice"


def test_readme_keeps_the_commands_ci_runs() -> None:
    """.ci/run takes the first line of the fenced block after each marker, with awk: run
    its own awk program on the README."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    program = re.search(r"awk -v m=\"<!-- \$1 -->\" '([^']+)' README.md", script)
    assert program, ".ci/run no longer reads the README as this test expects"
    if shutil.which("awk") is None:
        pytest.skip("no awk on this machine")
    commands = [
        subprocess.run(
            ["awk", "-v", f"m=<!-- {marker} -->", program.group(1), "README.md"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for marker in ("ci:setup", "ci:test")
    ]
    assert commands == [
        "pip install -e . && ordertags apply examples/orders.csv --tagbook tagbook.example.yaml"
        " --rules rules.example.yaml --as-of 2026-11-26 --output annotated.csv",
        "pip install -e '.[test]' && python -m pytest -q",
    ]


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """The site (mkdocs.yml) builds with every warning an error: a broken link or anchor,
    a page missing from the nav, a nav entry with no page."""
    if importlib.util.find_spec("properdocs") is None:
        message = "the site builder is not installed: pip install -e '.[docs]'"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: every test must run)")
        pytest.skip(message)
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "properdocs", "build", "--strict", "-f", "mkdocs.yml"]
        + ["--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    assert (site / "index.html").exists()
    assert (site / "team-screen.png").exists()
    # the files outside docs/ that pages link to are in the site (docs/hooks.py)
    assert (site / "SECURITY" / "index.html").exists()
    assert "../SECURITY/" in (site / "security" / "index.html").read_text(encoding="utf-8")
