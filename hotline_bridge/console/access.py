"""Who may do what in the console: the signed-in account, its site, and the words it reads.

Every view goes through ``signed_in`` (no session, no page); every write names the site it
touches through ``require_site``, which answers 403 to site staff outside their own site.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import sqlite_utils
from babel import Locale, UnknownLocaleError
from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from hotline_bridge.console import auth
from hotline_bridge.console.store import Staff
from hotline_bridge.directory.store import DEFAULT_SITE, get_db
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE, Words
from hotline_bridge.runtime import runtime

View = TypeVar("View", bound=Callable[..., Any])


def now() -> dt.datetime:
    """Return the moment the current request is handled (UTC)."""
    if "console_now" not in g:
        g.console_now = dt.datetime.now(dt.UTC)
    return cast(dt.datetime, g.console_now)


def db() -> sqlite_utils.Database:
    """Return this worker's database connection."""
    return get_db()


def languages() -> tuple[str, ...]:
    """Return the languages the console is offered in: every language the line has catalogs for."""
    return runtime().catalogs.languages


def lang() -> str:
    """Return the console's language for this browser."""
    chosen = session.get("lang")
    return chosen if chosen in languages() else DEFAULT_LANGUAGE


def babel_language(language: str) -> str:
    """Return ``language`` if Babel can write its dates, else the default (a language added as
    a catalog folder may be one Babel does not know)."""
    try:
        Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LANGUAGE
    return language


def words() -> Words:
    """Return the catalogs bound to the console's language."""
    return runtime().catalogs.bind(lang())


def idle_limit() -> dt.timedelta:
    """Return how long a console session may stay unused."""
    return dt.timedelta(minutes=current_app.config["CONSOLE_IDLE_MINUTES"])


def current_session() -> auth.Session | None:
    """Return this request's live console session, if any (loaded once per request)."""
    if "console_session" not in g:
        g.console_session = auth.load_session(db(), session.get("sid"), now(), idle_limit())
    return cast("auth.Session | None", g.console_session)


def staff() -> Staff:
    """Return the signed-in account (only inside ``signed_in`` views)."""
    found = current_session()
    assert found is not None
    return found.staff


def signed_in(view: View) -> View:
    """Let only a fully signed-in account (password and one-time code) reach ``view``."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        found = current_session()
        if found is None or found.stage != auth.SIGNED_IN:
            if request.method != "GET":
                abort(401)
            return redirect(url_for("console.sign_in"))
        return view(*args, **kwargs)

    return cast(View, wrapped)


def admin_only(view: View) -> View:
    """Let only an administrator reach ``view`` (403 for site staff)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not staff().admin:
            abort(403)
        return view(*args, **kwargs)

    return signed_in(cast(View, wrapped))


def require_site(site: str | None) -> str:
    """Return ``site`` if the signed-in account may see and change it; else answer 403."""
    if site is None or not staff().may_see(site):
        abort(403)
    return site


def chosen_site() -> str:
    """Return the site a page is about: the account's own, or the one an admin picked."""
    me = staff()
    wanted = request.values.get("site") or me.site
    return require_site(wanted or DEFAULT_SITE)


def who() -> str:
    """Return how the audit log names the signed-in account."""
    return staff().email


def back_to(endpoint: str, **values: Any) -> Response:
    """Redirect after a write (POST, redirect, GET)."""
    return redirect(url_for(endpoint, **values), code=303)
