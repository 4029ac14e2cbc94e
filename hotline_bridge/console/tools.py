"""Seeing a service as people will, trying the line, and the site settings an admin may change."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from hotline_bridge.console import changes, doors, store
from hotline_bridge.console.access import (
    admin_only,
    back_to,
    chosen_site,
    current_session,
    db,
    now,
    signed_in,
    who,
    words,
)
from hotline_bridge.console.accounts import fresh_factor
from hotline_bridge.console.blueprint import bp
from hotline_bridge.console.services import (
    import_context,
    request_number_change,
    service_row,
    site_of,
)
from hotline_bridge.directory.models import Site, display_number, get_service, get_site
from hotline_bridge.directory.store import SITE_TEXTS, text_columns, with_texts, write_sites
from hotline_bridge.directory.validation import SITE_COLUMNS, check_site
from hotline_bridge.runtime import runtime


def _site(site_id: str) -> Site:
    return get_site(db(), site_id) or Site(site_id)


@bp.get("/services/<service_id>/preview")
@signed_in
def preview(service_id: str) -> str:
    """Show a service as people will get it: the SMS detail with its cost, the words the voice
    line reads, and the kiosk card, in each language."""
    service_row(service_id)
    site = _site(site_of(service_id))
    service = get_service(db(), service_id)
    assert service is not None
    app, flow = current_app._get_current_object(), runtime().flow  # type: ignore[attr-defined]
    seen = {}
    for lang in runtime().catalogs.languages:
        details = runtime().catalogs.text(lang, "option.details")
        seen[lang] = {
            "sms": doors.sms_detail(app, flow, site, service, lang),
            "voice": doors.voice_detail(app, flow, site, service, lang, details),
            "kiosk": doors.kiosk_card(app, flow, site, service, lang),
        }
    return render_template("console/preview.html", service=service, site=site.id, seen=seen)


@bp.route("/try", methods=["GET", "POST"])
@signed_in
def try_line() -> str | Response:
    """A phone-like panel to text the site's line and a call panel that takes keys, both through
    the real webhooks; trial traffic is never counted as use."""
    site = _site(chosen_site())
    found = current_session()
    assert found is not None
    state = _trial(found.token_hash)
    if request.method == "POST":
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        what = request.form.get("do", "")
        if what == "text" and request.form.get("body", "").strip():
            state["sms"] = doors.text_line(app, site, _part(state, "sms"), request.form["body"])
        elif what == "call":
            state["call"] = doors.call_line(app, site, {}, None)
        elif what == "key":
            state["call"] = doors.call_line(
                app, site, _part(state, "call"), request.form.get("key", "")
            )
        elif what == "reset":
            state = {}
        return _keep_trial(back_to("console.try_line", site=site.id), found.token_hash, state)
    return render_template(
        "console/try.html",
        site=site.id,
        number=display_number(site.numbers[0]) if site.numbers else "",
        sms=_part(state, "sms"),
        call=_part(state, "call"),
        keys=[*"123456789", "*", "0", "#"],
    )


def _part(state: dict[str, object], name: str) -> dict[str, object]:
    part = state.get(name)
    return part if isinstance(part, dict) else {}


# What staff type into "try the line", and what it answers, is kept in no database or file: it
# rides in a signed cookie of its own, sent only to the page that uses it, bound to the console
# session that wrote it, and gone with the browser's session.
TRIAL_COOKIE = "hb_trial"
# Bytes the cookie may take (browsers keep 4,096 a cookie, name and attributes included):
# the oldest exchanges are dropped first to fit.
TRIAL_BYTES = 3_600


def _trial_signer() -> URLSafeSerializer:
    # URLSafeSerializer compresses the JSON when that makes it shorter.
    return URLSafeSerializer(current_app.secret_key or "", salt="hotline-bridge-console-trial")


def _trial(session: str) -> dict[str, object]:
    """Return the trial conversation of the console session ``session`` (a token's hash)."""
    try:
        kept = _trial_signer().loads(request.cookies.get(TRIAL_COOKIE, ""))
    except BadSignature:
        return {}
    if not isinstance(kept, dict) or kept.get("session") != session:
        return {}  # another sign-in's, or another person's on this browser
    state = kept.get("state")
    return state if isinstance(state, dict) else {}


def _keep_trial(response: Response, session: str, state: dict[str, object]) -> Response:
    """Set the trial cookie on ``response``, dropping the oldest exchanges until it fits."""
    parts = {name: dict(part) for name, part in state.items() if isinstance(part, dict)}
    value = _trial_signer().dumps({"session": session, "state": parts})
    while len(value) > TRIAL_BYTES and _drop_oldest(parts):
        value = _trial_signer().dumps({"session": session, "state": parts})
    if len(value) > TRIAL_BYTES:
        value = _trial_signer().dumps({"session": session, "state": {}})
    response.set_cookie(
        TRIAL_COOKIE,
        value,
        path=url_for("console.try_line"),
        secure=not current_app.config["LOCAL"],
        httponly=True,
        samesite="Strict",
    )
    return response


def _drop_oldest(state: dict[str, dict[str, object]]) -> bool:
    """Drop the oldest exchange of the longest trial log; False when there is none left."""
    logs: list[list[object]] = [
        exchanges for part in state.values() if isinstance(exchanges := part.get("log"), list)
    ]
    longest = max(logs, key=len, default=[])
    if not longest:
        return False
    del longest[0]
    return True


# --- Site settings ---------------------------------------------------------------------------


def site_form_fields() -> tuple[str, ...]:
    """Return the site form's fields: the program name in every language of the catalogs, then
    the rest of a sites file's columns (less the id and the flag only a file sets)."""
    names = text_columns(SITE_TEXTS, runtime().catalogs.languages)
    rest = (c for c in SITE_COLUMNS if c not in {"id", "fictional"} and not c.startswith("name_"))
    return (*names, *rest)


def _site_values(site_id: str) -> dict[str, Any]:
    rows = _stored_rows(site_id)
    if not rows:
        return {}
    row = rows[0]
    for name in ("numbers", "keywords"):
        row[name] = ", ".join(json.loads(row[name] or "[]"))
    return row


def _stored_site(site_id: str) -> dict[str, Any]:
    rows = _stored_rows(site_id)
    return rows[0] if rows else {}


def _stored_rows(site_id: str) -> list[dict[str, Any]]:
    rows = list(db().query("select * from sites where id = ?", [site_id]))
    return with_texts(db(), rows, sites=True)


def _collisions(site_id: str, row: dict[str, Any]) -> dict[str, str]:
    """Return the numbers or keywords another site already answers to (a message must lead to
    one clinic only)."""
    errors = {}
    for other in db().query("select id, numbers, keywords from sites where id != ?", [site_id]):
        for name in ("numbers", "keywords"):
            taken = set(json.loads(other[name] or "[]")) & set(row[name])
            if taken:
                errors[name] = words().t(
                    "console.error.taken", value=", ".join(sorted(taken)), site=other["id"]
                )
    return errors


@bp.route("/sites", methods=["GET", "POST"])
@admin_only
@fresh_factor
def site_settings() -> str | Response | tuple[str, int]:
    """Let an admin change a site's program names, language, time zone, numbers, keywords and
    kiosk exit page (or add a site), with the checks an import and ``check`` apply."""
    site_id = request.values.get("site", "")
    sites = [row["id"] for row in db().query("select id from sites order by id")]
    editing = site_id in sites
    if request.method == "GET":
        return _site_page(sites, site_id, _site_values(site_id) if editing else {}, {})
    raw = {name: request.form.get(name, "") for name in site_form_fields()}
    # An edit changes the site it was opened on, whatever id the form carries; a new site
    # takes the id typed in, which must not be an existing site's (that would overwrite it).
    raw["id"] = site_id if editing else request.form.get("id", "").strip()
    old = _stored_site(raw["id"]) if editing else {}
    raw["fictional"] = "1" if old.get("fictional") else "0"
    row, problems = check_site(raw, import_context(db()))
    errors: dict[str, str] = {p.field: p.reason for p in problems}
    if not editing and raw["id"] in sites:
        errors["id"] = "console.error.site_id_taken"
    if row is not None:
        errors.update(_collisions(row["id"], row))
    if row is None or errors:
        return _site_page(sites, site_id if editing else "", raw, errors), 422
    _save_site(row, old)
    return back_to("console.site_settings", site=row["id"])


def _site_page(sites: list[str], site: str, values: dict[str, Any], errors: dict[str, str]) -> str:
    """Render the site form: an existing site's (``site``) or, with no site, a new one's."""
    return render_template(
        "console/site.html",
        sites=sites,
        site=site,
        values=values,
        errors=errors,
        fields=site_form_fields(),
        languages_=runtime().catalogs.languages,
    )


def _save_site(row: dict[str, Any], old: dict[str, Any]) -> None:
    """Write a checked site and record the change (or the addition) in the audit log."""
    # A program name holding a number or web address waits for a second person.
    asked = changes.site_guarded(old, row)
    kept = {**row, **{name: old.get(name) for name in asked}}
    stored = {
        **kept,
        **{n: json.dumps(row[n]) if row[n] else None for n in ("numbers", "keywords")},
    }
    with db().conn:
        write_sites(db(), [stored])
        for name, (was, wanted) in asked.items():
            target = changes.site_target(row["id"])
            request_number_change(db(), now(), who(), row["id"], target, name, was, wanted)
        store.record(
            db(),
            now(),
            who(),
            "site changed" if old else "site added",
            row["id"],
            site=row["id"],
            before={k: old.get(k) for k in stored} if old else None,
            after=stored,
        )
