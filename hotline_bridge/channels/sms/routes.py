"""The SMS channel: its place on Twilio's Messaging webhook, its fallback and status callback.

Messages themselves arrive at the Messaging webhook every text channel shares
(``webhooks.messaging``); this channel writes the SMS replies (``render``). Conversation state
rides only in the signed conversation cookie (``sessions``), which Twilio keeps per
conversation.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge import counters
from hotline_bridge.channels.sms import render, sessions
from hotline_bridge.directory.store import get_db
from hotline_bridge.webhooks import (
    MESSAGE_STATUSES,
    callback,
    forget,
    form,
    known,
    messaging,
    records,
    twilio_webhook,
    twiml_response,
)

CHANNEL = render.CHANNEL

bp = Blueprint("sms", __name__, url_prefix="/sms")


@bp.post("/fallback")
@twilio_webhook(fail_safe=messaging.fail_safe_reply)
def fallback() -> Response:
    """Twilio's fallback URL: the static fail-safe text, without touching the database."""
    return messaging.fail_safe_reply()


@bp.post("/status")
@twilio_webhook(fail_safe=lambda: twiml_response(MessagingResponse()))
def status() -> Response:
    """Count a reply's delivery outcome; optionally delete Twilio's copy once it is final."""
    fields = form()
    outcome = fields.get("MessageStatus", "unknown")
    counters.bump(get_db(), CHANNEL, "all", f"status:{known(outcome, MESSAGE_STATUSES)}")
    asked = bool(request.args.get("forget"))
    # A confirmation of DELETE: once it is done (delivered, or "sent", which is final where the
    # carrier reports no delivery), it goes with what was written since, a while later, when
    # Twilio accepts it (this callback comes from the line's number to the person's).
    person, line = fields.get("To", ""), fields.get("From", "")
    if asked and (outcome in records.FINAL_MESSAGE_STATES or outcome == "sent"):
        if not forget.sweep_when_settled(person=person, line=line):
            counters.bump(get_db(), CHANNEL, "all", "delete:later-dropped")
    elif outcome in records.FINAL_MESSAGE_STATES:
        records.forget_later("Messages", fields.get("MessageSid"))
    return twiml_response(MessagingResponse())


def init_app(app: Flask) -> None:
    """Answer text messages that come by SMS, and register the fallback and status routes."""
    sessions.init_app(app)
    forget.init_app(app)
    callback.init_app(app)
    # The SMS line alone offers to ring the person from its number ("Reply CALL").
    write = callback.offering(render.render)
    channel = messaging.TextChannel(
        CHANNEL, render.capabilities, write, intercept=callback.intercept
    )
    messaging.register(app, channel)
    app.register_blueprint(bp)
