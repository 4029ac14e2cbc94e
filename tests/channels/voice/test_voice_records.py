"""What a call leaves behind: per-day counts only; no caller number anywhere; Twilio's copy gone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import responses
from flask import Flask

from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.directory.store import open_db
from tests.conftest import CLINIC_NUMBER, SENDER, run_later, signed_post

# The caller's number in the forms a file or a log might hold it.
CALLER_FORMS = [SENDER, SENDER[1:], SENDER[2:], "555-867-5309", "(555) 867-5309", "8675309"]
ACCOUNT_SID = "AC" + "0" * 32
CALL_SID = "CA" + "7" * 32


def _all_bytes(*folders: Path) -> bytes:
    return b"\n".join(
        path.read_bytes()
        for folder in folders
        if folder.exists()
        for path in folder.rglob("*")
        if path.is_file()
    )


def scripted_call(app: Flask) -> Phone:
    """A whole call in Spanish: menus, a list, a service's details, a failed connection, words
    that hold the caller's number, silence, and the star."""
    phone = Phone(app, caller=SENDER, to=CLINIC_NUMBER)
    phone.fields["CallSid"] = CALL_SID
    phone.dial_in()
    for key in ("2", "2", "1", "1", "2", "1"):
        phone.press(key)
    phone.dial_outcome("busy")
    phone.speak(f"mi número es {SENDER}")
    phone.wait()
    phone.press("0")
    phone.press("*")
    assert phone.hung_up
    return phone


def test_a_call_leaves_no_caller_number_behind(
    app: Flask, tmp_path: Path, captured_logs: pytest.LogCaptureFixture
) -> None:
    scripted_call(app)
    signed_post(
        app.test_client(),
        "/voice/status",
        {"CallSid": CALL_SID, "CallStatus": "completed", "From": SENDER, "To": CLINIC_NUMBER},
    )
    logging.getLogger("hotline_bridge.test").warning("caller was %s", SENDER)
    stored = _all_bytes(tmp_path, Path(app.instance_path)).decode("utf-8", errors="replace")
    for needle in [*CALLER_FORMS, CALL_SID]:
        assert needle not in stored, f"{needle!r} was kept"
        assert needle not in captured_logs.text, f"{needle!r} was logged"


def test_a_call_is_counted_only_by_day_language_and_event(app: Flask) -> None:
    scripted_call(app)
    with open_db(app) as db:
        assert db["counts"].columns_dict == {
            "day": str,
            "channel": str,
            "language": str,
            "event": str,
            "n": int,
        }
        events = {
            (row["language"], row["event"])
            for row in db["counts"].rows_where("channel = ?", ["voice"])
        }
    assert ("unknown", "call") in events
    assert ("es", "language") in events
    assert ("es", "dial:busy") in events
    assert ("es", "hangup") in events
    assert all(SENDER[2:] not in event for _, event in events)


def test_the_status_callback_counts_the_outcome(app: Flask) -> None:
    response = signed_post(
        app.test_client(),
        "/voice/status",
        {"CallSid": CALL_SID, "CallStatus": "no-answer", "From": SENDER},
    )
    assert response.status_code == 200
    with open_db(app) as db:
        rows = list(db["counts"].rows_where("channel = ?", ["voice"]))
    assert [(r["language"], r["event"], r["n"]) for r in rows] == [("all", "status:no-answer", 1)]


def test_the_simulator_and_the_check_count_nothing(app: Flask) -> None:
    phone = Phone(app, dry_run=True)
    phone.dial_in()
    phone.press("1")
    with open_db(app) as db:
        assert db["counts"].count == 0


@responses.activate
def test_twilio_deletes_its_copy_of_a_finished_call(make_app: object) -> None:
    app = make_app(DELETE_TWILIO_RECORDS=True, TWILIO_ACCOUNT_SID=ACCOUNT_SID)  # type: ignore[operator]
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL_SID}.json"
    responses.add(responses.DELETE, url, status=204)
    client = app.test_client()
    ringing = signed_post(client, "/voice/status", {"CallSid": CALL_SID, "CallStatus": "ringing"})
    ringing.close()
    assert len(responses.calls) == 0
    done = signed_post(client, "/voice/status", {"CallSid": CALL_SID, "CallStatus": "completed"})
    done.close()
    assert done.status_code == 200
    assert len(responses.calls) == 0  # just ended: Twilio asks to wait at least a minute
    assert run_later(app) == 1
    assert [call.request.method for call in responses.calls] == ["DELETE"]


@responses.activate
def test_nothing_is_deleted_when_the_setting_is_off(app: Flask) -> None:
    response = signed_post(
        app.test_client(), "/voice/status", {"CallSid": CALL_SID, "CallStatus": "completed"}
    )
    response.close()
    assert len(responses.calls) == 0
