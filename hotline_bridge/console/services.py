"""Keeping a site's directory: list and filter, add, edit, retire and delete a service, and the
number changes that wait for a second person's approval.

A row is checked exactly as an import row is (``importer.check_service``). A new phone, text or
TTY number never reaches people on one person's word: it needs that person's one-time code again,
then waits until another staff member of the site (or an admin) approves it; until then the old
number stays in the directory. A new service with numbers is held (kept, never offered) until
its numbers are decided; a retired one can be restored, held again if no number of it was ever
approved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlite_utils
from flask import abort, g, render_template, request
from werkzeug.wrappers import Response

from hotline_bridge.console import auth, changes, store
from hotline_bridge.console.access import (
    back_to,
    chosen_site,
    current_session,
    db,
    now,
    require_site,
    signed_in,
    staff,
    who,
)
from hotline_bridge.console.blueprint import bp
from hotline_bridge.directory import hours
from hotline_bridge.directory.importer import as_file_row
from hotline_bridge.directory.models import display_number, get_site
from hotline_bridge.directory.store import ACTIVE, HELD, text_columns, with_texts, write_services
from hotline_bridge.directory.validation import CATEGORIES, SERVICE_DETAILS, check_service
from hotline_bridge.runtime import import_context, runtime

# The fields of a service the console form shows, in order (the import's columns, less the
# site, which is the page's, and the flags only a file sets); the words come first, one field
# per language of the catalogs (see form_fields).
WORD_FIELDS = ("name", "label", "description")
OTHER_FIELDS = SERVICE_DETAILS
# Numbers that send a person somewhere: a change to one waits for a second person.
NUMBER_FIELDS = store.NUMBER_COLUMNS
# What staff call taking a service out; it stays in the database and can be restored.
RETIRED = "retired"
# A service not confirmed by staff for this long is listed as needing checking.
CHECK_EVERY = dt.timedelta(days=180)


def form_fields() -> tuple[str, ...]:
    """Return the service form's fields: category, the words in every language, the rest."""
    languages = runtime().catalogs.languages
    return ("category", *text_columns(WORD_FIELDS, languages), *OTHER_FIELDS)


def sites_of(database: sqlite_utils.Database, service_id: str) -> list[str]:
    """Return the sites that show ``service_id``."""
    sql = "select site_id from service_sites where service_id = ? order by site_id"
    return [row["site_id"] for row in database.query(sql, [service_id])]


def service_row(service_id: str) -> dict[str, Any]:
    """Return a local service the signed-in account may change, else 404 or 403."""
    rows = with_texts(db(), list(db().query("select * from services where id = ?", [service_id])))
    if not rows:
        abort(404)
    row = rows[0]
    if row["national"] or not may_change(service_id):
        abort(403)
    return row


def may_change(service_id: str) -> bool:
    """Return whether the signed-in account may change ``service_id``: it may see every site
    that shows it (a shared service changes for all of them at once). The one rule the
    directory's links, the form, uploads and approvals all follow."""
    linked = sites_of(db(), service_id)
    return bool(linked) and all(staff().may_see(site) for site in linked)


def site_of(service_id: str) -> str:
    """Return the site a change to ``service_id`` belongs to: the one the form names, which
    must show the service and be the account's (403 otherwise)."""
    linked = sites_of(db(), service_id)
    wanted = request.values.get("site") or linked[0]
    if wanted not in linked:
        abort(403)
    return require_site(wanted)


def needs_checking(row: Mapping[str, Any], today: dt.date) -> bool:
    """Return whether staff have not confirmed the service recently."""
    # "confirmed" is what every door writes (the import, the services command and this
    # console); "checked" is where the console kept it before, read for services it wrote then.
    try:
        checked = dt.date.fromisoformat((row.get("confirmed") or row.get("checked") or "")[:10])
    except ValueError:
        return True
    return today - checked > CHECK_EVERY


def _matches(row: Mapping[str, Any], args: Mapping[str, str], tz: str, at: dt.datetime) -> bool:
    query = args.get("q", "").strip().lower()
    text = " ".join(str(row.get(k) or "") for k in ("id", "name_en", "name_es", "label_en"))
    if query and query not in text.lower():
        return False
    if args.get("category") and row["category"] != args["category"]:
        return False
    if args.get("open") and hours.open_now(row["hours"], tz, at) is not True:
        return False
    return not (args.get("stale") and not needs_checking(row, at.date()))


@bp.get("/")
@signed_in
def home() -> Response:
    """Start at the directory."""
    return back_to("console.directory")


@bp.get("/directory")
@signed_in
def directory() -> str:
    """List the site's services, searched and filtered, and the national lines (read-only)."""
    site_id = chosen_site()
    site = get_site(db(), site_id)
    tz = site.time_zone if site else "America/New_York"
    sql = """select s.* from services s join service_sites l on l.service_id = s.id
             where l.site_id = ? and s.national = 0"""
    listed = with_texts(db(), list(db().query(sql, [site_id])))
    listed.sort(key=lambda row: (row["category"], row["name_en"] or "", row["id"]))
    rows = [row for row in listed if _matches(row, request.args, tz, now())]
    national = with_texts(
        db(), list(db().query("select * from services where national = 1 order by sort_order"))
    )
    for row in rows:
        row["open"] = hours.open_now(row["hours"], tz, now())
        row["stale"] = needs_checking(row, now().date())
        row["may_change"] = may_change(row["id"])
    return render_template(
        "console/directory.html",
        site=site_id,
        sites=_sites_for_picker(),
        services=[row for row in rows if row["status"] != RETIRED],
        retired=[row for row in rows if row["status"] == RETIRED],
        national=national,
        categories=CATEGORIES,
        args=request.args,
        waiting=store.waiting_changes(db(), site_id),
        display_number=display_number,
    )


def _sites_for_picker() -> list[str]:
    if not staff().admin:
        return [staff().site or ""]
    return [row["id"] for row in db().query("select id from sites order by id")]


def _raw(site: str, service_id: str, fictional: object = 0) -> dict[str, str]:
    values = {name: request.form.get(name, "") for name in form_fields()}
    return {**values, "id": service_id, "site": site, "fictional": "1" if fictional else "0"}


def _form(template_values: Mapping[str, Any], errors: Mapping[str, str], **extra: Any) -> str:
    return render_template(
        "console/service_form.html",
        values=template_values,
        errors=errors,
        fields=form_fields(),
        categories=CATEGORIES,
        **extra,
    )


@bp.route("/services/new", methods=["GET", "POST"])
@signed_in
def add_service() -> str | Response:
    """Add a service to the site, checked as an import row is."""
    site = chosen_site()
    if request.method == "GET":
        return _form({}, {}, site=site, new=True)
    service_id = request.form.get("id", "").strip()
    raw = _raw(site, service_id)
    if db().execute("select 1 from services where id = ?", [service_id]).fetchone():
        return _form(raw, {"id": "console.error.id_taken"}, site=site, new=True), 422  # type: ignore[return-value]
    row, _links, problems = check_service(raw, import_context(db()))
    if row is None:
        return _form(raw, {p.field: p.reason for p in problems}, site=site, new=True), 422  # type: ignore[return-value]
    numbers = {f: pair for f, pair in changes.guarded({}, row, {}).items() if pair[1]}
    if numbers and not _second_factor():
        return _confirm(site, service_id, numbers, raw, new=True)
    with db().conn:
        add_held(row, site, source=f"console:{site}")
    return back_to("console.directory", site=site)


def add_held(row: Mapping[str, Any], site: str, *, source: str) -> None:
    """Add a new service at ``site`` without its numbers: each waits for a second person, and
    the service is held (not offered) until they are decided."""
    saved = held_row(row)
    _save(saved, source=source)
    db().table("service_sites").upsert(
        {"service_id": row["id"], "site_id": site}, pk=("service_id", "site_id")
    )
    request_held(db(), now(), who(), site, row, saved)


def held_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a new service as it is stored until a second person decides: without its numbers
    and the words that hold one, and held (never offered) if any of them waits."""
    numbers = {f: v for f, (_o, v) in changes.guarded({}, row, {}).items() if v}
    status = HELD if numbers else row["status"]
    return {**changes.kept_back(row, None, numbers), "status": status}


def request_held(
    database: sqlite_utils.Database,
    at: dt.datetime,
    by: str,
    site: str,
    row: Mapping[str, Any],
    saved: Mapping[str, Any],
) -> None:
    """Audit a new service and ask for each of its values that waits for a second person."""
    shown = {k: v for k, v in saved.items() if v not in (None, "")}
    store.record(database, at, by, "service added", row["id"], site=site, after=shown)
    for field, (_old, value) in changes.guarded({}, row, {}).items():
        if value:
            request_number_change(database, at, by, site, row["id"], field, None, value)


def _confirm(
    site: str,
    service_id: str,
    numbers: Mapping[str, tuple[str | None, str | None]],
    form: Mapping[str, str],
    *,
    new: bool = False,
) -> str:
    """Show the numbers side by side and ask for a fresh one-time code."""
    return render_template(
        "console/confirm_numbers.html",
        site=site,
        service_id=service_id,
        numbers=numbers,
        form=form,
        fields=(("id",) if new else ()) + form_fields(),
        new=new,
        error=code_error(),
        display_number=display_number,
    )


def _today() -> str:
    return now().date().isoformat()


def _save(row: Mapping[str, Any], *, source: str) -> None:
    values = {**row, "national": 0, "source": source, "confirmed": _today()}
    write_services(db(), [values])


@bp.route("/services/<service_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_service(service_id: str) -> str | Response:
    """Change a service; a changed number is confirmed with a code and waits for approval."""
    old = service_row(service_id)
    site = site_of(service_id)
    shown = {**as_file_row(old), **proposed_numbers(service_id)}
    if request.method == "GET":
        return _form(shown, {}, site=site, new=False, service_id=service_id)
    raw = _raw(site, service_id, old["fictional"])
    row, _links, problems = check_service(raw, import_context(db()))
    if row is None:
        errors = {p.field: p.reason for p in problems}
        return _form(raw, errors, site=site, new=False, service_id=service_id), 422  # type: ignore[return-value]
    # A value left as the form showed it (the waiting one, if any) is no new request.
    waiting = proposed_numbers(service_id)
    numbers = changes.guarded(old, row, waiting)
    if numbers and not _second_factor():
        return _confirm(site, service_id, numbers, raw)
    _apply_edit(site, old, row, numbers, changes.released(old, row, waiting))
    return back_to("console.directory", site=site)


def proposed_numbers(service_id: str) -> dict[str, str | None]:
    """Return the values of ``service_id`` (numbers, or words holding one) that wait for
    approval, by field."""
    return changes.waiting_values(db(), service_id)


def _second_factor() -> bool:
    """Return whether the form carries a fresh one-time code of the signed-in account.

    Wrong codes count as failed sign-ins do (the same account limit, then the lock), so the
    code that confirms a change cannot be guessed any faster than the one that signs in."""
    found = current_session()
    assert found is not None
    me, typed = found.staff, request.form.get("code", "")
    limits = {auth.account_key(me.email): auth.ACCOUNT_LIMIT}
    # A typed code is counted before it is checked (and forgiven if right), as at sign-in; a
    # form sent without one only asks whether the account may still try.
    counted = auth.reserve(db(), limits, list(limits) if typed else [], now())
    if counted is None:
        g.code_throttled = True
        return False
    if not auth.use_code(db(), me, typed, now()):
        if typed:
            auth.note_failure(db(), me)
        return False
    auth.forgive(db(), counted)
    store.update_staff(db(), me.id, failures=0)
    auth.mark_verified(db(), found, now())
    return True


def code_error() -> str | None:
    """Return why a form's one-time code was not taken (None when none was typed)."""
    if g.get("code_throttled"):
        return "console.signin.throttled"
    return "console.error.code" if request.form.get("code") else None


def _apply_edit(
    site: str,
    old: Mapping[str, Any],
    row: dict[str, Any],
    numbers: Mapping[str, tuple[str | None, str | None]],
    released: list[str],
) -> None:
    # The form has no status: a held or retired service stays so, whatever else changes. A
    # number (or words holding one) stays as it is until a second person approves the new one.
    held_back = [*NUMBER_FIELDS, *changes.unapproved(old, row)]
    kept = {**changes.kept_back(row, old, held_back), "status": old["status"]}
    with db().conn:
        _save(kept, source=old["source"] or f"console:{site}")
        # Saving confirms the service today: a write the log shows too.
        audit_change(db(), now(), who(), site, old, {**kept, "confirmed": _today()})
        for field in released:
            withdraw(db(), now(), who(), site, row["id"], field)
        for field, (was, wanted) in numbers.items():
            request_number_change(db(), now(), who(), site, row["id"], field, was, wanted)
        settle(row["id"], site)


def audit_change(
    database: sqlite_utils.Database,
    at: dt.datetime,
    by: str,
    site: str | None,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    action: str = "service changed",
) -> bool:
    """Write what changed of a service to the audit log (only the fields that changed);
    return whether anything did."""
    names = [k for k in new if k in old and (old[k] or None) != (new[k] or None)]
    if not names:
        return False
    before = {k: old[k] for k in names}
    after = {k: new[k] for k in names}
    store.record(database, at, by, action, new["id"], site=site, before=before, after=after)
    return True


def withdraw(
    database: sqlite_utils.Database,
    at: dt.datetime,
    by: str,
    site: str | None,
    service_id: str,
    field: str,
) -> None:
    """Take back the waiting request for ``field`` (a later change made it needless)."""
    found = database.execute(
        "update pending_changes set status = 'withdrawn', decided_by = ?, decided_at = ? "
        "where service_id = ? and field = ? and status = 'waiting'",
        [by, store.stamp(at), service_id, field],
    )
    if found.rowcount:
        store.record(database, at, by, "number change withdrawn", service_id, site=site)


def request_number_change(
    database: sqlite_utils.Database,
    at: dt.datetime,
    by: str,
    site: str,
    service_id: str,
    field: str,
    old: str | None,
    new: str | None,
) -> None:
    """Ask for a number change; it waits for a second person (replacing an earlier request).
    Asking for the number the directory already has withdraws the earlier request instead."""
    withdrawn = (old or None) == (new or None)
    database.execute(
        "update pending_changes set status = ?, decided_by = ?, decided_at = ? "
        "where service_id = ? and field = ? and status = 'waiting'",
        ["withdrawn" if withdrawn else "replaced", by, store.stamp(at), service_id, field],
    )
    if withdrawn:
        after = {field: old}
        store.record(
            database, at, by, "number change withdrawn", service_id, site=site, after=after
        )
        return
    database.table("pending_changes").insert(
        {
            "service_id": service_id,
            "site": site,
            "field": field,
            "old": old,
            "new": new,
            "requested_by": by,
            "requested_at": store.stamp(at),
            "status": "waiting",
        }
    )
    store.record(
        database,
        at,
        by,
        "number change requested",
        service_id,
        site=site,
        before={field: old},
        after={field: new},
    )


@bp.post("/services/<service_id>/retire")
@signed_in
def retire_service(service_id: str) -> Response:
    """Stop offering a service at the site: retired (and restorable) when no other site shows
    it, else only taken off this site's list."""
    before = service_row(service_id)
    site = site_of(service_id)
    with db().conn:
        retire_at(before, site)
    return back_to("console.directory", site=site)


def retire_at(before: Mapping[str, Any], site: str) -> None:
    """Retire a service (when ``site`` is the only one showing it) or take it off ``site``."""
    service_id = before["id"]
    shown_at = sites_of(db(), service_id)
    # The entry says what changed: the status, or (for a shared service) the sites showing it.
    if shown_at == [site]:
        db().execute("update services set status = ? where id = ?", [RETIRED, service_id])
        was, now_is = {"status": before["status"]}, {"status": RETIRED}
    else:
        db().execute(
            "delete from service_sites where service_id = ? and site_id = ?", [service_id, site]
        )
        kept = [s for s in shown_at if s != site]
        was, now_is = {"sites": ", ".join(shown_at)}, {"sites": ", ".join(kept)}
    store.record(
        db(), now(), who(), "service retired", service_id, site=site, before=was, after=now_is
    )


@bp.post("/services/<service_id>/restore")
@signed_in
def restore_service(service_id: str) -> Response:
    """Offer a retired service again; one whose numbers were never approved is held until a
    second person approves them."""
    old = service_row(service_id)
    site = site_of(service_id)
    if old["status"] != RETIRED:
        abort(409)
    status = store.restored_status(db(), service_id)
    with db().conn:
        db().execute("update services set status = ? where id = ?", [status, service_id])
        store.record(
            db(),
            now(),
            who(),
            "service restored",
            service_id,
            site=site,
            before={"status": RETIRED},
            after={"status": status},
        )
    return back_to("console.directory", site=site)


@bp.route("/services/<service_id>/delete", methods=["GET", "POST"])
@signed_in
def delete_service(service_id: str) -> str | Response:
    """Ask first, then delete a service, its links to every site and its waiting changes.
    Deleting cannot be undone (retiring can), so only a form that says so deletes."""
    before = service_row(service_id)
    site = site_of(service_id)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template(
            "console/confirm_delete.html",
            service=before,
            site=site,
            sites=sites_of(db(), service_id),
        )
    with db().conn:
        db().execute("delete from service_sites where service_id = ?", [service_id])
        db().execute(
            "update pending_changes set status = 'withdrawn' where service_id = ? "
            "and status = 'waiting'",
            [service_id],
        )
        db().execute("delete from service_texts where service_id = ?", [service_id])
        db().execute("delete from services where id = ?", [service_id])
        store.record(db(), now(), who(), "service deleted", service_id, site=site, before=before)
    return back_to("console.directory", site=site)


# --- Approvals -------------------------------------------------------------------------------


@bp.get("/approvals")
@signed_in
def approvals() -> str:
    """List the number changes that wait for a second person."""
    me = staff()
    waiting = store.waiting_changes(db(), None if me.admin else me.site)
    for change in waiting:
        change["own"] = store.person_of(change["requested_by"]) == me.email
        site = changes.site_of_target(change["service_id"])
        allowed = me.may_see(site) if site is not None else may_change(change["service_id"])
        change["may_decide"] = not change["own"] and allowed
    # Each request's time is shown in its site's time zone, as its staff read their clock.
    zones = {row["id"]: row["time_zone"] for row in db().query("select id, time_zone from sites")}
    return render_template(
        "console/approvals.html",
        waiting=waiting,
        me=me.email,
        display_number=display_number,
        zones=zones,
    )


def _pending(change_id: int) -> dict[str, Any]:
    rows = list(db().query("select * from pending_changes where id = ?", [change_id]))
    if not rows or rows[0]["status"] != "waiting":
        abort(404)
    require_site(rows[0]["site"])
    site = changes.site_of_target(rows[0]["service_id"])
    if site is not None:
        require_site(site)
    elif not may_change(rows[0]["service_id"]):
        abort(403)  # a shared service: only who may change it everywhere decides
    if store.person_of(rows[0]["requested_by"]) == who():
        abort(403)  # nobody approves their own change, from whichever door it came
    return rows[0]


@bp.post("/approvals/<int:change_id>/approve")
@signed_in
def approve(change_id: int) -> Response:
    """Put a waiting number change into the directory, as a second person."""
    change = _pending(change_id)
    field = change["field"]
    if not changes.may_wait(field):
        abort(400)
    with db().conn:
        found, current = changes.current_value(db(), change["service_id"], field)
        fresh = found and (current or None) == (change["old"] or None)
        status = "approved" if fresh else "stale"
        if status == "approved":
            changes.put(db(), change["service_id"], field, change["new"])
        _decide(change, status)
    return back_to("console.approvals")


@bp.post("/approvals/<int:change_id>/reject")
@signed_in
def reject(change_id: int) -> Response:
    """Turn down a waiting number change; the old number stays."""
    change = _pending(change_id)
    with db().conn:
        _decide(change, "rejected")
    return back_to("console.approvals")


def _decide(change: Mapping[str, Any], status: str) -> None:
    db().table("pending_changes").update(
        change["id"], {"status": status, "decided_by": who(), "decided_at": store.stamp(now())}
    )
    store.record(
        db(),
        now(),
        who(),
        f"number change {status}",
        change["service_id"],
        site=change["site"],
        before={change["field"]: change["old"]},
        after={change["field"]: change["new"]},
    )
    settle(change["service_id"], change["site"])


def settle(service_id: str, site: str) -> None:
    """Offer a held service whose numbers are all decided, and say so in the audit log."""
    if store.settle(db(), service_id):
        before, after = {"status": HELD}, {"status": ACTIVE}
        store.record(
            db(), now(), who(), "service offered", service_id, site=site, before=before, after=after
        )


@bp.get("/audit")
@signed_in
def audit() -> str:
    """Show the audit log: every change, who made it and when, from what to what."""
    me = staff()
    site = None if me.admin else me.site
    return render_template("console/audit.html", entries=store.audit_entries(db(), site or None))
