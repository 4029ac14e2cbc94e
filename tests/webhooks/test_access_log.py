"""An access log turned on never holds what a person typed: the kiosk's ZIP keypad sends the
digits typed so far in the query string, which gunicorn would write as the request line."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

# Digits a person typed on the kiosk's keypad (a partial ZIP code, which no redaction of
# five-digit runs can tell from any other number).
TYPED = "8642"
FORMATS = [
    None,  # gunicorn's own format
    '%(r)s %(q)s "%(f)s" "%({referer}i)s" "%({location}o)s" %(U)s',  # everything that could
]


def wait_for(log: Path, text: str) -> str:
    """Return the log once ``text`` is in it (gunicorn writes each line as it is answered)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        written = log.read_text(encoding="utf-8") if log.exists() else ""
        if text in written:
            return written
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never reached the access log")


@pytest.mark.parametrize("log_format", FORMATS, ids=["default", "every-atom"])
def test_an_access_log_holds_no_typed_zip(
    gunicorn_server: Any, tmp_path: Path, log_format: str | None
) -> None:
    log = tmp_path / "access.log"
    args = f"--access-logfile {log}"
    if log_format:
        args += f" --access-logformat '{log_format}'"
    base_url = gunicorn_server(tmp_path / "line.db", GUNICORN_CMD_ARGS=args)
    typed = f"{base_url}/kiosk/default/en/nearby?zip={TYPED}"
    referer = {"Referer": f"{base_url}/kiosk/default/en/nearby?zip={TYPED}1"}
    with urllib.request.urlopen(urllib.request.Request(typed, headers=referer), timeout=10):
        pass
    written = wait_for(log, "/kiosk/default/en/nearby")
    assert TYPED not in written and "zip=" not in written
