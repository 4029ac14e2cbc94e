"""Prometheus metrics at ``GET /metrics``: requests, latency, fail-safe answers, Twilio errors.

Labels are route patterns (``/kiosk/<site>``), status codes and operation names only, never a
number, text or anything a person sent. The endpoint answers a configured bearer token or a
loopback address (without forwarded headers, which a local reverse proxy would add), so the
counts are not published to the internet.

Under gunicorn each worker counts for itself; with ``PROMETHEUS_MULTIPROC_DIR`` set (the gunicorn
configuration in ``deploy/`` sets it) one scrape adds up every worker.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from flask import Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter(
    "hotline_bridge_requests",
    "Requests answered, by route pattern and status.",
    ["route", "status"],
)
LATENCY = Histogram(
    "hotline_bridge_request_seconds",
    "Time to answer a request, by route pattern.",
    ["route"],
    # Twilio gives up after 15 s; the budget is a p99 under 25 ms.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
FAIL_SAFE = Counter(
    "hotline_bridge_fail_safe_answers", "Static fail-safe answers given, by route.", ["route"]
)
TWILIO_ERRORS = Counter(
    "hotline_bridge_twilio_api_errors",
    "Failed calls to Twilio's REST API, by operation.",
    ["operation"],
)

# The route label of a request that matched no route.
UNMATCHED = "(unmatched)"
# Headers a reverse proxy adds; a request carrying one did not come from this machine itself.
FORWARDED_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def route_label() -> str:
    """Return the matched route's pattern, never the path itself (which may hold what was sent)."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def fail_safe_given() -> None:
    """Count a fail-safe answer on the current route."""
    FAIL_SAFE.labels(route_label()).inc()


def twilio_error(operation: str) -> None:
    """Count a failed call to Twilio's REST API (``operation`` is a fixed name like ``delete``)."""
    TWILIO_ERRORS.labels(operation).inc()


def allowed() -> bool:
    """Return whether this request may read the metrics: the configured token, or loopback
    where no reverse proxy stands in front of the app."""
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    # Behind a proxy on this machine, every request from outside arrives from loopback too,
    # with or without a forwarded header (a proxy adds only those it is told to).
    if current_app.config["PROXY_HOPS"]:
        return False
    if any(name in request.headers for name in FORWARDED_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def exposition() -> bytes:
    """Return every metric in Prometheus' text format, from all workers when multiprocess."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return generate_latest(registry)


def init_app(app: Flask) -> None:
    """Serve ``GET /metrics`` to the allowed readers (every request is timed and counted by
    the app's own hooks, ``app._finish``)."""

    @app.get("/metrics")
    def metrics() -> Response:
        """Serve the metrics to a configured token or a loopback address."""
        if not allowed():
            return Response("forbidden\n", status=403, mimetype="text/plain")
        return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)
