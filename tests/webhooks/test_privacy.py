"""Nothing about a person is kept: not in the database, not in files, not in the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge.privacy import redact
from tests.conftest import SENDER, Texter

# A message no reply or catalog could contain, so finding it anywhere means it was stored.
SECRET_TEXT = "zebra umbrella quartz"

# The sender's number in the forms a file or a log might hold it.
SENDER_FORMS = [SENDER, SENDER[1:], SENDER[2:], "555-867-5309", "(555) 867-5309", "8675309"]


def _all_bytes(*folders: Path) -> bytes:
    chunks = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                chunks.append(path.read_bytes())
    return b"\n".join(chunks)


def _assert_absent(haystack: str, what: list[str]) -> None:
    for needle in what:
        assert needle not in haystack, f"{needle!r} was kept"


def test_a_conversation_leaves_no_number_or_text_behind(
    app: Flask, client: FlaskClient, tmp_path: Path, captured_logs: pytest.LogCaptureFixture
) -> None:
    texter = Texter(client)
    for body in [
        "hello",
        SECRET_TEXT,
        "2",
        "1",
        "ES",
        "1",
        f"{SECRET_TEXT} {SENDER}",
        "HELP",
        "STOP",
        "START",
        "0",
        "3",
    ]:
        texter.send(body)
    logging.getLogger("hotline_bridge.test").warning("sender was %s", SENDER)
    stored = (
        _all_bytes(tmp_path, Path(app.instance_path))
        if Path(app.instance_path).exists()
        else _all_bytes(tmp_path)
    )
    text = stored.decode("utf-8", errors="replace")
    _assert_absent(text, [*SENDER_FORMS, SECRET_TEXT])
    _assert_absent(captured_logs.text, [*SENDER_FORMS, SECRET_TEXT])
    assert texter.count == 12


# The clinic console's own tables (staff accounts and their work), never about people.
CONSOLE_TABLES = (
    "staff",
    "console_sessions",
    "signin_failures",
    "audit_log",
    "pending_changes",
    "uploads",
    "setup_links",
)


def test_the_database_holds_only_aggregate_counts(app: Flask, texter: Texter) -> None:
    from hotline_bridge.directory.store import open_db

    texter.send("hello")
    texter.send(SECRET_TEXT)
    with open_db(app) as db:
        assert set(db.table_names()) <= {
            "services",
            "sites",
            "service_sites",
            "service_texts",
            "site_texts",
            "counts",
            "callback_admissions",
            "package_rows",  # an imported directory's own rows (HSDS metadata, taxonomies)
            "directory_version",  # a number that moves when the directory changes
            "_sqlite_migrations",
            *CONSOLE_TABLES,
        }
        # One number that moves when the directory is written, nothing else.
        assert [c.name for c in db["directory_version"].columns] == ["n"]
        assert db["directory_version"].count == 1
        # The console's tables are about staff only: a person texting adds nothing to them.
        assert all(db[name].count == 0 for name in CONSOLE_TABLES)
        columns = {c.name for c in db["counts"].columns}
        assert columns == {"day", "channel", "language", "event", "n"}
        # Reply CALL's hourly cap: how many calls a site placed in a minute, nothing else.
        assert {c.name for c in db["callback_admissions"].columns} == {"site", "minute", "n"}
        events = {row["event"] for row in db["counts"].rows}
    assert events <= {"step:main", "unknown", "help", "stop", "start", "language"} | {
        e for e in events if e.startswith("step:")
    }


def test_errors_are_logged_without_what_the_person_sent(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    captured_logs: pytest.LogCaptureFixture,
) -> None:
    from hotline_bridge.channels.sms import messaging

    def broken(_conversation: object, _state: object, body: str) -> None:
        raise ValueError(f"could not handle {body!r}")

    monkeypatch.setattr(messaging, "answer", broken)
    Texter(client).send(SECRET_TEXT)
    assert "ValueError" in captured_logs.text
    assert SECRET_TEXT not in captured_logs.text


@pytest.mark.parametrize(
    "text",
    [
        "+15558675309",
        "1-888-373-7888",
        "(555) 867-5309",
        "555.867.5309",
        "02139",
        "233733",
    ],
)
def test_log_redaction_hides_numbers_and_zip_codes(text: str) -> None:
    assert text not in redact(f"got {text} today")


def test_log_redaction_applies_to_every_logger(
    app: Flask, captured_logs: pytest.LogCaptureFixture
) -> None:
    """Once the app is made (it installs the redaction), whoever logs."""
    logging.getLogger("werkzeug").info("POST /sms from %s", "+15558675309")
    logging.getLogger("some.library").error("zip %d", 2139)
    try:
        raise RuntimeError("number +15558675309")
    except RuntimeError:
        logging.getLogger("x").exception("failed")
    assert "5558675309" not in captured_logs.text
    assert all("5558675309" not in (r.exc_text or "") for r in captured_logs.records)


def test_kiosk_and_healthz_set_no_cookie(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_log_redaction_keeps_ip_addresses_readable() -> None:
    assert redact("Listening at: http://127.0.0.1:5000") == "Listening at: http://127.0.0.1:5000"
    assert "867" not in redact("call 555.867.5309")
