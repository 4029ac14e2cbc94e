"""Where the SMS webhook's time goes: the full path in process, timed and profiled.

``python -m bench.profile_sms`` posts the load generator's signed conversation through Flask's
test client (no server, no sockets), prints the mean cost of the full path and of the bare route,
then the functions that take the most time under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge.channels.sms.replies import Replies

from . import app as bench_app
from . import loadgen

# The URL the test client's requests arrive at, which the signatures must name.
TEST_URL = "http://localhost/sms"
AUTH_TOKEN = "profile-auth-token"
# Requests per measurement and how many profile rows to print.
REQUESTS = 3000
TOP_ROWS = 30
# Conversations the requests are spread over, each with its own cookie jar.
CONVERSATIONS = 8


def make_app(tmp: Path) -> Flask:
    """Return the benchmark app on a fresh database in ``tmp``."""
    os.environ[bench_app.DATABASE_ENV] = str(tmp / "profile.db")
    os.environ[bench_app.AUTH_TOKEN_ENV] = AUTH_TOKEN
    os.environ[bench_app.SECRET_KEY_ENV] = "profile-secret-key"
    # The address the requests are signed for (the test client's host).
    os.environ[bench_app.PUBLIC_URL_ENV] = TEST_URL.removesuffix("/sms")
    return bench_app.bench_app()


def post_all(app: Flask, path: str, count: int) -> float:
    """Post ``count`` signed messages to ``path``; return the mean seconds per request."""
    talks = loadgen.conversations(TEST_URL, AUTH_TOKEN, CONVERSATIONS)
    clients: list[FlaskClient] = [app.test_client() for _ in talks]
    start = time.perf_counter()
    for number in range(count):
        talk, client = talks[number % len(talks)], clients[number % len(talks)]
        message = talk.next_message()
        response = client.post(
            path,
            data=message.body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": message.signature},
        )
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return (time.perf_counter() - start) / count


def main() -> None:
    """Time both routes, then profile the full path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument(
        "--fresh", action="store_true", help="keep no answers: every message reaches the engine"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-profile-") as name:
        app = make_app(Path(name))
        if args.fresh:
            app.extensions["hotline_bridge.replies"] = Replies(size=0)
        for path in (bench_app.BARE_PATH, "/sms"):
            post_all(app, path, args.requests // 10)  # warm up
            mean = post_all(app, path, args.requests)
            print(f"{path:<12} {mean * 1e6:7.0f} us/request in process (test client included)")
        profiler = cProfile.Profile()
        profiler.runcall(post_all, app, "/sms", args.requests)
    stats = pstats.Stats(profiler)
    stats.strip_dirs().sort_stats(args.sort).print_stats(TOP_ROWS)


if __name__ == "__main__":
    main()
