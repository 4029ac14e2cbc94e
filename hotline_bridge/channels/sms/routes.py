"""The SMS channel: Twilio's Messaging webhook (``messaging``), its fallback and status callback.

Messages arrive at ``POST /sms`` (``messaging``), which answers every text channel; this
channel writes the SMS replies (``render``) and answers CALL and YES (``callback``).
Conversation state rides only in the signed conversation cookie (``sessions``), which Twilio
keeps per conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge.channels import turn
from hotline_bridge.channels.sms import callback, messaging, render
from hotline_bridge.channels.text import TextChannel
from hotline_bridge.webhooks import (
    MESSAGE_STATUSES,
    forget,
    form,
    known,
    records,
    twilio_webhook,
    twiml_response,
)

CHANNEL = render.CHANNEL

bp = Blueprint("sms", __name__, url_prefix="/sms")


@bp.post("/fallback")
@twilio_webhook
def fallback() -> Response:
    """Twilio's fallback URL: the static fail-safe text, without touching the database."""
    return messaging.fail_safe_reply()


@dataclass(frozen=True)
class Status:
    """A reply's delivery report: its fields, and whether the reply confirmed a DELETE."""

    fields: Mapping[str, str]
    asked: bool

    @property
    def outcome(self) -> str:
        return self.fields.get("MessageStatus", "unknown")


def _read_status() -> Status:
    return Status(form(), bool(request.args.get("forget")))


def _status_step(place: turn.Place[Status], status: Status) -> list[turn.Count]:
    return [("all", f"status:{known(status.outcome, MESSAGE_STATUSES)}")]


def _status_effects(
    place: turn.Place[Status], status: Status, counts: list[turn.Count]
) -> list[turn.Count]:
    """Delete Twilio's copy once final. A confirmation of DELETE: once it is done (delivered,
    or "sent", which is final where the carrier reports no delivery), it goes with what was
    written since, a while later, when Twilio accepts it (this callback comes from the line's
    number to the person's)."""
    fields, outcome = status.fields, status.outcome
    person, line = fields.get("To", ""), fields.get("From", "")
    if status.asked and (outcome in records.FINAL_MESSAGE_STATES or outcome == "sent"):
        if not forget.sweep_when_settled(person=person, line=line):
            return [*counts, ("all", "delete:later-dropped")]
    elif outcome in records.FINAL_MESSAGE_STATES:
        records.forget_later("Messages", fields.get("MessageSid"))
    return counts


def _empty(_given: object = None) -> Response:
    return twiml_response(MessagingResponse())


STATUS = turn.Channel[Status, list[turn.Count]](
    name=CHANNEL,
    read=_read_status,
    step=_status_step,
    effects=_status_effects,
    render=lambda place, status, counts: turn.Done(_empty(), counts),
    fail_safe=_empty,
)


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """Count a reply's delivery outcome; optionally delete Twilio's copy once it is final."""
    return turn.run(STATUS)  # type: ignore[return-value]


def init_app(app: Flask, others: tuple[TextChannel, ...] = ()) -> None:
    """Answer text messages at ``POST /sms``: those by SMS, and those of the ``others`` text
    channels that come by the same webhook (WhatsApp); register the fallback and status."""
    forget.init_app(app)
    callback.init_app(app)
    messaging.init_app(app)
    for other in others:
        messaging.register(app, other)
    # The SMS line alone offers to ring the person from its number ("Reply CALL").
    write = callback.offering(render.render)
    messaging.register(app, TextChannel(CHANNEL, render.capabilities, write))
    app.register_blueprint(bp)
