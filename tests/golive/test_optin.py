"""The opt-in image: the site's printed wallet card as a PNG at a stable public address."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask

from hotline_bridge import optin
from tests.printing.test_print import add_sites


@pytest.fixture
def clinic(app: Flask) -> Flask:
    add_sites(app)
    return app


def test_the_card_is_a_png_kept_for_the_day(clinic: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    real = optin.draw

    def counted(app: Flask, site_id: str, today: dt.date) -> bytes | None:
        drawn.append(site_id)
        return real(app, site_id, today)

    monkeypatch.setattr(optin, "draw", counted)
    client = clinic.test_client()
    first = client.get("/optin/riverside.png")
    assert first.status_code == 200
    assert first.mimetype == "image/png"
    assert first.data.startswith(b"\x89PNG")
    assert first.headers["Cache-Control"] == f"public, max-age={optin.MAX_AGE_SECONDS}"
    again = client.get("/optin/riverside.png")
    assert again.data == first.data
    assert drawn == ["riverside"]


@pytest.mark.parametrize("site", ["nowhere", "default", "Riverside", "a" * 65])
def test_a_site_that_cannot_be_printed_or_does_not_exist_is_not_found(
    clinic: Flask, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "default" exists but has no number, so nothing can be printed for it.
    calls: list[Any] = []
    if site != "default":
        monkeypatch.setattr(optin, "draw", lambda *args: calls.append(args))
    assert clinic.test_client().get(f"/optin/{site}.png").status_code == 404
    assert not calls
