"""Writing a checked batch to SQLite: in one transaction, replacing services with the same id,
and saying what changed (``Plan``).

Services are written a chunk at a time (``Writer``), so an import of any size holds one chunk
in memory; the caller holds the transaction and rolls it all back when the file had problems
or it was a dry run, so nothing is ever half-written.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from hotline_bridge.directory.importer import Batch
from hotline_bridge.directory.store import (
    CHUNK,
    SERVICE_TEXTS,
    moved_once,
    text_column,
    with_texts,
    write_package_rows,
    write_services,
    write_sites,
)
from hotline_bridge.directory.validation import SERVICE_FIELDS


@dataclass
class Plan:
    """What writing a batch changes: services added, changed and retired, and services that
    stay at other sites but are no longer shown at one the file covers."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unlinked: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        """Yield one line per change, for staff to read before (or after) it happens."""
        yield from (f"added: {sid}" for sid in self.added)
        yield from (f"changed: {sid}" for sid in self.changed)
        yield from (f"retired: {sid}" for sid in self.retired)
        yield from (f"retired at {site}: {sid}" for sid, site in self.unlinked)


# Given a checked service, the stored one (None if new) and the sites that show it, return
# the row to write (see ``Writer``).
Guard = Callable[[dict[str, Any], dict[str, Any] | None, list[str]], dict[str, Any]]

# The columns compared to tell a changed service from one imported again as it was (its words
# in every language are compared too).
_COMPARED = SERVICE_FIELDS


class Writer:
    """Writes checked services a chunk at a time, noting what each chunk adds and changes, so
    an import of any size holds one chunk in memory. Call it inside a transaction: the caller
    commits, or rolls everything back when the file had problems or it was a dry run."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        source: str,
        today: dt.date,
        complete: bool,
        guard: Guard | None = None,
    ) -> None:
        self.db, self.source, self.day, self.complete = db, source, today.isoformat(), complete
        # What may be written of each row (the caller keeps back what waits for approval).
        self.guard = guard
        self.plan = Plan()
        self.kept = Plan()
        self.covers: set[str] = set()
        self._chunk: list[tuple[dict[str, Any], list[str]]] = []

    def add(self, row: dict[str, Any], links: list[str]) -> None:
        """Take one checked service and the sites that show it."""
        self._chunk.append((row, links))
        self.covers.update(links)
        if len(self._chunk) >= CHUNK:
            self._flush()

    def finish(self, batch: Batch) -> Plan:
        """Write what is left and, for a complete file, retire what its sites no longer list."""
        self._flush()
        # What the file leaves out is retired only from a complete file; otherwise it is kept,
        # and named so staff see what a complete file would retire.
        _absent(self.db, batch, self.covers, self.plan if self.complete else self.kept)
        retire(self.db, self.plan)
        return self.plan

    def _flush(self) -> None:
        if not self._chunk:
            return
        stored, links = _stored(self.db, [row["id"] for row, _links in self._chunk])
        for row, shown_at in self._chunk:
            old = stored.get(row["id"])
            if old is None:
                self.plan.added.append(row["id"])
            elif _differs(old, row) or links.get(row["id"], set()) != set(shown_at):
                self.plan.changed.append(row["id"])
        chunk = self._chunk
        if self.guard is not None:
            chunk = [(self.guard(row, stored.get(row["id"]), at), at) for row, at in chunk]
        rows = [
            {**row, "national": 0, "source": self.source, "confirmed": self.day}
            for row, _links in chunk
        ]
        write_services(self.db, rows)
        _write_links(self.db, {row["id"]: shown_at for row, shown_at in self._chunk})
        self._chunk = []


def _stored(
    db: sqlite_utils.Database, ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    marks = ", ".join("?" for _ in ids)
    rows = list(db.query(f"select * from services where id in ({marks})", ids))
    stored = {r["id"]: r for r in with_texts(db, rows)}
    links: dict[str, set[str]] = {}
    sql = f"select service_id, site_id from service_sites where service_id in ({marks})"
    for sid, site in db.execute(sql, list(ids)).fetchall():
        links.setdefault(sid, set()).add(site)
    return stored, links


def _differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    words = [name for name in new if text_column(name, SERVICE_TEXTS)]
    return any(old.get(name) != new.get(name) for name in (*_COMPARED, *words) if name in new)


def _absent(db: sqlite_utils.Database, batch: Batch, covers: set[str], result: Plan) -> None:
    """A file is the directory of the sites it names: their active local services it does not
    name are retired, or only taken off those sites when other sites still show them."""
    covers = covers | batch.covers
    if not covers:
        return
    sql = """
        select s.id, l.site_id from services s join service_sites l on l.service_id = s.id
        where s.national = 0 and s.status = 'active' order by s.id, l.site_id
    """
    # Read as it comes, one service at a time: the directory may hold any number.
    rows = db.execute(sql)
    for sid, links in itertools.groupby(rows, key=operator.itemgetter(0)):
        shown_at = [site for _sid, site in links]
        if sid in batch.named or not covers.intersection(shown_at):
            continue
        if covers.issuperset(shown_at):
            result.retired.append(sid)
        else:
            result.unlinked.extend((sid, site) for site in shown_at if site in covers)


def write(
    db: sqlite_utils.Database,
    batch: Batch,
    *,
    source: str,
    today: dt.date,
    complete: bool = True,
    guard: Guard | None = None,
) -> Plan:
    """Write a checked batch in one transaction, replacing rows with the same id and, for a
    ``complete`` batch, retiring what its sites no longer list; return what changed. The
    services written are confirmed on ``today``."""
    writer = Writer(db, source=source, today=today, complete=complete, guard=guard)
    with db.atomic(), moved_once(db):
        return write_in_transaction(db, batch, writer)


def write_in_transaction(db: sqlite_utils.Database, batch: Batch, writer: Writer) -> Plan:
    """``write``, inside a transaction the caller holds (and may roll back), through a
    ``writer`` that may already hold the services a streamed check gave it."""
    for site in batch.sites:
        values = {**site, "numbers": _json(site["numbers"]), "keywords": _json(site["keywords"])}
        write_sites(db, [values])
    for row in batch.services:
        writer.add(row, batch.links[row["id"]])
    write_package_rows(db, batch.package)
    return writer.finish(batch)


def retire(db: sqlite_utils.Database, changes: Plan) -> None:
    """Apply a plan's retirements: the status for services no site lists, the link for others."""
    for start in range(0, len(changes.retired), CHUNK):
        chunk = changes.retired[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        db.execute(f"update services set status = 'retired' where id in ({marks})", chunk)
    for sid, site in changes.unlinked:
        db.execute("delete from service_sites where service_id = ? and site_id = ?", [sid, site])


def _write_links(db: sqlite_utils.Database, links: Mapping[str, Sequence[str]]) -> None:
    ids = list(links)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        db.execute(
            f"delete from service_sites where service_id in ({', '.join('?' for _ in chunk)})",
            chunk,
        )
    db.conn.executemany(
        "insert or ignore into service_sites (service_id, site_id) values (?, ?)",
        [(sid, site) for sid, sites in links.items() for site in sites],
    )


def _json(values: Sequence[str]) -> str | None:
    return json.dumps(list(values)) if values else None
