"""The benchmark's in-process app answers the signed conversation it sends (``make bench`` runs
for minutes, so the suite proves only that its pieces still start and answer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import profile_sms


def test_the_in_process_benchmark_app_answers_its_signed_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # make_app sets these itself; set here first, so that they are taken back after the test.
    for name in ("BENCH_DATABASE", "BENCH_AUTH_TOKEN", "BENCH_SECRET_KEY", "BENCH_PUBLIC_URL"):
        monkeypatch.setenv(name, "")
    app = profile_sms.make_app(tmp_path)
    for path in ("/bench/bare", "/sms"):
        assert profile_sms.post_all(app, path, 8) > 0  # raises on any answer but 200
