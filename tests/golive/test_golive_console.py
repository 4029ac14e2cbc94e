"""The console's "Going live" page: the same findings as ``twilio check`` for a site's numbers
(Twilio's REST API mocked with ``responses``), what to do next and the registration text, in
both languages, for administrators only; and in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from hotline_bridge import create_app
from tests.channels.kiosk.test_kiosk_browser import Server
from tests.console.console_helpers import Staffer, add_staff
from tests.console.test_console_browser import no_violations, sign_in
from tests.ops.test_twilio_connect import SERVICE_MG, FakeTwilio

ADA = "ada@clinic.example"
NORA = "nora@clinic.example"
SITE = "demo-clinic"
MISSING_EN = f"Messaging Service {SERVICE_MG}: no A2P 10DLC campaign"
MISSING_ES = f"Messaging Service {SERVICE_MG}: no tiene campaña A2P 10DLC"


@pytest.fixture
def line(account: FakeTwilio) -> Flask:
    """The demo line (its settings from the fake account's environment), with no campaign."""
    account.campaigns = []
    app = create_app({"TESTING": True, "COUNTS_FLUSH_SECONDS": 0})
    add_staff(app, ADA, "--admin")
    add_staff(app, NORA, "--site", SITE)
    return app


def signed_in(app: Flask, email: str, clock: time_machine.Traveller) -> Staffer:
    person = Staffer(app, email, clock)
    assert person.sign_in().status_code == 303
    return person


def page_text(person: Staffer, path: str = f"/console/going-live?site={SITE}") -> str:
    response = person.client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_admin_sees_what_to_do_and_the_text_to_copy(
    line: Flask, frozen_clock: time_machine.Traveller
) -> None:
    ada = signed_in(line, ADA, frozen_clock)
    html = page_text(ada)
    assert "<h1>Going live</h1>" in html
    assert "+15555550199 · Ten-digit number (long code)" in html
    todo = re.search(r'<ol class="todo">(.*?)</ol>', html, re.S)
    assert todo and MISSING_EN in todo[1]
    assert "A2P 10DLC brand" in html  # the brand named in the setting is still looked at
    assert "How can we help?" in html  # the main menu, texted through the line
    assert "Líneas 24/7:" in html  # a Spanish list sample, as the SMS line words it
    assert f"{line.config['PUBLIC_URL']}/privacy" in html
    assert "<code>HOTLINE_BRIDGE_BUSINESS_EIN</code>" in html


def test_the_page_in_spanish(line: Flask, frozen_clock: time_machine.Traveller) -> None:
    ada = signed_in(line, ADA, frozen_clock)
    ada.post("/console/language", {"lang": "es", "next": "/console/directory"})
    html = page_text(ada)
    assert "<h1>Puesta en marcha</h1>" in html
    assert "Número de diez dígitos (número largo)" in html
    assert MISSING_ES in html
    assert "Texto del registro para copiar" in html


def test_site_staff_may_not_see_it(line: Flask, frozen_clock: time_machine.Traveller) -> None:
    nora = signed_in(line, NORA, frozen_clock)
    assert nora.client.get("/console/going-live").status_code == 403
    assert "going-live" not in page_text(nora, "/console/directory")


def test_without_a_twilio_account_the_text_is_still_there(
    line: Flask, frozen_clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    line.config["TWILIO_ACCOUNT_SID"] = None
    html = page_text(signed_in(line, ADA, frozen_clock))
    assert "The Twilio account is not set" in html
    assert "How can we help?" in html


def test_twilio_refusing_is_said_on_the_page(
    line: Flask, frozen_clock: time_machine.Traveller, account: FakeTwilio
) -> None:
    from tests.ops.test_twilio_connect import error

    account.failures["list_campaigns"] = error(403, 20003, "Permission denied")
    html = page_text(signed_in(line, ADA, frozen_clock))
    assert "Twilio refused a request: list A2P 10DLC campaigns: Twilio answered 403" in html


# --- In a browser ------------------------------------------------------------------------------


@pytest.fixture
def server(line: Flask) -> Iterator[Server]:
    running = Server(line)
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, base_url=server.base)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(
    ("lang", "nav", "missing"),
    [("en", "Going live", MISSING_EN), ("es", "Puesta en marcha", MISSING_ES)],
)
def test_going_live_in_a_browser(page: Page, lang: str, nav: str, missing: str) -> None:
    asked: list[Any] = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, ADA, {})
    if lang == "es":
        page.get_by_role("button", name="Español").click()
    page.get_by_role("navigation").get_by_role("link", name=nav, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(nav)
    expect(page.locator("ol.todo")).to_contain_text(missing)
    expect(page.locator("textarea").first).to_have_value(re.compile("free, confidential"))
    no_violations(page)
    assert all(url.startswith(page.url.split("/console")[0]) for url in asked)
