"""The repository's gunicorn configuration and serve command, run for real on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hotline_bridge.cli import main
from hotline_bridge.settings import PROJECT_ROOT
from tests.conftest import SENDER, free_port, server_env, sign, stop, wait_until_up

UNIT = PROJECT_ROOT / "deploy" / "hotline-bridge.service"
# Seconds gunicorn may take to stop after SIGTERM (graceful timeout plus a loaded machine).
STOP_SECONDS = 40


def post_signed(base_url: str, path: str, params: dict[str, str], cookie: str = "") -> Any:
    """POST ``params`` to a running server, signed as Twilio signs them for that URL."""
    data = urllib.parse.urlencode(params).encode()
    headers = {"X-Twilio-Signature": sign(base_url + path, params)}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(base_url + path, data=data, headers=headers)
    return urllib.request.urlopen(request, timeout=10)


def test_gunicorn_config_serves_the_line_and_adds_up_every_workers_metrics(
    gunicorn_server: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_99999.db").write_bytes(b"left by an earlier run")
    base_url = gunicorn_server(
        tmp_path / "served.db", workers=2, PROMETHEUS_MULTIPROC_DIR=str(folder)
    )
    for n in range(6):
        params = {"Body": "hi", "From": SENDER, "To": "+15550100999", "MessageSid": f"SM{n:032d}"}
        with post_signed(base_url, "/sms", params) as response:
            assert response.status == 200 and b"<Message>" in response.read()
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'hotline_bridge_requests_total{route="/sms",status="200"} 6.0' in text
    assert SENDER[2:] not in text
    # Each worker that answered writes its own file (a scrape adds them up), and an earlier
    # run's files were cleared at start.
    files = {path.name for path in folder.iterdir()}
    assert "counter_99999.db" not in files
    assert any(name.startswith("counter_") for name in files), files


def test_metrics_are_refused_through_a_proxy_on_this_machine(
    gunicorn_server: Any, tmp_path: Path
) -> None:
    base_url = gunicorn_server(tmp_path / "served.db")
    request = urllib.request.Request(
        base_url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("metrics were served to a forwarded request")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on ``port`` (as servers do, past TIME_WAIT)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_stopping_serve_by_its_pid_stops_the_server(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "hotline_bridge.cli", "serve", "--port", str(port)]
    command += ["--workers", "2"]
    process = subprocess.Popen(
        command,
        env=server_env(tmp_path / "serve.db", f"http://127.0.0.1:{port}"),
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        os.kill(process.pid, signal.SIGTERM)
        # Gunicorn stops its workers gracefully; on a busy machine that takes seconds.
        assert process.wait(timeout=STOP_SECONDS) == 0
        deadline = time.monotonic() + STOP_SECONDS
        while not port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert port_is_free(port), "gunicorn still holds the port after serve was stopped"
    finally:
        stop(process)


def test_the_systemd_unit_runs_the_repository_config_on_loopback() -> None:
    unit = UNIT.read_text(encoding="utf-8")
    assert "deploy/gunicorn.conf.py" in unit and "127.0.0.1:8000" in unit
    assert "PROMETHEUS_MULTIPROC_DIR=/run/hotline-bridge" in unit
    assert "RuntimeDirectory=hotline-bridge" in unit and "NoNewPrivileges=true" in unit


def test_settings_show_the_values_in_effect_with_secrets_masked(monkeypatch: Any) -> None:
    monkeypatch.setenv("HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN", "very-secret-token-42")
    monkeypatch.setenv("HOTLINE_BRIDGE_SESSION_MINUTES", "30")
    monkeypatch.delenv("HOTLINE_BRIDGE_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["settings"])
    assert "HOTLINE_BRIDGE_SESSION_MINUTES = 30   (environment)" in result.output
    assert "HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN = ******** (set)   (environment)" in result.output
    assert "HOTLINE_BRIDGE_SECRET_KEY = (none)   (default)" in result.output
    assert "HOTLINE_BRIDGE_VOICE_EN = (none)   (default)" in result.output
    assert "very-secret" not in result.output
    # Outside local mode the server refuses to start without its secret key: so does this.
    assert result.exit_code == 1
    assert "the server would not start: HOTLINE_BRIDGE_SECRET_KEY must be set" in result.output
    monkeypatch.setenv("HOTLINE_BRIDGE_SECRET_KEY", "another-secret-value")
    monkeypatch.setenv("HOTLINE_BRIDGE_PUBLIC_URL", "https://line.example.org")
    assert CliRunner().invoke(main, ["settings"]).exit_code == 0


def test_settings_in_local_mode_say_the_secrets_are_made_at_each_start(monkeypatch: Any) -> None:
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")
    for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(f"HOTLINE_BRIDGE_{name}", raising=False)
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 0, result.output
    for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN"):
        made = f"HOTLINE_BRIDGE_{name} = (made anew at each start: local mode)   (default)"
        assert made in result.output


def test_settings_name_an_invalid_value(monkeypatch: Any) -> None:
    monkeypatch.setenv("HOTLINE_BRIDGE_PROXY_HOPS", '"two"')
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 1
    assert "HOTLINE_BRIDGE_PROXY_HOPS = two   (environment)   INVALID" in result.output


def unit_for_this_checkout(unit: str) -> str:
    """The unit as installed in this checkout instead of /opt/hotline-bridge."""
    return unit.replace("/opt/hotline-bridge", str(PROJECT_ROOT))


def unit_lines(unit: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(f"{key}=")]


def test_the_systemd_units_are_valid(tmp_path: Path) -> None:
    import shutil

    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    paths = []
    for name in ("hotline-bridge.service", "hotline-bridge-backup.service"):
        path = tmp_path / name
        path.write_text(unit_for_this_checkout((UNIT.parent / name).read_text()), encoding="utf-8")
        paths.append(str(path))
    paths.append(str(UNIT.parent / "hotline-bridge-backup.timer"))
    result = subprocess.run(
        ["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_systemd_units_command_serves_on_loopback_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    import shlex

    unit = unit_for_this_checkout(UNIT.read_text(encoding="utf-8"))
    port = free_port()
    env = server_env(tmp_path / "unit.db", f"http://127.0.0.1:{port}")
    for assignment in unit_lines(unit, "Environment"):
        name, value = assignment.split("=", 1)
        env[name] = value
    # What systemd would provide: the bind address, state and runtime folders of this test.
    assert env["HOTLINE_BRIDGE_BIND"].startswith("127.0.0.1:")
    env["HOTLINE_BRIDGE_BIND"] = f"127.0.0.1:{port}"
    env["HOTLINE_BRIDGE_DATABASE"] = str(tmp_path / "unit.db")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "run")
    (tmp_path / "run").mkdir()
    (command,) = unit_lines(unit, "ExecStart")
    process = subprocess.Popen(
        shlex.split(command), env=env, cwd=PROJECT_ROOT, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert b"hotline_bridge_requests_total" in response.read()
        process.send_signal(signal.SIGTERM)  # what systemctl stop sends
        assert process.wait(timeout=STOP_SECONDS) == 0
    finally:
        stop(process)
