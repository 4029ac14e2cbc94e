"""The SMS channel: Twilio's Messaging webhook, its fallback and status callback.

Conversation state (language, position, opted out) rides only in Flask's signed session cookie,
which Twilio keeps per conversation; the server keeps nothing about the person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import sqlite_utils
from flask import Blueprint, Flask, Response, current_app, session
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge import counters
from hotline_bridge.channels.sms import render as sms_replies
from hotline_bridge.directory.models import Site, get_site, site_for_keyword, site_for_number
from hotline_bridge.directory.nearby import zip_point
from hotline_bridge.directory.store import get_db
from hotline_bridge.engine.catalogs import LANGUAGES, Words
from hotline_bridge.engine.flow import (
    HOME,
    MORE,
    ZIP_CODE,
    Position,
    Step,
    advance,
    decode,
    enter_zip,
)
from hotline_bridge.engine.keywords import Keyword
from hotline_bridge.runtime import Runtime, runtime
from hotline_bridge.webhooks import MESSAGE_STATUSES, form, known, twilio_webhook, twiml_response
from hotline_bridge.webhooks import records as twilio_records

CHANNEL = "sms"

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")


@dataclass(frozen=True)
class State:
    """Where a conversation stands; ``lang`` is None until the person has written once."""

    lang: str | None = None
    position: str | None = None
    stopped: bool = False
    site: str | None = None

    @classmethod
    def from_session(cls) -> State:
        lang = session.get("l")
        return cls(
            lang=lang if lang in LANGUAGES else None,
            position=session.get("p"),
            stopped=bool(session.get("x")),
            site=session.get("s"),
        )

    def save(self) -> None:
        session.permanent = True
        session.update({"l": self.lang, "p": self.position, "x": int(self.stopped), "s": self.site})


def _messaging(text: str | None) -> Response:
    twiml = MessagingResponse()
    if text:
        twiml.message(text)
    return twiml_response(twiml)


def fail_safe_reply() -> Response:
    """Answer with the static fail-safe text in the person's language, if known."""
    lang = session.get("l") if "l" in session else None
    return _messaging(current_app.extensions["hotline_bridge"].failsafe.text(lang))


@dataclass(frozen=True)
class Turn:
    """One incoming message and what answering it needs."""

    rt: Runtime
    db: sqlite_utils.Database
    site: Site
    state: State
    body: str
    # Whether the message was a site's own keyword, which starts the conversation over there.
    named_site: bool = False

    def words(self, lang: str) -> Words:
        return self.rt.catalogs.bind(lang)

    def reply(self, lang: str, position: Position, notice: str | None = None) -> str:
        return sms_replies.reply(
            self.db, self.words(lang), self.rt.flow, self.site, position, notice=notice
        )


def answer(turn: Turn) -> tuple[str | None, State, str]:
    """Return the reply to one message, the new state, and the event to count."""
    flow, state = turn.rt.flow, turn.state
    keyword = turn.rt.keywords.match(turn.body)
    meaning = keyword.meaning if keyword else None
    lang = _language(state, turn.site, keyword)
    if meaning in {"stop", "start", "help"}:
        return _compliance(turn, meaning, lang)
    if state.stopped:
        return None, state, "silenced"
    words = turn.words(lang)
    if state.lang is None or meaning in {"greeting", "home"} or turn.named_site:
        start = Position(flow.start)
        return turn.reply(lang, start), State(lang, start.encode()), f"step:{flow.start}"
    position = decode(flow, state.position)
    if meaning == "language":
        lang = keyword.lang  # type: ignore[union-attr]
        return turn.reply(lang, position), replace(state, lang=lang), "language"
    if flow.zip_node and ZIP_CODE.match(turn.body.strip()):
        return _zip_code(turn, position, lang)
    step = _advance(turn, position, meaning, lang)
    if not step.understood:
        notice = words.t("sms.unknown")
        return turn.reply(lang, position, notice), replace(state, lang=lang), "unknown"
    new = step.position
    return turn.reply(lang, new), State(lang, new.encode()), f"step:{new.node}"


def _language(state: State, site: Site, keyword: Keyword | None) -> str:
    """Return the reply's language: a Spanish keyword always answers in Spanish; otherwise the
    conversation's language, or for a first message the keyword's or the site's default."""
    if keyword is None or keyword.meaning == "language":
        return state.lang or site.default_language
    if keyword.lang == "es":
        return "es"
    return state.lang or keyword.lang


def _advance(turn: Turn, position: Position, meaning: str | None, lang: str) -> Step:
    flow = turn.rt.flow
    node = flow.node(position.node)
    choice = {"home": HOME, "more": MORE}.get(meaning or "", turn.body.strip())
    items: list[str] = []
    if node.type == "list":
        items = sms_replies.listing(turn.db, node, turn.site).ids
    elif node.type == "zip":
        found = sms_replies.nearby_listing(turn.db, flow, turn.site, position, lang) or []
        items = [near.service.id for near in found]
    return advance(flow, position, choice, channel=CHANNEL, items=items)


def _zip_code(turn: Turn, position: Position, lang: str) -> tuple[str | None, State, str]:
    """A ZIP code, sent at any point: the nearest services. The code rides only in the
    conversation cookie; the count records that a ZIP code was sent, never which."""
    code = turn.body.strip()
    if zip_point(code) is None:
        notice = turn.words(lang).t("zip.unknown")
        return turn.reply(lang, position, notice), replace(turn.state, lang=lang), "zip:unknown"
    new = enter_zip(turn.rt.flow, position, code).position
    return turn.reply(lang, new), State(lang, new.encode()), f"step:{new.node}"


def _compliance(turn: Turn, meaning: str, lang: str) -> tuple[str | None, State, str]:
    """STOP, START and HELP, as US carriers require of a short code."""
    rt = turn.rt
    text: str | None = sms_replies.compliance(
        turn.db, turn.words(lang), rt.flow, turn.site, rt.failsafe.hotline_phone, meaning
    )
    if current_app.config["SMS_OPT_OUT_BY_TWILIO"]:
        text = None  # Twilio's Advanced Opt-Out answers these with the console's wording
    if meaning == "stop":
        return text, State(lang, None, stopped=True), "stop"
    if meaning == "start":
        return text, State(lang, Position(rt.flow.start).encode()), "start"
    position = turn.state.position or Position(rt.flow.start).encode()
    return text, replace(turn.state, lang=lang, position=position), "help"


def _conversation_site(db: sqlite_utils.Database, state: State, to: str | None) -> Site:
    """Return the site the conversation started with, else the one the number texted leads to."""
    started = get_site(db, state.site) if state.site else None
    return started or site_for_number(db, to)


@bp.post("")
@twilio_webhook(fail_safe=fail_safe_reply)
def incoming() -> Response:
    """Answer one text message from a person."""
    fields = form()
    if current_app.config["SMS_OPT_OUT_BY_TWILIO"] and fields.get("OptOutType"):
        return _messaging(None)  # Twilio's Advanced Opt-Out has already answered
    db, state, body = get_db(), State.from_session(), fields.get("Body", "")
    named = site_for_keyword(db, body)
    site = named or _conversation_site(db, state, fields.get("To"))
    text, state, event = answer(Turn(runtime(), db, site, state, body, named is not None))
    replace(state, site=site.id).save()
    counters.bump(db, CHANNEL, state.lang or "unknown", event)
    twilio_records.forget_later("Messages", fields.get("MessageSid"))
    return _messaging(text)


@bp.post("/fallback")
@twilio_webhook(fail_safe=fail_safe_reply)
def fallback() -> Response:
    """Twilio's fallback URL: the static fail-safe text, without touching the database."""
    return fail_safe_reply()


@bp.post("/status")
@twilio_webhook(fail_safe=lambda: twiml_response(MessagingResponse()))
def status() -> Response:
    """Count a reply's delivery outcome; optionally delete Twilio's copy once it is final."""
    fields = form()
    outcome = fields.get("MessageStatus", "unknown")
    counters.bump(get_db(), CHANNEL, "all", f"status:{known(outcome, MESSAGE_STATUSES)}")
    if outcome in twilio_records.FINAL_MESSAGE_STATES:
        twilio_records.forget_later("Messages", fields.get("MessageSid"))
    return twiml_response(MessagingResponse())


def init_app(app: Flask) -> None:
    """Register the SMS routes."""
    app.register_blueprint(bp)
