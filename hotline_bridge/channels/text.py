"""Writing a screen as a text message: what the SMS and WhatsApp channels share.

Every word comes from the catalogs (a channel's own variant of a key where it has one, see
``Words.pick``); this module decides which entries to join and in what order. How much of each
line a reply may carry is a ``Detail``, so a channel with a size budget can ask for less.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from hotline_bridge.directory.hours import describe
from hotline_bridge.directory.models import Service, Site, display_number, display_phone
from hotline_bridge.engine.catalogs import Catalogs, Words
from hotline_bridge.engine.conversation import Outcome
from hotline_bridge.engine.flow import Flow
from hotline_bridge.engine.screen import (
    BACK,
    ENTRY,
    HOME,
    MORE,
    OPTION,
    TALK,
    ZIP,
    Entry,
    Screen,
)
from hotline_bridge.engine.step import Capabilities

# The order of the shortcuts in a reply's last line.
_SHORTCUT_ORDER = (TALK, BACK, HOME)
# Notices that only suggest something; a reply short of room leaves them out.
HINTS = frozenset({"zip.hint"})
# Notices that may stand in place of a screen's question when room is short ("not understood").
INSTEAD_OF_TITLE = frozenset({"notice.unknown", "notice.no_more", "zip.digits", "zip.unknown"})


def longest_notice(words: Words, channel: str | None = None) -> str:
    """Return the key of the notice, of those that repeat a screen after a reply it could not
    use, that is longest in ``words``' language (as ``channel`` words it): a screen that fits
    under it fits under any."""

    def size(key: str) -> int:
        return len(words.pick(channel, key) if channel else words.t(key))

    return max(sorted(INSTEAD_OF_TITLE), key=size)


# Marks a shortened description.
ELLIPSIS = "…"


@dataclass(frozen=True)
class Detail:
    """How much a reply says beyond its choices; a budget drops these in turn."""

    open_now: bool = True
    fictional: bool = True
    description: int | None = None  # at most this many characters (None: all of it)
    address: bool = True
    # With a notice above it ("not understood"), a menu may leave out its own question.
    title_under_notice: bool = True
    hints: bool = True
    # Lines offered because nothing is near carry their number (to call without a step).
    phones: bool = True
    # So does each of the nearest services.
    result_phones: bool = True
    # Last of all, a list may leave out its heading (what was chosen to reach it), and a
    # service's details their opening hours (a call tells them).
    title: bool = True
    hours: bool = True


FULL = Detail()


def program_name(words: Words, site: Site) -> str:
    """Return the site's program name in the reply's language."""
    return site.program_name(words.lang) or words.t("program.name")


def contact_lines(words: Words, channel: str, service: Service) -> list[str]:
    """Return how to reach ``service``: call, text, TTY, one line each."""
    lines = []
    if service.phone:
        number = display_phone(service.phone, service.phone_extension, words.t)
        lines.append(words.pick(channel, "sms.call", number=number))
    if service.sms and service.sms_keyword:
        lines.append(
            words.pick(channel, "sms.text_keyword", keyword=service.sms_keyword, number=service.sms)
        )
    elif service.sms and service.sms != service.phone:
        lines.append(words.pick(channel, "sms.text", number=display_number(service.sms)))
    if service.tty:
        lines.append(words.pick(channel, "sms.tty", number=display_number(service.tty)))
    return lines


def address_of(service: Service) -> str:
    """Return the street address of ``service`` as one line (empty when unknown)."""
    region = " ".join(part for part in (service.state, service.zip) if part)
    return ", ".join(part for part in (service.address, service.city, region) if part)


# Most services share a handful of opening hours, and describing them is most of what
# writing a service's details costs.
@functools.lru_cache(maxsize=4096)
def hours_text(hours: str, lang: str) -> str:
    """Return stored opening hours as a reader of ``lang`` reads them."""
    return describe(hours, lang)


def _cut(value: str, limit: int | None) -> str:
    if limit is None or len(value) <= limit:
        return value
    return value[: max(0, limit - 1)].rstrip(" ,.;:") + ELLIPSIS


def _detail(words: Words, channel: str, screen: Screen, detail: Detail) -> list[str]:
    service = screen.service
    assert service is not None
    if screen.position.page:  # the rest of a description, a page at a time
        return [service.name(words.lang), screen.excerpt or ""]
    lines = [service.name(words.lang), *contact_lines(words, channel, service)]
    address = address_of(service)
    if service.confidential:  # a shelter: never where it is, even in part
        lines.append(words.t("directory.address_by_phone"))
    elif address and detail.address:
        lines.append(words.pick(channel, "sms.address", address=address))
    if service.hours and detail.hours:
        lines.append(words.pick(channel, "sms.hours", hours=hours_text(service.hours, words.lang)))
    # The engine chose how much of the description fits, and offers the rest: shown as is.
    description = screen.excerpt
    if description is None:
        description = _cut(service.description(words.lang), detail.description)
    if description:
        lines.append(description)
    if service.english_only_for(words.lang):
        lines.append(words.pick(channel, "directory.english_only"))
    if service.fictional and detail.fictional:
        lines.append(words.pick(channel, "directory.fictional"))
    return lines


def _entry(words: Words, channel: str, screen: Screen, entry: Entry, detail: Detail) -> str:
    label = entry.label
    phone = display_phone(entry.service.phone, entry.service.phone_extension, words.t)
    if entry.miles is None:
        # Lines offered because nothing is near carry their number, to call without a step.
        nearby = screen.kind == "nearby" and screen.fallback and detail.phones
        return f"{entry.key} {label} {phone}".rstrip() if nearby else f"{entry.key} {label}"
    is_open = words.pick(channel, "zip.open_now") if entry.open_now and detail.open_now else ""
    return words.pick(
        channel,
        "zip.result",
        key=entry.key,
        label=label,
        miles=f"{entry.miles:.1f}",
        open=is_open,
        phone=phone if detail.result_phones else "",
    ).rstrip()


def body(words: Words, channel: str, screen: Screen, detail: Detail = FULL) -> list[str]:
    """Return the lines of ``screen``: its notices, its message, what it is about, and what can
    be chosen by key (the shortcuts excepted: see ``footer``)."""
    notices = [n for n in screen.notices if detail.hints or n.key not in HINTS]
    lines = [words.pick(channel, n.key, **n.params) for n in notices]
    told = any(n.key in INSTEAD_OF_TITLE for n in notices)
    if screen.title and detail.title and (detail.title_under_notice or not told):
        lines.append(words.pick(channel, screen.title))
    if screen.kind == "detail" and screen.service is not None:
        lines.extend(_detail(words, channel, screen, detail))
    elif screen.kind == "connect" and screen.service is not None:
        lines.extend(contact_lines(words, channel, screen.service))
    lines.extend(_entry(words, channel, screen, entry, detail) for entry in screen.entries)
    for choice in screen.choices:
        if choice.key is None or choice.role not in {OPTION, ZIP, MORE, ENTRY}:
            continue
        lines.append(f"{choice.key} {words.pick(channel, choice.label)}")
    if detail.fictional and any(e.service.fictional for e in screen.entries):
        lines.append(words.pick(channel, "directory.fictional"))
    return lines


def switch_line(words: Words, channel: str) -> str:
    """Return how to switch to each other language, each offered in its own words ("Español:
    responda ES"), so a language is offered by its own catalog whatever the others are."""
    others = [lang for lang in words.catalogs.languages if lang != words.lang]
    return " / ".join(
        words.catalogs.bind(lang).pick(channel, "sms.language_offer") for lang in others
    )


def footer(words: Words, channel: str, flow: Flow, screen: Screen) -> str:
    """Return the last line: the language switch on the main menu, the shortcuts elsewhere."""
    if screen.position.node == flow.start:
        return switch_line(words, channel)
    shortcuts = {c.role: c for c in screen.choices if c.role in _SHORTCUT_ORDER and c.key}
    return ", ".join(
        f"{shortcuts[role].key} {words.pick(channel, shortcuts[role].label)}"
        for role in _SHORTCUT_ORDER
        if role in shortcuts
    )


def reply(
    words: Words,
    channel: str,
    flow: Flow,
    site: Site,
    screen: Screen,
    detail: Detail = FULL,
    opening: str | None = None,
) -> str:
    """Return the whole reply for ``screen``; the main menu opens with the program name (or
    ``opening``, which names it too), so the first reply says who is writing."""
    lines = [opening or program_name(words, site)] if screen.position.node == flow.start else []
    lines += body(words, channel, screen, detail)
    lines.append(footer(words, channel, flow, screen))
    return "\n".join(line for line in lines if line)


def compliance(words: Words, channel: str, site: Site, hotline_phone: str, meaning: str) -> str:
    """Return the answer to STOP, START or HELP: each names the program, as carriers require;
    HELP and STOP also give the 24/7 line, since a person may text HELP because they need it."""
    params = {"program": program_name(words, site), "phone": display_number(hotline_phone)}
    if meaning == "stop":
        return words.pick(channel, "sms.stop", **params)
    if meaning == "start":
        return words.pick(channel, "sms.start", **params)
    return words.pick(channel, "sms.help", **params)


# How a channel writes a screen: words, flow, site, screen and an opening line for the main menu.
Compose = Callable[[Words, Flow, Site, Screen, "str | None"], str]


def answer(
    words: Words,
    channel: str,
    flow: Flow,
    site: Site,
    outcome: Outcome,
    hotline_phone: str,
    compose: Compose,
) -> str | None:
    """Return the text answering an outcome of the conversation (None: stay silent): the
    compliance wording for STOP and HELP, START's note above the main menu, or the screen."""
    if outcome.compliance and outcome.compliance != "start":
        return compliance(words, channel, site, hotline_phone, outcome.compliance)
    if outcome.screen is None:
        return None
    opening = None
    if outcome.compliance == "start":
        opening = compliance(words, channel, site, hotline_phone, "start")
    return compose(words, flow, site, outcome.screen, opening)


# How a text channel writes an outcome: words, flow, site, outcome, the 24/7 line's number and
# the number the message came to (the turn's ``To``; "" when there is none).
Writer = Callable[[Words, Flow, Site, Outcome, str, str], "str | None"]
# What a text channel can do at a site (an SMS reply must fit its budget in the site's wording).
CapabilitiesAt = Callable[[Catalogs, Flow, Site], Capabilities]


@dataclass(frozen=True)
class TextChannel:
    """A channel whose messages come to Twilio's Messaging webhook (``POST /sms``, answered by
    the SMS channel): its name, what it can do, how it writes, and which messages are its."""

    name: str
    caps: CapabilitiesAt
    write: Writer
    # What begins the addresses (``From`` or ``To``) of this channel's messages
    # (``whatsapp:``); None: the channel of every other message.
    prefix: str | None = None
