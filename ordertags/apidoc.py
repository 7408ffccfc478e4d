"""Write the Python API reference (``docs/api.md``) from the docstrings.

``python -m ordertags.apidoc > docs/api.md``; a test checks that the file is current.
"""

from __future__ import annotations

import inspect
import re

import ordertags

HEADER = """# Python API reference

Generated from the docstrings by `python -m ordertags.apidoc > docs/api.md`; do not edit.
Every name is importable from `ordertags` (`import ordertags` loads nothing heavy; each
name is imported on first use).
"""


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    # Annotations are strings (postponed evaluation): drop their quotes.
    return re.sub(r"'([^']*)'", r"\1", text)


def _doc(obj: object) -> str:
    return inspect.cleandoc(obj.__doc__ or "(no docstring)")


def _methods(cls: type) -> list[str]:
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
            continue
        target = member.fget if isinstance(member, property) else member
        if target is None or not target.__doc__:
            continue
        sig = "" if isinstance(member, property) else _signature(member)
        first = inspect.cleandoc(target.__doc__).split("\n\n")[0].replace("\n", " ")
        out.append(f"- `{name}{sig}`: {first}")
    return out


def render_reference() -> str:
    """The whole reference, as Markdown."""
    functions, classes, other = [], [], []
    for name in sorted(ordertags.__all__, key=str.lower):
        if name.startswith("__"):
            continue
        obj = getattr(ordertags, name)
        if inspect.isclass(obj):
            classes.append((name, obj))
        elif callable(obj):
            functions.append((name, obj))
        else:
            other.append((name, obj))
    parts = [HEADER, "## Functions\n"]
    for name, fn in functions:
        parts.append(f"### `{name}`\n\n```python\n{name}{_signature(fn)}\n```\n\n{_doc(fn)}\n")
    parts.append("## Classes\n")
    for name, cls in classes:
        methods = _methods(cls)
        body = _doc(cls) + ("\n\n" + "\n".join(methods) if methods else "")
        parts.append(f"### `{name}`\n\n{body}\n")
    if other:
        parts.append("## Other names\n")
        for name, value in other:
            parts.append(f"- `{name}`: `{value!r}`")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
