"""What fuzzing, forged requests and faults once broke: each case here failed before its fix."""

from __future__ import annotations

import http.client
import io
import logging
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge import counters
from hotline_bridge.cli import main
from hotline_bridge.directory import store
from hotline_bridge.directory.store import BUSY_TIMEOUT_MS, open_db
from hotline_bridge.privacy import REDACTED, redact
from hotline_bridge.settings import PROJECT_ROOT, ConfigError
from hotline_bridge.webhooks import RecentDeliveries
from tests.conftest import AUTH_TOKEN, BASE_URL, SENDER, Texter, sign, signed_post, twiml
from tests.webhooks.webhook_fuzz import ROUTES

HOTLINE = "1-888-373-7888"

# Every Twilio route the app ships, the same list the fuzzing strategies post to.
TWILIO_ROUTES = list(ROUTES)

# A multipart body whose one part has no name=, which once made the signature check raise.
NAMELESS_MULTIPART = b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"


def _counts(app: Flask, channel: str) -> dict[tuple[str, str], int]:
    counters.flush_all()
    with open_db(app) as db:
        rows = db.query("select language, event, n from counts where channel = ?", [channel])
        return {(row["language"], row["event"]): row["n"] for row in rows}


def _sms(sid: str, body: str = "hello") -> dict[str, str]:
    return {"Body": body, "From": SENDER, "To": "+15550100999", "MessageSid": sid}


# --- Item 2: a body that cannot be verified gets 403, never 500 -------------------------------


@pytest.mark.parametrize("path", TWILIO_ROUTES)
def test_an_unverifiable_multipart_body_gets_403_on_every_twilio_route(
    client: FlaskClient, path: str
) -> None:
    response = client.post(
        path,
        data=NAMELESS_MULTIPART,
        headers={
            "X-Twilio-Signature": "x",
            "Content-Type": "multipart/form-data; boundary=b",
        },
    )
    assert response.status_code == 403


def test_the_shipped_routes_are_the_ones_tested(app: Flask) -> None:
    posted = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/sms", "/voice")) and "POST" in (rule.methods or ())
    }
    assert posted == set(TWILIO_ROUTES)


# --- Item 3: counting never delays a reply -----------------------------------------------------


def _lock(app: Flask) -> sqlite3.Connection:
    """Another program taking the database's write lock, as an import or a backup does."""
    conn = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    conn.execute("begin immediate")
    return conn


@pytest.mark.parametrize("flush_seconds", [2, 0])
def test_replies_do_not_wait_for_the_database_while_it_is_locked(
    make_app: Any, flush_seconds: int
) -> None:
    app = make_app(COUNTS_FLUSH_SECONDS=flush_seconds)
    texter = Texter(app.test_client())
    texter.send("hello")  # open the kept connection before the lock
    lock = _lock(app)
    took = []
    try:
        for body in ["1", "0", "2", "0", "ES", "1", "0", "HELP"]:
            started = time.perf_counter()
            assert texter.send(body)
            took.append(time.perf_counter() - started)
    finally:
        lock.rollback()
        lock.close()
    # Before counting left the request path, each of these waited out the busy timeout. Half
    # of it tells waiting from a slow machine without timing the line (`make bench` does).
    assert max(took) < BUSY_TIMEOUT_MS / 1000 / 2, took
    assert sum(_counts(app, "sms").values()) == 9  # none lost: written once the lock is gone


def test_counts_are_written_in_the_background_without_a_reader(make_app: Any) -> None:
    app = make_app(COUNTS_FLUSH_SECONDS=1)
    Texter(app.test_client()).send("hello")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open_db(app) as db:
            if db["counts"].count:
                return
        time.sleep(0.1)
    pytest.fail("the background writer wrote nothing in 60 s")


def test_counts_wait_in_memory_while_locked_and_are_written_once(make_app: Any) -> None:
    app = make_app(COUNTS_FLUSH_SECONDS=3600)
    texter = Texter(app.test_client())
    texter.send("hello")
    lock = _lock(app)
    for body in ["1", "0"]:
        texter.send(body)
    tally: counters.Tally = app.extensions["hotline_bridge.counts"]
    assert tally.flush(busy_ms=0) is False  # still locked: kept for later
    lock.rollback()
    lock.close()
    assert tally.flush(busy_ms=0) is True
    assert sum(_counts(app, "sms").values()) == 3


# --- Item 4: a Twilio retry is counted once ---------------------------------------------------


def test_a_retried_message_is_answered_again_but_counted_once(app: Flask) -> None:
    client = app.test_client()
    first = signed_post(client, "/sms", _sms("SM" + "1" * 32))
    again = signed_post(client, "/sms", _sms("SM" + "1" * 32))
    other = signed_post(client, "/sms", _sms("SM" + "2" * 32))
    assert first.status_code == again.status_code == other.status_code == 200
    assert twiml(again).findtext("Message") == twiml(first).findtext("Message")
    assert sum(_counts(app, "sms").values()) == 2


def test_a_retried_status_callback_is_counted_once_but_each_status_is(app: Flask) -> None:
    client = app.test_client()
    for status in ["sent", "sent", "delivered", "delivered"]:
        signed_post(client, "/sms/status", {"MessageSid": "SM" + "3" * 32, "MessageStatus": status})
    assert _counts(app, "sms") == {("all", "status:sent"): 1, ("all", "status:delivered"): 1}


def test_a_retried_call_step_is_counted_once(app: Flask) -> None:
    client = app.test_client()
    fields = {"CallSid": "CA" + "4" * 32, "From": SENDER, "To": "+15550100999"}
    for _ in range(2):
        signed_post(client, "/voice", fields)
    assert _counts(app, "voice") == {("unknown", "call"): 1}


def test_retries_are_known_by_a_keyed_digest_forgotten_after_the_window() -> None:
    recent = RecentDeliveries(window_seconds=900)
    sid = "SM" + "5" * 32
    assert recent.seen("/sms", sid, now=0.0) is False
    assert recent.seen("/sms", sid, now=899.0) is True
    assert recent.seen("/sms", sid, now=1800.0) is False  # the window has passed
    assert sid.encode() not in recent.held() and sid[2:].encode() not in recent.held()
    # A digest made under another process's key matches nothing here.
    assert RecentDeliveries(900).seen("/sms", sid, now=0.0) is False


# --- Item 5: status callbacks count only known statuses ---------------------------------------


def test_status_callbacks_count_unknown_statuses_as_other(app: Flask) -> None:
    client = app.test_client()
    for n, status in enumerate(["delivered", "<b>", "x" * 60, "DELIVERED", "sent "]):
        signed_post(client, "/sms/status", {"MessageSid": f"SM{n:032d}", "MessageStatus": status})
    for n, status in enumerate(["completed", "zebra", "no-answer", ""]):
        signed_post(client, "/voice/status", {"CallSid": f"CA{n:032d}", "CallStatus": status})
    signed_post(client, "/voice/dialed", {"CallSid": "CA9", "DialCallStatus": "quartz"})
    assert {e for (_, e) in _counts(app, "sms")} == {"status:delivered", "status:other"}
    voice = {e for (_, e) in _counts(app, "voice")}
    assert voice == {"status:completed", "status:no-answer", "status:other", "dial:other"}


# --- Item 7: signatures against the deployment's public address -------------------------------


def _forwarded_post(
    client: FlaskClient, signed_for: str, path: str = "/sms", **headers: str
) -> int:
    params = _sms("SM" + "6" * 32)
    signature = sign(signed_for, params)
    response = client.post(path, data=params, headers={"X-Twilio-Signature": signature, **headers})
    return response.status_code


def test_without_public_url_forwarded_host_and_prefix_are_trusted(make_app: Any) -> None:
    client = make_app(PROXY_HOPS=1).test_client()
    headers = {"X-Forwarded-Host": "line.example.org", "X-Forwarded-Proto": "https"}
    assert _forwarded_post(client, "https://line.example.org/sms", **headers) == 200


def test_public_url_ignores_forged_forwarded_host_and_prefix(make_app: Any) -> None:
    client = make_app(PROXY_HOPS=1, PUBLIC_URL="https://line.example.org/").test_client()
    assert _forwarded_post(client, "https://line.example.org/sms") == 200
    forged_host = {"X-Forwarded-Host": "other.example", "X-Forwarded-Proto": "https"}
    assert _forwarded_post(client, "https://other.example/sms", **forged_host) == 403
    forged_prefix = {"X-Forwarded-Prefix": "/other"}
    assert _forwarded_post(client, "https://line.example.org/other/sms", **forged_prefix) == 403
    assert _forwarded_post(client, "https://line.example.org/sms", **forged_prefix) == 200


def test_public_url_may_name_a_path_prefix(make_app: Any) -> None:
    client = make_app(PUBLIC_URL="https://example.org/line").test_client()
    assert _forwarded_post(client, "https://example.org/line/sms") == 200
    assert _forwarded_post(client, BASE_URL + "/sms") == 403


@pytest.mark.parametrize("query", ["n=%7B", "i=a%2Fb", "z=%C3%A9", "n=main&l=en"])
@pytest.mark.parametrize("public_url", [None, "https://line.example.org"])
def test_signatures_cover_the_query_exactly_as_twilio_sent_it(
    make_app: Any, query: str, public_url: str | None
) -> None:
    client = make_app(PUBLIC_URL=public_url).test_client()
    base = public_url or BASE_URL
    assert _forwarded_post(client, f"{base}/voice/menu?{query}", f"/voice/menu?{query}") == 200


@pytest.mark.parametrize("value", ["line.example.org", "ftp://x.org", "https://x.org/?a=1"])
def test_a_malformed_public_url_refuses_to_start(make_app: Any, value: str) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_BRIDGE_PUBLIC_URL"):
        make_app(PUBLIC_URL=value)


def test_the_readme_says_what_the_proxy_must_overwrite_and_what_signatures_cover() -> None:
    readme = " ".join((PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "X-Forwarded-Host" in readme and "X-Forwarded-Prefix" in readme
    assert "parameter values, not their boundaries" in readme


# --- Item 8: bodies over 64 KB are refused unread, and always answered ------------------------


class _CountingStream(io.RawIOBase):
    """An endless request body that counts what is read of it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        buffer[:size] = b"a" * size
        self.read_bytes += size
        return size


def test_a_body_over_64_kb_is_refused_before_it_is_read(app: Flask) -> None:
    stream = _CountingStream()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/sms",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(10 * 1024 * 1024),
        "HTTP_X_TWILIO_SIGNATURE": "x",
    }
    statuses: list[str] = []
    body = app.wsgi_app(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["413 REQUEST ENTITY TOO LARGE"] and stream.read_bytes == 0
    body.close()  # type: ignore[attr-defined]
    assert stream.read_bytes == 10 * 1024 * 1024  # drained only after answering


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The real app under gunicorn on a loopback port, as it is served in production."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HOTLINE_BRIDGE_DATABASE": str(tmp / "hotline.db"),
        "HOTLINE_BRIDGE_SECRET_KEY": "gunicorn-secret",
        "HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HOTLINE_BRIDGE_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    with (tmp / "gunicorn.log").open("wb") as log:  # the server keeps its own copy of the file
        process = subprocess.Popen(
            [*argv, "--timeout", "10", "hotline_bridge.wsgi:app"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    pytest.fail("gunicorn did not start")


@pytest.mark.parametrize("size", [64 * 1024 + 1, 1024 * 1024, 10 * 1024 * 1024])
def test_gunicorn_answers_an_oversized_body_instead_of_closing(gunicorn: int, size: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=10)
    body = b"Body=" + b"a" * (size - 5)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": "x",
    }
    conn.request("POST", "/sms", body=body, headers=headers)
    response = conn.getresponse()
    try:
        assert response.status == 413
        assert response.read() == b"<Response/>"
    finally:
        conn.close()


# --- Item 11: start-up refusals are one line ---------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    for name, value in {
        "HOTLINE_BRIDGE_DATABASE": str(path),
        "HOTLINE_BRIDGE_SECRET_KEY": "cli-secret",
        "HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN": "cli-token",
        "HOTLINE_BRIDGE_PUBLIC_URL": "https://line.example.org",
    }.items():
        monkeypatch.setenv(name, value)
    store.initialize(path)
    return path


def _refusal(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_a_locked_database_refuses_start_up_in_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)
    lock = sqlite3.connect(cli_env, isolation_level=None)
    lock.execute("begin immediate")
    try:
        line = _refusal(["counts"])
    finally:
        lock.rollback()
        lock.close()
    assert line.startswith("Error: cannot start: database ")
    assert str(cli_env) in line and "locked" in line and "let it finish" in line


def test_a_read_only_database_refuses_start_up_in_one_line(cli_env: Path) -> None:
    with read_only(cli_env.parent):
        line = _refusal(["counts"])
    assert line.startswith("Error: cannot start: database ") and str(cli_env) in line
    assert "read-only" in line or "cannot be opened" in line


def test_a_damaged_database_refuses_start_up_in_one_line(cli_env: Path) -> None:
    for leftover in cli_env.parent.glob("cli.db-*"):
        leftover.unlink()
    cli_env.write_bytes(b"this is not a database " * 512)
    line = _refusal(["counts"])
    assert str(cli_env) in line and "backup" in line


class read_only:
    """Make a folder and its files unwritable, even for root (who ignores permission bits)."""

    def __init__(self, folder: Path) -> None:
        self.paths = [folder, *folder.iterdir()]

    def __enter__(self) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", *map(str, self.paths)], check=True)
        else:
            for path in self.paths:
                path.chmod(0o555 if path.is_dir() else 0o444)

    def __exit__(self, *exc: object) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", *map(str, self.paths)], check=True)
        else:
            for path in self.paths:
                path.chmod(0o755 if path.is_dir() else 0o644)


# --- Item 13: every response carries the baseline security headers ----------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/sms", 405),
        ("DELETE", "/kiosk", 405),
        ("GET", "/healthz", 200),
        ("POST", "/sms", 403),
        ("GET", "/kiosk", 200),
    ],
)
def test_every_response_carries_the_kiosks_security_headers(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    from hotline_bridge.channels.kiosk.routes import SECURITY_HEADERS

    response = client.open(path, method=method)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


# --- Item 14: logs hide a person's numbers and keep the server's own facts --------------------


@pytest.mark.parametrize(
    "line",
    [
        "Listening at: http://127.0.0.1:18000 (48213)",
        "Listening at: http://localhost:18000",
        "Booting worker with pid: 48213",
        "Worker exiting (pid: 48213)",
        '127.0.0.1 - - [01/Dec/2026:22:07:36 +0000] "GET /healthz HTTP/1.1" 200 16384 "-"',
        '127.0.0.1 - - [07/Dec/2026 19:28:32] "GET /kiosk/demo-clinic/es HTTP/1.1" 200 -',
        "sent 65536 bytes",
        "2026-12-01 22:07:36,123 started",
        "from 10.20.30.40",
    ],
)
def test_log_redaction_keeps_the_servers_own_facts(line: str) -> None:
    assert redact(line) == line


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ('"POST /voice/menu?l=en&z=02139 HTTP/1.1" 200 312', "02139"),
        ("text from +15558675309", "5558675309"),
        ("call 1.555.867.5309 now", "867"),
        ("pid 5558675309", "5558675309"),
        ("[5558675309]", "5558675309"),
        ("zip 02139 and 10.0.0.1", "02139"),
        ('[07/Dec/2026 19:28:32] "GET /kiosk/x/en/nearby:02139.legal', "02139"),
        ("07/Dec/2026 55586 75309", "75309"),
    ],
)
def test_log_redaction_still_hides_what_a_person_could_send(line: str, hidden: str) -> None:
    assert hidden not in redact(line) and REDACTED in redact(line)


def test_gunicorn_style_records_stay_readable(captured_logs: pytest.LogCaptureFixture) -> None:
    url = "http://127.0.0.1:18000"
    logging.getLogger("gunicorn.error").info("Listening at: %s (%s)", url, 4242)
    assert "http://127.0.0.1:18000 (4242)" in captured_logs.text


def test_a_retry_that_reaches_another_worker_is_known_there_too() -> None:
    recent = RecentDeliveries(window_seconds=900)
    sid = "SM" + "8" * 32
    recent.seen("/sms", sid, now=10.0)
    child = os.fork()
    if child == 0:  # a forked worker, as gunicorn makes them after preloading the app
        os._exit(0 if recent.seen("/sms", sid, now=11.0) else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


class SlowToRemember(RecentDeliveries):
    """Remembers a delivery a moment after looking it up, as a busy worker may: the moment in
    which a duplicate that reaches another worker could find it not yet there."""

    def _store(self, table: int, slot: int, digest: bytes) -> None:
        time.sleep(0.002)
        super()._store(table, slot, digest)


def test_a_delivery_and_its_duplicate_at_the_same_instant_in_two_workers_count_once() -> None:
    """Two forked workers get each delivery at once: exactly one of them takes it for new."""
    recent = SlowToRemember(window_seconds=900)
    deliveries = [("/sms", f"SM{n:032d}") for n in range(200)]
    together = multiprocessing.Barrier(2)
    children = []
    for _ in range(2):
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # a worker: count the deliveries it took for new ones
            try:
                os.close(read)
                new = 0
                for parts in deliveries:  # each delivery and its duplicate at the same instant
                    together.wait(timeout=30)
                    new += not recent.seen(*parts, now=10.0)
                os.write(write, str(new).encode())
            finally:
                os._exit(0)
        os.close(write)
        children.append((child, read))
    total = 0
    for child, read in children:
        with os.fdopen(read) as pipe:
            total += int(pipe.read())
        os.waitpid(child, 0)
    assert total == len(deliveries)
