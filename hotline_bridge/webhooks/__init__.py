"""What every Twilio webhook shares: the signature check and the fail-safe around the view.

``twilio_webhook(fail_safe)`` wraps a view so that a request without a valid
``X-Twilio-Signature`` gets 403, and any exception inside the view (database gone, a missing
catalog entry, a bug) becomes the channel's static fail-safe answer with status 200: Twilio never
receives a 500 from us.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import Flask, Response, current_app, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    compare,
    get_signature_algorithm,
    remove_port,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from hotline_bridge.ops import metrics

log = logging.getLogger(__name__)

# Twilio's own webhook bodies are a few kilobytes at most; anything larger is not from Twilio.
MAX_BODY_BYTES = 64 * 1024

TWIML = "application/xml"


def twiml_response(twiml: object, status: int = 200) -> Response:
    """Return a TwiML document (any twilio builder) as an HTTP response."""
    return Response(str(twiml), status=status, mimetype=TWIML)


def form() -> dict[str, str]:
    """Return the webhook's POST fields, or nothing when the body cannot be read as a form."""
    try:
        return request.form.to_dict()
    except HTTPException:  # too large, or not a form at all
        return {}


def _too_large() -> bool:
    try:
        request.form  # noqa: B018 - parsing is what may fail
    except RequestEntityTooLarge:
        return True
    except HTTPException:
        return False
    return False


def signature_ok() -> bool:
    """Return whether the request carries a valid Twilio signature for the URL Twilio used."""
    if not current_app.config["VALIDATE_SIGNATURES"]:
        return True
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    try:
        params: Any = request.form  # all values of repeated fields count in the signature
    except HTTPException:
        params = {}
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator: RequestValidator = current_app.extensions["hotline_bridge.validator"]
    return _valid(validator, request.url, params, signature, algorithm)


def _valid(
    validator: RequestValidator, url: str, params: Any, signature: str, algorithm: str
) -> bool:
    """Check the signature on the URL as received first, then on its other port form.

    Twilio signs with or without the port depending on the setup, which is why the library's
    ``validate`` always computes both; trying the likely form first saves an HMAC on almost every
    request. Query-string body hashes (``bodySHA256``) are for JSON webhooks, which these are not.
    """
    try:
        first = validator.compute_signature(url, params, algorithm)
    except ValueError:  # an algorithm this library does not know
        return False
    if compare(first, signature):
        return True
    parsed = urlparse(url)
    other = remove_port(parsed) if parsed.port else add_port(parsed)
    return compare(validator.compute_signature(other, params, algorithm), signature)


def log_failure(where: str, exc: BaseException) -> None:
    """Log an internal error by type and place only: an exception's message may hold what a
    person sent, so it is never written out."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
    log.error("%s failed safe: %s at %s", where, type(exc).__name__, place)


def twilio_webhook(fail_safe: Callable[[], Response]) -> Callable[..., Any]:
    """Decorate a Twilio webhook view with the signature check and the fail-safe."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            if _too_large():
                # Nothing Twilio sends is this big; answer with help rather than an HTTP error,
                # since the fail-safe gives away nothing but public numbers.
                metrics.fail_safe_given()
                return fail_safe()
            if not signature_ok():
                return twiml_response("<Response/>", status=403)
            try:
                return view(*args, **kwargs)
            except Exception as exc:
                log_failure(request.path, exc)
                metrics.fail_safe_given()
                return fail_safe()

        return wrapped

    return decorator


def init_app(app: Flask) -> None:
    """Trust the configured proxies' forwarded headers and prepare the signature validator."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.extensions["hotline_bridge.validator"] = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
