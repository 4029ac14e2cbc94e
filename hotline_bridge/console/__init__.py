"""The clinic console at ``/console``: staff keep their site's directory, try the line and read
the anonymous usage counts, signed in with a password and a one-time code.

Every write is security-critical (it changes what people in danger are told): it needs a live
session, is limited to the account's own site, carries a CSRF token and is written to the audit
log. The console has its own cookie, tables and strict headers, and nothing else links to it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time
from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from hotline_bridge.console import auth, cookie, links, store
from hotline_bridge.console.access import babel_language, current_session, lang, languages, words
from hotline_bridge.console.blueprint import bp
from hotline_bridge.directory.models import display_number
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import SERVICE_TEXTS, connect, text_column
from hotline_bridge.engine.catalogs import Words

# Importing the route modules registers their views on the blueprint.
from hotline_bridge.console import accounts, services, signin, tools, upload, usage  # noqa: F401  isort: skip
from hotline_bridge.console import printing  # noqa: F401  isort: skip
from hotline_bridge.console import golive  # noqa: F401  isort: skip

csrf = CSRFProtect()

# Sent with every console response: nothing cached, nothing framed, no script, style or image
# from anywhere but this server, and no inline script at all.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # Flask-WTF checks the referrer of HTTPS form posts
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


@bp.before_request
def _protect_forms() -> None:
    if request.method == "POST":
        if request.endpoint == "console.upload":
            # Read before the CSRF check parses the form; the webhooks' small limit stays.
            request.max_content_length = upload.MAX_UPLOAD_BYTES
        csrf.protect()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


@bp.errorhandler(CSRFError)
def _csrf_refused(_error: CSRFError) -> tuple[str, int]:
    return render_template("console/error.html", message="console.error.csrf"), 400


@bp.errorhandler(403)
def _forbidden(_error: Exception) -> tuple[str, int]:
    return render_template("console/error.html", message="console.error.forbidden"), 403


@bp.errorhandler(404)
def _not_found(_error: Exception) -> tuple[str, int]:
    return render_template("console/error.html", message="console.error.not_found"), 404


@bp.app_context_processor
def _context() -> dict[str, object]:
    if not cookie.is_console(request.path):
        return {}
    bound = words()
    found = current_session()
    return {
        "_": bound.t,
        "field_label": lambda name: field_label(bound, name),
        "stored_field": lambda name: stored_field(bound, name),
        "when": lambda stamp, zone: when(lang(), stamp, zone),
        "field_value": lambda name, value: field_value(bound, name, value),
        "language_name": lambda code: language_name(bound, code),
        "own_language_name": lambda code: bound.catalogs.text(code, "kiosk.language_name"),
        "problem": lambda reason: said(bound, reason),
        "action_name": lambda action: _named(bound, "console.audit.action.", action),
        "who_name": lambda name: who_name(bound, name),
        "lang": lang(),
        "languages": languages(),
        "signed_in": found.staff if found and found.stage == auth.SIGNED_IN else None,
    }


def who_name(bound: Words, name: str) -> str:
    """Return how the audit log and approvals name who made a change: an account's email, or
    the command line in the reader's language (with who ran it, when known)."""
    if name == store.COMMAND_LINE:
        return bound.t("console.audit.command_line")
    person = store.person_of(name)
    if person != name:
        return f"{bound.t('console.audit.command_line')} ({person})"
    return name


def said(bound: Words, reason: str) -> str:
    """Return a problem's reason in the console's language: a console key, an importer's
    ``Reason`` (its own key and values), or else the text as it is."""
    if isinstance(reason, Reason) and bound.catalogs.has(reason.key):
        values = {
            name: said(bound, value) if isinstance(value, Reason) else value
            for name, value in reason.values.items()
        }
        return bound.t(reason.key, **values)
    known = reason.startswith("console.") and bound.catalogs.has(reason)
    return bound.t(reason) if known else reason


def _named(bound: Words, prefix: str, name: str) -> str:
    """Return the catalog's wording of a stored name (an audit action), else the name."""
    key = prefix + name.replace(" ", "_").replace("-", "_")
    return bound.t(key) if bound.catalogs.has(key) else name


def field_label(words: Words, name: str) -> str:
    """Return a form field's label; a word in a language without a label of its own (one added
    as a catalog folder) is "Name in <the language's own name>"."""
    key = f"console.field.{name}"
    words_of = text_column(name, SERVICE_TEXTS)
    if words.catalogs.has(key) or words_of is None:
        return words.t(key)
    field, code = words_of
    return words.t(
        "console.field.in_language",
        field=words.t(f"console.field.{field}"),
        language=language_name(words, code),
    )


def stored_field(words: Words, name: str) -> str:
    """Return a stored column's label (the audit log's before and after), or else its name:
    a column no form or catalog names is still shown rather than hidden."""
    if words.catalogs.has(f"console.field.{name}") or text_column(name, SERVICE_TEXTS):
        return field_label(words, name)
    return name


def when(language: str, stamp: str, zone: str | None) -> str:
    """Return a stored UTC time as staff read it: the date and time in ``zone`` (a site's time
    zone; UTC if none or unknown), written the console language's way."""
    try:
        tz: dt.tzinfo = ZoneInfo(zone) if zone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    local = store.parse_stamp(stamp).astimezone(tz)
    language = babel_language(language)
    pattern = Locale.parse(language).datetime_formats["medium"]
    shown_time = format_time(local, "short", locale=language)
    return str(pattern).format(shown_time, format_date(local, "medium", locale=language))


def field_value(words: Words, name: str, value: object) -> str:
    """Return a stored value of field ``name`` as staff read it: a kind of help, a status or a
    language in the console's language, a number as it is dialled; other values as they are."""
    if value is None or value == "":
        return "—"
    text = str(value)
    if name in store.NUMBER_COLUMNS:
        return display_number(text) or text
    if name == "languages":
        return ", ".join(language_name(words, code.strip()) for code in text.split(","))
    key = {"category": "console.category.", "status": "console.status."}.get(name)
    if key and words.catalogs.has(key + text.replace(" ", "_")):
        return words.t(key + text.replace(" ", "_"))
    return text


def language_name(words: Words, code: str) -> str:
    """Return a language's name in the console's language, or else in its own words."""
    key = f"console.language.{code}"
    if words.catalogs.has(key):
        return words.t(key)
    return words.catalogs.text(code, "kiosk.language_name")


def init_app(app: Flask) -> None:
    """Create the console's tables, its CSRF checks and its routes (its cookie is the app's
    session under ``/console``: ``app.Sessions``)."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # the webhooks take no CSRF token
    db = connect(app.config["DATABASE"])
    try:
        store.apply(db)
        links.apply(db)
    finally:
        db.close()
    csrf.init_app(app)
    app.register_blueprint(bp)
