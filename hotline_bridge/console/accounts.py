"""Accounts without a shell: the first admin set up from the link ``serve`` prints, colleagues
added by an admin (each sets their own password from a one-time link), a lost phone's second
factor reset, accounts disabled and enabled again, and everyone's own password changed.

Every change an admin makes to an account asks for the admin's own one-time code first (unless
they entered one in the last few minutes) and is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, cast
from urllib.parse import urlsplit

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hotline_bridge.console import auth, links, passwords, store
from hotline_bridge.console.access import (
    View,
    admin_only,
    back_to,
    current_session,
    db,
    now,
    signed_in,
    staff,
    who,
)
from hotline_bridge.console.blueprint import bp
from hotline_bridge.console.signin import _begin, attempt, console_path

THROTTLED = "console.signin.throttled"
# The roles an admin gives an account.
SITE_STAFF, ADMIN = "site", "admin"


def _back_after_verify() -> str:
    """Return where the code page leads back to: this page, or (after a form) the page the
    form was on."""
    if request.method == "GET":
        return console_path(request.full_path.rstrip("?"))
    referrer = urlsplit(request.referrer or "")
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return console_path(path) if path else url_for("console.accounts")


def fresh_factor(view: View) -> View:
    """Let ``view`` run only for a session whose one-time code was entered within the last few
    minutes; otherwise ask for a code first (a form's values are not kept)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        found = current_session()
        if found is None or not auth.recently_verified(found, now()):
            return redirect(url_for("console.verify", next=_back_after_verify()), code=303)
        return view(*args, **kwargs)

    return cast(View, wrapped)


@bp.route("/verify", methods=["GET", "POST"])
@signed_in
def verify() -> str | Response | tuple[str, int]:
    """Ask for a fresh one-time code before a change to accounts or sites."""
    target = console_path(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("console/verify.html", next=target)
    found = current_session()
    assert found is not None
    counted = attempt(found.staff.email, found.staff)
    if counted is None:
        return render_template("console/verify.html", next=target, error=THROTTLED), 429
    if not auth.use_code(db(), found.staff, request.form.get("code", ""), now()):
        auth.note_failure(db(), found.staff)
        return render_template("console/verify.html", next=target, error="console.error.code")
    auth.forgive(db(), counted)
    auth.mark_verified(db(), found, now())
    return Response(status=303, headers={"Location": target})


# --- Setting up from a one-time link ---------------------------------------------------------


def _link_or_gone(token: str) -> tuple[links.Link, store.Staff | None] | None:
    found = links.find(db(), token, now())
    if found is None:
        return None
    if found.staff_id is None:
        return found, None
    account = store.staff_by_id(db(), found.staff_id)
    if account is None or account.disabled:
        return None
    return found, account


def _setup_problems(email: str, password: str, again: str) -> dict[str, str]:
    errors = {}
    if not _looks_like_email(email):
        errors["email"] = "console.accounts.email_invalid"
    problem = passwords.problem(password, email)
    if problem:
        errors["password"] = problem
    elif password != again:
        errors["again"] = "console.password.mismatch"
    return errors


def _looks_like_email(email: str) -> bool:
    name, _, domain = email.partition("@")
    plain = all(ch.isprintable() and not ch.isspace() for ch in email)
    return bool(name) and "." in domain and plain and len(email) <= 254


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> str | Response | tuple[str, int]:
    """Set a password from a one-time link: the first admin's (who also gives their email) or
    a colleague's; the second factor is enrolled next, as at a first sign-in."""
    found = _link_or_gone(token)
    if found is None:
        return render_template("console/error.html", message="console.setup.gone"), 404
    link, account = found
    email = account.email if account else request.form.get("email", "").strip().lower()
    context = {"token": token, "account": account, "email": email}
    if request.method == "GET":
        return render_template("console/setup.html", errors={}, **context)
    password = request.form.get("password", "")
    errors = _setup_problems(email, password, request.form.get("again", ""))
    if errors:
        return render_template("console/setup.html", errors=errors, **context), 422
    with db().conn:
        if not links.spend(db(), link, now()):
            return render_template("console/error.html", message="console.setup.gone"), 404
        account = _set_password(account, email, password)
    _begin(account, auth.PASSWORD)
    return back_to("console.code" if account.totp_confirmed else "console.enrol")


def _set_password(account: store.Staff | None, email: str, password: str) -> store.Staff:
    """Give ``account`` its password, or make the first admin; return the account."""
    hashed = auth.hash_password(password)
    if account is not None:
        store.update_staff(db(), account.id, password_hash=hashed, failures=0, locked=0)
        store.record(db(), now(), account.email, "password set", account.email, site=account.site)
        return store.staff_by_id(db(), account.id) or account
    db().execute(
        "insert into staff (email, password_hash, admin, created) values (?, ?, 1, ?)",
        [email, hashed, store.stamp(now())],
    )
    store.record(db(), now(), email, "first admin set up", email, after={"admin": True})
    made = store.staff_by_email(db(), email)
    assert made is not None
    return made


# --- An admin's accounts page ----------------------------------------------------------------


def _accounts_page(**context: Any) -> str:
    rows = list(db().query("select *, password_hash = '' as waiting from staff order by email"))
    accounts = [(store.Staff.from_row(row), bool(row["waiting"])) for row in rows]
    sites = [row["id"] for row in db().query("select id from sites order by id")]
    values = context.pop("values", {})
    errors = context.pop("errors", {})
    return render_template(
        "console/accounts.html",
        accounts=accounts,
        sites=sites,
        me=who(),
        values=values,
        errors=errors,
        **context,
    )


def _link_url(token: str) -> str:
    return url_for("console.setup", token=token, _external=True)


@bp.get("/accounts")
@admin_only
@fresh_factor
def accounts() -> str:
    """List every account, with a form to add one."""
    return _accounts_page()


@bp.post("/accounts")
@admin_only
@fresh_factor
def add_account() -> str | tuple[str, int]:
    """Add an account (email, role, site); the page then shows the one-time link with which
    the person sets their password."""
    email = request.form.get("email", "").strip().lower()
    role = request.form.get("role", SITE_STAFF)
    site = request.form.get("site", "") if role == SITE_STAFF else None
    values = {"email": email, "role": role, "site": site or ""}
    errors = _account_problems(email, role, site)
    if errors:
        return _accounts_page(values=values, errors=errors), 422
    with db().conn:
        db().execute(
            "insert into staff (email, password_hash, site, admin, created) "
            "values (?, '', ?, ?, ?)",
            [email, site, int(role == ADMIN), store.stamp(now())],
        )
        store.record(
            db(), now(), who(), "account added", email, site=site,
            after={"site": site, "admin": role == ADMIN},
        )  # fmt: skip
    made = store.staff_by_email(db(), email)
    assert made is not None
    token = links.new_link(db(), now(), made.id, links.INVITATION_VALID)
    return _accounts_page(made=made, link=_link_url(token))


def _account_problems(email: str, role: str, site: str | None) -> dict[str, str]:
    errors = {}
    if not _looks_like_email(email):
        errors["email"] = "console.accounts.email_invalid"
    elif store.staff_by_email(db(), email):
        errors["email"] = "console.accounts.email_taken"
    if role not in (SITE_STAFF, ADMIN):
        errors["role"] = "console.accounts.role_invalid"
    elif (
        role == SITE_STAFF
        and not db().execute("select 1 from sites where id = ?", [site or ""]).fetchone()
    ):
        errors["site"] = "console.accounts.site_invalid"
    return errors


def _other_account(staff_id: int) -> store.Staff:
    """Return the account an admin acts on: 404 if none, 403 for the admin's own (an admin
    cannot disable themselves or drop their own second factor here)."""
    account = store.staff_by_id(db(), staff_id)
    if account is None:
        abort(404)
    if account.id == staff().id:
        abort(403)
    return account


def _change(account: store.Staff, action: str, **values: object) -> None:
    with db().conn:
        store.update_staff(db(), account.id, **values)
        auth.end_sessions_of(db(), account.id)
        store.record(db(), now(), who(), action, account.email, site=account.site)


@bp.post("/accounts/<int:staff_id>/reset-factor")
@admin_only
@fresh_factor
def reset_factor(staff_id: int) -> Response:
    """Forget an account's second factor (a lost phone): they enrol again at next sign-in."""
    account = _other_account(staff_id)
    _change(account, "second factor reset", **RESET_FACTOR)
    return back_to("console.accounts")


# What resetting a second factor changes: no secret, so the next sign-in enrols a new one.
RESET_FACTOR: dict[str, object] = {"totp_secret": None, "totp_confirmed": 0, "totp_last_step": None}
# What enabling an account changes: it may sign in again, with its failures forgotten.
ENABLE: dict[str, object] = {"disabled": 0, "locked": 0, "failures": 0}


@bp.post("/accounts/<int:staff_id>/disable")
@admin_only
@fresh_factor
def disable_account(staff_id: int) -> Response:
    """Stop an account from signing in, and end its sessions and links now."""
    account = _other_account(staff_id)
    _change(account, "account disabled", disabled=1)
    with db().conn:
        links.end_links_of(db(), account.id)
    return back_to("console.accounts")


@bp.post("/accounts/<int:staff_id>/enable")
@admin_only
@fresh_factor
def enable_account(staff_id: int) -> Response:
    """Let a disabled or locked account sign in again."""
    account = _other_account(staff_id)
    _change(account, "account enabled", **ENABLE)
    return back_to("console.accounts")


@bp.post("/accounts/<int:staff_id>/link")
@admin_only
@fresh_factor
def new_link(staff_id: int) -> str:
    """Make a new one-time link for an account (an invitation that expired, or a forgotten
    password); the person sets a new password with it and keeps their second factor."""
    account = _other_account(staff_id)
    if account.disabled:
        abort(409)
    token = links.new_link(db(), now(), account.id, links.INVITATION_VALID)
    with db().conn:
        store.record(db(), now(), who(), "sign-in link made", account.email, site=account.site)
    return _accounts_page(made=account, link=_link_url(token))


# --- One's own password ----------------------------------------------------------------------


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password; the current one is asked for first. Other sessions of the
    account end."""
    if request.method == "GET":
        return render_template("console/password.html", errors={})
    me = staff()
    counted = attempt(me.email, me)
    if counted is None:
        return render_template("console/password.html", errors={}, error=THROTTLED), 429
    if not auth.check_password(db(), me, request.form.get("current", "")):
        auth.note_failure(db(), me)
        errors = {"current": "console.password.current_wrong"}
        return render_template("console/password.html", errors=errors), 422
    auth.forgive(db(), counted)
    new = request.form.get("password", "")
    problem = passwords.problem(new, me.email)
    if problem or new != request.form.get("again", ""):
        errors = {"password": problem} if problem else {"again": "console.password.mismatch"}
        return render_template("console/password.html", errors=errors), 422
    found = current_session()
    assert found is not None
    with db().conn:
        store.update_staff(db(), me.id, password_hash=auth.hash_password(new))
        # Every other session of the account ends (one opened with the old password, perhaps
        # by someone else); this one goes on.
        sql = "delete from console_sessions where staff_id = ? and token_hash != ?"
        db().execute(sql, [me.id, found.token_hash])
        store.record(db(), now(), me.email, "password changed", me.email, site=me.site)
    return back_to("console.change_password", done=1)


def first_admin_line(base_url: str, token: str, valid: dt.timedelta) -> str:
    """Return the line ``serve`` prints while no account exists."""
    minutes = int(valid.total_seconds() // 60)
    url = base_url.rstrip("/") + links.PATH + token
    return f"Set up the first account: {url} (works once, within {minutes} minutes)"
