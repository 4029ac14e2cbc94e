"""``hotline-bridge backup`` and ``hotline-bridge restore``: the whole database, while it serves.

Neither command starts the app: a restore must work when the database is gone or broken, and
neither needs the server's secrets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from flask import Config

from hotline_bridge import settings
from hotline_bridge.console import store as console_store
from hotline_bridge.directory import store
from hotline_bridge.ops.backup import BackupError, Copied, backup, restore


def _environment() -> Config:
    config = Config(str(settings.PROJECT_ROOT))
    config.from_prefixed_env(prefix=settings.ENV_PREFIX)
    return config


def database_path() -> Path:
    """Return the database file named by the environment's settings (or the default)."""
    return settings.resolve_path(_environment().get("DATABASE", _default("DATABASE")))


def _default(name: str) -> str:
    return next(str(s.default) for s in settings.SETTINGS if s.name == name)


def _setting(name: str) -> Any:
    """Return one setting's value in effect, parsed as the app parses it (secrets unneeded)."""
    try:
        return settings.value_of(_environment(), name)
    except (TypeError, ValueError) as exc:
        raise click.ClickException(f"{settings.ENV_PREFIX}_{name}: {exc}") from None


def bring_up_to_date(database: Path) -> None:
    """Give a restored database this release's tables and the national lines in effect, as a
    server's start would: an older backup then answers at once, and a number flagged since it
    was made is withheld again."""
    store.initialize(database, _setting("CONFIRMED_LINES"), _setting("NATIONAL_OVERRIDES"))
    db = store.connect(database)
    try:
        console_store.apply(db)
    finally:
        db.close()


def _report(verb: str, copied: Copied) -> None:
    click.echo(
        f"{verb} {copied.path}: {copied.services} services, {copied.sites} sites, "
        f"{copied.tables} tables, integrity ok"
    )


@click.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
def backup_command(destination: Path) -> None:
    """Copy the live database to DESTINATION (a file, or a folder for a dated file).

    Safe while the server runs; the copy is checked before it takes its name. Run it on a
    schedule (deploy/hotline-bridge-backup.timer) and copy the files off the machine.
    """
    try:
        _report("Backed up to", backup(database_path(), destination, dt.datetime.now(dt.UTC)))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keep-counts",
    is_flag=True,
    help="Keep this database's own usage counts instead of the backup's: for an instance that "
    "takes the directory from another server's backup.",
)
def restore_command(backup_file: Path, keep_counts: bool) -> None:
    """Replace the database's contents with BACKUP_FILE, after checking it.

    Running servers answer from the restored directory at their next request: a backup made
    by an earlier release is given this release's tables, and the national lines in effect.
    A database that is unreadable is kept beside it as NAME.broken-TIME.
    """
    database = database_path()
    try:
        restored = restore(backup_file, database, keep_counts=keep_counts)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    bring_up_to_date(database)
    _report("Restored", restored)


def init_cli(group: click.Group) -> None:
    """Register the backup commands."""
    group.add_command(backup_command)
    group.add_command(restore_command)
