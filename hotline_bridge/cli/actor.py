"""Who runs a command that changes the directory, as the audit log names them.

``--as EMAIL`` names the staff account of the person at the keyboard; without it, the system
user running the command is named. Either way the log reads "command line (...)", and the
console lets nobody approve a change they asked for at the command line.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from typing import Any

import click
import sqlite_utils

from hotline_bridge.console import store


def as_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--as EMAIL`` to a command that writes."""
    return click.option(
        "--as",
        "as_email",
        metavar="EMAIL",
        help="The staff account of who runs this, for the audit log (else the system user).",
    )(command)


def actor(db: sqlite_utils.Database, as_email: str | None) -> str:
    """Return how the audit log names who runs the command (``--as`` must name an account
    that can sign in)."""
    if as_email:
        account = store.staff_by_email(db, as_email)
        if account is None or account.disabled:
            raise click.UsageError(f"--as {as_email}: no staff account that can sign in")
        return store.by_command_line(account.email)
    return store.by_command_line(_system_user())


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's user with no name
        return f"uid {os.getuid()}"
