"""Measure a labelled set of messages through the line's real doors, as a person meets them.

    .venv/bin/python tools/measure_doors.py flows/danger-examples/heldout11-en.csv ...

Each file is ``label,concept,text`` (``-en.csv`` or ``-es.csv``). Every message is sent to a
fresh app on a throwaway database:

- by SMS, as the first message of its own conversation, through the signed Messaging webhook;
  heard means a ``danger`` event was counted (the calm line, the 24/7 line and 911 first);
- by voice, said on a new call at the greeting, then on another call on the main menu after the
  language's key, through the signed Voice webhooks; heard means the answer offers to connect
  (a Gather to ``/voice/signal``), or for "911" or "SOS" said alone, is the emergency screen,
  and a ``danger`` event was counted.

It prints recall and false alarms per file and door. ``hotline-bridge check --signals`` measures
the same sets through ``Danger.found_in`` alone; a difference between the two is a bug.
"""

from __future__ import annotations

import csv
import secrets
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline_bridge import counters, create_app  # noqa: E402
from hotline_bridge.channels.voice.simulator import Phone  # noqa: E402

TOKEN = "measure-auth-token-0123456789abcdef"
# Reserved for fiction (555-01xx): never a real subscriber.
SENDER = "+1555555{:04d}"
SPEECH = {"en": "en-US", "es": "es-US"}
LANGUAGE_KEY = {"en": "1", "es": "2"}


def make_app(folder: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE": f"{folder}/measure.db",
            "SECRET_KEY": secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": TOKEN,
            "COUNTS_FLUSH_SECONDS": 0,
            "CHANGE_CHECK_MS": 0,
        }
    )


def dangers(app: Flask) -> int:
    """How many ``danger`` events the line has counted."""
    counters.flush_all()
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        row = conn.execute("select coalesce(sum(n), 0) from counts where event = 'danger'")
        return int(row.fetchone()[0])


def texted(app: Flask, number: int, body: str) -> bool:
    """Text ``body`` as a new conversation; whether the line heard danger."""
    params = {
        "Body": body,
        "From": SENDER.format(number % 100),
        "To": "",
        "MessageSid": "SM" + secrets.token_hex(16),
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/sms", params)
    before = dangers(app)
    response = app.test_client().post(
        "/sms", data=params, headers={"X-Twilio-Signature": signature}
    )
    if response.status_code != 200:
        raise RuntimeError(f"/sms answered {response.status_code}")
    return dangers(app) > before


def said(app: Flask, number: int, words: str, lang: str, on_menu: bool) -> bool:
    """Say ``words`` on a new call (at the greeting, or on the main menu); whether the line
    offers to connect."""
    phone = Phone(app, caller=SENDER.format(number % 100))
    phone.dial_in()
    if on_menu:
        phone.press(LANGUAGE_KEY[lang])
    before = dangers(app)
    phone.speak(words, language=SPEECH[lang])
    gather = phone.twiml.find("Gather") if phone.twiml is not None else None
    action = gather.get("action", "") if gather is not None else ""
    # "911", "SOS" or "emergency" said alone goes to the emergency screen, which says 911 and
    # offers the 24/7 line by one key: heard too, but not the menu's own Emergency option
    # chosen by its label (no danger counted).
    offered = action.startswith(("/voice/signal", "/voice/menu?n=emergency&"))
    return offered and dangers(app) > before


def measure(path: Path, door: Callable[[int, str], bool]) -> str:
    heard = {"danger": 0, "ordinary": 0}
    total = {"danger": 0, "ordinary": 0}
    with path.open(encoding="utf-8") as rows:
        for number, row in enumerate(csv.DictReader(rows)):
            kind = "danger" if row["label"] == "danger" else "ordinary"
            total[kind] += 1
            heard[kind] += door(number, row["text"])
    return (
        f"recall {heard['danger'] / total['danger']:.1%} ({heard['danger']}/{total['danger']}), "
        f"false alarms {heard['ordinary'] / total['ordinary']:.1%} "
        f"({heard['ordinary']}/{total['ordinary']})"
    )


def main(paths: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-measure-") as folder:
        app = make_app(folder)
        for name in paths:
            path = Path(name)
            lang = "es" if path.stem.endswith("-es") else "en"
            doors: dict[str, Callable[[int, str], bool]] = {
                "sms": lambda n, text: texted(app, n, text),
                "voice, greeting": lambda n, text, lang=lang: said(app, n, text, lang, False),
                "voice, main menu": lambda n, text, lang=lang: said(app, n, text, lang, True),
            }
            for door_name, door in doors.items():
                print(f"{path.name} {door_name}: {measure(path, door)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
