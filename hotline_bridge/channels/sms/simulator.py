"""Trying the SMS line in a terminal, through the real webhook with signed requests.

Requests go through the app in-process (Flask's test client), signed with the app's auth token
exactly as Twilio signs them, and the conversation cookie is kept as Twilio keeps it: what the
terminal shows is what a phone would get.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from xml.etree import ElementTree

from flask import Flask
from twilio.request_validator import RequestValidator

from hotline_bridge.channels.sms.segments import cost
from hotline_bridge.counters import DRY_RUN
from hotline_bridge.directory.store import SIMULATOR_NUMBER

# The number a simulated person texts from: reserved for fiction, never a real subscriber.
SIMULATED_SENDER = "+15555550100"
# The simulated requests' origin; the signature covers it like a real Twilio request.
BASE_URL = "http://localhost"


class SmsSimulator:
    """One simulated conversation with the SMS webhook."""

    def __init__(self, app: Flask, to: str = SIMULATOR_NUMBER) -> None:
        self.client = app.test_client()
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
        self.to = to
        # Signed for the address the app checks: PUBLIC_URL when the deployment sets one.
        self.base_url = app.config.get("PUBLIC_URL") or BASE_URL

    def send(self, body: str) -> tuple[int, str]:
        """Text ``body``; return the HTTP status and the reply text ('' when silent)."""
        params = {
            "Body": body,
            "From": SIMULATED_SENDER,
            "To": self.to,
            "MessageSid": "SM" + secrets.token_hex(16),
            "NumMedia": "0",
        }
        signature = self.validator.compute_signature(self.base_url + "/sms", params)
        response = self.client.post(
            "/sms",
            data=params,
            headers={"X-Twilio-Signature": signature},
            environ_base={DRY_RUN: True},  # trying the line is not using it
        )
        root = ElementTree.fromstring(response.get_data())
        return response.status_code, "\n".join(m.text or "" for m in root.iter("Message"))


def run_sms(app: Flask, read: Callable[[], str], write: Callable[[str], None], to: str) -> None:
    """Run a conversation: ``read`` returns the person's next message (EOFError ends it)."""
    simulator = SmsSimulator(app, to)
    write("Text the line as a person would (Ctrl-D to stop). Try: hello, 1, ES, HELP, STOP.")
    while True:
        try:
            body = read()
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        status, text = simulator.send(body)
        size = cost(text)
        write(f"--- reply ({status}, {size.encoding}, {size.segments} segment(s)) ---")
        write(text or "(no reply)")
