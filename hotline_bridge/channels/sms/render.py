"""The SMS channel's replies: a screen written as text, within the segment budget.

The words and their order come from ``channels.text``; this module keeps every reply the
running line can send within ``MAX_SEGMENTS``, counted as Twilio counts them, by asking for less
detail in turn (open-now marks, the example mark, a shorter description, shorter labels) until
the reply fits. A service's description is shortened by the engine, which offers the rest on
request (``Capabilities.fits``), so nothing of it is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hotline_bridge.channels import text
from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, MEDIAN_SEGMENTS, cost
from hotline_bridge.directory.models import Service, Site, as_service
from hotline_bridge.engine.catalogs import Catalogs, Words
from hotline_bridge.engine.conversation import Outcome
from hotline_bridge.engine.flow import Flow, Position
from hotline_bridge.engine.screen import Screen
from hotline_bridge.engine.step import Capabilities, show
from hotline_bridge.engine.walk import with_notice

CHANNEL = "sms"

# A ZIP code may be texted at any prompt, so no key is spent on it.
CAPABILITIES = Capabilities(keyed=True, zip_anywhere=True)


def capabilities(catalogs: Catalogs, flow: Flow, site: Site) -> Capabilities:
    """Return what the SMS line can do at ``site``: lists are paged so that every page's reply
    fits the segment budget in the person's language."""

    def page_fits(screen: Screen, lang: str) -> bool:
        # A page must fit also when it is repeated under "not understood".
        words = catalogs.bind(lang)
        shown = with_notice(screen, "notice.unknown")
        if screen.kind == "detail":
            # A description gives way to the address and the rest: it fits with them or waits.
            return fits(text.reply(words, CHANNEL, flow, site, shown, DETAIL_KEPT))
        return fits(reply(words, flow, site, shown))

    return replace(CAPABILITIES, fits=page_fits)


# Less and less detail, tried in turn until a reply fits the budget.
# What a reply may leave out to save a segment even when it would fit: a hint, the numbers of
# lines offered instead of nearby help (each detail has them), the question under a notice.
_LIGHTER = (
    text.Detail(title_under_notice=False, hints=False),
    text.Detail(title_under_notice=False, hints=False, phones=False),
)
_LIGHT = _LIGHTER[-1]
# What a service's details keep while its description is shortened to fit beside them.
DETAIL_KEPT = _LIGHT
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
    replace(
        _LIGHT,
        open_now=False,
        fictional=False,
        description=0,
        address=False,
        result_phones=False,
        title=False,
    ),
)


def fits(reply: str, segments: int = MAX_SEGMENTS) -> bool:
    """Return whether ``reply`` is within ``segments`` (by default the budget)."""
    return cost(reply).segments <= segments


def reply(words: Words, flow: Flow, site: Site, screen: Screen, opening: str | None = None) -> str:
    """Return the SMS text for ``screen``: whole where it fits in ``MEDIAN_SEGMENTS`` (or can,
    by leaving out what costs little to lose), else as detailed as ``MAX_SEGMENTS`` allows."""

    def compose(detail: text.Detail) -> str:
        return text.reply(words, CHANNEL, flow, site, screen, detail, opening)

    for detail in (_BUDGET_STEPS[0], *_LIGHTER):
        composed = compose(detail)
        if fits(composed, MEDIAN_SEGMENTS):
            return composed
    for detail in _BUDGET_STEPS:
        composed = compose(detail)
        if fits(composed):
            return composed
    return composed


def render(
    words: Words, flow: Flow, site: Site, outcome: Outcome, hotline_phone: str
) -> str | None:
    """Return the reply to an outcome of the conversation (None: stay silent)."""
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
) -> Callable[[Mapping[str, Any], str], bool]:
    """Return a test of whether a service (a checked services row) has details the line can
    send in a language within the budget, its description shortened with the rest on request,
    also when repeated under "not understood"."""
    caps = capabilities(catalogs, flow, site)
    detail = next(node.id for node in flow.nodes.values() if node.type == "detail")

    def check(row: Mapping[str, Any], lang: str) -> bool:
        service = as_service(row)
        position = Position(detail, item=service.id)
        screen = show(flow, position, lang, _OneService(service), caps)
        shown = with_notice(screen, "notice.unknown")
        return fits(reply(catalogs.bind(lang), flow, site, shown))

    return check
