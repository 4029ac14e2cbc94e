"""The voice line: Twilio's Voice webhooks, rendering the same flow and catalogs as the SMS line.

A call's state rides in the query string of each action URL (see ``render.State``); the
server keeps nothing about the caller. Every route checks Twilio's signature, and any internal
error answers with the fail-safe, which connects the caller to the 24/7 line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import sqlite_utils
from flask import Blueprint, Flask, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from hotline_bridge import counters
from hotline_bridge.channels.voice import render as vr
from hotline_bridge.channels.voice.speech import understand, words_of
from hotline_bridge.directory.models import site_for_number
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import get_db
from hotline_bridge.engine.conversation import DANGER_EVENT, emergency_node
from hotline_bridge.engine.screen import Screen
from hotline_bridge.engine.step import DETAILS, DIAL, dialable, respond
from hotline_bridge.runtime import runtime
from hotline_bridge.webhooks import (
    CALL_STATUSES,
    DIAL_STATUSES,
    forget,
    form,
    known,
    public_url,
    twilio_webhook,
    twiml_response,
)
from hotline_bridge.webhooks import records as twilio_records

CHANNEL = vr.CHANNEL


# Call states after which Twilio will accept deleting the call's record.
FINAL_CALL_STATES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

# DialCallStatus values that mean the line the caller was connected to did not answer.
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})

bp = Blueprint("voice", __name__, url_prefix="/voice")


def _setup() -> vr.VoiceSetup:
    return current_app.extensions["hotline_bridge.voice"]


def fail_safe_twiml(lang: str | None) -> VoiceResponse:
    """Return the static answer that connects the caller to the 24/7 line, in ``lang`` (in
    every language when unknown); built from what start-up prepared, never the database."""
    return vr.fail_safe(_setup(), lang)


def _fail_safe_reply() -> Response:
    lang = request.args.get("l") or request.args.get("d")
    return twiml_response(fail_safe_twiml(lang if lang in runtime().catalogs.languages else None))


def _count(db: sqlite_utils.Database, lang: str, event: str) -> None:
    counters.bump(db, CHANNEL, lang, event[:40])


def _call() -> vr.Call:
    rt, db = runtime(), get_db()
    site = site_for_number(db, form().get("To"))
    directory = SiteDirectory(db, site, dt.datetime.now(dt.UTC), rt.discreet)
    return vr.Call(rt.flow, rt.catalogs, directory, site, _setup())


def _heard(call: vr.Call, state: vr.State, screen: Screen | None = None) -> str | None:
    """Return the key the caller pressed or said, ``NOT_UNDERSTOOD`` for speech that matched
    nothing, or None for silence."""
    fields = form()
    if fields.get("Digits"):
        return fields["Digits"]
    speech = fields.get("SpeechResult", "").strip()
    if not speech:
        return None
    alarm = _alarm(speech)
    if alarm is not None:
        return alarm
    flow, words = call.flow, call.words(state.lang)
    shortcuts = {
        flow.talk_key: words.t("voice.speech.talk"),
        flow.home_key: words.t("voice.speech.home"),
        flow.back_key: words.t("voice.speech.back"),
        vr.KEY_REPEAT: words.t("voice.speech.repeat"),
    }
    keys = vr.offered(call, state, screen) if screen is not None else []
    key = understand(speech, words, runtime().keywords, keys, shortcuts, vr.KEY_LANGUAGE)
    return key or vr.NOT_UNDERSTOOD


def _alarm(speech: str) -> str | None:
    """Return ``EMERGENCY`` for "911" or "emergency" said alone, ``DANGER`` for words that
    suggest danger (heard before any menu label: "leave" or "help" may be one), else None."""
    rt = runtime()
    keyword = rt.keywords.match(speech)
    if keyword is not None and keyword.meaning == "emergency":
        return vr.EMERGENCY
    return vr.DANGER if rt.danger.found_in(speech) else None


def _alarmed(call: vr.Call, state: vr.State, heard: str) -> VoiceResponse:
    """The answer to danger heard at ``state``: the calm line and the offer to connect, or for
    "911" said alone, the emergency screen."""
    if heard == vr.EMERGENCY:
        return vr.render(call, vr.State(emergency_node(call.flow), lang=state.lang))
    return vr.render_signal(call, state.but(misses=0))


def _miss(call: vr.Call, state: vr.State, notice: str | None) -> VoiceResponse:
    """Repeat the menu after silence or a wrong key, but only once: then offer the 24/7 line,
    or, when that line has just not answered, read its number and end the call."""
    misses = state.misses + 1
    if misses < vr.MAX_MISSES:
        return vr.render(call, state.but(misses=misses), notice)
    if state.node == call.flow.talk_node and state.view == vr.VIEW_UNANSWERED:
        return vr.last_word(call, state.lang)
    return vr.render_offer(call, state.lang)


def _act(call: vr.Call, state: vr.State, screen: Screen, action: str) -> VoiceResponse:
    """Carry out a channel action of a service: call it, or read its details."""
    service = screen.service
    if action == DIAL and service is not None and dialable(service):
        plain = state.but(misses=0, view=vr.VIEW_PLAIN)
        return vr.dial(call, plain, service.phone or "", extension=service.phone_extension)
    if action in {DIAL, DETAILS}:
        return vr.render(call, state.but(misses=0, view=vr.VIEW_DETAILS), screen=screen)
    raise LookupError(f"unknown voice action {action!r}")


def answer(call: vr.Call, state: vr.State, heard: str | None) -> tuple[VoiceResponse, str]:
    """Return the answer to what the caller did at ``state``, and the event to count."""
    lang = state.lang
    if heard is None:
        return _miss(call, state, None), "silence"
    if vr.KEY_HANGUP in heard:  # star, alone or after a few digits, ends the call
        return vr.hang_up(call, lang), "hangup"
    if heard == vr.KEY_REPEAT:
        return vr.render(call, state.but(misses=0)), "repeat"
    if heard == vr.KEY_LANGUAGE:
        following = vr.next_language(call.catalogs.languages, lang)
        switched = state.but(misses=0, lang=following, chosen=True)
        return vr.render(call, switched), "language"
    if heard == vr.NOT_UNDERSTOOD:
        return _miss(call, state, "notice.unknown"), "invalid"
    if heard in {vr.DANGER, vr.EMERGENCY}:
        return _alarmed(call, state, heard), DANGER_EVENT
    if heard == vr.KEY_FORGET and vr.offers_forget(vr.screen_at(call, state)):
        result = forget.copies_of_call(form(), _when_done())
        return vr.render(call, state.but(misses=0), vr.forgotten(result)), "delete"
    turn = respond(call.flow, state.position, heard, lang, call.directory, vr.CAPABILITIES)
    if not turn.understood:
        notice = turn.screen.notices[0].key if turn.screen.notices else "notice.unknown"
        return _miss(call, state, notice), turn.event
    if turn.action:
        return _act(call, state, turn.screen, turn.action), turn.event
    after = vr.State.at(turn.screen.position, lang)
    return vr.render(call, after, screen=turn.screen), turn.event


@bp.post("")
@twilio_webhook(fail_safe=_fail_safe_reply)
def incoming() -> Response:
    """Answer a call with the greeting that offers every language."""
    call = _call()
    _count(get_db(), "unknown", "call")
    return twiml_response(vr.render_greeting(call, call.site.default_language))


def _chosen_language(call: vr.Call, default: str, heard_in: str) -> tuple[str, str | None]:
    """Return the language chosen in the greeting and any other key pressed there; words said
    in one language ("hola, necesito ayuda") choose it, as a first text message does. Words
    are understood in ``heard_in``, the language of the greeting's menu that heard them ("dos"
    in the Spanish one is the key 2)."""
    fields = form()
    speech = "" if fields.get("Digits") else fields.get("SpeechResult", "")
    languages = call.catalogs.languages
    spoken = runtime().guesser.guess(speech, languages) if speech else None
    alarm = _alarm(speech) if speech.strip() else None
    if alarm is not None:  # in the language of the words that suggest it
        return spoken or runtime().danger.language_of(speech, languages) or heard_in, alarm
    if spoken is not None:  # and words of talking to someone ("hablar con alguien") connect
        heard = _heard(call, vr.State(call.flow.start, lang=spoken))
        return spoken, heard if heard == call.flow.talk_key else None
    heard = _heard(call, vr.State(call.flow.start, lang=heard_in if speech else default))
    keys = vr.language_keys(languages, default)
    if heard in keys:
        return keys[heard], None
    if heard == vr.KEY_LANGUAGE:
        return vr.next_language(languages, default), None
    if speech and heard != vr.NOT_UNDERSTOOD:  # a word understood is a word of that language
        return heard_in, heard
    return default, heard


@bp.post("/language")
@twilio_webhook(fail_safe=_fail_safe_reply)
def language() -> Response:
    """Go on in the language the caller chose, or the site's when they pressed nothing; the
    talk key connects to the 24/7 line at once."""
    call = _call()
    languages = call.catalogs.languages
    default = request.args.get("d", "")
    if default not in languages:
        default = call.site.default_language
    heard_in = request.args.get("h", "")
    lang, other = _chosen_language(call, default, heard_in if heard_in in languages else default)
    _count(get_db(), lang, "language")
    if other == vr.KEY_HANGUP:
        return twiml_response(vr.hang_up(call, lang))
    start = vr.State(call.flow.start, lang=lang)
    if other in {vr.DANGER, vr.EMERGENCY}:
        _count(get_db(), lang, DANGER_EVENT)
        return twiml_response(_alarmed(call, start, other))
    if other == call.flow.talk_key and form().get("Digits"):
        return twiml_response(vr.render_talk_at_once(call, default))  # a key has no language
    if other == call.flow.talk_key:
        start = vr.State(call.flow.talk_node, lang=lang)
    return twiml_response(vr.render(call, start))


@bp.post("/menu")
@twilio_webhook(fail_safe=_fail_safe_reply)
def menu() -> Response:
    """Act on the key the caller pressed (or the words they said) in a menu, or on silence."""
    call = _call()
    state = vr.State.parse(call.flow, request.args, call.catalogs.languages)
    heard = _heard(call, state, vr.screen_at(call, state) if _spoken() else None)
    twiml, event = answer(call, state, heard)
    _count(get_db(), state.lang, event)
    return twiml_response(twiml)


@bp.post("/signal")
@twilio_webhook(fail_safe=_fail_safe_reply)
def signal() -> Response:
    """After the calm line: the connect key or "yes" connects to the 24/7 line; another key
    acts on the screen the caller was on; silence or other words go back to that screen."""
    call = _call()
    state = vr.State.parse(call.flow, request.args, call.catalogs.languages)
    fields, lang = form(), state.lang
    digits = fields.get("Digits", "")
    if digits == vr.KEY_CONNECT or (not digits and _yes(call, lang, fields)):
        twiml, event = vr.render(call, vr.State(call.flow.talk_node, lang=lang)), "signal:yes"
    elif digits:
        twiml, event = answer(call, state, digits)
    else:
        twiml, event = vr.render(call, state), "signal:no"
    _count(get_db(), lang, event)
    return twiml_response(twiml)


def _yes(call: vr.Call, lang: str, fields: Mapping[str, str]) -> bool:
    """Whether the caller said yes ("yes", "sí", "yes please"), in the call's language."""
    said = set(words_of(fields.get("SpeechResult", "")))
    if "no" in said:  # "no", "no thanks", "no gracias": the same word in both languages
        return False
    phrases = call.words(lang).t("voice.speech.yes").split(",")
    return any(words_of(phrase) and set(words_of(phrase)) <= said for phrase in phrases)


@bp.post("/offer")
@twilio_webhook(fail_safe=_fail_safe_reply)
def offer() -> Response:
    """After unanswered menus: connect to the 24/7 line unless the caller chose otherwise."""
    call = _call()
    state = vr.State.parse(call.flow, request.args, call.catalogs.languages)
    heard = _heard(call, state.but(node=call.flow.talk_node))
    lang = state.lang
    if heard == vr.KEY_HANGUP:
        twiml = vr.hang_up(call, lang)
    elif heard == vr.KEY_REPEAT:
        twiml = vr.render_offer(call, lang)
    elif heard == call.flow.home_key:
        twiml = vr.render(call, vr.State(call.flow.start, lang=lang))
    else:  # the connect key, silence, or anything else: help is what they need
        twiml = vr.render(call, vr.State(call.flow.talk_node, lang=lang))
    _count(get_db(), lang, "offer")
    return twiml_response(twiml)


def _unanswered(outcome: str) -> str:
    """Return the catalog key of what the caller hears when the line they were connected to
    did not answer."""
    return {"busy": "voice.dial.busy", "no-answer": "voice.dial.no_answer"}.get(
        outcome, "voice.dial.failed"
    )


@bp.post("/dialed")
@twilio_webhook(fail_safe=_fail_safe_reply)
def dialed() -> Response:
    """The end of a connected call: a goodbye, or when the line did not answer, its number and
    other choices."""
    call = _call()
    state = vr.State.parse(call.flow, request.args, call.catalogs.languages)
    outcome = form().get("DialCallStatus", "failed")
    _count(get_db(), state.lang, f"dial:{known(outcome, DIAL_STATUSES)}")
    if outcome not in UNANSWERED:
        return twiml_response(vr.goodbye(call, state.lang))
    notice = _unanswered(outcome)
    after = state.but(misses=0, view=vr.VIEW_UNANSWERED)
    return twiml_response(vr.render(call, after, notice))


@bp.post("/forget", endpoint="forget")
@twilio_webhook(fail_safe=_fail_safe_reply)
def forget_call() -> Response:
    """On the goodbye: the forget key deletes the line's records of this caller's calls and
    messages (this call's once it ends) and says so; any other key ends the call."""
    call = _call()
    lang = request.args.get("l", "")
    lang = lang if lang in call.catalogs.languages else call.site.default_language
    if form().get("Digits") != vr.KEY_FORGET:
        return twiml_response(vr.hang_up(call, lang))
    _count(get_db(), lang, "delete")
    result = forget.copies_of_call(form(), _when_done())
    return twiml_response(vr.forgotten_goodbye(call, lang, result))


def _when_done() -> str:
    """The status callback that deletes this call's own record once it has ended."""
    return public_url("voice.status", forget="1")


@bp.post("/fallback")
@twilio_webhook(fail_safe=_fail_safe_reply)
def fallback() -> Response:
    """Twilio's fallback URL: the static fail-safe, without touching the database."""
    return _fail_safe_reply()


@bp.post("/status")
@twilio_webhook(fail_safe=lambda: twiml_response(VoiceResponse()))
def status() -> Response:
    """Count a call's outcome; optionally delete Twilio's record of it once it has ended."""
    fields = form()
    outcome = fields.get("CallStatus", "unknown")
    _count(get_db(), "all", f"status:{known(outcome, CALL_STATUSES)}")
    if outcome in FINAL_CALL_STATES:
        asked = bool(request.args.get("forget"))  # the caller pressed the forget key
        twilio_records.forget_later("Calls", fields.get("CallSid"), asked=asked)
    return twiml_response(VoiceResponse())


def _spoken() -> bool:
    """Return whether the caller spoke (their words are matched against the menu's labels)."""
    fields = form()
    return not fields.get("Digits") and bool(fields.get("SpeechResult", "").strip())


def init_app(app: Flask) -> None:
    """Check the voice settings, prepare the fail-safe and register the voice routes."""
    rt = app.extensions["hotline_bridge"]
    app.extensions["hotline_bridge.voice"] = vr.prepare(
        app.config,
        rt.catalogs,
        hotline=rt.failsafe.hotline_phone,
        emergency=rt.failsafe.emergency_phone,
    )
    forget.init_app(app)
    app.register_blueprint(bp)
