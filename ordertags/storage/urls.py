"""Database URLs as they may be shown or written: never with their password."""

from __future__ import annotations

import urllib.parse


def password_of(url: str) -> str | None:
    """The password a URL carries (in its user part or a ``password=`` parameter)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        return urllib.parse.unquote(parts.password)
    query = urllib.parse.parse_qs(parts.query)
    found = query.get("password")
    return found[0] if found else None


def redact(url: str) -> str:
    """The URL as it may be shown: its password (if any) replaced by ``***``.

    >>> redact("postgresql://shop:s3cret@db.example.com/shop?sslmode=require&password=x")
    'postgresql://shop:***@db.example.com/shop?sslmode=require&password=***'
    """
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = "&".join(
        f"{k}=***" if k == "password" else f"{k}={v}" if v else k
        for k, v in (p.partition("=")[::2] for p in parts.query.split("&") if p)
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def without_password(url: str) -> str:
    """The URL with its password (if any) taken out: what a settings file may hold.

    >>> without_password("postgresql://shop:s3cret@db.example.com:5433/shop?sslmode=require")
    'postgresql://shop@db.example.com:5433/shop?sslmode=require'
    """
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("password="))
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
