"""The SQLite database: connections, recorded migrations, and the national lines it is seeded with.

The database holds the directory (services and the sites that show them) and per-day aggregate
counts. It never holds anything about a person: no phone number, message text, ZIP code or
per-person row.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# What a service's status may be: HSDS 3.0's four, ours for one that staff or a later import
# took out, and ours for one added in the console whose numbers wait for a second person's
# approval. Only an active service is ever offered to a person.
ACTIVE = "active"
HELD = "held"
STATUSES = ("active", "inactive", "defunct", "temporarily closed", "retired", HELD)


@migrations()
def m003_keeping_current(db: sqlite_utils.Database) -> None:
    """A status for each service (only active ones are offered), the day it was last confirmed,
    and whether a site's clinic confirmed its exit page on another site."""
    db.table("services").add_column("status", str, not_null_default=ACTIVE)
    db.table("services").add_column("confirmed", str)
    db.table("sites").add_column("exit_url_confirmed", int, not_null_default=0)


# What a service and a site say in words, one row per language in service_texts and site_texts.
SERVICE_TEXTS = ("label", "name", "description")
SITE_TEXTS = ("name",)
# The languages whose words lived in *_en / *_es columns before m004; files and forms name
# their columns always.
_COLUMN_LANGUAGES = ("en", "es")


@migrations()
def m004_language_texts(db: sqlite_utils.Database) -> None:
    """Move services' labels, names and descriptions and sites' program names out of their
    *_en / *_es columns into one row per language, so another language is data, not a column."""
    _texts_table(db, "service_texts", "service_id", "services", SERVICE_TEXTS)
    _texts_table(db, "site_texts", "site_id", "sites", SITE_TEXTS)
    for table, owner, fields in (
        ("services", "service_texts", SERVICE_TEXTS),
        ("sites", "site_texts", SITE_TEXTS),
    ):
        key = "service_id" if table == "services" else "site_id"
        for lang in _COLUMN_LANGUAGES:
            values = ", ".join(f"nullif([{f}_{lang}], '')" for f in fields)
            present = " or ".join(f"coalesce([{f}_{lang}], '') != ''" for f in fields)
            db.execute(
                f"insert into {owner} ({key}, language, {', '.join(fields)}) "
                f"select id, ?, {values} from {table} where {present}",
                [lang],
            )
        db.table(table).transform(
            drop=[f"{f}_{lang}" for f in fields for lang in _COLUMN_LANGUAGES]
        )


def _texts_table(
    db: sqlite_utils.Database, name: str, key: str, owner: str, fields: Sequence[str]
) -> None:
    db.table(name).create(
        {key: str, "language": str, **dict.fromkeys(fields, str)},
        pk=(key, "language"),
        foreign_keys=[(key, owner, "id")],
    )


@migrations()
def m005_site_callback_off(db: sqlite_utils.Database) -> None:
    """Whether a site's clinic turned off "Reply CALL" (the SMS line ringing a person from its
    own number): a flag about the clinic, nothing about people."""
    db.table("sites").add_column("callback_off", int, not_null_default=0)


@migrations()
def m006_faithful_places(db: sqlite_utils.Database) -> None:
    """What a place and a number need beyond a street and a number: a confidential place (a
    shelter: its street and coordinates are never shown, spoken, sent, printed or exported),
    coordinates that are only its ZIP code's centre (an estimate, never exported as its own),
    a phone extension, a second address line, ZIP+4, and what a source held that the line
    does not use, kept to be exported as it came."""
    services = db.table("services")
    services.add_column("confidential", int, not_null_default=0)
    services.add_column("estimated", int, not_null_default=0)
    services.add_column("phone_extension", str)
    services.add_column("address_2", str)
    services.add_column("zip4", str)
    services.add_column("kept", str)
    # Coordinates stored before were the ZIP code's centre when the source gave none: those
    # that are exactly their ZIP code's centre are marked as the estimate they are.
    from hotline_bridge.directory.nearby import zip_point  # the ZIP table, only when migrating

    rows = db.execute(
        "select id, zip, latitude, longitude from services where national = 0 and zip is not null"
    ).fetchall()
    estimated = [
        sid for sid, code, lat, lon in rows if lat is not None and zip_point(code) == (lat, lon)
    ]
    for start in range(0, len(estimated), CHUNK):
        chunk = estimated[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        db.execute(f"update services set estimated = 1 where id in ({marks})", chunk)


@migrations()
def m007_callback_admissions(db: sqlite_utils.Database) -> None:
    """How many "Reply CALL" calls each site placed in each minute, so that every worker holds a
    site to one hourly cap: a site and a count, nothing about people."""
    db.create_table(
        "callback_admissions",
        {"site": str, "minute": int, "n": int},
        pk=("site", "minute"),
        not_null={"site", "minute", "n"},
    )


@migrations()
def m008_package_rows(db: sqlite_utils.Database) -> None:
    """The rows of an imported package that belong to no one service (HSDS's metadata, table
    descriptions, taxonomies and terms, attributes that name no row), kept by table and id to
    be exported as they came, whatever becomes of any service. They were kept with the first
    service imported, and are moved here."""
    db.create_table(
        "package_rows",
        {"tbl": str, "id": str, "row": str},
        pk=("tbl", "id"),
        not_null={"tbl", "id", "row"},
    )
    found = db.execute("select id, kept from services where kept like '%\"package\"%'").fetchall()
    for sid, text in found:
        kept = json.loads(text)
        write_package_rows(db, kept.pop("package", {}))
        left = json.dumps(kept, sort_keys=True) if kept else None
        db.execute("update services set kept = ? where id = ?", [left, sid])


# The tables the line's answers are worked out from. Any write to one of them moves the
# directory's version, which is what the values kept from them are checked against.
DIRECTORY_TABLES = ("services", "service_texts", "service_sites", "sites", "site_texts")
# The directory's version: it moves at every write to the directory, by whatever writes it.
DIRECTORY_VERSION = "select n from directory_version"


@migrations()
def m009_directory_version(db: sqlite_utils.Database) -> None:
    """A number that moves at every write to the directory (an import, a console edit, a
    deletion, a restore of rows), so that what a worker worked out from it (a site, a list, a
    list's page size, an answer) is kept exactly as long as it holds. SQLite's own
    ``data_version`` moves at any commit, the usage counts' every few seconds among them."""
    db.execute("create table directory_version (n integer not null)")
    db.execute("insert into directory_version (n) values (0)")
    _version_triggers(db, "create trigger {name} after {event} on {table} " + _MOVE)


# What each trigger does, and the events that fire them.
_MOVE = "begin update directory_version set n = n + 1; end"
_EVENTS = ("insert", "update", "delete")


def _version_triggers(db: sqlite_utils.Database, sql: str) -> None:
    """Run ``sql`` for each directory table's version trigger (``{name}``, ``{event}``,
    ``{table}`` filled in)."""
    for table in DIRECTORY_TABLES:
        for event in _EVENTS:
            db.execute(sql.format(name=f"{table}_{event}_version", event=event, table=table))


@contextmanager
def moved_once(db: sqlite_utils.Database) -> Iterator[None]:
    """Within a transaction the caller holds, write many directory rows and move the
    directory's version once, at the end, rather than at each row (an import of 200,000
    services writes over a million rows, and a trigger at each cost a third of its time).

    The triggers are dropped and made again inside the same transaction: a rollback keeps
    them, and no other connection can write the directory in between (the transaction holds
    the write lock from its first write, which is the first drop)."""
    _version_triggers(db, "drop trigger if exists {name}")
    yield
    db.execute("update directory_version set n = n + 1")
    _version_triggers(db, "create trigger {name} after {event} on {table} " + _MOVE)


# A column that holds one of a service's or site's words in one language: name_en, label_qps.
_TEXT_COLUMN = re.compile(r"^(?P<field>[a-z]+)_(?P<lang>[a-z]{2,3})$")


# Files and rows have a few dozen column names, asked about for every value an import writes.
@functools.lru_cache(maxsize=4096)
def text_column(column: str, fields: tuple[str, ...]) -> tuple[str, str] | None:
    """Return (field, language) for a column such as ``name_es``, or None for any other."""
    match = _TEXT_COLUMN.match(column)
    if match is None or match["field"] not in fields:
        return None
    return match["field"], match["lang"]


def text_columns(fields: Sequence[str], languages: Sequence[str]) -> list[str]:
    """Return the columns people write a row's words in: ``name_en, name_es, ...``."""
    return [f"{name}_{lang}" for name in fields for lang in languages]


@dataclass(frozen=True)
class _Kind:
    table: str
    texts: str
    key: str
    fields: tuple[str, ...]


_SERVICES = _Kind("services", "service_texts", "service_id", SERVICE_TEXTS)
_SITES = _Kind("sites", "site_texts", "site_id", SITE_TEXTS)


def write_services(db: sqlite_utils.Database, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert or update services given as rows with ``<field>_<lang>`` columns for their words
    (the one way services are written)."""
    _write(db, _SERVICES, rows)


def write_package_rows(db: sqlite_utils.Database, rows: Mapping[str, Sequence[Any]]) -> None:
    """Keep an imported package's own rows (``{table: [row, ...]}``), replacing those with the
    same table and id."""
    db.conn.executemany(
        "insert into package_rows (tbl, id, row) values (?, ?, ?) "
        "on conflict (tbl, id) do update set row = excluded.row",
        [
            (table, row["id"], json.dumps(row, sort_keys=True))
            for table, found in rows.items()
            for row in found
        ],
    )


def package_rows(db: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
    """Return the packages' own rows by table, in the order they were first kept."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, text in db.execute("select tbl, row from package_rows order by rowid"):
        found.setdefault(table, []).append(json.loads(text))
    return found


def write_sites(db: sqlite_utils.Database, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert or update sites given as rows with ``name_<lang>`` columns."""
    _write(db, _SITES, rows)


def _write(db: sqlite_utils.Database, kind: _Kind, given: Iterable[Mapping[str, Any]]) -> None:
    rows = list(given)
    plain: dict[tuple[str, ...], list[list[Any]]] = {}
    words: dict[tuple[str, tuple[str, ...]], list[list[Any]]] = {}
    # The rows of a file have the same columns: which are words is worked out once per shape.
    layouts: dict[tuple[str, ...], _Layout] = {}
    for row in rows:
        keys = tuple(row)
        layout = layouts.get(keys) or layouts.setdefault(keys, _layout(keys, kind.fields))
        values = list(row.values())
        plain.setdefault(layout.plain, []).append([values[i] for i in layout.plain_at])
        for lang, fields, at in layout.texts:
            params = [row["id"], lang, *(values[i] or None for i in at)]
            words.setdefault((lang, fields), []).append(params)
    # Committed at once unless the caller holds a transaction, as sqlite-utils' writes are.
    with db.atomic():
        for columns, params in plain.items():
            upsert_many(db, kind.table, columns, params, ("id",))
        for (_lang, fields), params in words.items():
            texts = (kind.key, "language", *fields)
            upsert_many(db, kind.texts, texts, params, (kind.key, "language"))
        _drop_empty(db, kind, [row["id"] for row in rows])


@dataclass(frozen=True)
class _Layout:
    """Where a row of given columns keeps its plain values and its words in each language."""

    plain: tuple[str, ...]
    plain_at: tuple[int, ...]
    # (language, its fields in the row's order, where each is in the row)
    texts: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...]


def _layout(columns: tuple[str, ...], fields: tuple[str, ...]) -> _Layout:
    plain: list[tuple[str, int]] = []
    by_lang: dict[str, list[tuple[str, int]]] = {}
    for at, column in enumerate(columns):
        split = text_column(column, fields)
        if split is None:
            plain.append((column, at))
        else:
            by_lang.setdefault(split[1], []).append((split[0], at))
    return _Layout(
        plain=tuple(name for name, _at in plain),
        plain_at=tuple(at for _name, at in plain),
        texts=tuple(
            (lang, tuple(f for f, _at in found), tuple(at for _f, at in found))
            for lang, found in by_lang.items()
        ),
    )


def upsert_many(
    db: sqlite_utils.Database,
    table: str,
    columns: Sequence[str],
    params: Sequence[Sequence[Any]],
    pk: Sequence[str],
) -> None:
    """Insert or update rows of ``columns`` by the primary key ``pk``."""
    names = ", ".join(f"[{c}]" for c in columns)
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in pk)
    conflict = f"do update set {updates}" if updates else "do nothing"
    sql = (
        f"insert into [{table}] ({names}) values ({', '.join('?' for _ in columns)}) "
        f"on conflict({', '.join(pk)}) {conflict}"
    )
    db.conn.executemany(sql, params)


# SQLite allows only so many parameters in one statement.
CHUNK = 500


def _drop_empty(db: sqlite_utils.Database, kind: _Kind, ids: Sequence[str]) -> None:
    """A language whose words were all emptied has no row."""
    empty = " and ".join(f"[{f}] is null" for f in kind.fields)
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        marks = ", ".join("?" for _ in chunk)
        db.execute(f"delete from {kind.texts} where {kind.key} in ({marks}) and {empty}", chunk)


def with_texts(
    db: sqlite_utils.Database, rows: Sequence[dict[str, Any]], *, sites: bool = False
) -> list[dict[str, Any]]:
    """Return ``rows`` of services (or ``sites``) with their words added as ``<field>_<lang>``
    columns, the way import and export files, the console and commands write them; every
    language present in the database has its columns, empty where a row has no words."""
    if not rows:
        return []  # and no scan of every language stored (each chunk of a new import asks)
    kind = _SITES if sites else _SERVICES
    found: dict[str, dict[str, Any]] = {row["id"]: {} for row in rows}
    stored = [r[0] for r in db.execute(f"select distinct language from {kind.texts}")]
    languages = list(dict.fromkeys([*_COLUMN_LANGUAGES, *stored]))
    ids = list(found)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        sql = f"select * from {kind.texts} where {kind.key} in ({', '.join('?' for _ in chunk)})"
        for text in db.query(sql, chunk):
            words = found[text[kind.key]]
            words.update({f"{f}_{text['language']}": text[f] for f in kind.fields})
    blank = dict.fromkeys(text_columns(kind.fields, languages))
    return [{**row, **blank, **found[row["id"]]} for row in rows]


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


# A national-notes ``hours`` value saying a line's hours differ from place to place (211): no
# hours are stated, so no screen promises it is open 24/7; its description says they vary.
HOURS_VARY = "varies"


def _national_hours(line: Mapping[str, str], note: Mapping[str, str]) -> str | None:
    return None if note.get("hours") == HOURS_VARY else line["hours"]


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
                "hours": _national_hours(line, note),
                "languages": line["languages"],
                "url": line["source"],
                "national": 1,
                "fictional": 0,
                "sort_order": order,
                "source": line["source"],
                "checked": line["checked"],
                # Words in languages beyond the reference file's two, where the notes have them.
                **{k: v for k, v in note.items() if text_column(k, SERVICE_TEXTS) and v},
            }
        )
    write_services(db, rows)


class Connections:
    """One open connection per worker thread, reused across requests.

    Opening and closing a connection on every request costs more than the rest of a webhook
    (closing the last connection checkpoints the write-ahead log to disk). A kept connection is
    checked against the file, so a database that was deleted or replaced (a restore) makes the
    requests fail safe or reopen instead of answering from a file that is gone: at every use, or
    when ``check_seconds`` is set, at the first use after that long (a ``stat`` is a system call
    that lets another thread take the interpreter, on the busiest path). SQLite itself always
    reads the latest committed data; only a replaced file waits for the check.
    """

    def __init__(self, path: str | Path, check_seconds: float = 0.0) -> None:
        self.path = Path(path)
        self.check_seconds = check_seconds
        self._local = threading.local()

    def get(self, now: float | None = None) -> sqlite_utils.Database:
        """Return this thread's connection, reopening it if the file changed or was forked.

        ``now`` is a ``time.monotonic()`` reading (default: the current one)."""
        now = time.monotonic() if now is None else now
        pid = os.getpid()
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and held.identity[0] == pid and now - held.checked < self.check_seconds:
            return held.db
        stat = self.path.stat()  # FileNotFoundError when the database is gone: fails safe
        identity = (pid, stat.st_dev, stat.st_ino)
        if held is not None and held.identity == identity:
            held.checked = now
            return held.db
        if held is not None:
            held.db.close()
        db = connect(self.path)
        vars(db)[_DERIVED] = Derived(self.check_seconds)
        self._local.held = _Held(identity, db, now)
        return db


@dataclass
class _Held:
    """A thread's connection, the file it was opened on, and when that was last checked."""

    identity: tuple[int, int, int]
    db: sqlite_utils.Database
    checked: float


# How many values worked out from a connection's data are kept before starting again empty.
DERIVED_SIZE = 4096
# Where a connection holds its ``Derived`` (an attribute of the sqlite-utils object).
_DERIVED = "_hotline_bridge_derived"


class Derived:
    """What is worked out from one connection's data (a site, a list's services, a list's page
    size), kept for as long as that data is unchanged.

    A write by this connection (a console edit: ``total_changes`` moves) empties it at once; a
    write to the directory by another (an import, another worker: ``DIRECTORY_VERSION``
    moves, and the usage counts' commits do not) at the next look, which is at every use or,
    when ``check_seconds`` is set, at the first use after that long, as for the answers kept
    (``channels.sms.replies``). Nothing a person sent is ever part of what is kept here: only
    the directory's rows and what they give.
    """

    def __init__(self, check_seconds: float = 0.0) -> None:
        self.check_seconds = check_seconds
        self.memo: dict[Any, Any] = {}
        self._own, self._version, self._checked = -1, -1, -float("inf")

    def current(self, db: sqlite_utils.Database, now: float) -> dict[Any, Any]:
        """Return the values worked out from ``db`` as it is now."""
        conn = db.conn
        own = conn.total_changes
        if own == self._own and now - self._checked < self.check_seconds:
            memo = self.memo
        else:
            version = conn.execute(DIRECTORY_VERSION).fetchone()[0]
            if own != self._own or version != self._version:
                self._own, self._version, self.memo = own, version, {}
            self._checked, memo = now, self.memo
        if len(memo) >= DERIVED_SIZE:
            memo.clear()
        return memo


def derived(db: sqlite_utils.Database, now: float | None = None) -> dict[Any, Any]:
    """Return what has been worked out from ``db``'s data as it is now (see ``Derived``); a
    connection not opened by ``Connections`` looks at its data's version at every call.

    ``now`` is a ``time.monotonic()`` reading (default: the current one)."""
    held: Derived | None = vars(db).get(_DERIVED)
    if held is None:
        held = vars(db)[_DERIVED] = Derived()
    return held.current(db, time.monotonic() if now is None else now)


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
    check = app.config["CHANGE_CHECK_MS"] / 1000
    app.extensions["hotline_bridge.db"] = Connections(app.config["DATABASE"], check)
