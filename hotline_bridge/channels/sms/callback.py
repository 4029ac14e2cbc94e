"""'Reply CALL': the SMS line rings the person from its own number and bridges them to the 24/7
line, so that their call log shows only the line's number.

On the talk screen the SMS line offers the call (``offering``). ``CALL`` (``LLAMAR``), or
``CALL 20`` for a call in that many minutes, is answered with what will ring, from which
number, and a question; only ``YES`` (``SÍ``) right after it places the call, through Twilio's
REST API, from the number the person texted (or the site's voice number) to theirs. The voice
channel answers the call (``channels/voice/callback.py``) and connects it to the 24/7 line.

Nothing is kept: the person's number is in memory while the request lasts, or for a delayed
call in a bounded queue of this worker (``Waiting``), as the deletions that wait are
(``forget.Later``); a restart loses it, and the person is told so. The conversation cookie holds
when a call was last asked for (one per conversation per ``GAP_SECONDS``), the question waiting
for YES, and whether Twilio's Advanced Opt-Out reported STOP. STOP cancels a waiting call, and a
conversation that said STOP is never called. A site places at most ``CALLBACKS_PER_HOUR``
calls an hour, counted in the database for every worker, so the line cannot be used to ring
strangers.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import sqlite_utils
from flask import Flask, Response, current_app, request
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge.channels import turn as turns
from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, MEDIAN_SEGMENTS, cost
from hotline_bridge.channels.sms.sessions import conversation_cookie
from hotline_bridge.channels.text import Writer
from hotline_bridge.counters import REPEAT
from hotline_bridge.directory.models import Site, display_number, get_site, site_for_number
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import get_db
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.engine.conversation import Outcome
from hotline_bridge.engine.flow import Flow
from hotline_bridge.engine.keywords import normalize
from hotline_bridge.ops import metrics
from hotline_bridge.runtime import KEYWORDS_FILE, runtime
from hotline_bridge.settings import resolve_path
from hotline_bridge.webhooks import forget, public_url, twiml_response

log = logging.getLogger(__name__)

EXTENSION = "hotline_bridge.callback"
# Where the app's setting lives (0: no call is offered).
SETTING = "CALLBACKS_PER_HOUR"
# The longest wait a person may ask for, in minutes ("CALL 20").
MAX_MINUTES = 60
# Seconds after a call was asked for before the conversation may ask for another.
GAP_SECONDS = 600
# Seconds a YES confirms the call offered; later it is just a word.
CONFIRM_SECONDS = 600
# Seconds of the per-site cap's window.
HOUR = 3600
# Delayed calls one worker holds at most; one more is refused and the person told to call.
MAX_WAITING = 200
# Seconds the person's phone rings before the call counts as unanswered.
RING_SECONDS = 30
# What the conversation cookie holds for the call: when one was last asked for (epoch
# seconds), the question waiting for YES ([minutes, asked at]), and STOP by Twilio's opt-out.
LAST, PENDING, OPTED_OUT = "k", "c", "o"
# The channel whose conversations are offered the call, and under which it is counted.
CHANNEL = "sms"


# --- Words --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """A message that is ``call`` (with ``minutes``; None when out of range) or ``yes``."""

    meaning: str
    lang: str
    minutes: int | None = 0


class CallWords:
    """The ``[call]`` and ``[yes]`` keywords of ``flows/keywords.toml``, matched as the other
    keywords are (case, accents, spaces and punctuation ignored); ``CALL 20`` carries minutes."""

    _SPLIT = re.compile(r"(\D+?)(\d*)")

    def __init__(self, table: Mapping[str, tuple[str, str]]) -> None:
        self._table = dict(table)
        # The longest message that can be one of these words, spaced out, with minutes.
        self._longest = 2 * max((len(word) for word in self._table), default=0) + 8
        self._initials = {word[0] for word in self._table}  # as written: ASCII letters

    @classmethod
    def load(cls, path: str) -> CallWords:
        with open(resolve_path(path), "rb") as handle:
            data = tomllib.load(handle)
        table: dict[str, tuple[str, str]] = {}
        for meaning in ("call", "yes"):
            for lang, words in data.get(meaning, {}).items():
                for word in words:
                    table.setdefault(normalize(word), (meaning, lang))
        return cls(table)

    def ask(self, body: str) -> Asked | None:
        """Return what ``body`` asks of the call, or None when it is no such word."""
        if len(body) > self._longest or body.lstrip()[:1].upper() not in self._initials:
            return None  # most messages: no need to read them
        found = self._SPLIT.fullmatch(normalize(body))
        if found is None or found[1] not in self._table:
            return None
        meaning, lang = self._table[found[1]]
        if not found[2]:
            return Asked(meaning, lang)
        minutes = int(found[2])
        if meaning != "call":
            return None
        return Asked(meaning, lang, minutes if minutes <= MAX_MINUTES else None)


# --- What is held in memory ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One call to place. ``repr`` shows no number: nothing may print the person's."""

    person: str = field(repr=False)
    line: str = field(repr=False)
    answer_url: str
    status_url: str


class Waiting:
    """Delayed calls, held in this worker's memory only (at most ``limit``), each run at its
    time by one background thread (tests run them with ``run_due``). A restart loses them."""

    def __init__(self, limit: int = MAX_WAITING, start: bool = True) -> None:
        self.limit, self.start = limit, start
        self._ready = threading.Condition()
        self._held: list[tuple[float, tuple[str, str], Callable[[], None]]] = []
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._held)

    def add(self, key: tuple[str, str], due: float, job: Callable[[], None]) -> bool:
        """Hold ``job`` until ``due`` (epoch seconds), in place of any held for ``key``;
        False when ``limit`` are held."""
        with self._ready:
            self._held = [held for held in self._held if held[1] != key]
            if len(self._held) >= self.limit:
                return False
            self._held.append((due, key, job))
            if self.start and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
            self._ready.notify()
        return True

    def cancel(self, key: tuple[str, str]) -> int:
        """Drop every call held for ``key`` (the person texted STOP); return how many."""
        with self._ready:
            before = len(self._held)
            self._held = [held for held in self._held if held[1] != key]
            return before - len(self._held)

    def run_due(self, now: float | None = None) -> int:
        """Place every call whose time has come by ``now``; return how many."""
        now = time.time() if now is None else now
        with self._ready:
            due = [held for held in self._held if held[0] <= now]
            self._held = [held for held in self._held if held[0] > now]
        for _, _, job in sorted(due, key=lambda held: held[0]):
            try:
                job()
            except Exception as exc:  # a call that fails is counted by its job; never raised
                log.warning("a delayed call failed: %s", type(exc).__name__)
        return len(due)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._held:
                    self._ready.wait()
                wait = min(held[0] for held in self._held) - time.time()
                if wait > 0:
                    self._ready.wait(min(wait, 60))
                    continue
            self.run_due()


def admit(database: sqlite_utils.Database, site: str, cap: int, now: float) -> bool:
    """Count one call of ``site`` at ``now`` if it placed fewer than ``cap`` in the past hour.

    The count is in the database, by minute, so every worker and every restart holds the site to
    one cap; the write lock is taken first, so two workers cannot both take the last place."""
    minute = int(now // 60)
    conn = database.conn
    if conn.in_transaction:  # another's open work: neither join it nor roll it back
        raise sqlite3.OperationalError("an hourly cap is not counted inside another transaction")
    conn.execute("begin immediate")
    try:
        conn.execute("delete from callback_admissions where minute <= ?", [minute - HOUR // 60])
        (placed,) = conn.execute(
            "select coalesce(sum(n), 0) from callback_admissions where site = ?", [site]
        ).fetchone()
        admitted = placed < cap
        if admitted:
            conn.execute(
                "insert into callback_admissions (site, minute, n) values (?, ?, 1) "
                "on conflict (site, minute) do update set n = n + 1",
                [site, minute],
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return bool(admitted)


@dataclass
class Callbacks:
    """What one app holds for the call: its words and the delayed calls."""

    words: CallWords
    waiting: Waiting


def held(app: Flask) -> Callbacks:
    """Return the app's ``Callbacks``."""
    found: Callbacks = app.extensions[EXTENSION]
    return found


# --- Who may be called, from where ----------------------------------------------------------------


def _callable(number: str) -> bool:
    """Whether a Twilio number can place a call (a long number, not a short code or a
    WhatsApp address)."""
    return number.startswith("+") and number[1:].isdigit() and len(number) >= 11


def line_number(site: Site, to: str) -> str | None:
    """Return the number to call from: the one the person texted, else the site's first
    number that can call, else None (no call is offered)."""
    if _callable(to):
        return to
    return next((number for number in site.numbers if _callable(number)), None)


def offered(app: Flask, site: Site, to: str) -> bool:
    """Whether the call is offered at ``site`` to a person who texted ``to``: the clinic has
    not turned it off, the cap allows calls, there is a number to call from, and a Twilio
    account to call with (or local mode)."""
    config = app.config
    account = bool(config["TWILIO_ACCOUNT_SID"]) or bool(config["LOCAL"])
    if site.callback_off or not account:  # the clinic turned it off in the console
        return False
    return cap(app, site) > 0 and line_number(site, to) is not None


def cap(app: Flask, site: Site) -> int:
    """Return how many calls ``site`` may place an hour (``CALLBACKS_PER_HOUR``)."""
    caps: Mapping[str, int] = app.config[SETTING]
    return caps.get(site.id, caps[""])


# --- The offer, on the talk screen ---------------------------------------------------------------


def offering(write: Writer) -> Writer:
    """Return ``write`` that adds the offer of a call above the last line of the talk screen,
    wherever the call is offered and the reply still fits the segment budget with it (see
    ``with_offer``). The number the person texted (``to``) is the turn's, given by the caller:
    the call would ring from it."""

    def written(
        words: Words, flow: Flow, site: Site, outcome: Outcome, phone: str, to: str
    ) -> str | None:
        text = write(words, flow, site, outcome, phone, to)
        screen = outcome.screen
        if text is None or screen is None or screen.position.node != flow.talk_node:
            return text
        line = line_number(site, to) if offered(current_app, site, to) else None
        if screen.position.page or line is None:
            return text
        label = screen.service.label(words.lang) if screen.service else ""
        return with_offer(words, text, label, line)

    return written


def with_offer(words: Words, text: str, label: str, line: str) -> str:
    """Return ``text`` with the offer of a call from ``line`` above its last line: the whole
    offer where the reply keeps to two segments with it, else the shorter one where that
    does (the talk screen is among the replies people get most, and the confirmation says
    all of it before anything rings), else the first that fits the budget, else none."""
    head, _, last = text.rpartition("\n")
    number = display_number(line)
    offers = (
        words.t("sms.callback.offer", label=label, number=number),
        words.t("sms.callback.offer_short", number=number),
    )
    composed = [f"{head}\n{offer}\n{last}" if head else f"{offer}\n{last}" for offer in offers]
    for budget in (MEDIAN_SEGMENTS, MAX_SEGMENTS):
        for one in composed:
            if cost(one).segments <= budget:
                return one
    return text


# --- CALL, YES ------------------------------------------------------------------------------------


@dataclass
class Turn:
    """One CALL or YES being answered: what it needs and what it has decided."""

    app: Flask
    site: Site
    lang: str
    person: str
    line: str
    own: dict[str, Any]
    now: float
    # What the turn counts, as (language, event); the pipeline writes them.
    counts: list[tuple[str, str]] = field(default_factory=list)
    words: Words = field(init=False)
    label: str = field(init=False)
    hotline: str = field(init=False)

    def __post_init__(self) -> None:
        rt = runtime()
        self.words = rt.catalogs.bind(self.lang)
        directory = SiteDirectory(
            get_db(), self.site, dt.datetime.fromtimestamp(self.now, dt.UTC), rt.discreet
        )
        service = directory.service(rt.flow.hotline)
        self.label = service.label(self.lang) if service else ""
        phone = service.phone if service else None
        self.hotline = display_number(phone or rt.failsafe.hotline_phone)

    def t(self, key: str, **params: Any) -> str:
        values = {"number": display_number(self.line), "label": self.label, "phone": self.hotline}
        return self.words.t(key, **{**values, **params})

    def count(self, event: str) -> None:
        self.counts.append((self.lang, f"callback:{event}"))


@dataclass
class Intercepted:
    """What the SMS channel's own step decided before the flow's: what the cookie keeps of the
    call, and for CALL or YES, the turn and the effect that works out its reply (YES places
    the call); ``quiet`` when Twilio's Advanced Opt-Out has answered."""

    own: dict[str, Any]
    turn: Turn | None = None
    effect: Callable[[], str] | None = None
    quiet: bool = False


def intercept(
    cookie: Mapping[str, Any], fields: Mapping[str, str], now: float | None = None
) -> Intercepted:
    """The SMS channel's step before the flow's: CALL and YES, and a waiting call cancelled on
    STOP (the call itself is placed by the effect it returns)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.time() if now is None else now
    own = {key: cookie[key] for key in (LAST, OPTED_OUT) if key in cookie}
    person, line, body = fields.get("From", ""), fields.get("To", ""), fields.get("Body", "")
    opted = fields.get("OptOutType", "").upper()
    callbacks: Callbacks = app.extensions[EXTENSION]
    # STOP and START matter here only to a call that waits or a STOP remembered: the busiest
    # route reads the message for them only then.
    if opted or OPTED_OUT in own or len(callbacks.waiting):
        keyword = runtime().keywords.match(body)
        meaning = keyword.meaning if keyword else None
        if meaning == "stop" or opted == "STOP":
            callbacks.waiting.cancel((person, line))
            if opted == "STOP":
                own[OPTED_OUT] = 1
        elif meaning == "start" or opted == "START":
            own.pop(OPTED_OUT, None)
    if opted and app.config["SMS_OPT_OUT_BY_TWILIO"]:
        # Twilio's Advanced Opt-Out has answered; keep what it said for the call.
        return Intercepted(own, quiet=True)
    asked = callbacks.words.ask(body)
    if asked is None or cookie.get("x") or own.get(OPTED_OUT):
        return Intercepted(own)
    minutes = _waiting_for_yes(cookie.get(PENDING), now)
    if asked.meaning == "yes" and minutes is None:
        return Intercepted(own)  # a YES nobody asked for: the flow says it did not understand
    site = _site_of(cookie, fields)
    if not offered(app, site, line):
        return Intercepted(own)
    lang = _language(cookie, asked, site)
    turn = Turn(app, site, lang, person, line_number(site, line) or line, own, now)
    if asked.meaning == "call":
        return Intercepted(own, turn, lambda: _request(turn, asked.minutes))
    return Intercepted(own, turn, lambda: _confirmed(turn, minutes or 0))


def _waiting_for_yes(pending: Any, now: float) -> int | None:
    """Return the minutes of the call a YES now confirms (0: at once), or None: none asked."""
    if not (isinstance(pending, list) and len(pending) == 2):
        return None
    minutes, asked = pending
    if not (isinstance(minutes, int) and isinstance(asked, int)):
        return None
    return minutes if 0 <= now - asked <= CONFIRM_SECONDS else None


def _site_of(cookie: Mapping[str, Any], fields: Mapping[str, str]) -> Site:
    db = get_db()
    started = get_site(db, cookie["s"]) if isinstance(cookie.get("s"), str) else None
    return started or site_for_number(db, fields.get("To"))


def _language(cookie: Mapping[str, Any], asked: Asked, site: Site) -> str:
    """The reply's language: LLAMAR or SÍ answer in Spanish; CALL and YES in the
    conversation's language, else the site's."""
    languages = runtime().catalogs.languages
    current = cookie.get("l")
    if asked.lang in languages and (asked.lang != "en" or current not in languages):
        return asked.lang
    return current if current in languages else site.default_language


def _request(turn: Turn, minutes: int | None) -> str:
    """CALL: say what will ring, from which number, and ask for YES (a call asked for a few
    minutes ago is not asked again)."""
    last = turn.own.get(LAST)
    if isinstance(last, int) and 0 <= turn.now - last < GAP_SECONDS:
        turn.count("again")
        return turn.t("sms.callback.again")
    if minutes is None:
        return turn.t("sms.callback.minutes", most=MAX_MINUTES)
    turn.own[PENDING] = [minutes, int(turn.now)]
    turn.count("requested")
    if minutes:
        return turn.t("sms.callback.confirm_later", minutes=minutes)
    return turn.t("sms.callback.confirm")


def _confirmed(turn: Turn, minutes: int) -> str:
    """YES: place the call now, or hold it for later; whatever fails, the 24/7 line."""
    app = turn.app
    twilio = forget.client()
    if twilio is None and forget.nothing_held():
        return turn.t("sms.callback.simulated")  # trying the line: nothing is called
    if request.environ.get(REPEAT):
        # Twilio delivered this YES again (it had no answer in time): the call was asked for
        # once, and once is what rings.
        turn.own[LAST] = int(turn.now)
        if minutes:
            return turn.t("sms.callback.scheduled", minutes=minutes)
        return turn.t("sms.callback.placed")
    if twilio is None or not _admitted(turn):
        turn.count("refused")
        return turn.t("sms.callback.failed")
    turn.own[LAST] = int(turn.now)
    call = Outgoing(
        turn.person,
        turn.line,
        public_url("voice_callback.answer", l=turn.lang, s=turn.site.id),
        public_url("voice_callback.status", l=turn.lang),
    )
    if minutes:
        if _hold(app, turn, twilio, call, minutes):
            return turn.t("sms.callback.scheduled", minutes=minutes)
        turn.count("refused")
        return turn.t("sms.callback.failed")
    if place(twilio, call):
        turn.count("placed")
        return turn.t("sms.callback.placed")
    turn.count("failed")
    return turn.t("sms.callback.failed")


def _admitted(turn: Turn) -> bool:
    """Whether the site may place one more call this hour; a database that cannot say refuses,
    and the person is given the 24/7 line."""
    try:
        return admit(get_db(), turn.site.id, cap(turn.app, turn.site), turn.now)
    except sqlite3.Error as exc:
        log.warning("callback: hourly cap not read (%s)", type(exc).__name__)
        return False


def _hold(app: Flask, turn: Turn, twilio: Client, call: Outgoing, minutes: int) -> bool:
    lang = turn.lang

    def job() -> None:
        placed = place(twilio, call)
        turns.count_in(app, CHANNEL, lang, f"callback:{'placed' if placed else 'failed'}")

    return held(app).waiting.add((turn.person, turn.line), turn.now + minutes * 60, job)


def place(twilio: Client, call: Outgoing) -> bool:
    """Ask Twilio to ring the person from the line's number, with our answer at ``answer_url``
    (nothing is said to a voicemail: machine detection); return whether Twilio accepted it.
    Never retried: a retry after a timeout could ring the person twice."""
    try:
        twilio.calls.create(
            to=call.person,
            from_=call.line,
            url=call.answer_url,
            method="POST",
            status_callback=call.status_url,
            status_callback_method="POST",
            timeout=RING_SECONDS,
            machine_detection="Enable",
        )
    except (TwilioException, requests.RequestException) as exc:
        metrics.twilio_error("create call")
        log.warning("Twilio create call failed: %s", type(exc).__name__)
        return False
    return True


def reply(
    app: Flask, cookie: Mapping[str, Any], intercepted: Intercepted, text: str | None
) -> Response:
    """The answer to CALL or YES (``text``), with the conversation's state and the call's in
    the cookie; after Twilio's opt-out, no answer and the cookie with what it said."""
    turn = intercepted.turn
    if turn is None or text is None:
        return _quiet(app, {**cookie, **intercepted.own})
    config = app.config
    action = None
    if config["DELETE_TWILIO_RECORDS"] and config["TWILIO_ACCOUNT_SID"]:
        action = public_url("sms.status")
    twiml = MessagingResponse()
    twiml.message(text, action=action)
    state = {key: cookie[key] for key in ("p", "x") if key in cookie}
    return _quiet(app, {**state, "l": turn.lang, "s": turn.site.id, **turn.own}, twiml)


def _quiet(
    app: Flask, cookie: Mapping[str, Any], twiml: MessagingResponse | None = None
) -> Response:
    response = twiml_response(twiml or MessagingResponse())
    conversation_cookie(app).write(response, dict(cookie))
    return response


# --- Twilio's check of the line, and start-up ---------------------------------------------------


def inventory(words: Words, line: str, label: str, hotline: str) -> list[tuple[str, str]]:
    """Return every reply of the call in ``words``' language, labelled, for the SMS check."""
    now = {"number": display_number(line), "label": label, "phone": display_number(hotline)}
    later = {**now, "minutes": MAX_MINUTES}
    return [
        ("CALL", words.t("sms.callback.confirm", **now)),
        ("CALL 60", words.t("sms.callback.confirm_later", **later)),
        ("CALL again", words.t("sms.callback.again", **now)),
        ("CALL 90", words.t("sms.callback.minutes", most=MAX_MINUTES)),
        ("CALL, YES", words.t("sms.callback.placed", **now)),
        ("CALL 60, YES", words.t("sms.callback.scheduled", **later)),
        ("CALL, YES (not placed)", words.t("sms.callback.failed", **now)),
        ("CALL, YES (trying the line)", words.t("sms.callback.simulated", **now)),
    ]


def init_app(app: Flask) -> None:
    """Give the app its call words and its queue of delayed calls (tests run it themselves)."""
    app.extensions[EXTENSION] = Callbacks(
        CallWords.load(KEYWORDS_FILE), Waiting(start=not app.config["TESTING"])
    )
