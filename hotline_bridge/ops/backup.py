"""Backups of the whole database with SQLite's online backup API, and restoring one.

The backup API copies a consistent snapshot of a live database, write-ahead log included, while
the server keeps answering: no binary or daemon beyond Python's own ``sqlite3``, and the copy is
the whole file (directory, counts, and any table added later, such as console accounts and their
audit log). Restoring writes the backup *into* the database through the same API, so servers
holding it open see the restored directory at their next request, and a stale write-ahead log
is never replayed onto a different file.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hotline_bridge.directory.store import BUSY_TIMEOUT_MS

# Tables every hotline-bridge database has; a file without them is not one of our backups.
REQUIRED_TABLES = frozenset({"services", "sites", "counts"})

# How a backup made into a folder is named; the name sorts by time.
NAME_FORMAT = "hotline-bridge-%Y%m%dT%H%M%SZ.db"

# Pages copied per step: small steps let the server write between them.
PAGES_PER_STEP = 256


class BackupError(Exception):
    """A backup or restore cannot be done; the message says what to do."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore wrote: the file and what it holds."""

    path: Path
    tables: int
    services: int
    sites: int


def backup(database: Path, destination: Path, now: dt.datetime) -> Copied:
    """Copy ``database`` to ``destination`` (a file, or a folder for a file named by ``now``),
    checked before it takes the destination's name."""
    target = destination / now.strftime(NAME_FORMAT) if destination.is_dir() else destination
    if target.resolve() == database.resolve():
        raise BackupError(f"{target}: a backup cannot overwrite the database itself")
    if not database.exists():
        raise BackupError(f"{database}: no database to back up")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with _open(database, "ro") as source, _open(partial, "rwc") as copy:
        source.backup(copy, pages=PAGES_PER_STEP)
        # One self-contained file: no write-ahead log beside it to lose when it is copied.
        copy.execute("PRAGMA journal_mode = DELETE")
    os.chmod(partial, 0o600)  # the directory is public, but the counts are the clinic's own
    summary = inspect(partial)
    os.replace(partial, target)
    return Copied(target, summary.tables, summary.services, summary.sites)


def restore(backup_file: Path, database: Path, *, keep_counts: bool = False) -> Copied:
    """Write ``backup_file`` into ``database`` after checking it is a sound hotline-bridge
    database; a missing or unreadable database is set aside and made anew.

    With ``keep_counts``, the usage counts stay the database's own rather than the backup's:
    an instance that takes the directory from another's backup still counts only what it
    answered, so the line's totals (``counts --database A --database B``) stay true.
    """
    inspect(backup_file)
    _set_aside_if_broken(database)
    kept = _counts(database) if keep_counts and database.exists() else None
    with _open(backup_file, "ro") as source, _open(database, "rwc") as live:
        source.backup(live, pages=PAGES_PER_STEP)
        if kept is not None:
            with live:  # one transaction: the backup's counts out, this database's back in
                live.execute("delete from counts")
                live.executemany(
                    "insert into counts (day, channel, language, event, n) values (?, ?, ?, ?, ?)",
                    kept,
                )
    summary = inspect(database)
    return Copied(database, summary.tables, summary.services, summary.sites)


def _counts(database: Path) -> list[tuple[object, ...]]:
    with _open(database, "ro") as conn:
        return conn.execute("select day, channel, language, event, n from counts").fetchall()


def inspect(path: Path) -> Copied:
    """Check ``path`` is a sound hotline-bridge database and say what it holds."""
    try:
        with _open(path, "ro") as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in conn.execute("select name from sqlite_master")}
            missing = REQUIRED_TABLES - tables
            if verdict != "ok" or missing:
                raise BackupError(f"{path}: not a sound hotline-bridge database")
            services = conn.execute("select count(*) from services").fetchone()[0]
            sites = conn.execute("select count(*) from sites").fetchone()[0]
    except sqlite3.DatabaseError:
        raise BackupError(f"{path}: not a readable SQLite database") from None
    return Copied(path, len(tables), services, sites)


def _set_aside_if_broken(database: Path) -> None:
    """Move an unreadable database (and its journal files) aside; drop the journal files of a
    deleted one, which must never be replayed onto the restored file."""
    journals = [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]
    if database.exists():
        try:
            inspect(database)
            return
        except BackupError:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            database.rename(database.with_name(f"{database.name}.broken-{stamp}"))
    for journal in journals:
        journal.unlink(missing_ok=True)


@contextmanager
def _open(path: Path, mode: str) -> Iterator[sqlite3.Connection]:
    """Open ``path`` (``ro`` or ``rwc``) and close it afterwards, whatever happens."""
    if mode != "ro":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode={mode}", uri=True)
    except sqlite3.OperationalError:
        raise BackupError(f"{path}: cannot be opened") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        yield conn
    finally:
        conn.close()
