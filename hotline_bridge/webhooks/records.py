"""Optionally deleting Twilio's own copies of messages and calls once they are finished.

Twilio keeps a log of every message body and caller number. With ``DELETE_TWILIO_RECORDS`` on,
the service asks Twilio's REST API to delete each one after our response has been sent, so the
person never waits on it.
"""

from __future__ import annotations

import logging

from flask import Response, after_this_request, current_app, request
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from hotline_bridge.counters import DRY_RUN
from hotline_bridge.ops import metrics

log = logging.getLogger(__name__)

# Message states after which Twilio will accept a delete.
FINAL_MESSAGE_STATES = frozenset({"delivered", "undelivered", "failed", "received", "read"})


def _client() -> Client:
    config = current_app.config
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])


def delete(client: Client, resource: str, sid: str) -> bool:
    """Ask Twilio to delete one message (``Messages``) or call (``Calls``); return success."""
    try:
        if resource == "Messages":
            return bool(client.messages(sid).delete())
        return bool(client.calls(sid).delete())
    except TwilioException as exc:
        log.warning("Twilio record not deleted: %s", type(exc).__name__)
        metrics.twilio_error(f"delete {resource.lower()}")
        return False


def forget_later(resource: str, sid: str | None, *, asked: bool = False) -> None:
    """After this response is sent, delete Twilio's copy of ``sid`` if the setting asks for it
    (or the person did: ``asked``)."""
    config = current_app.config
    wanted = config["DELETE_TWILIO_RECORDS"] or asked
    if not (wanted and sid and config["TWILIO_ACCOUNT_SID"]):
        return
    if request.environ.get(DRY_RUN):
        return  # a simulated or proving request: Twilio never saw it, so there is nothing to delete
    client = _client()

    @after_this_request
    def _schedule(response: Response) -> Response:
        response.call_on_close(lambda: delete(client, resource, sid))
        return response
