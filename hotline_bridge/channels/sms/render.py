"""The SMS channel's replies: a screen written as text, within the segment budget.

The words and their order come from ``channels.text``; this module keeps every reply the
running line can send within ``MAX_SEGMENTS``, counted as Twilio counts them, by asking for less
detail in turn (open-now marks, the example mark, a shorter description, shorter labels) until
the reply fits. A service's description is shortened by the engine, which offers the rest on
request (``Capabilities.fits``), so nothing of it is lost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hotline_bridge.channels import text
from hotline_bridge.channels.sms.segments import (
    FIRST_SEGMENTS,
    GSM7_BASIC,
    GSM7_EXTENDED,
    GSM7_MULTI,
    MAX_SEGMENTS,
    MEDIAN_SEGMENTS,
    UCS2_MULTI,
    cost,
)
from hotline_bridge.directory.models import FALLBACK_LANGUAGE, Service, Site, Texts, as_service
from hotline_bridge.engine.catalogs import Catalogs, Words
from hotline_bridge.engine.conversation import Outcome
from hotline_bridge.engine.flow import Flow, Position
from hotline_bridge.engine.screen import MORE, Choice, Screen
from hotline_bridge.engine.step import Capabilities, show
from hotline_bridge.engine.walk import with_notice

CHANNEL = "sms"

# A ZIP code may be texted at any prompt, so no key is spent on it.
CAPABILITIES = Capabilities(keyed=True, zip_anywhere=True)


def capabilities(catalogs: Catalogs, flow: Flow, site: Site) -> Capabilities:
    """Return what the SMS line can do at ``site``: lists are paged so that every page's reply
    fits the segment budget in the person's language."""

    def compose(screen: Screen, lang: str) -> str:
        words = catalogs.bind(lang)
        if screen.kind == "detail":
            # A description gives way to the address and the rest: it fits with them or waits.
            return text.reply(words, CHANNEL, flow, site, screen, DETAIL_KEPT)
        return reply(words, flow, site, screen)

    def page_fits(screen: Screen, lang: str) -> bool:
        # A page must fit also when it is repeated under "not understood", or under "we don't
        # know that ZIP code" (a ZIP code may be sent at any prompt): under the longest notice.
        notice = text.longest_notice(catalogs.bind(lang), CHANNEL)
        if not fits(compose(with_notice(screen, notice), lang)):
            return False
        # A list's page, or a service's details, as first shown keeps to the median budget
        # (two segments) wherever the least of it can: a shorter page, or the rest of a
        # description on request, costs less than a third segment on every reply. A screen
        # under a notice of its own (the calm line) need only fit the budget.
        if screen.kind not in PAGED or screen.notices:
            return True
        least = compose(_least_page(flow, screen), lang)
        return not fits(least, MEDIAN_SEGMENTS) or fits(compose(screen, lang), MEDIAN_SEGMENTS)

    return replace(CAPABILITIES, fits=page_fits)


# Less and less detail, tried in turn until a reply fits the budget.
# What a reply may leave out to save a segment even when it would fit: a hint, the numbers of
# lines offered instead of nearby help (each detail has them), the question under a notice.
_LIGHTER = (
    text.Detail(title_under_notice=False, hints=False),
    text.Detail(title_under_notice=False, hints=False, phones=False),
)
_LIGHT = _LIGHTER[-1]
# A menu may also leave out its question to keep to two segments: its choices say enough (the
# main menu opens with the program's name).
_NO_QUESTION = replace(_LIGHT, title=False)
QUESTIONED = frozenset({"menu", "zip_kind"})
# The screens paged to keep to two segments: a list a few services a page, a service's details
# with the rest of its description on request.
PAGED = frozenset({"list", "detail"})
# What a service's details keep while its description is shortened to fit beside them.
DETAIL_KEPT = _LIGHT
# With no heading, nothing but what is chosen by key and how to reach a service.
_BAREST = replace(
    _LIGHT,
    open_now=False,
    fictional=False,
    description=0,
    address=False,
    result_phones=False,
    title=False,
)
_BUDGET_STEPS = (
    text.Detail(title_under_notice=False),
    *_LIGHTER,
    replace(_LIGHT, fictional=False),
    replace(_LIGHT, open_now=False, fictional=False, description=120),
    replace(_LIGHT, open_now=False, fictional=False, description=60, address=False),
    replace(_LIGHT, open_now=False, fictional=False, description=0, address=False),
    replace(
        _LIGHT, open_now=False, fictional=False, description=0, address=False, result_phones=False
    ),
    _BAREST,
    replace(_BAREST, hours=False),
)


def _least_page(flow: Flow, screen: Screen) -> Screen:
    """Return the least a page of ``screen`` can be: a list's page with one service on it, or
    a service's details with its description left for later."""
    if screen.kind == "list":
        return replace(screen, entries=screen.entries[:1])
    rest = Choice(flow.rest_key, "option.rest", MORE, screen.position)
    others = tuple(choice for choice in screen.choices if choice.role != MORE)
    return replace(screen, excerpt="", choices=(rest, *others))


def fits(reply: str, segments: int = MAX_SEGMENTS) -> bool:
    """Return whether ``reply`` is within ``segments`` (by default the budget)."""
    return cost(reply).segments <= segments


def reply(words: Words, flow: Flow, site: Site, screen: Screen, opening: str | None = None) -> str:
    """Return the SMS text for ``screen``: whole where it fits in ``MEDIAN_SEGMENTS`` (or can,
    by leaving out what costs little to lose), else as detailed as ``MAX_SEGMENTS`` allows."""

    def compose(detail: text.Detail) -> str:
        return text.reply(words, CHANNEL, flow, site, screen, detail, opening)

    lighter = (*_LIGHTER, _NO_QUESTION) if screen.kind in QUESTIONED else _LIGHTER
    for detail in (_BUDGET_STEPS[0], *lighter):
        composed = compose(detail)
        if fits(composed, MEDIAN_SEGMENTS):
            return composed
    for detail in _BUDGET_STEPS:
        composed = compose(detail)
        if fits(composed):
            return composed
    return composed


def render(
    words: Words, flow: Flow, site: Site, outcome: Outcome, hotline_phone: str, to: str = ""
) -> str | None:
    """Return the reply to an outcome of the conversation (None: stay silent); the number the
    message came to (``to``) changes nothing here."""
    return text.answer(words, CHANNEL, flow, site, outcome, hotline_phone, reply)


class _OneService:
    """A directory holding one service: what a detail screen of a row not yet stored needs."""

    def __init__(self, service: Service) -> None:
        self.one = service

    def services(self, categories: Sequence[str]) -> Sequence[Service]:
        return [self.one]

    def service(self, service_id: str) -> Service | None:
        return self.one if service_id == self.one.id else None

    def lines(self, service_ids: Sequence[str]) -> Sequence[Service]:
        return [self.one] if self.one.id in service_ids else []

    def known_zip(self, zip_code: str) -> bool:
        return False

    def nearest(self, zip_code: str, categories: Sequence[str], lang: str, limit: int) -> None:
        return None


def detail_fits(
    catalogs: Catalogs, flow: Flow, site: Site
) -> Callable[[Mapping[str, Any]], list[str]]:
    """Return a test of a service (a checked services row): the languages in which the line
    cannot send its details within the budget even with the least they may say (the name,
    the numbers, the rest of the description on request), also under "not understood"."""
    caps = capabilities(catalogs, flow, site)
    detail = next(node.id for node in flow.nodes.values() if node.type == "detail")

    def least(service: Service, lang: str) -> str:
        shown = show(flow, Position(detail, item=service.id), lang, _OneService(service), caps)
        rest = Choice(flow.rest_key, "option.rest", MORE, shown.position)
        screen = with_notice(replace(shown, choices=(rest, *shown.choices)), "notice.unknown")
        return text.reply(catalogs.bind(lang), CHANNEL, flow, site, screen, _LEAST)

    @functools.lru_cache(maxsize=256)
    def skeleton(numbers: tuple[Any, ...], lang: str) -> str:
        return least(_stand_in(numbers), lang)

    def fits_in(row: Mapping[str, Any], lang: str) -> bool:
        name = row.get(f"name_{lang}") or row.get("name_en") or ""
        if _surely_fits(skeleton(_numbers_of(row), lang), name):
            return True  # most rows: no reply needs composing to know
        service = as_service({k: v for k, v in row.items() if not k.startswith(_DESCRIPTION)})
        return fits(least(service, lang))

    def check(row: Mapping[str, Any]) -> list[str]:
        return [lang for lang in catalogs.languages if not fits_in(row, lang)]

    return check


# What a program name must leave room for: the main menu (the first reply, which opens with
# it) within ``FIRST_SEGMENTS``, and the answers carriers require to name it within the budget.
MENU, HELP = "menu", "help"


def program_fits(
    catalogs: Catalogs, flow: Flow, hotline_phone: str
) -> Callable[[Mapping[str, Any]], list[tuple[str, str]]]:
    """Return a test of a site (a checked sites row): each language, with the answer (``MENU``
    or ``HELP``), in which the program name pushes the main menu over ``FIRST_SEGMENTS`` or
    an answer that must name it (HELP, STOP, START, as carriers require) over the budget."""

    def check(row: Mapping[str, Any]) -> list[tuple[str, str]]:
        names = {lang: row.get(f"name_{lang}") for lang in catalogs.languages}
        site = Site(
            str(row.get("id") or "site"),
            names={lang: name for lang, name in names.items() if name},
            default_language=str(row.get("default_language") or FALLBACK_LANGUAGE),
        )
        caps = capabilities(catalogs, flow, site)
        found = []
        for lang in catalogs.languages:
            words = catalogs.bind(lang)
            menu = show(flow, Position(flow.start), lang, _NoServices(), caps)
            if not fits(reply(words, flow, site, menu), FIRST_SEGMENTS):
                found.append((lang, MENU))
            if not all(
                fits(text.compliance(words, CHANNEL, site, hotline_phone, meaning))
                for meaning in ("help", "stop", "start")
            ):
                found.append((lang, HELP))
        return found

    return check


class _NoServices:
    """A directory with no service: what the main menu, which lists none, is shown from."""

    def services(self, categories: Sequence[str]) -> Sequence[Service]:
        return []

    def service(self, service_id: str) -> Service | None:
        return None

    def lines(self, service_ids: Sequence[str]) -> Sequence[Service]:
        return []

    def known_zip(self, zip_code: str) -> bool:
        return False

    def nearest(self, zip_code: str, categories: Sequence[str], lang: str, limit: int) -> None:
        return None


# The least a reply says: what the budget steps come down to at the last.
_LEAST = _BUDGET_STEPS[-1]
GSM7_ALL = GSM7_BASIC | GSM7_EXTENDED
# What the details leave for later, and so what checking them need not read.
_DESCRIPTION = "description_"
# A US number as the longest way a detail writes one, less its last digit.
_LONGEST_NUMBER = "+1202555012"


def _numbers_of(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Return which contact lines a row's details have (the lines a reply keeps to the last),
    and its languages (a reader of another is told it answers in English only)."""
    sms = row.get("sms") if row.get("sms") != row.get("phone") else None
    return (
        bool(row.get("phone")),
        bool(sms),
        row.get("sms_keyword"),
        bool(row.get("tty")),
        row.get("languages"),
    )


def _stand_in(numbers: tuple[Any, ...]) -> Service:
    """Return a service with the contact lines ``numbers`` names, the longest numbers and a
    one-letter name: its least reply is as long as any such service's, less its name."""
    phone, sms, keyword, tty, languages = numbers

    def number(present: bool, last: int) -> str | None:
        return f"{_LONGEST_NUMBER}{last}" if present else None

    return Service(
        id="stand-in",
        category="",
        texts={FALLBACK_LANGUAGE: Texts(name="x")},
        phone=number(phone, 1),
        sms=number(sms, 2),
        sms_keyword=keyword,
        tty=number(tty, 3),
        languages=languages,
    )


def _surely_fits(skeleton: str, name: str) -> bool:
    """Return whether the least reply fits for certain: the skeleton, its one-letter name
    replaced by ``name``, within the budget."""
    encoding, units = _size(skeleton)
    chars = set(name)
    if encoding == "GSM-7" and chars <= GSM7_ALL:
        escaped = chars & GSM7_EXTENDED  # almost always none: nothing to count
        septets = units - 1 + len(name) + sum(name.count(ch) for ch in escaped)
        # A segment may end a unit short: an escaped character is never split.
        return septets <= MAX_SEGMENTS * (GSM7_MULTI - 1)
    if name and max(name) >= "\u0300":
        return False  # it may hold an emoji or accent of several units, never split: count it
    utf16 = len((skeleton + name).encode("utf-16-le")) // 2 - 1
    # ... nor is a surrogate pair.
    return utf16 <= MAX_SEGMENTS * (UCS2_MULTI - 1)


@functools.lru_cache(maxsize=256)
def _size(skeleton: str) -> tuple[str, int]:
    found = cost(skeleton)
    return found.encoding, found.units
