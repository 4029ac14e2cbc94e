"""The console's own tables: staff accounts, signed-in sessions, sign-in failures, the audit log
and the number changes that wait for a second person.

Everything here is about clinic staff and their work, never about the people who reach out. The
tables have their own recorded migrations, named apart from the directory's, so the two never
collide and each is safe to re-run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from hotline_bridge.directory.store import ACTIVE, HELD

migrations = Migrations("hotline_bridge.console")

# How the audit log names changes made from the server's command line; with the person who ran
# it, "command line (ana@clinic.example)" (a staff account named with --as) or the system user.
COMMAND_LINE = "command line"


def by_command_line(person: str) -> str:
    """Return how the audit log names ``person`` working at the command line."""
    return f"{COMMAND_LINE} ({person})"


def person_of(name: str) -> str:
    """Return the person behind an audit log name (the one inside "command line (...)"), so
    nobody approves at one door what they asked for at the other."""
    prefix = COMMAND_LINE + " ("
    if name.startswith(prefix) and name.endswith(")"):
        return name[len(prefix) : -1]
    return name


@migrations()
def m001_console(db: sqlite_utils.Database) -> None:
    """Staff, sessions, sign-in failures, audit log and pending number changes."""
    db.table("staff").create(
        {
            "id": int,
            "email": str,
            "password_hash": str,
            "site": str,
            "admin": int,
            "totp_secret": str,
            "totp_confirmed": int,
            "totp_last_step": int,
            "disabled": int,
            "failures": int,
            "locked": int,
            "created": str,
        },
        pk="id",
        not_null={"email", "password_hash", "admin", "disabled", "failures", "locked"},
        defaults={"admin": 0, "disabled": 0, "failures": 0, "locked": 0, "totp_confirmed": 0},
    )
    db.table("staff").create_index(["email"], unique=True)
    db.table("console_sessions").create(
        {
            "token_hash": str,
            "staff_id": int,
            "stage": str,
            "created": str,
            "last_seen": str,
            "verified": str,
            "trial": str,  # dropped by m002
        },
        pk="token_hash",
        foreign_keys=[("staff_id", "staff", "id")],
    )
    db.table("signin_failures").create({"key": str, "at": str})
    db.table("signin_failures").create_index(["key", "at"])
    db.table("audit_log").create(
        {
            "id": int,
            "at": str,
            "staff": str,
            "site": str,
            "action": str,
            "target": str,
            "before": str,
            "after": str,
        },
        pk="id",
    )
    db.table("pending_changes").create(
        {
            "id": int,
            "service_id": str,
            "site": str,
            "field": str,
            "old": str,
            "new": str,
            "requested_by": str,
            "requested_at": str,
            "decided_by": str,
            "decided_at": str,
            "status": str,
        },
        pk="id",
        not_null={"service_id", "field", "requested_by", "requested_at", "status"},
    )
    db.table("pending_changes").create_index(["status", "site"])
    db.table("uploads").create(
        {"id": str, "staff_id": int, "site": str, "name": str, "content": bytes, "created": str},
        pk="id",
    )


@migrations()
def m002_no_trial_text(db: sqlite_utils.Database) -> None:
    """Drop what "try the line" kept of staff's typing: it now lives in a cookie only."""
    db.table("console_sessions").transform(drop={"trial"})


def apply(db: sqlite_utils.Database) -> None:
    """Apply the console's pending migrations."""
    migrations.apply(db)


def stamp(now: dt.datetime) -> str:
    """Return ``now`` as the UTC text every console table stores."""
    return now.astimezone(dt.UTC).isoformat(timespec="seconds")


def parse_stamp(text: str) -> dt.datetime:
    """Read back a stored time."""
    return dt.datetime.fromisoformat(text)


@dataclass(frozen=True)
class Staff:
    """One staff account."""

    id: int
    email: str
    site: str | None
    admin: bool
    totp_secret: str | None
    totp_confirmed: bool
    totp_last_step: int | None
    disabled: bool
    failures: int
    locked: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Staff:
        return cls(
            id=row["id"],
            email=row["email"],
            site=row["site"],
            admin=bool(row["admin"]),
            totp_secret=row["totp_secret"],
            totp_confirmed=bool(row["totp_confirmed"]),
            totp_last_step=row["totp_last_step"],
            disabled=bool(row["disabled"]),
            failures=row["failures"],
            locked=bool(row["locked"]),
        )

    def may_see(self, site: str | None) -> bool:
        """Return whether this account may read and change ``site``."""
        return self.admin or (site is not None and site == self.site)


def staff_by_email(db: sqlite_utils.Database, email: str) -> Staff | None:
    """Return the account with ``email`` (compared without case), or None."""
    rows = list(db.query("select * from staff where email = ?", [email.strip().lower()]))
    return Staff.from_row(rows[0]) if rows else None


def staff_by_id(db: sqlite_utils.Database, staff_id: int) -> Staff | None:
    """Return the account ``staff_id``, or None."""
    rows = list(db.query("select * from staff where id = ?", [staff_id]))
    return Staff.from_row(rows[0]) if rows else None


def password_hash(db: sqlite_utils.Database, staff_id: int) -> str:
    """Return the stored password hash of ``staff_id``."""
    return str(db.execute("select password_hash from staff where id = ?", [staff_id]).fetchone()[0])


def update_staff(db: sqlite_utils.Database, staff_id: int, **values: Any) -> None:
    """Change columns of one account."""
    db.table("staff").update(staff_id, values)


def record(
    db: sqlite_utils.Database,
    now: dt.datetime,
    who: str,
    action: str,
    target: str,
    *,
    site: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Write one entry to the audit log: who did what to what, when, from what to what."""
    db.table("audit_log").insert(
        {
            "at": stamp(now),
            "staff": who,
            "site": site,
            "action": action,
            "target": target,
            "before": json.dumps(dict(before), sort_keys=True) if before is not None else None,
            "after": json.dumps(dict(after), sort_keys=True) if after is not None else None,
        }
    )


def audit_entries(
    db: sqlite_utils.Database, site: str | None, limit: int = 200
) -> list[dict[str, Any]]:
    """Return the newest audit entries of ``site`` (every site when None)."""
    where, params = ("where site = ?", [site]) if site else ("", [])
    sql = f"select * from audit_log {where} order by id desc limit {int(limit)}"
    entries = []
    for row in db.query(sql, params):
        row["before"] = json.loads(row["before"]) if row["before"] else None
        row["after"] = json.loads(row["after"]) if row["after"] else None
        entries.append(row)
    return entries


def waiting_changes(db: sqlite_utils.Database, site: str | None = None) -> list[dict[str, Any]]:
    """Return the number changes that wait for approval (of ``site``, or of every site), each
    with its service's status (``held`` for a new service not yet offered)."""
    where, params = ("and p.site = ?", [site]) if site else ("", [])
    sql = f"""select p.*, s.status as service_status from pending_changes p
              left join services s on s.id = p.service_id
              where p.status = 'waiting' {where} order by p.id"""
    return list(db.query(sql, params))


# The columns of a service that send a person somewhere.
NUMBER_COLUMNS = ("phone", "sms", "tty")


def _waits(db: sqlite_utils.Database, service_id: str) -> bool:
    sql = "select 1 from pending_changes where service_id = ? and status = 'waiting' limit 1"
    return db.execute(sql, [service_id]).fetchone() is not None


def _numbers_and_status(db: sqlite_utils.Database, service_id: str) -> tuple[bool, str] | None:
    sql = f"select status, {', '.join(NUMBER_COLUMNS)} from services where id = ?"
    found = db.execute(sql, [service_id]).fetchone()
    return None if found is None else (any(found[1:]), found[0])


def _ready(db: sqlite_utils.Database, service_id: str, has_number: bool) -> bool:
    """Return whether a held service may be offered: it was held for values asked for here, it
    has an English name (one that held a number may have been turned down) and, if numbers
    were asked for, one was approved."""
    named = db.execute(
        "select 1 from service_texts where service_id = ? and language = 'en' and name != ''",
        [service_id],
    ).fetchone()
    asked = {
        row[0]
        for row in db.execute(
            "select distinct field from pending_changes where service_id = ?", [service_id]
        )
    }
    # Held for something asked here (not a file's own "held"), and not for numbers all refused.
    numbers_refused = bool(asked.intersection(NUMBER_COLUMNS)) and not has_number
    return named is not None and bool(asked) and not numbers_refused


def settle(db: sqlite_utils.Database, service_id: str) -> bool:
    """Offer a held service once nothing of it waits and at least one of its numbers was
    approved (a service whose every number was turned down stays held, as does one whose name
    was); return whether it went live.

    A held service's row only ever carries approved values: the proposed ones wait in
    ``pending_changes``, so no path that forgets the status can hand out an unapproved number.
    """
    found = _numbers_and_status(db, service_id)
    if found is None or found[1] != HELD or _waits(db, service_id):
        return False
    if not _ready(db, service_id, found[0]):
        return False
    db.execute("update services set status = ? where id = ?", [ACTIVE, service_id])
    return True


def restored_status(db: sqlite_utils.Database, service_id: str) -> str:
    """Return the status a retired service comes back with: held while it has no approved
    number and some number of it waits for a second person, else active."""
    found = _numbers_and_status(db, service_id)
    if found is not None and not found[0] and _waits(db, service_id):
        return HELD
    return ACTIVE
