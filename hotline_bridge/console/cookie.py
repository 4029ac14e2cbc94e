"""Two cookies that never mix: the SMS conversation cookie and the console's own.

Flask has one session interface per app. This one hands requests under ``/console`` a separate
signed cookie (its own name, salt and path; HttpOnly, SameSite=Strict, Secure outside local mode)
and every other request no session at all: the SMS conversation cookie is the Messaging
webhook's own (``channels.sms.sessions``). A console cookie sent to a webhook
is never read there (wrong name, and the browser does not send it outside ``/console``), and an
SMS cookie sent to the console fails the console's signature check.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE_NAME = "hb_console"
PREFIX = "/console"


class ConsoleSession(SecureCookieSession):
    """The console's signed cookie: a session token, the CSRF secret and the language."""


class ConsoleCookie(SecureCookieSessionInterface):
    """The console's cookie, signed apart from the SMS cookie."""

    salt = "hotline-bridge-console"
    session_class = ConsoleSession

    def get_cookie_name(self, app: Flask) -> str:
        return COOKIE_NAME

    def get_cookie_path(self, app: Flask) -> str:
        return PREFIX

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True

    def get_cookie_secure(self, app: Flask) -> bool:
        return not app.config["LOCAL"]

    def get_cookie_samesite(self, app: Flask) -> str:
        return "Strict"

    def get_expiration_time(self, app: Flask, session: object) -> None:
        # A browser-session cookie: inactivity is enforced by the server-side session row.
        return None

    def open_session(self, app: Flask, request: Request) -> ConsoleSession | None:
        """Read the cookie with no age limit of its own. Flask's would be the SMS
        conversation's lifetime, counted from the last time the cookie was written (sign-in),
        and signed staff out in the middle of their work; the server-side session row judges
        inactivity instead (``CONSOLE_IDLE_MINUTES``)."""
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            return self.session_class(signer.loads(value))
        except BadSignature:
            return self.session_class()


def is_console(path: str) -> bool:
    """Return whether a request path belongs to the console."""
    return path == PREFIX or path.startswith(PREFIX + "/")


class SplitSessions(SessionInterface):
    """Give requests under ``/console`` the console cookie, and every other request none."""

    def __init__(self, conversation: SessionInterface) -> None:
        self.conversation = conversation
        self.console = ConsoleCookie()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Open the console's cookie under ``/console``; give every other request the empty
        session that refuses writes (``NoSession``) at once."""
        if is_console(request.path):
            return self.console.open_session(app, request)
        return self.conversation.null_session_class()

    def make_null_session(self, app: Flask) -> NullSession:
        """Return the session of a request outside the console (see ``NoSession``)."""
        return self.conversation.make_null_session(app)

    def save_session(self, app: Flask, session: object, response: Response) -> None:
        chosen = self.console if isinstance(session, ConsoleSession) else self.conversation
        chosen.save_session(app, session, response)  # type: ignore[arg-type]

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the conversation cookie's signer (what the simulators and the print proof
        read a conversation's state with); the console's own cookie is never read that way."""
        return self.conversation.get_signing_serializer(app)  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Wrap the app's session interface so the console gets its own cookie."""
    app.session_interface = SplitSessions(app.session_interface)
