"""Signing in: email and password, then a one-time code (enrolled by QR code the first time)."""

from __future__ import annotations

from flask import current_app, render_template, request, session
from werkzeug.wrappers import Response

from hotline_bridge.console import auth, store
from hotline_bridge.console.access import back_to, current_session, db, now, signed_in
from hotline_bridge.console.blueprint import bp
from hotline_bridge.engine.catalogs import LANGUAGES


def _keys(email: str) -> dict[str, int]:
    address = auth.address_key(request.remote_addr, current_app.config["SECRET_KEY"])
    return {auth.account_key(email): auth.ACCOUNT_LIMIT, address: auth.ADDRESS_LIMIT}


def _refuse(email: str, staff: store.Staff | None, template: str, **context: object) -> str:
    auth.note_failure(db(), list(_keys(email)), staff, now())
    return render_template(template, error="console.signin.failed", **context)


def _begin(staff: store.Staff, stage: str) -> None:
    """Start a fresh session (a new token, so none chosen before sign-in survives it)."""
    auth.end_session(db(), session.get("sid"))
    lang = session.get("lang")
    session.clear()
    session.update(sid=auth.start_session(db(), staff, stage, now()), lang=lang)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    """Ask for email and password; too many failures are refused for a while, then locked."""
    if request.method == "GET":
        return render_template("console/sign_in.html")
    email = request.form.get("email", "").strip().lower()
    if auth.throttled(db(), _keys(email), now()):
        return render_template("console/sign_in.html", error="console.signin.throttled"), 429  # type: ignore[return-value]
    staff = store.staff_by_email(db(), email)
    if not auth.check_password(db(), staff, request.form.get("password", "")):
        return _refuse(email, staff, "console/sign_in.html")
    assert staff is not None
    if staff.disabled or staff.locked:
        return render_template("console/sign_in.html", error="console.signin.locked")
    _begin(staff, auth.PASSWORD)
    return back_to("console.code" if staff.totp_confirmed else "console.enrol")


def _half_signed_in() -> auth.Session | None:
    found = current_session()
    return found if found is not None and found.stage == auth.PASSWORD else None


@bp.route("/code", methods=["GET", "POST"])
def code() -> str | Response:
    """Ask for the one-time code of an enrolled account."""
    half = _half_signed_in()
    if half is None or not half.staff.totp_confirmed:
        return back_to("console.sign_in")
    if request.method == "GET":
        return render_template("console/code.html")
    if auth.throttled(db(), _keys(half.staff.email), now()):
        return render_template("console/code.html", error="console.signin.throttled"), 429  # type: ignore[return-value]
    if not auth.use_code(db(), half.staff, request.form.get("code", ""), now()):
        return _refuse(half.staff.email, half.staff, "console/code.html")
    return _finish(half.staff)


def _finish(staff: store.Staff) -> Response:
    store.update_staff(db(), staff.id, failures=0)
    _begin(staff, auth.SIGNED_IN)
    store.record(db(), now(), staff.email, "sign-in", staff.email, site=staff.site)
    return back_to("console.directory")


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> str | Response:
    """Show the QR code of a new one-time-code secret and confirm it with a first code."""
    half = _half_signed_in()
    if half is None or half.staff.totp_confirmed:
        return back_to("console.sign_in")
    staff = half.staff
    if not staff.totp_secret:
        store.update_staff(db(), staff.id, totp_secret=auth.new_totp_secret())
        staff = store.staff_by_id(db(), staff.id) or staff
    assert staff.totp_secret is not None
    context = {
        "qr": auth.enrolment_svg(staff.totp_secret, staff.email),
        "secret": staff.totp_secret,
    }
    if request.method == "GET":
        return render_template("console/enrol.html", **context)
    if not auth.use_code(db(), staff, request.form.get("code", ""), now()):
        return _refuse(staff.email, staff, "console/enrol.html", **context)
    store.update_staff(db(), staff.id, totp_confirmed=1)
    return _finish(staff)


@bp.post("/sign-out")
@signed_in
def sign_out() -> Response:
    """End this session."""
    auth.end_session(db(), session.get("sid"))
    lang = session.get("lang")
    session.clear()
    session["lang"] = lang
    return back_to("console.sign_in")


@bp.post("/language")
def language() -> Response:
    """Switch the console's language and come back to the same page."""
    chosen = request.form.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    target = request.form.get("next", "")
    if not target.startswith("/console") or target.startswith("//"):
        target = "/console/directory"
    return Response(status=303, headers={"Location": target})
