"""Signing in: email and password, then a one-time code (enrolled by QR code the first time)."""

from __future__ import annotations

from flask import current_app, render_template, request, session
from werkzeug.wrappers import Response

from hotline_bridge.console import auth, cookie, store
from hotline_bridge.console.access import back_to, current_session, db, languages, now, signed_in
from hotline_bridge.console.blueprint import bp


def _limits(email: str) -> dict[str, int]:
    """Return the keys an attempt is counted under, each with its limit: the email's and the
    address's (kept as a keyed hash)."""
    address = auth.address_key(request.remote_addr, current_app.config["SECRET_KEY"])
    return {auth.account_key(email): auth.ACCOUNT_LIMIT, address: auth.ADDRESS_LIMIT}


def attempt(email: str, staff: store.Staff | None) -> list[int] | None:
    """Count an attempt with ``email`` before checking it (see ``auth.reserve``); None if a
    limit is reached. The address counts only attempts on a real account."""
    limits = _limits(email)
    keys = list(limits)
    counted = keys if staff is not None else keys[:1]
    return auth.reserve(db(), limits, counted, now())


def _throttled(template: str, **context: object) -> tuple[str, int]:
    return render_template(template, error="console.signin.throttled", **context), 429


def _refuse(staff: store.Staff | None, template: str, **context: object) -> str:
    auth.note_failure(db(), staff)
    return render_template(template, error="console.signin.failed", **context)


def _begin(staff: store.Staff, stage: str) -> None:
    """Start a fresh session (a new token, so none chosen before sign-in survives it)."""
    auth.end_session(db(), session.get("sid"))
    lang = session.get("lang")
    session.clear()
    session.update(sid=auth.start_session(db(), staff, stage, now()), lang=lang)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    """Ask for email and password; too many failures are refused for a while, then locked.

    A disabled or locked account gets the same answer whether its password is right or not,
    so the answer never confirms a guess."""
    if request.method == "GET":
        return render_template("console/sign_in.html")
    email = request.form.get("email", "").strip().lower()
    staff = store.staff_by_email(db(), email)
    counted = attempt(email, staff)
    if counted is None:
        return _throttled("console/sign_in.html")
    right = auth.check_password(db(), staff, request.form.get("password", ""))
    if staff is None or not right or staff.disabled or staff.locked:
        return _refuse(None if right else staff, "console/sign_in.html")
    auth.forgive(db(), counted)
    _begin(staff, auth.PASSWORD)
    return back_to("console.code" if staff.totp_confirmed else "console.enrol")


def _half_signed_in() -> auth.Session | None:
    found = current_session()
    return found if found is not None and found.stage == auth.PASSWORD else None


@bp.route("/code", methods=["GET", "POST"])
def code() -> str | Response | tuple[str, int]:
    """Ask for the one-time code of an enrolled account."""
    half = _half_signed_in()
    if half is None or not half.staff.totp_confirmed:
        return back_to("console.sign_in")
    if request.method == "GET":
        return render_template("console/code.html")
    counted = attempt(half.staff.email, half.staff)
    if counted is None:
        return _throttled("console/code.html")
    if not auth.use_code(db(), half.staff, request.form.get("code", ""), now()):
        return _refuse(half.staff, "console/code.html")
    auth.forgive(db(), counted)
    return _finish(half.staff)


def _finish(staff: store.Staff) -> Response:
    store.update_staff(db(), staff.id, failures=0)
    _begin(staff, auth.SIGNED_IN)
    store.record(db(), now(), staff.email, "sign-in", staff.email, site=staff.site)
    return back_to("console.directory")


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> str | Response | tuple[str, int]:
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
    counted = attempt(staff.email, staff)
    if counted is None:
        return _throttled("console/enrol.html", **context)
    if not auth.use_code(db(), staff, request.form.get("code", ""), now()):
        return _refuse(staff, "console/enrol.html", **context)
    auth.forgive(db(), counted)
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
    if chosen in languages():
        session["lang"] = chosen
    return Response(status=303, headers={"Location": console_path(request.form.get("next", ""))})


def console_path(target: str) -> str:
    """Return ``target`` if it is a page of this console, else the directory: never another
    site, and never a header broken by a line break or other control character."""
    plain = all(ch.isprintable() and not ch.isspace() for ch in target)
    if not plain or not cookie.is_console(target.split("?")[0]) or target.startswith("//"):
        return "/console/directory"
    return target
