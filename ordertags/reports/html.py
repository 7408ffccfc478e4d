"""The orders as one self-contained web page (``ordertags report``).

The page holds its data as one JSON document (:func:`ordertags.reports.views.view_document`,
its shape in ``schemas/report.schema.json``) in a ``<script type="application/json">``
element, and its own script renders it: the same document can later be served by a
local web screen. No network: the style sheet and the script are inline. Every value
reaches the page through ``textContent`` (never as markup), and the JSON is written
with ``<``, ``>`` and ``&`` escaped, so a customer named ``</script><script>...`` stays
text.

>>> page = render_page(view, title="Open orders")
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

from ordertags.reports.views import OrdersView, view_document

#: What a tagged order is marked with where its tag has no icon (on paper too).
DEFAULT_SYMBOL = "◆"


def embed_json(document: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and the two
    line separators JavaScript treats as line ends are written as ``\\u`` escapes.

    >>> embed_json({"name": "</script>"})
    '{"name": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(document, ensure_ascii=False)
    for char, escape in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def _asset(name: str) -> str:
    """A file of the page (its style sheet, its script), shipped with the package."""
    return resources.files("ordertags.reports").joinpath("page", name).read_text("utf-8")


def render_page(view: OrdersView, *, title: str = "Orders to pack") -> str:
    """The whole page as text (UTF-8)."""
    document = view_document(view)
    document["title"] = title
    document["symbol"] = DEFAULT_SYMBOL
    parts = {
        "title": html.escape(title),
        "style": _asset("report.css"),
        "script": _asset("report.js"),
        "data": embed_json(document),
    }
    # One pass over the page's own text: what is put in (a title holding "{{data}}",
    # a customer named "{{script}}") is never read for placeholders again.
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], PAGE)


_PLACEHOLDER = re.compile(r"\{\{(title|style|script|data)\}\}")


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ordertags">
<title>{{title}}</title>
<style>{{style}}</style>
</head>
<body>
<header>
  <h1>{{title}}</h1>
  <p id="meta"></p>
  <div class="controls">
    <div id="chips" role="group" aria-label="Filter by tag"></div>
    <input id="search" type="search" placeholder="Search orders, names, emails, notes"
      aria-label="Search">
    <span id="shown"></span>
  </div>
  <div id="legend" class="print-only"></div>
</header>
<main>
<noscript><p>This page shows its orders with its own script: allow scripts for this
file.</p></noscript>
<table id="orders">
  <thead><tr id="head"></tr></thead>
  <tbody id="rows"></tbody>
</table>
<div id="more"></div>
</main>
<script type="application/json" id="ordertags-data">{{data}}</script>
<script>{{script}}</script>
</body>
</html>
"""
