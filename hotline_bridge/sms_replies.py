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


def _menu(words: Words, node: Node) -> list[str]:
    options = [(o.key, words.t(o.label)) for o in node.options_for(CHANNEL)]
    return [words.t(node.message or ""), *_numbered(options)]


def _list(
    db: sqlite_utils.Database, words: Words, flow: Flow, node: Node, position: Position, site: Site
) -> list[str]:
    ids = listing(db, node, site)
    shown = page_of(flow, ids.services, position.page)
    lines = [
        words.t(node.message or ""),
        *_numbered([(str(n), s.label(words.lang)) for n, s in enumerate(shown, 1)]),
    ]
    if has_more(flow, ids.services, position.page):
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
    lines = [words.t(node.message or "")]
    if service is not None:
        lines.extend(contact_lines(words, service))
    return lines


def body(
    db: sqlite_utils.Database,
    words: Words,
    flow: Flow,
    site: Site,
    position: Position,
) -> list[str]:
    """Return the lines describing the node at ``position`` (without notices or footer)."""
    node = flow.node(position.node)
    if node.type == "menu":
        return _menu(words, node)
    if node.type == "list":
        return _list(db, words, flow, node, position, site)
    if node.type == "detail":
        return _detail(db, words, position)
    if node.type == "connect":
        return _connect(db, words, node)
    return [words.t(node.message or "")]


def reply(
    db: sqlite_utils.Database,
    words: Words,
    flow: Flow,
    site: Site,
    position: Position,
    *,
    notice: str | None = None,
) -> str:
    """Return the full SMS text for ``position``: an optional notice, the node, the footer.

    The main menu opens with the program name, so the first reply says who is writing.
    """
    lines = [notice] if notice else []
    if position.node == flow.start:
        lines.append(program_name(words, site))
    lines.extend(body(db, words, flow, site, position))
    lines.append(footer(words, flow, position))
    return "\n".join(lines)
