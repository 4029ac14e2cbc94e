"""The SMS conversation cookie: Flask's signed session, with its signer built once per app.

Flask builds a new signer for every load and save of the session; on a webhook that answers in a
fraction of a millisecond that is a measurable share of the work, and the key never changes
while the app runs.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSignerSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, reusing one signer per app."""

    def __init__(self) -> None:
        self._serializer: URLSafeTimedSerializer | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the app's signer, built on first use."""
        if self._serializer is None:
            self._serializer = super().get_signing_serializer(app)
        return self._serializer


def init_app(app: Flask) -> None:
    """Give ``app`` its own session interface with a cached signer."""
    app.session_interface = CachedSignerSessions()
