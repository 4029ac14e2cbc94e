"""Optionally deleting Twilio's own copies of messages and calls once they are finished.

Twilio keeps a log of every message body and caller number. With ``DELETE_TWILIO_RECORDS`` on,
the service asks Twilio's REST API to delete each one a while after it is done, when Twilio
accepts the deletion (``forget.Later``), so the person never waits on it.
"""

from __future__ import annotations

import logging

from flask import current_app

from hotline_bridge.ops import metrics
from hotline_bridge.webhooks import forget

log = logging.getLogger(__name__)

# Message states after which Twilio will accept a delete.
FINAL_MESSAGE_STATES = frozenset({"delivered", "undelivered", "failed", "received", "read"})


def forget_later(resource: str, sid: str | None, *, asked: bool = False) -> None:
    """Delete Twilio's copy of ``sid`` once Twilio accepts it, if the setting asks for it (or
    the person did: ``asked``)."""
    if not (sid and (current_app.config["DELETE_TWILIO_RECORDS"] or asked)):
        return
    if not forget.record_when_settled(resource, sid):
        log.warning("Twilio record not held for deletion: too many wait already")
        metrics.twilio_error(f"hold {resource.lower()}")
