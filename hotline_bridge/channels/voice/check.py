"""Walking every path of the voice line, in every language, to find what a caller must never meet.

The walk calls the real routes with signed requests (``voice_sim.Phone``, counting nothing) and
follows every key, silence and call outcome from the greeting (and, where a ZIP code is asked
for, ZIP codes near the directory, far from it, unknown and too short). Because a call's whole
state is in the TwiML it receives, each distinct answer is one point of the walk; the walk
reports a ``<Say>`` without a language or in a voice of another language, a menu without an
action, an answer that leaves the caller in silence, a request that failed safe, and any way
silence or unanswered calls can go round without end.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.etree import ElementTree

from flask import Flask

from hotline_bridge.channels.voice.render import (
    KEY_HANGUP,
    KEY_LANGUAGE,
    VoiceSetup,
    language_keys,
    voice_languages,
)
from hotline_bridge.channels.voice.simulator import DEFAULT_FINISH_KEY, Phone
from hotline_bridge.channels.voice.timing import HELP_WITHIN_SECONDS, PATHS, seconds_to_help
from hotline_bridge.directory.models import site_for_number
from hotline_bridge.directory.reader import known_zip
from hotline_bridge.directory.store import SIMULATOR_NUMBER, open_db
from hotline_bridge.engine.flow import Flow

# Every key a caller can press at a menu.
KEYS = tuple("0123456789*#")
# How a call the line places can end, as Twilio reports it to the Dial's action.
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed")
# The most distinct answers the walk visits; far above what the flow produces, it only stops a
# broken renderer from walking for ever.
MAX_POINTS = 5000

# ZIP codes keyed in wherever a menu takes more than one key, besides each site's own: one near
# the example directory, one far from most directories, one the offline table does not know, and
# an entry too short to be one.
SAMPLE_ZIPS = ("02139", "99501", "00000", "021")
# How many sites' ZIP codes the walk tries (each multiplies the answers it visits).
MAX_SITE_ZIPS = 3

# How many languages of the greeting the time budget holds for: the site's and the next. Each
# language's offer of the 24/7 line takes about three seconds, so a third one's comes later.
BUDGETED_LANGUAGES = 2

# The logger that records a request answered with the fail-safe.
FAILURE_LOGGER = "hotline_bridge.webhooks"


@dataclass
class Walk:
    """The answers seen, where each was first met, and which follow without the caller acting."""

    phone: Phone
    setup: VoiceSetup
    where: dict[str, str] = field(default_factory=dict)
    answers: dict[str, ElementTree.Element] = field(default_factory=dict)
    passive: dict[str, set[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    todo: list[tuple[str, ElementTree.Element]] = field(default_factory=list)
    keyed: set[str] = field(default_factory=set)
    zips: tuple[str, ...] = SAMPLE_ZIPS

    def visit(self, url: str, extra: dict[str, str] | None = None) -> str:
        """Request ``url``, check the answer and queue it when new; return its identity."""
        root = self.phone.post(url, extra)
        doc = ElementTree.tostring(root, encoding="unicode")
        label = url + "".join(f" {k}={v}" for k, v in (extra or {}).items())
        if self.phone.status != 200:
            self.problems.append(f"voice: {label} answered HTTP {self.phone.status}")
        if doc not in self.where:
            self.where[doc] = label
            self.answers[doc] = root
            self.problems.extend(document_problems(root, self.setup, label))
            self.todo.append((doc, root))
        return doc


def document_problems(root: ElementTree.Element, setup: VoiceSetup, where: str) -> Iterator[str]:
    """Yield what is wrong with one answer, naming ``where`` it was met."""
    # Two languages may share a speech language (a pseudo-language reads as English does),
    # each in its own voice.
    voices: dict[str, set[str]] = {}
    for known in setup.voices.values():
        voices.setdefault(known.language, set()).add(known.name)
    for say in root.iter("Say"):
        language, voice = say.get("language"), say.get("voice")
        if not language:
            yield f"voice: {where}: a <Say> has no language"
        elif voice not in voices.get(language, set()) or language not in voice_languages(
            voice or ""
        ):
            yield f"voice: {where}: a <Say> in {language} uses the voice {voice!r}"
    for menu in root.iter("Gather"):
        if not (menu.get("action") or "").startswith("/voice"):
            yield f"voice: {where}: a menu (<Gather>) has no action on the voice line"
        if not menu.get("language"):
            yield f"voice: {where}: a menu (<Gather>) has no speech language"
    for redirect in root.iter("Redirect"):
        if not (redirect.text or "").startswith("/voice"):
            yield f"voice: {where}: a <Redirect> leads off the voice line"
    if root.find("Record") is not None:
        yield f"voice: {where}: the answer records the caller"
    if not any(root.find(verb) is not None for verb in ("Gather", "Redirect", "Dial", "Hangup")):
        yield f"voice: {where}: the answer leaves the caller in silence"


def first_contact_problems(app: Flask) -> Iterator[str]:
    """Yield every sensitive word the greeting or a main menu says, for someone may be
    listening beside the caller."""
    sensitive = app.extensions["hotline_bridge"].sensitive_words
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(map(re.escape, sensitive)) + r")(?!\w)", re.IGNORECASE
    )
    languages = app.extensions["hotline_bridge.voice"].languages
    for key in ("", *(str(n) for n in range(1, len(languages) + 1))):
        phone = Phone(app, dry_run=True)
        phone.dial_in()
        if key:
            phone.press(key)
        for word in dict.fromkeys(m.lower() for m in pattern.findall(phone.text)):
            where = f"the main menu after key {key}" if key else "the greeting"
            yield f"voice: {where} says {word!r}"


def time_to_help_problems(app: Flask) -> Iterator[str]:
    """Yield each caller of the default site's first languages who hears the way to the 24/7
    line later than the budget, pressing their language's key at once or staying silent."""
    with open_db(app) as db:
        first = site_for_number(db, SIMULATOR_NUMBER).default_language
    first = app.extensions["hotline_bridge.voice"].spoken(first)
    languages = app.extensions["hotline_bridge.voice"].languages
    for lang in list(language_keys(languages, first).values())[:BUDGETED_LANGUAGES]:
        for path in PATHS:
            seconds = seconds_to_help(app, lang, path)
            if seconds is None:
                yield f"voice: a {path} caller in {lang} never hears the way to the 24/7 line"
            elif seconds > HELP_WITHIN_SECONDS:
                yield (
                    f"voice: a {path} caller in {lang} hears the way to the 24/7 line after "
                    f"{seconds} s (budget {HELP_WITHIN_SECONDS:g} s)"
                )


def key_clashes(flow: Flow) -> Iterator[str]:
    """Yield every option whose key the voice line keeps for hang-up or language."""
    reserved = {KEY_HANGUP, KEY_LANGUAGE}
    for node in flow.nodes.values():
        for option in node.options:
            if option.key in reserved:
                yield f"voice: node {node.id!r}: key {option.key} is kept for the voice line"


def _follow(walk: Walk, doc: str, root: ElementTree.Element) -> None:
    """Try every key, silence and call outcome on one answer."""
    passive = walk.passive.setdefault(doc, set())
    action = _on_the_line(root.find("Gather"), "action")
    redirect = _on_the_line(root.find("Redirect"), None)
    dial = _on_the_line(root.find("Dial"), "action")
    if action and _menu_id(action) not in walk.keyed:
        walk.keyed.add(_menu_id(action))
        for entry in _entries(walk, root.find("Gather")):
            walk.visit(action, {"Digits": entry})
    if redirect or action:
        passive.add(walk.visit(redirect or action))
    for outcome in DIAL_OUTCOMES if dial else ():
        passive.add(walk.visit(dial, {"DialCallStatus": outcome}))


def _entries(walk: Walk, menu: ElementTree.Element | None) -> list[str]:
    """Return what a caller can key in at ``menu``: every key but the one that ends an entry
    (which, pressed alone, sends nothing), and where it takes more keys, the sample ZIP codes."""
    if menu is None:
        return []
    finish = menu.get("finishOnKey", DEFAULT_FINISH_KEY)
    entries = [key for key in KEYS if key != finish]
    if int(menu.get("numDigits") or 1) > 1:
        entries.extend(walk.zips)
    return entries


def sample_zips(app: Flask) -> tuple[str, ...]:
    """Return the ZIP codes the walk keys in: a few sites' own, then ``SAMPLE_ZIPS``."""
    with open_db(app) as db:
        rows = db.execute(
            "select distinct zip from sites where zip is not null and zip != '' order by zip"
        ).fetchall()
    own = [row[0] for row in rows if known_zip(row[0])][:MAX_SITE_ZIPS]
    return tuple(dict.fromkeys([*own, *SAMPLE_ZIPS]))


def _on_the_line(verb: ElementTree.Element | None, attribute: str | None) -> str:
    """Return the voice-line URL a verb leads to (its text or ``attribute``), or ''."""
    if verb is None:
        return ""
    url = (verb.get(attribute) if attribute else verb.text) or ""
    return url if url.startswith("/voice") else ""


def _menu_id(action: str) -> str:
    """Return a menu's action without its count of unanswered turns: the keys of a repeated
    menu lead where they led the first time, so they are tried once (silence is always tried,
    since that count is what bounds it)."""
    path, _, query = action.partition("?")
    kept = [pair for pair in query.split("&") if not pair.startswith("r=")]
    return path + "?" + "&".join(kept)


def _cycle(passive: dict[str, set[str]]) -> str | None:
    """Return an answer from which silence and unanswered calls can go round for ever."""
    state: dict[str, int] = {}  # 1: being explored, 2: done

    def explore(doc: str) -> str | None:
        state[doc] = 1
        for nxt in passive.get(doc, ()):
            if state.get(nxt) == 1:
                return nxt
            if nxt not in state and (found := explore(nxt)):
                return found
        state[doc] = 2
        return None

    for doc in list(passive):
        if doc not in state and (found := explore(doc)):
            return found
    return None


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _failures_logged() -> Iterator[list[str]]:
    handler = _Failures()
    logger = logging.getLogger(FAILURE_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def walk_calls(app: Flask, limit: int = MAX_POINTS) -> Walk:
    """Follow every key, silence and call outcome from the greeting, stopping after ``limit``
    different answers; return what was met."""
    walk = Walk(Phone(app, dry_run=True), app.extensions["hotline_bridge.voice"])
    walk.zips = sample_zips(app)
    with _failures_logged() as failures:
        walk.visit("/voice")
        while walk.todo and len(walk.where) < limit:
            _follow(walk, *walk.todo.pop())
    walk.problems.extend(f"voice: a request failed safe: {m}" for m in failures)
    return walk


def voice_problems(app: Flask, walk: Walk | None = None) -> list[str]:
    """Walk every voice path in every language (or take ``walk``, one already made); return
    the problems found (none when all is well)."""
    walk = walk or walk_calls(app)
    problems = list(walk.problems) + list(key_clashes(app.extensions["hotline_bridge"].flow))
    problems.extend(first_contact_problems(app))
    problems.extend(time_to_help_problems(app))
    if walk.todo:
        problems.append(
            f"voice: the walk stopped after {len(walk.where)} different answers, with more to go"
        )
    looping = _cycle(walk.passive)
    if looping is not None:
        problems.append(f"voice: silence can go round without end from {walk.where[looping]}")
    return list(dict.fromkeys(problems))
