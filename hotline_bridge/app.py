"""The web app: settings, database, every channel's routes and the console (`create_app`), and
what every request gets around its route: its session (the console's cookie under ``/console``,
none elsewhere), the security headers, and its count and time for the metrics."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Flask, Request, Response, g, request
from flask.sessions import NullSession, SessionInterface, SessionMixin

from hotline_bridge import console, counters, home, optin, privacy_page, settings, webhooks
from hotline_bridge.channels import whatsapp
from hotline_bridge.channels.kiosk import routes as kiosk
from hotline_bridge.channels.kiosk.routes import SECURITY_HEADERS
from hotline_bridge.channels.sms import routes as sms
from hotline_bridge.channels.voice import callback as voice_callback
from hotline_bridge.channels.voice import routes as voice
from hotline_bridge.console.cookie import CONSOLE_PATH, ConsoleCookie, ConsoleSession
from hotline_bridge.directory import store as db
from hotline_bridge.ops import metrics
from hotline_bridge.privacy import install_log_redaction
from hotline_bridge.runtime import load_runtime
from hotline_bridge.settings import ConfigError

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from ``HOTLINE_BRIDGE_*`` variables, overridden by ``config``.

    Start-up checks everything a request will rely on (settings, flow, catalogs, database) and
    raises a named error instead of serving a half-working line.
    """
    install_log_redaction()
    app = Flask("hotline_bridge", instance_relative_config=True)
    app.config.from_prefixed_env(prefix=settings.ENV_PREFIX)
    app.config.update(config or {})
    app.config.update(settings.load(app.config))
    app.config["DATABASE"] = str(settings.resolve_path(app.config["DATABASE"]))
    app.config.update(
        SESSION_COOKIE_NAME="s",
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=app.config["SESSION_MINUTES"]),
    )
    app.session_interface = Sessions()
    app.extensions["hotline_bridge"] = load_runtime(app)
    _init_database(app)
    counters.init_app(app)
    metrics.init_app(app)
    webhooks.init_app(app)
    sms.init_app(app, others=(whatsapp.TEXT_CHANNEL,))
    voice.init_app(app)
    voice_callback.init_app(app)
    kiosk.init_app(app)
    console.init_app(app)
    home.init_app(app)
    privacy_page.init_app(app)
    optin.init_app(app)
    _register_health(app)
    app.before_request(_start_timer)
    app.after_request(_finish)
    return app


# What start-up says, and what to do, when SQLite refuses the database file.
_DATABASE_REFUSALS = {
    "SQLITE_BUSY": "another program holds it locked (an import, a backup?); let it finish, then "
    "start again",
    "SQLITE_LOCKED": "another program holds it locked (an import, a backup?); let it finish, then "
    "start again",
    "SQLITE_READONLY": "it is read-only; let the service's user write the file and its folder "
    "(SQLite keeps its -wal and -shm files beside it)",
    "SQLITE_CANTOPEN": "it cannot be opened; check that its folder exists and that the service's "
    "user may write there",
    "SQLITE_PERM": "the service's user may not write it; fix the file's and its folder's "
    "permissions",
    "SQLITE_FULL": "the disk is full; free some space, then start again",
    "SQLITE_NOTADB": "it is not a SQLite database; restore it from a backup, or move it aside to "
    "start with a new one",
    "SQLITE_CORRUPT": "it is damaged; restore it from a backup, or move it aside to start with a "
    "new one",
}


def _init_database(app: Flask) -> None:
    """Open, migrate and seed the database, refusing to start in one line when SQLite cannot."""
    path = app.config["DATABASE"]
    try:
        db.init_app(app)
    except sqlite3.Error as exc:
        name = getattr(exc, "sqlite_errorname", "")
        what = _DATABASE_REFUSALS.get(name, f"SQLite says {exc}")
        raise ConfigError(f"database {path}: {what}") from None
    except OSError as exc:  # its folder cannot be made
        raise ConfigError(f"database {path}: {exc.strerror}; check the folder") from None


class NoSession(NullSession):
    """What Flask's ``session`` is outside the console: empty, and refusing writes.

    No request but the console's has a Flask session. The SMS conversation's state is read and
    written by the Messaging webhook (``channels.sms.sessions``); the kiosk and the voice line
    keep none. A write here is a bug, and says so instead of setting a cookie nobody reads.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("no Flask session outside the console (see ConversationCookie)")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse


class Sessions(SessionInterface):
    """Flask's session, the console's alone: its signed cookie (``console.cookie``) under
    ``/console``, and on every other request none (``NoSession``)."""

    null_session_class = NoSession

    def __init__(self) -> None:
        self.console = ConsoleCookie()

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if CONSOLE_PATH.match(request.path):
            return self.console.open_session(app, request)
        return None  # Flask then makes the null session, ``NoSession``, itself

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, ConsoleSession):
            self.console.save_session(app, session, response)


def _start_timer() -> None:
    g.hotline_bridge_started = time.perf_counter()


# Each route's and status's count and latency (``labels`` checks and locks
# at every call; routes and statuses are few, so this stays small).
_LABELLED: dict[tuple[str, int], tuple[Any, Any]] = {}


def _finish(response: Response) -> Response:
    """Give every response (app-level 404 and 405 pages too) the kiosk's security headers:
    nothing cached, no referrer, no framing, nothing loaded from elsewhere; then count it and
    its time under its route's pattern, never its path (which may hold what was sent)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    headers.extend([(name, value) for low, name, value in _SECURITY if low not in present])
    rule, status = request.url_rule, response.status_code
    route = rule.rule if rule is not None else metrics.UNMATCHED
    held = _LABELLED.get((route, status))
    if held is None:
        held = _LABELLED[(route, status)] = (
            metrics.REQUESTS.labels(route, str(status)),
            metrics.LATENCY.labels(route),
        )
    held[0].inc()
    started = g.pop("hotline_bridge_started", None)
    if started is not None:
        held[1].observe(time.perf_counter() - started)
    return response


# The security headers in order, each with its name in lower case; a response that already has
# one keeps its own.
_SECURITY = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS.items())


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        """Report whether the database answers, for load balancers and monitors."""
        try:
            with db.open_db(app) as conn:
                conn.execute("select count(*) from services").fetchone()
        except Exception as exc:
            webhooks.log_failure("/healthz", exc)
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200
