"""Running ``hotline-bridge serve`` for real on a fresh database and reading the first-account
link it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port, server_env, stop, wait_until_up

FIRST_LINE = "Set up the first account: "


@contextmanager
def served(database: Path, workers: int = 1, **extra: str) -> Iterator[tuple[str, list[str]]]:
    """Start ``serve`` on ``database``; yield its address and the lines it printed at start
    (with the first-account line, when it prints one)."""
    port = free_port()
    command = [sys.executable, "-m", "hotline_bridge.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command,
        env=server_env(database, f"http://127.0.0.1:{port}", **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        # serve prints its lines before it becomes gunicorn, which writes nothing to standard
        # output: once the server answers, everything serve printed is there to read.
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        printed = (process.stdout.read() or "").splitlines()
        yield base, printed
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


def first_account_url(printed: list[str]) -> str:
    """Return the link of the printed first-account line."""
    line = next(line for line in printed if line.startswith(FIRST_LINE))
    return line.removeprefix(FIRST_LINE).split()[0]
