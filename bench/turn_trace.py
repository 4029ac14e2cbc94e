"""What one SMS turn visits: the package's functions and files that one signed POST /sms runs.

``python -m bench.turn_trace`` starts the real app on a throwaway database, keeps no earlier
answers (every message reaches the engine), has one person text a first message and a menu
choice ("1"), then a second person the same first message, and follows the second person's
"1" under ``sys.setprofile`` from the route to its TwiML: a turn on a worker already in use,
which has read the directory before (what it worked out from it is kept until it changes;
``--cold`` follows the first person's "1" instead, on a worker that has not). It prints how many
distinct functions (a comprehension or lambda counts as part of its function) and files of
``hotline_bridge`` ran, and how many calls crossed from one part of the package to another
(``webhooks`` to ``engine``, ``channels/sms`` to ``directory``…).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

import hotline_bridge
from hotline_bridge import create_app

PACKAGE = str(Path(hotline_bridge.__file__).parent) + os.sep
TOKEN = "trace-auth-token"


def _part(filename: str) -> str:
    """The part of the package a file belongs to: ``engine``, ``channels/sms``, ``webhooks``."""
    parts = filename[len(PACKAGE) :].split(os.sep)
    if parts[0] == "channels" and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _post(client: FlaskClient, body: str, sid: int, sender: str = "+15558675309") -> None:
    params = {
        "Body": body,
        "From": sender,
        "To": "+15550100999",
        "MessageSid": f"SM{sid:032d}",
        "AccountSid": "AC" + "0" * 32,
    }
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/sms", params)
    response = client.post("/sms", data=params, headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        raise RuntimeError(f"/sms answered {response.status_code}")


def trace(client: FlaskClient, sid: int = 2) -> tuple[set[tuple[str, int, str]], set[str], int]:
    """Follow one message; return the functions and files it ran, and the crossings."""
    functions: set[tuple[str, int, str]] = set()
    crossings = 0

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        nonlocal crossings
        if event != "call":
            return
        code = frame.f_code
        if not code.co_filename.startswith(PACKAGE):
            return
        if not code.co_name.startswith("<"):  # comprehensions and lambdas are part of theirs
            functions.add((code.co_filename, code.co_firstlineno, code.co_name))
        caller = frame.f_back
        while caller is not None and not caller.f_code.co_filename.startswith(PACKAGE):
            caller = caller.f_back  # through Flask's, Werkzeug's or Twilio's frames
        if caller is not None and _part(caller.f_code.co_filename) != _part(code.co_filename):
            crossings += 1

    sys.setprofile(profile)
    try:
        _post(client, "1", sid)
    finally:
        sys.setprofile(None)
    return functions, {f for f, _, _ in functions}, crossings


def main() -> None:
    cold = "--cold" in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="hotline-trace-") as name:
        app = create_app(
            {
                "DATABASE": str(Path(name) / "trace.db"),
                "TWILIO_AUTH_TOKEN": TOKEN,
                "SECRET_KEY": "trace-secret-key",
                "CHANGE_CHECK_MS": 0,
                "TESTING": True,
                "COUNTS_FLUSH_SECONDS": 0,
            }
        )
        from hotline_bridge.channels.sms.replies import Replies

        app.extensions["hotline_bridge.replies"] = Replies(size=0)
        first = app.test_client()
        _post(first, "hello", 1)
        if cold:
            functions, files, crossings = trace(first)
        else:
            _post(first, "1", 2)
            second = app.test_client()
            _post(second, "hello", 3, sender="+15558675310")
            functions, files, crossings = trace(second, sid=4)
    print(f"{len(functions)} functions in {len(files)} files, {crossings} crossings between parts")
    for filename in sorted(files):
        names = sorted(n for f, _, n in functions if f == filename)
        print(f"  {filename[len(PACKAGE) :]}: {', '.join(names)}")


if __name__ == "__main__":
    main()
