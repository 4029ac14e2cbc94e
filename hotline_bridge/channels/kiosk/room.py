"""How many entries a kiosk list page holds, from the size of the screen showing it.

A list uses the room its screen has: a 1920-pixel-tall lobby screen shows ten entries where a
phone shows five, and five services near a ZIP code where a tablet shows three. The size comes
two ways, so that the first list a person opens is sized too, in any browser:

- the kiosk's script writes the screen's size into each address it follows
  (``?view=390x844``), and a list page opened without it (typed, reloaded, the first page of a
  browser) asks for itself again with it;
- without the script, every kiosk page asks the browser for the viewport's size as client hints
  (``Accept-CH``), and Chromium, which kiosks run, then sends ``Sec-CH-Viewport-Width`` and
  ``Sec-CH-Viewport-Height`` with each later page; as the hints are marked critical
  (``Critical-CH``), it asks again with them for the first page it opens, before showing it.

A list short enough to fit whole once it needs no paging buttons is shown whole
(``whole_list_size``): the five 24/7 lines on one page of a very short phone, where the list's
page holds three and the buttons to page it.

A phone held sideways (``sideways_phone``: 640x360 to 932x430) has a slim bar and a dock of one
row, and shows a list in two columns above one row of paging buttons (four entries, six on the
largest phones, the five 24/7 lines whole) and services near a ZIP code one row of two to a
page. What such a phone shows once its browser's and system's bars take their share (about
640x300, ``very_short_sideways``) has a slimmer bar and dock still, and shows a list in three
columns: one row of three above the paging buttons, the five 24/7 lines whole in two rows.

A browser with neither may be anything, so it gets no more than the smallest screen the kiosk
is tested at has room for: what fits a small phone fits any larger screen. A list gets the
flow's own page size, but never more entries than a 360x640 phone has room for (the main
flow's four, which also fit above the dock of a 360x560 page and, under a heading of one line,
of a 640x300 one); services near a ZIP code come two to a page, as on 360x560, what a 360x640
phone shows once its browser's and system's bars take their share (``SMALLEST_SHOWN``), and on
640x300, what it shows held sideways. On a screen of known size, services near a ZIP code
are never fewer than the flow's size, but on a very short phone. Only the kiosk's pages are
sized: the other channels page as the flow says.

The arithmetic mirrors ``static/kiosk.css``: the root type size and the heights of the bar, the
heading, a list row, the paging buttons and the dock, in pixels. It errs on the side of one row
fewer (it keeps room for a heading on two lines and for both rows of paging buttons), so that a
page never needs scrolling to reach its last entry on the screens it is tested at
(``tests/channels/kiosk/test_kiosk_room.py`` holds both sides of that bargain).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.datastructures import Headers

# The hints the kiosk asks for, and sends back as what its pages vary on.
HINTS = ("Sec-CH-Viewport-Width", "Sec-CH-Viewport-Height")

# No page holds fewer than this (a phone held sideways) nor more than this (a person reads a
# list, they do not search it).
FEWEST, MOST = 3, 12

# Sizes a viewport may claim; anything else is not a screen (a hint is the browser's word).
SMALLEST_SIDE, LARGEST_SIDE = 200, 10_000

# The least touch target, as --target in kiosk.css; a short phone, held in the hand, has less.
TARGET_PX = 64.0
SHORT_PHONE_TARGET_PX = 48.0

# The widest screen kiosk.css lays out as a phone's (Back, Main menu and Talk now on one row).
PHONE_WIDTH = 600
# The tallest phone kiosk.css lays out as a short one (tighter spacing, smaller targets).
SHORT_PHONE_HEIGHT = 760
# The tallest phone kiosk.css lays out as a very short one: what a 360x640 phone shows a page
# once its browser's and system's bars take their share (about 360x560).
VERY_SHORT_PHONE_HEIGHT = 600
# Services near a ZIP code a very short phone holds, whatever the flow's size: three of them
# and the paging buttons do not fit above its dock.
VERY_SHORT_PHONE_RESULTS = 2
# The tallest landscape screen kiosk.css lays out as a phone held sideways (640x360, 740x360,
# 844x390, 932x430; no tablet is this short): 48-pixel targets, a slim bar, the dock on one
# row with the 911 line beside its buttons, lists and results in two columns.
SIDEWAYS_PHONE_HEIGHT = 500
# Services near a ZIP code a phone held sideways holds: one row of two, whatever the flow's size.
SIDEWAYS_PHONE_RESULTS = 2
# The tallest phone held sideways kiosk.css lays out as a very short one: what a 640x360 phone
# shows a page once its browser's and system's bars take their share (about 640x300), and a
# larger phone's up to here (below about 352 px, the layout for 360 px no longer fits). The bar
# and the dock are slimmer still, and lists are in three columns.
VERY_SHORT_SIDEWAYS_HEIGHT = 350

# The size a kiosk page's script adds to each address it follows: "390x844".
_SIZE = re.compile(r"([0-9]{3,5})x([0-9]{3,5})")


@dataclass(frozen=True)
class Viewport:
    """The part of the screen a page is laid out in, in CSS pixels."""

    width: int
    height: int

    @property
    def landscape(self) -> bool:
        return self.width >= self.height


def viewport(headers: Headers | Mapping[str, str]) -> Viewport | None:
    """Return the viewport the request's client hints describe, or None without them."""
    sides = []
    for name in HINTS:
        text = headers.get(name, "").strip()
        if not text.isdigit() or not SMALLEST_SIDE <= int(text) <= LARGEST_SIDE:
            return None
        sides.append(int(text))
    return Viewport(*sides)


def written(text: str | None) -> Viewport | None:
    """Return the viewport written as ``390x844`` (as the kiosk's script writes it into the
    addresses it follows), or None for anything else."""
    found = _SIZE.fullmatch(text or "")
    if found is None:
        return None
    width, height = int(found[1]), int(found[2])
    if not all(SMALLEST_SIDE <= side <= LARGEST_SIDE for side in (width, height)):
        return None
    return Viewport(width, height)


def write(view: Viewport) -> str:
    """Return ``view`` as ``written`` reads it."""
    return f"{view.width}x{view.height}"


def root_px(view: Viewport) -> float:
    """Return the page's root type size, as kiosk.css's ``html { font-size }`` works it out."""
    base = 8.0
    short_landscape = view.landscape and view.height <= 850
    short_portrait = not view.landscape and view.height <= 1100 and view.width >= 601
    if short_landscape or short_portrait:
        base = 6.0
    return min(max(base + 2.4 * min(view.width, view.height) / 100, 18.0), 40.0)


def columns(view: Viewport) -> int:
    """Return how many columns a list is laid out in (kiosk.css: a wide landscape screen, or a
    phone held sideways; three on a very short one)."""
    if very_short_sideways(view):
        return 3
    return 2 if view.landscape and (view.width >= 1000 or sideways_phone(view)) else 1


def sideways_phone(view: Viewport) -> bool:
    """Whether kiosk.css lays the page out for a phone held sideways (``orientation:
    landscape`` and ``max-height: 500px``)."""
    return view.landscape and view.height <= SIDEWAYS_PHONE_HEIGHT


def very_short_sideways(view: Viewport) -> bool:
    """Whether kiosk.css lays the page out for a very short phone held sideways (``orientation:
    landscape`` and ``max-height: 350px``)."""
    return sideways_phone(view) and view.height <= VERY_SHORT_SIDEWAYS_HEIGHT


def phone(view: Viewport) -> bool:
    """Whether kiosk.css lays the page out for a phone (``max-width: 600px``)."""
    return view.width <= PHONE_WIDTH


def short_phone(view: Viewport) -> bool:
    """Whether kiosk.css lays the page out for a short phone (``max-width: 600px`` and
    ``max-height: 760px``)."""
    return phone(view) and view.height <= SHORT_PHONE_HEIGHT


# The smallest phone the kiosk is tested at: what a browser that gives no size gets list pages
# for.
SMALLEST = Viewport(360, 640)
# What that phone shows a page once its browser's and system's bars take their share: what a
# browser that gives no size gets services near a ZIP code for (three of them end under its
# dock).
SMALLEST_SHOWN = Viewport(360, 560)


def very_short_phone(view: Viewport) -> bool:
    """Whether kiosk.css lays the page out for a very short phone (``max-width: 600px`` and
    ``max-height: 600px``)."""
    return phone(view) and view.height <= VERY_SHORT_PHONE_HEIGHT


def _target(view: Viewport, r: float) -> float:
    if short_phone(view) or sideways_phone(view):
        return SHORT_PHONE_TARGET_PX
    return max(TARGET_PX, 2.3 * r)


def _short_frame(r: float, target: float) -> float:
    """Return the height a short phone's bar, padding and dock take: the program's name on
    three lines, Talk now on three (Spanish), the 911 line on one, all in smaller type."""
    bar = max(target, 3 * 0.85 * r * 1.1) + 0.5 * r + 2
    talk = max(target, 3 * 0.85 * r * 1.1 + 0.2 * 0.85 * r + 6)
    dock = 2 + 0.3 * 0.85 * r + talk + 0.5 * r + 0.9 * r * 1.35
    return bar + 0.7 * r + dock


def _sideways_frame(r: float, target: float) -> float:
    """Return the height a phone held sideways gives its bar, padding and dock: each one row,
    the 911 line beside the dock's buttons on up to three lines, in smaller type."""
    bar = target + 0.4 * r + 2
    dock = 2 + 0.6 * r + max(target, 3 * 0.85 * r * 1.2)
    return bar + 0.6 * r + dock


def _very_short_sideways_frame(r: float, target: float) -> float:
    """Return the height a very short phone held sideways gives its bar, padding and dock: each
    one row, with less padding, the 911 line beside the dock's buttons on up to two lines."""
    bar = target + 0.2 * r + 2
    dock = 2 + 0.3 * r + max(target, 2 * 0.85 * r * 1.2)
    return bar + 0.4 * r + dock


def _frame(view: Viewport, r: float, target: float) -> float:
    """Return the height the bar, the page's padding and the dock take, in pixels."""
    if short_phone(view):
        return _short_frame(r, target)
    if very_short_sideways(view):
        return _very_short_sideways_frame(r, target)
    if sideways_phone(view):
        return _sideways_frame(r, target)
    bar = target + 0.8 * r + 2
    dock = 2 + 0.5 * r + target + r + 1.35 * r  # the nav and the 911 line under it
    if columns(view) == 1 and not phone(view):
        dock += target + 0.5 * r  # Talk now on a row of its own
    padding = r if phone(view) else 1.6 * r
    return bar + padding + dock


def results_page_size(view: Viewport | None, default: int) -> int:
    """Return how many services near a ZIP code a page holds on ``view``: each is a large
    button of three lines (name, distance and hours, phone), under the heading and the line
    that names the ZIP code, above the example notice and the paging buttons. Never fewer
    than ``default``, the flow's own size, but on a very short phone; when unknown, what the
    smallest page tested holds (``SMALLEST_SHOWN``)."""
    if view is None:
        return results_page_size(SMALLEST_SHOWN, default)
    if very_short_phone(view):
        return min(default, VERY_SHORT_PHONE_RESULTS)
    if sideways_phone(view):
        return min(default, SIDEWAYS_PHONE_RESULTS)
    r = root_px(view)
    target = _target(view, r)
    if short_phone(view):
        # Smaller headings, the example notice on one line, tighter results, and the paging
        # buttons on two rows (Previous and More, then Another ZIP code), as in kiosk.css.
        heading = 2 * (1.25 * 1.15 * r) + 0.3 * r + 2 * (1.35 * r) + 0.35 * r
        below = 0.9 * 1.35 * r + 0.55 * r + 4 + 2 * target + 0.7 * r
        row = 3.1 * 1.15 * r + 0.3 * r + 6 + 0.35 * r
    else:
        heading = 2 * (1.5 * 1.15 * r) + 0.75 * r + 2 * (1.1 * 1.35 * r) + 0.55 * r
        below = 0.8 * r + 4 * r + target + 0.5 * r  # the example notice on two lines, the paging
        row = 5.5 * r
    free = view.height - _frame(view, r, target) - heading - below
    rows = math.floor((free + 0.5 * r) / row)
    return min(max(rows * columns(view), default), MOST)


def list_page_size(view: Viewport | None, default: int) -> int:
    """Return how many entries a list page holds on ``view`` (when unknown, ``default`` or
    fewer, as the smallest phone has room for)."""
    if view is None:
        return min(default, list_page_size(SMALLEST, default))
    r = root_px(view)
    target = _target(view, r)
    if sideways_phone(view):
        return min(max(_sideways_list_size(view, r, target), FEWEST), MOST)
    if short_phone(view):
        # Smaller headings, tighter gaps, choices in body type (kiosk.css).
        heading = 2 * (1.25 * 1.15 * r) + 0.3 * r
        paging = 2 * (target + 0.75 * r)
        gap = 0.35 * r
        row = max(target, 1.2 * r + 0.6 * r + 6) + gap
    else:
        heading = 2 * (1.5 * 1.15 * r) + 0.75 * r  # two lines and the margin under them
        paging = 2 * (target + 1.3 * r)  # More and Previous, then "Search near a ZIP code"
        gap = 0.5 * r
        row = max(TARGET_PX, 2.3 * 1.1 * r) + gap  # a choice button and the gap below it
    free = view.height - _frame(view, r, target) - heading - paging
    rows = math.floor((free + gap) / row)
    return min(max(rows * columns(view), FEWEST), MOST)


def _sideways_heading(view: Viewport, r: float) -> float:
    """Return the height of a heading of two lines, and the margin under it, on a phone held
    sideways (a smaller heading on a very short one)."""
    if very_short_sideways(view):
        return 2 * (1.1 * 1.15 * r) + 0.15 * 1.1 * r
    return 2 * (1.25 * 1.15 * r) + 0.3 * r


def _sideways_list_size(view: Viewport, r: float, target: float) -> int:
    """Return how many entries a list page holds on a phone held sideways: two columns of
    choices in body type (three on a very short phone), under a heading of two lines, above
    one row of paging buttons (Previous, More and "Search near a ZIP code" side by side, in
    smaller type). In three columns a longer label takes two lines."""
    heading = _sideways_heading(view, r)
    gap = 0.35 * r
    lines = 2 if very_short_sideways(view) else 1
    row = max(target, lines * 1.1 * r + 0.2 * r + 6) + gap
    free = view.height - _frame(view, r, target) - heading - gap - target
    return math.floor((free + gap) / row) * columns(view)


def whole_list_size(view: Viewport | None, searchable: bool) -> int:
    """Return how many entries a list shown whole on ``view`` holds: with no paging buttons
    (only "Search near a ZIP code" when the list is ``searchable``), each entry's label on up
    to two lines, under a heading of two. 0 for a screen of unknown size, which gets no more
    than the flow's pages."""
    if view is None:
        return 0
    r = root_px(view)
    target = _target(view, r)
    if sideways_phone(view):
        heading = _sideways_heading(view, r)
        search = target + 0.35 * r
        gap = 0.35 * r
        row = max(target, 2 * 1.1 * r + 0.2 * r + 6) + gap
    elif short_phone(view):
        heading = 2 * (1.25 * 1.15 * r) + 0.3 * r
        search = target + 0.75 * r
        gap = 0.35 * r
        row = max(target, 2 * 1.2 * r + 0.6 * r + 6) + gap
    else:
        heading = 2 * (1.5 * 1.15 * r) + 0.75 * r
        search = target + 1.3 * r
        gap = 0.5 * r
        row = max(TARGET_PX, (2.3 + 1.2) * 1.1 * r) + gap
    free = view.height - _frame(view, r, target) - heading - (search if searchable else 0)
    return min(math.floor((free + gap) / row) * columns(view), MOST)
