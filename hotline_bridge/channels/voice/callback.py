"""The call the SMS line places when a person replies CALL and YES (``channels/sms/callback.py``):
what they hear when they answer, and what is done once the call has ended.

Twilio asks ``/voice/callback/answer`` what to do when the person picks up: a short discreet
line in their language ("Community Health Line, connecting you now. Press star to end.") and a
``<Dial>`` to the 24/7 line, whose outcome goes to the voice menu's own ``/voice/dialed``: busy
or no answer offers the other 24/7 lines there, as for any caller. An answering machine hears
nothing at all. ``/voice/callback/status`` counts how the call ended and, with
``DELETE_TWILIO_RECORDS``, has Twilio's record of it and of its leg to the 24/7 line deleted
once Twilio accepts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlite_utils
from flask import Blueprint, Flask, Response, current_app, request
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from hotline_bridge.channels import turn
from hotline_bridge.channels.voice import render as vr
from hotline_bridge.channels.voice.routes import silence
from hotline_bridge.directory.models import Site, dial_string, get_site, site_for_number
from hotline_bridge.runtime import runtime
from hotline_bridge.webhooks import (
    CALL_STATUSES,
    forget,
    form,
    known,
    twilio_webhook,
    twiml_response,
)

# Counted with the SMS line's other counts: the call is what a text conversation asked for.
COUNTED_AS = "sms"
# How Twilio's machine detection names what answered when it was no person.
NOT_A_PERSON = (
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
)
# Call states after which the call has ended.
ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Legs of one call listed at most for deletion (one <Dial>, perhaps a second after busy).
MAX_LEGS = 10

bp = Blueprint("voice_callback", __name__, url_prefix="/voice/callback")


def _lang() -> str:
    lang = request.args.get("l", "")
    return lang if lang in runtime().catalogs.languages else ""


@dataclass(frozen=True)
class Answered:
    """Twilio's report on the call placed: its fields and the language the URL names."""

    fields: Mapping[str, str]
    site_id: str
    lang: str


def _read() -> Answered:
    return Answered(form(), request.args.get("s", ""), _lang())


def _fail_safe(_given: Answered | None = None) -> Response:
    setup: vr.VoiceSetup = current_app.extensions["hotline_bridge.voice"]
    return twiml_response(vr.fail_safe(setup, _lang() or None))


def _site(db: sqlite_utils.Database, given: Answered) -> Site:
    # The call goes out from the line's number: the site is in the URL, or the number's.
    site = get_site(db, given.site_id) if given.site_id else None
    return site or site_for_number(db, given.fields.get("From"))


def _call(place: turn.Place[Answered]) -> vr.Call:
    rt = place.runtime
    setup: vr.VoiceSetup = current_app.extensions["hotline_bridge.voice"]
    return vr.Call(rt.flow, rt.catalogs, place.directory, place.site, setup)


def _render(
    place: turn.Place[Answered], given: Answered, said: tuple[VoiceResponse, list[turn.Count]]
) -> turn.Done:
    return turn.Done(twiml_response(said[0]), said[1])


def bridge(call: vr.Call, lang: str) -> VoiceResponse:
    """Return the discreet line and the ``<Dial>`` to the 24/7 line (star ends it), whose
    outcome the voice menu's ``/voice/dialed`` answers as for a caller on the talk screen."""
    words = call.words(lang)
    program = call.site.program_name(lang) or words.t("program.name")
    service = call.directory.service(call.flow.hotline)
    phone = (service.phone if service else None) or call.setup.hotline_phone
    response = VoiceResponse()
    vr.speak(response, call, lang, words.t("voice.callback.connecting", program=program))
    state = vr.State(call.flow.talk_node, lang=lang)
    response.dial(
        dial_string(phone),
        action=vr.state_url("voice.dialed", state),
        method="POST",
        timeout=call.setup.dial_timeout,
        answer_on_bridge=True,
        hangup_on_star=True,
    )
    return response


def _picked_up(
    place: turn.Place[Answered], given: Answered
) -> tuple[VoiceResponse, list[turn.Count]]:
    call = _call(place)
    lang = given.lang or call.site.default_language
    if given.fields.get("AnsweredBy", "") in NOT_A_PERSON:
        response = VoiceResponse()
        response.hangup()
        return response, [(lang, "callback:machine")]
    return bridge(call, call.setup.spoken(lang)), [(lang, "callback:connected")]


ANSWER = turn.Channel[Answered, tuple[VoiceResponse, list[turn.Count]]](
    name=COUNTED_AS, read=_read, site=_site, step=_picked_up, render=_render, fail_safe=_fail_safe
)


@bp.post("/answer")
@twilio_webhook
def answer() -> Response:
    """The person picked up: connect them; an answering machine gets silence and the end."""
    return turn.run(ANSWER)  # type: ignore[return-value]


def _ended(place: turn.Place[Answered], given: Answered) -> tuple[VoiceResponse, list[turn.Count]]:
    outcome = given.fields.get("CallStatus", "unknown")
    event = f"callback:{known(outcome, CALL_STATUSES)}"
    return VoiceResponse(), [(given.lang or "all", event)]


def _delete_ended(
    place: turn.Place[Answered], given: Answered, said: tuple[VoiceResponse, list[turn.Count]]
) -> tuple[VoiceResponse, list[turn.Count]]:
    """With ``DELETE_TWILIO_RECORDS``, have Twilio's records of the call and of its legs
    deleted once Twilio accepts it."""
    fields = given.fields
    sid = fields.get("CallSid", "")
    twilio = forget.client()
    ended = fields.get("CallStatus", "unknown") in ENDED and sid
    if not (ended and twilio is not None and current_app.config["DELETE_TWILIO_RECORDS"]):
        return said
    # Held for later; when the queue is full the deletion is dropped, and counted.
    if forget.later(lambda: delete_call_and_legs(twilio, sid)):
        return said
    return said[0], [*said[1], ("all", "callback:later-dropped")]


STATUS = turn.Channel[Answered, tuple[VoiceResponse, list[turn.Count]]](
    COUNTED_AS, _read, _ended, _render, silence, effects=_delete_ended
)


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """Count how the call ended; with ``DELETE_TWILIO_RECORDS``, delete Twilio's records of it
    and of its legs once Twilio accepts it."""
    return turn.run(STATUS)  # type: ignore[return-value]


def delete_call_and_legs(twilio: Client, sid: str) -> forget.Tally:
    """Delete Twilio's record of the call ``sid`` and of its legs (the leg to the 24/7 line
    says whom the person was connected to), legs first."""
    tally = forget.Tally()
    try:
        legs = [leg.sid for leg in twilio.calls.list(parent_call_sid=sid, limit=MAX_LEGS)]
    except Exception as exc:  # the call itself still goes; the leg is counted as failed
        forget.log.warning("Twilio list call legs failed: %s", type(exc).__name__)
        legs, tally.failed = [], 1
    for leg in [*legs, sid]:
        done = forget.delete_record(twilio, "Calls", leg)
        tally.deleted += done.deleted
        tally.failed += done.failed
        tally.waiting += done.waiting
    return tally


def init_app(app: Flask) -> None:
    """Register the routes of the call the SMS line places (after the voice line's own)."""
    forget.init_app(app)
    app.register_blueprint(bp)
