"""A console session lasts while staff work in it and ends after they stop, whatever the SMS
conversation's lifetime is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from flask import Flask

from tests.console.console_helpers import Staffer, add_staff, seed

NORA = "nora@north.example"
# The console's own limit on a session left unused, and the SMS conversation's lifetime,
# which once ended console sessions too.
IDLE_MINUTES, SMS_MINUTES = 20, 15


@pytest.fixture
def nora(make_app: Any, frozen_clock: time_machine.Traveller) -> Staffer:
    app: Flask = make_app(CONSOLE_IDLE_MINUTES=IDLE_MINUTES, SESSION_MINUTES=SMS_MINUTES)
    seed(app)
    add_staff(app, NORA, "--site", "north")
    staffer = Staffer(app, NORA, frozen_clock)
    assert staffer.sign_in().status_code == 303
    return staffer


def test_staff_stay_signed_in_while_they_work(nora: Staffer) -> None:
    for _ in range(8):  # 40 minutes of work, a page every 5
        nora.clock.shift(dt.timedelta(minutes=5))
        assert nora.client.get("/console/directory").status_code == 200


def test_a_session_left_unused_ends(nora: Staffer) -> None:
    nora.clock.shift(dt.timedelta(minutes=IDLE_MINUTES + 1))
    page = nora.client.get("/console/directory")
    assert page.status_code == 302 and "/console/sign-in" in page.headers["Location"]


def test_a_tampered_console_cookie_is_no_session(nora: Staffer) -> None:
    cookie = nora.client.get_cookie("hb_console", path="/console")
    assert cookie is not None
    nora.client.set_cookie("hb_console", cookie.value[:-2] + "xx", path="/console")
    page = nora.client.get("/console/directory")
    assert page.status_code == 302 and "/console/sign-in" in page.headers["Location"]


@pytest.mark.parametrize(
    ("path", "console"),
    [
        ("/console", True),
        ("/console/directory", True),
        ("/consoles", False),
        ("/console\n", False),
        ("/sms", False),
    ],
)
def test_only_the_consoles_own_paths_get_its_session(path: str, console: bool) -> None:
    from hotline_bridge.console.cookie import is_console

    assert is_console(path) is console
