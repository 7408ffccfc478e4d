"""Customer keys from email addresses, one value at a time (pure Python).

The column version, used on whole exports, is :func:`ordertags.customers.grouping.customer_keys`;
a property test checks that both agree. This module imports nothing heavy, so that
quick commands (``ordertags tag``) stay quick.
"""

from __future__ import annotations

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalize_email(email: str | None) -> str | None:
    """Return the customer key of an email address, or None for a blank one.

    Trimmed and lower-cased; the local part's ``+suffix`` dropped; for gmail.com and
    googlemail.com the local part's dots dropped and the domain written gmail.com.

    >>> normalize_email("  Jane.Doe+shop@GoogleMail.com ")
    'janedoe@gmail.com'
    >>> normalize_email("") is None
    True
    """
    if email is None:
        return None
    text = fold_case(email.strip())
    if not text:
        return None
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def fold_case(text: str) -> str:
    """Lower-case one code point at a time with its simple mapping, as Arrow's
    ``utf8_lower`` does: no context rules (a final Σ becomes σ, not ς) and no expansions
    (İ becomes i, not i + combining dot), so both give the same customer key."""
    if text.isascii():
        return text.lower()
    return "".join(c.lower()[0] if c.lower() else c for c in text)


def looks_like_email(text: str) -> bool:
    """A light check for a usable address: one ``@`` with text on both sides and a dot after it.

    >>> looks_like_email("a@b.co"), looks_like_email("a@b")
    (True, False)
    """
    local, at, domain = text.strip().rpartition("@")
    return bool(
        at
        and local
        and "." in domain
        and not domain.startswith(".")
        and not domain.endswith(".")
        and " " not in text.strip()
    )
