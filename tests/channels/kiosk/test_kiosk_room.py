"""Every control, QR code and number of every kiosk page is there to be touched or read as the
page opens, at each screen size a kiosk runs on and in both languages, with the demo directory
that ``make run`` serves; and a list holds as many entries as its screen has room for.

"There as the page opens" means: within the page's width and, before any scrolling, wholly
between the bar and the dock, never under either (a person does not know there is more below a
dock that stays put). One browser, one context per screen size, one page reused for every page
kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from hotline_bridge import create_app
from hotline_bridge.channels.kiosk import room
from hotline_bridge.directory.store import connect, write_services
from hotline_bridge.engine.catalogs import LANGUAGES
from tests.channels.kiosk.test_kiosk_browser import Server
from tests.directory.test_import import EXAMPLES, run

# Phones held sideways, and the entries a list page holds on each: a small Android phone, a
# larger one, an iPhone 12 to 14, the largest (an iPhone Pro Max), and what the small one really
# shows once its browser's address bar and the system's bars take their share (one row of three).
SIDEWAYS_ENTRIES = {(640, 360): 4, (740, 360): 4, (844, 390): 4, (932, 430): 6, (640, 300): 3}
SIDEWAYS = list(SIDEWAYS_ENTRIES)
VERY_SHORT_SIDEWAYS = (640, 300)
SIZES = [
    (1080, 1920),
    (1920, 1080),
    (1280, 800),
    (768, 1024),
    (390, 844),
    (360, 740),
    (375, 667),
    (360, 640),
    # What a 360x640 phone really shows a page: its browser's address bar and the system's
    # bars take 80 pixels of the height.
    (360, 560),
    # Phones held sideways.
    *SIDEWAYS,
]
PHONE = (390, 844)
SMALLEST_PHONE = (360, 640)
VERY_SHORT_PHONE = (360, 560)
SITE = "demo-clinic"  # the demo directory's clinic
# Legal desks added to the demo's two, so that the legal list has pages at every size.
EXTRA_LEGAL = 13
# The first desk's number has an extension, dialled after a pause.
EXTENSION = "100"
# A service whose description runs to several lines on a phone, added to the demo clinic.
LONG = "long-description"
# A service with every way to reach it: a phone with an extension, a separate number to text,
# a TTY, hours and an address, added to the demo clinic.
REACHABLE = "every-way"

# Every kind of page, where it is shown (``{lang}`` filled in), at the moment of the suite's
# clock that does not matter to it.
PAGES = {
    "home": "/kiosk/{site}/{lang}",
    "menu": "/kiosk/{site}/{lang}/needs",
    "list": "/kiosk/{site}/{lang}/legal",
    "list-next": "/kiosk/{site}/{lang}/legal@1",
    "lines": "/kiosk/{site}/{lang}/lines",
    "detail": "/kiosk/{site}/{lang}/service:demo-legal-aid~legal",
    "long-description": "/kiosk/{site}/{lang}/service:long-description~immigration",
    "textable": "/kiosk/{site}/{lang}/service:ndvh~lines",
    "connect": "/kiosk/{site}/{lang}/talk",
    "emergency": "/kiosk/{site}/{lang}/emergency",
    "info": "/kiosk/{site}/{lang}/tips",
    "keypad": "/kiosk/{site}/{lang}/nearby:.legal",
    "kinds": "/kiosk/{site}/{lang}/nearby:02139",
    "nothing-near": "/kiosk/{site}/{lang}/nearby:99501.youth",
    "welcome": "/welcome/{site}/{lang}",
    "failsafe": "/kiosk/no-such-place/{lang}",
}
# A service reached every way the kiosk shows (a phone, a number to text, a TTY, hours, an address).
EVERY_WAY = {"every-way": f"/kiosk/{{site}}/{{lang}}/service:{REACHABLE}~immigration"}
# Results say which places are open now: they are checked at both moments of the suite's clock.
RESULTS = {
    "results": "/kiosk/{site}/{lang}/nearby:02139.legal",
    # Previous, More and Another ZIP code under them.
    "results-next": "/kiosk/{site}/{lang}/nearby:02139.legal@1",
}
# "Are you still there?", on a kiosk that asks after one idle second.
IDLE = {"idle": "/kiosk/{site}/{lang}/needs"}

# Each control, code and number, where the page shows it before any scrolling: wholly between
# the bar and the dock (or, in the bar and dock themselves, on screen). What is found under the
# dock, under the bar, off screen or off the side of the page is returned as [what, why].
AT_REST = """
() => {
  scrollTo(0, 0);
  const W = innerWidth, H = innerHeight, doc = document.documentElement;
  const bar = document.querySelector(".bar"), dock = document.querySelector(".dock");
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && !el.closest(".hidden-text, [hidden], .slip")
      && getComputedStyle(el).visibility !== "hidden";
  };
  const name = (el) => (el.innerText || el.getAttribute("aria-label") || el.name
    || el.className || el.tagName).trim().replace(/\\s+/g, " ").slice(0, 40);
  const top = bar ? bar.getBoundingClientRect().bottom : 0;
  const bottom = dock ? dock.getBoundingClientRect().top : H;
  const found = [];
  if (doc.scrollWidth > W + 0.5) found.push(["page", `scrolls sideways (${doc.scrollWidth})`]);
  // "Are you still there?" covers the page, dock and all: only its own button counts then.
  const overlay = document.querySelector(".idle:not([hidden])");
  const items = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, .qr-box, .contacts dd")]
    .filter(shown).filter((el) => !overlay || overlay.contains(el));
  for (const el of items) {
    const box = el.getBoundingClientRect();
    if (box.left < -0.5 || box.right > W + 0.5) found.push([name(el), "off the side"]);
    else if (overlay || (bar && bar.contains(el)) || (dock && dock.contains(el))) {
      if (box.top < -0.5 || box.bottom > H + 0.5) found.push([name(el), "off screen"]);
    } else if (box.bottom > bottom + 0.5) {
      found.push([name(el), `under the dock by ${Math.round(box.bottom - bottom)} px`]);
    } else if (box.top < top - 0.5) found.push([name(el), "under the bar"]);
  }
  return found;
}
"""

# What a list page leaves empty: the space between its last button and the dock, in rows.
ROOM = """
() => {
  const list = document.querySelector(".choices");
  const last = [...document.querySelectorAll(".main a, .main button")].at(-1);
  const dock = document.querySelector(".dock").getBoundingClientRect();
  const row = list.querySelector("li").getBoundingClientRect().height
    + parseFloat(getComputedStyle(list).rowGap);
  return {
    entries: document.querySelectorAll(".choices a").length,
    more: Boolean(document.querySelector(".pages a[href$='@1']")),
    scrolls: document.documentElement.scrollHeight > innerHeight + 0.5,
    emptyRows: (dock.top - last.getBoundingClientRect().bottom) / row,
  };
}
"""
# A list page leaves empty at most this many rows' worth of its screen: room for the heading's
# second line and for paging buttons a page may not have, but not for another row of entries.
MOST_EMPTY_ROWS = 2.5
# A very short phone holds few rows; keeping room for a heading on two lines there leaves a
# little more than half a row more empty when the heading takes one.
MOST_EMPTY_ROWS_VERY_SHORT = 3.0
VERY_SHORT_HEIGHT = room.VERY_SHORT_PHONE_HEIGHT


def add_legal_desks(database: str | Path, count: int) -> None:
    """Add ``count`` made-up legal desks to the demo clinic, after its own legal help."""
    rows = [
        {
            "id": f"desk-{n}",
            "category": "legal",
            "label_en": f"Legal desk {n}",
            "label_es": f"Mesa de ayuda legal {n}",
            "name_en": f"Legal Desk {n} (example)",
            "name_es": f"Mesa de Ayuda Legal {n} (ejemplo)",
            "phone": f"+1617555{200 + n:04d}",
            "phone_extension": EXTENSION if n == 1 else None,
            # Near the demo clinic's ZIP code, so that a search there has pages of results.
            "city": "Cambridge",
            "state": "MA",
            "zip": "02139",
            "latitude": 42.36 + n / 1000,
            "longitude": -71.10,
            "fictional": 1,
            "sort_order": 100 + n,
        }
        for n in range(1, count + 1)
    ]
    db = connect(database)
    write_services(db, rows)
    db["service_sites"].insert_all(
        [{"service_id": row["id"], "site_id": SITE} for row in rows], replace=True
    )
    db.conn.commit()
    db.close()


def add_long_description(database: str | Path) -> None:
    """Add to the demo clinic a service whose description takes five or six lines on a phone,
    with a phone number, hours and an address, as many services have."""
    row = {
        "id": LONG,
        "category": "immigration",
        "label_en": "Help with work papers",
        "label_es": "Ayuda con papeles de trabajo",
        "name_en": "Riverside Workers' Rights Project (example)",
        "name_es": "Proyecto Riverside por los Derechos Laborales (ejemplo)",
        "description_en": "Free, private advice on work visas, pay an employer held back and "
        "papers someone else keeps for you. A lawyer who speaks your language can meet you "
        "here or talk by phone.",
        "description_es": "Consejo gratis y privado sobre visas de trabajo, pagos que un "
        "empleador no le dio y documentos que otra persona le guarda. Un abogado que habla su "
        "idioma puede verle aquí o hablar por teléfono.",
        "phone": "+16175550190",
        "address": "300 Example Street",
        "city": "Cambridge",
        "state": "MA",
        "zip": "02139",
        "hours": "Mo-Fr 09:00-17:00",
        "fictional": 1,
        "sort_order": 200,
    }
    db = connect(database)
    write_services(db, [row])
    db["service_sites"].insert({"service_id": LONG, "site_id": SITE}, replace=True)
    db.conn.commit()
    db.close()


def add_every_way(database: str | Path) -> None:
    """Add to the demo clinic a service reached every way the kiosk shows: a phone with an
    extension, a separate number to text, a TTY, hours and a street address."""
    row = {
        "id": REACHABLE,
        "category": "immigration",
        "label_en": "Help with immigration papers",
        "label_es": "Ayuda con papeles de inmigración",
        "name_en": "Harborview Immigrant Legal Clinic (example)",
        "name_es": "Clínica Legal para Inmigrantes Harborview (ejemplo)",
        "description_en": "Free advice on visas and papers, in your language.",
        "description_es": "Consejo gratis sobre visas y papeles, en su idioma.",
        "phone": "+16175550191",
        "phone_extension": "204",
        "sms": "+16175550192",
        "tty": "+16175550193",
        "address": "300 Example Street",
        "city": "Cambridge",
        "state": "MA",
        "zip": "02139",
        "hours": "Mo-Fr 09:00-17:00",
        "fictional": 1,
        "sort_order": 201,
    }
    db = connect(database)
    write_services(db, [row])
    db["service_sites"].insert({"service_id": REACHABLE, "site_id": SITE}, replace=True)
    db.conn.commit()
    db.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The kiosk with the demo directory, as ``make run`` serves it, more legal desks and a
    service with a long description and one reached every way."""
    app = create_app(
        {"TESTING": True, "DATABASE": str(tmp_path_factory.mktemp("demo") / "hotline.db")}
    )
    for name in ("sites.csv", "services.csv"):
        assert run(app, "import", str(EXAMPLES / "demo" / name)).exit_code == 0
    add_legal_desks(app.config["DATABASE"], EXTRA_LEGAL)
    add_long_description(app.config["DATABASE"])
    add_every_way(app.config["DATABASE"])
    running = Server(app)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def waiting_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo kiosk, asking "are you still there?" after one idle second and then waiting a
    full minute (tests only)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path_factory.mktemp("demo-idle") / "hotline.db"),
            "KIOSK_IDLE_SECONDS": 1,
            "KIOSK_COUNTDOWN_SECONDS": 60,
        }
    )
    assert run(app, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    running = Server(app)
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser, demo_server: Server, size: tuple[int, int]) -> Iterator[Page]:
    """A page on a screen of ``size``, started, as a kiosk starts, on its home page."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    opened = context.new_page()
    opened.goto(f"{demo_server.base}/kiosk")
    yield opened
    context.close()


def hidden_on(page: Page, server: Server, pages: dict[str, str]) -> dict[str, list[list[str]]]:
    """Open each of ``pages`` in each language; return what each hides, by page and language."""
    hidden = {}
    for lang in LANGUAGES:
        for kind, path in pages.items():
            page.goto(server.base + path.format(site=SITE, lang=lang))
            if kind == "keypad":  # with the "type all 5 digits" notice showing
                page.keyboard.type("021")
                page.keyboard.press("Enter")
            elif kind == "idle":
                expect(page.get_by_role("alertdialog")).to_be_visible(timeout=10_000)
            if kind != "failsafe":  # a page that failed safe would pass for the page asked for
                assert page.locator(".failsafe").count() == 0, f"{kind}/{lang}"
            found = page.evaluate(AT_REST)
            if found:
                hidden[f"{kind}/{lang}"] = found
    return hidden


def size_id(size: tuple[int, int]) -> str:
    return "x".join(map(str, size))


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_every_control_code_and_number_is_above_the_dock_before_any_scrolling(
    page: Page, demo_server: Server, waiting_demo_server: Server, size: tuple[int, int]
) -> None:
    assert hidden_on(page, demo_server, {**PAGES, **EVERY_WAY}) == {}
    assert hidden_on(page, waiting_demo_server, IDLE) == {}


@pytest.mark.clock
@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_every_result_is_above_the_dock_before_any_scrolling(
    page: Page, demo_server: Server
) -> None:
    assert hidden_on(page, demo_server, RESULTS) == {}


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_a_list_holds_what_its_screen_has_room_for(
    page: Page, demo_server: Server, size: tuple[int, int]
) -> None:
    for lang in LANGUAGES:
        page.goto(f"{demo_server.base}/kiosk/{SITE}/{lang}/legal")
        room = page.evaluate(ROOM)
        assert room["more"], "the legal list has more entries than any screen holds"
        assert not room["scrolls"], (lang, room)
        most = MOST_EMPTY_ROWS_VERY_SHORT if size[1] <= VERY_SHORT_HEIGHT else MOST_EMPTY_ROWS
        assert room["emptyRows"] <= most, (lang, room)
        # The five 24/7 lines on one page, a very short phone's too: a list that fits whole
        # once it needs no paging buttons is shown whole.
        page.goto(f"{demo_server.base}/kiosk/{SITE}/{lang}/lines")
        lines = page.evaluate(ROOM)
        assert lines["entries"] == 5 and not lines["more"] and not lines["scrolls"], (lang, lines)


@pytest.mark.clock
@pytest.mark.parametrize("size", [(1080, 1920), (768, 1024)], ids=size_id)
def test_a_tall_screen_shows_more_services_near_a_zip_code(
    page: Page, demo_server: Server, size: tuple[int, int]
) -> None:
    flow = demo_server.app.extensions["hotline_bridge"].flow
    shown = flow.node(flow.zip_node).page_size
    page.goto(f"{demo_server.base}/kiosk/{SITE}/en/nearby:02139.legal")
    results = page.locator(".result").count()
    assert results > shown if size == (1080, 1920) else results == shown
    # Nothing of the page under the dock, with no scrolling.
    assert not page.evaluate("document.documentElement.scrollHeight > innerHeight")


@pytest.mark.parametrize("size", [PHONE], ids=size_id)
def test_the_call_code_dials_the_extension_after_a_pause(page: Page, demo_server: Server) -> None:
    """zxing-cpp reads the code as drawn on the screen: the number, a comma (the pause iOS and
    Android dialers wait for before sending more digits), then the extension."""
    page.goto(f"{demo_server.base}/kiosk/{SITE}/en/service:desk-1~legal")
    expect(page.locator(".contacts")).to_contain_text(f"1-617-555-0201 ext. {EXTENSION}")
    shot = page.locator(".qr-box").first.screenshot()
    with Image.open(BytesIO(shot)) as image:
        found = zxingcpp.read_barcodes(image.convert("L"))
    assert [code.text for code in found] == [f"tel:+16175550201,{EXTENSION}"]


def test_a_browser_without_the_screen_size_gets_the_flow_page_size(demo_server: Server) -> None:
    """Without client hints or the size in the address (another browser without its script,
    or a test client), a list is paged as the flow says and asks the script for the size;
    every kiosk page asks for the hints, as critical ones."""
    client = demo_server.app.test_client()
    answer = client.get(f"/kiosk/{SITE}/en/legal")
    hints = "Sec-CH-Viewport-Width, Sec-CH-Viewport-Height"
    assert answer.headers["Accept-CH"] == answer.headers["Critical-CH"] == hints
    assert "Sec-CH-Viewport-Height" in answer.headers["Vary"]
    flow = demo_server.app.extensions["hotline_bridge"].flow
    html = answer.get_data(as_text=True)
    assert html.count('class="button choice"') == flow.page_size
    assert 'data-view="ask"' in html
    tall = {"Sec-CH-Viewport-Width": "1080", "Sec-CH-Viewport-Height": "1920"}
    shown = client.get(f"/kiosk/{SITE}/en/legal", headers=tall).get_data(as_text=True)
    assert shown.count('class="button choice"') > flow.page_size
    assert 'data-view="ask"' not in shown
    odd = {"Sec-CH-Viewport-Width": "1080", "Sec-CH-Viewport-Height": "1e9"}
    shown = client.get(f"/kiosk/{SITE}/en/legal", headers=odd).get_data(as_text=True)
    assert shown.count('class="button choice"') == flow.page_size
    # The home page holds no list: nothing to ask for.
    assert 'data-view="ask"' not in client.get(f"/kiosk/{SITE}/en").get_data(as_text=True)


def test_a_browser_that_gives_no_size_gets_no_more_than_the_smallest_phone_holds() -> None:
    """Without the screen's size, a list gets the flow's page size, or fewer where the flow's
    would not fit a 360x640 phone above the dock."""
    smallest = room.list_page_size(room.Viewport(*SMALLEST_PHONE), 4)
    assert room.list_page_size(None, 4) == 4 <= smallest
    assert room.list_page_size(None, smallest + 3) == smallest
    # The big screens show more than that, as they did.
    assert room.list_page_size(room.Viewport(1080, 1920), 4) == 10


@pytest.mark.parametrize(
    ("written", "entries"),
    [("1080x1920", 10), ("390x844", 5), ("1080x99999", 4), ("tall", 4), ("1080x1920x2", 4)],
)
def test_the_size_in_the_address_sizes_the_list(
    demo_server: Server, written: str, entries: int
) -> None:
    """The script writes the screen's size into the address; anything else is not a screen.
    It wins over client hints, being measured as the person touched the link."""
    client = demo_server.app.test_client()
    small = {"Sec-CH-Viewport-Width": "390", "Sec-CH-Viewport-Height": "844"}
    hinted = 5  # what the hints alone give
    html = client.get(f"/kiosk/{SITE}/en/legal?view={written}").get_data(as_text=True)
    assert html.count('class="button choice"') == entries
    html = client.get(f"/kiosk/{SITE}/en/legal?view={written}", headers=small).get_data(
        as_text=True
    )
    assert html.count('class="button choice"') == (hinted if entries == 4 else entries)


def test_a_list_that_fits_whole_without_paging_buttons_is_shown_whole(
    demo_server: Server,
) -> None:
    """On a very short phone a list holds three entries and the paging buttons; the five 24/7
    lines fit once no paging buttons are needed, so they come whole, even from an old link to
    their second page. A longer list is still paged."""
    client = demo_server.app.test_client()
    view = "?view=" + size_id(VERY_SHORT_PHONE)
    for path in ("lines", "lines@1"):
        html = client.get(f"/kiosk/{SITE}/en/{path}{view}").get_data(as_text=True)
        assert html.count('class="button choice"') == 5, path
        assert "@1" not in html, path  # no More
    legal = client.get(f"/kiosk/{SITE}/en/legal{view}").get_data(as_text=True)
    assert legal.count('class="button choice"') == 3
    assert "legal@1" in legal


@pytest.mark.clock  # the services found say whether they are open now
@pytest.mark.parametrize("size", SIDEWAYS, ids=size_id)
def test_a_phone_held_sideways_gets_two_columns_of_what_fits(
    demo_server: Server, size: tuple[int, int]
) -> None:
    """Held sideways, a phone shows a list in two columns (of two rows, three on the largest;
    one row of three columns once its browser's bars take their share), the five 24/7 lines
    whole, and services near a ZIP code in one row of two, whatever the flow's sizes."""
    client = demo_server.app.test_client()
    view = "?view=" + size_id(size)
    legal = client.get(f"/kiosk/{SITE}/en/legal{view}").get_data(as_text=True)
    assert legal.count('class="button choice"') == SIDEWAYS_ENTRIES[size]
    assert "legal@1" in legal
    lines = client.get(f"/kiosk/{SITE}/en/lines{view}").get_data(as_text=True)
    assert lines.count('class="button choice"') == 5 and "lines@1" not in lines
    found = client.get(f"/kiosk/{SITE}/en/nearby:02139.legal{view}").get_data(as_text=True)
    assert found.count('class="button result"') == room.SIDEWAYS_PHONE_RESULTS == 2
    very_short = size[1] <= room.VERY_SHORT_SIDEWAYS_HEIGHT
    assert room.columns(room.Viewport(*size)) == (3 if very_short else 2)


@pytest.mark.clock  # the services found say whether they are open now
def test_the_size_in_the_address_goes_on_to_the_services_near_a_zip_code(
    demo_server: Server,
) -> None:
    client = demo_server.app.test_client()
    answer = client.get(f"/kiosk/{SITE}/en/nearby:.legal?zip=02139&view=1080x1920")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/nearby:02139.legal?view=1080x1920")


def without_client_hints(context: BrowserContext) -> None:
    """Have ``context`` behave as a browser that sends no client hints (Firefox, Safari): the
    kiosk's request for them never reaches it."""

    def strip(route: Route) -> None:
        answer = route.fetch()
        headers = {
            name: value
            for name, value in answer.headers.items()
            if name.lower() not in {"accept-ch", "critical-ch"}
        }
        route.fulfill(response=answer, headers=headers)

    context.route("**/kiosk/**", strip)


@pytest.mark.parametrize(
    ("size", "script"),
    [((1080, 1920), True), (VERY_SHORT_PHONE, False), (VERY_SHORT_SIDEWAYS, False)],
)
def test_the_first_list_opened_is_sized_without_client_hints(
    browser: Browser, demo_server: Server, size: tuple[int, int], script: bool
) -> None:
    """A list opened first, in a browser that sends no client hints: with the script, it asks
    for itself again with the screen's size, and the size goes on with each touch; without
    it, the flow's page size, which still fits above the dock (held sideways too)."""
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=script
    )
    without_client_hints(context)
    page = context.new_page()
    flow = demo_server.app.extensions["hotline_bridge"].flow
    try:
        page.goto(f"{demo_server.base}/kiosk/{SITE}/en/legal")
        if not script:
            assert page.locator(".choices a").count() == flow.page_size
            assert page.evaluate(AT_REST) == []
            return
        page.wait_for_url(re.compile(rf"\?view={width}x{height}$"))
        first = page.locator(".choices a").all_inner_texts()
        assert len(first) == 10
        with page.expect_navigation():
            more = demo_server.words("en").t("kiosk.more")
            page.get_by_role("link", name=more, exact=True).click()
        assert page.url.endswith(f"/legal@1?view={width}x{height}")
        # The second page goes on where the first ended.
        shown = page.locator(".choices a").all_inner_texts()
        assert shown[0] == f"Legal desk {len(first) + 1}", (first, shown)
    finally:
        context.unroute_all(behavior="ignoreErrors")
        context.close()


@pytest.mark.clock  # the services found say whether they are open now
@pytest.mark.parametrize(
    "size", [SMALLEST_PHONE, VERY_SHORT_PHONE, VERY_SHORT_SIDEWAYS], ids=size_id
)
def test_services_near_a_zip_code_fit_the_smallest_page_without_the_screen_size(
    browser: Browser, demo_server: Server, size: tuple[int, int]
) -> None:
    """Without client hints or the script, services near a ZIP code come two to a page, which
    fit above the dock of what a 360x640 phone shows under its bars (360x560), and of what it
    shows held sideways (640x300), on the first page and after it; the flow's three do not."""
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=False
    )
    without_client_hints(context)
    page = context.new_page()
    flow = demo_server.app.extensions["hotline_bridge"].flow
    assert flow.node(flow.zip_node).page_size > room.VERY_SHORT_PHONE_RESULTS
    try:
        for lang in LANGUAGES:
            for path in RESULTS.values():
                page.goto(demo_server.base + path.format(site=SITE, lang=lang))
                assert page.locator(".result").count() == room.VERY_SHORT_PHONE_RESULTS
                assert page.evaluate(AT_REST) == [], (lang, path)
    finally:
        context.unroute_all(behavior="ignoreErrors")
        context.close()
