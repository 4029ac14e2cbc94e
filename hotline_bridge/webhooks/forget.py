"""Deleting Twilio's copies of one conversation or call when the person asks.

A person who texts DELETE (or presses the voice line's key for it) asks that the messages and
calls between their number and this line be deleted from Twilio. The two numbers are in the
webhook's fields: they are passed to Twilio's REST API as list filters and never written
anywhere else. Each listed record is deleted; a retry follows a rate limit or a server error,
a bounded number of times, and the whole work stops at a time budget, or after a cap on how
many records are listed. What could not be deleted is only counted; the ``Tally`` says whether
everything went, so the person gets an honest answer.

The calls to Twilio never run on the request's own thread: a small pool of the worker
(``Now``) runs the deletion while the request waits for it at most ``ANSWER_SECONDS``, and not
at all when Twilio has been slow. Past that, the person is told the deletion is under way, and
the worker is free for the next person whatever Twilio's API does.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as NotYet
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, current_app, request
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from hotline_bridge.counters import DRY_RUN
from hotline_bridge.ops import metrics

log = logging.getLogger(__name__)

# Twilio's list responses hold at most this many records a page; the largest page keeps the
# number of listing requests (each a round trip) small.
PAGE_SIZE = 50
# Records one request deletes at most. A conversation longer than that (hundreds of messages)
# is deleted in part: the person is told some could not be deleted and to ask again, and each
# new request starts over from the newest records still there.
MAX_RECORDS = 200
# Seconds the whole deletion may take (it runs on a thread of ``Now``, not the request's).
BUDGET_SECONDS = 6.0
# Seconds a request waits at most for its deletion before telling the person it is under way:
# well inside gunicorn's 10 s and Twilio's 15 s, and short, since the worker answers no one
# else meanwhile.
ANSWER_SECONDS = 2.0
# Threads of a worker that run deletions people asked for, and deletions held at most (queued
# or running); one beyond is not started, and the person is told to ask again later.
THREADS = 2
MAX_NOW = 50
# What a request's deletion came to: all gone, not all (or not started), still running.
DONE, PARTIAL, UNDER_WAY = "done", "partial", "under_way"
# Seconds one call to Twilio's API may take before it counts as failed.
HTTP_TIMEOUT_SECONDS = 2.0
# Tries of one call to the API (the first and its retries) after a rate limit or server error,
# and the wait before the first retry (doubled for each next one).
ATTEMPTS = 3
RETRY_SECONDS = 0.2
# Statuses worth trying again: Twilio's rate limit and its own errors.
RETRIED = frozenset({429, 500, 502, 503, 504})
# Twilio answers 404 for a record already deleted: it is gone, which is what was asked.
GONE = 404
# Twilio's error code for a record it will not delete yet: a message or call is deleted only a
# while after it is done, and Twilio asks to wait at least a minute, then several more.
TOO_SOON = 20009
# Seconds a deletion waits after the record is done (a DELETE confirmation reported sent or
# delivered, a call ended, any message with ``DELETE_TWILIO_RECORDS``) ...
SETTLE_SECONDS = 90.0
# ... and before each new try of what Twilio still called too soon, at most this many tries.
RETRY_LATER_SECONDS = 300.0
LATER_TRIES = 3
# Deletions one worker holds at most (a flood cannot grow it; one beyond is dropped, counted).
MAX_LATER = 20_000
# Where the app keeps its ``Later`` deletions, and its ``Now`` ones.
LATER = "hotline_bridge.later_deletions"
NOW = "hotline_bridge.deletions_now"


@dataclass
class Tally:
    """What one request deleted and what it could not (a failure, or the cap or time ran out)."""

    deleted: int = 0
    failed: int = 0
    # Records Twilio would not delete yet (``TOO_SOON``): a later try deletes them.
    waiting: int = 0
    unfinished: bool = False
    deadline: float = field(default_factory=lambda: time.monotonic() + BUDGET_SECONDS)

    @property
    def complete(self) -> bool:
        """Whether every record listed was deleted, or will be by a later try, and nothing was
        left unlisted."""
        return not self.failed and not self.unfinished

    def out_of_time(self) -> bool:
        """Whether the time budget is spent (and note that the work was left unfinished)."""
        if time.monotonic() < self.deadline:
            return False
        self.unfinished = True
        return True


def client() -> Client | None:
    """Return a client for Twilio's API with short timeouts, or None when no account is
    configured or this request is one Twilio never saw (a simulated or proving request)."""
    config = current_app.config
    if request.environ.get(DRY_RUN) or not config["TWILIO_ACCOUNT_SID"]:
        return None
    http = TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS)
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=http)


def nothing_held() -> bool:
    """Whether Twilio can hold nothing of this request: local mode, or a simulated request."""
    return bool(current_app.config["LOCAL"] or request.environ.get(DRY_RUN))


def copies_of_conversation(fields: Mapping[str, str]) -> str:
    """Delete Twilio's copies of the conversation the message in ``fields`` belongs to, but
    that message itself (see ``sweep_later``); return ``DONE``, ``PARTIAL`` or ``UNDER_WAY``."""
    person, line, twilio = fields.get("From", ""), fields.get("To", ""), client()
    if twilio is None or not (person and line):  # an empty filter would list every message
        return DONE if nothing_held() else PARTIAL
    keep, held = fields.get("MessageSid"), _later()

    def job() -> bool:
        tally = forget_conversation(twilio, person, line, keep)
        if tally.waiting and not held.add(lambda: forget_conversation(twilio, person, line)):
            tally.unfinished = True
        return tally.complete

    return _now().run(job)


def copies_of_call(fields: Mapping[str, str], when_done: str) -> str:
    """Delete Twilio's records of the calls and messages between the caller in ``fields`` and
    the line; the current call's own is deleted by its status callback, pointed at
    ``when_done``. Return ``DONE`` (all of them went, or will), ``PARTIAL`` or ``UNDER_WAY``."""
    person, line, twilio = fields.get("From", ""), fields.get("To", ""), client()
    sid = fields.get("CallSid", "")
    if twilio is None or not (person and line and sid):
        return DONE if nothing_held() else PARTIAL
    held = _later()

    def job() -> bool:
        tally = forget_call(twilio, person, line, sid, when_done)
        if tally.waiting and not held.add(lambda: forget_records(twilio, person, line, sid)):
            tally.unfinished = True
        return tally.complete

    return _now().run(job)


def sweep_when_settled(person: str, line: str) -> bool:
    """Delete the conversation's copies once more a while from now (``Later``): the DELETE
    confirmation, now done, the request it answered, and anything sent since. Return False
    when the sweep could not be held."""
    twilio = client()
    if twilio is None or not (person and line):
        return True
    return later(lambda: forget_conversation(twilio, person, line))


def record_when_settled(resource: str, sid: str) -> bool:
    """Delete Twilio's copy of one message (``Messages``) or call (``Calls``) a while from now;
    return False when the deletion could not be held."""
    twilio = client()
    if twilio is None or not sid:
        return True
    return later(lambda: delete_record(twilio, resource, sid))


def later(job: Callable[[], Tally]) -> bool:
    """Hold ``job`` in this app's ``Later`` deletions; return False when it could not be."""
    return _later().add(job)


def _later() -> Later:
    held: Later = current_app.extensions[LATER]
    return held


def _now() -> Now:
    pool: Now = current_app.extensions[NOW]
    return pool


def init_app(app: Flask) -> None:
    """Give the app its ``Later`` and ``Now`` deletions (once, whichever channel asks first).
    Tests run the later ones themselves (``run_due``), never a thread calling Twilio after
    the test; the ones a person waits for run on the pool's threads, as in production."""
    app.extensions.setdefault(LATER, Later(start=not app.config["TESTING"]))
    app.extensions.setdefault(NOW, Now())


class Now:
    """The deletions people wait for, run off the request's thread.

    A request hands its deletion (a job: a function that deletes and returns whether all of it
    went) to one of ``threads`` threads of the worker and waits for it at most
    ``answer_seconds``; when another deletion is still running, or the last one took longer
    than that (Twilio's API is slow or hanging), it does not wait at all. A deletion still
    running goes on, within its own budget, and the person is told it is under way. What a job
    needs (two numbers, a Sid) waits in memory only, at most ``limit`` jobs at a time, and is
    gone once the job is done. Threads start with the first job, so each worker that gunicorn
    forks has its own.
    """

    def __init__(
        self, threads: int = THREADS, limit: int = MAX_NOW, answer_seconds: float = ANSWER_SECONDS
    ) -> None:
        self.threads, self.limit, self.answer_seconds = threads, limit, answer_seconds
        self._ready = threading.Condition()
        # Each job with its result and when it was handed over.
        self._queue: list[tuple[Callable[[], bool], Future[bool], float]] = []
        self._held = 0  # jobs queued or running
        self._running: list[threading.Thread] = []
        self.slow = False

    def run(self, job: Callable[[], bool]) -> str:
        """Start ``job`` and return ``DONE`` or ``PARTIAL`` when it ended in time, else
        ``UNDER_WAY``; ``PARTIAL`` at once when ``limit`` jobs are held already."""
        result: Future[bool] = Future()
        with self._ready:
            if self._held >= self.limit:
                return PARTIAL
            # Only the first of deletions at once waits: a worker answers one request at a
            # time, and the people after it must not wait for Twilio too.
            wait = not self._held and not self.slow
            self._held += 1
            self._queue.append((job, result, time.monotonic()))
            self._running = [t for t in self._running if t.is_alive()]
            if len(self._running) < self.threads:
                thread = threading.Thread(target=self._serve, daemon=True)
                self._running.append(thread)
                thread.start()
            self._ready.notify_all()  # a thread, not only a test waiting for idle()
        if not wait:
            return UNDER_WAY
        try:
            return DONE if result.result(timeout=self.answer_seconds) else PARTIAL
        except NotYet:
            return UNDER_WAY

    def idle(self, timeout: float) -> bool:
        """Wait until no job is held (tests use it); return whether that happened in time."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._held, timeout)

    def _serve(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._queue))
                job, result, handed = self._queue.pop(0)
            try:
                complete = job()
            except Exception as exc:  # never raised: the person was told, or is being told
                log.warning("a deletion failed: %s", type(exc).__name__)
                complete = False
            result.set_result(complete)
            with self._ready:
                # Slow when the person could not have had the answer in time, counting the
                # wait for a thread as well as the deletion itself.
                self.slow = time.monotonic() - handed > self.answer_seconds
                self._held -= 1
                self._ready.notify_all()


class Later:
    """Deletions that must wait until Twilio will accept them.

    Twilio deletes a message or call only a while after it is done: it asks to wait at least a
    minute, and answers ``TOO_SOON`` before that. So each deletion (a job: a function that
    deletes and returns its ``Tally``) runs ``delay`` seconds after it was held, on one
    background thread per worker, and a job that Twilio still found too soon is held again
    ``retry_delay`` seconds later, ``tries`` times in all. What a job needs (a record's id, or a
    conversation's two numbers) waits in memory only, at most ``limit`` jobs at a time, and is
    gone once the job is done; a worker that stops first takes them with it, and those records
    stay in Twilio's log as they would have without this.
    """

    def __init__(
        self,
        delay: float = SETTLE_SECONDS,
        limit: int = MAX_LATER,
        start: bool = True,
        retry_delay: float = RETRY_LATER_SECONDS,
        tries: int = LATER_TRIES,
    ) -> None:
        self.delay, self.limit, self.start = delay, limit, start
        self.retry_delay, self.tries = retry_delay, tries
        self._ready = threading.Condition()
        self._due: list[tuple[float, int, int, Callable[[], Tally]]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._due)

    def add(self, job: Callable[[], Tally], now: float | None = None, tried: int = 0) -> bool:
        """Hold ``job`` until ``delay`` seconds after ``now`` (a ``time.monotonic()`` reading),
        or ``retry_delay`` when it has been ``tried`` already; False when ``limit`` are held."""
        now = time.monotonic() if now is None else now
        wait = self.retry_delay if tried else self.delay
        with self._ready:
            if len(self._due) >= self.limit:
                return False
            heapq.heappush(self._due, (now + wait, next(self._order), tried, job))
            if self.start and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
            self._ready.notify()
        return True

    def run_due(self, now: float | None = None) -> int:
        """Run every job whose time has come by ``now``, holding again what Twilio found too
        soon; return how many ran."""
        now = time.monotonic() if now is None else now
        ran = 0
        while True:
            with self._ready:
                if not self._due or self._due[0][0] > now:
                    return ran
                _, _, tried, job = heapq.heappop(self._due)
            try:
                waiting = job().waiting
            except Exception as exc:  # counted by the job where it can; never raised
                log.warning("a later deletion failed: %s", type(exc).__name__)
                waiting = 0
            if waiting and tried + 1 < self.tries:
                self.add(job, now, tried + 1)
            elif waiting:
                log.warning("Twilio kept %d record(s) past every later try", waiting)
            ran += 1

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._due:
                    self._ready.wait()
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._ready.wait(wait)
                    continue
            self.run_due()


def forget_conversation(twilio: Client, person: str, line: str, keep: str | None = None) -> Tally:
    """Delete Twilio's copies of the messages between ``person`` and ``line`` (both ways),
    but ``keep`` (the message being answered, which Twilio cannot delete before it is done)."""
    tally = Tally()
    _forget_messages(twilio, tally, person, line, keep)
    return tally


def forget_call(twilio: Client, person: str, line: str, call: str, when_done: str) -> Tally:
    """Delete Twilio's records of the calls and messages between ``person`` and ``line``, and
    the lines each of those calls and the current ``call`` were connected to (a leg to the 24/7
    line says whom the person called); the current call itself is deleted once it has ended,
    by its status callback, which is pointed at ``when_done``."""
    tally = Tally()
    current = twilio.calls(call)
    ok, _ = _call(tally, "update call", lambda: current.update(status_callback=when_done))
    tally.failed += not ok
    return _forget_calls_and_messages(twilio, tally, person, line, call)


def forget_records(twilio: Client, person: str, line: str, call: str) -> Tally:
    """Delete Twilio's records of the calls (with their legs) and messages between ``person``
    and ``line`` but the ``call`` going on, as ``forget_call`` does, once more."""
    return _forget_calls_and_messages(twilio, Tally(), person, line, call)


def delete_record(twilio: Client, resource: str, sid: str) -> Tally:
    """Delete Twilio's copy of one message (``Messages``) or call (``Calls``)."""
    tally = Tally()
    record = twilio.messages(sid) if resource == "Messages" else twilio.calls(sid)
    _count(tally, *_call(tally, f"delete {resource.lower()}", record.delete))
    return tally


def _forget_calls_and_messages(
    twilio: Client, tally: Tally, person: str, line: str, call: str
) -> Tally:
    def legs_of(parent: str) -> Callable[[], Any]:
        return functools.partial(twilio.calls.page, parent_call_sid=parent, page_size=PAGE_SIZE)

    def delete_call(sid: str) -> Callable[[], Any]:
        return twilio.calls(sid).delete

    def legs_first(sid: str) -> None:
        # An earlier call's own legs (the lines it was connected to) go before the call.
        _delete_listed(tally, legs_of(sid), delete_call, "calls", None)

    _delete_listed(tally, legs_of(call), delete_call, "calls", call)
    for sender, recipient in ((person, line), (line, person)):
        first = functools.partial(
            twilio.calls.page, from_=sender, to=recipient, page_size=PAGE_SIZE
        )
        _delete_listed(tally, first, delete_call, "calls", call, before=legs_first)
    _forget_messages(twilio, tally, person, line, None)
    return tally


def _forget_messages(
    twilio: Client, tally: Tally, person: str, line: str, keep: str | None
) -> None:
    for sender, recipient in ((person, line), (line, person)):
        first = functools.partial(
            twilio.messages.page, from_=sender, to=recipient, page_size=PAGE_SIZE
        )
        _delete_listed(tally, first, lambda sid: twilio.messages(sid).delete, "messages", keep)


def _delete_listed(
    tally: Tally,
    first: Callable[[], Any],
    deleter: Callable[[str], Callable[[], Any]],
    resource: str,
    keep: str | None,
    before: Callable[[str], None] | None = None,
) -> None:
    """Delete every record of the list whose first page ``first`` fetches, but ``keep``,
    until the cap or the time budget is reached; ``before`` runs for each first."""
    for page in _pages(tally, first):
        for record in list(page):
            if record.sid == keep:
                continue
            if tally.deleted + tally.failed >= MAX_RECORDS or tally.out_of_time():
                tally.unfinished = True
                return
            if before is not None:
                before(record.sid)
            _count(tally, *_call(tally, f"delete {resource}", deleter(record.sid)))


def _count(tally: Tally, ok: bool | None, _: Any = None) -> None:
    """Count one deletion: done, failed, or (None) one Twilio will accept only later."""
    if ok is None:
        tally.waiting += 1
    elif ok:
        tally.deleted += 1
    else:
        tally.failed += 1


def _pages(tally: Tally, first: Callable[[], Any]) -> Iterator[Any]:
    """Yield the pages of a list, following Twilio's ``next_page_uri``, within the budget; a
    page that cannot be fetched leaves the work unfinished."""
    ok, page = _call(tally, "list", first)
    while ok and page is not None:
        yield page
        if tally.out_of_time():
            return
        ok, page = _call(tally, "list", page.next_page)
    if not ok:
        tally.unfinished = True


def _status(exc: Exception) -> int | None:
    """Return the HTTP status of a failed call to the API (None when nothing answered)."""
    if isinstance(exc, TwilioRestException):
        return exc.status
    response = exc.args[1] if len(exc.args) > 1 else None  # a page Twilio would not give
    return getattr(response, "status_code", None)


def _call(tally: Tally, operation: str, attempt: Callable[[], Any]) -> tuple[bool | None, Any]:
    """Run one call to the API, retrying a rate limit or server error a bounded number of
    times within the budget; return whether it succeeded (a 404 did: the record is gone; None:
    Twilio will delete the record only later) and its result. Failures are counted by
    operation; nothing of the request is logged."""
    wait = RETRY_SECONDS
    for tries in range(1, ATTEMPTS + 1):
        try:
            return True, attempt()
        except (TwilioException, requests.RequestException) as exc:
            status = _status(exc)
            if status == GONE:
                return True, None
            if getattr(exc, "code", None) == TOO_SOON:
                return None, None
            metrics.twilio_error(operation)
            retry = status is None or status in RETRIED
            if not retry or tries == ATTEMPTS or time.monotonic() + wait >= tally.deadline:
                log.warning("Twilio %s failed: %s %s", operation, type(exc).__name__, status)
                return False, None
        time.sleep(wait)
        wait *= 2
    return False, None
