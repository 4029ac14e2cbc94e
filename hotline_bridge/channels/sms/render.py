"""Turning a flow position into the text of an SMS reply.

Every word comes from the catalogs; this module only decides which entries to join and in what
order. Replies stay within the segment budget (see ``segments``), which ``hotline-bridge check``
verifies for every reply the flow can produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, cost
from hotline_bridge.directory.hours import describe
from hotline_bridge.directory.models import (
    Service,
    Site,
    display_number,
    distinct_labels,
    get_service,
    get_services,
    services_in,
)
from hotline_bridge.directory.nearby import Nearby, nearest
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.engine.flow import Flow, Node, Position, has_more, page_of, zip_item

CHANNEL = "sms"


@dataclass(frozen=True)
class Listing:
    """The services a list node shows, as ids in order, and the services themselves."""

    services: Sequence[Service]

    @property
    def ids(self) -> list[str]:
        return [service.id for service in self.services]


def listing(db: sqlite_utils.Database, node: Node, site: Site) -> Listing:
    """Return what a list node shows at ``site``: its categories' services, or its fallback
    lines when the site has none, so a list is never empty."""
    found = services_in(db, node.categories, site.id)
    return Listing(found or get_services(db, node.fallback))


def program_name(words: Words, site: Site) -> str:
    """Return the site's program name in the reply's language."""
    return site.program_name(words.lang) or words.t("program.name")


def footer(words: Words, flow: Flow, position: Position) -> str:
    """Return the last line: the language switch on the main menu, the shortcuts elsewhere."""
    if position.node == flow.start:
        return words.t("sms.switch_language")
    return words.t("sms.shortcuts", talk=flow.talk_key, home=flow.home_key)


def _numbered(lines: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{key} {label}" for key, label in lines]


def contact_lines(words: Words, service: Service) -> list[str]:
    """Return how to reach ``service``: call, text, TTY, one line each."""
    lines = []
    if service.phone:
        lines.append(words.t("sms.call", number=display_number(service.phone)))
    if service.sms and service.sms_keyword:
        lines.append(words.t("sms.text_keyword", keyword=service.sms_keyword, number=service.sms))
    elif service.sms and service.sms != service.phone:
        lines.append(words.t("sms.text", number=display_number(service.sms)))
    if service.tty:
        lines.append(words.t("sms.tty", number=display_number(service.tty)))
    return lines


def title(words: Words, node: Node) -> str:
    """Return the node's own message on this channel."""
    return words.t(str(node.message_for(CHANNEL)))


def _menu(words: Words, node: Node) -> list[str]:
    options = [(o.key, words.t(o.label)) for o in node.options_for(CHANNEL)]
    return _numbered(options)


def _list(
    db: sqlite_utils.Database, words: Words, flow: Flow, node: Node, position: Position, site: Site
) -> list[str]:
    services = listing(db, node, site).services
    shown = page_of(flow, services, position.page)
    labels = distinct_labels(shown, words.lang)
    lines = _numbered([(str(n), label) for n, label in enumerate(labels, 1)])
    if has_more(flow, services, position.page):
        lines.append(words.t("sms.more", key=flow.more_key))
    return lines


def _detail(db: sqlite_utils.Database, words: Words, position: Position) -> list[str]:
    service = get_service(db, position.item or "")
    if service is None:
        return [words.t("sms.gone")]
    lines = [service.name(words.lang), *contact_lines(words, service)]
    if service.hours:
        lines.append(words.t("sms.hours", hours=describe(service.hours, words.lang)))
    if service.description(words.lang):
        lines.append(service.description(words.lang))
    if service.fictional:
        lines.append(words.t("directory.fictional"))
    return lines


def _connect(db: sqlite_utils.Database, words: Words, node: Node) -> list[str]:
    service = get_service(db, node.service or "")
    return contact_lines(words, service) if service is not None else []


def body(
    db: sqlite_utils.Database,
    words: Words,
    flow: Flow,
    site: Site,
    position: Position,
) -> list[str]:
    """Return the lines describing the node at ``position``: its message, then its choices or
    details (without notices or footer)."""
    node = flow.node(position.node)
    if node.type == "detail":
        return _detail(db, words, position)
    if node.type == "zip":
        return list(_nearby(db, words, flow, site, position))
    return [title(words, node), *choices(db, words, flow, site, position)]


def choices(
    db: sqlite_utils.Database, words: Words, flow: Flow, site: Site, position: Position
) -> list[str]:
    """Return what a person can pick or use at ``position``, without the node's message."""
    node = flow.node(position.node)
    if node.type == "menu":
        return _menu(words, node)
    if node.type == "list":
        return _list(db, words, flow, node, position, site)
    if node.type == "connect":
        return _connect(db, words, node)
    if node.type == "zip":
        lines = _nearby(db, words, flow, site, position)
        return lines[1:] or lines  # still waiting for a ZIP code: ask again
    return []


def nearby_listing(
    db: sqlite_utils.Database, flow: Flow, site: Site, position: Position, lang: str
) -> list[Nearby] | None:
    """Return the nearest services a ``zip`` position shows, through the page after its own
    (so a reply knows whether there are more); None when the ZIP code is unknown."""
    code, kind = zip_item(flow, position)
    if code is None or kind is None:
        return []
    size = flow.node(position.node).page_size or flow.page_size
    categories = flow.node(kind).categories
    return nearest(
        db,
        code,
        categories,
        site=site,
        lang=lang,
        limit=(position.page + 2) * size,
    )


def _nearby(
    db: sqlite_utils.Database, words: Words, flow: Flow, site: Site, position: Position
) -> list[str]:
    """Return a ``zip`` position's title line, then what can be chosen there: the kinds of help
    until one is chosen, then the nearest services with distance, "open now" and phone."""
    node = flow.node(position.node)
    code, kind = zip_item(flow, position)
    if code is None:
        return [title(words, node)]
    if kind is None:
        return [words.t("zip.kind"), *_menu(words, node)]
    found = nearby_listing(db, flow, site, position, words.lang)
    if found is None:
        return [words.t("zip.unknown")]
    if not found:
        fallback = get_services(db, flow.node(kind).fallback)
        return [words.t("zip.none"), *(_reach(words, s) for s in fallback)]
    return _results(words, flow, position, found, title(words, flow.node(kind)))


def _results(
    words: Words, flow: Flow, position: Position, found: Sequence[Nearby], heading: str
) -> list[str]:
    """Return the page of nearest services under ``heading``, as much of each as fits."""
    size = flow.node(position.node).page_size or flow.page_size
    shown = page_of(flow, found, position.page, size)
    more = []
    if has_more(flow, found, position.page, size):
        more.append(words.t("sms.more", key=flow.more_key))
    # The longest line that can stand above the results: their title, or the "not understood"
    # notice that replaces it; the footer follows them.
    above = max(heading, words.t("sms.unknown"), key=len)
    below = footer(words, flow, position)
    for marks in _RESULT_MARKS:
        lines = [*(_result(words, n, near, marks) for n, near in enumerate(shown, 1)), *more]
        if marks.fictional and any(near.service.fictional for near in shown):
            lines.append(words.t("directory.fictional"))
        if cost("\n".join([above, *lines, below])).segments <= MAX_SEGMENTS:
            break
    return [heading, *lines]


@dataclass(frozen=True)
class _Marks:
    """What a result line may add to label, distance and phone, dropped in turn until the reply
    fits the segment budget (accented Spanish travels as UCS-2, 67 characters a segment)."""

    open_now: bool
    fictional: bool
    label_words: int | None = None


# Last of all, labels keep only their first words; the detail step shows the whole service.
_RESULT_MARKS = (
    _Marks(True, True),
    _Marks(True, False),
    _Marks(False, False),
    _Marks(False, False, label_words=2),
    _Marks(False, False, label_words=1),
)


def _result(words: Words, key: int, near: Nearby, marks: _Marks) -> str:
    is_open = words.t("zip.open_now") if near.open_now and marks.open_now else ""
    return words.t(
        "zip.result",
        key=key,
        label=" ".join(near.service.label(words.lang).split()[: marks.label_words]),
        miles=f"{near.miles:.1f}",
        open=is_open,
        phone=display_number(near.service.phone),
    ).rstrip()


def _reach(words: Words, service: Service) -> str:
    return f"{service.label(words.lang)}: {display_number(service.phone)}"


def reply(
    db: sqlite_utils.Database,
    words: Words,
    flow: Flow,
    site: Site,
    position: Position,
    *,
    notice: str | None = None,
) -> str:
    """Return the full SMS text for ``position``: the node (the main menu opens with the program
    name, so the first reply says who is writing) and the footer.

    With a ``notice`` (a choice was not understood) the notice takes the place of the node's
    message and only the choices are repeated, keeping the reply short.
    """
    if notice:
        lines = [notice, *choices(db, words, flow, site, position)]
    else:
        lines = [program_name(words, site)] if position.node == flow.start else []
        lines.extend(body(db, words, flow, site, position))
    lines.append(footer(words, flow, position))
    return "\n".join(lines)


def compliance(
    db: sqlite_utils.Database,
    words: Words,
    flow: Flow,
    site: Site,
    hotline_phone: str,
    meaning: str,
) -> str:
    """Return the answer to STOP, START or HELP: each names the program, as carriers require;
    HELP and STOP also give the 24/7 line, since a person may text HELP because they need it."""
    params = {"program": program_name(words, site), "phone": display_number(hotline_phone)}
    if meaning == "stop":
        return words.t("sms.stop", **params)
    if meaning == "start":
        return reply(
            db, words, flow, site, Position(flow.start), notice=words.t("sms.start", **params)
        )
    return words.t("sms.help", **params)
