"""The app the benchmark serves: the real app plus one bare route to compare it with.

gunicorn loads it from the project root as ``bench.app:bench_app()``. Its settings come from
``BENCH_*`` environment variables that ``bench.bench`` sets before starting the server, so the
load generator knows the auth token it must sign with and the database is a throwaway file.
"""

from __future__ import annotations

import logging
import os
import sys

from flask import Flask, Response

from hotline_bridge import create_app

# Environment variables through which the benchmark driver configures the served app.
DATABASE_ENV = "BENCH_DATABASE"
AUTH_TOKEN_ENV = "BENCH_AUTH_TOKEN"
SECRET_KEY_ENV = "BENCH_SECRET_KEY"
PUBLIC_URL_ENV = "BENCH_PUBLIC_URL"  # set by bench/server.py, which picks the port

# Where the baseline lives: a Flask route that does nothing but answer constant TwiML.
BARE_PATH = "/bench/bare"
BARE_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'

# Prefix of every warning or error the app logs while serving; the driver counts these lines in
# the server's log as errors (a fail-safe answer is still a 200, so the client cannot see it).
LOG_MARK = "BENCH-LOG"


def bench_app() -> Flask:
    """Return the real app on the benchmark's database, with the bare route added."""
    app = create_app(
        {
            "DATABASE": os.environ[DATABASE_ENV],
            "TWILIO_AUTH_TOKEN": os.environ[AUTH_TOKEN_ENV],
            "SECRET_KEY": os.environ[SECRET_KEY_ENV],
            "PUBLIC_URL": os.environ[PUBLIC_URL_ENV],
        }
    )
    _log_problems_to_stderr()
    app.add_url_rule(BARE_PATH, "bench_bare", bare, methods=["POST"])
    return app


def bare() -> Response:
    """Answer constant TwiML without reading the request: the floor Flask itself costs."""
    return Response(BARE_TWIML, mimetype="application/xml")


def _log_problems_to_stderr() -> None:
    """Send the package's warnings and errors to stderr with a mark the driver can count."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(f"{LOG_MARK} %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("hotline_bridge").addHandler(handler)
