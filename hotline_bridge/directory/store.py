"""The SQLite database: connections, recorded migrations, and the national lines it is seeded with.

The database holds the directory (services and the sites that show them) and per-day aggregate
counts. It never holds anything about a person: no phone number, message text, ZIP code or
per-person row.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app
from sqlite_utils.migrations import Migrations

from hotline_bridge.directory import national

# Short descriptions of the national lines in both languages, shown on detail steps, and the
# project's own wording of a discreet label where it reads better than the reference's.
NATIONAL_NOTES_CSV = Path(__file__).parent / "data" / "national-notes.csv"

# Milliseconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_MS = 5000

# The site every deployment has; numbers and kiosks not tied to a clinic fall back to it.
DEFAULT_SITE = "default"

# The line's number the terminal simulators text and call unless told otherwise: the demo
# clinic's (examples/demo/sites.csv), so both channels answer as the same site.
SIMULATOR_NUMBER = "+15555550199"

migrations = Migrations("hotline_bridge")


@migrations()
def m001_directory(db: sqlite_utils.Database) -> None:
    """Services, sites, the services each site shows, and per-day counts."""
    db.table("services").create(
        {
            "id": str,
            "category": str,
            "label_en": str,
            "label_es": str,
            "name_en": str,
            "name_es": str,
            "description_en": str,
            "description_es": str,
            "phone": str,
            "sms": str,
            "sms_keyword": str,
            "tty": str,
            "address": str,
            "city": str,
            "state": str,
            "zip": str,
            "latitude": float,
            "longitude": float,
            "hours": str,
            "languages": str,
            "url": str,
            "national": int,
            "fictional": int,
            "sort_order": int,
            "source": str,
            "checked": str,
        },
        pk="id",
        not_null={"category", "national", "fictional", "sort_order"},
        defaults={"national": 0, "fictional": 0, "sort_order": 1000},
    )
    db.table("services").create_index(["category"])
    db.table("services").create_index(["latitude", "longitude"])
    db.table("sites").create(
        {
            "id": str,
            "name_en": str,
            "name_es": str,
            "default_language": str,
            "time_zone": str,
            "zip": str,
            "latitude": float,
            "longitude": float,
            "numbers": str,
            "keywords": str,
            "exit_url": str,
            "fictional": int,
        },
        pk="id",
        not_null={"default_language", "time_zone", "fictional"},
        defaults={"default_language": "en", "time_zone": "America/New_York", "fictional": 0},
    )
    db.table("service_sites").create(
        {"service_id": str, "site_id": str},
        pk=("service_id", "site_id"),
        foreign_keys=[("service_id", "services", "id"), ("site_id", "sites", "id")],
    )
    db.table("service_sites").create_index(["site_id"])
    db.table("counts").create(
        {"day": str, "channel": str, "language": str, "event": str, "n": int},
        pk=("day", "channel", "language", "event"),
        not_null={"n"},
        defaults={"n": 0},
    )
    db.table("sites").insert({"id": DEFAULT_SITE})


@migrations()
def m002_nearby_index(db: sqlite_utils.Database) -> None:
    """Let the nearest-services lookup narrow by category and a latitude range in one index."""
    db.table("services").create_index(["category", "latitude", "longitude"], if_not_exists=True)


# What a service's status may be: HSDS 3.0's four, and ours for one that staff or a later import
# took out. Only an active service is ever offered to a person.
ACTIVE = "active"
STATUSES = ("active", "inactive", "defunct", "temporarily closed", "retired")


@migrations()
def m003_keeping_current(db: sqlite_utils.Database) -> None:
    """A status for each service (only active ones are offered), the day it was last confirmed,
    and whether a site's clinic confirmed its exit page on another site."""
    db.table("services").add_column("status", str, not_null_default=ACTIVE)
    db.table("services").add_column("confirmed", str)
    db.table("sites").add_column("exit_url_confirmed", int, not_null_default=0)


def connect(path: str | Path, *, create: bool = False) -> sqlite_utils.Database:
    """Open the database at ``path``; a missing file is an error unless ``create`` is set.

    Refusing to create a file on an ordinary request matters: a deleted database must make the
    webhook fail safe, not quietly answer from an empty directory.
    """
    mode = "rwc" if create else "rw"
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode={mode}", uri=True)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # WAL keeps readers and the single writer out of each other's way; NORMAL sync is durable
    # across application crashes, which is all aggregate counts need.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


def initialize(
    path: str | Path,
    confirmations: Mapping[str, dt.date] | None = None,
    overrides: Sequence[national.Override] = (),
) -> None:
    """Create the database if needed, apply pending migrations and re-apply the national lines
    with the deployment's reviewed ``overrides`` (and without the numbers flagged for
    re-verification that ``confirmations`` do not cover)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path, create=True)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        migrations.apply(db)
        with db.atomic():
            seed_national_lines(db, confirmations or {}, overrides)
    finally:
        db.close()


def read_national_lines() -> list[dict[str, str]]:
    """Return the checked national lines as rows of the reference CSV, in file order."""
    return [dict(line.row) for line in national.lines()]


def _read_national_notes() -> dict[str, dict[str, str]]:
    with NATIONAL_NOTES_CSV.open(encoding="utf-8", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def seed_national_lines(
    db: sqlite_utils.Database,
    confirmations: Mapping[str, dt.date] | None = None,
    overrides: Sequence[national.Override] = (),
) -> None:
    """Upsert the national lines from the checked reference file and the reviewed overrides
    (idempotent); a number flagged for re-verification is stored empty until the deployment
    confirms its row (an override of the row is a confirmation)."""
    notes = _read_national_notes()
    rows = []
    for order, reference in enumerate(national.lines()):
        checked, confirmed = national.in_effect(reference, confirmations or {}, overrides)
        line = checked.usable(confirmed)
        note = notes.get(line["id"], {})
        rows.append(
            {
                "id": line["id"],
                "category": line["category"],
                # The project's own wording of a discreet label, where it has one.
                "label_en": note.get("label_en") or line["discreet_label_en"],
                "label_es": note.get("label_es") or line["discreet_label_es"],
                "name_en": line["official_name_en"],
                "name_es": line["official_name_es"],
                "description_en": note.get("description_en", ""),
                "description_es": note.get("description_es", ""),
                "phone": line["voice"] or None,
                "sms": line["sms_number"] or None,
                "sms_keyword": line["sms_keyword"] or None,
                "tty": line["tty"] or None,
                "hours": line["hours"],
                "languages": line["languages"],
                "url": line["source"],
                "national": 1,
                "fictional": 0,
                "sort_order": order,
                "source": line["source"],
                "checked": line["checked"],
            }
        )
    db.table("services").upsert_all(rows, pk="id")


class Connections:
    """One open connection per worker thread, reused across requests.

    Opening and closing a connection on every request costs more than the rest of a webhook
    (closing the last connection checkpoints the write-ahead log to disk). A kept connection is
    checked against the file on every use, so a database that was deleted or replaced still
    makes the request fail safe instead of answering from a file that is gone.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def get(self) -> sqlite_utils.Database:
        """Return this thread's connection, reopening it if the file changed or was forked."""
        identity = (os.getpid(), *_file_identity(self.path))
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == identity:
            return held[1]
        if held is not None:
            held[1].close()
        db = connect(self.path)
        self._local.held = (identity, db)
        return db


def _file_identity(path: Path) -> tuple[int, int]:
    stat = path.stat()  # FileNotFoundError when the database is gone: the caller fails safe
    return stat.st_dev, stat.st_ino


def get_db() -> sqlite_utils.Database:
    """Return the database connection of this worker thread."""
    connections: Connections = current_app.extensions["hotline_bridge.db"]
    return connections.get()


@contextmanager
def open_db(app: Flask) -> Iterator[sqlite_utils.Database]:
    """Open the app's database outside a request (commands, imports), closing it afterwards."""
    db = connect(app.config["DATABASE"])
    try:
        yield db
    finally:
        db.close()


def init_app(app: Flask) -> None:
    """Create, migrate and seed the app's database, and keep a connection per worker thread."""
    initialize(
        app.config["DATABASE"], app.config["CONFIRMED_LINES"], app.config["NATIONAL_OVERRIDES"]
    )
    app.extensions["hotline_bridge.db"] = Connections(app.config["DATABASE"])
