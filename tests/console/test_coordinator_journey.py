"""A clinic coordinator runs the line from a fresh ``make run`` with no shell after it, in real
headless Chromium against a real ``hotline-bridge serve``: from the link the server printed
they set up the first admin, create a site with its keyword and number, add a colleague (who
sets her password and enrols in her own browser), upload the services template (nothing is
retired unless they choose), edit a service, change a number that waits for the colleague (the
kiosk keeps the old number until she approves it), print wallet cards, and reset her second
factor; in English and in Spanish, chosen in the console. Every word checked is read from the
catalogs, and axe-core checks each page the walk meets.

The server runs on the real clock, so one-time codes are made on the real clock too.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import pyotp
import pypdf
import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hotline_bridge.directory.models import display_number
from hotline_bridge.engine.catalogs import Catalogs, Words
from hotline_bridge.settings import PROJECT_ROOT
from tests.conftest import SENDER, server_env, sign
from tests.console.accounts_helpers import first_account_url, served
from tests.console.test_console_browser import no_violations, shot

ADMIN, COLLEAGUE = "coordinator@riverside.example", "nurse@riverside.example"
ADMIN_PASSWORD = "maple river copper window"
COLLEAGUE_PASSWORD = "quiet garden seven lamps"
CATALOGS = Catalogs(PROJECT_ROOT / "locales")
EXAMPLES = PROJECT_ROOT / "examples"
# The demo clinic `make run` loads, one of its services, and that service's numbers.
CLINIC, SERVICE = "demo-clinic", "demo-legal-aid"
OLD_NUMBER, NEW_NUMBER = "+16175550101", "+16175550188"
# The number of the site the coordinator creates.
HARBOR_NUMBER = "+15555550133"
# Seconds a code of the step before the current one is still worth sending: the server must
# see it while its clock is still in this step.
MARGIN = 5


class Codes:
    """An authenticator app: the next unused code of a secret, on the real clock.

    The server takes a code of this 30-second step or of either neighbour, each step once; so
    a person who needs several codes in a row uses the neighbours before waiting for a new
    one."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def next(self, secret: str) -> str | float:
        """Return the next code the server takes now, or (when every such code was used) the
        real time at which the app shows a new one."""
        totp = pyotp.TOTP(secret)
        now = _real_time()
        step = int(now // totp.interval)
        left = totp.interval - now % totp.interval
        earliest = step - 1 if left > MARGIN else step
        chosen = max(earliest, self.last.get(secret, earliest - 1) + 1)
        if chosen > step + 1:
            return float((step + 1) * totp.interval)
        self.last[secret] = chosen
        return totp.generate_otp(chosen)


def _real_time() -> float:
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


def _make_run_import(database: Path) -> None:
    """Load the demo as ``make run`` does, before the server starts."""
    env = server_env(database, HOTLINE_BRIDGE_LOCAL="1")
    for name in ("sites.csv", "services.csv"):
        command = [sys.executable, "-m", "hotline_bridge.cli", "import", "--if-empty"]
        command.append(str(EXAMPLES / "demo" / name))
        subprocess.run(command, env=env, check=True, capture_output=True, cwd=PROJECT_ROOT)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``make run`` on a fresh database; yields its address and the first-account link."""
    database = tmp_path / "fresh.db"
    _make_run_import(database)
    local = {"HOTLINE_BRIDGE_LOCAL": "1", "HOTLINE_BRIDGE_VALIDATE_SIGNATURES": "0"}
    with served(database, **local) as (base, printed):
        yield base, first_account_url(printed)


class Person:
    """Someone at the console in their own browser, with their authenticator app."""

    def __init__(self, who: str, browser: Browser, base: str, t: Words, codes: Codes) -> None:
        self.context: BrowserContext = browser.new_context(
            viewport={"width": 1100, "height": 800}, base_url=base, accept_downloads=True
        )
        self.page: Page = self.context.new_page()
        self.who, self.t, self.codes = who, t, codes
        self.secret = ""
        self.seen: set[str] = set()

    def sees(self, key: str, role: str = "heading", **params: object) -> None:
        """Expect the element of ``role`` named by the catalog's ``key`` in the person's
        language."""
        name = self.t.t(key, **params)
        expect(self.page.get_by_role(role, name=name).first).to_be_visible()  # type: ignore[arg-type]

    def checked(self, name: str) -> None:
        """Run axe-core on a page the walk meets for the first time; keep a screenshot."""
        self.page.wait_for_load_state("load")
        expect(self.page.locator("html")).to_have_attribute("lang", self.t.lang)
        if name not in self.seen:
            self.seen.add(name)
            no_violations(self.page)
            shot(self.page, f"journey-{self.who}-{name}-{self.t.lang}")

    def click(self, key: str, role: str = "button", **params: object) -> None:
        self.page.get_by_role(role, name=self.t.t(key, **params)).click()  # type: ignore[arg-type]

    def nav(self, key: str) -> None:
        nav = self.page.get_by_role("navigation")
        nav.get_by_role("link", name=self.t.t(key), exact=True).click()

    def code(self) -> str:
        """Read the next code from the app, waiting (as a person would) for a new one when
        every code the server would take now was used."""
        code = self.codes.next(self.secret)
        if isinstance(code, float):
            later = "at => Date.now() >= at"
            self.page.wait_for_function(later, arg=code * 1000, polling=250, timeout=35_000)
            code = self.codes.next(self.secret)
        assert isinstance(code, str)
        return code

    def choose_language(self) -> None:
        """Switch the console to the person's language with its own button (from English)."""
        if self.t.lang != "en":
            english = CATALOGS.bind("en")
            button = english.t(f"console.language.{self.t.lang}")
            self.page.get_by_role("button", name=button).click()
            expect(self.page.locator("html")).to_have_attribute("lang", self.t.lang)

    def set_password(self, password: str, email: str | None = None) -> None:
        self.sees("console.setup.title")
        self.checked("setup")
        if email:
            self.page.get_by_label(self.t.t("console.signin.email")).fill(email)
        self.page.get_by_label(self.t.t("console.password.new"), exact=True).fill(password)
        self.page.get_by_label(self.t.t("console.password.again")).fill(password)
        self.click("console.setup.submit")

    def enrol(self) -> str:
        """Enrol one-time codes on the page shown; return the secret."""
        self.sees("console.enrol.title")
        self.checked("enrol")
        self.secret = self.page.locator("code.secret").inner_text()
        self.page.get_by_label(self.t.t("console.code.label")).fill(self.code())
        self.click("console.enrol.submit")
        expect(self.page).to_have_url(re.compile(r"/console/directory"))
        self.sees("console.directory.title")
        return self.secret

    def sign_in(self, email: str, password: str) -> None:
        self.sees("console.signin.title")
        self.checked("sign-in")
        self.page.get_by_label(self.t.t("console.signin.email")).fill(email)
        self.page.get_by_label(self.t.t("console.signin.password")).fill(password)
        self.click("console.signin.next")


def set_up_first_admin(admin: Person, link: str) -> None:
    admin.page.goto(link)
    admin.choose_language()
    admin.set_password(ADMIN_PASSWORD, email=ADMIN)
    admin.enrol()
    admin.checked("directory")


def create_site(admin: Person, base: str) -> None:
    admin.nav("console.nav.sites")
    admin.sees("console.sites.title")
    admin.checked("sites")
    page = admin.page
    page.locator("#f-id").fill("harbor")
    page.locator("#f-name_en").fill("Harbor Health Line")
    page.locator("#f-name_es").fill("Línea de Salud Harbor")
    page.locator("#f-time_zone").fill("America/New_York")
    page.locator("#f-numbers").fill(HARBOR_NUMBER)
    page.locator("#f-keywords").fill("HARBOR")
    admin.click("console.service.save")
    expect(page).to_have_url(re.compile(r"/console/sites\?site=harbor$"))
    expect(page.get_by_role("heading", name="harbor")).to_be_visible()
    # The line answers the site's keyword at its number, in the site's name.
    reply = text_the_line(base, HARBOR_NUMBER, "HARBOR")
    assert reply.startswith("Harbor Health Line\n"), reply


def text_the_line(base: str, to: str, body: str) -> str:
    """Text ``body`` to the line's number ``to`` as Twilio would post it (signed); return the
    reply's text."""
    params = {
        "Body": body,
        "From": SENDER,
        "To": to,
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": "AC" + "0" * 32,
        "NumMedia": "0",
    }
    request = urllib.request.Request(
        base + "/sms",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": sign(base + "/sms", params)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        reply = ElementTree.fromstring(response.read())
    return "\n".join(m.text or "" for m in reply.iter("Message"))


def add_colleague(admin: Person, colleague: Person) -> None:
    """The admin adds her at the demo clinic; she sets her password and enrols from her link."""
    admin.nav("console.nav.accounts")
    admin.sees("console.accounts.title")
    admin.checked("accounts")
    t, page = admin.t, admin.page
    page.get_by_label(t.t("console.signin.email")).fill(COLLEAGUE)
    page.get_by_label(t.t("console.accounts.role")).select_option("site")
    page.get_by_label(t.t("console.accounts.site")).select_option(CLINIC)
    admin.click("console.accounts.add_submit")
    invitation = page.get_by_label(t.t("console.accounts.link")).input_value()
    admin.checked("accounts-link")
    colleague.page.goto(invitation)
    colleague.choose_language()
    colleague.set_password(COLLEAGUE_PASSWORD)
    colleague.enrol()


def upload_template(admin: Person) -> None:
    """The template adds one service; the clinic's ten others stay unless the admin says the
    file is the whole directory, which she does not."""
    t, page = admin.t, admin.page
    admin.nav("console.nav.directory")
    page.get_by_label(t.t("console.directory.site")).select_option(CLINIC)
    admin.click("console.directory.filter")
    rows = page.get_by_role("table", name=t.t("console.directory.local", n=10)).locator("tbody tr")
    expect(rows).to_have_count(10)
    admin.nav("console.nav.upload")
    admin.sees("console.upload.title")
    admin.checked("upload")
    page.get_by_label(t.t("console.directory.site")).select_option(CLINIC)
    file = EXAMPLES / "services-template.csv"
    page.get_by_label(t.t("console.upload.file"), exact=True).set_input_files(str(file))
    admin.click("console.upload.check")
    admin.sees("console.upload.preview")
    summary = page.locator("ul.summary")
    expect(summary).to_contain_text(t.t("console.upload.added", n=1))
    expect(summary).to_contain_text(t.t("console.upload.unlisted", n=10))
    admin.sees("console.upload.unlisted_list")
    whole = page.get_by_label(t.t("console.upload.whole", n=10))
    expect(whole).not_to_be_checked()
    admin.checked("upload-preview")
    page.get_by_label(t.t("console.code.label")).fill(admin.code())
    admin.click("console.upload.apply")
    expect(page).to_have_url(re.compile(rf"/console/directory\?site={CLINIC}"))
    # Nothing retired: the clinic's ten are still listed, with the new one held.
    listed = t.t("console.directory.local", n=11)
    expect(page.get_by_role("table", name=listed).locator("tbody tr")).to_have_count(11)
    expect(page.get_by_role("row", name=re.compile("my-legal-aid"))).to_contain_text(
        t.t("console.directory.held")
    )
    expect(page.get_by_role("heading", name=t.t("console.directory.retired"))).to_have_count(0)


def edit_service(admin: Person) -> None:
    t, page = admin.t, admin.page
    admin.click("console.action.edit", role="link", name=SERVICE)
    admin.sees("console.service.edit")
    admin.checked("edit")
    page.get_by_label(t.t("console.field.name_en")).fill("Riverside Legal Clinic (example)")
    admin.click("console.service.save")
    expect(page.get_by_role("row", name=re.compile("Riverside Legal Clinic"))).to_be_visible()


def change_number(admin: Person) -> None:
    t, page = admin.t, admin.page
    admin.click("console.action.edit", role="link", name=SERVICE)
    page.get_by_label(t.t("console.field.phone"), exact=True).fill(NEW_NUMBER)
    admin.click("console.service.save")
    admin.sees("console.numbers.title")
    admin.checked("confirm-number")
    page.get_by_label(t.t("console.code.label")).fill(admin.code())
    admin.click("console.numbers.submit")
    admin.nav("console.nav.approvals")
    admin.sees("console.approvals.title")
    admin.checked("approvals")
    row = page.get_by_role("row", name=re.compile(SERVICE))
    expect(row).to_contain_text(t.t("console.approvals.own"))


def kiosk_shows(page: Page, number: str, not_yet: str) -> None:
    """The number people get for the service at the clinic's kiosk is ``number``, not
    ``not_yet``."""
    page.goto(f"/kiosk/{CLINIC}/en/service:{SERVICE}~legal")
    card = page.locator("main")
    expect(card).to_contain_text(display_number(number))
    expect(card).not_to_contain_text(display_number(not_yet))


def approve(colleague: Person) -> None:
    colleague.nav("console.nav.approvals")
    colleague.sees("console.approvals.title")
    colleague.checked("approvals")
    colleague.click("console.approvals.approve_named", name=SERVICE)
    waiting = colleague.page.get_by_role("row", name=re.compile(rf"^{re.escape(SERVICE)} \("))
    expect(waiting).to_have_count(0)


def print_wallet_cards(admin: Person) -> None:
    t, page = admin.t, admin.page
    admin.nav("console.nav.print")
    admin.sees("console.print.title")
    page.get_by_label(t.t("console.print.site")).select_option(CLINIC)
    page.get_by_role("radio", name=t.t("console.print.kind.wallet")).check()
    admin.click("console.print.show")
    preview = page.locator("img.print-preview")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    admin.checked("print")
    with page.expect_download() as started:
        admin.click("console.print.download")
    assert started.value.suggested_filename.startswith(f"{CLINIC}-wallet")
    assert started.value.suggested_filename.endswith(".pdf")
    document = Path(started.value.path()).read_bytes()
    assert document.startswith(b"%PDF")
    assert len(pypdf.PdfReader(BytesIO(document)).pages) >= 1


def reset_second_factor(admin: Person, colleague: Person) -> None:
    t, page = admin.t, admin.page
    admin.nav("console.nav.accounts")
    reset = t.t("console.accounts.reset_factor_of", email=COLLEAGUE)
    page.get_by_role("button", name=reset).click()
    expect(page.get_by_role("row", name=COLLEAGUE)).to_contain_text(
        t.t("console.accounts.factor_none")
    )
    first_secret = colleague.secret
    colleague.page.goto("/console/directory")
    colleague.sign_in(COLLEAGUE, COLLEAGUE_PASSWORD)
    assert colleague.enrol() != first_secret


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_coordinator_runs_the_line_from_a_fresh_make_run(
    browser: Browser, server: tuple[str, str], lang: str
) -> None:
    base, link = server
    t, codes = CATALOGS.bind(lang), Codes()
    admin = Person("coordinator", browser, base, t, codes)
    colleague = Person("colleague", browser, base, t, codes)
    public = browser.new_context(base_url=base).new_page()

    set_up_first_admin(admin, link)
    create_site(admin, base)
    add_colleague(admin, colleague)
    upload_template(admin)
    edit_service(admin)
    kiosk_shows(public, OLD_NUMBER, not_yet=NEW_NUMBER)
    change_number(admin)
    kiosk_shows(public, OLD_NUMBER, not_yet=NEW_NUMBER)
    approve(colleague)
    kiosk_shows(public, NEW_NUMBER, not_yet=OLD_NUMBER)
    print_wallet_cards(admin)
    reset_second_factor(admin, colleague)

    admin.nav("console.nav.audit")
    admin.sees("console.audit.title")
    admin.checked("audit")
    for action in (
        "first_admin_set_up",
        "site_added",
        "account_added",
        "number_change_requested",
        "number_change_approved",
        "printed",
        "service_added",
        "service_changed",
        "second_factor_reset",
    ):
        expect(admin.page.get_by_text(t.t(f"console.audit.action.{action}")).first).to_be_visible()
    for person in (admin, colleague):
        person.context.close()
    public.context.close()
