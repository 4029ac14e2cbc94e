"""``hotline-bridge staff``: create, list, disable, enable and unlock clinic console accounts,
and reset an account's second factor: what an admin does in the console's accounts page, from the
server's shell, audited as the command line.

The password is read from standard input (never from the command line, where other users and the
shell history could see it) and checked as the console checks a new one.
"""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from hotline_bridge.console import accounts, auth, links, passwords, store
from hotline_bridge.directory.store import open_db

CLI = store.COMMAND_LINE


@click.group()
def staff() -> None:
    """Clinic console accounts: add, list, disable, enable, unlock, reset-factor."""


def _password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@staff.command("add")
@click.argument("email")
@click.option("--site", default=None, help="The site this account keeps (site staff).")
@click.option("--admin", is_flag=True, help="An administrator: every site, and site settings.")
@with_appcontext
def add(email: str, site: str | None, admin: bool) -> None:
    """Create an account; the password is read from standard input."""
    if admin == bool(site):
        raise click.UsageError("give exactly one of --site SITE or --admin")
    email = email.strip().lower()
    if "@" not in email:
        raise click.UsageError(f"{email!r} is not an email address")
    password = _password()
    problem = passwords.problem(password, email)
    if problem:
        raise click.ClickException(passwords.english(problem))
    now = dt.datetime.now(dt.UTC)
    with open_db(current_app) as db:
        if site and not db.execute("select 1 from sites where id = ?", [site]).fetchone():
            raise click.ClickException(f"no site {site!r} (import it first)")
        if store.staff_by_email(db, email):
            raise click.ClickException(f"{email} already has an account")
        with db.conn:
            db.table("staff").insert(
                {
                    "email": email,
                    "password_hash": auth.hash_password(password),
                    "site": site,
                    "admin": int(admin),
                    "created": store.stamp(now),
                }
            )
            store.record(
                db,
                now,
                CLI,
                "account added",
                email,
                site=site,
                after={"site": site, "admin": admin},
            )
    click.echo(
        f"{email} added ({'admin' if admin else 'site ' + str(site)}); "
        "a one-time-code app is set up at first sign-in."
    )


@staff.command("list")
@with_appcontext
def list_staff() -> None:
    """List every account with its site and state."""
    with open_db(current_app) as db:
        rows = list(db.query("select * from staff order by email"))
    if not rows:
        click.echo("No accounts yet.")
    for row in rows:
        account = store.Staff.from_row(row)
        state = "disabled" if account.disabled else "locked" if account.locked else "active"
        if not row["password_hash"] and state == "active":
            state = "invited"  # added in the console; the password is set from a link
        where = "admin" if account.admin else f"site {account.site}"
        code = "code set up" if account.totp_confirmed else "no code yet"
        click.echo(f"{account.email:32} {where:24} {state:9} {code}")


def _change(email: str, action: str, **values: object) -> None:
    now = dt.datetime.now(dt.UTC)
    with open_db(current_app) as db:
        account = store.staff_by_email(db, email)
        if account is None:
            raise click.ClickException(f"no account {email}")
        with db.conn:
            store.update_staff(db, account.id, **values)
            auth.end_sessions_of(db, account.id)
            if values.get("disabled"):
                links.end_links_of(db, account.id)
            # The secret itself is never written to the audit log.
            shown = {k: v for k, v in values.items() if k != "totp_secret"}
            store.record(db, now, CLI, action, account.email, site=account.site, after=shown)
    click.echo(f"{account.email}: {action}")


@staff.command("disable")
@click.argument("email")
@with_appcontext
def disable(email: str) -> None:
    """Stop an account from signing in, and end its sessions now."""
    _change(email, "account disabled", disabled=1)


@staff.command("enable")
@click.argument("email")
@with_appcontext
def enable(email: str) -> None:
    """Let a disabled (or locked) account sign in again."""
    _change(email, "account enabled", **accounts.ENABLE)


@staff.command("reset-factor")
@click.argument("email")
@with_appcontext
def reset_factor(email: str) -> None:
    """Forget an account's one-time-code app (a lost phone): it sets up a new one at its next
    sign-in, and its sessions end now."""
    _change(email, "second factor reset", **accounts.RESET_FACTOR)


@staff.command("unlock")
@click.argument("email")
@with_appcontext
def unlock(email: str) -> None:
    """Let a locked account (too many failed sign-ins) sign in again."""
    _change(email, "account unlocked", locked=0, failures=0)


def init_cli(main: click.Group) -> None:
    """Register the command group."""
    main.add_command(staff)
