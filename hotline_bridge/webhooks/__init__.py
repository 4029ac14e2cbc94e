"""The Twilio library every Twilio channel uses: the size limit, the signature check, reading
the form (``forms``), deleting Twilio's records (``records``, ``forget``).

``twilio_webhook`` wraps a view so that a body too large to be Twilio's gets 413 before it is
read and a request without a valid ``X-Twilio-Signature`` (or one whose body cannot even be
verified) gets 403. What the view answers, and its fail-safe, are the channel's turn's
(``channels.turn``): any exception inside it (database gone, a missing catalog entry, a bug)
becomes the channel's static fail-safe answer with status 200, so Twilio never receives a 500
from us. A retry of a webhook already answered is marked in its environ so that it is answered
again but counted once. Nothing here imports a channel.
"""

from __future__ import annotations

import functools
import io
import logging
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlparse

from flask import Flask, Response, current_app, request, url_for
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    add_port,
    get_signature_algorithm,
    remove_port,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_content_length, get_input_stream

from hotline_bridge.counters import REPEAT
from hotline_bridge.webhooks.deliveries import RecentDeliveries
from hotline_bridge.webhooks.forms import WebhookRequest
from hotline_bridge.webhooks.signatures import Signatures

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
        good = _valid(signatures, signed_url(app, req), req.grouped, signature, algorithm)
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


def _valid(signatures: Signatures, url: str, fields: Any, signature: str, algorithm: str) -> bool:
    """Check the signature on the URL as received first, then on its other port form.

    Twilio signs with or without the port depending on the setup, which is why the library's
    ``validate`` always computes both; trying the likely form first saves an HMAC on almost every
    request. Query-string body hashes (``bodySHA256``) are for JSON webhooks, which these are not.
    """
    try:
        if signatures.matches(signature, url, fields, algorithm):
            return True
    except ValueError:  # an algorithm the twilio library does not know
        return False
    parsed = urlparse(url)
    other = remove_port(parsed) if parsed.port else add_port(parsed)
    return signatures.matches(signature, other, fields, algorithm)


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
