"""Answers already worked out, for the choices people send again and again.

Almost every message a line receives is a menu key or a keyword ("1", "0", "MENU", "ES") sent
from a place in the menus where many others have been. Its answer depends only on that message,
the conversation's state, the channel, the number written to, the minute (what is open now) and
the database; the flow, catalogs and settings do not change while the app runs. So an answer is
kept, per worker thread, until any of those changes: the directory's version is read (its
``DIRECTORY_VERSION`` moves at every write to the directory, by any connection, and
``total_changes`` when this one writes anything) on every request, or at most
``CHANGE_CHECK_MS`` apart, and a change empties the thread's store. The usage counts, written
every few seconds, are no change to an answer.

What a person wrote is never kept: only a one- or two-digit choice or a word of the keyword
table is ever part of a key, never free text or a ZIP code, and a conversation whose place
holds a ZIP code (a list of help near it) is never kept either.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from hotline_bridge.directory.store import DIRECTORY_VERSION
from hotline_bridge.engine.conversation import State
from hotline_bridge.engine.keywords import Keywords
from hotline_bridge.engine.step import holds_zip

# Answers kept per worker thread; the store is emptied when it fills.
SIZE = 4096
# The longest message that can be a choice or a keyword ("BORRAR TODO", "ESPAÑOL").
LONGEST = 16


@dataclass(frozen=True)
class Reply:
    """An answer as sent: the new state (site included), its language, the event counted and
    the TwiML document."""

    state: State
    lang: str
    event: str
    twiml: str
    # Whether the answer may be kept: not when working it out did something (DELETE deletes
    # Twilio's copies each time it is sent).
    kept: bool = True


def key(
    keywords: Keywords, channel: str, to: str | None, state: State, body: str, minute: object
) -> tuple[Any, ...] | None:
    """Return the key the answer to ``body`` at ``state`` is kept under, or None when it must
    not be kept (free text, a ZIP code, a place that holds one)."""
    if len(body) > LONGEST:
        return None
    choice = body.strip()  # a choice of one or two digits, or a word of the keyword table
    if choice.isascii() and choice.isdigit():
        if len(choice) > 2:
            return None
    elif keywords.match(body) is None:
        return None
    if state.position and holds_zip(state.position):
        return None
    return (channel, to, state.lang, state.position, state.stopped, state.site, body, minute)


class Replies:
    """Each worker thread's answers, valid for one version of its database connection.

    The version is looked at (a query, which lets another thread take the interpreter) at
    every request, or when ``check_seconds`` is set, at the first request after that long; a
    write through this thread's own connection empties the store at once either way.
    """

    def __init__(self, size: int = SIZE, check_seconds: float = 0.0) -> None:
        self.size = size
        self.check_seconds = check_seconds
        self._local = threading.local()

    def kept(self, db: sqlite_utils.Database, now: float | None = None) -> Kept:
        """Return the answers kept for the database as it is now (empty after any change).

        ``now`` is a ``time.monotonic()`` reading (default: the current one). An answer worked
        out after this call goes into the store returned here, so an answer read from data that
        changed meanwhile is dropped with the store it was put in.
        """
        if self.size <= 0:
            return _NOTHING  # keeps nothing: no version to look at
        now = time.monotonic() if now is None else now
        conn, local = db.conn, self._local
        own = conn.total_changes
        same = getattr(local, "db", None) is db and local.own == own
        if same and now - local.checked < self.check_seconds:
            kept: Kept = local.kept
            return kept
        version = conn.execute(DIRECTORY_VERSION).fetchone()[0]
        if not same or local.version != version:
            local.db, local.own, local.version, local.kept = db, own, version, Kept(self.size)
        local.checked = now
        kept = local.kept
        return kept


class Kept(dict[tuple[Any, ...], Reply]):
    """The answers kept for one version of the database, at most ``size`` of them."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def keep(self, at: tuple[Any, ...], reply: Reply) -> None:
        """Keep ``reply`` under ``at``, emptying the store first when it is full (a store of
        size 0 keeps nothing)."""
        if self.size <= 0:
            return
        if len(self) >= self.size:
            self.clear()
        self[at] = reply


# The store of a ``Replies`` of size 0: it holds nothing and keeps nothing.
_NOTHING = Kept(0)
