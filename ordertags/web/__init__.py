"""The team screen (``ordertags serve``)."""

from __future__ import annotations


class ServeError(Exception):
    pass


def serve(*a: object, **k: object) -> None:
    raise ServeError("not yet")
