"""Accounts without a shell, in real headless Chromium against a real ``hotline-bridge serve``:
from the link it prints, a coordinator sets up the first admin, creates a site with its keyword
and number, adds a colleague (who sets her own password from her link), and resets the
colleague's second factor, so that she enrols again at her next sign-in; in English and in
Spanish. The server runs on the real clock, so codes are made on the real clock too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hotline_bridge.engine.catalogs import Catalogs, Words
from hotline_bridge.settings import PROJECT_ROOT
from tests.console.accounts_helpers import first_account_url, served
from tests.console.test_console_browser import no_violations

ADMIN, COLLEAGUE = "coordinator@harbor.example", "nurse@harbor.example"
ADMIN_PASSWORD = "maple river copper window"
COLLEAGUE_PASSWORD = "quiet garden seven lamps"
CATALOGS = Catalogs(PROJECT_ROOT / "locales")


def real_code(secret: str) -> str:
    """Return the code an authenticator app shows now, on the real clock the server uses."""
    hatch = time_machine.escape_hatch
    now = hatch.time.time() if hatch.is_travelling() else time.time()
    return pyotp.TOTP(secret).at(now)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A fresh server; yields its address and the first-account link it printed."""
    with served(tmp_path / "fresh.db", HOTLINE_BRIDGE_LOCAL="1") as (base, printed):
        yield base, first_account_url(printed)


def _context(browser: Browser, base: str) -> BrowserContext:
    return browser.new_context(viewport={"width": 1100, "height": 800}, base_url=base)


def choose_language(page: Page, lang: str) -> None:
    """Switch the console to ``lang`` with its own button (from English)."""
    if lang != "en":
        english = CATALOGS.bind("en")
        page.get_by_role("button", name=english.t(f"console.language.{lang}")).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)


def set_password(page: Page, t: Words, password: str, email: str | None = None) -> None:
    expect(page.get_by_role("heading", name=t.t("console.setup.title"))).to_be_visible()
    if email:
        page.get_by_label(t.t("console.signin.email")).fill(email)
    page.get_by_label(t.t("console.password.new"), exact=True).fill(password)
    page.get_by_label(t.t("console.password.again")).fill(password)
    page.get_by_role("button", name=t.t("console.setup.submit")).click()


def enrol(page: Page, t: Words) -> str:
    """Enrol one-time codes on the page shown; return the secret."""
    expect(page.get_by_role("heading", name=t.t("console.enrol.title"))).to_be_visible()
    secret = page.locator("code.secret").inner_text()
    page.get_by_label(t.t("console.code.label")).fill(real_code(secret))
    page.get_by_role("button", name=t.t("console.enrol.submit")).click()
    expect(page).to_have_url(re.compile(r"/console/directory$"))
    return secret


@pytest.mark.parametrize("lang", ["en", "es"])
def test_first_admin_site_colleague_and_a_reset_second_factor(
    browser: Browser, server: tuple[str, str], lang: str
) -> None:
    base, link = server
    t = CATALOGS.bind(lang)
    admin = _context(browser, base).new_page()

    # The first admin, from the printed link.
    admin.goto(link)
    choose_language(admin, lang)
    if lang == "en":
        no_violations(admin)
    set_password(admin, t, ADMIN_PASSWORD, email=ADMIN)
    enrol(admin, t)

    # A site with its keyword and number (the code entered at sign-in is still fresh).
    admin.get_by_role("link", name=t.t("console.nav.sites")).click()
    admin.locator("#f-id").fill("harbor")
    admin.locator("#f-name_en").fill("Harbor Health Line")
    admin.locator("#f-name_es").fill("Línea de Salud Harbor")
    admin.locator("#f-time_zone").fill("America/New_York")
    admin.locator("#f-numbers").fill("+15555550133")
    admin.locator("#f-keywords").fill("HARBOR")
    admin.get_by_role("button", name=t.t("console.service.save")).click()
    expect(admin).to_have_url(re.compile(r"/console/sites\?site=harbor$"))
    expect(admin.get_by_role("heading", name="harbor")).to_be_visible()

    # A colleague at that site; the page shows her one-time link.
    admin.get_by_role("link", name=t.t("console.nav.accounts")).click()
    admin.get_by_label(t.t("console.signin.email")).fill(COLLEAGUE)
    admin.get_by_label(t.t("console.accounts.role")).select_option("site")
    admin.get_by_label(t.t("console.accounts.site")).select_option("harbor")
    admin.get_by_role("button", name=t.t("console.accounts.add_submit")).click()
    invitation = admin.get_by_label(t.t("console.accounts.link")).input_value()
    assert invitation.startswith(base + "/console/setup/")
    if lang == "en":
        no_violations(admin)

    # She sets her own password and enrols.
    colleague_context = _context(browser, base)
    colleague = colleague_context.new_page()
    colleague.goto(invitation)
    choose_language(colleague, lang)
    set_password(colleague, t, COLLEAGUE_PASSWORD)
    first_secret = enrol(colleague, t)

    # Her phone is lost: the admin resets her second factor.
    admin.reload()
    reset = t.t("console.accounts.reset_factor_of", email=COLLEAGUE)
    admin.get_by_role("button", name=reset).click()
    row = admin.get_by_role("row", name=COLLEAGUE)
    expect(row).to_contain_text(t.t("console.accounts.factor_none"))
    expect(admin.get_by_role("button", name=reset)).to_have_count(0)

    # Her session ended; at her next sign-in she enrols a new phone.
    colleague.goto("/console/directory")
    expect(colleague.get_by_role("heading", name=t.t("console.signin.title"))).to_be_visible()
    colleague.get_by_label(t.t("console.signin.email")).fill(COLLEAGUE)
    colleague.get_by_label(t.t("console.signin.password")).fill(COLLEAGUE_PASSWORD)
    colleague.get_by_role("button", name=t.t("console.signin.next")).click()
    assert enrol(colleague, t) != first_secret

    # The audit log names each step.
    admin.get_by_role("link", name=t.t("console.nav.audit")).click()
    for action in ("first_admin_set_up", "site_added", "account_added", "second_factor_reset"):
        expect(admin.get_by_text(t.t(f"console.audit.action.{action}")).first).to_be_visible()
    colleague_context.close()
    admin.context.close()
