from __future__ import annotations

from pathlib import Path

from .serve_shop import client, log_in, shop, template_shop  # noqa: F401


def test_smoke(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    r = c.get("/")
    assert r.status_code == 303
    token = log_in(c, "max")
    r = c.get("/")
    print(r.text[:6000])
    assert r.status_code == 200
