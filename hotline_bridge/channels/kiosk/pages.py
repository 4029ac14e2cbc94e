"""What each kiosk page shows: one builder per kind of screen the engine returns.

The kiosk renders the same flow as the SMS and voice lines: the engine says what a position
shows and where each choice leads (``engine.step.show``), and a builder here turns that screen
into a template name with the values to fill it. A kind of screen with no builder here raises
``UnknownPage``, which the kiosk answers with its fail-safe page rather than an error.

The ZIP step is a keypad for a ZIP code, then big buttons for the kind of help (unless the
person came from a list), then the nearest services, three at a time. The ZIP code rides only in
the page's address; nothing here stores or logs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import segno
from markupsafe import Markup

from hotline_bridge.directory.hours import describe
from hotline_bridge.directory.models import (
    Service,
    Site,
    call_uri,
    dial_string,
    display_number,
    display_phone,
)
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.engine.flow import Flow, Position
from hotline_bridge.engine.screen import MORE, OPTION, PREVIOUS, ZIP, Screen
from hotline_bridge.engine.step import Capabilities, pending_kind

CHANNEL = "kiosk"

# Buttons, not keys: every choice is something to touch. A ZIP code is typed on a keypad of its
# own, reached by a button.
CAPABILITIES = Capabilities(keyed=False, zip_anywhere=False)

# QR codes are drawn one unit per module and sized by the stylesheet; a quiet zone of two modules
# is enough for phone cameras against the white page.
QR_BORDER = 2


class UnknownPage(Exception):
    """The engine returned a kind of screen the kiosk does not know how to show."""


@dataclass(frozen=True)
class Visit:
    """One kiosk page to build: the screen the engine returned and what showing it needs.

    ``link(position)`` returns the address of a position in the same site and language.
    """

    words: Words
    flow: Flow
    site: Site
    screen: Screen
    link: Callable[[Position], str]


@dataclass(frozen=True)
class Choice:
    """A large button: its words and where it leads."""

    label: str
    href: str


@dataclass(frozen=True)
class Contact:
    """One way to reach a service, as a label and the value shown in large type."""

    label: str
    value: str
    wide: bool = False  # a long value (an address) that takes a whole row


@dataclass(frozen=True)
class Code:
    """A QR code drawn on the server, with the words beside it and its accessible name."""

    svg: Markup
    caption: str
    name: str


@dataclass(frozen=True)
class Result(Choice):
    """One service near a ZIP code, as a large button (its label and where it leads) with its
    distance, open now and phone."""

    miles: str | None = None
    open_now: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Page:
    """A template and the values that fill it."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


def build(visit: Visit) -> Page:
    """Return the page for the visit's screen."""
    builder = BUILDERS.get(visit.screen.kind)
    if builder is None:
        raise UnknownPage(visit.screen.kind)
    return builder(visit)


def heading(words: Words, key: str | None) -> str:
    """Return a screen's message as a page heading."""
    # Flow messages introduce a list with a colon in SMS; a heading reads better without it.
    return words.pick(CHANNEL, key).rstrip(" :") if key else ""


def _link(visit: Visit, role: str) -> str | None:
    choice = visit.screen.by_role(role)
    return visit.link(choice.target) if choice and choice.target else None


def _choices(visit: Visit, roles: frozenset[str] = frozenset({OPTION, ZIP})) -> list[Choice]:
    """Return the screen's options as buttons (the kiosk performs no channel action such as
    dialling: an option that asks for one is not shown)."""
    words = visit.words
    return [
        Choice(words.pick(CHANNEL, c.label), visit.link(c.target))
        for c in visit.screen.choices
        if c.role in roles and c.target is not None and c.action is None
    ]


def _entries(visit: Visit) -> list[Choice]:
    return [Choice(e.label, visit.link(e.target)) for e in visit.screen.entries]


def _menu(visit: Visit) -> Page:
    home = visit.screen.position.node == visit.flow.start
    context = {"heading": heading(visit.words, visit.screen.title), "choices": _choices(visit)}
    return Page("home.html" if home else "menu.html", context)


def _list(visit: Visit) -> Page:
    context = {
        "heading": heading(visit.words, visit.screen.title),
        "choices": _entries(visit) + _choices(visit, frozenset({OPTION})),
        "more": _link(visit, MORE),
        "previous": _link(visit, PREVIOUS),
        "zip_url": _link(visit, ZIP),
    }
    return Page("list.html", context)


def _gone(visit: Visit) -> Page:
    text = visit.words.pick(CHANNEL, "notice.gone")
    return Page("info.html", {"heading": text, "text": None, "choices": []})


def _detail(visit: Visit) -> Page:
    service = visit.screen.service
    if service is None:
        return _gone(visit)
    words = visit.words
    context = {
        "heading": service.name(words.lang),
        "description": service.description(words.lang),
        "fictional": bool(service.fictional),
        "english_only": service.english_only_for(words.lang),
    }
    return Page("detail.html", {**context, **take_away(words, service)})


def _connect(visit: Visit) -> Page:
    service = visit.screen.service
    words = visit.words
    context: dict[str, Any] = {"heading": heading(words, visit.screen.title), "label": None}
    if service is not None:
        context.update(label=service.label(words.lang), **take_away(words, service))
        if service.id == visit.flow.emergency:
            context["codes"] = []  # an emergency is a call to make now, not a number to keep
    return Page("connect.html", {**context, "choices": _choices(visit)})


def _info(visit: Visit) -> Page:
    words = visit.words
    title = arrival_label(visit.flow, words, visit.screen.position.node)
    text = heading(words, visit.screen.title) if visit.screen.title else ""
    return Page(
        "info.html",
        {"heading": title or text, "text": text if title else None, "choices": _choices(visit)},
    )


def arrival_label(flow: Flow, words: Words, node_id: str) -> str | None:
    """Return the words of the button that leads to ``node_id``, to title its page."""
    for node in flow.nodes.values():
        for option in node.options:
            if option.goto == node_id:
                return words.pick(CHANNEL, option.label)
    return None


# --- Nearest by ZIP code ----------------------------------------------------------------------


def _notice(visit: Visit) -> str | None:
    notices = visit.screen.notices
    return visit.words.pick(CHANNEL, notices[0].key) if notices else None


def _keypad(visit: Visit) -> Page:
    """Return the on-screen keypad, which sends the ZIP code as a form to this same address
    (which carries the kind of help the keypad was opened for, if any)."""
    words, screen = visit.words, visit.screen
    kind = pending_kind(visit.flow, screen.position)
    context: dict[str, Any] = {
        "heading": words.t("kiosk.zip_title"),
        "kind": heading(words, visit.flow.node(kind).message) if kind else None,
        "notice": _notice(visit),
        "form_url": visit.link(screen.position),
        "form_back": None,
    }
    return Page("keypad.html", context)


def _zip_kind(visit: Visit) -> Page:
    words = visit.words
    context = {
        "heading": heading(words, visit.screen.title),
        "text": words.t("kiosk.zip_near", zip=visit.screen.zip_code),
        "choices": _choices(visit),
    }
    return Page("info.html", context)


def _nearby(visit: Visit) -> Page:
    """Return a page of the services nearest to the ZIP code, or, when nothing is near, the
    lines that help from anywhere (each opening its detail, like any result)."""
    words, screen = visit.words, visit.screen
    results = [
        Result(
            entry.label,
            visit.link(entry.target),
            words.t("kiosk.zip_miles", miles=f"{entry.miles:.1f}")
            if entry.miles is not None
            else None,
            words.t("kiosk.zip_open") if entry.open_now else None,
            _phone(words, entry.service),
        )
        for entry in screen.entries
    ]
    context = {
        "heading": heading(words, screen.title),
        "near": words.t("kiosk.zip_nearest", zip=screen.zip_code),
        "nothing": _notice(visit) if screen.fallback else None,
        "results": results,
        "fictional": any(entry.service.fictional for entry in screen.entries),
        "more": _link(visit, MORE),
        "previous": _link(visit, PREVIOUS),
        "again_url": _link(visit, ZIP),
    }
    return Page("nearby.html", context)


def _phone(words: Words, service: Service) -> str | None:
    if not service.phone:
        return None
    return display_phone(service.phone, service.phone_extension, words.t)


BUILDERS: dict[str, Callable[[Visit], Page]] = {
    "menu": _menu,
    "list": _list,
    "detail": _detail,
    "connect": _connect,
    "info": _info,
    "zip_ask": _keypad,
    "zip_kind": _zip_kind,
    "nearby": _nearby,
}


# --- How to reach a service, on screen, as QR codes and on a printed slip ----------------------


def _text_number(service: Service) -> str | None:
    """Return the number to text, when texting is a separate way to reach the service."""
    if service.sms and (service.sms_keyword or service.sms != service.phone):
        return service.sms
    return None


def take_away(words: Words, service: Service) -> dict[str, Any]:
    """Return the contact rows, QR codes and printed slip of ``service``."""
    return {
        "contacts": contacts(words, service),
        "codes": codes(words, service),
        "slip": slip(words, service),
    }


def contacts(words: Words, service: Service) -> list[Contact]:
    """Return every way to reach ``service`` and when, one row each."""
    rows = []
    if service.phone:
        rows.append(Contact(words.t("kiosk.phone"), _phone(words, service) or ""))
    text = _text_number(service)
    if text:
        value = display_number(text)
        if service.sms_keyword:
            value = words.t("kiosk.text_keyword", keyword=service.sms_keyword, number=value)
        rows.append(Contact(words.t("kiosk.text"), value))
    if service.tty:
        rows.append(Contact(words.t("kiosk.tty"), display_number(service.tty)))
    if service.hours:
        rows.append(Contact(words.t("kiosk.hours"), describe(service.hours, words.lang)))
    address = _address(service)
    if service.confidential:  # a shelter: never where it is, even in part
        rows.append(Contact(words.t("kiosk.address"), words.t("kiosk.address_by_phone")))
    elif address:
        rows.append(Contact(words.t("kiosk.address"), address, wide=True))
    return rows


def _address(service: Service) -> str:
    region = " ".join(part for part in (service.state, service.zip) if part)
    return ", ".join(part for part in (service.address, service.city, region) if part)


def qr_svg(uri: str) -> Markup:
    """Return ``uri`` as an inline SVG QR code, drawn with attributes only (no inline style)."""
    code = segno.make(uri, micro=False)
    svg = code.svg_inline(
        scale=1,
        border=QR_BORDER,
        omitsize=True,
        svgclass="qr",
        lineclass=None,
        dark="#000",
        light="#fff",
    )
    # Safe to mark as markup: segno's own drawing of a number from the directory.
    return Markup(svg)


def codes(words: Words, service: Service) -> list[Code]:
    """Return QR codes that open a phone's dialer (which then dials the extension, if the
    service has one) or messages with the service's number."""
    found = []
    if service.phone:
        number = _phone(words, service) or ""
        found.append(
            Code(
                qr_svg(call_uri(service.phone, service.phone_extension)),
                words.t("kiosk.qr_call"),
                words.t("kiosk.qr_call_label", number=number),
            )
        )
    text = _text_number(service)
    if text:
        body = f"?body={quote(service.sms_keyword)}" if service.sms_keyword else ""
        found.append(
            Code(
                qr_svg(f"sms:{dial_string(text)}{body}"),
                words.t("kiosk.qr_text"),
                words.t("kiosk.qr_text_label", number=display_number(text)),
            )
        )
    return found


def slip(words: Words, service: Service) -> Sequence[str]:
    """Return the printed slip's lines: the discreet label and the numbers, nothing else."""
    lines = [service.label(words.lang)]
    if service.phone:
        lines.append(words.t("kiosk.slip_call", number=_phone(words, service)))
    text = _text_number(service)
    if text and service.sms_keyword:
        number = display_number(text)
        lines.append(words.t("kiosk.slip_text_keyword", keyword=service.sms_keyword, number=number))
    elif text:
        lines.append(words.t("kiosk.slip_text", number=display_number(text)))
    return lines
