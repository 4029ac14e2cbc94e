"""hotline-bridge: a discreet, bilingual SMS, voice and kiosk line to 24/7 and local help."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from hotline_bridge import console, settings, webhooks
from hotline_bridge.channels.kiosk import routes as kiosk
from hotline_bridge.channels.sms import routes as sms
from hotline_bridge.channels.sms import sessions
from hotline_bridge.channels.voice import routes as voice
from hotline_bridge.directory import store as db
from hotline_bridge.privacy import install_log_redaction
from hotline_bridge.runtime import load_runtime

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from ``HOTLINE_BRIDGE_*`` variables, overridden by ``config``.

    Start-up checks everything a request will rely on (settings, flow, catalogs, database) and
    raises a named error instead of serving a half-working line.
    """
    install_log_redaction()
    app = Flask(__name__, instance_relative_config=True)
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
    db.init_app(app)
    webhooks.init_app(app)
    sessions.init_app(app)
    sms.init_app(app)
    voice.init_app(app)
    kiosk.init_app(app)
    console.init_app(app)
    _register_health(app)
    return app


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
