"""The kiosk channel: the flow as large-type pages for a lobby touch screen, with a quick way out.

Pages live at ``/kiosk/<site>/<lang>/<position>``: the language and the place ride in the address,
so the server keeps nothing about the person and sets no cookie (the screen's size, which sizes a
list, comes as client hints or as ``?view=390x844``: see ``room``). Every kiosk response forbids
caching, referrers and framing, and allows no script or style that is not served from here. Any
failure shows a static page, prepared at start-up, with the 24/7 hotline and 911.

The ZIP keypad is a GET form back to the ZIP step's own address (``?zip=02139&back=legal``);
the answer is a redirect to the position that carries the ZIP code. The code is never stored,
and the app's log redaction hides it (any run of five digits) wherever an address is logged.

A page is one turn of ``channels.turn``: the address is read, the site found, the engine shows
the screen, ``pages.build`` writes it, and the pipeline counts the step and fails safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
import sqlite_utils
from flask import Blueprint, Flask, Response, current_app, redirect, request, url_for
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response as BaseResponse

from hotline_bridge.channels import turn
from hotline_bridge.channels.kiosk import room
from hotline_bridge.channels.kiosk.pages import CAPABILITIES, Visit, build
from hotline_bridge.directory.models import Site, display_number, get_site, kiosk_home_site
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import DEFAULT_SITE
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE, Catalogs, Words
from hotline_bridge.engine.flow import Flow, Position, decode
from hotline_bridge.engine.screen import BACK, Notice, Screen
from hotline_bridge.engine.step import Turn, as_zip, enter_zip, show
from hotline_bridge.runtime import Runtime, runtime
from hotline_bridge.settings import ConfigError

CHANNEL = "kiosk"
KIOSK_DIR = Path(__file__).parent

# The kinds of page whose length depends on the screen's size (``room``), and the address
# argument that carries the size where the browser sends no client hints.
SIZED_KINDS = frozenset({"list", "nearby"})
VIEW_ARG = "view"

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

log = logging.getLogger(__name__)


class LanguageConverter(BaseConverter):
    """A language code in a kiosk address; whether its catalog is present is checked by the
    view, since the languages offered are the catalogs found at start-up."""

    regex = r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?"


_LANG = "lang"

bp = Blueprint(
    "kiosk", __name__, static_folder=str(KIOSK_DIR / "static"), static_url_path="/kiosk/static"
)


@dataclass(frozen=True)
class Kiosk:
    """What the kiosk prepares at start-up: its templates, timings and fail-safe pages."""

    templates: jinja2.Environment
    idle_seconds: int
    countdown_seconds: int
    welcome_seconds: int
    emergency_number: str
    failsafe_pages: dict[str | None, str]


def kiosk() -> Kiosk:
    """Return the current app's kiosk."""
    return current_app.extensions["hotline_bridge.kiosk"]


@bp.after_request
def _protect(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    # The viewport's size, so that a list page holds as many entries as the screen has room for;
    # critical, so that Chromium asks again with it for the first page it opens here.
    response.headers["Accept-CH"] = response.headers["Critical-CH"] = ", ".join(room.HINTS)
    response.vary.update(room.HINTS)
    return response


@bp.get("/kiosk", defaults={"site_id": None, "lang": None, "where": None})
@bp.get("/kiosk/<site_id>", defaults={"lang": None, "where": None})
@bp.get(f"/kiosk/<site_id>/<{_LANG}:lang>", defaults={"where": None})
@bp.get(f"/kiosk/<site_id>/<{_LANG}:lang>/<where>")
def page(site_id: str | None, lang: str | None, where: str | None) -> BaseResponse:
    """Show one step of the flow in large type, in the language the address names (a bare
    ``/kiosk`` shows the only clinic's, if there is one)."""
    return turn.run(PAGE)


@bp.get("/kiosk/<site_id>/<path:_rest>")
def stray(site_id: str, _rest: str) -> BaseResponse:
    """Answer an address the kiosk never links to with the site's home page."""
    return page(site_id, None, None)


@bp.get("/welcome", defaults={"site_id": DEFAULT_SITE, "lang": DEFAULT_LANGUAGE})
@bp.get(f"/welcome/<site_id>/<{_LANG}:lang>")
def welcome(site_id: str, lang: str) -> BaseResponse:
    """Show the neutral hospital welcome page a quick exit leaves on the screen."""
    return turn.run(WELCOME)


def _read_welcome() -> tuple[str, str]:
    args = request.view_args or {}
    site_id, lang = args.get("site_id", DEFAULT_SITE), args.get("lang", DEFAULT_LANGUAGE)
    return site_id, lang if lang in runtime().catalogs.languages else DEFAULT_LANGUAGE


def _welcome_page(place: turn.Place[tuple[str, str]], given: tuple[str, str], _: None) -> turn.Done:
    site_id, lang = given
    words = place.runtime.catalogs.bind(lang)
    html = render(
        "welcome.html",
        t=words.t,
        lang=lang,
        css_url=url_for("kiosk.static", filename="kiosk.css"),
        icon_url=url_for("kiosk.static", filename="icon.svg"),
        start_url=url_for("kiosk.page", site_id=site_id),
        js_url=url_for("kiosk.static", filename="kiosk.js"),
        wait=kiosk().welcome_seconds,
    )
    return turn.Done(Response(html, mimetype="text/html"), [(lang, "exit")])


WELCOME = turn.Channel[tuple[str, str], None](
    name=CHANNEL,
    read=_read_welcome,
    step=lambda place, given: None,
    render=_welcome_page,
    fail_safe=lambda given: failsafe_response(given[1] if given else None),
)


def failsafe_response(lang: str | None) -> Response:
    """Return the static fail-safe page in ``lang`` (every language when it is unknown)."""
    pages = kiosk().failsafe_pages
    return Response(pages.get(lang, pages[None]), mimetype="text/html")


def render(template: str, **context: Any) -> str:
    """Render one of the kiosk's templates."""
    return kiosk().templates.get_template(template).render(**context)


def _unknown_site(site_id: str, lang: str | None) -> Response:
    """Answer a kiosk address that names no site: 404, still with the 24/7 line and 911. The
    address is the kiosk's own set-up, not a person's, so naming it in the log is safe."""
    log.warning("kiosk address names no site: %r", site_id[:64])
    response = failsafe_response(lang)
    response.status_code = 404
    return response


@dataclass(frozen=True)
class Asked:
    """A kiosk address as the turn reads it: the site, language and place it names, the ZIP
    code typed on the keypad (None: none), and the screen's size where the browser says."""

    site_id: str | None
    lang: str | None
    where: str | None
    typed: str | None
    # The screen's size as the script wrote it into the address (measured as the person
    # touched the link), and as the browser's client hints say.
    written: room.Viewport | None
    hinted: room.Viewport | None

    @property
    def view(self) -> room.Viewport | None:
        return self.written or self.hinted


def _read_page() -> Asked:
    args = request.view_args or {}
    lang, where = args.get("lang"), args.get("where")
    if lang is not None and lang not in runtime().catalogs.languages:
        lang, where = None, None  # a language we do not offer: the home page
    typed = request.args.get("zip") if "zip" in request.args else None
    written, hinted = room.written(request.args.get(VIEW_ARG)), room.viewport(request.headers)
    return Asked(args.get("site_id"), lang, where, typed, written, hinted)


class UnknownSite(LookupError):
    """A kiosk address names no site."""


def _site(db: sqlite_utils.Database, asked: Asked) -> Site:
    site_id = asked.site_id or kiosk_home_site(db)
    site = get_site(db, site_id)
    if site is None:
        raise UnknownSite(site_id)
    return site


@dataclass(frozen=True)
class Shown:
    """What a kiosk page shows: the screen at a position, or where the ZIP keypad leads, or
    nothing for an address that names no site."""

    site: Site | None = None
    lang: str = DEFAULT_LANGUAGE
    flow: Flow | None = None
    screen: Screen | None = None
    node: str = ""  # the node the address names, which the page is counted under
    redirect_to: str | None = None
    unknown: str | None = None


def _show(place: turn.Place[Asked], asked: Asked) -> Shown:
    try:
        site = place.site
    except UnknownSite as unknown:
        return Shown(unknown=str(unknown))
    lang = asked.lang or site_language(site)
    flow = sized_flow(place.runtime.flow, asked.view)
    position = decode(flow, asked.where)
    directory = place.directory
    if position.node == flow.zip_node and asked.typed is not None:
        typed = _typed_zip(flow, position, lang, directory, asked.typed)
        if typed.understood:
            found = position_url(site, lang, typed.screen.position)
            return Shown(site, lang, redirect_to=_with_view(found, asked.written))
        return Shown(site, lang, flow, typed.screen, position.node)
    screen = show(flow, position, lang, directory, CAPABILITIES)
    return Shown(site, lang, flow, screen, position.node)


def _page(place: turn.Place[Asked], asked: Asked, shown: Shown) -> turn.Done:
    """Write the page the engine's screen makes, counted as a step of its node."""
    if shown.unknown is not None:
        return turn.Done(_unknown_site(shown.unknown, asked.lang))
    if shown.redirect_to is not None:
        return turn.Done(redirect(shown.redirect_to, code=303))
    site, flow, screen, lang = shown.site, shown.flow, shown.screen, shown.lang
    assert site is not None and flow is not None and screen is not None
    rt = place.runtime
    visit = Visit(rt.catalogs.bind(lang), flow, site, screen, _linker(site, lang))
    built = build(visit)
    # A list sized without the screen's size asks the script to load it again with it; where
    # the browser sends the size itself, the script need not write it into addresses.
    ask = asked.view is None and screen.kind in SIZED_KINDS
    hints_only = asked.hinted is not None and asked.written is None
    sized = {"view": "ask" if ask else "hints" if hints_only else None}
    html = render(built.template, **{**frame(rt, visit), **built.context, **sized})
    return turn.Done(Response(html, mimetype="text/html"), [(lang, f"step:{shown.node}")])


def _with_view(url: str, view: room.Viewport | None) -> str:
    """Return ``url`` with the screen's size as the script wrote it into this address, so that
    the page it leads to is sized too (client hints go with every request by themselves)."""
    return f"{url}?{urlencode({VIEW_ARG: room.write(view)})}" if view else url


def _failsafe_page(asked: Asked | None) -> Response:
    lang = asked.lang if asked else (request.view_args or {}).get("lang")
    return failsafe_response(lang)


PAGE = turn.Channel[Asked, Shown](
    name=CHANNEL, read=_read_page, site=_site, step=_show, render=_page, fail_safe=_failsafe_page
)


def _typed_zip(
    flow: Flow, position: Position, lang: str, directory: SiteDirectory, typed_text: str
) -> Turn:
    """Return the answer to the ZIP keypad's form: the ZIP step for the code typed (and the
    kind of help the keypad was opened for, if any), or the keypad again with a notice."""
    typed = as_zip(typed_text)
    if typed is None:
        screen = show(flow, position, lang, directory, CAPABILITIES, (Notice("zip.digits"),))
        return Turn(screen, understood=False)
    return enter_zip(flow, position, typed, lang, directory, CAPABILITIES)


# Each flow at each set of page sizes a screen has asked for (a handful: one per kind of screen).
_SIZED: dict[tuple[int, ...], tuple[Flow, Flow]] = {}


def sized_flow(flow: Flow, view: room.Viewport | None) -> Flow:
    """Return ``flow`` with its lists, and the services near a ZIP code, paged at the sizes
    ``view`` has room for (for a browser that does not say, the sizes the smallest phone has
    room for: see ``room``).

    Only the kiosk's pages change: the page of a list in an address is read at the size the
    screen showing it has room for, and the other channels keep the flow's sizes."""
    near = flow.nodes[flow.zip_node] if flow.zip_node else None
    near_size = near.page_size if near and near.page_size else flow.page_size
    lists = room.list_page_size(view, flow.page_size)
    results = room.results_page_size(view, near_size)
    # A list short enough to show whole, without paging buttons (the five 24/7 lines on a
    # short phone), with and without the button that searches near a ZIP code.
    whole = (room.whole_list_size(view, False), room.whole_list_size(view, True))
    if (lists, results) == (flow.page_size, near_size) and max(whole) <= lists:
        return flow
    key = (id(flow), lists, results, *whole)
    held = _SIZED.get(key)
    if held is None or held[0] is not flow:  # an id may be reused once a flow is gone
        nodes = dict(flow.nodes)
        searchable = set(flow.zip_kinds()) if not CAPABILITIES.zip_anywhere else set()
        for node in flow.nodes.values():
            if node.type == "list":
                nodes[node.id] = replace(node, whole_page=whole[node.id in searchable])
        if near is not None:
            nodes[near.id] = replace(near, page_size=results)
        held = _SIZED[key] = (flow, replace(flow, page_size=lists, nodes=nodes))
    return held[1]


def site_language(site: Site) -> str:
    """Return the language a site's kiosk starts in and returns to when idle."""
    languages = runtime().catalogs.languages
    return site.default_language if site.default_language in languages else DEFAULT_LANGUAGE


def _linker(site: Site, lang: str) -> Callable[[Position], str]:
    def link(position: Position) -> str:
        return position_url(site, lang, position)

    return link


def position_url(site: Site, lang: str, position: Position) -> str:
    """Return the address of ``position`` at ``site`` in ``lang``."""
    where = position.encode() if position != Position(runtime().flow.start) else None
    return url_for("kiosk.page", site_id=site.id, lang=lang, where=where)


def _languages(rt: Runtime, site: Site, lang: str, position: Position) -> list[dict[str, str]]:
    """Return the other languages offered, each with the address of this page in it."""
    return [
        {
            "lang": other,
            "label": rt.catalogs.bind(other).t("kiosk.language_name"),
            "url": position_url(site, other, position),
        }
        for other in rt.catalogs.languages
        if other != lang
    ]


def frame(rt: Runtime, visit: Visit) -> dict[str, Any]:
    """Return what every page around the screen shows: bar, shortcuts, exit and idle reset."""
    flow, site, lang, screen = rt.flow, visit.site, visit.words.lang, visit.screen
    position = screen.position
    home = Position(flow.start)
    reset_lang = site_language(site)
    at_rest = position == home and lang == reset_lang
    settings = kiosk()
    others = _languages(rt, site, lang, position)
    link = visit.link
    back = screen.by_role(BACK)
    return {
        "t": visit.words.t,
        "lang": lang,
        "languages": others,
        "program": site.program_name(lang) or visit.words.t("program.name"),
        "is_home": position == home,
        "exit_url": exit_url(site, lang),
        "home_url": link(home),
        "back_url": link(back.target) if back and back.target else None,
        # Talk now stays in its place on its own page too, marked as the page shown.
        "talk_url": link(Position(flow.talk_node)),
        "at_talk": position.node == flow.talk_node,
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
    """Return the neutral page a quick exit shows: a page of this server the site names, an
    https:// page the clinic confirmed, or else our welcome page, which returns to the kiosk."""
    chosen = site.exit_url or ""
    # Another site may be unreachable from the lobby, and a browser's error page would strand
    # the kiosk; a javascript: address would run a script behind the Exit button.
    if _on_this_server(chosen) or (chosen.startswith("https://") and site.exit_url_confirmed):
        return chosen
    return url_for("kiosk.welcome", site_id=site.id, lang=lang)


def _on_this_server(url: str) -> bool:
    """Whether ``url`` is a path on this server or an address of its own origin."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        # A path, but not "//host" or "/\\host", which browsers read as another server.
        return url.startswith("/") and not url.startswith(("//", "/\\"))
    return f"{parts.scheme}://{parts.netloc}/" == request.host_url


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
        for lang in (*catalogs.languages, None):
            shown = [lang] if lang else list(catalogs.languages)
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


def _timings(app: Flask) -> tuple[int, int, int]:
    idle, countdown = app.config["KIOSK_IDLE_SECONDS"], app.config["KIOSK_COUNTDOWN_SECONDS"]
    welcome = app.config["KIOSK_WELCOME_SECONDS"]
    for name, seconds in (("IDLE", idle), ("WELCOME", welcome)):
        if seconds < 1:
            raise ConfigError(f"HOTLINE_BRIDGE_KIOSK_{name}_SECONDS must be at least 1")
    # Only a test app may shorten the countdown, so browser tests need not wait 20 seconds.
    if countdown < MIN_COUNTDOWN_SECONDS and not (app.testing and countdown >= 1):
        raise ConfigError(
            f"HOTLINE_BRIDGE_KIOSK_COUNTDOWN_SECONDS must be at least {MIN_COUNTDOWN_SECONDS}"
        )
    return idle, countdown, welcome


def init_app(app: Flask) -> None:
    """Register the kiosk pages and prepare the fail-safe page, with no database involved."""
    app.url_map.converters[_LANG] = LanguageConverter
    app.register_blueprint(bp)
    rt: Runtime = app.extensions["hotline_bridge"]
    idle, countdown, welcome = _timings(app)
    prepared = Kiosk(_templates(), idle, countdown, welcome, rt.failsafe.emergency_phone, {})
    pages = _failsafe_pages(app, prepared, rt.catalogs, rt.failsafe.hotline_phone)
    prepared.failsafe_pages.update(pages)
    app.extensions["hotline_bridge.kiosk"] = prepared
