"""One-time links with which a person sets their own password, then their second factor: the
first admin's, printed by ``serve`` while no account exists, and a new colleague's, made by an
admin in the console.

Only a hash of a link's token is stored, so a copy of the database opens nothing. A link works
once and for a short time; the table has its own recorded migrations, apart from the console's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlite_utils
from sqlite_utils.migrations import Migrations

from hotline_bridge.console.store import parse_stamp, stamp

migrations = Migrations("hotline_bridge.console.links")

# How long the first admin's link works (it is printed where the server is started).
FIRST_ADMIN_VALID = dt.timedelta(minutes=30)
# How long a colleague's link works (an admin hands it over, in person or by message).
INVITATION_VALID = dt.timedelta(days=3)
# Where a link leads, under the console.
PATH = "/console/setup/"


@migrations()
def m001_setup_links(db: sqlite_utils.Database) -> None:
    """One-time links: for an account (a colleague's), or for none (the first admin's)."""
    db.table("setup_links").create(
        {"token_hash": str, "staff_id": int, "created": str, "expires": str, "used": str},
        pk="token_hash",
    )


def apply(db: sqlite_utils.Database) -> None:
    """Apply the links table's pending migrations."""
    migrations.apply(db)


@dataclass(frozen=True)
class Link:
    """A link that still works: for the account ``staff_id``, or (None) for the first admin."""

    token_hash: str
    staff_id: int | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_staff(db: sqlite_utils.Database) -> bool:
    """Return whether any staff account exists."""
    return db.execute("select 1 from staff limit 1").fetchone() is not None


def new_link(
    db: sqlite_utils.Database, now: dt.datetime, staff_id: int | None, valid: dt.timedelta
) -> str:
    """Make a link for ``staff_id`` (None: the first admin) and return its token. A new link
    ends the earlier unused ones for the same account, so only the newest one works."""
    token = secrets.token_urlsafe(32)
    with db.conn:
        db.execute("delete from setup_links where used is null and staff_id is ?", [staff_id])
        db.execute(
            "insert into setup_links (token_hash, staff_id, created, expires) values (?, ?, ?, ?)",
            [_hash(token), staff_id, stamp(now), stamp(now + valid)],
        )
    return token


def first_admin_link(db: sqlite_utils.Database, now: dt.datetime) -> str | None:
    """Return a fresh token for setting up the first admin, or None once an account exists."""
    if has_staff(db):
        return None
    return new_link(db, now, None, FIRST_ADMIN_VALID)


def find(db: sqlite_utils.Database, token: str, now: dt.datetime) -> Link | None:
    """Return the link ``token`` names if it is unused and unexpired (and, for the first
    admin's, while still no account exists); else None."""
    if not token:
        return None
    sql = "select staff_id, expires from setup_links where token_hash = ? and used is null"
    row = db.execute(sql, [_hash(token)]).fetchone()
    if row is None or parse_stamp(row[1]) <= now:
        return None
    if row[0] is None and has_staff(db):
        return None
    return Link(_hash(token), row[0])


def spend(db: sqlite_utils.Database, link: Link, now: dt.datetime) -> bool:
    """Mark ``link`` used; return False if it was used already (by a request at the same
    moment), so it works exactly once. Call inside the transaction that uses it."""
    cursor = db.execute(
        "update setup_links set used = ? where token_hash = ? and used is null",
        [stamp(now), link.token_hash],
    )
    return cursor.rowcount == 1


def end_links_of(db: sqlite_utils.Database, staff_id: int) -> None:
    """Delete the unused links of an account (it was disabled)."""
    db.execute("delete from setup_links where staff_id = ? and used is null", [staff_id])
