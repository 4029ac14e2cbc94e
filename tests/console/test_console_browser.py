"""The clinic console in real headless Chromium: signing in with a password and a one-time
code, adding and editing a service and finding it in a signed SMS reply, uploading a file with a
bad row, trying the line, and axe-core on every console page.

The browser is Debian's Chromium, driven by Playwright; if it cannot be launched these tests
fail, never skip. Screenshots land in test-artifacts/console/ (the README's come from here).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect

from hotline_bridge import create_app
from hotline_bridge.directory.store import open_db
from hotline_bridge.settings import PROJECT_ROOT
from tests.axe import axe_violations
from tests.channels.kiosk.test_kiosk_browser import Server
from tests.conftest import AUTH_TOKEN, SECRET_KEY, Texter
from tests.console.console_helpers import NORTH_NUMBER, PASSWORD, add_staff, seed

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "console"
NORA, NED, ADA = "nora@north.example", "ned@north.example", "ada@admin.example"


def _counts(app: Any) -> None:
    """A month of made-up counts, so the usage charts have something to draw."""
    today = dt.datetime.now(dt.UTC).date()
    rows = []
    for back in range(30):
        day = (today - dt.timedelta(days=back)).isoformat()
        for channel, base in (("sms", 30), ("voice", 12), ("kiosk", 8)):
            for language, share in (("en", 1.0), ("es", 0.6)):
                n = int((base + (back * 7) % 11) * share)
                for event, part in (
                    ("step:main", 1.0),
                    ("step:nearby", 0.5),
                    ("status:delivered", 0.8),
                ):
                    rows.append(
                        {
                            "day": day,
                            "channel": channel,
                            "language": language,
                            "event": event,
                            "n": int(n * part),
                        }
                    )
    with open_db(app) as db, db.conn:
        db.table("counts").insert_all(rows)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "hotline.db"),
            "SECRET_KEY": SECRET_KEY,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
    )
    seed(app)
    add_staff(app, NORA, "--site", "north")
    add_staff(app, NED, "--site", "north")
    add_staff(app, ADA, "--admin")
    _counts(app)
    running = Server(app)
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    # One Chromium for every browser test in a worker (the session fixture in conftest).
    context = browser.new_context(viewport={"width": 1100, "height": 760}, base_url=server.base)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def no_violations(page: Page) -> None:
    # axe reads the whole document: never while a navigation is swapping it.
    page.wait_for_load_state("load")
    results = axe_violations(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def sign_in(page: Page, email: str, secrets: dict[str, str], *, record: bool = False) -> None:
    """Sign in through the forms, enrolling the one-time code on the first sign-in."""
    page.goto("/console/sign-in")
    if record:
        no_violations(page)
        shot(page, "sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    if email not in secrets:
        expect(page.get_by_role("heading", name="Set up your one-time codes")).to_be_visible()
        if record:
            no_violations(page)
            shot(page, "enrol")
        secrets[email] = page.locator("code.secret").inner_text()
    elif record:
        no_violations(page)
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secrets[email]).now())
    page.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name=re.compile("^Directory"))).to_be_visible()


def test_sign_in_add_and_edit_a_service_and_see_it_in_a_signed_sms_reply(
    page: Page, browser: Browser, server: Server, frozen_clock: time_machine.Traveller
) -> None:
    secrets: dict[str, str] = {}
    sign_in(page, NORA, secrets)
    page.get_by_role("link", name="Add a service").click()
    page.get_by_label("Id (letters, digits, - _ .)").fill("north-clinic")
    page.get_by_label("Kind of help", exact=True).select_option("legal")
    page.get_by_label("Name (English)").fill("Harbor Clinic (example)")
    page.get_by_label("Discreet label (English)").fill("Walk-in legal help")
    page.get_by_label("Phone", exact=True).fill("617-555-0177")
    page.get_by_label("ZIP code").fill("ABCDE")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-zip")).to_contain_text("not a five-digit ZIP code")
    page.get_by_label("ZIP code").fill("02139")
    page.get_by_role("button", name="Save").click()
    # A new service's number waits for a second person, as a changed number does.
    expect(page.get_by_role("heading", name="Confirm the number change")).to_be_visible()
    no_violations(page)
    frozen_clock.shift(30)
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secrets[NORA]).now())
    page.get_by_role("button", name="Confirm and ask for approval").click()
    row = page.get_by_role("row", name=re.compile("Harbor Clinic"))
    expect(row).to_contain_text("Not offered yet")
    no_violations(page)
    page.get_by_role("link", name="Edit north-clinic").click()
    page.get_by_label("Name (English)").fill("Harbor Legal Clinic (example)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("row", name=re.compile("Harbor Legal Clinic"))).to_be_visible()
    _approve_as_ned(browser, server, frozen_clock, "north-clinic")
    texter = Texter(server.app.test_client(), to=NORTH_NUMBER)
    for body in ("hello", "2", "1"):
        listing = texter.send(body)
    key = re.search(r"^(\d+) Walk-in legal help", listing, re.MULTILINE)
    assert key, listing
    reply = texter.send(key[1])
    assert "Harbor Legal Clinic (example)" in reply and "1-617-555-0177" in reply


def _approve_as_ned(
    browser: Browser, server: Server, clock: time_machine.Traveller, service_id: str
) -> None:
    """Approve every waiting number of ``service_id`` as a second person, in their own browser."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, base_url=server.base)
    other = context.new_page()
    clock.shift(30)
    sign_in(other, NED, {})
    other.goto("/console/approvals")
    approve = other.get_by_role("button", name=f"Approve the change to {service_id}")
    expect(approve.first).to_be_visible()
    no_violations(other)
    shot(other, "approvals-new-service")
    for left in range(approve.count() - 1, -1, -1):
        # The form posts and comes back to this page: wait for the new page, not only for a
        # count that a half-loaded document also shows.
        with other.expect_navigation():
            approve.first.click()
        expect(approve).to_have_count(left)
    no_violations(other)
    context.close()


def test_retire_and_restore_a_service(page: Page) -> None:
    sign_in(page, NORA, {})
    page.get_by_role("button", name="Retire north-legal").click()
    retired = page.get_by_role("table", name="Retired services")
    expect(retired).to_contain_text("North Legal Aid (example)")
    no_violations(page)
    shot(page, "directory-retired")
    retired.get_by_role("button", name="Restore north-legal").click()
    expect(page.get_by_role("table", name="Retired services")).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile("North Legal Aid"))).to_be_visible()
    page.goto("/console/audit")
    expect(
        page.get_by_role("rowheader", name="service restored: north-legal (north)")
    ).to_be_visible()


def test_upload_a_file_with_a_bad_row_and_see_the_report(page: Page, tmp_path: Path) -> None:
    sign_in(page, NORA, {})
    upload = tmp_path / "services.csv"
    upload.write_text(
        "id,site,category,name_en,label_en,phone,zip\n"
        "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139\n"
        "north-bad,north,legal,Bad Row (example),Legal,not a number,02139\n",
        encoding="utf-8",
    )
    page.get_by_role("link", name="Upload a file").click()
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("row", name=re.compile("services.csv:3"))).to_contain_text(
        "not a phone number"
    )
    expect(page.get_by_text("Nothing has been written.")).to_be_visible()
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)


def test_try_the_line_by_text_and_by_call(page: Page) -> None:
    sign_in(page, NORA, {})
    page.get_by_role("link", name="Try the line").click()
    page.get_by_role("textbox", name="Message").fill("hello")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".chat").first).to_contain_text("How can we help?")
    page.get_by_role("textbox", name="Message").fill("2")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".chat").first).to_contain_text("What do you need?")
    page.get_by_role("button", name="Call the line").click()
    expect(page.locator(".chat").nth(1)).to_contain_text("For English, press 1")
    page.get_by_role("form", name="Phone keys").get_by_role("button", name="1", exact=True).click()
    expect(page.locator(".chat").nth(1)).to_contain_text("Talk to someone now, 24/7: press 1")


PAGES: dict[str, str] = {
    "directory": "/console/directory",
    "service-new": "/console/services/new",
    "service-edit": "/console/services/north-legal/edit",
    "preview": "/console/services/north-legal/preview",
    "approvals": "/console/approvals",
    "upload": "/console/upload",
    "try": "/console/try",
    "usage": "/console/usage",
    "audit": "/console/audit",
    "not-found": "/console/services/nowhere/edit",
    "delete-confirm": "/console/services/north-legal/delete",
}


def test_every_console_page_has_no_axe_violations(
    page: Page, frozen_clock: time_machine.Traveller, tmp_path: Path
) -> None:
    secrets: dict[str, str] = {}
    sign_in(page, NORA, secrets, record=True)
    for name, path in PAGES.items():
        page.goto(path)
        no_violations(page)
        shot(page, name, full_page=name != "preview")
    _conversation(page)
    _number_change(page, frozen_clock, secrets)
    page.goto("/console/services/north-legal/edit")
    page.get_by_label("ZIP code").fill("nope")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-zip")).to_contain_text("not a five-digit ZIP code")
    no_violations(page)
    shot(page, "service-errors")
    _upload_report(page, tmp_path)
    _in_spanish(page)
    page.goto("/console/sign-in")
    page.context.clear_cookies()
    frozen_clock.shift(30)
    sign_in(page, ADA, {})
    for name, path in {
        "sites": "/console/sites?site=north",
        "approvals-admin": "/console/approvals",
    }.items():
        page.goto(path)
        no_violations(page)
        shot(page, name)


def _conversation(page: Page) -> None:
    page.goto("/console/try")
    for body in ("hello", "2"):
        page.get_by_role("textbox", name="Message").fill(body)
        page.get_by_role("button", name="Send").click()
    page.get_by_role("button", name="Call the line").click()
    page.get_by_role("form", name="Phone keys").get_by_role("button", name="1", exact=True).click()
    expect(page.locator(".chat").nth(1)).to_contain_text("press 1")
    no_violations(page)
    shot(page, "try-conversation")


def _number_change(page: Page, clock: time_machine.Traveller, secrets: dict[str, str]) -> None:
    page.goto("/console/services/north-legal/edit")
    page.get_by_label("Phone", exact=True).fill("617-555-0188")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Confirm the number change")).to_be_visible()
    no_violations(page)
    shot(page, "confirm-numbers")
    clock.shift(30)
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secrets[NORA]).now())
    page.get_by_role("button", name="Confirm and ask for approval").click()
    page.goto("/console/approvals")
    expect(page.get_by_text("Your change: another person approves it")).to_be_visible()


def _upload_report(page: Page, tmp_path: Path) -> None:
    upload = tmp_path / "services.csv"
    upload.write_text(
        "id,site,category,name_en,label_en,phone,zip\n"
        "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139\n",
        encoding="utf-8",
    )
    page.goto("/console/upload")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Added: 1")).to_be_visible()
    no_violations(page)
    shot(page, "upload-report")


def _in_spanish(page: Page) -> None:
    page.goto("/console/directory")
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", name=re.compile("^Directorio"))).to_be_visible()
    no_violations(page)
    shot(page, "directory-es")
    page.get_by_role("button", name="English").click()


def _long_service(server: Server) -> None:
    """A service with the long id and name a real directory has, beside the seeded one."""
    from hotline_bridge.directory.store import write_services

    row = {
        "id": "north-immigrant-family-legal-services",
        "category": "legal",
        "label_en": "Legal help",
        "name_en": "Northside Immigrant and Refugee Family Legal Services Collaborative (example)",
        "phone": "+16175550108",
        "hours": "Mo-Fr 09:00-17:00",
        "zip": "02139",
        "fictional": 1,
    }
    with open_db(server.app) as db, db.conn:
        write_services(db, [{**row, "national": 0, "source": "test"}])
        db.table("service_sites").insert({"service_id": row["id"], "site_id": "north"})


# How many lines a cell's text takes (one rectangle per line of a text node).
LINES_OF = """cells => cells.map(cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
})"""


@pytest.mark.clock
def test_phone_numbers_never_wrap_and_the_directory_fits_1280_pixels(
    browser: Browser, server: Server
) -> None:
    _long_service(server)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.base)
    page = context.new_page()
    sign_in(page, NORA, {})
    for lang, button in (("en", None), ("es", "Español")):
        if button:
            page.get_by_role("button", name=button).click()
            expect(page.get_by_role("heading", name=re.compile("^Directorio"))).to_be_visible()
        numbers = page.locator("td.number")
        expect(page.get_by_role("cell", name="1-617-555-0108")).to_be_visible()
        assert numbers.count() >= 4  # the local phones, and the national phones and texts
        lines = numbers.evaluate_all(LINES_OF)
        shot(page, f"directory-1280-{lang}", full_page=False)
        assert all(n <= 1 for n in lines), lines
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"the page is {width}px wide"
    context.close()
