"""A call on the voice line without a phone: signed webhooks through the app, in-process.

``Phone`` posts what Twilio would post (signed with the app's auth token) and follows the TwiML
it gets back as Twilio would: a key or words go to the menu's action, silence follows the
redirect, a ``<Dial>`` reports its outcome to its action. ``hotline-bridge simulate voice``
(``cli``) drives a ``Phone`` from the terminal; the path check and the tests drive it from code.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

from flask import Flask
from twilio.request_validator import RequestValidator

from hotline_bridge.counters import DRY_RUN
from hotline_bridge.directory.models import display_number

# Where the simulated Twilio believes the app lives; the signature covers this URL.
BASE_URL = "http://localhost"

# A number from the range reserved for fiction, standing in for the caller.
FICTIONAL_CALLER = "+15555550123"

# Dial outcomes a person can try in the simulator, besides being connected.
DIAL_OUTCOMES = ("busy", "no-answer", "failed")

# What a person types that stands for keys pressed (one key, or several such as a ZIP code).
_KEYS = re.compile(r"[0-9*#]+")

# The key that ends an entry when a <Gather> names none: Twilio's default.
DEFAULT_FINISH_KEY = "#"


@dataclass(frozen=True)
class Spoken:
    """One ``<Say>``: its words (numbers as spaced digits), language and voice."""

    text: str
    language: str | None
    voice: str | None


def spoken_text(say: ElementTree.Element) -> str:
    """Return what a ``<Say>`` reads, with numbers in ``say-as`` written digit by digit (a
    ``sub`` is shown as written; the voice reads its alias)."""
    parts = [say.text or ""]
    for child in say:
        if child.tag == "say-as":
            parts.append(" ".join(child.text or ""))
        elif child.tag == "sub":
            parts.append(child.text or "")
        elif child.tag == "break":
            parts.append(" ")
        parts.append(child.tail or "")
    return "".join(parts)


class Phone:
    """One caller on the voice line, talking to the app through its test client."""

    def __init__(
        self,
        app: Flask,
        *,
        caller: str = FICTIONAL_CALLER,
        to: str | None = None,
        dry_run: bool = False,
    ) -> None:
        self.client = app.test_client()
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
        # Signed for the address the app checks signatures against, as Twilio signs.
        self.base_url = app.config["PUBLIC_URL"] or BASE_URL
        self.fields = {
            "CallSid": "CA" + secrets.token_hex(16),
            "AccountSid": "AC" + "0" * 32,
            "From": caller,
            "To": to or "",
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        self.environ = {DRY_RUN: True} if dry_run else {}
        self.twiml: ElementTree.Element | None = None
        self.url = ""
        self.status = 0

    def post(self, url: str, extra: dict[str, str] | None = None) -> ElementTree.Element:
        """POST a signed webhook to ``url`` and keep the TwiML it answers with."""
        params = {**self.fields, **(extra or {})}
        signature = self.validator.compute_signature(self.base_url + url, params)
        response = self.client.post(
            url,
            data=params,
            headers={"X-Twilio-Signature": signature},
            environ_base=self.environ,
        )
        self.url, self.status = url, response.status_code
        try:
            self.twiml = ElementTree.fromstring(response.get_data())
        except ElementTree.ParseError:  # not TwiML at all: Twilio would end the call
            self.twiml = ElementTree.Element("Response")
        return self.twiml

    def dial_in(self) -> ElementTree.Element:
        """Call the line."""
        return self.post("/voice")

    def _gather(self, language: str | None = None) -> ElementTree.Element:
        """Return the menu listening (in ``language``, when named: the greeting has one menu
        per language)."""
        menus = list(self.twiml.iter("Gather")) if self.twiml is not None else []
        menu = next((m for m in menus if language in (None, m.get("language"))), None)
        if menu is None:
            raise RuntimeError("nothing is listening: the call is not at a menu")
        return menu

    def press(self, key: str) -> ElementTree.Element:
        """Press ``key`` (or several keys, such as a ZIP code) at the menu being read.

        As Twilio does, the keys stop at the menu's finishing key and at its number of digits;
        the finishing key pressed first sends nothing, as silence does."""
        menu = self._gather()
        finish = menu.get("finishOnKey", DEFAULT_FINISH_KEY)
        keys = key.split(finish)[0] if finish else key
        limit = menu.get("numDigits", "")
        if limit.isdigit():
            keys = keys[: int(limit)]
        if not keys:
            return self.wait()
        return self.post(menu.get("action", ""), {"Digits": keys})

    def speak(self, words: str, language: str | None = None) -> ElementTree.Element:
        """Say ``words`` at the menu being read (the one listening in ``language``, such as
        "es-US", when named)."""
        return self.post(
            self._gather(language).get("action", ""), {"SpeechResult": words, "Confidence": "0.9"}
        )

    def wait(self) -> ElementTree.Element:
        """Stay silent until the menu gives up listening, as Twilio does: follow the redirect."""
        redirect = self.twiml.find("Redirect") if self.twiml is not None else None
        if redirect is not None:
            return self.post(redirect.text or "")
        if self.twiml is not None and self.hung_up:  # the call ends after a last menu (the
            self.twiml = _after_menu(self.twiml)  # goodbye's): Twilio reads what follows it
            return self.twiml
        return self.post(self._gather().get("action", ""))

    def dial_outcome(self, outcome: str) -> ElementTree.Element:
        """Report how the line being dialled answered (``completed``, ``busy``...)."""
        dial = self.dialing
        if dial is None or not dial.get("action"):
            raise RuntimeError("no call with an outcome to report is being made")
        return self.post(dial.get("action", ""), {"DialCallStatus": outcome})

    @property
    def said(self) -> list[Spoken]:
        """Return everything the last answer reads out, in order."""
        if self.twiml is None:
            return []
        return [
            Spoken(spoken_text(say), say.get("language"), say.get("voice"))
            for say in self.twiml.iter("Say")
        ]

    @property
    def text(self) -> str:
        """Return the words of the last answer as one string."""
        return " ".join(spoken.text for spoken in self.said)

    @property
    def dialing(self) -> ElementTree.Element | None:
        """Return the ``<Dial>`` of the last answer, if it connects the caller somewhere."""
        return self.twiml.find("Dial") if self.twiml is not None else None

    @property
    def hung_up(self) -> bool:
        """Return whether the last answer ends the call."""
        return self.twiml is not None and self.twiml.find("Hangup") is not None

    @property
    def listening(self) -> bool:
        """Return whether the last answer waits for a key, words or silence."""
        return self.twiml is not None and self.twiml.find("Gather") is not None


def _after_menu(twiml: ElementTree.Element) -> ElementTree.Element:
    """Return the part of an answer that follows its menu, as Twilio goes on after silence."""
    rest = ElementTree.Element("Response")
    children = list(twiml)
    menus = [i for i, child in enumerate(children) if child.tag == "Gather"]
    rest.extend(children[menus[0] + 1 :] if menus else children)
    return rest


# --- The terminal simulator ------------------------------------------------------------------


def describe(phone: Phone) -> Iterator[str]:
    """Yield the lines that show what the caller hears and what the line does."""
    for spoken in phone.said:
        yield f"  [{spoken.language}, {spoken.voice}] {spoken.text}"
    dial = phone.dialing
    if dial is not None:
        number = dial.find("Number")  # a number with an extension to dial once it answers
        called = (dial.text or "").strip() or (number.text or "" if number is not None else "")
        extra = f" ext. {number.get('sendDigits', '').lstrip('w')}" if number is not None else ""
        yield f"  <Dial {display_number(called.strip())}{extra}>"
    if phone.hung_up:
        yield "  <Hangup>"


def _turn(phone: Phone, entry: str) -> None:
    if not entry:
        phone.wait()
    elif _KEYS.fullmatch(entry):
        phone.press(entry)
    else:
        phone.speak(entry)


def run_call(phone: Phone, ask: Callable[[str], str], show: Callable[[str], None]) -> None:
    """Run one call: show what is said, ask the person for a key, words or silence, until the
    line hangs up or connects them to a line that answers."""
    show(
        "Type a key (0-9, * or #) and Enter, or several keys such as a ZIP code. "
        "Enter alone is silence; words are speech."
    )
    phone.dial_in()
    while True:
        for line in describe(phone):
            show(line)
        if phone.hung_up and not phone.listening:
            return
        if phone.dialing is not None:
            choice = ask(f"The line rings. Enter: it answers; or type {', '.join(DIAL_OUTCOMES)}")
            if choice.strip() not in DIAL_OUTCOMES:
                show("  (connected; the call goes on with that line)")
                return
            phone.dial_outcome(choice.strip())
            continue
        if not phone.listening:
            return
        _turn(phone, ask("key").strip())
