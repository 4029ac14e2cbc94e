"""The console's "Going live" page: the same findings as ``twilio check`` for a site's numbers
(Twilio's REST API mocked with ``responses``), what to do next and the registration text, in
both languages, for administrators only; and in headless Chromium."""

from __future__ import annotations

import html
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
from tests.ops.test_twilio_connect import BASE, SERVICE_MG, FakeTwilio

ADA = "ada@clinic.example"
NORA = "nora@clinic.example"
SITE = "demo-clinic"
MISSING_EN = f"Messaging Service {SERVICE_MG}: no A2P 10DLC campaign"
MISSING_ES = f"Messaging Service {SERVICE_MG}: no tiene campaña A2P 10DLC"
# The line's account is never connected: no fallback on Twilio, the number pointed elsewhere.
NO_FALLBACK = {
    "en": "The static fallback, which answers with the 24/7 line and 911 when this server is down, "
    "is not on Twilio",
    "es": "El respaldo fijo, que responde con la línea 24/7 y el 911 cuando este servidor no "
    "funciona, no está en Twilio",
}
REDACTION = {
    "en": "Message Redaction: Twilio's API does not say whether it is on, so confirm it by hand.",
    "es": "Message Redaction: la API de Twilio no dice si está activada, así que confírmelo "
    "a mano.",
}


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


def part(html_text: str, tag: str, name: str) -> str:
    """The text of the page's ``<tag class="name">`` list, unescaped."""
    found = re.search(
        rf'<{tag} class="{name}"[^>]*>(.*?)</{tag}>\s*(?:<h3|</section>)', html_text, re.S
    )
    assert found, f"no {tag}.{name}"
    return html.unescape(re.sub(r"<[^>]+>", " ", found[1]))


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


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_wiring_is_compared_with_public_url_as_twilio_check_does(
    line: Flask, frozen_clock: time_machine.Traveller, account: FakeTwilio, lang: str
) -> None:
    ada = signed_in(line, ADA, frozen_clock)
    if lang == "es":
        ada.post("/console/language", {"lang": "es", "next": "/console/directory"})
    page = page_text(ada)
    compared = {"en": "Compared with this line at", "es": "Comparado con esta línea en"}[lang]
    assert f"{compared} {BASE}" in html.unescape(page)
    todo = part(page, "ol", "todo")
    assert NO_FALLBACK[lang] in todo
    assert f"voice_url: https://demo.twilio.com/welcome/voice/ -> {BASE}/voice" in todo
    assert f"sms_url: https://demo.twilio.com/welcome/sms/reply -> {BASE}/sms" in todo
    assert {"en": MISSING_EN, "es": MISSING_ES}[lang] in todo
    manual = part(page, "ul", "manual")
    assert REDACTION[lang] in manual
    assert {
        "en": "STOP (es): add keywords PARAR, ALTO, CANCELAR",
        "es": "STOP (es): añada las palabras clave PARAR, ALTO, CANCELAR",
    }[lang] in manual
    assert REDACTION[lang] not in todo and REDACTION[lang] not in part(page, "ul", "done")
    done = part(page, "ul", "done")
    assert {"en": "No Conversational Intelligence service", "es": "No hay ningún servicio"}[
        lang
    ] in done


def test_a_wired_account_has_nothing_to_do_but_the_steps_by_hand(
    line: Flask, frozen_clock: time_machine.Traveller, account: FakeTwilio
) -> None:
    from tests.ops.test_twilio_connect import campaign_payload, run

    assert run("connect").exit_code == 0
    account.campaigns = [campaign_payload("VERIFIED")]
    page = page_text(signed_in(line, ADA, frozen_clock))
    assert '<ol class="todo">' not in page
    assert "Nothing: every number is wired to this line and registered." in page
    assert REDACTION["en"] in part(page, "ul", "manual")


def test_without_public_url_the_page_says_what_to_set(
    line: Flask, frozen_clock: time_machine.Traveller
) -> None:
    line.config["PUBLIC_URL"] = None
    page = page_text(signed_in(line, ADA, frozen_clock))
    todo = part(page, "ol", "todo")
    assert todo.strip().startswith("HOTLINE_BRIDGE_PUBLIC_URL is not an https address")
    assert NO_FALLBACK["en"] not in todo  # nothing compared, nothing claimed
    assert MISSING_EN in todo  # the registration is still read


def test_reading_the_page_changes_nothing_at_twilio(
    line: Flask, frozen_clock: time_machine.Traveller, account: FakeTwilio
) -> None:
    number, messaging = dict(account.number), dict(account.messaging)
    page_text(signed_in(line, ADA, frozen_clock))
    assert account.number == number and account.messaging == messaging
    assert account.service is None and not account.service_numbers and not account.created


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


def test_twilio_is_asked_again_only_after_five_minutes_or_when_staff_ask(
    line: Flask, frozen_clock: time_machine.Traveller, account: FakeTwilio
) -> None:
    from tests.ops.test_twilio_connect import campaign_payload

    ada = signed_in(line, ADA, frozen_clock)
    first = page_text(ada)
    asked = len(account.mock.calls)
    assert asked > 0 and MISSING_EN in first
    # When, in the site's time zone, written the reader's way.
    assert re.search(r"Twilio was asked on Dec 9, 2026, 3:00\s*PM\.", first)
    account.campaigns = [campaign_payload("VERIFIED")]
    frozen_clock.shift(60)
    kept = page_text(ada)  # kept: nothing asked, the same answer and when it was given
    assert part(kept, "ol", "todo") == part(first, "ol", "todo")
    assert re.search(r"Twilio was asked on Dec 9, 2026, 3:00\s*PM\.", kept)
    assert len(account.mock.calls) == asked
    again = page_text(ada, f"/console/going-live?site={SITE}&again=1")
    assert len(account.mock.calls) >= 2 * asked
    asked = len(account.mock.calls)
    assert MISSING_EN not in again and re.search(r"asked on Dec 9, 2026, 3:01\s*PM\.", again)
    account.campaigns = []
    frozen_clock.shift(299)
    assert MISSING_EN not in page_text(ada)  # still kept
    assert len(account.mock.calls) == asked
    frozen_clock.shift(2)
    assert MISSING_EN in page_text(ada)  # five minutes on: asked again
    assert len(account.mock.calls) > asked


def test_a_refusal_is_not_kept(
    line: Flask, frozen_clock: time_machine.Traveller, account: FakeTwilio
) -> None:
    from tests.ops.test_twilio_connect import error

    account.failures["list_campaigns"] = error(403, 20003, "Permission denied")
    ada = signed_in(line, ADA, frozen_clock)
    assert "Twilio refused a request" in page_text(ada)
    page = page_text(ada)
    assert "Twilio refused a request" not in page and MISSING_EN in page


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
    expect(page.locator("ol.todo")).to_contain_text(NO_FALLBACK[lang])
    expect(page.locator("ul.manual")).to_contain_text(REDACTION[lang])
    expect(page.locator("textarea").first).to_have_value(re.compile("free, confidential"))
    no_violations(page)
    assert all(url.startswith(page.url.split("/console")[0]) for url in asked)
