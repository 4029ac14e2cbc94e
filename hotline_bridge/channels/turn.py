"""One turn of any channel: what a person sent, answered, the same way on every channel.

A channel reads its request into an input value of its own (``Channel.read``). ``run`` then
takes the turn through the same stages for every channel: the site the turn is at (found only
when a stage asks for it: an answer kept from before needs none), the channel's step, which
asks the engine what to show, the effects the step decided on (deleting Twilio's records,
placing a call), the channel's renderer, which writes the answer, the counts, and the response.

Whatever goes wrong on the way, the channel's fail-safe answers with the 24/7 line and 911, and
the log names the fault's type and place only, never what the person sent or their number.
Counts are written here and nowhere else among the channels (``tests/channels/test_turn.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar

import sqlite_utils
from flask import Flask, current_app
from werkzeug.wrappers import Response as BaseResponse

from hotline_bridge import counters
from hotline_bridge.directory.models import Site
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import get_db
from hotline_bridge.ops import metrics
from hotline_bridge.runtime import Runtime
from hotline_bridge.webhooks import log_failure

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")

# One count: the language and the event (a count row's day and channel are the turn's).
Count = tuple[str, str]
# The longest event name a count row keeps.
MAX_EVENT = 40


@dataclass
class Place(Generic[In]):
    """Where a turn happens: the database, the moment, and the site with its directory, both
    looked up the first time a stage asks for them."""

    given: In
    find: Callable[[sqlite_utils.Database, In], Site]
    db: sqlite_utils.Database
    runtime: Runtime
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @cached_property
    def site(self) -> Site:
        return self.find(self.db, self.given)

    @cached_property
    def directory(self) -> SiteDirectory:
        """The directory as the engine reads it at this site, now."""
        return SiteDirectory(self.db, self.site, self.now, self.runtime.discreet)


@dataclass(frozen=True)
class Done:
    """What a turn's renderer wrote: the response, and what to count, as (language, event)."""

    response: BaseResponse
    counts: Iterable[Count] = ()
    # The channel the counts are under, when not the turn's (the Messaging webhook answers
    # SMS and WhatsApp alike).
    channel: str | None = None


def _no_site(db: sqlite_utils.Database, given: object) -> Site:
    raise LookupError("this turn has no site")


def _no_effects(place: Place[In], given: In, decided: Out) -> Out:
    return decided


@dataclass(frozen=True)
class Channel(Generic[In, Out]):
    """One kind of turn of a channel: how it reads its request, finds its site, decides (with
    the engine), carries out what it decided, writes its answer, and fails safe."""

    name: str
    read: Callable[[], In]
    step: Callable[[Place[In], In], Out]
    render: Callable[[Place[In], In, Out], Done]
    fail_safe: Callable[[In | None], BaseResponse]
    site: Callable[[sqlite_utils.Database, In], Site] = _no_site
    effects: Callable[[Place[In], In, Out], Out] = _no_effects


def run(channel: Channel[In, Out]) -> BaseResponse:
    """Take one turn of ``channel``: read, site, step, effects, render, count, respond; on any
    fault, the channel's fail-safe."""
    given: In | None = None
    try:
        given = channel.read()
        extensions = current_app.extensions  # what ``runtime()`` and ``get_db()`` read
        db = extensions["hotline_bridge.db"].get()
        place = Place(given, channel.site, db, extensions["hotline_bridge"])
        decided = channel.step(place, given)
        decided = channel.effects(place, given, decided)
        done = channel.render(place, given, decided)
    except Exception as exc:
        log_failure(f"{channel.name} turn", exc)
        metrics.fail_safe_given()
        return channel.fail_safe(given)
    name = done.channel or channel.name
    try:  # a count is never worth a failed answer: one that cannot be taken is logged
        for lang, event in done.counts:
            counters.bump(place.db, name, lang, event[:MAX_EVENT])
    except Exception as exc:
        log_failure(f"{name} count", exc)
    return done.response


def count_in(app: Flask, channel: str, lang: str, event: str) -> None:
    """Count ``event`` of a turn's effect that finishes after the turn (a call placed later)."""
    try:
        with app.app_context():
            counters.bump(get_db(), channel, lang, event[:MAX_EVENT])
    except Exception as exc:
        log_failure(f"{channel} count", exc)
