"""Serving the benchmark app with gunicorn on loopback, and shutting it down whatever happens."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

# Only loopback is ever served or targeted.
HOST = "127.0.0.1"
# The app gunicorn loads, importable from the project root.
APP_SPEC = "bench.app:bench_app()"
# Two workers for two cores; gthread keeps connections alive, as a proxy in front would.
WORKERS = 2
THREADS = 4
WORKER_CLASS = "gthread"
# Seconds an idle keep-alive connection stays open: longer than the longest run, so the server
# never closes a connection just as the generator reuses it.
KEEP_ALIVE_S = 90
# Seconds to wait for the server to answer its health check after starting.
START_TIMEOUT_S = 30.0
# Seconds to wait for a graceful stop before killing.
STOP_TIMEOUT_S = 10.0
# Path that answers 200 once the app (and its database) is ready.
HEALTH_PATH = "/healthz"
# Lines of the server's log to show when it fails to start.
LOG_TAIL_LINES = 30


class ServerError(RuntimeError):
    """The server could not be started."""


@dataclass
class Server:
    """A running gunicorn: where it listens, its process and its log file."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def host(self) -> str:
        return HOST

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's worker processes."""
        return _children(self.process.pid)

    def worker_cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the workers have used so far."""
        return sum(_cpu_seconds(pid) for pid in self.worker_pids())

    def cpu_seconds(self) -> float:
        """Return the CPU time the master and its workers have used so far."""
        return _cpu_seconds(self.process.pid) + self.worker_cpu_seconds()

    def log_size(self) -> int:
        """Return the log's current size, to read only what a run adds to it."""
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        """Return what the server logged after ``offset``."""
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat_fields(int(entry.name))
            if stat and int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _stat_fields(pid: int) -> list[str] | None:
    """Return /proc/PID/stat from field 3 (state) on, or None if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # utime and stime are fields 14 and 15 of the file, 12 and 13 here.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a loopback port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def gunicorn_command(port: int) -> list[str]:
    """Return the command line that serves the benchmark app on ``port``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        WORKER_CLASS,
        "--threads",
        str(THREADS),
        "--keep-alive",
        str(KEEP_ALIVE_S),
        "--preload",
        "--log-level",
        "warning",
        APP_SPEC,
    ]


@contextmanager
def serve(root: Path, env: Mapping[str, str], log_path: Path) -> Iterator[Server]:
    """Start gunicorn from ``root`` with ``env`` added; stop it on leaving, even on error."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            gunicorn_command(port),
            cwd=root,
            # The address the driver signs for, which the served app checks signatures against.
            env={**os.environ, **env, "BENCH_PUBLIC_URL": f"http://{HOST}:{port}"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port, process, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        stop(server)


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(f"gunicorn exited with {server.process.returncode}:\n{_tail(server)}")
        if _healthy(server) and len(server.worker_pids()) == WORKERS:
            return
        time.sleep(0.1)
    raise ServerError(f"gunicorn did not become ready in {START_TIMEOUT_S:.0f} s:\n{_tail(server)}")


def _healthy(server: Server) -> bool:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=2)
    try:
        conn.request("GET", HEALTH_PATH)
        return conn.getresponse().status == http.HTTPStatus.OK
    except OSError:
        return False
    finally:
        conn.close()


def _tail(server: Server) -> str:
    return "\n".join(server.log_since(0).splitlines()[-LOG_TAIL_LINES:])


def stop(server: Server) -> None:
    """Stop gunicorn gracefully, then by force; its workers go with it."""
    process = server.process
    workers = server.worker_pids()
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pid in workers:
        _kill_if_ours(pid, group=process.pid)


def _kill_if_ours(pid: int, group: int) -> None:
    """Kill a worker left behind, if that pid is still in the server's process group."""
    fields = _stat_fields(pid)
    # The process group is field 5 of the file, 2 here.
    if fields is None or int(fields[2]) != group:
        return
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
