"""Shared fixtures: a real app on a real SQLite file, and a client that signs like Twilio."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from hotline_bridge import create_app

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SECRET_KEY = "test-secret-key"
BASE_URL = "http://localhost"

# A sender's number and a Twilio number, used to prove nothing about the sender is kept.
SENDER = "+15558675309"
CLINIC_NUMBER = "+15550100999"


# The clock every test runs at, never the real one: an opening hour on a weekday, or the middle
# of a Sunday night, chosen by HOTLINE_BRIDGE_TEST_CLOCK. `make test` runs the suite at both.
NEW_YORK = ZoneInfo("America/New_York")
CLOCKS = {
    "day": dt.datetime(2026, 12, 2, 15, 0, tzinfo=NEW_YORK),  # a Wednesday afternoon
    "night": dt.datetime(2026, 12, 6, 3, 0, tzinfo=NEW_YORK),  # a Sunday, 3 a.m.
}
CLOCK = os.environ.get("HOTLINE_BRIDGE_TEST_CLOCK", "day")


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[time_machine.Traveller]:
    """Run every test at the chosen moment (the clock ticks on from there)."""
    with time_machine.travel(CLOCKS[CLOCK], tick=True) as traveller:
        yield traveller


@pytest.fixture
def daytime() -> bool:
    """Whether the suite runs at the weekday opening hour (else on a Sunday night)."""
    return CLOCK == "day"


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Any]:
    """Return a factory for apps on a fresh database file in ``tmp_path``."""

    def factory(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "DATABASE": str(tmp_path / "hotline.db"),
            "SECRET_KEY": SECRET_KEY,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            # Write each count at once, so a test can read it right after the request.
            "COUNTS_FLUSH_SECONDS": 0,
        }
        config.update(overrides)
        return create_app(config)

    yield factory


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Return the X-Twilio-Signature Twilio would send for ``params`` posted to ``url``."""
    return RequestValidator(token).compute_signature(url, params)


def signed_post(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    """POST ``params`` to ``path`` signed as Twilio signs webhooks."""
    signature = sign(BASE_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def twiml(response: TestResponse) -> ElementTree.Element:
    """Parse a response as TwiML, failing the test if it is not a valid <Response> document."""
    assert response.mimetype in {"application/xml", "text/xml"}, response.mimetype
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


class Texter:
    """A person texting the line: keeps the conversation cookie as Twilio does."""

    def __init__(self, client: FlaskClient, sender: str = SENDER, to: str = CLINIC_NUMBER):
        self.client, self.sender, self.to = client, sender, to
        self.count = 0

    def send(self, body: str) -> str:
        """Text ``body``; return the reply's text ('' when the line stays silent)."""
        self.count += 1
        params = {
            "Body": body,
            "From": self.sender,
            "To": self.to,
            "MessageSid": f"SM{self.count:032d}",
            "AccountSid": "AC" + "0" * 32,
            "NumMedia": "0",
        }
        response = signed_post(self.client, "/sms", params)
        assert response.status_code == 200
        messages = twiml(response).findall("Message")
        return "\n".join(m.text or "" for m in messages)


@pytest.fixture
def texter(client: FlaskClient) -> Texter:
    return Texter(client)


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every log record at every level."""
    caplog.set_level(logging.DEBUG)
    return caplog
