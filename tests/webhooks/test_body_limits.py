"""Bodies at and over the limit, as gunicorn hands them over: its input stream is terminated
(``wsgi.input_terminated``), a chunked body declares no length, and werkzeug then reads up to
the limit itself."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from hotline_bridge.webhooks import MAX_BODY_BYTES
from tests.conftest import AUTH_TOKEN, BASE_URL, sign, twiml
from tests.webhooks.webhook_fuzz import multipart_of_exactly

ROUTES = ("/sms", "/voice")
# What gunicorn adds to the environ of every request it reads.
GUNICORN = {"wsgi.input_terminated": True}


def post(app: Flask, path: str, body: bytes, kind: str, signature: str, declared: bool) -> object:
    headers = {"Content-Type": kind, "X-Twilio-Signature": signature}
    if declared:
        headers["Content-Length"] = str(len(body))
    else:
        headers["Transfer-Encoding"] = "chunked"
    return app.test_client().post(
        path, input_stream=io.BytesIO(body), headers=headers, environ_overrides=GUNICORN
    )


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
def test_a_signed_multipart_body_of_exactly_the_limit_is_answered(
    app: Flask, path: str, declared: bool
) -> None:
    params, body, kind = multipart_of_exactly(MAX_BODY_BYTES)
    response = post(app, path, body, kind, sign(BASE_URL + path, params, AUTH_TOKEN), declared)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert len(twiml(response)) > 0  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
def test_a_body_one_byte_over_the_limit_is_refused_with_413(
    app: Flask, path: str, declared: bool
) -> None:
    params, body, kind = multipart_of_exactly(MAX_BODY_BYTES + 1)
    response = post(app, path, body, kind, sign(BASE_URL + path, params, AUTH_TOKEN), declared)
    assert response.status_code == 413  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ROUTES)
def test_a_chunked_form_far_over_the_limit_is_refused_with_413(app: Flask, path: str) -> None:
    body = b"Body=" + b"x" * (4 * MAX_BODY_BYTES)
    kind = "application/x-www-form-urlencoded"
    response = post(app, path, body, kind, "", declared=False)
    assert response.status_code == 413  # type: ignore[attr-defined]
