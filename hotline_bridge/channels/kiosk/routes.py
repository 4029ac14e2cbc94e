"""The kiosk channel: the flow as large-type pages for a lobby touch screen, with a quick way out.

Pages live at ``/kiosk/<site>/<lang>/<position>``: the language and the place ride in the address,
so the server keeps nothing about the person and sets no cookie. Every kiosk response forbids
caching, referrers and framing, and allows no script or style that is not served from here. Any
failure shows a static page, prepared at start-up, with the 24/7 hotline and 911.

The ZIP keypad is a GET form back to the ZIP step's own address (``?zip=02139&back=legal``);
the answer is a redirect to the position that carries the ZIP code. The code is never stored,
and the app's log redaction hides it (any run of five digits) wherever an address is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import sqlite_utils
from flask import Blueprint, Flask, Response, current_app, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hotline_bridge import counters
from hotline_bridge.channels.kiosk.pages import Visit, build, parent_of
from hotline_bridge.directory.models import Site, display_number, get_site
from hotline_bridge.directory.store import DEFAULT_SITE, get_db, read_national_lines
from hotline_bridge.engine.catalogs import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Catalogs,
    Words,
    other_language,
)
from hotline_bridge.engine.flow import Position, decode, enter_zip
from hotline_bridge.ops import metrics
from hotline_bridge.runtime import Runtime, runtime
from hotline_bridge.settings import ConfigError
from hotline_bridge.webhooks import log_failure

CHANNEL = "kiosk"
KIOSK_DIR = Path(__file__).parent

# WCAG 2.2.1 asks that a person get at least 20 seconds to say they need more time.
MIN_COUNTDOWN_SECONDS = 20

# Sent with every kiosk response: nothing kept by the browser, no referrer, no framing, and no
# script, style or image from anywhere but this server.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
        "object-src 'none'"
    ),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

_LANG = f"any({', '.join(LANGUAGES)})"

bp = Blueprint(
    "kiosk", __name__, static_folder=str(KIOSK_DIR / "static"), static_url_path="/kiosk/static"
)


@dataclass(frozen=True)
class Kiosk:
    """What the kiosk prepares at start-up: its templates, timings and fail-safe pages."""

    templates: jinja2.Environment
    idle_seconds: int
    countdown_seconds: int
    emergency_number: str
    failsafe_pages: dict[str | None, str]


def kiosk() -> Kiosk:
    """Return the current app's kiosk."""
    return current_app.extensions["hotline_bridge.kiosk"]


@bp.after_request
def _protect(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/kiosk", defaults={"site_id": DEFAULT_SITE, "lang": None, "where": None})
@bp.get("/kiosk/<site_id>", defaults={"lang": None, "where": None})
@bp.get(f"/kiosk/<site_id>/<{_LANG}:lang>", defaults={"where": None})
@bp.get(f"/kiosk/<site_id>/<{_LANG}:lang>/<where>")
def page(site_id: str, lang: str | None, where: str | None) -> BaseResponse:
    """Show one step of the flow in large type, in the language the address names."""
    try:
        return _page(site_id, lang, where)
    except Exception as exc:
        # The place, not the path: the path tells what a person was reading.
        log_failure("kiosk page", exc)
        metrics.fail_safe_given()
        return failsafe_response(lang)


@bp.get("/kiosk/<site_id>/<path:_rest>")
def stray(site_id: str, _rest: str) -> BaseResponse:
    """Answer an address the kiosk never links to with the site's home page."""
    return page(site_id, None, None)


@bp.get("/welcome", defaults={"site_id": DEFAULT_SITE, "lang": DEFAULT_LANGUAGE})
@bp.get(f"/welcome/<site_id>/<{_LANG}:lang>")
def welcome(site_id: str, lang: str) -> Response:
    """Show the neutral hospital welcome page a quick exit leaves on the screen."""
    _count(lang, "exit")
    words = runtime().catalogs.bind(lang)
    html = render(
        "welcome.html",
        t=words.t,
        lang=lang,
        css_url=url_for("kiosk.static", filename="kiosk.css"),
        icon_url=url_for("kiosk.static", filename="icon.svg"),
        start_url=url_for("kiosk.page", site_id=site_id),
    )
    return Response(html, mimetype="text/html")


def failsafe_response(lang: str | None) -> Response:
    """Return the static fail-safe page in ``lang`` (both languages when it is unknown)."""
    pages = kiosk().failsafe_pages
    return Response(pages.get(lang, pages[None]), mimetype="text/html")


def render(template: str, **context: Any) -> str:
    """Render one of the kiosk's templates."""
    return kiosk().templates.get_template(template).render(**context)


def _count(lang: str, event: str) -> None:
    try:
        counters.bump(get_db(), CHANNEL, lang, event)
    except Exception as exc:  # a count is never worth a failed page
        log_failure("kiosk count", exc)


def _site(db: sqlite_utils.Database, site_id: str) -> Site:
    """Return the site, or the default one for an address that names no site we know."""
    return get_site(db, site_id) or get_site(db, DEFAULT_SITE) or Site(DEFAULT_SITE)


def _page(site_id: str, lang: str | None, where: str | None) -> BaseResponse:
    rt, db = runtime(), get_db()
    site = _site(db, site_id)
    lang = lang or site_language(site)
    position = decode(rt.flow, where)
    notice = None
    if position.node == rt.flow.zip_node and "zip" in request.args:
        typed = _typed_zip(rt, position)
        if isinstance(typed, Position):
            return redirect(position_url(site, lang, typed), code=303)
        notice = typed
    words = rt.catalogs.bind(lang)
    back = _back(rt, position)
    visit = Visit(db, words, rt.flow, site, position, _linker(site, lang), back, notice)
    built = build(visit)
    # A builder may name its own Back (the ZIP step's pages lead back through its steps).
    html = render(built.template, **{**frame(rt, visit), **built.context})
    counters.bump(db, CHANNEL, lang, f"step:{position.node}")
    return Response(html, mimetype="text/html")


def _typed_zip(rt: Runtime, position: Position) -> Position | str:
    """Return where the ZIP keypad's form leads: the ZIP step for the code typed (and the list it
    was opened from, if any), or the notice to show when it is not five digits."""
    typed = request.args.get("zip", "").strip()
    # ASCII digits only: the position must carry the code exactly as the flow encodes it.
    if not (len(typed) == 5 and typed.isascii() and typed.isdigit()):
        return "kiosk.zip_digits"
    step = enter_zip(rt.flow, _asked_back(rt) or position, typed)
    return step.position if step.understood else "kiosk.zip_digits"


def site_language(site: Site) -> str:
    """Return the language a site's kiosk starts in and returns to when idle."""
    return site.default_language if site.default_language in LANGUAGES else DEFAULT_LANGUAGE


def _linker(site: Site, lang: str) -> Callable[[Position, Position | None], str]:
    def link(position: Position, back: Position | None = None) -> str:
        return position_url(site, lang, position, back)

    return link


def position_url(site: Site, lang: str, position: Position, back: Position | None = None) -> str:
    """Return the address of ``position`` at ``site`` in ``lang``."""
    where = position.encode() if position.node != runtime().flow.start else None
    return url_for(
        "kiosk.page",
        site_id=site.id,
        lang=lang,
        where=where,
        back=back.encode() if back else None,
    )


def _asked_back(rt: Runtime) -> Position | None:
    """Return the place the address says Back leads to (a detail's list), if it is a real one."""
    asked = request.args.get("back")
    back = decode(rt.flow, asked)
    return back if asked and back.encode() == asked else None


def _back(rt: Runtime, position: Position) -> Position | None:
    """Return where Back leads: the list a detail was opened from, or the node's parent."""
    if position.node == rt.flow.start:
        return None
    return _asked_back(rt) or parent_of(rt.flow, position.node) or Position(rt.flow.start)


def frame(rt: Runtime, visit: Visit) -> dict[str, Any]:
    """Return what every page around the node shows: bar, shortcuts, exit and idle reset."""
    flow, site, lang, position = rt.flow, visit.site, visit.words.lang, visit.position
    home = Position(flow.start)
    reset_lang = site_language(site)
    at_rest = position == home and lang == reset_lang
    settings = kiosk()
    return {
        "t": visit.words.t,
        "lang": lang,
        "other_lang": other_language(lang),
        "program": site.program_name(lang) or visit.words.t("program.name"),
        "is_home": position == home,
        "switch_url": position_url(site, other_language(lang), position, _asked_back(rt)),
        "exit_url": exit_url(site, lang),
        "home_url": position_url(site, lang, home),
        "back_url": position_url(site, lang, visit.back) if visit.back else None,
        "talk_url": _talk_url(rt, site, lang, position),
        "reset_url": position_url(site, reset_lang, home),
        # Nothing to reset on the home page in the site's own language.
        "idle": 0 if at_rest else settings.idle_seconds,
        "countdown": settings.countdown_seconds,
        "emergency": visit.words.t("kiosk.emergency", number=settings.emergency_number),
        "css_url": url_for("kiosk.static", filename="kiosk.css"),
        "js_url": url_for("kiosk.static", filename="kiosk.js"),
        "icon_url": url_for("kiosk.static", filename="icon.svg"),
    }


def exit_url(site: Site, lang: str) -> str:
    """Return the neutral page a quick exit shows: the site's own, or our welcome page."""
    # Only a web address or a path on this server: the sites table must not be able to put a
    # script (a javascript: address) behind the Exit button.
    if site.exit_url and site.exit_url.startswith(("https://", "http://", "/")):
        return site.exit_url
    return url_for("kiosk.welcome", site_id=site.id, lang=lang)


def _talk_url(rt: Runtime, site: Site, lang: str, position: Position) -> str | None:
    """Return the persistent "talk to someone now" button's address (none on that very page)."""
    if position.node == rt.flow.talk_node:
        return None
    return position_url(site, lang, Position(rt.flow.talk_node))


# --- Start-up ---------------------------------------------------------------------------------


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(KIOSK_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _failsafe_pages(
    app: Flask, prepared: Kiosk, catalogs: Catalogs, hotline: str
) -> dict[str | None, str]:
    """Render the fail-safe page in each language, and in both, once, with no database."""
    pages: dict[str | None, str] = {}
    with app.test_request_context("/kiosk"):
        for lang in (*LANGUAGES, None):
            shown = [lang] if lang else list(LANGUAGES)
            words = [catalogs.bind(code) for code in shown]
            pages[lang] = prepared.templates.get_template("failsafe.html").render(
                **_failsafe_context(prepared, words, hotline)
            )
    return pages


def _failsafe_context(prepared: Kiosk, words: list[Words], hotline: str) -> dict[str, Any]:
    first = words[0]
    return {
        "t": first.t,
        "lang": first.lang,
        "sections": [
            {
                "lang": w.lang,
                "t": w.t,
                "emergency": w.t("kiosk.emergency", number=prepared.emergency_number),
            }
            for w in words
        ],
        "hotline": display_number(hotline),
        "program": first.t("program.name"),
        "is_home": True,
        "exit_url": url_for("kiosk.welcome", site_id=DEFAULT_SITE, lang=first.lang),
        "retry_url": url_for("kiosk.page"),
        "reset_url": url_for("kiosk.page"),
        "idle": prepared.idle_seconds,
        "countdown": prepared.countdown_seconds,
        "css_url": url_for("kiosk.static", filename="kiosk.css"),
        "js_url": url_for("kiosk.static", filename="kiosk.js"),
        "icon_url": url_for("kiosk.static", filename="icon.svg"),
    }


def _timings(app: Flask) -> tuple[int, int]:
    idle, countdown = app.config["KIOSK_IDLE_SECONDS"], app.config["KIOSK_COUNTDOWN_SECONDS"]
    if idle < 1:
        raise ConfigError("HOTLINE_BRIDGE_KIOSK_IDLE_SECONDS must be at least 1")
    # Only a test app may shorten the countdown, so browser tests need not wait 20 seconds.
    if countdown < MIN_COUNTDOWN_SECONDS and not (app.testing and countdown >= 1):
        raise ConfigError(
            f"HOTLINE_BRIDGE_KIOSK_COUNTDOWN_SECONDS must be at least {MIN_COUNTDOWN_SECONDS}"
        )
    return idle, countdown


def init_app(app: Flask) -> None:
    """Register the kiosk pages and prepare the fail-safe page, with no database involved."""
    app.register_blueprint(bp)
    rt: Runtime = app.extensions["hotline_bridge"]
    lines = {row["id"]: row for row in read_national_lines()}
    idle, countdown = _timings(app)
    prepared = Kiosk(_templates(), idle, countdown, lines[rt.flow.emergency]["voice"], {})
    pages = _failsafe_pages(app, prepared, rt.catalogs, rt.failsafe.hotline_phone)
    prepared.failsafe_pages.update(pages)
    app.extensions["hotline_bridge.kiosk"] = prepared
