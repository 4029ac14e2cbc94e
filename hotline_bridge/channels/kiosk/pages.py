"""What each kiosk page shows: one builder per flow node type, fed by the flow and the directory.

The kiosk renders the same flow as the SMS and voice lines: builders ask the flow engine where
each button leads and the directory what to show, and return a template name with the values to
fill it. A node type with no builder here raises ``UnknownPage``, which the kiosk answers with its
fail-safe page rather than an error.

The ``zip`` node is a keypad for a ZIP code, then big buttons for the kind of help (unless the
person came from a list), then the nearest services, three at a time. The ZIP code rides only in
the page's address; nothing here stores or logs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import segno
import sqlite_utils
from markupsafe import Markup

from hotline_bridge.channels.sms.render import listing, nearby_listing
from hotline_bridge.directory.hours import describe
from hotline_bridge.directory.models import (
    Service,
    Site,
    dial_string,
    display_number,
    distinct_labels,
    get_service,
    get_services,
)
from hotline_bridge.directory.nearby import Nearby, zip_point
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.engine.flow import (
    MORE,
    Flow,
    Node,
    Position,
    advance,
    has_more,
    page_of,
    zip_item,
)

CHANNEL = "kiosk"

# QR codes are drawn one unit per module and sized by the stylesheet; a quiet zone of two modules
# is enough for phone cameras against the white page.
QR_BORDER = 2


class UnknownPage(Exception):
    """The flow holds a node type the kiosk does not know how to show."""


@dataclass(frozen=True)
class Visit:
    """One kiosk page to build: the place in the flow and what answering needs.

    ``link(position, back)`` returns the address of a position in the same site and language;
    ``back`` is where the page's Back button leads. ``notice`` is a catalog key to show above the
    page, such as the ZIP keypad's "type all five digits".
    """

    db: sqlite_utils.Database
    words: Words
    flow: Flow
    site: Site
    position: Position
    link: Callable[[Position, Position | None], str]
    back: Position | None = None
    notice: str | None = None


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


@dataclass(frozen=True)
class Code:
    """A QR code drawn on the server, with the words beside it and its accessible name."""

    svg: Markup
    caption: str
    name: str


@dataclass(frozen=True)
class Result:
    """One service near a ZIP code, as a large button: label, distance, open now and phone."""

    label: str
    href: str
    miles: str | None = None
    open_now: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Page:
    """A template and the values that fill it (a ``back_url`` here replaces the usual Back)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


def build(visit: Visit) -> Page:
    """Return the page for the node at the visit's position."""
    node = visit.flow.node(visit.position.node)
    builder = BUILDERS.get(node.type)
    if builder is None:
        raise UnknownPage(node.type)
    return builder(visit, node)


def parent_of(flow: Flow, node_id: str) -> Position | None:
    """Return where Back leads from ``node_id``: the first node with a button to it."""
    for node in flow.nodes.values():
        if any(option.goto == node_id for option in node.options_for(CHANNEL)):
            return Position(node.id)
    return None


def message(words: Words, node: Node) -> str:
    """Return the wording of a node's message on the kiosk (empty if it has none)."""
    key = node.message_for(CHANNEL)
    return words.t(key) if key else ""


def heading(words: Words, node: Node) -> str:
    """Return a node's message as a page heading."""
    # Flow messages introduce a list with a colon in SMS; a heading reads better without it.
    return message(words, node).rstrip(" :")


def _choices(visit: Visit, node: Node) -> list[Choice]:
    choices = []
    for option in node.options_for(CHANNEL):
        step = advance(visit.flow, visit.position, option.key, channel=CHANNEL)
        # The kiosk performs no channel actions (such as dialling); it only moves between pages.
        if step.action is None and step.position != visit.position:
            choices.append(Choice(visit.words.t(option.label), visit.link(step.position, None)))
    return choices


def _menu(visit: Visit, node: Node) -> Page:
    home = node.id == visit.flow.start
    context = {"heading": heading(visit.words, node), "choices": _choices(visit, node)}
    return Page("home.html" if home else "menu.html", context)


def _list(visit: Visit, node: Node) -> Page:
    flow, position, lang = visit.flow, visit.position, visit.words.lang
    services = listing(visit.db, node, visit.site).services
    ids = [service.id for service in services]
    choices = []
    shown = page_of(flow, services, position.page)
    for number, label in enumerate(distinct_labels(shown, lang), 1):
        step = advance(flow, position, str(number), channel=CHANNEL, items=ids)
        choices.append(Choice(label, visit.link(step.position, position)))
    more = previous = None
    if has_more(flow, services, position.page):
        more = visit.link(advance(flow, position, MORE, channel=CHANNEL, items=ids).position, None)
    if position.page:
        previous = visit.link(Position(node.id, page=position.page - 1), None)
    context = {"heading": heading(visit.words, node), "choices": choices}
    zip_url = _zip_url(visit, node)
    return Page("list.html", {**context, "more": more, "previous": previous, "zip_url": zip_url})


def _zip_url(visit: Visit, node: Node) -> str | None:
    """Return the address of the ZIP keypad for this list's kind of help, when the ZIP step
    offers that kind on the kiosk."""
    zip_node = visit.flow.zip_node
    if zip_node is None or zip_node not in visit.flow.nodes:
        return None
    kinds = {option.goto for option in visit.flow.node(zip_node).options_for(CHANNEL)}
    if node.id not in kinds:
        return None
    return visit.link(Position(zip_node), Position(node.id))


def _detail(visit: Visit, _node: Node) -> Page:
    service = get_service(visit.db, visit.position.item or "")
    if service is None:
        return Page(
            "info.html", {"heading": visit.words.t("kiosk.gone"), "text": None, "choices": []}
        )
    words = visit.words
    context = {
        "heading": service.name(words.lang),
        "description": service.description(words.lang),
        "fictional": bool(service.fictional),
    }
    return Page("detail.html", {**context, **take_away(words, service)})


def _connect(visit: Visit, node: Node) -> Page:
    service = get_service(visit.db, node.service or "")
    context: dict[str, Any] = {"heading": heading(visit.words, node), "label": None}
    if service is not None:
        context.update(label=service.label(visit.words.lang), **take_away(visit.words, service))
        if service.id == visit.flow.emergency:
            context["codes"] = []  # an emergency is a call to make now, not a number to keep
    return Page("connect.html", {**context, "choices": _choices(visit, node)})


def _info(visit: Visit, node: Node) -> Page:
    words = visit.words
    title = arrival_label(visit.flow, words, node.id)
    text = message(words, node)
    return Page(
        "info.html",
        {
            "heading": title or text,
            "text": text if title else None,
            "choices": _choices(visit, node),
        },
    )


def arrival_label(flow: Flow, words: Words, node_id: str) -> str | None:
    """Return the words of the button that leads to ``node_id``, to title its page."""
    for node in flow.nodes.values():
        for option in node.options_for(CHANNEL):
            if option.goto == node_id:
                return words.t(option.label)
    return None


# --- Nearest by ZIP code ----------------------------------------------------------------------


def _zip(visit: Visit, node: Node) -> Page:
    """Return the ZIP step's page: the keypad until a known ZIP code is typed, then the kinds of
    help until one is chosen, then the nearest services of that kind."""
    words, position = visit.words, visit.position
    code, kind = zip_item(visit.flow, position)
    if code is None:
        return _keypad(visit, node, _kind_asked(visit), visit.notice)
    if zip_point(code) is None:
        return _keypad(visit, node, kind, "kiosk.zip_unknown")
    if kind is None:
        context = {
            "heading": words.t("zip.kind"),
            "text": words.t("kiosk.zip_near", zip=code),
            "choices": _choices(visit, node),
            "back_url": visit.link(Position(node.id), None),
        }
        return Page("info.html", context)
    found = nearby_listing(visit.db, visit.flow, visit.site, position, words.lang)
    if found is None:  # zip_point knew the code, so only a changed ZIP table gets here
        return _keypad(visit, node, kind, "kiosk.zip_unknown")
    return _nearest(visit, node, code, kind, found)


def _kind_asked(visit: Visit) -> str | None:
    """Return the list the keypad was opened from (its Back), whose kind of help to search."""
    back = visit.back
    if back is None or visit.flow.nodes.get(back.node, Node("", "")).type != "list":
        return None
    return back.node


def _keypad(visit: Visit, node: Node, kind: str | None, notice: str | None) -> Page:
    """Return the on-screen keypad, which sends the ZIP code and the kind of help as a form."""
    words = visit.words
    context: dict[str, Any] = {
        "heading": words.t("kiosk.zip_title"),
        "kind": heading(words, visit.flow.node(kind)) if kind else None,
        "notice": words.t(notice) if notice else None,
        "form_url": visit.link(Position(node.id), None),
        "form_back": kind,
    }
    if kind and visit.position.item:
        # Back from a ZIP code that was not found leads to the list it was searched for.
        context["back_url"] = visit.link(Position(kind), None)
    return Page("keypad.html", context)


def _nearest(visit: Visit, node: Node, code: str, kind: str, found: Sequence[Nearby]) -> Page:
    """Return a page of the services nearest to ``code``, or the fallback lines if none is near."""
    flow, position, words = visit.flow, visit.position, visit.words
    size = node.page_size or flow.page_size
    ids = [near.service.id for near in found]
    page = page_of(flow, found, position.page, size)
    results = []
    for number, near in enumerate(page, 1):
        step = advance(flow, position, str(number), channel=CHANNEL, items=ids)
        results.append(
            Result(
                near.service.label(words.lang),
                visit.link(step.position, position),
                words.t("kiosk.zip_miles", miles=f"{near.miles:.1f}"),
                words.t("kiosk.zip_open") if near.open_now else None,
                _phone(near.service),
            )
        )
    shown = [near.service for near in page]
    if not found:
        # Nothing near: the lines that help from anywhere, each opening its detail.
        shown = get_services(visit.db, flow.node(kind).fallback)
        for service in shown:
            href = visit.link(Position(node.detail or "", service.id), position)
            results.append(Result(service.label(words.lang), href, phone=_phone(service)))
    more = previous = None
    if has_more(flow, found, position.page, size):
        more = visit.link(advance(flow, position, MORE, channel=CHANNEL, items=ids).position, None)
    if position.page:
        previous = visit.link(Position(node.id, position.item, position.page - 1), None)
    context = {
        "heading": heading(words, flow.node(kind)),
        "near": words.t("kiosk.zip_nearest", zip=code),
        "nothing": None if found else words.t("zip.none"),
        "results": results,
        "fictional": any(service.fictional for service in shown),
        "more": more,
        "previous": previous,
        "again_url": visit.link(Position(node.id), Position(kind)),
        "back_url": visit.link(Position(node.id, code), None),
    }
    return Page("nearby.html", context)


def _phone(service: Service) -> str | None:
    return display_number(service.phone) if service.phone else None


BUILDERS: dict[str, Callable[[Visit, Node], Page]] = {
    "menu": _menu,
    "list": _list,
    "detail": _detail,
    "connect": _connect,
    "info": _info,
    "zip": _zip,
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
        rows.append(Contact(words.t("kiosk.phone"), display_number(service.phone)))
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
    if address:
        rows.append(Contact(words.t("kiosk.address"), address))
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
    """Return QR codes that open a phone's dialer or messages with the service's number."""
    found = []
    if service.phone:
        number = display_number(service.phone)
        found.append(
            Code(
                qr_svg(f"tel:{dial_string(service.phone)}"),
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
        lines.append(words.t("kiosk.slip_call", number=display_number(service.phone)))
    text = _text_number(service)
    if text and service.sms_keyword:
        number = display_number(text)
        lines.append(words.t("kiosk.slip_text_keyword", keyword=service.sms_keyword, number=number))
    elif text:
        lines.append(words.t("kiosk.slip_text", number=display_number(text)))
    return lines
