"""The SMS conversation cookie, read and written by the Messaging webhook, signed by a lean
signer of our own.

The cookie holds four short values (language, position, opted out, site). It used to be Flask's
session; but on a webhook that answers in well under a millisecond, Flask's session machinery
(opening a session for every request, tracking changes, writing every cookie attribute, and a
signer that derives its key, tags every value and tries to compress the payload each time) was
a fifth of the work. Here the webhook reads and writes the cookie itself, under Flask's session
settings (Flask's own session is the console's alone: ``app.Sessions``), and this signer writes
compact JSON, the time it was signed and an HMAC-SHA256 over both, with a key derived once from
``SECRET_KEY``. A cookie signed by another key, altered, or
older than the session lifetime reads as no conversation at all.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, SignatureExpired
from werkzeug.http import dump_cookie, http_date

# What the key is derived for: a cookie signed for anything else never verifies here.
SALT = b"hotline-bridge-conversation"
# Compact JSON, made once (``json.dumps`` with options builds an encoder on every call).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class ConversationSigner:
    """Signs a conversation's state as ``payload.stamp.signature`` (each part URL-safe base64
    without padding, the stamp in hex) and reads it back."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        # Keyed once; each signature starts from a copy of this state.
        self._mac = hmac.new(hmac.new(raw, SALT, hashlib.sha256).digest(), None, hashlib.sha256)

    def dumps(self, data: Mapping[str, Any], now: float | None = None) -> str:
        """Return ``data`` signed, stamped with ``now`` (seconds since the epoch)."""
        payload = base64.urlsafe_b64encode(_COMPACT.encode(dict(data)).encode()).rstrip(b"=")
        stamp = int(time.time() if now is None else now)
        message = f"{payload.decode('ascii')}.{stamp:x}"
        mac = self._mac.copy()
        mac.update(message.encode("ascii"))
        signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")
        return f"{message}.{signature}"

    def loads(
        self, value: str, max_age: int | None = None, now: float | None = None
    ) -> dict[str, Any]:
        """Return what ``value`` holds; ``BadSignature`` when it was not signed here or was
        altered, ``SignatureExpired`` when it is older than ``max_age`` seconds."""
        message, _, signature = value.rpartition(".")
        payload, _, stamp = message.partition(".")
        mac = self._mac.copy()
        try:
            mac.update(message.encode("ascii"))
            expected = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")
            good = hmac.compare_digest(expected, signature)
        except (UnicodeEncodeError, TypeError):  # not ASCII: nothing we signed
            good = False
        if not good:
            raise BadSignature("conversation cookie not signed by this server")
        age = (time.time() if now is None else now) - int(stamp, 16)
        if max_age is not None and age > max_age:
            raise SignatureExpired("conversation cookie expired")
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (binascii.Error, ValueError) as exc:
            raise BadSignature("conversation cookie unreadable") from exc
        if not isinstance(data, dict):
            raise BadSignature("conversation cookie unreadable")
        return data


class CookieTemplate:
    """The conversation cookie's ``Set-Cookie`` value with only its value and date left open.

    Everything else in it (name, path, domain, flags) comes from settings that do not change
    while the app runs, so werkzeug's ``dump_cookie`` writes it once, around markers; each reply
    then fills in the signed value (URL-safe characters only, never quoted) and the expiry date.
    The result is the one ``dump_cookie`` gives (the tests compare the two).
    """

    _MARK = "\x00expires\x00"

    def __init__(self, name: str, **attributes: Any) -> None:
        written = dump_cookie(name, "", expires=self._MARK, **attributes)
        named = written.index("=") + 1
        self._name = written[:named]
        self._before, _, self._after = written[named:].partition(self._MARK)
        self._dated: tuple[int, str] = (0, "")

    def cookie(self, value: str, expires: dt.datetime) -> str:
        """Return the header value setting the cookie to ``value`` until ``expires``."""
        second = int(expires.timestamp())
        held = self._dated  # one date string per second, shared by the worker's threads
        if held[0] != second:
            held = self._dated = (second, http_date(expires))
        return f"{self._name}{value}{self._before}{held[1]}{self._after}"


class ConversationCookie:
    """The SMS conversation's state in the cookie Twilio keeps per conversation, read and
    written by the Messaging webhook itself.

    Name, lifetime and attributes are Flask's session settings (``SESSION_COOKIE_*``,
    ``PERMANENT_SESSION_LIFETIME``); the value is signed by the app's ``ConversationSigner``.
    A cookie that is missing, forged, altered or older than the lifetime reads as no
    conversation at all.
    """

    def __init__(self, app: Flask, signer: ConversationSigner) -> None:
        flask_way = SecureCookieSessionInterface()
        self.name = flask_way.get_cookie_name(app)
        self.lifetime = app.permanent_session_lifetime
        self._max_age = int(self.lifetime.total_seconds())
        self.signer = signer
        self._lone = f"{self.name}="
        self._template = CookieTemplate(
            self.name,
            path=flask_way.get_cookie_path(app),
            domain=flask_way.get_cookie_domain(app),
            secure=flask_way.get_cookie_secure(app),
            httponly=flask_way.get_cookie_httponly(app),
            samesite=flask_way.get_cookie_samesite(app),
            partitioned=flask_way.get_cookie_partitioned(app),
        )

    def value(self, request: Request) -> str | None:
        """Return the cookie's raw value as werkzeug reads it: from the header directly when it
        holds this cookie alone in plain characters (as Twilio sends it back), else parsed."""
        header: str = request.environ.get("HTTP_COOKIE", "")
        if header.startswith(self._lone) and _PLAIN.fullmatch(header, len(self._lone)):
            return header[len(self._lone) :]
        return request.cookies.get(self.name)

    def read(self, request: Request, now: float | None = None) -> dict[str, Any]:
        """Return the conversation's state as the cookie holds it; empty when there is none."""
        value = self.value(request)
        if not value:
            return {}
        try:
            return self.signer.loads(value, max_age=self._max_age, now=now)
        except BadSignature:
            return {}

    def write(
        self, response: Response, data: Mapping[str, Any], now: dt.datetime | None = None
    ) -> None:
        """Set the cookie to ``data`` for the session lifetime from ``now``, varying the
        response on it (a ``Vary`` header of its own: several add up to their union)."""
        now = dt.datetime.now(dt.UTC) if now is None else now
        value = self.signer.dumps(data, now=now.timestamp())
        headers = response.headers
        headers.add("Set-Cookie", self._template.cookie(value, now + self.lifetime))
        headers.add("Vary", "Cookie")


# A cookie value werkzeug reads unchanged: no quotes, escapes, separators or spaces.
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]*")
_COOKIE = "hotline_bridge.conversation_cookie"


def conversation_cookie(app: Flask) -> ConversationCookie:
    """Return the app's conversation cookie, made on first use from its settings then."""
    cookie: ConversationCookie | None = app.extensions.get(_COOKIE)
    if cookie is None:
        if not app.secret_key:
            raise RuntimeError("the app has no conversation signer (no SECRET_KEY?)")
        signer = ConversationSigner(app.secret_key)
        cookie = app.extensions[_COOKIE] = ConversationCookie(app, signer)
    return cookie
