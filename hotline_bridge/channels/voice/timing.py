"""How long a caller listens before they hear the way to the 24/7 line.

Twilio reads each ``<Say>`` with a Polly neural voice, which reads about 150 to 160 words a
minute in English: about 15 characters a second, spaces counted. Spanish is read at about the
same rate of characters (more, shorter syllables), so one rate serves every language. On top of
the words come the pauses a voice makes at punctuation, the ``<break>`` a number is read with,
the gap between two ``<Say>`` verbs, the wait a ``<Gather>`` keeps after its last sentence, and
the moment from a key pressed to the next answer.

``seconds_to_help`` follows a call through the real routes (``simulator.Phone``) as one caller
would: one who presses their language's key as soon as it is offered, or one who stays silent.
It stops at the end of the first sentence in the caller's language that names a key which, at
that moment, connects the call to the 24/7 line: the key is tried, not guessed from the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

from flask import Flask

from hotline_bridge.channels.voice.render import VoiceSetup, language_keys
from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.directory.models import dial_string, site_for_number
from hotline_bridge.directory.store import SIMULATOR_NUMBER, open_db

# The budget: the 24/7 line offered within this many seconds of pickup, in every language.
HELP_WITHIN_SECONDS = 6.0

# Characters a Polly neural voice reads in a second, spaces counted.
CHARS_PER_SECOND = 15.0
# How a single digit read in a sentence ("press 8") or as part of a number counts: as a word
# of about four letters and its space.
DIGIT_CHARS = 5
# The pause a voice makes after punctuation, in seconds.
PAUSES = {".": 0.35, "?": 0.35, "!": 0.35, ":": 0.25, ";": 0.25, ",": 0.15}
# Between two <Say> verbs (each is synthesised on its own; the pause after a sentence's end is
# part of it), and from a key pressed or a redirect followed to the first word of the next
# answer (a webhook and the voice's start).
BETWEEN_SAYS = 0.35
TURN_SECONDS = 0.5
# A Gather's wait when it names none: Twilio's default.
DEFAULT_GATHER_TIMEOUT = 5
# How many answers a caller goes through before the walk gives up.
MAX_ANSWERS = 8

KEYED, SILENT = "keyed", "silent"
PATHS = (KEYED, SILENT)

_DIGIT = re.compile(r"\d")
_KEY = re.compile(r"(?<![\d/])\d(?![\d/])")
_BREAK = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


def _words(say: ElementTree.Element) -> Iterator[str | float]:
    """Yield what a ``<Say>`` reads, in order: its text (a ``<sub>`` as its alias, a
    ``<say-as>`` as its digits) and each ``<break>`` as seconds."""
    yield say.text or ""
    for child in say:
        if child.tag == "sub":
            yield child.get("alias") or child.text or ""
        elif child.tag == "say-as":
            yield " ".join(child.text or "")
        elif child.tag == "break":
            found = _BREAK.match(child.get("time", ""))
            if found:
                yield float(found.group(1)) / (1000 if found.group(2) == "ms" else 1)
        yield child.tail or ""


def say_seconds(say: ElementTree.Element) -> float:
    """Return the seconds a ``<Say>`` takes to read, up to its last word: its words, each digit
    as a short word, and the pauses at its punctuation and breaks (the pause after its last
    sentence is the gap before the next, ``BETWEEN_SAYS``)."""
    parts = list(_words(say))
    text = "".join(part for part in parts if isinstance(part, str)).strip()
    breaks = sum(part for part in parts if isinstance(part, float))
    digits = len(_DIGIT.findall(text))
    chars = len(text) - digits + DIGIT_CHARS * digits
    pauses = sum(PAUSES.get(ch, 0.0) for ch in text.rstrip(" .?!:;,"))
    return chars / CHARS_PER_SECOND + pauses + breaks


def keys_named(say: ElementTree.Element) -> list[str]:
    """Return the single keys a ``<Say>`` names in its own words ("press 8"), not the digits
    of a number it reads nor those of "24/7"."""
    own = [say.text or "", *(child.tail or "" for child in say)]
    return list(dict.fromkeys(key for text in own for key in _KEY.findall(text)))


@dataclass
class Caller:
    """One caller on ``path`` who understands ``lang``, and the seconds they have listened."""

    app: Flask
    lang: str
    path: str
    to: str = SIMULATOR_NUMBER
    elapsed: float = 0.0

    @property
    def setup(self) -> VoiceSetup:
        return self.app.extensions["hotline_bridge.voice"]

    def understands(self, say: ElementTree.Element) -> bool:
        return say.get("voice") == self.setup.voices[self.lang].name

    def connects(self, menu: ElementTree.Element, key: str) -> bool:
        """Whether pressing ``key`` at ``menu`` dials the 24/7 line straight away."""
        probe = Phone(self.app, to=self.to, dry_run=True)
        dial = probe.post(menu.get("action") or "", {"Digits": key}).find("Dial")
        return dial is not None and (dial.text or "").strip() == dial_string(
            self.setup.hotline_phone
        )

    def language_key(self) -> str:
        """Return the key that chooses the caller's language in the greeting."""
        with open_db(self.app) as db:
            first = self.setup.spoken(site_for_number(db, self.to).default_language)
        keys = language_keys(self.setup.languages, first)
        return next(key for key, lang in keys.items() if lang == self.lang)


def _said(root: ElementTree.Element) -> Iterator[tuple[ElementTree.Element | None, object]]:
    """Yield what a caller meets in an answer, in order: each ``<Say>`` with the menu it is
    read in (or None), then each menu's wait (its ``timeout``, as an int)."""
    for verb in root:
        if verb.tag == "Say":
            yield None, verb
        elif verb.tag == "Gather":
            for say in verb.iter("Say"):
                yield verb, say
            yield verb, int(verb.get("timeout") or DEFAULT_GATHER_TIMEOUT)
        elif verb.tag == "Pause":
            yield None, int(verb.get("length") or 1)


def seconds_to_help(app: Flask, lang: str, path: str, to: str = SIMULATOR_NUMBER) -> float | None:
    """Return the seconds of a call, from pickup, until a caller who understands ``lang`` and
    takes ``path`` (``KEYED``: presses their language's key as soon as it is offered;
    ``SILENT``: presses nothing) has heard a key that connects them to the 24/7 line; None
    when they never do within ``MAX_ANSWERS`` answers."""
    caller = Caller(app, lang, path, to)
    phone = Phone(app, to=to, dry_run=True)
    root = phone.dial_in()
    greeting = True
    for _ in range(MAX_ANSWERS):
        outcome = _listen(caller, root, greeting)
        if isinstance(outcome, float):
            return outcome
        if outcome is None:
            return None
        url, key = outcome
        caller.elapsed += TURN_SECONDS
        root = phone.post(url, {"Digits": key} if key else None)
        greeting = False
    return None


def _listen(
    caller: Caller, root: ElementTree.Element, greeting: bool
) -> float | tuple[str, str] | None:
    """Listen to one answer: return the moment help was heard, or the URL and key (empty for
    silence) the caller's answer goes to, or None when the call goes nowhere from here."""
    said_one = False
    for menu, item in _said(root):
        if isinstance(item, int):
            caller.elapsed += item
            continue
        assert isinstance(item, ElementTree.Element)
        caller.elapsed += (BETWEEN_SAYS if said_one else 0.0) + say_seconds(item)
        said_one = True
        if menu is None or not caller.understands(item):
            continue
        keys = keys_named(item)
        if any(caller.connects(menu, key) for key in keys):
            return round(caller.elapsed, 1)
        if greeting and caller.path == KEYED and caller.language_key() in keys:
            return menu.get("action") or "", caller.language_key()
    redirect = root.find("Redirect")
    return (redirect.text or "", "") if redirect is not None else None
