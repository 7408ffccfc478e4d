"""Reading the YAML files people write (tag book, rules) with errors that point at a line.

YAML is read with a safe loader only. Schema errors are all reported, most relevant
first, each with its JSON path and the line of the YAML it points at.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ordertags.base.cache import digest, read_cached, write_cached
from ordertags.errors import OrderTagsError

try:  # the C loader is much faster where libyaml is present
    _Base: type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader


class _SafeLoader(_Base):  # type: ignore[misc]
    """The safe loader, with dates left as text: ``at: 2026-11-01`` stays ``"2026-11-01"``,
    so the tag book and rules read the same whether a date was quoted or not."""


_SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


class ScalarResolver(yaml.resolver.BaseResolver):  # type: ignore[misc]
    """What a plain scalar reads as with our loader (``resolve(yaml.ScalarNode, text,
    (True, False))`` gives its tag), without parsing a document."""


ScalarResolver.yaml_implicit_resolvers = _SafeLoader.yaml_implicit_resolvers

#: The characters the YAML reader refuses anywhere in a document.
NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def read_text(path: Path, error: type[OrderTagsError], what: str) -> str:
    """Read a UTF-8 text file (a BOM dropped, LF line ends), turning OS and decode
    errors into ``error``."""
    return decode_text(read_bytes(path, error, what), file=str(path), error=error)


def read_bytes(path: Path, error: type[OrderTagsError], what: str) -> bytes:
    """Read a file's bytes, turning OS errors into ``error`` (as :func:`read_text`)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(
            f"no such {what}.",
            file=str(path),
            hint="Check the path, or create it (see `ordertags init`).",
        ) from None
    except IsADirectoryError:
        raise error(f"this is a folder, not a {what}.", file=str(path)) from None
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror}.", file=str(path)) from None


def decode_text(raw: bytes, *, file: str, error: type[OrderTagsError]) -> str:
    """UTF-8 bytes (a BOM dropped) as text with LF line ends, as :func:`read_text`
    reads a file."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        raise error(
            f"not UTF-8 text (byte {start}).", file=file, hint="Save the file as UTF-8."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def has_anchors(text: str) -> bool:
    """Does the YAML text hold an anchor (``&name``), so possibly aliases?"""
    return _ANCHOR.search(text) is not None


#: How many nodes aliases (``*name``) may add to a document once expanded. A rule file
#: reusing a condition by anchor adds a few hundred; a "billion laughs" document (ten
#: levels of ten aliases) would add 10**10, and every later walk over it (validation,
#: an error message showing the value) would take minutes and gigabytes.
MAX_ALIAS_NODES = 100_000
#: How deep mappings and lists may nest. A tag book needs four levels, a rule file a
#: dozen with nested conditions; 400 nested ``not:`` would exhaust the stack of the
#: validator (and of every walk over the conditions).
MAX_DEPTH = 50
_ANCHOR = re.compile(r"&[^\s\]\[{},]")


def load_yaml(text: str, *, file: str, error: type[OrderTagsError]) -> Any:
    """Parse YAML safely; a syntax error names its line and column. Aliases that would
    expand the document by more than :data:`MAX_ALIAS_NODES` nodes are refused."""
    return _load(text, file=file, error=error, nodes=False)[0]


def load_yaml_nodes(
    text: str, *, file: str, error: type[OrderTagsError]
) -> tuple[Any, yaml.Node | None]:
    """:func:`load_yaml`, also giving the document's node tree (for the lines and
    columns of its values) from the same single parse."""
    return _load(text, file=file, error=error, nodes=True)


def _load(
    text: str, *, file: str, error: type[OrderTagsError], nodes: bool
) -> tuple[Any, yaml.Node | None]:
    node: yaml.Node | None = None
    try:
        if not nodes and not _ANCHOR.search(text):  # no anchor, no alias: the fast path
            data = yaml.load(text, Loader=_SafeLoader)  # a safe loader
        else:
            loader = _SafeLoader(text)
            try:
                node = loader.get_single_node()
                if node is None:
                    return None, None
                if _ANCHOR.search(text):
                    _check_aliases(node, file=file, error=error)
                data = loader.construct_document(node)
            finally:
                loader.dispose()
    except RecursionError:
        raise error(
            "the YAML is nested too deeply.",
            file=file,
            hint="Flatten the file: a tag book or rule file needs a few levels only.",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        line = mark.line + 1 if mark is not None else None
        col = f" (column {mark.column + 1})" if mark is not None else ""
        raise error(
            f"YAML syntax error{col}: {problem}.",
            file=file,
            line=line,
            hint="Fix the YAML at that line; check indentation and quotes.",
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"YAML syntax error: {exc}.", file=file) from None
    _check_depth(data, text=text, file=file, error=error)
    return data, node


def _check_depth(data: Any, *, text: str, file: str, error: type[OrderTagsError]) -> None:
    """Refuse mappings and lists nested deeper than :data:`MAX_DEPTH` (walked without
    recursion; the line is that of the first value too deep)."""
    # A first walk counts levels only (a large tag book has 20,000 mappings and lists);
    # the walk that keeps each value's path, for the message, runs only when needed.
    levels: list[tuple[Any, int]] = [(data, 0)]
    while levels:
        value, depth = levels.pop()
        if depth > MAX_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            levels.extend((v, depth + 1) for v in children if isinstance(v, dict | list))
    else:
        return
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            line = line_of(text, path[:MAX_DEPTH]) if len(text) < 1 << 20 else None
            raise error(
                f"values are nested more than {MAX_DEPTH} levels deep.",
                file=file,
                line=line,
                hint="Flatten the conditions (e.g. `not: {not: X}` is X; several `all:` "
                "in one another are one `all:`).",
            )
        if isinstance(value, dict):
            stack.extend((v, [*path, k]) for k, v in value.items() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(value) if isinstance(v, dict | list))


def _check_aliases(root: yaml.Node, *, file: str, error: type[OrderTagsError]) -> None:
    """Count the nodes the document has once its aliases are expanded (each node's
    expanded size worked out once), and refuse it past the bound."""
    sizes: dict[int, int] = {}
    distinct = 0
    # Depth-first, children before parents, without recursion.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        if not done:
            distinct += 1
            sizes[key] = -1  # in progress
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        if any(sizes.get(id(c)) == -1 for c in children):
            raise error(
                "an alias (*name) is used inside its own anchor (&name): the value would "
                "contain itself.",
                file=file,
                line=node.start_mark.line + 1,
                hint="Write the value out instead of the alias.",
            )
        total = 1 + sum(sizes.get(id(c), 1) for c in children)
        sizes[key] = total
        if total - distinct > MAX_ALIAS_NODES:
            raise error(
                f"its aliases (*name) expand to more than {MAX_ALIAS_NODES:,} values.",
                file=file,
                line=node.start_mark.line + 1,
                hint="Write the values out, or use fewer aliases; a document that grows "
                "like this is refused (it could exhaust the memory).",
            )


def line_of(text: str, path: list[str | int]) -> int | None:
    """The 1-based line of the YAML node at ``path`` (keys and list indexes), or of its
    nearest existing parent. Only used to locate errors, so it re-parses on demand."""
    node = _compose(text)
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


@lru_cache(maxsize=4)
def _compose(text: str) -> yaml.Node | None:
    """The node tree of a YAML text, kept for the few texts being looked at: a rule file
    with 500 rules asks for 500 lines."""
    try:
        return yaml.compose(text, Loader=_SafeLoader)  # a safe loader
    except yaml.YAMLError:
        return None


def json_path(path: list[str | int]) -> str:
    """``['rules', 0, 'when']`` -> ``$.rules[0].when``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema shipped in the package: ``tagbook`` or ``rules``."""
    text = resources.files("ordertags").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _schema_text(name: str) -> str:
    return resources.files("ordertags").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")


_VALID_KIND = "valid"
_VALID_FORMAT = 1


def validate(data: Any, *, schema: str, text: str, file: str, error: type[OrderTagsError]) -> None:
    """Validate against a shipped schema and raise ``error`` listing every problem
    (most relevant first), each with its path and line. A text found valid is
    remembered in the cache (:mod:`ordertags.base.cache`, keyed by the text and the
    schema): checking it again, as every cron run does, skips JSON Schema, whose import
    alone costs more than reading a small rule file."""
    schema_doc = load_schema(schema)
    key = digest(_schema_text(schema).encode() + b"\0" + text.encode())
    source = Path(file or "-")
    if read_cached(_VALID_KIND, _VALID_FORMAT, source, key, limit=4096) is True:
        return
    import jsonschema
    from jsonschema.exceptions import relevance

    validator_cls = jsonschema.validators.validator_for(schema_doc)
    validator = validator_cls(schema_doc)
    errors = sorted(validator.iter_errors(data), key=relevance)
    if not errors:
        if file:
            write_cached(_VALID_KIND, _VALID_FORMAT, source, key, True)
        return
    lines = []
    for err in errors:
        path = list(err.absolute_path)
        best = err
        # For oneOf/anyOf, the deepest sub-error usually says what is really wrong.
        if err.context:
            best = min(err.context, key=relevance)
            path = list(best.absolute_path)
        if best.validator == "additionalProperties" and isinstance(best.instance, dict):
            # Point at the unexpected key itself, not at the mapping that holds it.
            allowed = best.schema.get("properties", {})
            extra = [k for k in best.instance if k not in allowed]
            if extra:
                path = [*path, extra[0]]
        line = line_of(text, path)
        where = f"line {line}, " if line else ""
        lines.append(f"{where}{json_path(path)}: {_short(best.message)}.")
    first_line = line_of(text, list(errors[0].absolute_path))
    noun = "problem" if len(lines) == 1 else "problems"
    body = "; ".join(lines) if len(lines) == 1 else "\n  " + "\n  ".join(lines)
    raise error(
        f"{len(lines)} {noun} with the file's layout: {body}",
        file=file,
        hint=f"See `ordertags schema {schema}` for what is allowed."
        if first_line is not None
        else None,
    )


def _short(message: str) -> str:
    """jsonschema quotes whole sub-documents in some messages; keep them short."""
    return message if len(message) <= 160 else message[:157] + "..."
