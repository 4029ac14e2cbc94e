"""``hotline-bridge import`` and ``hotline-bridge export``: the clinic's directory in and out.

``import`` takes a services CSV, a sites CSV (told apart by their columns) or an Open Referral
HSDS 3.0 package folder. It checks everything first and reports each problem as
``FILE:LINE: field: reason``; by default any problem means nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import click
import sqlite_utils
from flask import current_app

from hotline_bridge.cli.actor import actor, as_option
from hotline_bridge.cli.guard import audit_plan, guard_for
from hotline_bridge.cli.offline import with_offline_app
from hotline_bridge.console import changes as approvals
from hotline_bridge.console import store as console_store
from hotline_bridge.console.services import request_number_change
from hotline_bridge.directory import hsds
from hotline_bridge.directory.csvfile import FileProblem, Problem, guard_cell, header, read_rows
from hotline_bridge.directory.importer import (
    Batch,
    check_services_csv,
    check_sites_csv,
    exported_row,
    kind_of,
)
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import (
    SERVICE_TEXTS,
    moved_once,
    open_db,
    text_column,
    with_texts,
)
from hotline_bridge.directory.validation import CATEGORIES, SERVICE_COLUMNS, SITE_COLUMNS, Context
from hotline_bridge.directory.writing import Plan, Writer, write_in_transaction
from hotline_bridge.runtime import import_context

# Files with more rows than this show a progress bar while they are checked.
PROGRESS_FROM_ROWS = 1000


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows; report the rest.")
@click.option("--dry-run", is_flag=True, help="Only check and report; change nothing.")
@click.option(
    "--replace",
    is_flag=True,
    help="The file is the whole directory of the sites it names: retire their services it "
    "leaves out (see them first, by name, with --dry-run --replace).",
)
@click.option("--add-only", is_flag=True, hidden=True)  # the default now; older scripts run on
@click.option(
    "--if-empty",
    is_flag=True,
    help="Import only into a directory with no local services yet (how make run loads the "
    "demo), so running it again keeps every change made since.",
)
@click.option("--site", help="Open Referral packages: the site that shows the services.")
@click.option(
    "--category",
    type=click.Choice(CATEGORIES),
    help="Open Referral packages: category of services whose own cannot be told.",
)
@as_option
@with_offline_app
def import_command(
    path: Path,
    skip_invalid: bool,
    dry_run: bool,
    replace: bool,
    add_only: bool,
    if_empty: bool,
    site: str | None,
    category: str | None,
    as_email: str | None,
) -> None:
    """Load services or sites from FILE.csv, or an Open Referral HSDS 3.0 package from DIR.

    Rows are matched by id, so importing the same file again changes nothing. A file adds and
    changes what it holds and retires nothing, unless --replace says it is the whole directory
    of the sites it names (--dry-run lists what would be added, changed and retired). As in
    the console, a changed number, or words that hold one or a web address, wait for a second
    person's approval in the console, and every change is in the audit log (--as EMAIL names
    who ran it). Sites (columns id, name_en, name_es, default_language, time_zone, zip,
    numbers, keywords, exit_url, exit_url_confirmed, ...) must be imported before the services
    that name them.
    """
    if replace and add_only:
        raise click.UsageError("--replace and --add-only say opposite things; give one")
    with open_db(current_app) as db:
        who = actor(db, as_email)
        if if_empty and _has_local_services(db):
            click.echo(f"Kept the directory as it is (it has local services): {path.name}")
            return
        today, at = dt.date.today(), dt.datetime.now(dt.UTC)
        before = _sites_now(db)
        writer = Writer(
            db, source=path.name, today=today, complete=replace, guard=guard_for(db, who, at)
        )
        asked: list[tuple[str, str]] = []
        try:
            with db.atomic(), moved_once(db):
                batch = _check(path, context(db), writer, today=today, site=site, category=category)
                changes = write_in_transaction(db, batch, writer)
                _guard_sites(db, at, who, batch, before)
                audit_plan(db, at, who, changes, path.name)
                asked = _asked(db, who, at)
                if dry_run or (batch.problems and not skip_invalid):
                    raise _Undo  # nothing is kept: a dry run, or problems not to be skipped
        except _Undo:
            pass
        except sqlite3.Error as exc:
            raise click.ClickException(
                f"Nothing imported: the database refused the write ({exc}); everything was "
                "rolled back. Free disk space or close the program holding the database, then "
                "try again."
            ) from None
    _echo_problems([*batch.warnings, *batch.problems])
    for service_id in writer.kept.retired:
        click.echo(f"kept (not in the file; --replace retires it): {service_id}")
    for service_id, shown_at in writer.kept.unlinked:
        click.echo(f"kept at {shown_at} (not in the file; --replace takes it off): {service_id}")
    verb = "would wait" if dry_run or batch.problems else "waits"
    for target, name in asked:
        click.echo(f"{verb} for approval in the console: {target} {name}")
    _outcome(batch, changes, dry_run=dry_run, skip_invalid=skip_invalid)


def _asked(db: sqlite_utils.Database, who: str, at: dt.datetime) -> list[tuple[str, str]]:
    """Return the changes this import asked a second person for (service or site, field)."""
    sql = """select service_id, field from pending_changes where status = 'waiting'
             and requested_by = ? and requested_at >= ? order by id"""
    return [(row[0], row[1]) for row in db.execute(sql, [who, console_store.stamp(at)])]


def _has_local_services(db: sqlite_utils.Database) -> bool:
    return db.execute("select 1 from services where national = 0 limit 1").fetchone() is not None


def _guard_sites(
    db: sqlite_utils.Database,
    at: dt.datetime,
    who: str,
    batch: Batch,
    before: Mapping[str, Mapping[str, object]],
) -> None:
    """Audit each site written, and keep back a program name holding a number or web address
    until a second person approves it in the console."""
    for row in batch.sites:
        old = before.get(row["id"], {})
        for name, (was, wanted) in approvals.site_guarded(old, row).items():
            target = approvals.site_target(row["id"])
            approvals.put(db, target, name, was)
            request_number_change(db, at, who, row["id"], target, name, was, wanted)
        after = {k: v for k, v in row.items() if v not in (None, "", [])}
        console_store.record(db, at, who, "site imported", row["id"], site=row["id"], after=after)


def _sites_now(db: sqlite_utils.Database) -> dict[str, dict[str, object]]:
    rows = with_texts(db, list(db.query("select * from sites")), sites=True)
    return {row["id"]: row for row in rows}


class _Undo(Exception):
    """Raised to roll back an import that must not be kept."""


def _echo_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


def _outcome(batch: Batch, changes: Plan, *, dry_run: bool, skip_invalid: bool) -> None:
    if dry_run:
        _report(changes)
        _summary(batch, "checked (dry run, nothing written)")
        sys.exit(1 if batch.problems else 0)
    if batch.problems and not skip_invalid:
        click.echo(
            f"Nothing imported: {len(batch.problems)} problem(s). Fix them, or use "
            "--skip-invalid to import the valid rows.",
            err=True,
        )
        sys.exit(1)
    _report(changes)
    _summary(batch, "imported")


def _report(changes: Plan) -> None:
    lines = changes.lines()
    # A thousand lines a write, not one (an import may add 200,000), nor all at once.
    while chunk := list(itertools.islice(lines, 1000)):
        click.echo("\n".join(chunk))


def context(db: sqlite_utils.Database) -> Context:
    """Return the checking context of the current app: its sites, national lines and words,
    and the SMS budget every service's details must fit."""
    return import_context(db)


def _check(
    path: Path,
    ctx: Context,
    writer: Writer,
    *,
    today: dt.date,
    site: str | None,
    category: str | None,
) -> Batch:
    if path.is_dir():
        if not hsds.is_package(path):
            english = "not an Open Referral package (no datapackage.json)"
            return _refused(path.name, Reason("not_package_folder", english))
        return hsds.check_package(path, ctx, today=today, site=site, category=category)
    try:
        kind = kind_of(header(path))
    except FileProblem as exc:
        return Batch(problems=[exc.problem])
    if kind is None:
        english = "not a services file (id, category, name_en, ...) or a sites file (id, time_zone)"
        return _refused(path.name, Reason("not_directory", english))
    if kind == "services":
        return check_services_csv(path, ctx, _with_progress(path), sink=writer)
    return check_sites_csv(path, ctx, _with_progress(path))


def _refused(name: str, reason: Reason) -> Batch:
    return Batch(problems=[Problem(name, 1, "file", reason)])


def _with_progress(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    """Return the file's rows, behind a progress bar when the file is large."""
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle) - 1
    if lines <= PROGRESS_FROM_ROWS:
        return read_rows(path)
    return _progress(read_rows(path), lines)


def _progress(
    rows: Iterator[tuple[int, dict[str, str]]], length: int
) -> Iterator[tuple[int, dict[str, str]]]:
    with click.progressbar(rows, length=length, label="Checking", file=sys.stderr) as bar:
        yield from bar


def _summary(batch: Batch, verb: str) -> None:
    what = "sites" if batch.sites else "services"
    click.echo(
        f"{batch.valid} of {batch.rows} {what} {verb}; {len(batch.problems)} problem(s) reported."
    )


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "sites", "hsds"]),
    default="csv",
    show_default=True,
    help="csv: services as the simple CSV; sites: the sites CSV; hsds: an HSDS 3.0 package.",
)
@click.argument("path", type=click.Path(path_type=Path))
@with_offline_app
def export_command(fmt: str, path: Path) -> None:
    """Write the local directory (not the national lines) to PATH (a folder for hsds)."""
    with open_db(current_app) as db:
        if fmt == "hsds":
            count = hsds.export(db, path)
        elif fmt == "sites":
            count = export_sites(db, path)
        else:
            count = export_services(db, path)
    click.echo(f"Exported {count} {'sites' if fmt == 'sites' else 'services'} to {path}")


def export_services(db: sqlite_utils.Database, path: Path) -> int:
    """Write the local services as the simple CSV that ``import`` reads back; return the count."""
    sql = """
        select s.*, (select group_concat(site_id, ';') from
                       (select site_id from service_sites where service_id = s.id order by 1)
                    ) as site
        from services s where s.national = 0 order by s.id
    """
    # A confidential place's street and coordinates never leave the database.
    rows = [exported_row(row) for row in with_texts(db, list(db.query(sql)))]
    return _write_csv(path, _with_languages(SERVICE_COLUMNS, rows), rows)


def export_sites(db: sqlite_utils.Database, path: Path) -> int:
    """Write the sites as the sites CSV that ``import`` reads back; return the count."""
    rows = [
        {
            **row,
            "numbers": ";".join(json.loads(row["numbers"] or "[]")),
            "keywords": ";".join(json.loads(row["keywords"] or "[]")),
        }
        for row in with_texts(db, list(db.query("select * from sites order by id")), sites=True)
    ]
    return _write_csv(path, _with_languages(SITE_COLUMNS, rows), rows)


def _with_languages(columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> list[str]:
    """The file's columns, and after them the words of any language beyond English and
    Spanish that the directory has (``name_fr``, ...)."""
    more = [name for name in (rows[0] if rows else {}) if name not in columns]
    return [*columns, *(name for name in more if text_column(name, SERVICE_TEXTS))]


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, object]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else guard_cell(str(v)) for k, v in row.items()})
            count += 1
    return count


def init_cli(group: click.Group) -> None:
    """Add the directory commands to the ``hotline-bridge`` command."""
    group.add_command(import_command)
    group.add_command(export_command)
