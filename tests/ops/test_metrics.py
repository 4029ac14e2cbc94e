"""Prometheus metrics: what is counted, that nothing about a person is, and who may read them."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from hotline_bridge.ops import metrics
from tests.conftest import SENDER, Texter, signed_post

SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def scrape(app: Flask, **kwargs: object) -> str:
    response = app.test_client().get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def value(text: str, name: str, **labels: str) -> float:
    """Return the sample ``name`` with exactly these labels (0 when it is not there yet)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and match["name"] == name:
            given = ",".join(sorted((match["labels"] or "").split(",")))
            if given == wanted:
                return float(match["value"])
    return 0.0


def test_requests_and_latency_are_counted_by_route_pattern(app: Flask) -> None:
    before = scrape(app)
    texter = Texter(app.test_client())
    texter.send("hi")
    texter.send("2")
    app.test_client().get("/kiosk/default/en")
    after = scrape(app)
    sms = {"route": "/sms", "status": "200"}
    assert value(after, "hotline_bridge_requests_total", **sms) == (
        value(before, "hotline_bridge_requests_total", **sms) + 2
    )
    count = "hotline_bridge_request_seconds_count"
    assert value(after, count, route="/sms") == value(before, count, route="/sms") + 2
    assert value(after, "hotline_bridge_request_seconds_bucket", route="/sms", le="15.0") >= 2
    # The pattern, never the address itself (which can carry what a person chose).
    assert 'route="/kiosk/<site_id>/<lang:lang>"' in after
    assert 'route="/kiosk/default/en"' not in after


def test_metrics_hold_no_number_text_or_zip(app: Flask) -> None:
    texter = Texter(app.test_client())
    for body in ("hi", "2", "9", "02139", "my secret words"):
        texter.send(body)
    text = scrape(app)
    # Sample values are numbers (timestamps among them, whose digits may run "02139"): what
    # must never appear is in the names and labels.
    described = "\n".join(line.rpartition(" ")[0] for line in text.splitlines())
    for secret in (SENDER, SENDER[2:], "02139", "secret words", "my%20secret"):
        assert secret not in described
    assert not re.search(r"(?<![\d.e+])02139(?![\d.])", text)


def test_fail_safe_answers_are_counted(make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    before = value(scrape(app), "hotline_bridge_fail_safe_answers_total", route="/sms")
    (tmp_path / "hotline.db").unlink()  # the database is gone: the line must still answer
    params = {"Body": "hi", "From": SENDER, "To": "+15550100999", "MessageSid": "SM" + "1" * 32}
    response = signed_post(app.test_client(), "/sms", params)
    assert response.status_code == 200 and b"911" in response.get_data()
    after = value(scrape(app), "hotline_bridge_fail_safe_answers_total", route="/sms")
    assert after == before + 1


def test_twilio_api_errors_are_counted(app: Flask) -> None:
    name, labels = "hotline_bridge_twilio_api_errors_total", {"operation": "delete messages"}
    before = value(scrape(app), name, **labels)
    metrics.twilio_error("delete messages")
    assert value(scrape(app), name, **labels) == before + 1


@pytest.mark.parametrize(
    ("remote", "headers", "allowed"),
    [
        ("127.0.0.1", {}, True),
        ("::1", {}, True),
        ("203.0.113.7", {}, False),
        # A reverse proxy on this machine connects from loopback on behalf of anyone.
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.7"}, False),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.7"}, False),
        ("203.0.113.7", {"Authorization": "Bearer wrong-token"}, False),
        ("203.0.113.7", {"Authorization": "Bearer metrics-token-1"}, True),
        ("203.0.113.7", {"Authorization": "Bearer metrics-token-1", "X-Forwarded-For": "x"}, True),
    ],
)
def test_only_a_token_or_loopback_reads_the_metrics(
    make_app,  # type: ignore[no-untyped-def]
    remote: str,
    headers: dict[str, str],
    allowed: bool,
) -> None:
    app = make_app(METRICS_TOKEN="metrics-token-1")
    response = app.test_client().get(
        "/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote}
    )
    assert response.status_code == (200 if allowed else 403)
    assert (b"hotline_bridge_requests_total" in response.get_data()) is allowed


def test_without_a_token_only_loopback_reads_the_metrics(app: Flask) -> None:
    outside = app.test_client().get(
        "/metrics",
        headers={"Authorization": "Bearer "},
        environ_base={"REMOTE_ADDR": "198.51.100.2"},
    )
    assert outside.status_code == 403


@pytest.mark.parametrize(
    "headers", [{}, {"X-Forwarded-Proto": "https"}, {"X-Forwarded-For": "203.0.113.7"}]
)
def test_behind_a_proxy_only_the_token_reads_the_metrics(
    make_app,  # type: ignore[no-untyped-def]
    headers: dict[str, str],
) -> None:
    """A proxy on this machine reaches the app from loopback for anyone, and adds only the
    forwarded headers it is told to: behind one, loopback proves nothing."""
    app = make_app(METRICS_TOKEN="metrics-token-1", PROXY_HOPS=1)
    client = app.test_client()
    local = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/metrics", headers=headers, environ_base=local).status_code == 403
    token = {**headers, "Authorization": "Bearer metrics-token-1"}
    assert client.get("/metrics", headers=token, environ_base=local).status_code == 200
