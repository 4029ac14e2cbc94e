"""The web app: settings, database, every channel's routes and the console (`create_app`)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from hotline_bridge import console, counters, home, optin, privacy_page, settings, webhooks
from hotline_bridge.channels import whatsapp
from hotline_bridge.channels.kiosk import routes as kiosk
from hotline_bridge.channels.kiosk.routes import SECURITY_HEADERS
from hotline_bridge.channels.sms import routes as sms
from hotline_bridge.channels.voice import callback as voice_callback
from hotline_bridge.channels.voice import routes as voice
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
    app.after_request(_baseline_headers)
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


def _baseline_headers(response: Response) -> Response:
    """Give every response (app-level 404 and 405 pages too) the kiosk's security headers:
    nothing cached, no referrer, no framing, nothing loaded from elsewhere."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    headers.extend([(name, value) for low, name, value in _SECURITY if low not in present])
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
