"""The console's own signed cookie, which never mixes with the SMS conversation cookie.

Requests under ``/console`` get it as Flask's session (the app's session interface, in
``app.py``, gives every other request none): its own name, salt and path; HttpOnly,
SameSite=Strict, Secure outside local mode. The SMS conversation cookie is the Messaging
webhook's own (``channels.sms.sessions``). A console cookie sent to a webhook is never read
there (wrong name, and the browser does not send it outside ``/console``), and an SMS cookie
sent to the console fails the console's signature check.
"""

from __future__ import annotations

import re

from flask import Flask, Request
from flask.sessions import (
    SecureCookieSession,
    SecureCookieSessionInterface,
)
from itsdangerous import BadSignature

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


# The console's paths: ``/console`` and everything under it.
CONSOLE_PATH = re.compile(re.escape(PREFIX) + r"(?:/|\Z)")


def is_console(path: str) -> bool:
    """Return whether a request path belongs to the console."""
    return CONSOLE_PATH.match(path) is not None
