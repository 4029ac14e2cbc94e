"""``hotline-bridge backup`` and ``hotline-bridge restore``: the whole database, while it serves.

Neither command starts the app: a restore must work when the database is gone or broken, and
neither needs the server's secrets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Config

from hotline_bridge import settings
from hotline_bridge.ops.backup import BackupError, Copied, backup, restore


def database_path() -> Path:
    """Return the database file named by the environment's settings (or the default)."""
    config = Config(str(settings.PROJECT_ROOT))
    config.from_prefixed_env(prefix=settings.ENV_PREFIX)
    return settings.resolve_path(config.get("DATABASE", _default("DATABASE")))


def _default(name: str) -> str:
    return next(str(s.default) for s in settings.SETTINGS if s.name == name)


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
def restore_command(backup_file: Path) -> None:
    """Replace the database's contents with BACKUP_FILE, after checking it.

    Running servers answer from the restored directory at their next request. A database that
    is unreadable is kept beside it as NAME.broken-TIME.
    """
    try:
        _report("Restored", restore(backup_file, database_path()))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


def init_cli(group: click.Group) -> None:
    """Register the backup commands."""
    group.add_command(backup_command)
    group.add_command(restore_command)
