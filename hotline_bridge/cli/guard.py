"""The command line's writes keep the console's rules: what needs a second person waits for
one (``console.changes``), and every change is in the audit log with who ran the command."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from hotline_bridge.console import changes, store
from hotline_bridge.console.services import (
    audit_change,
    held_row,
    request_held,
    request_number_change,
)
from hotline_bridge.directory.store import ACTIVE, DEFAULT_SITE, HELD
from hotline_bridge.directory.writing import Guard, Plan

# What staff call a service taken out (console.services.RETIRED).
RETIRED = "retired"


def site_for(links: Sequence[str]) -> str:
    """Return the site a change is asked for: the first clinic that shows the service."""
    return next((s for s in links if s != DEFAULT_SITE), links[0] if links else DEFAULT_SITE)


def has_staff(db: sqlite_utils.Database) -> bool:
    """Return whether any account could approve a change in the console."""
    return db.execute("select 1 from staff where disabled = 0 limit 1").fetchone() is not None


def guard_for(
    db: sqlite_utils.Database, who: str, at: dt.datetime, *, audit_confirmed: bool = False
) -> Guard:
    """Return the check every command-line write of a service goes through.

    A changed value that needs a second person keeps its old value and waits for approval in
    the console; other changes are written and audited (only what changed). A new service
    whose values need approval is held until they are decided, once anyone can approve them:
    a directory loaded before any account exists (the first load, the demo) goes live, and
    is audited as the import that loaded it.
    """
    approvers = has_staff(db)

    def check(row: dict[str, Any], old: dict[str, Any] | None, links: list[str]) -> dict[str, Any]:
        site = site_for(links)
        if old is None:
            if not approvers:
                return row
            saved = held_row(row)
            request_held(db, at, who, site, row, saved)
            return saved
        waiting = changes.waiting_values(db, row["id"])
        # A file giving the value in use (while another waits) asks for nothing.
        asked = {
            name: pair
            for name, pair in changes.guarded(old, row, waiting).items()
            if (old.get(name) or None) != (pair[1] or None)
        }
        kept = changes.kept_back(row, old, changes.unapproved(old, row))
        if old.get("status") == HELD:
            kept["status"] = HELD  # its waiting values decide when it is offered
        elif old.get("status") == RETIRED and kept.get("status") == ACTIVE:
            # Listed again: restored as the console restores, held while no number of it was
            # ever approved.
            kept["status"] = store.restored_status(db, row["id"])
        # One service confirmed by hand is a write to log; an import's are in its summary.
        confirmed = {"confirmed": at.date().isoformat()} if audit_confirmed else {}
        audit_change(db, at, who, site, old, {**kept, **confirmed})
        for name, (was, wanted) in asked.items():
            request_number_change(db, at, who, site, row["id"], name, was, wanted)
        return kept

    return check


def audit_plan(
    db: sqlite_utils.Database, at: dt.datetime, who: str, plan: Plan, source: str
) -> None:
    """Write an import's retirements and its summary to the audit log."""
    for service_id in plan.retired:
        before, after = {"status": "active"}, {"status": "retired"}
        store.record(db, at, who, "service retired", service_id, before=before, after=after)
    for service_id, site in plan.unlinked:
        store.record(db, at, who, "service retired", service_id, site=site, before={"sites": site})
    summary = {
        "file": source,
        "added": len(plan.added),
        "changed": len(plan.changed),
        "retired": len(plan.retired) + len(plan.unlinked),
    }
    store.record(db, at, who, "directory imported", source, after=summary)
