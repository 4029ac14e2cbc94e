"""``POST /sms``: Twilio's Messaging webhook, where every text channel's messages arrive.

Twilio posts SMS and WhatsApp messages to the same URL; the SMS channel answers it for both.
A message is one turn of ``channels.turn``: it is read with the conversation's state from the
signed cookie Twilio keeps per conversation; the SMS channel's own step answers CALL and YES
(``callback``); an answer kept from before is given again (``replies``); otherwise the engine's
``conversation.answer`` decides at the site, a DELETE deletes Twilio's copies, and the text
channel whose addresses the message carries (``whatsapp:+1…`` for WhatsApp) writes the reply.
A text channel is registered with ``register``; nothing here knows how a channel writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils
from flask import Flask, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge.channels import turn
from hotline_bridge.channels.sms import callback, replies
from hotline_bridge.channels.sms.sessions import conversation_cookie
from hotline_bridge.channels.text import TextChannel
from hotline_bridge.directory.models import (
    MAX_KEYWORD_LENGTH,
    NOT_A_KEYWORD,
    Site,
    get_site,
    keyword_sites,
    site_for_number,
)
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import derived
from hotline_bridge.engine.conversation import Conversation, Outcome, State, answer
from hotline_bridge.engine.keywords import normalize
from hotline_bridge.engine.phones import display_number
from hotline_bridge.webhooks import forget, form, public_url, twilio_webhook, twiml_response
from hotline_bridge.webhooks.records import forget_later

_EXTENSION = "hotline_bridge.text_channels"
_REPLIES = "hotline_bridge.replies"

# Where Twilio posts every text message. An app route, not a blueprint's: on the busiest route
# a blueprint adds its own hooks and names to look up at every request, for nothing here.
PATH = "/sms"
ENDPOINT = "messaging_incoming"
# The channel that answers CALL and YES, before the flow.
CALLING = "sms"


def register(app: Flask, channel: TextChannel) -> None:
    """Let ``channel`` answer the messages whose addresses begin with its prefix (the one
    without a prefix answers the rest)."""
    channels: list[TextChannel] = app.extensions.setdefault(_EXTENSION, [])
    channels.append(channel)
    channels.sort(key=lambda c: c.prefix is None)


@dataclass(frozen=True)
class Message:
    """One text message as the turn reads it: its channel, fields, cookie and state."""

    app: Flask
    channel: TextChannel
    fields: Mapping[str, str]
    body: str
    held: Mapping[str, Any]
    state: State


@dataclass
class Decided:
    """What the step decided: the SMS channel's own answer (CALL, YES), silence, an answer
    kept from before, or the engine's outcome at a site (and what its deletion did)."""

    own: dict[str, Any]
    intercepted: callback.Intercepted | None = None
    silent: bool = False
    reply: replies.Reply | None = None
    kept_at: tuple[Any, ...] | None = None
    outcome: Outcome | None = None
    site: Site | None = None
    directory: SiteDirectory | None = None
    deleted: str | None = None
    said: str | None = None  # the reply to CALL or YES, once its effect has run


def _read() -> Message:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    fields = form()
    held = conversation_cookie(app).read(request)
    channels: list[TextChannel] = app.extensions[_EXTENSION]
    sender, to = fields.get("From", ""), fields.get("To", "")
    channel = next(
        c
        for c in channels
        if c.prefix is None or sender.startswith(c.prefix) or to.startswith(c.prefix)
    )
    lang = held.get("l")
    state = State(
        lang=lang if lang in app.extensions["hotline_bridge"].catalogs.languages else None,
        position=held.get("p"),
        stopped=bool(held.get("x")),
        site=held.get("s"),
    )
    return Message(app, channel, fields, fields.get("Body", ""), held, state)


def address(value: str | None) -> str:
    """Return a Twilio address without its channel prefix (``whatsapp:+1…`` is ``+1…``)."""
    return (value or "").partition(":")[2] if ":" in (value or "") else value or ""


def _site(db: sqlite_utils.Database, message: Message) -> Site:
    """The site the conversation started with, else the one the number written to leads to
    (found once for as long as the directory is unchanged)."""
    state, to = message.state, message.fields.get("To")
    memo, at = derived(db), (_site, state.site, to)
    site: Site | None = memo.get(at)
    if site is None:
        site = get_site(db, state.site) if state.site else None
        if site is None:
            site = site_for_number(db, to)
            if not site.numbers and address(to) != to:
                site = site_for_number(db, address(to))
        memo[at] = site
    return site


def _named_site(db: sqlite_utils.Database, body: str, to: str | None) -> Site | None:
    """The site whose keyword the message is, if any (the keywords of the sites a message to
    ``to`` may name are read once for as long as the directory is unchanged)."""
    if len(body) > MAX_KEYWORD_LENGTH or NOT_A_KEYWORD.search(body):
        return None  # a site's keyword is a word: a choice ("1") or free text is none
    memo, at = derived(db), (keyword_sites, to)
    sites: dict[str, Site] | None = memo.get(at)
    if sites is None:
        sites = memo[at] = keyword_sites(db, to)
    return sites.get(normalize(body)) if sites else None


def _step(place: turn.Place[Message], message: Message) -> Decided:
    """Decide the answer: CALL or YES, silence after Twilio's opt-out, a kept answer, or the
    engine's outcome at the site (a site named by keyword first)."""
    own: dict[str, Any] = {}
    if message.channel.name == CALLING:
        intercepted = callback.intercept(message.held, message.fields)
        own = intercepted.own
        if intercepted.quiet or intercepted.turn is not None:  # the flow does not answer
            return Decided(own, intercepted=intercepted)
    if message.app.config["SMS_OPT_OUT_BY_TWILIO"] and message.fields.get("OptOutType"):
        return Decided(own, silent=True)  # Twilio's Advanced Opt-Out has already answered
    rt, fields, body = place.runtime, message.fields, message.body
    # Judged to the minute, so that answers within one minute are the same answer.
    minute = place.now.replace(second=0, microsecond=0)
    at = replies.key(
        rt.keywords, message.channel.name, fields.get("To"), message.state, body, minute
    )
    if at is not None:
        kept = message.app.extensions[_REPLIES].kept(place.db).get(at)
        if kept is not None:
            return Decided(own, reply=kept)
    named = _named_site(place.db, body, fields.get("To"))
    site = named or place.site
    directory = place.directory if named is None else _directory(place, named)
    # Made once per site while the directory is unchanged: the pages it sizes are kept by it.
    caps = directory.memo.get(message.channel)
    if caps is None:
        caps = directory.memo[message.channel] = message.channel.caps(rt.catalogs, rt.flow, site)
    conversation = Conversation(
        flow=rt.flow,
        keywords=rt.keywords,
        guesser=rt.guesser,
        danger=rt.danger,
        directory=directory,
        caps=caps,
        languages=rt.catalogs.languages,
        default_language=site.default_language,
        named_site=named is not None,
    )
    outcome = answer(conversation, message.state, body)
    return Decided(own, kept_at=at, outcome=outcome, site=site, directory=directory)


def _directory(place: turn.Place[Message], site: Site) -> SiteDirectory:
    return SiteDirectory(place.db, site, place.now, place.runtime.discreet)


def _effects(place: turn.Place[Message], message: Message, decided: Decided) -> Decided:
    """Place or hold the call YES asks for; delete Twilio's copies of the conversation
    (DELETE, BORRAR); have Twilio's copy of the message answered deleted once done."""
    intercepted = decided.intercepted
    if intercepted is not None and intercepted.effect is not None:
        decided.said = intercepted.effect()
    if decided.outcome is not None and decided.outcome.forget:
        decided.deleted = forget.copies_of_conversation(message.fields)
    quiet = decided.silent or (intercepted is not None and intercepted.quiet)
    if message.app.config["DELETE_TWILIO_RECORDS"] and not quiet:
        forget_later("Messages", message.fields.get("MessageSid"))
    return decided


def _render(place: turn.Place[Message], message: Message, decided: Decided) -> turn.Done:
    """Write the answer: the channel's own writing of the engine's outcome, or the answer kept
    or decided before the flow; with the conversation's new state in the cookie."""
    intercepted = decided.intercepted
    if intercepted is not None:
        answered = callback.reply(message.app, message.held, intercepted, decided.said)
        return turn.Done(answered, intercepted.turn.counts if intercepted.turn else ())
    if decided.silent:
        return turn.Done(twiml_response(MessagingResponse()))
    counts = []
    reply = decided.reply
    if reply is None:
        reply = _written(place, message, decided)
        if decided.kept_at is not None and reply.kept:
            message.app.extensions[_REPLIES].kept(place.db).keep(decided.kept_at, reply)
        if decided.deleted == forget.PARTIAL and decided.outcome is not None:
            counts.append((decided.outcome.lang, "delete:incomplete"))
    response = twiml_response(reply.twiml)
    state = reply.state
    saved = {"l": state.lang, "p": state.position, "x": int(state.stopped), "s": state.site}
    conversation_cookie(message.app).write(response, {**decided.own, **saved})
    # Counted under the text channel the message came by (SMS or WhatsApp).
    return turn.Done(response, [(reply.lang, reply.event), *counts], message.channel.name)


# What the person reads of a deletion: all gone, not all of them, or still being deleted.
_DELETED = {
    forget.DONE: "delete.done",
    forget.PARTIAL: "delete.partial",
    forget.UNDER_WAY: "delete.under_way",
}


def _written(place: turn.Place[Message], message: Message, decided: Decided) -> replies.Reply:
    """The reply to the engine's outcome as its channel writes it (or the confirmation of a
    deletion; none after STOP), kept unless it deleted something."""
    outcome, site, rt = decided.outcome, decided.site, place.runtime
    assert outcome is not None and site is not None
    name, config, action = message.channel.name, message.app.config, None
    # Where Twilio reports a reply's status, when each reply is to be deleted once done
    # (``DELETE_TWILIO_RECORDS``): a number with no Messaging Service reports a reply only there.
    if config["DELETE_TWILIO_RECORDS"] and config["TWILIO_ACCOUNT_SID"]:
        action = public_url("sms.status")
    if decided.deleted is None:
        twiml = _twiml(place, message, decided, action)
    else:
        text, action = None, None
        if not outcome.state.stopped:
            phone = display_number(rt.failsafe.hotline_phone)
            words = rt.catalogs.bind(outcome.lang)
            text = words.pick(name, _DELETED[decided.deleted], phone=phone)
            action = public_url("sms.status", forget="1")
        twiml = _message(text, action)
    lang = outcome.state.lang or "unknown"
    state = replace(outcome.state, site=site.id)
    return replies.Reply(state, lang, outcome.event[:40], twiml, kept=not outcome.forget)


def _message(text: str | None, action: str | None) -> str:
    """The TwiML answering with ``text`` (nothing, when there is none)."""
    twiml = MessagingResponse()
    if text:
        twiml.message(text, action=action)
    return str(twiml)


# How many written screens a site's directory keeps (screens shown under a notice of their own,
# "not understood" or the calm line, are new each time: they never fill it for long).
WRITTEN = 512


def _twiml(
    place: turn.Place[Message], message: Message, decided: Decided, action: str | None
) -> str:
    """The TwiML of the channel's text for the outcome's screen, written once for each screen
    the directory keeps (``engine.step.show``): the same screen, language, line and status
    address give the same answer."""
    outcome, site, memo, rt = decided.outcome, decided.site, decided.directory, place.runtime
    assert outcome is not None and site is not None and memo is not None
    written: dict[tuple[object, ...], tuple[object, str]] | None = memo.memo.get(_twiml)
    if written is None or len(written) >= WRITTEN:
        written = memo.memo[_twiml] = {}
    # The screen by its identity, and held with its text: no other screen can take its id.
    screen, to = outcome.screen, message.fields.get("To")
    at = (message.channel, id(screen), outcome.compliance, outcome.lang, to, action)
    held = written.get(at)
    if held is not None and held[0] is screen:
        return held[1]
    text = None
    # Twilio's Advanced Opt-Out answers STOP, START and HELP with the console's wording.
    if not (message.app.config["SMS_OPT_OUT_BY_TWILIO"] and outcome.compliance):
        words = rt.catalogs.bind(outcome.lang)
        text = message.channel.write(
            words, rt.flow, site, outcome, rt.failsafe.hotline_phone, to or ""
        )
    twiml = _message(text, action)
    written[at] = (screen, twiml)
    return twiml


def fail_safe_reply(message: Message | None = None) -> Response:
    """Answer with the static fail-safe text in the person's language, if known."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        held = message.held if message else conversation_cookie(app).read(request)
        lang = held.get("l")
    except Exception:  # whatever went wrong, the fail-safe answers
        lang = None
    text = app.extensions["hotline_bridge"].failsafe.text(lang if isinstance(lang, str) else None)
    twiml = MessagingResponse()
    twiml.message(text)
    return twiml_response(twiml)


TURN = turn.Channel[Message, Decided](
    name="sms",
    read=_read,
    site=_site,
    step=_step,
    effects=_effects,
    render=_render,
    fail_safe=fail_safe_reply,
)


@twilio_webhook
def incoming() -> Response:
    """Answer one text message from a person, on whichever text channel it came."""
    return turn.run(TURN)  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    """Register the Messaging webhook (the text channels are registered with ``register``)."""
    app.add_url_rule(PATH, ENDPOINT, incoming, methods=["POST"])
    app.extensions[_REPLIES] = replies.Replies(check_seconds=app.config["CHANGE_CHECK_MS"] / 1000)
