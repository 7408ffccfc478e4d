"""Site build hook (``hooks:`` in mkdocs.yml): the repository files that the manual links
to from outside ``docs/`` are built into the site too, so that one relative link
(``../SECURITY.md``) works both where the Markdown is read as it is and in the built
site, and the strict build checks it. A page that links to another file outside
``docs/`` adds it to ``OUTSIDE``."""

from __future__ import annotations

from typing import Any

try:  # ProperDocs, the maintained continuation of MkDocs 1.6; MkDocs itself as well
    from properdocs.structure.files import File, Files, InclusionLevel
except ImportError:  # pragma: no cover
    from mkdocs.structure.files import File, Files, InclusionLevel

#: Paths relative to the repository's root.
OUTSIDE = (
    "SECURITY.md",
    "CHANGELOG.md",
    "benchmarks/RESULTS.md",
    "rules.example.yaml",
    "tagbook.example.yaml",
)


def on_files(files: Files, config: Any) -> Files:
    docs, site, pretty = config["docs_dir"], config["site_dir"], config["use_directory_urls"]
    for path in OUTSIDE:
        at_root = File(path, docs, site, pretty)  # where it goes in the site
        files.append(
            File(
                "../" + path,
                docs,
                site,
                pretty,
                dest_uri=at_root.dest_uri,
                inclusion=InclusionLevel.NOT_IN_NAV,  # reached by links, not listed in the nav
            )
        )
    return files
