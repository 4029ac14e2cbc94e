"""The voice line: Twilio's Voice webhooks, rendering the same flow and catalogs as the SMS line.

A call's state rides in the query string of each action URL (see ``render.State``); the
server keeps nothing about the caller. Every route checks Twilio's signature and is one turn
of ``channels.turn``: the key or speech is read, the site found by the number called, the
route's step decides (with the engine), a deletion the caller asked for is carried out, and the
answer and what to count go back to the pipeline, whose fail-safe connects the caller to the
24/7 line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import sqlite_utils
from flask import Blueprint, Flask, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from hotline_bridge.channels import turn
from hotline_bridge.channels.voice import render as vr
from hotline_bridge.channels.voice.speech import understand, words_of
from hotline_bridge.directory.models import Site, site_for_number
from hotline_bridge.engine.conversation import DANGER_EVENT, emergency_node
from hotline_bridge.engine.flow import Position
from hotline_bridge.engine.screen import Notice, Screen
from hotline_bridge.engine.step import DETAILS, DIAL, dialable, respond, show
from hotline_bridge.engine.walk import with_notice
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


def fail_safe_twiml(lang: str | None) -> str:
    """Return the static answer that connects the caller to the 24/7 line, in ``lang`` (in
    every language when unknown); built from what start-up prepared, never the database."""
    return vr.fail_safe(_setup(), lang)


def _fail_safe_reply(_heard: Heard | None = None) -> Response:
    lang = request.args.get("l") or request.args.get("d")
    return twiml_response(fail_safe_twiml(lang if lang in runtime().catalogs.languages else None))


@dataclass(frozen=True)
class Heard:
    """One Voice webhook as the turn reads it: Twilio's fields and the action URL's query."""

    fields: Mapping[str, str]
    args: Mapping[str, str]


# An answer a step decided on, with the screens the engine showed for it, which the turn's
# render stage writes as TwiML (``render.py`` reads only what it is given).
Answer = Callable[[], VoiceResponse]


@dataclass
class Said:
    """What a voice step decided: the answer, what to count as (language, event), and for
    the forget key, the answer to give once the deletion is done."""

    answer: Answer | None
    counts: list[turn.Count] = field(default_factory=list)
    after_forget: Callable[[str], Answer] | None = None


def _read() -> Heard:
    return Heard(form(), request.args)


def _site(db: sqlite_utils.Database, heard: Heard) -> Site:
    """The site whose number the call is on: the number called, or, on a call the line placed
    through Twilio's API (Reply CALL, ``Direction`` ``outbound-api``), the number it rang from
    (``To`` is then the person's)."""
    fields = heard.fields
    placed = fields.get("Direction") == "outbound-api"
    return site_for_number(db, fields.get("From" if placed else "To"))


def _effects(place: turn.Place[Heard], heard: Heard, said: Said) -> Said:
    """Delete the line's records of this caller when the forget key asked for it."""
    if said.after_forget is not None:
        said.answer = said.after_forget(forget.copies_of_call(heard.fields, _when_done()))
    return said


def _render(place: turn.Place[Heard], heard: Heard, said: Said) -> turn.Done:
    if said.answer is None:
        raise LookupError("a voice step decided no answer")
    return turn.Done(twiml_response(said.answer()), said.counts)


def silence(_given: object = None) -> Response:
    """The answer to a call's status report, fault or not: nothing (the call has ended)."""
    return twiml_response(VoiceResponse())


def _voice(
    step: Callable[[turn.Place[Heard], Heard], Said],
    effects: Callable[[turn.Place[Heard], Heard, Said], Said] = _effects,
    fail_safe: Callable[[Heard | None], Response] = _fail_safe_reply,
) -> turn.Channel[Heard, Said]:
    """The turn of one voice route, whose step is ``step`` (the site, found by the number
    called, is looked up only if a stage asks for it)."""
    return turn.Channel(CHANNEL, _read, step, _render, fail_safe, site=_site, effects=effects)


def _call(place: turn.Place[Heard]) -> vr.Call:
    rt = place.runtime
    return vr.Call(rt.flow, rt.catalogs, place.directory, place.site, _setup())


def _shown(call: vr.Call, state: vr.State, notice: str | None = None) -> Screen:
    """Return what the engine shows at ``state``, after ``notice`` (a catalog key): the one
    read of the directory for it."""
    notices = (Notice(notice),) if notice else ()
    screen = show(call.flow, state.position, state.lang, call.directory, vr.CAPABILITIES, notices)
    return _here(call, state.lang, screen)


def _here(call: vr.Call, lang: str, screen: Screen) -> Screen:
    """Return ``screen``, or for a service gone since the caller heard the list, the main menu
    and the notice that says so."""
    if screen.kind != "detail" or screen.service is not None:
        return screen
    start = Position(call.flow.start)
    return show(call.flow, start, lang, call.directory, vr.CAPABILITIES, screen.notices)


def _view(call: vr.Call, state: vr.State, notice: str | None = None) -> Answer:
    """Return the answer that reads what the engine shows at ``state``, after ``notice``."""
    return partial(vr.render, call, state, _shown(call, state, notice))


def _heard(
    call: vr.Call, fields: Mapping[str, str], state: vr.State, screen: Screen | None = None
) -> str | None:
    """Return the key the caller pressed or said, ``NOT_UNDERSTOOD`` for speech that matched
    nothing, or None for silence."""
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


def _alarmed(call: vr.Call, state: vr.State, heard: str) -> Answer:
    """The answer to danger heard at ``state``: the calm line and the offer to connect, or for
    "911" said alone, the emergency screen."""
    if heard == vr.EMERGENCY:
        return _view(call, vr.State(emergency_node(call.flow), lang=state.lang))
    return partial(vr.render_signal, call, state.but(misses=0))


def _miss(call: vr.Call, state: vr.State, notice: str | None) -> Answer:
    """Repeat the menu after silence or a wrong key, but only once: then offer the 24/7 line,
    or, when that line has just not answered, read its number and end the call."""
    misses = state.misses + 1
    if misses < vr.MAX_MISSES:
        return _view(call, state.but(misses=misses), notice)
    if state.node == call.flow.talk_node and state.view == vr.VIEW_UNANSWERED:
        return partial(vr.last_word, call, state.lang)
    return partial(vr.render_offer, call, state.lang)


def _act(call: vr.Call, state: vr.State, screen: Screen, action: str) -> Answer:
    """Carry out a channel action of a service: call it, or read its details."""
    service = screen.service
    if action == DIAL and service is not None and dialable(service):
        plain = state.but(misses=0, view=vr.VIEW_PLAIN)
        phone, extension = service.phone or "", service.phone_extension
        return partial(vr.dial, call, plain, phone, extension=extension)
    if action in {DIAL, DETAILS}:
        return partial(vr.render, call, state.but(misses=0, view=vr.VIEW_DETAILS), screen)
    raise LookupError(f"unknown voice action {action!r}")


def answer(call: vr.Call, state: vr.State, heard: str | None) -> Said:
    """Return the answer to what the caller did at ``state``, counted in its language."""
    screen = _shown(call, state) if heard == vr.KEY_FORGET else None
    if screen is not None and vr.offers_forget(screen):
        again = state.but(misses=0)
        return Said(
            None,
            [(state.lang, "delete")],
            after_forget=lambda result: partial(
                vr.render, call, again, with_notice(screen, vr.forgotten(result))
            ),
        )
    decided, event = _answer(call, state, heard)
    return Said(decided, [(state.lang, event)])


def _answer(call: vr.Call, state: vr.State, heard: str | None) -> tuple[Answer, str]:
    lang = state.lang
    if heard is None:
        return _miss(call, state, None), "silence"
    if vr.KEY_HANGUP in heard:  # star, alone or after a few digits, ends the call
        return partial(vr.hang_up, call, lang), "hangup"
    if heard == vr.KEY_REPEAT:
        return _view(call, state.but(misses=0)), "repeat"
    if heard == vr.KEY_LANGUAGE:
        following = vr.next_language(call.languages, lang)
        switched = state.but(misses=0, lang=following, chosen=True)
        return _view(call, switched), "language"
    if heard == vr.NOT_UNDERSTOOD:
        return _miss(call, state, "notice.unknown"), "invalid"
    if heard in {vr.DANGER, vr.EMERGENCY}:
        return _alarmed(call, state, heard), DANGER_EVENT
    turn = respond(call.flow, state.position, heard, lang, call.directory, vr.CAPABILITIES)
    if not turn.understood:
        notice = turn.screen.notices[0].key if turn.screen.notices else "notice.unknown"
        return _miss(call, state, notice), turn.event
    if turn.action:
        return _act(call, state, turn.screen, turn.action), turn.event
    after = vr.State.at(turn.screen.position, lang)
    return partial(vr.render, call, after, _here(call, lang, turn.screen)), turn.event


def _greet(place: turn.Place[Heard], heard: Heard) -> Said:
    call = _call(place)
    default = call.setup.spoken(call.site.default_language)
    return Said(partial(vr.render_greeting, call, default), [("unknown", "call")])


@bp.post("")
@twilio_webhook
def incoming() -> Response:
    """Answer a call with the greeting that offers every language."""
    return turn.run(GREET)  # type: ignore[return-value]


def _chosen_language(
    call: vr.Call, fields: Mapping[str, str], default: str, heard_in: str
) -> tuple[str, str | None]:
    """Return the language chosen in the greeting and any other key pressed there; words said
    in one language ("hola, necesito ayuda") choose it, as a first text message does. Words
    are understood in ``heard_in``, the language of the greeting's menu that heard them ("dos"
    in the Spanish one is the key 2)."""
    speech = "" if fields.get("Digits") else fields.get("SpeechResult", "")
    languages = call.languages
    spoken = runtime().guesser.guess(speech, languages) if speech else None
    alarm = _alarm(speech) if speech.strip() else None
    if alarm is not None:  # in the language of the words that suggest it
        return spoken or runtime().danger.language_of(speech, languages) or heard_in, alarm
    if spoken is not None:  # and words of talking to someone ("hablar con alguien") connect
        heard = _heard(call, fields, vr.State(call.flow.start, lang=spoken))
        return spoken, heard if heard == call.flow.talk_key else None
    start = vr.State(call.flow.start, lang=heard_in if speech else default)
    heard = _heard(call, fields, start)
    keys = vr.language_keys(languages, default)
    if heard in keys:
        return keys[heard], None
    if heard == vr.KEY_LANGUAGE:
        return vr.next_language(languages, default), None
    if speech and heard != vr.NOT_UNDERSTOOD:  # a word understood is a word of that language
        return heard_in, heard
    return default, heard


def _choose_language(place: turn.Place[Heard], heard: Heard) -> Said:
    call = _call(place)
    languages = call.languages
    default = heard.args.get("d", "")
    if default not in languages:
        default = call.setup.spoken(call.site.default_language)
    heard_in = heard.args.get("h", "")
    heard_in = heard_in if heard_in in languages else default
    lang, other = _chosen_language(call, heard.fields, default, heard_in)
    counts = [(lang, "language")]
    if other == vr.KEY_HANGUP:
        return Said(partial(vr.hang_up, call, lang), counts)
    start = vr.State(call.flow.start, lang=lang)
    if other in {vr.DANGER, vr.EMERGENCY}:
        return Said(_alarmed(call, start, other), [*counts, (lang, DANGER_EVENT)])
    if other == call.flow.talk_key and heard.fields.get("Digits"):
        talk = _shown(call, vr.State(call.flow.talk_node, lang=default))
        return Said(partial(vr.render_talk_at_once, call, default, talk), counts)  # no language
    if other == call.flow.talk_key:
        start = vr.State(call.flow.talk_node, lang=lang)
    return Said(_view(call, start), counts)


@bp.post("/language")
@twilio_webhook
def language() -> Response:
    """Go on in the language the caller chose, or the site's when they pressed nothing; the
    talk key connects to the 24/7 line at once."""
    return turn.run(LANGUAGE)  # type: ignore[return-value]


def _choose(place: turn.Place[Heard], heard: Heard) -> Said:
    call = _call(place)
    state = vr.State.parse(call.flow, heard.args, call.languages)
    screen = _shown(call, state) if _spoken(heard.fields) else None
    return answer(call, state, _heard(call, heard.fields, state, screen))


@bp.post("/menu")
@twilio_webhook
def menu() -> Response:
    """Act on the key the caller pressed (or the words they said) in a menu, or on silence."""
    return turn.run(MENU)  # type: ignore[return-value]


def _after_signal(place: turn.Place[Heard], heard: Heard) -> Said:
    call = _call(place)
    state = vr.State.parse(call.flow, heard.args, call.languages)
    fields, lang = heard.fields, state.lang
    digits = fields.get("Digits", "")
    if digits == vr.KEY_CONNECT or (not digits and _yes(call, lang, fields)):
        talk = vr.State(call.flow.talk_node, lang=lang)
        return Said(_view(call, talk), [(lang, "signal:yes")])
    if digits:
        return answer(call, state, digits)
    return Said(_view(call, state), [(lang, "signal:no")])


@bp.post("/signal")
@twilio_webhook
def signal() -> Response:
    """After the calm line: the connect key or "yes" connects to the 24/7 line; another key
    acts on the screen the caller was on; silence or other words go back to that screen."""
    return turn.run(SIGNAL)  # type: ignore[return-value]


def _yes(call: vr.Call, lang: str, fields: Mapping[str, str]) -> bool:
    """Whether the caller said yes ("yes", "sí", "yes please"), in the call's language."""
    said = set(words_of(fields.get("SpeechResult", "")))
    if "no" in said:  # "no", "no thanks", "no gracias": the same word in both languages
        return False
    phrases = call.words(lang).t("voice.speech.yes").split(",")
    return any(words_of(phrase) and set(words_of(phrase)) <= said for phrase in phrases)


def _after_offer(place: turn.Place[Heard], given: Heard) -> Said:
    call = _call(place)
    state = vr.State.parse(call.flow, given.args, call.languages)
    heard = _heard(call, given.fields, state.but(node=call.flow.talk_node))
    lang = state.lang
    decided: Answer
    if heard == vr.KEY_HANGUP:
        decided = partial(vr.hang_up, call, lang)
    elif heard == vr.KEY_REPEAT:
        decided = partial(vr.render_offer, call, lang)
    elif heard == call.flow.home_key:
        decided = _view(call, vr.State(call.flow.start, lang=lang))
    else:  # the connect key, silence, or anything else: help is what they need
        decided = _view(call, vr.State(call.flow.talk_node, lang=lang))
    return Said(decided, [(lang, "offer")])


@bp.post("/offer")
@twilio_webhook
def offer() -> Response:
    """After unanswered menus: connect to the 24/7 line unless the caller chose otherwise."""
    return turn.run(OFFER)  # type: ignore[return-value]


def _unanswered(outcome: str) -> str:
    """Return the catalog key of what the caller hears when the line they were connected to
    did not answer."""
    return {"busy": "voice.dial.busy", "no-answer": "voice.dial.no_answer"}.get(
        outcome, "voice.dial.failed"
    )


def _after_dial(place: turn.Place[Heard], heard: Heard) -> Said:
    call = _call(place)
    state = vr.State.parse(call.flow, heard.args, call.languages)
    outcome = heard.fields.get("DialCallStatus", "failed")
    counts = [(state.lang, f"dial:{known(outcome, DIAL_STATUSES)}")]
    if outcome not in UNANSWERED:
        return Said(partial(vr.goodbye, call, state.lang), counts)
    after = state.but(misses=0, view=vr.VIEW_UNANSWERED)
    return Said(_view(call, after, _unanswered(outcome)), counts)


@bp.post("/dialed")
@twilio_webhook
def dialed() -> Response:
    """The end of a connected call: a goodbye, or when the line did not answer, its number and
    other choices."""
    return turn.run(DIALED)  # type: ignore[return-value]


def _on_goodbye(place: turn.Place[Heard], heard: Heard) -> Said:
    call = _call(place)
    lang = heard.args.get("l", "")
    lang = lang if lang in call.languages else call.setup.spoken(call.site.default_language)
    if heard.fields.get("Digits") != vr.KEY_FORGET:
        return Said(partial(vr.hang_up, call, lang))

    def goodbye(result: str) -> Answer:
        return partial(vr.forgotten_goodbye, call, lang, result)

    return Said(None, [(lang, "delete")], after_forget=goodbye)


@bp.post("/forget", endpoint="forget")
@twilio_webhook
def forget_call() -> Response:
    """On the goodbye: the forget key deletes the line's records of this caller's calls and
    messages (this call's once it ends) and says so; any other key ends the call."""
    return turn.run(GOODBYE)  # type: ignore[return-value]


def _when_done() -> str:
    """The status callback that deletes this call's own record once it has ended."""
    return public_url("voice.status", forget="1")


@bp.post("/fallback")
@twilio_webhook
def fallback() -> Response:
    """Twilio's fallback URL: the static fail-safe, without touching the database."""
    return _fail_safe_reply()


def _ended(place: turn.Place[Heard], heard: Heard) -> Said:
    outcome = heard.fields.get("CallStatus", "unknown")
    return Said(VoiceResponse, [("all", f"status:{known(outcome, CALL_STATUSES)}")])


def _delete_ended(place: turn.Place[Heard], heard: Heard, said: Said) -> Said:
    """Have Twilio's record of a call that has ended deleted once Twilio accepts it."""
    fields = heard.fields
    if fields.get("CallStatus", "unknown") in FINAL_CALL_STATES:
        asked = bool(heard.args.get("forget"))  # the caller pressed the forget key
        twilio_records.forget_later("Calls", fields.get("CallSid"), asked=asked)
    return said


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """Count a call's outcome; optionally delete Twilio's record of it once it has ended."""
    return turn.run(STATUS)  # type: ignore[return-value]


def _spoken(fields: Mapping[str, str]) -> bool:
    """Return whether the caller spoke (their words are matched against the menu's labels)."""
    return not fields.get("Digits") and bool(fields.get("SpeechResult", "").strip())


GREET, LANGUAGE, MENU = _voice(_greet), _voice(_choose_language), _voice(_choose)
SIGNAL, OFFER, DIALED = _voice(_after_signal), _voice(_after_offer), _voice(_after_dial)
GOODBYE = _voice(_on_goodbye)
STATUS = _voice(_ended, _delete_ended, silence)


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
