"""The Twilio library every Twilio channel uses: what a Twilio webhook is and how it is
checked, in one place (deleting Twilio's records is ``records`` and ``forget``).

``twilio_webhook`` wraps a view so that a body too large to be Twilio's gets 413 before it is
read and a request without a valid ``X-Twilio-Signature`` (or one whose body cannot even be
verified) gets 403. The form is read once (``WebhookRequest``) and its signature computed as
the twilio library computes it (``Signatures``). What the view answers, and its fail-safe, are
the channel's turn's (``channels.turn``): any exception inside it (database gone, a missing
catalog entry, a bug) becomes the channel's static fail-safe answer with status 200, so Twilio
never receives a 500 from us. A retry of a webhook already answered (``RecentDeliveries``) is
marked in its environ so that it is answered again but counted once. Nothing here imports a
channel.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import logging
import mmap
import multiprocessing
import secrets
import struct
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, unquote, unquote_to_bytes, urlparse

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler
from flask import Flask, Request, Response, current_app, request, url_for
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    add_port,
    get_signature_algorithm,
    remove_port,
)
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_content_length, get_input_stream

from hotline_bridge.counters import REPEAT

log = logging.getLogger(__name__)

# Twilio's own webhook bodies are a few kilobytes at most; anything larger is not from Twilio.
MAX_BODY_BYTES = 64 * 1024

# Bytes of a refused body read and thrown away after the answer is sent, so that the connection
# closes cleanly and the sender reads the answer instead of a reset. Larger bodies are not read
# at all; whoever sends them is not Twilio.
DRAIN_BYTES = 16 * 1024 * 1024

TWIML = "application/xml"

# The fields naming the message or call a webhook is about: only such webhooks are retried.
SID_FIELDS = ("MessageSid", "SmsSid", "CallSid")
# The statuses Twilio documents for messages, calls and dialled lines. A status callback is
# counted under its status only when it is one of these, and as "other" otherwise, so that what
# a sender writes in the field never becomes a row of the counts.
MESSAGE_STATUSES = frozenset(
    {
        *("accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed"),
        *("delivered", "undelivered", "receiving", "received", "read", "partially_delivered"),
    }
)
CALL_STATUSES = frozenset(
    {
        *("queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer"),
        *("canceled", "failed"),
    }
)
DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})
# Twilio sends the same token with every retry of one webhook, and a new one otherwise.
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


def _environ_key(header: str) -> str:
    """Return where a WSGI environ holds the request header ``header``."""
    return "HTTP_" + header.upper().replace("-", "_")


_SIGNATURE_KEY = _environ_key(SIGNATURE_HEADER)
_SETTINGS_KEY = _environ_key(SIGNATURE_SETTINGS_HEADER)
_IDEMPOTENCY_KEY = _environ_key(IDEMPOTENCY_HEADER)
# Where a request's verified signature is kept in its WSGI environ (never set from HTTP: the
# server puts headers under ``HTTP_`` names only).
VERIFIED = "hotline_bridge.verified_signature"


# --- The form -----------------------------------------------------------------------------------
# Reading a webhook's form: werkzeug's result, without werkzeug's general-purpose machinery.
#
# Every Twilio webhook is a URL-encoded form of about twenty fields with a ``Content-Length``.
# Werkzeug reads it through a form-data parser built for any content type (limits, stream
# wrappers, a second empty dict for files) and ``urllib``'s ``parse_qsl``; on the SMS webhook
# that was a tenth of the request. Here such a body is read in one call and split directly,
# giving exactly what werkzeug gives (the tests compare the two on arbitrary bytes), and the raw
# body stays available to ``request.get_data()``. Every other body (another content type, no
# declared length) goes to werkzeug unchanged.

URLENCODED = "application/x-www-form-urlencoded"
# Werkzeug's handler for %-escapes that are not UTF-8: they are kept escaped, not dropped.
_ESCAPES_KEPT = "werkzeug.url_quote"


def parse_urlencoded(data: bytes) -> list[tuple[str, str]]:
    """Return the fields of a URL-encoded body as werkzeug reads them: blank values kept, ``+``
    a space, bad %-escapes kept as written. Raises ``ValueError`` when the body is not UTF-8
    (werkzeug then reads it as an empty form)."""
    # "+" is a space wherever it stands (an escaped "%2B" is a plus, unescaped after this).
    text = data.decode().replace("+", " ")
    if not text.isascii():
        return [
            (unquote(name, errors=_ESCAPES_KEPT), unquote(value, errors=_ESCAPES_KEPT))
            for name, _, value in (field.partition("=") for field in text.split("&") if field)
        ]
    # Twilio's bodies are ASCII; for ASCII text ``unquote`` is exactly this, at half the cost.
    fields = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            if "%" in name:
                name = unquote_to_bytes(name).decode("utf-8", _ESCAPES_KEPT)
            if "%" in value:
                value = unquote_to_bytes(value).decode("utf-8", _ESCAPES_KEPT)
            fields.append((name, value))
    return fields


class WebhookRequest(Request):
    """Flask's request, reading URL-encoded forms with ``parse_urlencoded``.

    A webhook reads its fields as ``pairs`` (what its signature is computed on) and ``fields``,
    made in one pass over the body; werkzeug's ``form`` is built from the same pairs only when
    something asks for it.
    """

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        pairs = self.__dict__.get("pairs")
        if pairs is None:
            pairs = self._urlencoded_pairs()
        if pairs is None:
            super()._load_form_data()
            return
        storage = self.parameter_storage_class
        self.__dict__.update(form=storage(pairs), files=storage())

    def _urlencoded_pairs(self) -> list[tuple[str, str]] | None:
        """Return the fields of a URL-encoded body of declared length, read as werkzeug would
        (413 over the limit, ``ClientDisconnected`` when it ends early), keeping the raw body
        for ``get_data``; None for any other body, which werkzeug reads."""
        environ = self.environ
        kind = environ.get("CONTENT_TYPE")
        if not kind or (kind != URLENCODED and self.mimetype != URLENCODED):
            return None
        data: bytes | None = getattr(self, "_cached_data", None)
        if data is None:
            length = get_content_length(environ)  # what ``content_length`` reads, directly
            if length is None:
                return None
            limit = self.max_content_length
            if limit is not None and length > limit:
                raise RequestEntityTooLarge()
            data = environ["wsgi.input"].read(length) if length else b""
            if len(data) < length and "wsgi.input_terminated" not in environ:
                raise ClientDisconnected()
            self._cached_data = data
            self.__dict__["stream"] = io.BytesIO()  # read: what is left of it is nothing
        try:
            return parse_urlencoded(data)
        except ValueError:  # not UTF-8: werkzeug's parser gives an empty form too
            return []

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """Every field of the form in the order sent (a repeated field once per value); none
        when the body is not a form that can be read."""
        try:
            if "form" not in self.__dict__:
                pairs = self._urlencoded_pairs()
                if pairs is not None:
                    return pairs
            return list(self.form.items(multi=True))
        except HTTPException:  # too large, cut short, or not a form at all
            return []

    @cached_property
    def fields(self) -> dict[str, str]:
        """The form's fields, the first value of each, as ``form.to_dict()`` gives them."""
        pairs = self.pairs
        fields = dict(pairs)
        if len(fields) < len(pairs):  # a repeated field: its first value, as werkzeug keeps
            fields = {}
            for name, value in pairs:
                fields.setdefault(name, value)
        return fields


# --- Signatures --------------------------------------------------------------------------------
# Twilio's request signatures, computed as the twilio library computes them, keyed once.
#
# ``RequestValidator.compute_signature`` keys a new HMAC with the auth token on every call, tries
# three ways to read each field's values and compares the result in a Python loop. A webhook pays
# that on every request, so here the keyed HMAC is made once per algorithm and copied for each
# signature, and the comparison takes constant time in C. The signatures are the library's own
# (the tests compare the two on arbitrary URLs and fields), and an algorithm the library does not
# know is refused as it refuses it.


class Signatures:
    """Computes and checks ``X-Twilio-Signature`` values for one auth token."""

    def __init__(self, token: str) -> None:
        key = token.encode("utf-8")
        self._keyed = {
            HMAC_SHA1: hmac.new(key, None, hashlib.sha1),
            HMAC_SHA256: hmac.new(key, None, hashlib.sha256),
        }

    def compute(
        self, url: str, pairs: Iterable[tuple[str, str]], algorithm: str | None = None
    ) -> str:
        """Return the signature of ``url`` and a form's ``pairs`` (each field once per value).

        The twilio library signs the URL followed by each field's name and value, the names in
        order and a repeated field's values in order, each once: the order of
        ``sorted(set(pairs))``. Raises ``ValueError`` for an algorithm the twilio library does
        not support, and ``UnicodeEncodeError`` for text that is not Unicode (a lone
        surrogate)."""
        keyed = self._keyed.get((algorithm or HMAC_SHA1).upper())
        if keyed is None:
            raise ValueError(f"unsupported webhook signature algorithm: {algorithm}")
        signed = url + "".join([name + value for name, value in sorted(set(pairs))])
        mac = keyed.copy()
        mac.update(signed.encode("utf-8"))
        return base64.b64encode(mac.digest()).decode("ascii")

    def matches(
        self,
        signature: str,
        url: str,
        pairs: Iterable[tuple[str, str]],
        algorithm: str | None = None,
    ) -> bool:
        """Return whether ``signature`` is the one for ``url`` and ``pairs``, compared in
        constant time."""
        expected = self.compute(url, pairs, algorithm).encode("ascii")
        return hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape"))


# --- Deliveries already answered ---------------------------------------------------------------
# Telling a Twilio retry from a new webhook, without keeping anything that names a message.
#
# Twilio delivers a webhook again when our answer was slow or lost. The retry is answered like the
# first delivery, but counted once. To know it again we keep a keyed digest (BLAKE2b in its keyed
# mode, a MAC like an HMAC at a third of the cost) of the delivery (its route, its signed fields
# with their Sid, and Twilio's idempotency token) under a key made at start-up that never leaves
# memory. Nothing kept could be matched to a message by anyone holding
# the database or the logs, and every digest is wiped within the conversation window.
#
# The digests live in anonymous shared memory made before gunicorn forks its workers (the app is
# preloaded), so a retry that reaches another worker is known there too. Two tables take turns,
# each holding the digests of half a window: a lookup reads both, and the older one is wiped
# before it is reused, so a digest is kept for between half a window and a whole one. Twilio's
# retries come within seconds. The look-up and the remembering are one step under a lock that
# the workers share too (a semaphore made before the fork): a delivery and its duplicate that
# reach two workers at the same instant are told apart, and counted once.

# Bytes of the HMAC kept per delivery: collisions among the deliveries of one window are
# vanishingly unlikely at 16, and fewer bytes mean less to hold.
DIGEST_BYTES = 16

# Deliveries each table can hold, and the slots a lookup tries; when all are taken the first is
# overwritten (a burst costs a count of precision at worst, never memory).
SLOTS = 1 << 15
PROBES = 8

_HEADER = struct.Struct("q")  # the half-window a table holds
_EMPTY = bytes(DIGEST_BYTES)


class RecentDeliveries:
    """The keyed digests of the webhooks of the last half window to whole window."""

    def __init__(self, window_seconds: float, slots: int = SLOTS) -> None:
        self.half = window_seconds / 2
        self.slots = slots
        self._key = secrets.token_bytes(32)
        self._size = _HEADER.size + slots * DIGEST_BYTES
        self._memory = mmap.mmap(-1, 2 * self._size)  # MAP_SHARED: seen by forked workers
        # A process-shared semaphore: it excludes the threads of one worker and the other
        # workers alike (a threading lock would leave two workers reading the same empty slot).
        self._lock = multiprocessing.Lock()

    def seen(self, *parts: str, now: float | None = None) -> bool:
        """Return whether a delivery made of ``parts`` came recently, and remember it.

        The digest is looked for in the table of the half window before, when it holds that
        one, then in the current table (wiped first when it still holds an older half window),
        at up to ``PROBES`` slots from the one the digest names; when it is in neither, it is
        kept in the first empty one of those slots (or, all taken, the first)."""
        now = time.monotonic() if now is None else now
        material = "\0".join(parts).encode("utf-8", "surrogateescape")
        digest = hashlib.blake2b(material, key=self._key, digest_size=DIGEST_BYTES).digest()
        first = int.from_bytes(digest[:4], "big") % self.slots
        epoch = int(now // self.half)
        memory, size = self._memory, self._size
        current, previous = (epoch % 2) * size, ((epoch - 1) % 2) * size
        with self._lock:
            if _HEADER.unpack_from(memory, current)[0] != epoch:
                memory[current : current + size] = bytes(size)
                _HEADER.pack_into(memory, current, epoch)
            tables = [current]
            if _HEADER.unpack_from(memory, previous)[0] == epoch - 1:
                tables.insert(0, previous)
            for table in tables:
                free = table + _HEADER.size + first * DIGEST_BYTES
                for probe in range(PROBES):
                    at = table + _HEADER.size + (first + probe) % self.slots * DIGEST_BYTES
                    held = memory[at : at + DIGEST_BYTES]
                    if held == digest:
                        return True
                    if held == _EMPTY:
                        free = at
                        break
            memory[free : free + DIGEST_BYTES] = digest  # ``free`` is the current table's
        return False

    def held(self) -> bytes:
        """Return everything kept, for tests that prove it names no message."""
        return bytes(self._memory)


# --- The webhook -------------------------------------------------------------------------------
def twiml_response(twiml: object, status: int = 200) -> Response:
    """Return a TwiML document (any twilio builder) as an HTTP response."""
    return Response(str(twiml), status=status, mimetype=TWIML)


def known(status: str, statuses: frozenset[str]) -> str:
    """Return ``status`` if it is one of ``statuses``, else "other", for counting."""
    return status if status in statuses else "other"


def form() -> dict[str, str]:
    """Return the webhook's POST fields (the first value of each), or nothing when the body
    cannot be read as a form."""
    req: WebhookRequest = request._get_current_object()  # type: ignore[attr-defined]
    return dict(req.fields)


def _too_large(req: WebhookRequest) -> bool:
    """Return whether the body is over the limit, judged by its declared length when it has
    one (nothing is read), else by reading at most the limit and one byte more."""
    length, limit = get_content_length(req.environ), req.max_content_length
    if length is not None:
        if limit is not None and length > limit:
            return True
        if "wsgi.input_terminated" in req.environ:
            _hold_terminated_body(req.environ, length)
        return False
    if limit is not None and "wsgi.input_terminated" in req.environ:
        return not _hold_terminated_body(req.environ, limit + 1, up_to=limit)
    try:
        req.form  # noqa: B018 - parsing is what may fail
    except RequestEntityTooLarge:
        return True
    except HTTPException:
        return False
    return False


def _hold_terminated_body(environ: dict[str, Any], read: int, up_to: int | None = None) -> bool:
    """Read a body that the server terminates (gunicorn: ``wsgi.input_terminated``) and keep it
    as a body of declared length; return False, keeping nothing, when it holds more than
    ``up_to`` bytes.

    Werkzeug reads such a stream up to the request's limit and refuses it once the limit is
    reached, unable to tell whether more would follow: a body of exactly the limit was read
    as an empty form (and refused as unsigned), and a chunked one over it was not refused."""
    if "wsgi.input_terminated" not in environ:
        return True
    data = environ["wsgi.input"].read(read)
    if up_to is not None and len(data) > up_to:
        return False
    environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))})
    # A chunked body's header would still say its length is unknown.
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    del environ["wsgi.input_terminated"]
    return True


def _refuse_too_large() -> Response:
    """Answer 413, then read and drop the body so the sender gets the answer, not a reset."""
    response = twiml_response("<Response/>", status=413)
    response.headers["Connection"] = "close"
    environ, length = request.environ, request.content_length
    if length is None or length <= DRAIN_BYTES:
        response.call_on_close(lambda: _drain(environ))
    return response


def _drain(environ: dict[str, Any]) -> None:
    try:
        stream = get_input_stream(environ, max_content_length=DRAIN_BYTES)
        while stream.read(64 * 1024):
            pass
    except Exception:  # the sender went away, or sent more than we read: nothing to answer
        return


def signature_ok(app: Flask, req: WebhookRequest) -> bool:
    """Return whether the request carries a valid Twilio signature for the URL Twilio used.

    A body that cannot be verified at all (a multipart part without a name, bytes the form
    parser refuses) is not valid: it gets 403 like a wrong signature, never an error. A valid
    signature is kept in the request's environ, where ``_note_delivery`` finds it.
    """
    if not app.config["VALIDATE_SIGNATURES"]:
        return True
    environ = req.environ
    signature = environ.get(_SIGNATURE_KEY, "")
    if not signature:
        return False
    signatures: Signatures = app.extensions["hotline_bridge.signatures"]
    try:
        algorithm = get_signature_algorithm(environ.get(_SETTINGS_KEY))
        good = _valid(signatures, signed_url(app, req), req.pairs, signature, algorithm)
    except Exception as exc:
        log.info("unverifiable webhook refused: %s", type(exc).__name__)
        return False
    if good:
        environ[VERIFIED] = signature
    return good


def signed_url(app: Flask, req: WebhookRequest) -> str:
    """Return the URL Twilio signed: the deployment's ``PUBLIC_URL`` when it is set, else the
    address as received (rebuilt from trusted proxy headers), with this request's path and its
    query exactly as sent. ``request.url`` will not do: it unescapes some of the query
    (``%7B`` becomes ``{``), while Twilio signs the escapes it was given."""
    public = app.config["PUBLIC_URL"]
    base = public or f"{req.scheme}://{req.host}{quote(req.root_path)}"
    url = base + quote(req.path)
    query = req.environ.get("QUERY_STRING", "")  # what ``query_string`` holds, as text
    return f"{url}?{query}" if query else url


def public_url(endpoint: str, **values: Any) -> str:
    """Return the address at which Twilio reaches ``endpoint`` (for a callback named in an
    answer): under ``PUBLIC_URL`` when it is set, else as this request came."""
    path = url_for(endpoint, **values)
    public = current_app.config["PUBLIC_URL"]
    if public:
        return public.rstrip("/") + path.removeprefix(request.root_path)
    return request.host_url.rstrip("/") + path


def _valid(
    signatures: Signatures, url: str, pairs: list[tuple[str, str]], signature: str, algorithm: str
) -> bool:
    """Check the signature on the URL as received first, then on its other port form.

    Twilio signs with or without the port depending on the setup, which is why the library's
    ``validate`` always computes both; trying the likely form first saves an HMAC on almost every
    request. Query-string body hashes (``bodySHA256``) are for JSON webhooks, which these are not.
    """
    try:
        if signatures.matches(signature, url, pairs, algorithm):
            return True
    except ValueError:  # an algorithm the twilio library does not know
        return False
    parsed = urlparse(url)
    other = remove_port(parsed) if parsed.port else add_port(parsed)
    return signatures.matches(signature, other, pairs, algorithm)


def log_failure(where: str, exc: BaseException) -> None:
    """Log an internal error by type and place only: an exception's message may hold what a
    person sent, so it is never written out."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
    log.error("%s failed safe: %s at %s", where, type(exc).__name__, place)


def twilio_webhook(view: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a Twilio webhook view with the size limit and the signature check; the view
    answers everything else, its faults included (``channels.turn.run`` fails safe)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        # The app and the request themselves: each read through Flask's proxies looks them
        # up again.
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        req: WebhookRequest = request._get_current_object()  # type: ignore[attr-defined]
        if _too_large(req):
            return _refuse_too_large()
        if not signature_ok(app, req):
            return twiml_response("<Response/>", status=403)
        try:
            _note_delivery(app, req)
        except Exception as exc:  # then a retry may be counted twice; it is still answered
            log_failure("noting a delivery", exc)
        return view(*args, **kwargs)

    return wrapped


def _note_delivery(app: Flask, req: WebhookRequest) -> None:
    """Mark in the request's environ a webhook Twilio already delivered in the conversation
    window: the same route, query and fields (a Sid among them) and the same idempotency
    token.

    A verified signature stands for the route, query and fields, since it is an HMAC of them;
    without one (signatures not checked) the fields themselves are taken."""
    fields = req.fields
    if not any(fields.get(name) for name in SID_FIELDS):
        return
    deliveries: RecentDeliveries = app.extensions["hotline_bridge.deliveries"]
    environ = req.environ
    token = environ.get(_IDEMPOTENCY_KEY, "")
    signature = environ.get(VERIFIED)
    if signature is not None:
        environ.setdefault(REPEAT, deliveries.seen("signed", token, signature))
        return
    signed = (f"{name}={value}" for name, value in sorted(fields.items()))
    parts = (req.path, environ.get("QUERY_STRING", ""), token, *signed)
    environ.setdefault(REPEAT, deliveries.seen(*parts))


def init_app(app: Flask) -> None:
    """Trust the configured proxies' forwarded headers (host and prefix only when no
    ``PUBLIC_URL`` names the address) and prepare the signature validator."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    hops = app.config["PROXY_HOPS"]
    if hops:
        named = hops if not app.config["PUBLIC_URL"] else 0
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=named, x_port=named, x_prefix=named
        )
    app.request_class = WebhookRequest
    app.extensions["hotline_bridge.signatures"] = Signatures(app.config["TWILIO_AUTH_TOKEN"])
    window = app.config["SESSION_MINUTES"] * 60
    app.extensions["hotline_bridge.deliveries"] = RecentDeliveries(window)
