"""The step function every channel shares: a position and what a person chose become the next
position and the screen it shows.

``show`` describes a position; ``respond`` answers a choice made at one. Both read the directory
only through the ``Directory`` they are given and know no channel: a channel passes its
``Capabilities`` (does it take a ZIP code at any prompt, does it choose by key, can it dial) and
the engine offers the options that fit. A ZIP code is recognised here and nowhere else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from hotline_bridge.engine.flow import Flow, Node, Position
from hotline_bridge.engine.screen import (
    BACK,
    HOME,
    MORE,
    OPTION,
    PREVIOUS,
    TALK,
    ZIP,
    Choice,
    Entry,
    Notice,
    Screen,
)

if TYPE_CHECKING:
    from hotline_bridge.directory.models import Service
    from hotline_bridge.directory.nearby import Nearby

# A five-digit US ZIP code ...
ZIP_CODE = re.compile(r"^\d{5}$")
# ... as a person sends or keys it (ZIP+4 is read as its five digits).
ZIP_AS_SENT = re.compile(r"^(\d{5})(?:-\d{4})?$")
# Digits that look like a ZIP code with too few or too many of them.
ALMOST_ZIP = re.compile(r"^\d{3,4}$|^\d{6,9}$")
# A place in the menus that carries a ZIP code someone sent (the nearby lists: ``zip@02139.x``).
_ZIP_IN_PLACE = re.compile(r"\d{5}")

# Choices a channel may pass besides an option key.
CHOOSE_HOME, CHOOSE_TALK, CHOOSE_MORE, CHOOSE_BACK = "home", "talk", "more", "back"

# Channel actions an option may ask for on a detail step.
DIAL, DETAILS = "dial", "details"


class Directory(Protocol):
    """What the engine reads, for one site: the directory behind an interface it is given."""

    def services(self, categories: Sequence[str]) -> Sequence[Service]:
        """Return the services of ``categories`` shown at the site, local ones first."""

    def service(self, service_id: str) -> Service | None:
        """Return one service, or None if it is gone."""

    def lines(self, service_ids: Sequence[str]) -> Sequence[Service]:
        """Return the services ``service_ids`` that exist, in that order."""

    def known_zip(self, zip_code: str) -> bool:
        """Return whether ``zip_code`` is a ZIP code the directory can search near."""

    def nearest(
        self, zip_code: str, categories: Sequence[str], lang: str, limit: int
    ) -> Sequence[Nearby] | None:
        """Return up to ``limit`` services of ``categories`` nearest ``zip_code``, nearest
        first; None when the ZIP code is unknown."""


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do, so the engine offers the options that fit it.

    ``keyed``: choices are made by key (SMS, voice), not by touching a button (kiosk).
    ``zip_anywhere``: a ZIP code may be sent at any prompt, so no key is needed for it (SMS).
    ``dials``: the channel can connect a call to a service (voice).
    ``details_on_request``: a service is named by its discreet label first and its details are
    given only when asked for (voice, where everything said can be overheard).
    """

    keyed: bool = True
    zip_anywhere: bool = False
    dials: bool = False
    details_on_request: bool = False
    # Whether a screen fits the channel in a language (an SMS within its segment budget); lists
    # are paged at the largest size whose every page fits. None: every screen fits.
    fits: Callable[[Screen, str], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Turn:
    """The answer to one choice: the screen to show, whether the choice was understood, any
    channel action the chosen option asks for, and the event to count (never what was sent)."""

    screen: Screen
    understood: bool = True
    action: str | None = None
    event: str = ""


@dataclass(frozen=True)
class _Reading:
    """What building one screen needs."""

    flow: Flow
    lang: str
    directory: Directory
    caps: Capabilities


def holds_zip(place: str) -> bool:
    """Return whether an encoded position carries a ZIP code someone sent."""
    return _ZIP_IN_PLACE.search(place) is not None


def as_zip(text: str) -> str | None:
    """Return ``text`` as a five-digit ZIP code if that is what it is, else None."""
    found = ZIP_AS_SENT.match(normalize_choice(text))
    return found.group(1) if found else None


# What may stand around a number a person sends without changing it: "1.", "8!", "(2)", the
# keycap emoji "1️⃣" (a digit, a variation selector and a combining keycap).
_AROUND_NUMBER = " \t\r\n.,;:!?¡¿()[]'\"«»\ufe0f\u20e3"


def normalize_choice(text: str) -> str:
    """Return what a person chose, with compatibility digits ("²", "①", full-width) read as the
    digits they mean, surrounding space removed, and a number's punctuation ("1.") too."""
    text = unicodedata.normalize("NFKC", text).strip()
    bare = text.strip(_AROUND_NUMBER)
    return bare if ZIP_AS_SENT.match(bare) or (bare.isascii() and bare.isdigit()) else text


# --- Showing a position -----------------------------------------------------------------------


def show(
    flow: Flow,
    position: Position,
    lang: str,
    directory: Directory,
    caps: Capabilities,
    notices: Sequence[Notice] = (),
) -> Screen:
    """Return what ``position`` shows in ``lang``, after ``notices``, with the flow's shortcuts
    (back one level, home, talk now) added wherever they lead somewhere else.

    A directory with a ``memo`` (one that keeps what is worked out from it while it is
    unchanged) keeps each screen built from it, but for the services near a ZIP code (open
    now is judged at the moment)."""
    node = flow.node(position.node)
    memo: dict[object, tuple[Flow, Screen]] | None = getattr(directory, "memo", None)
    if node.type == "zip":
        memo = None  # the services near a ZIP code are judged open or not at the moment
    at = (id(flow), position, lang, caps, caps.fits)
    held = memo.get(at) if memo is not None else None
    if held is not None and held[0] is flow:
        screen = held[1]
    else:
        screen = _BUILDERS[node.type](_Reading(flow, lang, directory, caps), node, position)
        if not any(c.role in (HOME, TALK, BACK) for c in screen.choices):
            screen = replace(screen, choices=screen.choices + _shortcuts(flow, screen))
        if memo is not None:
            memo[at] = (flow, screen)  # the flow held: its id is no other flow's meanwhile
    return replace(screen, notices=(*notices, *screen.notices)) if notices else screen


def _shortcuts(flow: Flow, screen: Screen) -> tuple[Choice, ...]:
    node = screen.position.node
    found: list[Choice] = []
    back = back_of(flow, screen)
    if back is not None and back.node != flow.start:
        found.append(Choice(flow.back_key, "nav.back", BACK, back))
    if node != flow.talk_node:
        found.append(Choice(flow.talk_key, "nav.talk", TALK, Position(flow.talk_node)))
    if node != flow.start:
        found.append(Choice(flow.home_key, "nav.home", HOME, Position(flow.start)))
    return tuple(found)


def back_of(flow: Flow, screen: Screen) -> Position | None:
    """Return where Back leads from ``screen``: one level up, never the same place."""
    position = screen.position
    if position.page and flow.node(position.node).type == "detail":
        return replace(position, page=0)  # the rest of a description: back to its start
    if position.back is not None:
        return position.back
    if position.page:
        return Position(position.node)
    node = flow.node(position.node)
    if node.type == "zip":
        code, kind = zip_item(flow, position)
        if kind:
            return Position(node.id, item=code)  # the kinds of help near the same ZIP code
        if code:
            return Position(node.id)
        chosen = pending_kind(flow, position)
        if chosen:
            return Position(chosen)
    parent = flow.parents.get(node.id)
    return Position(parent) if parent else None


def _menu(r: _Reading, node: Node, position: Position) -> Screen:
    choices = [Choice(o.key, o.label, OPTION, Position(o.goto)) for o in node.options if o.goto]
    choices += [
        Choice(o.key, o.label, OPTION, position, o.action) for o in node.options if o.action
    ]
    notices: list[Notice] = []
    if _offers_kinds(r.flow, node):
        if r.caps.zip_anywhere:
            notices.append(Notice("zip.hint"))
        elif r.flow.zip_node:
            choices.append(Choice(None, "zip.option", ZIP, Position(r.flow.zip_node)))
    return Screen(position, node.type, node.message, choices=tuple(choices), notices=tuple(notices))


def _offers_kinds(flow: Flow, node: Node) -> bool:
    """Return whether a menu leads to the kinds of help the ZIP step searches."""
    return bool(flow.zip_node) and bool({o.goto for o in node.options} & set(flow.zip_kinds()))


def _list(r: _Reading, node: Node, position: Position) -> Screen:
    services = r.directory.services(node.categories)
    fallback = not services
    if fallback:
        services = r.directory.lines(node.fallback)
    size = _page_size(r, node, position, services, fallback)
    if node.whole_page and size < len(services) <= node.whole_page:
        size = len(services)  # all on one page: no paging buttons to make room for
        position = replace(position, page=0)
    return _list_page(r, node, position, services, fallback, size)


def _page_size(
    r: _Reading, node: Node, position: Position, services: Sequence[Service], fallback: bool
) -> int:
    """Return the largest page size, up to the flow's, at which every page of the list fits
    the channel (so the same key always chooses the same service), worked out once for as
    long as the directory (and so the list) is unchanged."""
    if r.caps.fits is None:
        return r.flow.page_size
    memo: dict[object, int] | None = getattr(r.directory, "memo", None)
    at = ("page_size", replace(position, page=0), r.lang, r.caps.fits)
    size = memo.get(at) if memo is not None else None
    if size is None:
        size = _fitting_size(r, node, position, services, fallback)
        if memo is not None:
            memo[at] = size
    return size


def _fitting_size(
    r: _Reading, node: Node, position: Position, services: Sequence[Service], fallback: bool
) -> int:
    assert r.caps.fits is not None
    for size in range(r.flow.page_size, 1, -1):
        pages = range(max(1, -(-len(services) // size)))
        if all(
            r.caps.fits(
                _list_page(r, node, replace(position, page=p), services, fallback, size), r.lang
            )
            for p in pages
        ):
            return size
    return 1


def _list_page(
    r: _Reading,
    node: Node,
    position: Position,
    services: Sequence[Service],
    fallback: bool,
    size: int,
) -> Screen:
    page = position.page
    shown = services[page * size : (page + 1) * size]
    entries = _entries(r, node.detail or "", position, shown, [None] * len(shown))
    choices = _paging(r.flow, position, len(services) > (page + 1) * size)
    if node.id in r.flow.zip_kinds() and not r.caps.zip_anywhere and r.flow.zip_node:
        ask = Position(r.flow.zip_node, item=f".{node.id}")
        choices.append(Choice(r.flow.zip_key if r.caps.keyed else None, "zip.search", ZIP, ask))
    screen = Screen(
        position, "list", node.message, tuple(entries), tuple(choices), fallback=fallback
    )
    return replace(screen, choices=screen.choices + _shortcuts(r.flow, screen))


def _paging(flow: Flow, position: Position, more: bool) -> list[Choice]:
    choices = []
    if more:
        nxt = replace(position, page=position.page + 1)
        choices.append(Choice(flow.more_key, "nav.more", MORE, nxt))
    if position.page:
        choices.append(
            Choice(None, "nav.previous", PREVIOUS, replace(position, page=position.page - 1))
        )
    return choices


def _entries(
    r: _Reading,
    detail: str,
    position: Position,
    services: Sequence[Service],
    near: Sequence[Nearby | None],
) -> list[Entry]:
    # The nearest services are told apart by their distance; a list by its labels.
    nearby = any(one is not None for one in near)
    labels = [s.label(r.lang) for s in services] if nearby else list_labels(services, r.lang)
    back = replace(position, back=None)
    return [
        Entry(
            str(n),
            label,
            service,
            Position(detail, item=service.id, back=back),
            near_one.miles if near_one else None,
            near_one.open_now if near_one else None,
        )
        for n, (service, label, near_one) in enumerate(zip(services, labels, near, strict=True), 1)
    ]


def list_labels(services: Sequence[Service], lang: str) -> list[str]:
    """Return what a list shows for each service: its discreet label, told apart by city (or a
    number) where two would read the same."""
    labels = [service.label(lang) for service in services]
    repeated = {label for label in labels if labels.count(label) > 1}
    distinct = []
    for n, (service, label) in enumerate(zip(services, labels, strict=True), 1):
        if label in repeated:
            label = f"{label}, {service.city}" if service.city else f"{label} {n}"
        distinct.append(label)
    if len(set(distinct)) < len(distinct):  # same label and same city: number them
        return [
            f"{label} {n}" if distinct.count(label) > 1 else label
            for n, label in enumerate(distinct, 1)
        ]
    return distinct


def _detail(r: _Reading, node: Node, position: Position) -> Screen:
    service = r.directory.service(position.item or "")
    if service is None:
        return Screen(position, "detail", notices=(Notice("notice.gone"),))
    choices = []
    if r.caps.dials and dialable(service):
        choices.append(Choice(r.flow.call_key, "option.call", OPTION, position, DIAL))
    if r.caps.details_on_request and service.phone:
        choices.append(Choice(r.flow.details_key, "option.details", OPTION, position, DETAILS))
    screen = Screen(replace(position, page=0), "detail", choices=tuple(choices), service=service)
    if r.caps.fits is None or not service.description(r.lang):
        return screen  # the channel shows every description whole (voice, kiosk, WhatsApp)
    return _described(r, screen, position.page)


# Marks a description that goes on on the next page.
CONTINUED = "..."


def _described(r: _Reading, screen: Screen, page: int) -> Screen:
    """Return page ``page`` of a detail screen whose description may not fit the channel: as
    much as fits, with a choice that shows the rest a page at a time, every page fitting."""
    whole = _with_shortcuts(r.flow, screen)
    if r.caps.fits is not None and r.caps.fits(whole, r.lang):
        return whole
    assert screen.service is not None
    rest, shown = screen.service.description(r.lang), 0
    while True:
        excerpt, rest = _excerpt(r, screen, shown, rest)
        if shown == page or not rest:
            return _part(r, screen, shown, excerpt, bool(rest))
        shown += 1


def _part(r: _Reading, screen: Screen, page: int, excerpt: str, more: bool) -> Screen:
    position = replace(screen.position, page=page)
    choices = list(screen.choices) if page == 0 else []
    if more:
        nxt = replace(position, page=page + 1)
        choices.append(Choice(r.flow.rest_key, "option.rest", MORE, nxt))
    if page:
        choices.append(Choice(None, "nav.previous", PREVIOUS, replace(position, page=page - 1)))
    part = replace(screen, position=position, choices=tuple(choices), excerpt=excerpt)
    return _with_shortcuts(r.flow, part)


def _excerpt(r: _Reading, screen: Screen, page: int, text: str) -> tuple[str, str]:
    """Return the longest start of ``text`` (cut between words where it can be) that fits on
    page ``page``, and what is left of it."""
    fits = r.caps.fits
    assert fits is not None

    def fitting(end: int) -> bool:
        more = end < len(text)
        shown = text[:end].rstrip() + (CONTINUED if more else "")
        return fits(_part(r, screen, page, shown, more), r.lang)

    if fitting(len(text)):
        return text, ""
    cuts = [i for i, ch in enumerate(text) if ch == " "] or list(range(1, len(text)))
    end = _last_true(cuts, fitting)
    if end is None and page:  # a word longer than a whole page: cut inside it, at least
        end = _last_true(list(range(1, len(text))), fitting) or 1  # one character a page
    if not end:  # no whole word fits beside the details: all of it on the next page
        return "", text
    return text[:end].rstrip() + CONTINUED, text[end:].lstrip()


def _last_true(candidates: Sequence[int], test: Callable[[int], bool]) -> int | None:
    """Return the last of ``candidates`` (in increasing order) that passes ``test``, for a test
    that passes up to some point and fails after it."""
    low, high, found = 0, len(candidates) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if test(candidates[middle]):
            found, low = candidates[middle], middle + 1
        else:
            high = middle - 1
    return found


def _with_shortcuts(flow: Flow, screen: Screen) -> Screen:
    return replace(screen, choices=screen.choices + _shortcuts(flow, screen))


def dialable(service: Service | None) -> bool:
    """Return whether a call can be connected to ``service`` (a full number, not 911 or other
    three-digit service codes, which a person must dial themselves)."""
    return bool(service and service.phone and service.phone.startswith("+"))


def _connect(r: _Reading, node: Node, position: Position) -> Screen:
    menu = _menu(r, node, position)
    return replace(menu, kind="connect", service=r.directory.service(node.service or ""))


def _info(r: _Reading, node: Node, position: Position) -> Screen:
    return replace(_menu(r, node, position), kind="info")


# --- Nearest by ZIP code ---------------------------------------------------------------------
#
# A ``zip`` position's item is the ZIP code and the kind chosen (``02139.legal``), the ZIP code
# alone (the kind is still to be chosen), or the kind alone (``.legal``: a list asked for a ZIP
# code of its own kind, which is still to be given).


def zip_item(flow: Flow, position: Position) -> tuple[str | None, str | None]:
    """Return the ZIP code and the chosen kind (a list node id) a ``zip`` position carries."""
    if flow.nodes[position.node].type != "zip" or not position.item:
        return None, None
    code, _, kind = position.item.partition(".")
    if not ZIP_CODE.match(code):
        return None, None
    return code, (kind if kind in flow.zip_kinds() else None)


def pending_kind(flow: Flow, position: Position) -> str | None:
    """Return the kind a ZIP question was asked for (``.legal``), before the code is given."""
    item = position.item or ""
    if flow.nodes[position.node].type != "zip" or not item.startswith("."):
        return None
    kind = item[1:]
    return kind if kind in flow.zip_kinds() else None


def _zip(r: _Reading, node: Node, position: Position) -> Screen:
    code, kind = zip_item(r.flow, position)
    if code is None:
        return Screen(position, "zip_ask", node.message)
    if not r.directory.known_zip(code):
        again = Position(node.id, item=f".{kind}" if kind else None)
        return replace(_zip(r, node, again), notices=(Notice("zip.unknown"),))
    if kind is None:
        choices = tuple(
            Choice(o.key, o.label, OPTION, Position(node.id, item=f"{code}.{o.goto}"))
            for o in node.options
            if o.goto
        )
        return Screen(position, "zip_kind", "zip.kind", choices=choices, zip_code=code)
    return _nearby(r, node, position, code, kind)


def _nearby(r: _Reading, node: Node, position: Position, code: str, kind: str) -> Screen:
    size, page = node.page_size or r.flow.page_size, position.page
    categories = r.flow.node(kind).categories
    found = list(r.directory.nearest(code, categories, r.lang, (page + 2) * size) or [])
    heading = r.flow.node(kind).message
    again = Choice(
        r.flow.zip_key if r.caps.keyed and not r.caps.zip_anywhere else None,
        "zip.again",
        ZIP,
        Position(node.id, item=f".{kind}"),
    )
    if not found:
        lines = list(r.directory.lines(r.flow.node(kind).fallback))
        entries = _entries(r, node.detail or "", position, lines, [None] * len(lines))
        return Screen(
            position,
            "nearby",
            heading,
            tuple(entries),
            (again,),
            (Notice("zip.none"),),
            zip_code=code,
            fallback=True,
        )
    shown = found[page * size : (page + 1) * size]
    services = [near.service for near in shown]
    entries = _entries(r, node.detail or "", position, services, shown)
    choices = [*_paging(r.flow, position, len(found) > (page + 1) * size), again]
    return Screen(position, "nearby", heading, tuple(entries), tuple(choices), zip_code=code)


_BUILDERS: dict[str, Callable[[_Reading, Node, Position], Screen]] = {
    "menu": _menu,
    "list": _list,
    "detail": _detail,
    "connect": _connect,
    "info": _info,
    "zip": _zip,
}


# --- Answering a choice -----------------------------------------------------------------------


def respond(
    flow: Flow,
    position: Position,
    choice: str,
    lang: str,
    directory: Directory,
    caps: Capabilities,
) -> Turn:
    """Return the answer to ``choice`` at ``position``: a key shown there, ``CHOOSE_HOME``,
    ``CHOOSE_TALK``, ``CHOOSE_MORE``, ``CHOOSE_BACK``, or a ZIP code (at any prompt, on a channel
    that takes one there, or where one is asked for). Anything else repeats the screen with a
    one-line notice."""
    here = show(flow, position, lang, directory, caps)
    choice = normalize_choice(choice)
    chosen = _chosen(flow, here, choice)
    if chosen is not None:
        if chosen.action:
            return Turn(here, action=chosen.action, event=f"action:{chosen.action}")
        return _go(flow, chosen.target or position, lang, directory, caps)
    # "That is all of them" answers "more" on a list shown whole; elsewhere "more" means nothing.
    if (choice == CHOOSE_MORE or choice == flow.more_key) and here.entries:
        return _again(flow, position, lang, directory, caps, Notice("notice.no_more"), "more:none")
    code = as_zip(choice)
    if code is not None and flow.zip_node and (caps.zip_anywhere or here.kind == "zip_ask"):
        return enter_zip(flow, position, code, lang, directory, caps)
    if ALMOST_ZIP.match(choice) and (caps.zip_anywhere or here.kind == "zip_ask"):
        return _again(flow, position, lang, directory, caps, Notice("zip.digits"), "zip:digits")
    return _again(flow, position, lang, directory, caps, Notice("notice.unknown"), "unknown")


def _chosen(flow: Flow, here: Screen, choice: str) -> Choice | None:
    by_word = {CHOOSE_HOME: HOME, CHOOSE_TALK: TALK, CHOOSE_BACK: BACK, CHOOSE_MORE: MORE}
    if choice in by_word:
        return here.by_role(by_word[choice])
    return here.choice(choice) if choice else None


def _go(flow: Flow, target: Position, lang: str, directory: Directory, caps: Capabilities) -> Turn:
    screen = show(flow, target, lang, directory, caps)
    return Turn(screen, event=f"step:{target.node}")


def _again(
    flow: Flow,
    position: Position,
    lang: str,
    directory: Directory,
    caps: Capabilities,
    notice: Notice,
    event: str,
) -> Turn:
    screen = show(flow, position, lang, directory, caps, (notice,))
    return Turn(screen, understood=False, event=event)


def enter_zip(
    flow: Flow,
    position: Position,
    code: str,
    lang: str,
    directory: Directory,
    caps: Capabilities,
) -> Turn:
    """Return the answer to a ZIP code sent at ``position``: the nearest services of the list
    the person is on (or had chosen), or the question of which kind when none is chosen. The
    code rides on only in the position; the event says that a code was sent, never which."""
    if flow.zip_node is None:
        return _again(flow, position, lang, directory, caps, Notice("notice.unknown"), "unknown")
    if not directory.known_zip(code):
        return _again(flow, position, lang, directory, caps, Notice("zip.unknown"), "zip:unknown")
    node = flow.node(position.node)
    kind = (
        node.id
        if node.type == "list"
        else (zip_item(flow, position)[1] or pending_kind(flow, position))
    )
    if kind is not None and kind not in flow.zip_kinds():
        kind = None
    item = f"{code}.{kind}" if kind else code
    screen = show(flow, Position(flow.zip_node, item=item), lang, directory, caps)
    return Turn(screen, event="zip:code")
