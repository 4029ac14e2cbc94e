"""The national lines as the checked reference has them now, through every door people use."""

from __future__ import annotations

import pytest
from flask import Flask

from hotline_bridge.directory import national
from hotline_bridge.directory.models import get_service
from hotline_bridge.directory.store import open_db
from tests.channels.voice.test_voice import call, press
from tests.conftest import Texter

# What a person reads of 211 on its details, in each language: where 211 texts work and whether a
# center answers at night differ by area, so nothing may promise it around the clock.
VARY = {"en": "Hours vary by area", "es": "El horario varía según la zona"}
# How a call would say 24/7 in either language.
AROUND_THE_CLOCK = ("24/7", "24 7", "twenty-four", "veinticuatro", "24 horas")
# How each language starts a conversation, and the keys to 211's details: help near you, food
# and other needs, its entry.
GREETING = {"en": "hello", "es": "hola"}
TO_211 = ("2", "6", "1")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_211_is_never_promised_around_the_clock_by_text(app: Flask, lang: str) -> None:
    texter = Texter(app.test_client())
    texter.send(GREETING[lang])
    replies = [texter.send(key) for key in TO_211]
    assert "211" in replies[-1]
    assert VARY[lang] in replies[-1]
    assert "24/7" not in replies[-1]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_211_is_never_promised_around_the_clock_on_the_kiosk(app: Flask, lang: str) -> None:
    html = app.test_client().get(f"/kiosk/default/{lang}/service:community211")
    page = html.get_data(as_text=True)
    assert html.status_code == 200 and VARY[lang] in page
    assert "24/7" not in page.split("<main", 1)[1].split("service:community211")[0]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_211_is_never_promised_around_the_clock_on_a_call(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), *TO_211)
    heard = [phone.text, press(phone, "2").text]  # its entry, then its name and number
    assert all("2 1 1" in said for said in heard)
    assert not any(word in said.lower() for said in heard for word in AROUND_THE_CLOCK)


def test_the_hotlines_change_of_operator_asks_for_a_fresh_confirmation(make_app) -> None:  # type: ignore[no-untyped-def]
    """A deployment that confirmed the short code before the row's last check must look again."""
    nhth = national.by_id()["nhth"]
    assert nhth.flagged() == ("sms_number",)
    with open_db(make_app(CONFIRMED_LINES=f"nhth@{nhth.checked.replace(day=1)}")) as db:
        assert db["services"].get("nhth")["sms"] is None
    with open_db(make_app(CONFIRMED_LINES=f"nhth@{nhth.checked}")) as db:
        assert db["services"].get("nhth")["sms"] == "233733"


def test_988s_details_offer_no_retired_option(app: Flask) -> None:
    """988's press 3 option ended on 2025-07-17: no wording of ours may offer it."""
    with open_db(app) as db:
        line = get_service(db, "lifeline988")
    assert line is not None
    for lang in ("en", "es"):
        assert "3" not in line.description(lang).replace("988", "")
