"""``make fuzz``: send 10,000+ hostile webhooks to the real app under gunicorn, on loopback only.

The requests come from the Hypothesis strategies the test suite uses
(``tests/webhooks/webhook_fuzz.py``): random fields, bytes, encodings, sizes, multipart bodies,
tampered cookies and action URLs; every fourth is sent chunked, with no declared length, and
signed bodies of exactly the limit and one byte over it close the run. Every signed request
within the size limit must get 200 with valid TwiML; unsigned or wrongly signed ones 403;
bodies over the limit 413. It prints one line
per measure::

    budget fuzz_non_200: measured N, target 0
    budget fuzz_invalid_twiml: measured N, target 0
    budget fuzz_wrong_refusals: measured N, target 0

and exits non-zero when any of them is not 0. Run from the project root: ``python -m bench.fuzz``.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from twilio.request_validator import RequestValidator

from hotline_bridge.channels.sms.sessions import ConversationSigner
from tests.webhooks.webhook_fuzz import (
    LIMIT,
    Probe,
    cookie_value,
    describe,
    multipart_of_exactly,
    probes,
    twiml_problem,
)

from . import app as bench_app
from . import server
from .bench import AUTH_TOKEN, ROOT, SECRET_KEY

# Signed bodies within the limit (each must get 200), and hostile ones (each must be refused).
SIGNED_BODIES = 10_000
REFUSED_BODIES = 2_000
# Raw bytes may or may not parse as the fields they were signed as, so signed bodies are forms.
SIGNABLE = ("form", "form", "multipart")
# Seconds a single request may take before it counts as unanswered.
REQUEST_TIMEOUT_S = 10
# Wall-clock bound on the whole run, whatever the machine's load (a quiet 2-core machine needs
# a few minutes; requests not sent in time are reported and fail the run).
RUN_LIMIT_S = 3600
# Failures shown in full, to reproduce them.
EXAMPLES_SHOWN = 5
# Every fourth request goes chunked, with no declared length (as some senders and proxies send
# them): gunicorn then hands the app a stream it ends itself, read up to the limit.
CHUNKED_EVERY = 4


class Fuzzer:
    """Sends probes to one server and tallies what came back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = self._connect()
        self.tally: Counter[str] = Counter()
        self.examples: list[str] = []
        self.dumps = _cookie_signer()
        self.deadline = time.monotonic() + RUN_LIMIT_S

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(server.HOST, self.port, timeout=REQUEST_TIMEOUT_S)

    def send(self, probe: Probe) -> None:
        """Send one probe and record whether its answer was the one it must get."""
        if time.monotonic() > self.deadline:
            self.tally["skipped (time limit)"] += 1
            return
        chunked = self.tally["sent"] % CHUNKED_EVERY == 0
        status, body, mimetype = self._post(probe, chunked)
        expected = probe.expected()
        self.tally["sent"] += 1
        self.tally["chunked"] += chunked
        self.tally[f"status {status}"] += 1
        if status not in expected:
            self._fail("non_200" if expected == {200} else "wrong_refusals", probe, status)
        elif status == 200 and (problem := twiml_problem(status, mimetype, body)):
            self._fail("invalid_twiml", probe, status, problem)

    def _post(self, probe: Probe, chunked: bool = False) -> tuple[int, bytes, str]:
        data, content_type = probe.body()
        headers = probe.signed_headers(f"http://{server.HOST}:{self.port}", AUTH_TOKEN)
        headers["Content-Type"] = content_type
        cookie = cookie_value(probe, self.dumps)
        if cookie is not None:
            headers["Cookie"] = f"s={cookie}"
        return self.post(probe.url_path, data, headers, chunked)

    def post(
        self, path: str, data: bytes, headers: dict[str, str], chunked: bool = False
    ) -> tuple[int, bytes, str]:
        """POST ``data`` (chunked, with no declared length, if asked); return the status, body
        and content type of the answer (status 0 when none came)."""
        body: bytes | Iterator[bytes] = iter([data]) if chunked else data
        try:
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = self._connect()
            return 0, b"", ""  # no answer at all: the worst outcome
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = self._connect()
        return response.status, body, response.getheader("Content-Type", "").split(";")[0]

    def _fail(self, kind: str, probe: Probe, status: int, problem: str = "") -> None:
        self.tally[kind] += 1
        if len(self.examples) < EXAMPLES_SHOWN:
            self.examples.append(f"{kind} (got {status}) {problem} {describe(probe)}")


def edges(fuzzer: Fuzzer) -> None:
    """Send signed bodies of exactly the limit (each must get 200) and one byte over it (413),
    with a declared length and chunked, to each Twilio route."""
    for path in ("/sms", "/voice"):
        for size, expected in ((LIMIT, 200), (LIMIT + 1, 413)):
            params, data, kind = multipart_of_exactly(size)
            url = f"http://{server.HOST}:{fuzzer.port}{path}"
            signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
            for chunked in (False, True):
                headers = {"Content-Type": kind, "X-Twilio-Signature": signature}
                status, _, _ = fuzzer.post(path, data, headers, chunked)
                fuzzer.tally["sent"] += 1
                fuzzer.tally[f"status {status}"] += 1
                fuzzer.tally["chunked"] += chunked
                if status != expected:
                    kind_of = "non_200" if expected == 200 else "wrong_refusals"
                    fuzzer.tally[kind_of] += 1
                    how = "chunked" if chunked else "declared"
                    fuzzer.examples.append(f"{kind_of} (got {status}) {size} bytes {how} {path}")


def _cookie_signer() -> object:
    """Sign cookies as the served app does, so that junk state can arrive validly signed."""
    return ConversationSigner(SECRET_KEY).dumps


def _run(fuzzer: Fuzzer, count: int, signed: bool, start: int) -> None:
    """Draw ``count`` probes (signed ones within the limit, or hostile ones) and send each."""
    strategy = (
        probes(signatures=("valid",), paddings=(0, 0, 0, LIMIT - 400), encodings=SIGNABLE)
        if signed
        else probes(signatures=("wrong", "none", "valid"), paddings=(0, LIMIT + 1, 10 * LIMIT))
    )

    @seed(start)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(probe=strategy)
    def run(probe: Probe) -> None:
        fuzzer.send(probe)

    run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signed", type=int, default=SIGNED_BODIES)
    parser.add_argument("--refused", type=int, default=REFUSED_BODIES)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-fuzz-") as folder:
        tmp = Path(folder)
        env = {
            bench_app.DATABASE_ENV: str(tmp / "hotline-fuzz.db"),
            bench_app.AUTH_TOKEN_ENV: AUTH_TOKEN,
            bench_app.SECRET_KEY_ENV: SECRET_KEY,
        }
        with server.serve(ROOT, env, tmp / "gunicorn.log") as srv:
            fuzzer = Fuzzer(srv.port)
            started = time.monotonic()
            _run(fuzzer, args.signed, signed=True, start=args.seed)
            _run(fuzzer, args.refused, signed=False, start=args.seed + 1)
            edges(fuzzer)
            elapsed = time.monotonic() - started
            fail_safes = srv.log_since(0).count("failed safe")
    return _report(fuzzer, elapsed, fail_safes, args.seed)


def _report(fuzzer: Fuzzer, elapsed: float, fail_safes: int, seed: int) -> int:
    tally = fuzzer.tally
    sent = tally["sent"]
    print(f"fuzz: {sent} requests to gunicorn on loopback in {elapsed:.0f} s (seed {seed})")
    print("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items()) if " " in k))
    print(f"sent chunked, with no declared length: {tally['chunked']}")
    print(f"fail-safe answers (an internal error, still 200 with the hotline): {fail_safes}")
    for example in fuzzer.examples:
        print(f"  {example}")
    for name in ("non_200", "invalid_twiml", "wrong_refusals"):
        print(f"budget fuzz_{name}: measured {tally[name]}, target 0")
    bad = tally["non_200"] + tally["invalid_twiml"] + tally["wrong_refusals"]
    return 1 if bad or tally["skipped (time limit)"] else 0


if __name__ == "__main__":
    sys.exit(main())
