"""``hotline-bridge services``: list, show, edit, retire and delete one local service at a time.

An edit is checked exactly as an import row is (the same checks, the same reasons), and is
written the same way, so a service kept from the command line and one kept in a spreadsheet
end up alike. Every write confirms the service on that day.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any

import click
import sqlite_utils
from flask import current_app

from hotline_bridge.cli.actor import actor, as_option
from hotline_bridge.cli.directory import context
from hotline_bridge.cli.guard import guard_for
from hotline_bridge.cli.offline import with_offline_app
from hotline_bridge.console import store as console_store
from hotline_bridge.directory.importer import Batch, as_file_row
from hotline_bridge.directory.store import SERVICE_TEXTS, STATUSES, open_db, text_column, with_texts
from hotline_bridge.directory.validation import COLUMN_ALIASES, SERVICE_COLUMNS, check_service
from hotline_bridge.directory.writing import Plan, retire, write


@click.group("services")
def services() -> None:
    """Keep the local directory one service at a time (national lines are not changed here)."""


@services.command("list")
@click.option("--site", help="Only services shown at this site.")
@click.option("--status", type=click.Choice(STATUSES), help="Only services with this status.")
@with_offline_app
def list_command(site: str | None, status: str | None) -> None:
    """List local services: id, status, category, last confirmed, sites and name; a
    confidential place (its address never given out) says so."""
    with open_db(current_app) as db:
        rows = list(_listing(db, site, status))
    for row in rows:
        click.echo(
            f"{row['id']}  {row['status']}  {row['category']}  confirmed "
            f"{row['confirmed'] or 'never'}  at {row['sites'] or '-'}  {row['name_en']}"
            + ("  (confidential address)" if row["confidential"] else "")
        )
    click.echo(f"{len(rows)} service(s)")


def _listing(
    db: sqlite_utils.Database, site: str | None, status: str | None
) -> Iterator[dict[str, Any]]:
    sql = """
        select s.id, s.status, s.category, s.confirmed, s.confidential,
               (select name from service_texts where service_id = s.id and language = 'en')
                   as name_en,
               (select group_concat(site_id, ';') from
                   (select site_id from service_sites where service_id = s.id order by 1)) as sites
        from services s
        where s.national = 0 and (:status is null or s.status = :status)
          and (:site is null or exists
               (select 1 from service_sites l where l.service_id = s.id and l.site_id = :site))
        order by s.id
    """
    yield from db.query(sql, {"site": site, "status": status})


@services.command("show")
@click.argument("service_id")
@with_offline_app
def show_command(service_id: str) -> None:
    """Show every value of one local service, as its import row."""
    with open_db(current_app) as db:
        raw = _as_row(db, service_id)
        stored = db.execute(
            "select status, confirmed, source from services where id = ?", [service_id]
        ).fetchone()
    for name in (*SERVICE_COLUMNS, *(c for c in raw if c not in SERVICE_COLUMNS)):
        click.echo(f"{name}: {raw.get(name, '')}")
    click.echo(f"confirmed: {stored[1] or 'never'}\nsource: {stored[2] or ''}")


def _as_row(db: sqlite_utils.Database, service_id: str) -> dict[str, str]:
    """Return a local service as the row of a services file that would import it as it is."""
    rows = list(db.query("select * from services where id = ? and national = 0", [service_id]))
    rows = with_texts(db, rows)
    if not rows:
        raise click.ClickException(f"{service_id}: no local service has this id")
    sites = db.execute(
        "select site_id from service_sites where service_id = ? order by 1", [service_id]
    ).fetchall()
    stored = as_file_row(rows[0])
    raw = {name: _cell(value) for name, value in stored.items() if _is_column(name)}
    raw["site"] = ";".join(site for (site,) in sites)
    return raw


def _is_column(name: str) -> bool:
    """A services file's column: the named ones, or words in any language (``name_fr``)."""
    return name in SERVICE_COLUMNS or text_column(name, SERVICE_TEXTS) is not None


def _cell(value: object) -> str:
    return "" if value is None else str(value)


@services.command("edit")
@click.argument("service_id")
@click.option(
    "--set",
    "changes",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="A new value, in the column names and forms of a services file (repeatable).",
)
@as_option
@with_offline_app
def edit_command(service_id: str, changes: tuple[str, ...], as_email: str | None) -> None:
    """Change values of one local service, checked as an import row is; with no --set, confirm
    it as it is (say that its provider confirmed it today). A new number, or words that hold
    one or a web address, wait for a second person's approval in the console."""
    with open_db(current_app) as db:
        who = actor(db, as_email)
        raw = {**_as_row(db, service_id), **_parse_changes(changes)}
        row, links, problems = check_service(raw, context(db))
        for problem in problems:
            click.echo(f"{service_id}: {problem.field}: {problem.reason}", err=True)
        if row is None or problems:
            click.echo("Nothing changed.", err=True)
            sys.exit(1)
        batch = Batch(services=[row], links={row["id"]: links})
        at = dt.datetime.now(dt.UTC)
        with db.atomic():
            changed = write(
                db,
                batch,
                source="services edit",
                today=at.date(),
                complete=False,
                guard=guard_for(db, who, at, audit_confirmed=True),
            )
            waiting = _asked_since(db, service_id, at)
    for name in waiting:
        click.echo(f"waits for approval in the console: {service_id} {name}")
    click.echo(f"{'changed' if changed.changed else 'confirmed'}: {service_id}")


def _asked_since(db: sqlite_utils.Database, service_id: str, at: dt.datetime) -> list[str]:
    sql = """select field from pending_changes where service_id = ? and status = 'waiting'
             and requested_at >= ? order by id"""
    return [row[0] for row in db.execute(sql, [service_id, console_store.stamp(at)])]


def _parse_changes(changes: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for change in changes:
        name, sep, value = change.partition("=")
        name = COLUMN_ALIASES.get(name.strip(), name.strip())
        if not sep or not _is_column(name) or name == "id":
            known = ", ".join(c for c in SERVICE_COLUMNS if c != "id")
            raise click.BadParameter(f"{change!r}: use COLUMN=VALUE with one of {known}")
        parsed[name] = value
    return parsed


@services.command("retire")
@click.argument("service_id")
@as_option
@with_offline_app
def retire_command(service_id: str, as_email: str | None) -> None:
    """Stop offering one local service, keeping it to restore (services restore)."""
    with open_db(current_app) as db:
        who = actor(db, as_email)
        _as_row(db, service_id)
        status = db.execute("select status from services where id = ?", [service_id]).fetchone()
        with db.atomic():
            retire(db, Plan(retired=[service_id]))
            console_store.record(
                db,
                dt.datetime.now(dt.UTC),
                who,
                "service retired",
                service_id,
                before={"status": status[0]},
                after={"status": "retired"},
            )
    click.echo(f"retired: {service_id}")


@services.command("restore")
@click.argument("service_id")
@as_option
@with_offline_app
def restore_command(service_id: str, as_email: str | None) -> None:
    """Offer a retired local service again (held, not offered, while none of its numbers was
    ever approved and some wait for approval in the console)."""
    with open_db(current_app) as db:
        who = actor(db, as_email)
        _as_row(db, service_id)
        status = db.execute("select status from services where id = ?", [service_id]).fetchone()
        if status[0] != "retired":
            raise click.ClickException(f"{service_id}: not retired (it is {status[0]})")
        with db.atomic():
            restored = console_store.restored_status(db, service_id)
            db.execute("update services set status = ? where id = ?", [restored, service_id])
            console_store.record(
                db,
                dt.datetime.now(dt.UTC),
                who,
                "service restored",
                service_id,
                before={"status": "retired"},
                after={"status": restored},
            )
    click.echo(f"{'restored' if restored == 'active' else 'held for approval'}: {service_id}")


@services.command("delete")
@click.argument("service_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@as_option
@with_offline_app
def delete_command(service_id: str, yes: bool, as_email: str | None) -> None:
    """Remove one local service from the directory for good."""
    with open_db(current_app) as db:
        who = actor(db, as_email)
        row = _as_row(db, service_id)
        if not yes:
            click.confirm(f"Delete {service_id} for good?", abort=True)
        with db.atomic():
            db.execute(
                "update pending_changes set status = 'withdrawn' where service_id = ? "
                "and status = 'waiting'",
                [service_id],
            )
            before = {"name_en": row.get("name_en"), "site": row.get("site")}
            console_store.record(
                db, dt.datetime.now(dt.UTC), who, "service deleted", service_id, before=before
            )
            db.execute("delete from service_sites where service_id = ?", [service_id])
            db.execute("delete from service_texts where service_id = ?", [service_id])
            db.execute("delete from services where id = ? and national = 0", [service_id])
    click.echo(f"deleted: {service_id}")


def init_cli(group: click.Group) -> None:
    """Add ``services`` to the ``hotline-bridge`` command."""
    group.add_command(services)
