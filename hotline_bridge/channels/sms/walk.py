"""Random conversations with the SMS line, through its real webhook, to measure what they cost.

Every screen the line can show is within the segment budget (``checks.sms_inventory``); but what
people pay is the replies they actually get, the main menu and the lists far more often than a
service's third page. This walks many conversations as people text them (mostly a key the last
reply offers; now and then a ZIP code, a word the line does not know, HELP, MORE, the other
language) from a seeded random source, so the same seed walks the same conversations, and
counts every reply as Twilio counts it.

The demo directory that ``make run`` loads is the reference: ``demo_app`` loads it into a
temporary database, so tests, ``check`` and the benchmark all measure the line as it is shown.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from hotline_bridge.channels.sms.segments import FIRST_SEGMENTS, MAX_SEGMENTS, MEDIAN_SEGMENTS, cost
from hotline_bridge.counters import DRY_RUN
from hotline_bridge.directory.models import get_site
from hotline_bridge.directory.store import SIMULATOR_NUMBER, open_db
from hotline_bridge.settings import PROJECT_ROOT

# The demo directory ``make run`` loads, sites first.
DEMO = PROJECT_ROOT / "examples" / "demo"
DEMO_FILES = ("sites.csv", "services.csv")
# The demo clinic's number: what the terminal simulator texts.
DEMO_NUMBERS = (SIMULATOR_NUMBER,)

# The number a walked conversation texts from: reserved for fiction, never a subscriber's.
SENDER = "+15555550142"
# A line's number that no site lists (the default site answers it), and a WhatsApp sender's mark.
UNTIED_NUMBER = "+15550100000"
WHATSAPP = "whatsapp:"
# The address the requests are signed for, as Twilio signs them.
_URL = "http://localhost/sms"

# How a conversation may open, in each language (greetings, the demo's keyword, other words).
OPENINGS = {
    "en": ("hello", "hi", "Hello", "HEALTH", "info please"),
    "es": ("hola", "Hola", "buenas", "SALUD", "buenos días"),
}
# Words that suggest danger: the calm line comes above the screen (within the budget, but not
# the first reply's: it says more than the menu).
DANGER = {"en": "they took my passport", "es": "necesito ayuda"}
# Words that switch to each language, and the words that mean MORE.
SWITCH = {"en": "EN", "es": "ES"}
MORE_WORD = {"en": "MORE", "es": "MÁS"}
# ZIP codes people may send anywhere: near the demo clinic, elsewhere, and one nobody knows.
ZIP_CODES = ("02139", "02143", "10001", "60601", "00000")
# Replies the line does not understand.
UNKNOWN = ("ok", "?", "thanks", "gracias", "23", "yes")
# What a person does next, and how often (the rest of the time: a key the last reply offers).
MOVES = (
    ("zip", 0.06),
    ("unknown", 0.06),
    ("help", 0.02),
    ("switch", 0.04),
    ("more_word", 0.02),
    ("danger", 0.02),
)
# How many messages after the first a conversation has.
STEPS = (2, 9)
# A key offered at the start of a reply's line ("1 Legal help") or in its shortcuts line.
_OFFERED = re.compile(r"(?:^|, )(\d) \S", re.MULTILINE)


@dataclass(frozen=True)
class Sent:
    """One reply the line sent in a walked conversation."""

    lang: str
    first: bool
    text: str
    segments: int


@dataclass(frozen=True)
class Tally:
    """What the replies of one language cost."""

    lang: str
    replies: int
    median: float
    worst: int
    first_worst: int

    def line(self) -> str:
        return (
            f"walk sms {self.lang}: {self.replies} replies, median {self.median:g} segments, "
            f"max {self.worst}, first reply max {self.first_worst}"
        )


class _Person:
    """One person texting the line: keeps the conversation cookie, as Twilio does."""

    def __init__(self, client: FlaskClient, validator: RequestValidator, to: str, name: str):
        self.client, self.validator, self.to, self.name = client, validator, to, name
        self.count = 0

    def send(self, body: str) -> str:
        self.count += 1
        params = {
            "Body": body,
            "From": SENDER,
            "To": self.to,
            "MessageSid": f"SM{self.name}{self.count:04d}".ljust(34, "0")[:34],
            "NumMedia": "0",
        }
        response = self.client.post(
            "/sms",
            data=params,
            headers={"X-Twilio-Signature": self.validator.compute_signature(_URL, params)},
            environ_base={DRY_RUN: True},  # measuring the line is not using it
        )
        root = ElementTree.fromstring(response.get_data())
        return "\n".join(m.text or "" for m in root.iter("Message"))


def walk(app: Flask, conversations: int, seed: int, numbers: Sequence[str]) -> list[Sent]:
    """Walk ``conversations`` random conversations (from ``seed``) with the lines ``numbers``
    in turn, half of them opened in each language; return every reply sent."""
    rng = random.Random(seed)
    validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
    sent: list[Sent] = []
    for n in range(conversations):
        person = _Person(app.test_client(), validator, numbers[n % len(numbers)], f"{n:06d}")
        sent.extend(_conversation(person, rng, "es" if n % 2 else "en"))
    return sent


def _conversation(person: _Person, rng: random.Random, lang: str) -> Iterator[Sent]:
    reply = person.send(rng.choice(OPENINGS[lang]))
    yield Sent(lang, True, reply, cost(reply).segments)
    for _ in range(rng.randint(*STEPS)):
        body, lang = _next_message(rng, reply, lang)
        reply = person.send(body)
        if reply:
            yield Sent(lang, False, reply, cost(reply).segments)


def _next_message(rng: random.Random, reply: str, lang: str) -> tuple[str, str]:
    """Return what the person sends after ``reply``, and the language the line answers in."""
    move = _move(rng.random())
    if move is None:
        offered = _OFFERED.findall(reply)
        return (rng.choice(offered) if offered else rng.choice(UNKNOWN)), lang
    if move == "danger":
        return DANGER[lang], lang
    if move == "zip":
        return rng.choice(ZIP_CODES), lang
    if move == "unknown":
        return rng.choice(UNKNOWN), lang
    if move == "help":
        return "HELP", lang
    if move == "more_word":
        return MORE_WORD[lang], lang
    other = "es" if lang == "en" else "en"
    return SWITCH[other], other


def _move(roll: float) -> str | None:
    """Return the move ``roll`` (from 0 to 1) falls on; None: a key the reply offers."""
    for move, share in MOVES:
        if roll < share:
            return move
        roll -= share
    return None


def tally(sent: Sequence[Sent]) -> list[Tally]:
    """Return what the replies cost, language by language."""
    tallies = []
    for lang in sorted({s.lang for s in sent}):
        mine = [s for s in sent if s.lang == lang]
        first = [s.segments for s in mine if s.first] or [0]
        sizes = [s.segments for s in mine]
        tallies.append(Tally(lang, len(sizes), statistics.median(sizes), max(sizes), max(first)))
    return tallies


def problems(sent: Sequence[Sent]) -> list[str]:
    """Return what is over budget: a language's median, any reply, any first reply."""
    found = []
    for one in tally(sent):
        if one.median > MEDIAN_SEGMENTS:
            found.append(
                f"median of walked {one.lang} replies is {one.median:g} segments "
                f"(budget {MEDIAN_SEGMENTS})"
            )
        if one.worst > MAX_SEGMENTS:
            found.append(
                f"a walked {one.lang} reply is {one.worst} segments (budget {MAX_SEGMENTS})"
            )
        if one.first_worst > FIRST_SEGMENTS:
            found.append(
                f"a first {one.lang} reply is {one.first_worst} segments (budget {FIRST_SEGMENTS})"
            )
    for over in sorted({s.text for s in sent if s.segments > MAX_SEGMENTS})[:3]:
        found.append(f"over {MAX_SEGMENTS} segments: {over!r}")
    return found


def line_numbers(app: Flask) -> list[str]:
    """Return an SMS number of each site that has one, and one tied to no site (the default
    site's), so that every site's line is walked."""
    with open_db(app) as db:
        sites = [get_site(db, row["id"]) for row in db.query("select id from sites order by id")]
    numbers = [
        next((n for n in site.numbers if not n.startswith(WHATSAPP)), None)
        for site in sites
        if site
    ]
    return [n for n in numbers if n] + [UNTIED_NUMBER]


@contextmanager
def demo_app(config: dict[str, object]) -> Iterator[Flask]:
    """Yield an app like ``config``'s on a temporary database holding the demo directory."""
    from hotline_bridge import create_app
    from hotline_bridge.cli.directory import import_command

    with tempfile.TemporaryDirectory(prefix="hotline-walk-") as tmp:
        # Made-up messages: never ask Twilio to delete them.
        app = create_app(
            {**config, "DATABASE": str(Path(tmp) / "demo.db"), "DELETE_TWILIO_RECORDS": False}
        )
        runner = app.test_cli_runner()
        for name in DEMO_FILES:
            result = runner.invoke(import_command, [str(DEMO / name)])
            if result.exit_code:
                raise RuntimeError(f"the demo's {name} did not import: {result.output}")
        yield app
