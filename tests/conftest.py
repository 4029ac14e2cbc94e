"""Shared fixtures: a real app on a real SQLite file, and a client that signs like Twilio."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from hotline_bridge import create_app

# The test suite's folder (its fixtures are shared by every part) and the project's.
TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
PROJECT = TESTS.parent

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
            # Look at the database at every request, so a change shows in the next reply.
            "CHANGE_CHECK_MS": 0,
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


def run_later(app: Flask, seconds: float | None = None) -> int:
    """Run the deletions ``app`` holds that are due ``seconds`` from now (by default, once
    Twilio accepts a deletion), as its background thread would then; return how many ran."""
    from hotline_bridge.webhooks import forget

    wait = forget.SETTLE_SECONDS + 1 if seconds is None else seconds
    later: forget.Later = app.extensions[forget.LATER]
    return later.run_due(time.monotonic() + wait)


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


# Debian's Chromium, never a downloaded one; the flags keep it from calling home.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for every browser test in the process; each test opens its own context."""
    # Launch failures propagate: a kiosk that cannot be tested is a failed run, not a skip.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


# --- Real servers on loopback ------------------------------------------------------------------

GUNICORN_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
# Seconds a server started by a test has to answer /healthz before the test fails.
SERVER_START_SECONDS = 30


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database: Path, **extra: str) -> dict[str, str]:
    """Return the environment of a production-like server on ``database`` (no local mode)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_BRIDGE_")}
    env.update(
        HOTLINE_BRIDGE_DATABASE=str(database),
        HOTLINE_BRIDGE_SECRET_KEY=SECRET_KEY,
        HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        # Counts written as they come, so a test reads what the server answered so far.
        HOTLINE_BRIDGE_COUNTS_FLUSH_SECONDS="0",
        # And a changed or restored database shows in the very next reply.
        HOTLINE_BRIDGE_CHANGE_CHECK_MS="0",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(extra)
    return env


def wait_until_up(base_url: str, process: Any) -> None:
    """Wait until ``base_url``/healthz answers, failing if the process exits first."""
    import time
    import urllib.request

    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{base_url} did not answer within {SERVER_START_SECONDS} s")


def stop(process: Any) -> None:
    """Stop a server started by a test (its PID only), waiting for it to exit."""
    import signal
    import subprocess

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Servers:
    """Gunicorn servers on 127.0.0.1 with the repository's configuration, stopped together."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[Any, Any]] = []

    def start(self, database: Path, workers: int = 1, **extra: str) -> str:
        """Start a server on ``database`` and return its URL once it answers."""
        import subprocess
        import sys

        port = free_port()
        argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
        argv += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        log = (self.log_dir / f"gunicorn-{port}.log").open("wb")
        process = subprocess.Popen(argv, env=server_env(database, **extra), stderr=log)
        self.started.append((process, log))
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process)
        return base_url

    def stop_all(self) -> None:
        """Stop every server started here (by its own PID), then close its log."""
        for process, _log in self.started:  # all at once: each takes seconds to stop
            if process.poll() is None:
                process.terminate()
        for process, log in self.started:
            stop(process)
            log.close()


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[Any]:
    """Return a starter of gunicorn servers on 127.0.0.1, each stopped after the test."""
    servers = Servers(tmp_path)
    yield servers.start
    servers.stop_all()
