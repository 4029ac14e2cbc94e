"""The lobby kiosk in real headless Chromium: moving around, quick exit, idle reset, privacy,
and looking up help by ZIP code. How every page looks at each screen size, and axe-core's
verdict on it, are in test_kiosk_layout.py.

The browser is Debian's Chromium, driven by Playwright. If it cannot be launched these tests fail;
they never skip.
"""

from __future__ import annotations

import gc
import re
import socket
import struct
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from hotline_bridge import create_app
from hotline_bridge.directory.models import display_number
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import LANGUAGES, Words
from tests.channels.kiosk.test_kiosk import (
    EMERGENCY,
    EXAMPLE,
    HOTLINE,
    PAGE_KINDS,
    TEXTABLE,
    corrupt,
    seed_kiosk,
)
from tests.channels.kiosk.test_kiosk_zip import LABELS, zip_directory
from tests.directory.test_import import EXAMPLES, GOOD, run


def closed_before_sending(app: WSGIApplication) -> WSGIApplication:
    """Wrap ``app`` so that each response is read whole and closed before the server sends it.

    Werkzeug's development server closes a response only after it has drained the socket, and
    skips the close when the browser has already dropped the connection (a page left mid-load).
    A static file's handle is then left for the garbage collector, whose ResourceWarning lands,
    as an error, on whichever test is running at the time. Pages here are small, so nothing is
    lost by sending each one whole.
    """

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


class Server:
    """The app served on a free loopback port from a thread, for the length of the session."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http: BaseWSGIServer = make_server(
            "127.0.0.1", 0, closed_before_sending(app), threaded=True
        )
        self.base = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def words(self, lang: str) -> Words:
        return self.app.extensions["hotline_bridge"].catalogs.bind(lang)

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join()


def _serve(tmp: Path, **config: Any) -> Server:
    app = create_app({"TESTING": True, "DATABASE": str(tmp / "hotline.db"), **config})
    seed_kiosk(app.config["DATABASE"])
    return Server(app)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = _serve(tmp_path_factory.mktemp("kiosk"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def quick_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A kiosk that resets after one idle second, with a 2-second countdown (tests only)."""
    running = _serve(
        tmp_path_factory.mktemp("kiosk-idle"), KIOSK_IDLE_SECONDS=1, KIOSK_COUNTDOWN_SECONDS=2
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def waiting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A kiosk that offers more time after one idle second and then waits a full minute, so
    the offer can be looked at without the page resetting underneath (tests only)."""
    running = _serve(
        tmp_path_factory.mktemp("kiosk-wait"), KIOSK_IDLE_SECONDS=1, KIOSK_COUNTDOWN_SECONDS=60
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A kiosk whose database was ruined after start-up."""
    running = _serve(tmp_path_factory.mktemp("kiosk-broken"))
    corrupt(running.app.config["DATABASE"])
    yield running
    running.stop()


def test_a_browser_that_drops_the_connection_leaves_no_file_open(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page left mid-load (the connection reset) must not leave a static file for the garbage
    collector: its ResourceWarning would fail whichever browser test runs then."""
    unclosed: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unclosed.append(repr(u.exc_value)))
    # Closing with a zero linger time resets the connection instead of ending it politely.
    reset = struct.pack("ii", 1, 0)
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", server.http.server_port)) as conn:
            conn.sendall(b"GET /kiosk/static/icon.svg HTTP/1.1\r\nHost: kiosk\r\n\r\n")
            conn.recv(16)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset)
    # A request served after the resets is one the server's thread finished after them.
    with socket.create_connection(("127.0.0.1", server.http.server_port)) as conn:
        conn.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        assert conn.recv(16).startswith(b"HTTP/1.")
    gc.collect()
    assert unclosed == []


class Watched:
    """A page in a fresh context, with every request and console error it produced."""

    def __init__(self, browser: Browser, width: int = 1080, height: int = 1920) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    session = Watched(browser)
    yield session
    session.context.close()


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page


@pytest.fixture
def tablet_page(browser: Browser) -> Iterator[Page]:
    """A page on a 768x1024 tablet, whose results page holds the flow's three services (a
    taller screen holds more: test_kiosk_room.py)."""
    session = Watched(browser, 768, 1024)
    yield session.page
    session.context.close()


def tap(page: Page, label: str) -> None:
    """Touch the button or link named ``label`` and wait for the next page."""
    with page.expect_navigation():
        page.get_by_role("link", name=label, exact=True).click()


def heading(page: Page) -> str:
    return page.locator("h1").inner_text()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_moving_through_every_page_kind(server: Server, page: Page, lang: str) -> None:
    w = server.words(lang)
    page.goto(f"{server.base}/kiosk/default/{lang}")
    entries = page.evaluate("history.length")
    assert page.get_attribute("html", "lang") == lang
    assert heading(page) == w.t("program.name")
    tap(page, w.t("option.local"))
    assert heading(page) == w.t("menu.needs")
    tap(page, w.t("option.legal"))
    assert heading(page) == w.t("list.legal").rstrip(" :")
    tap(page, EXAMPLE[f"label_{lang}"])
    assert heading(page) == EXAMPLE[f"name_{lang}"]
    expect(page.get_by_text(w.t("directory.fictional"))).to_be_visible()
    tap(page, w.t("kiosk.back"))
    assert heading(page) == w.t("list.legal").rstrip(" :")
    tap(page, w.t("kiosk.talk_now"))
    assert heading(page) == w.t("connect.talk").rstrip(" :")
    tap(page, w.t("option.other_lines"))
    assert heading(page) == w.t("list.lines").rstrip(" :")
    tap(page, w.t("kiosk.home"))
    tap(page, w.t("option.tips"))
    expect(page.get_by_text(w.t("kiosk.info.tips"))).to_be_visible()
    tap(page, w.t("kiosk.home"))
    tap(page, w.t("option.emergency"))
    assert heading(page) == w.t("connect.emergency")
    assert page.get_attribute("html", "lang") == lang
    # Every move replaced the page in history instead of adding to it.
    assert page.evaluate("history.length") == entries


def test_language_switch_keeps_the_place(server: Server, page: Page) -> None:
    page.goto(f"{server.base}/kiosk/default/en/service:example-legal~legal")
    tap(page, "Español")
    assert page.url == f"{server.base}/kiosk/default/es/service:example-legal~legal"
    assert page.get_attribute("html", "lang") == "es"
    assert heading(page) == EXAMPLE["name_es"]
    tap(page, "English")
    assert heading(page) == EXAMPLE["name_en"]


def test_keyboard_alone_moves_around_with_visible_focus(server: Server, page: Page) -> None:
    w = server.words("en")
    page.goto(f"{server.base}/kiosk/default/en")
    target = page.get_by_role("link", name=w.t("option.tips"), exact=True)
    for _ in range(20):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            break
    outline = target.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/kiosk/default/en/tips")


def _leave_by(page: Page, how: str, exit_label: str) -> None:
    if how == "button":
        page.get_by_role("link", name=exit_label, exact=True).click()
    elif how == "escape":
        page.keyboard.press("Escape")
    else:
        for _ in range(3):
            page.keyboard.press("Shift")


@pytest.mark.parametrize("how", ["button", "escape", "shift3"])
def test_quick_exit_leaves_no_kiosk_page_behind(server: Server, page: Page, how: str) -> None:
    w = server.words("en")
    before = f"{server.base}/welcome/default/es"  # a neutral page shown before the kiosk
    page.goto(before)
    page.goto(f"{server.base}/kiosk/default/en")
    tap(page, w.t("option.local"))
    tap(page, w.t("option.legal"))
    tap(page, EXAMPLE["label_en"])
    with page.expect_navigation():
        _leave_by(page, how, w.t("kiosk.exit"))
    assert page.url == f"{server.base}/welcome"
    assert heading(page) == w.t("kiosk.welcome_title")
    page.go_back()
    assert page.url == before
    assert EXAMPLE["label_en"] not in page.content()
    assert w.t("kiosk.exit") not in page.content()


def test_two_shift_presses_and_a_letter_do_not_exit(server: Server, page: Page) -> None:
    page.goto(f"{server.base}/kiosk/default/en/tips")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("a")
    page.keyboard.press("Shift")
    assert page.url.endswith("/kiosk/default/en/tips")
    assert heading(page)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_shift_press_is_shown_on_exit_and_announced_then_lapses(
    server: Server, page: Page, lang: str
) -> None:
    w = server.words(lang)
    page.clock.install()
    page.goto(f"{server.base}/kiosk/default/{lang}/tips")
    dots, status = page.locator("#exit-presses"), page.locator("#exit-status")
    expect(dots).to_be_hidden()
    page.keyboard.press("Shift")
    expect(dots).to_be_visible()
    expect(dots.locator(".press.on")).to_have_count(1)
    expect(status).to_have_text(w.t("kiosk.exit_shift_two"))
    assert status.get_attribute("aria-live") == "polite"
    page.keyboard.press("Shift")
    expect(dots.locator(".press.on")).to_have_count(2)
    expect(status).to_have_text(w.t("kiosk.exit_shift_one"))
    page.clock.run_for(5_000)  # the presses lapse, as GOV.UK's do
    expect(dots).to_be_hidden()
    expect(status).to_have_text(w.t("kiosk.exit_shift_expired"))
    page.keyboard.press("Shift")
    expect(dots.locator(".press.on")).to_have_count(1)
    assert page.url.endswith(f"/kiosk/default/{lang}/tips")


def test_exit_works_without_javascript(server: Server, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.base}/kiosk/default/es/service:nhth")
        with page.expect_navigation():
            page.get_by_role("link", name="Salir", exact=True).click()
        assert page.url == f"{server.base}/welcome/default/es"
        assert heading(page) == server.words("es").t("kiosk.welcome_title")
    finally:
        context.close()


def test_welcome_page_returns_to_the_kiosk_home_after_a_minute_without_a_touch(
    server: Server, page: Page
) -> None:
    before = f"{server.base}/kiosk/static/icon.svg"  # whatever the screen showed before
    page.clock.install()
    page.goto(before)
    page.goto(f"{server.base}/kiosk/default/es/service:example-legal~legal")
    with page.expect_navigation():
        page.keyboard.press("Escape")
    assert page.url == f"{server.base}/welcome/default/es"
    entries = page.evaluate("history.length")
    page.clock.run_for(50_000)
    page.mouse.click(5, 5)  # a touch starts the minute again
    page.clock.run_for(50_000)
    assert page.url == f"{server.base}/welcome/default/es"
    with page.expect_navigation():
        page.clock.run_for(11_000)
    assert page.url == f"{server.base}/kiosk/default"  # the default site's home
    assert heading(page) == server.words("en").t("program.name")
    assert page.get_attribute("html", "lang") == "en"  # the site's own language, as at rest
    assert page.evaluate("history.length") == entries
    page.go_back()  # nothing of the exit or of what was read is left behind
    assert page.url == before


def test_back_goes_one_level_up_and_is_never_main_menu(server: Server, page: Page) -> None:
    w = server.words("en")
    page.goto(f"{server.base}/kiosk/default/en")
    tap(page, w.t("option.local"))
    assert heading(page) == w.t("menu.needs")
    # One level below the main menu, Main menu alone leads up.
    expect(page.get_by_role("link", name=w.t("kiosk.back"), exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name=w.t("kiosk.home"), exact=True)).to_be_visible()
    tap(page, w.t("option.legal"))
    tap(page, EXAMPLE["label_en"])
    tap(page, w.t("kiosk.back"))
    assert heading(page) == w.t("list.legal").rstrip(" :")
    tap(page, w.t("kiosk.back"))
    assert heading(page) == w.t("menu.needs")
    tap(page, w.t("kiosk.home"))
    assert heading(page) == w.t("program.name")


def test_quick_exit_blanks_the_screen_before_the_next_page_arrives(
    server: Server, page: Page
) -> None:
    page.goto(f"{server.base}/kiosk/default/en/service:nhth")
    # Read the screen in the same turn as the key press, before any navigation can begin.
    with page.expect_navigation():
        left = page.evaluate(
            """() => {
                document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));
                return [document.body.childElementCount, document.body.innerText, document.title];
            }"""
        )
    assert left == [0, "", ""]
    assert page.url == f"{server.base}/welcome"


def test_page_restored_from_back_forward_cache_is_replaced(server: Server, page: Page) -> None:
    page.goto(f"{server.base}/kiosk/default/es/service:nhth")
    with page.expect_navigation():
        page.evaluate(
            "window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))"
        )
    assert page.url == f"{server.base}/welcome/default/es"


def test_idle_kiosk_counts_down_then_starts_over_in_the_sites_language(
    quick_server: Server, page: Page
) -> None:
    page.goto(f"{quick_server.base}/kiosk/default/es/legal")
    entries = page.evaluate("history.length")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text(quick_server.words("es").t("kiosk.idle_title"))
    page.wait_for_url(f"{quick_server.base}/kiosk/default/en", timeout=10_000)
    assert page.get_attribute("html", "lang") == "en"
    assert page.evaluate("history.length") == entries


def test_im_still_here_keeps_the_page(waiting_server: Server, page: Page) -> None:
    w = waiting_server.words("es")
    page.goto(f"{waiting_server.base}/kiosk/default/es/legal")
    stay = page.get_by_role("button", name=w.t("kiosk.idle_stay"))
    expect(stay).to_be_visible(timeout=10_000)
    expect(stay).to_be_focused()
    stay.click()
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    assert page.url == f"{waiting_server.base}/kiosk/default/es/legal"
    # The wait starts again: the offer comes back rather than the page resetting unasked.
    expect(stay).to_be_visible(timeout=10_000)


def _visit_everything(server: Server, page: Page) -> None:
    for lang in LANGUAGES:
        for path in PAGE_KINDS.values():
            page.goto(f"{server.base}/kiosk/default/{lang}{path}")
            page.wait_for_load_state("load")
    page.goto(f"{server.base}/welcome/default/es")


def test_no_cookies_or_storage_and_every_request_stays_on_the_server(
    server: Server, watched: Watched
) -> None:
    page = watched.page
    _visit_everything(server, page)
    page.goto(f"{server.base}/kiosk/default/en")
    tap(page, server.words("en").t("option.tips"))
    assert watched.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert watched.requests
    foreign = [url for url in watched.requests if not url.startswith(server.base + "/")]
    assert foreign == []
    assert watched.errors == []  # a blocked script, style or image would show here


def test_printed_slip_shows_only_the_discreet_label_and_numbers(server: Server, page: Page) -> None:
    page.goto(f"{server.base}/kiosk/default/en/service:ndvh")
    page.emulate_media(media="print")
    printed = page.locator("body").inner_text()
    lines = [line for line in re.split(r"\n+", printed) if line.strip()]
    number, keyword, text = (TEXTABLE[k] for k in ("voice", "sms_keyword", "sms_number"))
    assert lines == [
        TEXTABLE["discreet_label_en"],
        f"Call {display_number(number)}",
        f"Text {keyword} to {text}",
    ]
    page.emulate_media(media="screen")
    expect(page.get_by_role("button", name="Print the number")).to_be_visible()


def test_broken_database_still_shows_the_hotline_and_911(broken_server: Server, page: Page) -> None:
    w = broken_server.words("es")
    page.goto(f"{broken_server.base}/kiosk/default/es/service:nhth")
    expect(page.locator(".number")).to_have_text(display_number(HOTLINE["voice"]))
    expect(page.get_by_text(w.t("kiosk.emergency", number=EMERGENCY))).to_be_visible()
    with page.expect_navigation():
        page.keyboard.press("Escape")  # the way out works here too
    assert page.url == f"{broken_server.base}/welcome/default/es"


# --- Nearest by ZIP code ------------------------------------------------------------------------

# A ZIP code no service row holds, so finding it anywhere afterwards means it was kept; the demo
# directory has legal help near it.
PERSON_ZIP = "02140"
DEMO_LEGAL = {"en": "Legal help", "es": "Ayuda legal"}


@pytest.fixture(scope="session")
def zip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A kiosk with the demo directory and more legal help at known distances from 02139."""
    tmp = tmp_path_factory.mktemp("kiosk-zip")
    app = create_app({"TESTING": True, "DATABASE": str(tmp / "hotline.db")})
    for name in ("sites.csv", "services.csv"):
        assert run(app, "import", str(EXAMPLES / "demo" / name)).exit_code == 0
    with open_db(app) as db, db.conn:  # the demo is the demo clinic's; shown here as well
        db.execute(
            "insert into service_sites select id, 'default' from services where national = 0"
        )
    zip_directory(app, tmp)
    running = Server(app)
    yield running
    running.stop()


def type_on_keypad(page: Page, digits: str, search_label: str) -> None:
    """Touch the on-screen keys for ``digits``, then Search, and wait for the next page."""
    for digit in digits:
        page.get_by_role("button", name=digit, exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name=search_label, exact=True).click()


def open_first_result(page: Page) -> None:
    """Touch the first (nearest) result and wait for its detail page."""
    with page.expect_navigation():
        page.locator(".result").first.click()


def shown_miles(page: Page) -> list[float]:
    facts = page.locator(".result-facts").all_inner_texts()
    return [float(re.search(r"\d+\.\d", text)[0]) for text in facts]  # type: ignore[index]


@pytest.mark.clock
@pytest.mark.parametrize("lang", LANGUAGES)
def test_zip_typed_on_the_on_screen_keypad_shows_the_nearest_first(
    zip_server: Server, tablet_page: Page, lang: str
) -> None:
    page = tablet_page
    w = zip_server.words(lang)
    page.goto(f"{zip_server.base}/kiosk/default/{lang}")
    entries = page.evaluate("history.length")
    tap(page, w.t("option.local"))
    tap(page, w.t("zip.option"))
    assert heading(page) == w.t("kiosk.zip_title")
    zip_box = page.get_by_label(w.t("kiosk.zip_label"), exact=True)
    expect(zip_box).to_be_focused()
    for digit in "0219":
        page.get_by_role("button", name=digit, exact=True).click()
    page.get_by_role("button", name=w.t("kiosk.zip_delete"), exact=True).click()
    expect(zip_box).to_have_value("021")
    type_on_keypad(page, "39", w.t("kiosk.zip_search"))
    assert page.url == f"{zip_server.base}/kiosk/default/{lang}/nearby:02139"
    assert heading(page) == w.t("zip.kind")
    tap(page, w.t("option.legal"))
    assert heading(page) == w.t("list.legal").rstrip(" :")
    labels = page.locator(".result-label").all_inner_texts()
    assert labels[0] == DEMO_LEGAL[lang]  # the demo's legal aid, 0.2 miles from the centre
    assert labels[1] == LABELS[lang]["k-one"]
    miles = shown_miles(page)
    assert len(miles) == 3 and miles == sorted(miles) and miles[:2] == [0.2, 0.7]
    tap(page, w.t("kiosk.more"))
    more = shown_miles(page)
    assert len(more) == 3 and more == sorted(more) and more[0] >= miles[-1]
    phone = page.locator(".result-phone").first.inner_text()
    open_first_result(page)
    assert heading(page) == GOOD[f"name_{lang}"]  # page two holds only the services added
    expect(page.locator(".contacts dd").first).to_have_text(phone)
    tap(page, w.t("kiosk.back"))
    assert page.url.endswith("/nearby:02139.legal@1")
    assert page.evaluate("history.length") == entries


@pytest.mark.clock
def test_zip_typed_on_the_keyboard_from_a_list_page(zip_server: Server, page: Page) -> None:
    w = zip_server.words("es")
    page.goto(f"{zip_server.base}/kiosk/default/es/legal")
    entries = page.evaluate("history.length")
    tap(page, w.t("kiosk.zip_list"))
    page.keyboard.type("02a1")  # letters never reach the box
    zip_box = page.get_by_label(w.t("kiosk.zip_label"), exact=True)
    expect(zip_box).to_have_value("021")
    # Typing still lands in the box when a key of the keypad has the focus.
    page.get_by_role("button", name="3", exact=True).click()
    page.keyboard.press("Backspace")
    page.keyboard.type("397")
    expect(zip_box).to_have_value("02139")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{zip_server.base}/kiosk/default/es/nearby:02139.legal"
    assert page.locator(".result-label").first.inner_text() == DEMO_LEGAL["es"]
    open_all_day = page.locator(".result", has_text=LABELS["es"]["k-one"])
    expect(open_all_day).to_contain_text(w.t("kiosk.zip_open"))
    assert page.evaluate("history.length") == entries


def test_a_short_zip_asks_for_five_digits_without_leaving(zip_server: Server, page: Page) -> None:
    w = zip_server.words("en")
    page.goto(f"{zip_server.base}/kiosk/default/en/nearby")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.keyboard.type("021")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(w.t("kiosk.zip.digits"))
    page.get_by_role("button", name=w.t("kiosk.zip_search"), exact=True).click()
    expect(page.get_by_role("status")).to_be_visible()
    assert page.url == f"{zip_server.base}/kiosk/default/en/nearby"
    # A part of a ZIP code never leaves the screen.
    assert [url for url in requests if "/static/" not in url] == []


def test_an_unknown_zip_shows_the_message_and_the_keypad_again(
    zip_server: Server, page: Page
) -> None:
    w = zip_server.words("en")
    page.goto(f"{zip_server.base}/kiosk/default/en/nearby:.housing")
    type_on_keypad(page, "00000", w.t("kiosk.zip_search"))
    expect(page.get_by_text(w.t("kiosk.zip.unknown"))).to_be_visible()
    expect(page.get_by_label(w.t("kiosk.zip_label"), exact=True)).to_have_value("")
    type_on_keypad(page, "02139", w.t("kiosk.zip_search"))
    assert page.url.endswith("/kiosk/default/en/nearby:02139.housing")


@pytest.mark.clock
def test_language_switch_on_the_results_keeps_the_place(zip_server: Server, page: Page) -> None:
    page.goto(f"{zip_server.base}/kiosk/default/en/nearby:02139.legal@1")
    english = [href.split("?")[0][-12:] for href in _result_links(page)]
    tap(page, "Español")
    assert page.url == f"{zip_server.base}/kiosk/default/es/nearby:02139.legal@1"
    assert page.get_attribute("html", "lang") == "es"
    assert [href.split("?")[0][-12:] for href in _result_links(page)] == english
    assert len(english) == 3


def _result_links(page: Page) -> list[str]:
    return page.locator(".result").evaluate_all("links => links.map(a => a.href)")


@pytest.mark.clock
@pytest.mark.parametrize("how", ["button", "escape", "shift3"])
def test_quick_exit_from_the_results_leaves_nothing_in_back(
    zip_server: Server, page: Page, how: str
) -> None:
    w = zip_server.words("en")
    before = f"{zip_server.base}/welcome/default/es"
    page.goto(before)
    page.goto(f"{zip_server.base}/kiosk/default/en/legal")
    tap(page, w.t("kiosk.zip_list"))
    type_on_keypad(page, "02139", w.t("kiosk.zip_search"))
    assert page.locator(".result").count() >= 3
    with page.expect_navigation():
        _leave_by(page, how, w.t("kiosk.exit"))
    assert page.url == f"{zip_server.base}/welcome"
    page.go_back()
    assert page.url == before
    assert "02139" not in page.content()
    assert w.t("kiosk.exit") not in page.content()


def test_escape_leaves_even_while_typing_a_zip(zip_server: Server, page: Page) -> None:
    page.goto(f"{zip_server.base}/kiosk/default/es/nearby")
    page.keyboard.type("021")
    with page.expect_navigation():
        page.keyboard.press("Escape")
    assert page.url == f"{zip_server.base}/welcome/default/es"


def test_idle_keypad_starts_over(quick_server: Server, page: Page) -> None:
    page.goto(f"{quick_server.base}/kiosk/default/es/nearby~legal")
    page.keyboard.type("021")
    expect(page.get_by_role("alertdialog")).to_be_visible(timeout=10_000)
    page.wait_for_url(f"{quick_server.base}/kiosk/default/en", timeout=10_000)


@pytest.mark.clock
def test_a_zip_lookup_keeps_no_cookie_storage_or_foreign_request(
    zip_server: Server, watched: Watched
) -> None:
    page = watched.page
    w = zip_server.words("es")
    page.goto(f"{zip_server.base}/kiosk/default/es/needs")
    tap(page, w.t("zip.option"))
    type_on_keypad(page, PERSON_ZIP, w.t("kiosk.zip_search"))
    tap(page, w.t("option.mental_health"))
    open_first_result(page)
    assert watched.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert watched.requests
    foreign = [url for url in watched.requests if not url.startswith(zip_server.base + "/")]
    assert foreign == []
    assert watched.errors == []


@pytest.mark.clock
def test_no_zip_code_is_kept_in_the_database_files_or_logs_after_a_lookup(
    zip_server: Server, page: Page, captured_logs: pytest.LogCaptureFixture
) -> None:
    w = zip_server.words("en")
    page.goto(f"{zip_server.base}/kiosk/default/en/legal")
    tap(page, w.t("kiosk.zip_list"))
    type_on_keypad(page, PERSON_ZIP, w.t("kiosk.zip_search"))
    assert page.url.endswith(f"/nearby:{PERSON_ZIP}.legal")  # only in the screen's address
    open_first_result(page)
    page.goto(f"{zip_server.base}/welcome")
    # The server logged each request, with the ZIP code hidden.
    lines = [r.getMessage() for r in captured_logs.records if r.name == "werkzeug"]
    assert any("/nearby:[redacted].legal" in line for line in lines), lines
    assert all(PERSON_ZIP not in record.getMessage() for record in captured_logs.records)
    folder = Path(zip_server.app.config["DATABASE"]).parent
    for path in folder.rglob("*"):
        if path.is_file():
            assert PERSON_ZIP.encode() not in path.read_bytes(), path
