"""Keeping a site's directory: list and filter, add, edit, retire and delete a service, and the
number changes that wait for a second person's approval.

A row is checked exactly as an import row is (``importer.check_service``). A new phone, text or
TTY number never reaches people on one person's word: it needs that person's one-time code again,
then waits until another staff member of the site (or an admin) approves it; until then the old
number stays in the directory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlite_utils
from flask import abort, render_template, request
from werkzeug.wrappers import Response

from hotline_bridge.console import auth, store
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
from hotline_bridge.directory.importer import CATEGORIES, check_service
from hotline_bridge.directory.models import display_number, get_site
from hotline_bridge.runtime import import_context

# The fields of a service the console form shows, in order (the import's columns, less the
# site, which is the page's, and the flags only a file sets).
FORM_FIELDS = (
    "category",
    "name_en",
    "name_es",
    "label_en",
    "label_es",
    "description_en",
    "description_es",
    "phone",
    "sms",
    "tty",
    "address",
    "city",
    "state",
    "zip",
    "latitude",
    "longitude",
    "hours",
    "languages",
    "url",
)
# Numbers that send a person somewhere: a change to one waits for a second person.
NUMBER_FIELDS = ("phone", "sms", "tty")
# A service not confirmed by staff for this long is listed as needing checking.
CHECK_EVERY = dt.timedelta(days=180)


def sites_of(database: sqlite_utils.Database, service_id: str) -> list[str]:
    """Return the sites that show ``service_id``."""
    sql = "select site_id from service_sites where service_id = ? order by site_id"
    return [row["site_id"] for row in database.query(sql, [service_id])]


def service_row(service_id: str) -> dict[str, Any]:
    """Return a local service the signed-in account may change, else 404 or 403."""
    rows = list(db().query("select * from services where id = ?", [service_id]))
    if not rows:
        abort(404)
    row = rows[0]
    linked = sites_of(db(), service_id)
    if row["national"] or not linked or not all(staff().may_see(site) for site in linked):
        abort(403)
    return row


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
    try:
        checked = dt.date.fromisoformat((row.get("checked") or "")[:10])
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
             where l.site_id = ? and s.national = 0 order by s.category, s.name_en"""
    rows = [row for row in db().query(sql, [site_id]) if _matches(row, request.args, tz, now())]
    national = list(db().query("select * from services where national = 1 order by sort_order"))
    for row in rows:
        row["open"] = hours.open_now(row["hours"], tz, now())
        row["stale"] = needs_checking(row, now().date())
    return render_template(
        "console/directory.html",
        site=site_id,
        sites=_sites_for_picker(),
        services=rows,
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
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    return {**values, "id": service_id, "site": site, "fictional": "1" if fictional else "0"}


def _form(template_values: Mapping[str, Any], errors: Mapping[str, str], **extra: Any) -> str:
    return render_template(
        "console/service_form.html",
        values=template_values,
        errors=errors,
        fields=FORM_FIELDS,
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
    with db().conn:
        _save(row, source=f"console:{site}")
        db().table("service_sites").insert({"service_id": row["id"], "site_id": site})
        store.record(db(), now(), who(), "service added", row["id"], site=site, after=row)
    return back_to("console.directory", site=site)


def _save(row: Mapping[str, Any], *, source: str) -> None:
    values = {**row, "national": 0, "source": source, "checked": now().date().isoformat()}
    db().table("services").upsert(values, pk="id")


@bp.route("/services/<service_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_service(service_id: str) -> str | Response:
    """Change a service; a changed number is confirmed with a code and waits for approval."""
    old = service_row(service_id)
    site = site_of(service_id)
    if request.method == "GET":
        return _form(old, {}, site=site, new=False, service_id=service_id)
    raw = _raw(site, service_id, old["fictional"])
    row, _links, problems = check_service(raw, import_context(db()))
    if row is None:
        errors = {p.field: p.reason for p in problems}
        return _form(raw, errors, site=site, new=False, service_id=service_id), 422  # type: ignore[return-value]
    numbers = {f: (old[f], row[f]) for f in NUMBER_FIELDS if (old[f] or None) != row[f]}
    if numbers and not _second_factor():
        error = "console.error.code" if request.form.get("code") else None
        return render_template(
            "console/confirm_numbers.html",
            site=site,
            service_id=service_id,
            numbers=numbers,
            form=raw,
            fields=FORM_FIELDS,
            error=error,
            display_number=display_number,
        )
    _apply_edit(site, old, row, numbers)
    return back_to("console.directory", site=site)


def _second_factor() -> bool:
    """Return whether the form carries a fresh one-time code of the signed-in account."""
    found = current_session()
    assert found is not None
    if not auth.use_code(db(), found.staff, request.form.get("code", ""), now()):
        return False
    auth.mark_verified(db(), found, now())
    return True


def _apply_edit(
    site: str,
    old: Mapping[str, Any],
    row: dict[str, Any],
    numbers: Mapping[str, tuple[str | None, str | None]],
) -> None:
    kept = {**row, **{field: old_new[0] for field, old_new in numbers.items()}}
    before = {k: old.get(k) for k in row}
    with db().conn:
        _save(kept, source=old["source"] or f"console:{site}")
        store.record(
            db(), now(), who(), "service changed", row["id"], site=site, before=before, after=kept
        )
        for field, (was, wanted) in numbers.items():
            request_number_change(db(), now(), who(), site, row["id"], field, was, wanted)


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
    """Ask for a number change; it waits for a second person (replacing an earlier request)."""
    database.execute(
        "update pending_changes set status = 'replaced', decided_by = ?, decided_at = ? "
        "where service_id = ? and field = ? and status = 'waiting'",
        [by, store.stamp(at), service_id, field],
    )
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
    """Stop showing a service at the site (kept in the audit log, so it can be added back)."""
    before = service_row(service_id)
    site = site_of(service_id)
    with db().conn:
        db().execute(
            "delete from service_sites where service_id = ? and site_id = ?", [service_id, site]
        )
        store.record(db(), now(), who(), "service retired", service_id, site=site, before=before)
    return back_to("console.directory", site=site)


@bp.post("/services/<service_id>/delete")
@signed_in
def delete_service(service_id: str) -> Response:
    """Delete a service and its waiting changes."""
    before = service_row(service_id)
    site = sites_of(db(), service_id)[0]
    with db().conn:
        db().execute("delete from service_sites where service_id = ?", [service_id])
        db().execute(
            "update pending_changes set status = 'withdrawn' where service_id = ? "
            "and status = 'waiting'",
            [service_id],
        )
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
    return render_template(
        "console/approvals.html", waiting=waiting, me=me.email, display_number=display_number
    )


def _pending(change_id: int) -> dict[str, Any]:
    rows = list(db().query("select * from pending_changes where id = ?", [change_id]))
    if not rows or rows[0]["status"] != "waiting":
        abort(404)
    require_site(rows[0]["site"])
    if rows[0]["requested_by"] == who():
        abort(403)  # nobody approves their own change
    return rows[0]


@bp.post("/approvals/<int:change_id>/approve")
@signed_in
def approve(change_id: int) -> Response:
    """Put a waiting number change into the directory, as a second person."""
    change = _pending(change_id)
    field = change["field"]
    if field not in NUMBER_FIELDS:
        abort(400)
    with db().conn:
        current = (
            db()
            .execute(f"select {field} from services where id = ?", [change["service_id"]])
            .fetchone()
        )
        status = "approved" if current is not None and current[0] == change["old"] else "stale"
        if status == "approved":
            db().execute(
                f"update services set {field} = ? where id = ?",
                [change["new"], change["service_id"]],
            )
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


@bp.get("/audit")
@signed_in
def audit() -> str:
    """Show the audit log: every change, who made it and when, from what to what."""
    me = staff()
    site = None if me.admin else me.site
    return render_template("console/audit.html", entries=store.audit_entries(db(), site or None))
