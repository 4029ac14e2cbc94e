"""Twilio's Messaging webhook, shared by the text channels (SMS and WhatsApp).

Twilio posts SMS and WhatsApp messages to the same URL. This module answers that URL once for
all text channels: it checks the signature (through ``twilio_webhook``), finds the site, reads
the conversation's state from the signed cookie Twilio keeps per conversation, lets the engine's
``conversation.answer`` decide what to show, and hands the outcome to the channel whose
addresses the message carries (``whatsapp:+1…`` for WhatsApp) to write. A text channel registers
itself with ``register``; nothing here knows how a channel writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils
from flask import Flask, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge import counters
from hotline_bridge.channels.sms.sessions import conversation_cookie
from hotline_bridge.directory.models import (
    Site,
    display_number,
    get_site,
    site_for_keyword,
    site_for_number,
)
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import get_db
from hotline_bridge.engine.catalogs import Catalogs, Words
from hotline_bridge.engine.conversation import Conversation, Outcome, State, answer
from hotline_bridge.engine.flow import Flow
from hotline_bridge.engine.step import Capabilities
from hotline_bridge.runtime import Runtime, runtime
from hotline_bridge.webhooks import (
    forget,
    form,
    public_url,
    replies,
    twilio_webhook,
    twiml_response,
)
from hotline_bridge.webhooks.records import forget_later

_EXTENSION = "hotline_bridge.text_channels"
_REPLIES = "hotline_bridge.replies"

# Where Twilio posts every text message. An app route, not a blueprint's: on the busiest route
# a blueprint adds its own hooks and names to look up at every request, for nothing here.
PATH = "/sms"
ENDPOINT = "messaging_incoming"

# How a text channel writes an outcome: words, flow, site, outcome, the 24/7 line's number.
Writer = Callable[[Words, Flow, Site, Outcome, str], "str | None"]
# What a text channel can do at a site (an SMS reply must fit its budget in the site's wording).
CapabilitiesAt = Callable[[Catalogs, Flow, Site], Capabilities]
# A channel's own step before the flow's, given the conversation cookie and the message: its
# answer (None: the flow answers) and the values of its own it keeps in the cookie.
Intercept = Callable[
    [Mapping[str, Any], Mapping[str, str]], "tuple[Response | None, dict[str, Any]]"
]


@dataclass(frozen=True)
class TextChannel:
    """A channel that answers Twilio's Messaging webhook."""

    name: str
    caps: CapabilitiesAt
    write: Writer
    # Whether a message's fields (``From``, ``To``) belong to this channel; None: the default.
    accepts: Callable[[Mapping[str, str]], bool] | None = None
    intercept: Intercept | None = None


def register(app: Flask, channel: TextChannel) -> None:
    """Let ``channel`` answer the messages it accepts (the one without ``accepts`` answers the
    rest)."""
    channels: list[TextChannel] = app.extensions.setdefault(_EXTENSION, [])
    channels.append(channel)
    channels.sort(key=lambda c: c.accepts is None)


def _channel_for(fields: Mapping[str, str]) -> TextChannel:
    channels: list[TextChannel] = current_app.extensions[_EXTENSION]
    return next(c for c in channels if c.accepts is None or c.accepts(fields))


def _state(held: Mapping[str, Any], languages: Collection[str]) -> State:
    lang = held.get("l")
    return State(
        lang=lang if lang in languages else None,
        position=held.get("p"),
        stopped=bool(held.get("x")),
        site=held.get("s"),
    )


def _saved(state: State) -> dict[str, Any]:
    return {"l": state.lang, "p": state.position, "x": int(state.stopped), "s": state.site}


def fail_safe_reply() -> Response:
    """Answer with the static fail-safe text in the person's language, if known."""
    try:
        lang = conversation_cookie(current_app).read(request).get("l")
    except Exception:  # whatever went wrong, the fail-safe answers
        lang = None
    return _messaging(runtime().failsafe.text(lang if isinstance(lang, str) else None))


def _messaging(text: str | None) -> Response:
    return twiml_response(_twiml(text))


def _twiml(text: str | None, action: str | None = None) -> MessagingResponse:
    twiml = MessagingResponse()
    if text:
        twiml.message(text, action=action)
    return twiml


def address(value: str | None) -> str:
    """Return a Twilio address without its channel prefix (``whatsapp:+1…`` is ``+1…``)."""
    return (value or "").partition(":")[2] if ":" in (value or "") else value or ""


def _site(db: sqlite_utils.Database, state: State, fields: Mapping[str, str]) -> Site:
    """The site the conversation started with, else the one the number written to leads to."""
    started = get_site(db, state.site) if state.site else None
    if started is not None:
        return started
    to = fields.get("To")
    found = site_for_number(db, to)
    if found.numbers or address(to) == to:
        return found
    return site_for_number(db, address(to))


@twilio_webhook(fail_safe=fail_safe_reply)
def incoming() -> Response:
    """Answer one text message from a person, on whichever text channel it came."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    cookie = conversation_cookie(app)
    fields = form()
    held = cookie.read(request)
    channel = _channel_for(fields)
    own: dict[str, Any] = {}
    if channel.intercept is not None:
        taken, own = channel.intercept(held, fields)
        if taken is not None:
            return taken
    if app.config["SMS_OPT_OUT_BY_TWILIO"] and fields.get("OptOutType"):
        return _messaging(None)  # Twilio's Advanced Opt-Out has already answered
    rt: Runtime = app.extensions["hotline_bridge"]
    db, body = get_db(), fields.get("Body", "")
    state = _state(held, rt.catalogs.languages)
    # Judged to the minute, so that answers within one minute are the same answer.
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    kept = app.extensions[_REPLIES].kept(db)
    at = replies.key(rt.keywords, channel.name, fields.get("To"), state, body, minute)
    reply = kept.get(at) if at is not None else None
    if reply is None:
        reply = _reply(db, channel, state, fields, body, minute)
        if at is not None and reply.kept:
            kept.keep(at, reply)
    counters.bump(db, channel.name, reply.lang, reply.event)
    forget_later("Messages", fields.get("MessageSid"))
    response = twiml_response(reply.twiml)
    cookie.write(response, {**own, **_saved(reply.state)})
    return response


def _reply(
    db: sqlite_utils.Database,
    channel: TextChannel,
    state: State,
    fields: Mapping[str, str],
    body: str,
    now: dt.datetime,
) -> replies.Reply:
    """Work out the answer to ``body`` at ``state``: the site, the engine's outcome, and the
    channel's writing of it."""
    rt = runtime()
    named = site_for_keyword(db, body, fields.get("To"))
    site = named or _site(db, state, fields)
    conversation = Conversation(
        flow=rt.flow,
        keywords=rt.keywords,
        guesser=rt.guesser,
        danger=rt.danger,
        directory=SiteDirectory(db, site, now, rt.discreet),
        caps=channel.caps(rt.catalogs, rt.flow, site),
        languages=rt.catalogs.languages,
        default_language=site.default_language,
        named_site=named is not None,
    )
    outcome = answer(conversation, state, body)
    words = rt.catalogs.bind(outcome.lang)
    action = _status_callback()
    if outcome.forget:
        text, action = _forget(db, channel.name, words, fields, outcome)
    else:
        text = channel.write(words, rt.flow, site, outcome, rt.failsafe.hotline_phone)
    if current_app.config["SMS_OPT_OUT_BY_TWILIO"] and outcome.compliance:
        text = None  # Twilio's Advanced Opt-Out answers these with the console's wording
    lang = outcome.state.lang or "unknown"
    new_state = replace(outcome.state, site=site.id)
    twiml = str(_twiml(text, action))
    return replies.Reply(new_state, lang, outcome.event[:40], twiml, kept=not outcome.forget)


def _status_callback() -> str | None:
    """Return where Twilio reports a reply's status, when each reply is to be deleted once done
    (``DELETE_TWILIO_RECORDS``): a number with no Messaging Service reports a reply only there."""
    config = current_app.config
    if config["DELETE_TWILIO_RECORDS"] and config["TWILIO_ACCOUNT_SID"]:
        return public_url("sms.status")
    return None


# What the person reads of a deletion: all gone, not all of them, or still being deleted.
_DELETED = {
    forget.DONE: "delete.done",
    forget.PARTIAL: "delete.partial",
    forget.UNDER_WAY: "delete.under_way",
}


def _forget(
    db: sqlite_utils.Database,
    channel: str,
    words: Words,
    fields: Mapping[str, str],
    outcome: Outcome,
) -> tuple[str | None, str | None]:
    """Delete Twilio's copies of this conversation (DELETE, BORRAR); return the confirmation
    (none after STOP) and the status callback that deletes it in turn once it is delivered."""
    result = forget.copies_of_conversation(fields)
    if result == forget.PARTIAL:
        counters.bump(db, channel, outcome.lang, "delete:incomplete")
    if outcome.state.stopped:
        return None, None
    phone = display_number(runtime().failsafe.hotline_phone)
    text = words.pick(channel, _DELETED[result], phone=phone)
    return text, public_url("sms.status", forget="1")


def init_app(app: Flask) -> None:
    """Register the Messaging webhook (the text channels register themselves)."""
    app.add_url_rule(PATH, ENDPOINT, incoming, methods=["POST"])
    app.extensions[_REPLIES] = replies.Replies(check_seconds=app.config["CHANGE_CHECK_MS"] / 1000)
