"""Fuzzing the webhooks: whatever arrives, the answer is valid TwiML with 200, or 403, or 413.

A few thousand hostile requests (see ``webhook_fuzz``) go through the real app on a real
database. A signed request always gets 200 and a valid TwiML document (the fail-safe at worst),
an unsigned or wrongly signed one 403, one over the size limit 413; never a 500, never XML that
Twilio could not read. ``make fuzz`` sends many more through gunicorn.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings

from hotline_bridge import create_app
from hotline_bridge.channels.sms.sessions import conversation_cookie
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.webhooks.webhook_fuzz import Probe, cookie_value, describe, probes, twiml_problem

# Examples per test: three tests, a few thousand requests in all.
EXAMPLES = 800

# The routes where a person's own input leads the way.
CONVERSATIONS = ("/sms", "/voice/menu", "/voice/language", "/voice/offer", "/voice/signal")

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests on every run, so CI never flakes on a new one
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "hotline.db"
    yield create_app(
        {
            "TESTING": True,
            "DATABASE": str(path),
            "SECRET_KEY": "fuzz-secret",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "COUNTS_FLUSH_SECONDS": 0,
            "CHANGE_CHECK_MS": 0,
        }
    )


def _send(app: Flask, probe: Probe) -> None:
    client = app.test_client()
    cookie = cookie_value(probe, conversation_cookie(app).signer.dumps)
    if cookie is not None:
        client.set_cookie("s", cookie, domain="localhost")
    body, content_type = probe.body()
    response = client.post(
        probe.url_path,
        data=body,
        content_type=content_type or None,
        headers=probe.signed_headers(BASE_URL, AUTH_TOKEN),
    )
    assert response.status_code in probe.expected(), describe(probe)
    if response.status_code == 200:
        problem = twiml_problem(response.status_code, response.mimetype, response.get_data())
        assert problem is None, f"{problem}: {describe(probe)}"


@FUZZ_SETTINGS
@given(probe=probes())
def test_any_request_gets_valid_twiml_or_a_refusal(fuzz_app: Flask, probe: Probe) -> None:
    _send(fuzz_app, probe)


@FUZZ_SETTINGS
@given(probe=probes(CONVERSATIONS, signatures=("valid",), paddings=(0,)))
def test_conversations_never_break_on_what_a_person_sends(fuzz_app: Flask, probe: Probe) -> None:
    _send(fuzz_app, probe)


@FUZZ_SETTINGS
@given(probe=probes(signatures=("wrong", "none")))
def test_unverifiable_requests_are_refused(fuzz_app: Flask, probe: Probe) -> None:
    _send(fuzz_app, probe)
