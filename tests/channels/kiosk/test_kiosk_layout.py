"""How the kiosk looks on the screens lobbies really use, measured from the live page in Chromium.

Every page kind, in both languages, at each screen size is held to the layout rules (and, with
``KIOSK_SCREENSHOTS=1`` or ``make kiosk-screenshots``, screenshotted into
``test-artifacts/kiosk/``): type large enough to read from a step
away, touch targets at least 64 pixels (48 on a short phone, held in the hand), nothing cut off
or running off the side, Exit, the language and the navigation on screen without scrolling and
in the same place on every page, the main choices filling the screen, every control, code and
number of the page above the dock before any scrolling, and no axe-core violation. The cases
share one tab per screen size on each test worker (in the one shared browser), so they spread
across test workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from hotline_bridge.directory.models import display_number
from hotline_bridge.engine.catalogs import LANGUAGES
from hotline_bridge.settings import PROJECT_ROOT
from tests.axe import axe_violations, hold_axe
from tests.channels.kiosk.test_kiosk import HOTLINE
from tests.channels.kiosk.test_kiosk_browser import (
    Server,
    broken_server,
    server,
    waiting_server,
    zip_server,
)
from tests.conftest import CLOCKS, DEFAULT_CLOCK

__all__ = ["broken_server", "server", "waiting_server", "zip_server"]  # fixtures, used by name

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "kiosk"


@dataclass(frozen=True)
class Screen:
    """A screen a kiosk runs on, and the smallest body type it must show."""

    width: int
    height: int
    body_px: float
    # WCAG 2.5.5 asks for 44 pixels; a lobby screen touched at arm's length gets more, a short
    # phone held in the hand Android's least (48).
    target_px: float = 64

    @property
    def name(self) -> str:
        return f"{self.width}x{self.height}"


# Body type for reading at arm's length or more: 28 pixels on a portrait lobby screen (issue 11);
# the phone, held in the hand, needs less.
SCREENS = {
    "portrait": Screen(1080, 1920, 28),
    "portrait-small": Screen(768, 1366, 26),
    "portrait-tablet": Screen(768, 1024, 24),
    "landscape": Screen(1920, 1080, 28),
    "tablet": Screen(1280, 800, 24),
    "phone": Screen(390, 844, 18),
    # Short phones (many low-cost Android phones, the older iPhone SE): every page kind, as a
    # person opens the kiosk on their own phone from the poster's QR code.
    "phone-narrow": Screen(360, 740, 18, target_px=48),
    "phone-short": Screen(375, 667, 18, target_px=48),
    "phone-shortest": Screen(360, 640, 18, target_px=48),
    # What a 360x640 phone really shows once its browser's and system's bars take their share.
    "phone-visible": Screen(360, 560, 18, target_px=48),
    # Phones held sideways: every page kind, as a person turns the phone to read a page.
    "sideways-small": Screen(640, 360, 18, target_px=48),
    "sideways": Screen(740, 360, 18, target_px=48),
    "sideways-large": Screen(844, 390, 18, target_px=48),
    "sideways-largest": Screen(932, 430, 18, target_px=48),
    # What a 640x360 phone held sideways really shows once its browser's and system's bars take
    # their share.
    "sideways-visible": Screen(640, 300, 18, target_px=48),
}
# Nothing on screen is set much smaller than the body type (a label above a number, a caption).
SMALLEST_TEXT = 0.85
# A menu's choices reach down to the navigation: at most this share of the screen is left empty.
MENU_SLACK = 0.08

# Which server shows each page kind, and where.
PAGES: dict[str, tuple[str, str]] = {
    "home": ("server", "/kiosk/default/{lang}"),
    "menu": ("server", "/kiosk/default/{lang}/needs"),
    "list": ("server", "/kiosk/default/{lang}/legal"),
    "detail": ("server", "/kiosk/default/{lang}/service:example-legal~legal"),
    "textable": ("server", "/kiosk/default/{lang}/service:ndvh~lines"),
    "connect": ("server", "/kiosk/default/{lang}/talk"),
    "emergency": ("server", "/kiosk/default/{lang}/emergency"),
    "info": ("server", "/kiosk/default/{lang}/tips"),
    "keypad": ("zip_server", "/kiosk/default/{lang}/nearby:.legal"),
    "kinds": ("zip_server", "/kiosk/default/{lang}/nearby:02139"),
    "results": ("zip_server", "/kiosk/default/{lang}/nearby:02139.legal"),
    "nothing-near": ("zip_server", "/kiosk/default/{lang}/nearby:99501.youth"),
    "welcome": ("server", "/welcome/default/{lang}"),
    "failsafe": ("broken_server", "/kiosk/default/{lang}/legal"),
    "idle": ("waiting_server", "/kiosk/default/{lang}/needs"),
}
# The pages with the kiosk's bar and navigation (the failsafe page has no language choice).
FRAMED = [kind for kind in PAGES if kind not in {"welcome", "failsafe", "idle"}]
MENUS = {"home", "menu"}
# A phone shows a service's page to take its numbers away, not the lobby's menus.
PHONE_PAGES = {"detail", "textable", "connect", "emergency"}
# Results say which places are open now: they are laid out at both moments of the suite's clock.
AT_BOTH_MOMENTS = {"results"}
CASES = [
    pytest.param(
        size,
        lang,
        kind,
        moment,
        id=f"{size}-{lang}-{kind}" + (f"-{moment}" if kind in AT_BOTH_MOMENTS else ""),
        marks=[pytest.mark.clock] if kind in AT_BOTH_MOMENTS else [],
    )
    for size in SCREENS
    for lang in LANGUAGES
    for kind in PAGES
    if size != "phone" or kind in PHONE_PAGES
    for moment in (CLOCKS if kind in AT_BOTH_MOMENTS else [DEFAULT_CLOCK])
]

# Measured in the page: every rule's findings, each a list of what breaks it (empty when kept).
MEASURE = """
({minTarget}) => {
  const W = innerWidth, H = innerHeight;
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && !el.closest(".hidden-text, [hidden], .slip")
      && getComputedStyle(el).visibility !== "hidden";
  };
  const name = (el) => (el.innerText || el.getAttribute("aria-label") || el.name || el.className
    || el.tagName).trim().replace(/\\s+/g, " ").slice(0, 40);
  const all = [...document.body.querySelectorAll("*")].filter(shown);
  const overlay = document.querySelector(".idle:not([hidden])");
  const targets = all.filter((el) => el.matches("a[href], button, input"))
    .filter((el) => !overlay || overlay.contains(el));
  const small = targets.filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width < minTarget || box.height < minTarget;
  }).map((el) => [name(el), Math.round(el.getBoundingClientRect().height)]);
  // Content wider or taller than its own box: a word running out of a button, a clipped line.
  const cut = all.filter((el) => getComputedStyle(el).display !== "inline" && el.clientWidth
    && !el.closest("svg") && (el.scrollWidth > el.clientWidth + 1
      || (el.matches(".button") && el.scrollHeight > el.clientHeight + 1))).map(name);
  const sideways = all.filter((el) => {
    const box = el.getBoundingClientRect();
    return box.left < -1 || box.right > W + 1;
  }).map(name);
  const texts = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (walk.currentNode.textContent.trim() && shown(el)) {
      texts.push([parseFloat(getComputedStyle(el).fontSize), name(el)]);
    }
  }
  texts.sort((a, b) => a[0] - b[0]);
  const onScreen = (el) => {
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.left >= 0 && box.bottom <= H + 0.5 && box.right <= W + 0.5;
  };
  const fixed = [...document.querySelectorAll(".bar .lang, .bar .exit, .nav a, .foot p")];
  const offScreen = fixed.filter((el) => !onScreen(el)).map(name);
  const boxes = {};
  for (const [key, selector] of [["exit", ".bar .exit"], ["lang", ".bar .lang"],
      ["back", ".nav .back"], ["home", ".nav .home"], ["talk", ".nav .talk"]]) {
    const el = document.querySelector(selector);
    if (el) {
      const b = el.getBoundingClientRect();
      boxes[key] = [b.left, b.top, b.width, b.height].map(Math.round);
    }
  }
  const menu = document.querySelector(".choices.fill");
  const dock = document.querySelector(".dock");
  let empty = null;
  if (menu && dock) {
    const below = dock.getBoundingClientRect().top - menu.getBoundingClientRect().bottom;
    // A menu at its greatest height has filled as much as it should.
    const tallest = parseFloat(getComputedStyle(menu).maxHeight);
    const full = menu.getBoundingClientRect().height >= tallest - 1;
    empty = full ? 0 : below / H;
  }
  // Every control, code and number of the page, each whole above the dock, with no scrolling
  // (on the fail-safe page, which has no language to choose, the numbers of both languages).
  const dockTop = dock ? dock.getBoundingClientRect().top : H;
  const underDock = [...document.querySelectorAll(
    ".main :is(a[href], button, input:not([type=hidden]), .qr-box, .contacts dd, .number)")]
    .filter(shown).filter((el) => !overlay)
    .filter((el) => el.getBoundingClientRect().bottom > dockTop + 0.5).map(name);
  const back = document.querySelector(".nav .back"), home = document.querySelector(".nav .home");
  return {
    underDock,
    scrollWidth: document.documentElement.scrollWidth,
    body: parseFloat(getComputedStyle(document.body).fontSize),
    smallest: texts[0] || [0, ""],
    small, cut, sideways, offScreen, boxes, empty,
    backIsHome: Boolean(back && home && back.href === home.href),
  };
}
"""


@pytest.fixture
def servers(request: pytest.FixtureRequest) -> Any:
    """Look up the server a page kind is shown by, starting it only when a case needs it."""
    return lambda name: request.getfixturevalue(name)


@pytest.fixture(scope="module")
def pages(browser: Browser) -> Iterator[dict[str, Page]]:
    """One page per screen size on each test worker, in its own context, opened when a case
    first needs it. The kiosk keeps nothing in the browser (no cookie, no storage) and every
    case opens its page by its address, so a page shown after another in the same tab is shown
    as a first page is; the cases share the tab and not its cost."""
    opened: dict[str, Page] = {}
    yield opened
    for page in opened.values():
        page.context.close()


@pytest.fixture
def page(browser: Browser, pages: dict[str, Page], request: pytest.FixtureRequest) -> Page:
    size = request.node.callspec.params["size"]
    if size not in pages:
        screen = SCREENS[size]
        context = browser.new_context(viewport={"width": screen.width, "height": screen.height})
        hold_axe(context)
        pages[size] = context.new_page()
    return pages[size]


def show(page: Page, server: Server, kind: str, lang: str) -> None:
    """Open the page of ``kind`` in ``lang``, in the state the kind names."""
    page.goto(server.base + PAGES[kind][1].format(lang=lang))
    if kind == "keypad":
        page.keyboard.type("021")
        page.keyboard.press("Enter")  # with the "type all 5 digits" notice showing
    elif kind == "failsafe":
        expect(page.locator(".number")).to_have_text(display_number(HOTLINE["voice"]))
    elif kind == "idle":
        expect(page.get_by_role("alertdialog")).to_be_visible(timeout=10_000)


def screenshot(page: Page, name: str) -> None:
    """Save what the screen shows, and for a page that scrolls, its end scrolled into view, when
    ``KIOSK_SCREENSHOTS`` is set (``make kiosk-screenshots``): a picture is for a person to look
    at, and drawing every page took about an eighth of this file's time in the suite."""
    if not os.environ.get("KIOSK_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")
    # A full-page capture would draw the bar and dock, which stick to the screen, mid-page.
    if page.evaluate("document.documentElement.scrollHeight > innerHeight"):
        page.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
        page.screenshot(path=SCREENSHOTS / f"{name}-scrolled.png")
        page.evaluate("scrollTo(0, 0)")


def measure(page: Page, screen: Screen) -> dict[str, Any]:
    return page.evaluate(MEASURE, {"minTarget": screen.target_px})


@pytest.mark.parametrize(("size", "lang", "kind", "clock_name"), CASES)
def test_every_page_keeps_the_layout_rules_and_has_no_axe_violation(
    page: Page, servers: Any, size: str, lang: str, kind: str
) -> None:
    screen = SCREENS[size]
    show(page, servers(PAGES[kind][0]), kind, lang)
    screenshot(page, f"{kind}-{lang}-{screen.name}")
    if kind != "failsafe":  # a page that failed safe would pass for the page asked for
        expect(page.locator(".failsafe")).to_have_count(0)
    found = measure(page, screen)
    assert found["scrollWidth"] <= screen.width, "the page scrolls sideways"
    assert found["sideways"] == [], "off the side of the screen"
    assert found["cut"] == [], "content overflows its box"
    assert found["small"] == [], f"targets under {screen.target_px} px"
    assert found["body"] >= screen.body_px
    assert found["smallest"][0] >= SMALLEST_TEXT * screen.body_px, found["smallest"]
    assert found["offScreen"] == [], "Exit, language or navigation needs scrolling"
    assert not found["backIsHome"], "Back leads to the main menu, as Main menu does"
    if kind in MENUS:
        assert found["empty"] is not None and found["empty"] <= MENU_SLACK, found["empty"]
    assert found["underDock"] == [], "under the dock before any scrolling"
    results = axe_violations(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.clock  # the results page is among them
@pytest.mark.parametrize("size", [size for size in SCREENS if not size.startswith("phone")])
def test_exit_language_and_navigation_stay_in_one_place_on_every_page(
    page: Page, servers: Any, size: str
) -> None:
    seen: dict[str, dict[tuple[int, ...], list[str]]] = {}
    for lang in LANGUAGES:
        for kind in FRAMED:
            show(page, servers(PAGES[kind][0]), kind, lang)
            for key, box in measure(page, SCREENS[size])["boxes"].items():
                seen.setdefault(key, {}).setdefault(tuple(box), []).append(f"{kind}/{lang}")
    assert set(seen) == {"exit", "lang", "back", "home", "talk"}
    # Where each control moved: every box it had, with the first page it had it on.
    moved = {k: {box: pages[0] for box, pages in v.items()} for k, v in seen.items() if len(v) > 1}
    assert moved == {}
