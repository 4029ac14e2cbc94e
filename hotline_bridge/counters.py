"""Anonymous usage counts: how many times, per day, a channel showed a step in a language.

A count row holds a day, a channel, a language and an event name; nothing in it can single a
person out. Counting never costs a person their answer: a failure is logged and ignored.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlite_utils
from flask import has_request_context, request

log = logging.getLogger(__name__)

# Set in a request's WSGI environ (never reachable from HTTP) by in-process callers, such as the
# terminal simulators and ``check``, whose requests must not add to the usage counts.
DRY_RUN = "hotline_bridge.dry_run"

_UPSERT = """
insert into counts (day, channel, language, event, n) values (?, ?, ?, ?, 1)
on conflict (day, channel, language, event) do update set n = n + 1
"""


def today() -> str:
    """Return today's date (UTC) as the day a count belongs to."""
    return dt.datetime.now(dt.UTC).date().isoformat()


def bump(db: sqlite_utils.Database, channel: str, language: str, event: str) -> None:
    """Add one to today's count of ``event`` on ``channel`` in ``language``."""
    if has_request_context() and request.environ.get(DRY_RUN):
        return
    try:
        with db.conn:
            db.conn.execute(_UPSERT, (today(), channel, language, event))
    except Exception as exc:  # a count is never worth a failed reply
        log.warning("count not recorded: %s", type(exc).__name__)


def totals(db: sqlite_utils.Database, day: str | None = None) -> list[dict[str, object]]:
    """Return the counts of ``day`` (default: every day), for staff reports."""
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
