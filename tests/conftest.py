"""Shared fixtures: a real app on a real SQLite file, and a client that signs like Twilio."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import os
import time
from collections.abc import Callable, Iterator
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
from hotline_bridge.checks import Report

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


# The clock every test runs at, never the real one. A test runs once, at the weekday opening
# hour; a test marked `@pytest.mark.clock` (its outcome depends on the time of day or the date:
# open now, day counts, chart ranges, expiry) runs at both moments, as `[day]` and `[night]`.
# Both fall after the reference's latest check of the national lines, as a deployment's days do.
NEW_YORK = ZoneInfo("America/New_York")
CLOCKS = {
    "day": dt.datetime(2026, 12, 9, 15, 0, tzinfo=NEW_YORK),  # a Wednesday afternoon
    "night": dt.datetime(2026, 12, 13, 3, 0, tzinfo=NEW_YORK),  # a Sunday, 3 a.m.
}
# The moment an unmarked test runs at; HOTLINE_BRIDGE_TEST_CLOCK=night runs them at the other one,
# to audit the marks.
DEFAULT_CLOCK = os.environ.get("HOTLINE_BRIDGE_TEST_CLOCK", "day")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test marked ``clock`` at every moment in CLOCKS."""
    if metafunc.definition.get_closest_marker("clock"):
        metafunc.parametrize("clock_name", list(CLOCKS))


@pytest.fixture
def clock_name() -> str:
    """The name of the moment this test runs at (parametrized for tests marked ``clock``)."""
    return DEFAULT_CLOCK


@pytest.fixture(autouse=True)
def frozen_clock(clock_name: str) -> Iterator[time_machine.Traveller]:
    """Run every test at its moment (the clock ticks on from there)."""
    with time_machine.travel(CLOCKS[clock_name], tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def clock_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail an unmarked test whose answers would differ at the other moment.

    Whether a service is open now is where the time of day reaches what people are told; each
    call made during an unmarked test is also worked out at every other moment in CLOCKS, and a
    test that met a different answer there must be marked ``clock`` to run at both.
    """
    if request.node.get_closest_marker("clock"):
        yield
        return
    met = clock_sensitive(monkeypatch)
    yield
    if met:
        pytest.fail(
            "this test met 'open now' answers that differ between the moments in CLOCKS "
            f"({', '.join(sorted(set(met)))}): mark it @pytest.mark.clock so it runs at both",
            pytrace=False,
        )


# How near the clock a moment passed to ``open_now`` must be to have been read from it (the
# clock ticks on while a test runs).
READ_FROM_THE_CLOCK = dt.timedelta(hours=1)


def clock_sensitive(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Have ``open_now`` record each hours text whose answer differs at another moment in CLOCKS;
    return the list it records into."""
    from hotline_bridge.directory import hours, nearby

    real = hours.open_now
    shifts = [moment - CLOCKS[DEFAULT_CLOCK] for moment in CLOCKS.values()]
    met: list[str] = []

    def probed(text: str | None, tz: str, now: dt.datetime | None = None) -> bool | None:
        clock = dt.datetime.now(dt.UTC)
        moment = now or clock
        answer = real(text, tz, moment)
        # A moment a test wrote out for itself is no reading of the clock.
        if abs(moment - clock) < READ_FROM_THE_CLOCK and any(
            real(text, tz, moment + shift) != answer for shift in shifts
        ):
            met.append(str(text))
        return answer

    for module in (hours, nearby):
        monkeypatch.setattr(module, "open_now", probed)
    return met


@pytest.fixture
def daytime(request: pytest.FixtureRequest, clock_name: str) -> bool:
    """Whether the test runs at the weekday opening hour (else on a Sunday night). Only a test
    marked ``clock`` may ask: asking means its outcome depends on the answer."""
    if not request.node.get_closest_marker("clock"):
        pytest.fail("a test that asks for `daytime` must be marked @pytest.mark.clock")
    return clock_name == "day"


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


def checked(app: Flask, part: Callable[..., None]) -> Report:
    """Run one part of ``hotline-bridge check`` (``checks.check_directory``, ...) on the day
    clock's date and return its report: a test of one part need not walk every call."""
    report = Report(lines=[])
    if "today" in inspect.signature(part).parameters:
        part(app, report, CLOCKS["day"].date())
    else:
        part(app, report)
    return report


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
# Seconds a server started by a test has to answer /healthz before the test fails: generous,
# for it is waited for only as long as it takes, and a busy machine starts servers slowly.
SERVER_START_SECONDS = 90


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database: Path, public_url: str | None = None, **extra: str) -> dict[str, str]:
    """Return the environment of a production-like server on ``database`` (no local mode) that
    Twilio reaches at ``public_url`` (which a server outside local mode cannot start without)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_BRIDGE_")}
    if public_url is not None:
        env["HOTLINE_BRIDGE_PUBLIC_URL"] = public_url
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
        base_url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(argv, env=server_env(database, base_url, **extra), stderr=log)
        self.started.append((process, log))
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


@pytest.fixture
def short_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorten `check`'s two walks (voice paths, random SMS conversations) for a test of another
    of its parts: the whole walks are run by tests/cli/test_cli.py's
    test_check_passes_on_the_shipped_flow_and_catalogs, on the demo directory by the test after
    it, and for a language of its own by test_check_walks_the_pseudo_language."""
    from hotline_bridge import checks
    from hotline_bridge.channels.voice.check import walk_calls

    whole = checks.voice_problems

    def first_answers(app: Flask) -> list[str]:
        walk = walk_calls(app, 60)
        walk.todo.clear()  # stopped on purpose: not a problem of the line
        return whole(app, walk)

    monkeypatch.setattr(checks, "voice_problems", first_answers)
    monkeypatch.setattr(checks, "WALKED", 10)
