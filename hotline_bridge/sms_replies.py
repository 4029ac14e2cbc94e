"""Turning a flow position into the text of an SMS reply.

Every word comes from the catalogs; this module only decides which entries to join and in what
order. Replies stay within the segment budget (see ``segments``), which ``hotline-bridge check``
verifies for every reply the flow can produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from .directory import Service, Site, display_number, get_service, get_services, services_in
from .flow import Flow, Node, Position, has_more, page_of
from .i18n import Words

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
    lines = _numbered([(str(n), s.label(words.lang)) for n, s in enumerate(shown, 1)])
    if has_more(flow, services, position.page):
        lines.append(words.t("sms.more", key=flow.more_key))
    return lines


def _detail(db: sqlite_utils.Database, words: Words, position: Position) -> list[str]:
    service = get_service(db, position.item or "")
    if service is None:
        return [words.t("sms.gone")]
    lines = [service.name(words.lang), *contact_lines(words, service)]
    if service.hours:
        lines.append(words.t("sms.hours", hours=service.hours))
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
    return []


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
