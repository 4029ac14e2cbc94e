"""Anonymous usage counts: how many times, per day, a channel showed a step in a language.

A count row holds a day, a channel, a language and an event name; nothing in it can single a
person out. Counting never costs a person their answer, nor any of their time: each worker adds
its counts up in memory and a background thread writes them in one short transaction every
``COUNTS_FLUSH_SECONDS``. When the database is locked (an import, a backup) the counts wait in
memory for the next write; at worst, when a worker is killed before writing, they are lost.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import sqlite3
import threading
import weakref
from collections import Counter
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, has_app_context, has_request_context, request

log = logging.getLogger(__name__)

# Set in a request's WSGI environ (never reachable from HTTP) by in-process callers, such as the
# terminal simulators and ``check``, whose requests must not add to the usage counts.
DRY_RUN = "hotline_bridge.dry_run"

# Set in a request's WSGI environ by the webhook shell when Twilio delivers the same webhook
# again (a retry): it is answered as before but not counted twice.
REPEAT = "hotline_bridge.repeat"

# Distinct (day, channel, language, event) rows a worker holds before it drops new ones; events
# come from fixed sets, so only a database locked for days could fill this.
MAX_PENDING = 10_000

# Milliseconds the background writer waits for another writer; it delays nobody.
BACKGROUND_BUSY_MS = 1000

_UPSERT = """
insert into counts (day, channel, language, event, n) values (?, ?, ?, ?, ?)
on conflict (day, channel, language, event) do update set n = n + excluded.n
"""

Key = tuple[str, str, str, str]


def today() -> str:
    """Return today's date (UTC) as the day a count belongs to."""
    return dt.datetime.now(dt.UTC).date().isoformat()


class Tally:
    """One process's counts for one database file, batched in memory until written."""

    def __init__(self, path: str | Path, period: float) -> None:
        self.path, self.period = Path(path), period
        self._reset()

    def _reset(self) -> None:
        # Also called in a forked child: a lock or thread of the parent is not ours.
        self._lock = threading.Lock()
        self._pending: Counter[Key] = Counter()
        self._writing = False
        self._failing = False

    def add(self, key: Key) -> None:
        """Count ``key`` once; write it now (period 0) or leave it to the background writer."""
        with self._lock:
            if key in self._pending or len(self._pending) < MAX_PENDING:
                self._pending[key] += 1
            start = self.period > 0 and not self._writing
            self._writing = self._writing or start
        if self.period <= 0:
            self.flush(busy_ms=0)
        elif start:
            threading.Thread(target=self._write_in_background, daemon=True).start()

    def _write_in_background(self) -> None:
        """Write every ``period`` seconds while there is something to write, then stop."""
        stop = threading.Event()
        while True:
            stop.wait(self.period)
            self.flush(busy_ms=BACKGROUND_BUSY_MS)
            with self._lock:
                if not self._pending:
                    self._writing = False
                    return

    def flush(self, busy_ms: int = BACKGROUND_BUSY_MS) -> bool:
        """Write the pending counts in one transaction; on failure keep them for the next try."""
        with self._lock:
            batch, self._pending = self._pending, Counter()
        if not batch:
            return True
        try:
            _write(self.path, batch, busy_ms)
        except Exception as exc:  # locked, deleted, read-only or full: try again later
            if not self._failing:  # once per outage, not at every try
                log.warning("counts not written yet, kept to retry: %s", type(exc).__name__)
            self._failing = True
            with self._lock:
                for key, n in batch.items():
                    if key in self._pending or len(self._pending) < MAX_PENDING:
                        self._pending[key] += n
            return False
        self._failing = False
        return True


def _write(path: Path, batch: Counter[Key], busy_ms: int) -> None:
    # Its own short-lived connection, so the writer never shares a request thread's one; mode=rw
    # so that a deleted database is not silently recreated empty.
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=rw", uri=True, timeout=busy_ms / 1000)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")  # as the app's own connections write
        with conn:
            conn.executemany(_UPSERT, [(*key, n) for key, n in batch.items()])
    finally:
        conn.close()


# Every tally of this process, so that readers can flush them first and a forked worker
# starts with none of its parent's counts.
_tallies: weakref.WeakSet[Tally] = weakref.WeakSet()


def _after_fork() -> None:
    for tally in list(_tallies):
        tally._reset()


os.register_at_fork(after_in_child=_after_fork)


def flush_all() -> None:
    """Write every count this process holds now, for readers that need them exact."""
    for tally in list(_tallies):
        tally.flush()


# A worker that stops in good order writes what it holds.
atexit.register(flush_all)


def init_app(app: Flask) -> None:
    """Give the app its tally of counts, written in the background."""
    tally = Tally(app.config["DATABASE"], app.config["COUNTS_FLUSH_SECONDS"])
    _tallies.add(tally)
    app.extensions["hotline_bridge.counts"] = tally


def bump(db: sqlite_utils.Database, channel: str, language: str, event: str) -> None:
    """Add one to today's count of ``event`` on ``channel`` in ``language``.

    Returns at once: the count is written later, in the background, never on the request path.
    ``db`` is the database the count belongs to, used only outside an app with a tally.
    """
    if has_request_context():
        environ = request.environ
        if environ.get(DRY_RUN) or environ.get(REPEAT):
            return
    key = (today(), channel, language, event)
    tally = current_app.extensions.get("hotline_bridge.counts") if has_app_context() else None
    if tally is None:
        tally = Tally(_path_of(db), 0)
    tally.add(key)


def _path_of(db: sqlite_utils.Database) -> str:
    return str(db.execute("pragma database_list").fetchone()[2])


def totals(db: sqlite_utils.Database, day: str | None = None) -> list[dict[str, object]]:
    """Return the counts of ``day`` (default: every day), for staff reports; counts this
    process still holds are written first."""
    flush_all()
    where, params = ("where day = ?", [day]) if day else ("", [])
    sql = f"select day, channel, language, event, n from counts {where} order by 1, 2, 3, 4"
    return list(db.query(sql, params))


def combined(paths: list[str], day: str | None = None) -> list[dict[str, object]]:
    """Add up the counts of several databases (one per server behind a load balancer): each
    server counts only what it answered, so the line's totals are the sums."""
    from hotline_bridge.directory.store import connect

    sums: dict[tuple[object, ...], int] = {}
    for path in paths:
        db = connect(path)
        try:
            for row in totals(db, day):
                key = (row["day"], row["channel"], row["language"], row["event"])
                sums[key] = sums.get(key, 0) + int(str(row["n"]))
        finally:
            db.close()
    names = ("day", "channel", "language", "event")
    return [dict(zip(names, key, strict=True)) | {"n": n} for key, n in sorted(sums.items())]
