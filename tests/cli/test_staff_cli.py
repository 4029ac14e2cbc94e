"""The command line's side of accounts: the first-account link ``serve`` prints, the staff
commands' password rules, and a ``--help`` and ``--version`` that a person can read."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hotline_bridge.cli.staff import staff as staff_command
from hotline_bridge.directory.store import open_db
from tests.console.accounts_helpers import first_account_url, served
from tests.console.console_helpers import PASSWORD, add_staff, seed


@pytest.fixture
def console(make_app: Any) -> Flask:
    app: Flask = make_app()
    seed(app)
    return app


def _bare_env() -> dict[str, str]:
    """The environment of a shell with no hotline-bridge setting at all."""
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_BRIDGE_")}


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline_bridge.cli", *args]
    return subprocess.run(
        command, env=_bare_env(), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_help_without_settings_has_no_traceback(tmp_path: Path) -> None:
    result = _run("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "Usage:" in result.stdout and "staff" in result.stdout


def test_version_is_hotline_bridges_own(tmp_path: Path) -> None:
    from importlib import metadata

    result = _run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"hotline-bridge {metadata.version('hotline-bridge')}"
    assert "Flask" not in result.stdout


@pytest.mark.parametrize(
    ("password", "says"),
    [("password1234", "common passwords"), ("nora north example", "email"), ("short", "12")],
)
def test_staff_add_refuses_a_weak_password(console: Flask, password: str, says: str) -> None:
    result = console.test_cli_runner().invoke(
        staff_command, ["add", "nora@north.example", "--site", "north"], input=password + "\n"
    )
    assert result.exit_code != 0 and says in result.output
    with open_db(console) as db:
        assert db.execute("select count(*) from staff").fetchone()[0] == 0


def test_staff_commands_name_an_unknown_account(console: Flask) -> None:
    runner = console.test_cli_runner()
    for command in ("enable", "reset-factor"):
        result = runner.invoke(staff_command, [command, "nobody@example.org"])
        assert result.exit_code != 0 and "no account nobody@example.org" in result.output


def test_serve_prints_the_first_account_link_only_while_no_account_exists(
    tmp_path: Path,
) -> None:
    database = tmp_path / "served.db"
    with served(database) as (base, printed):
        url = first_account_url(printed)
        assert url.startswith(base + "/console/setup/")
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and b"Set up your account" in page.read()
    with open_db(_app_for(database)) as db:
        assert url.rsplit("/", 1)[1] not in str(list(db.query("select * from setup_links")))
    add_staff(_app_for(database), "ada@admin.example", "--admin", password=PASSWORD)
    with served(database) as (_base, printed):
        assert not any(line.startswith("Set up the first account") for line in printed)


def _app_for(database: Path) -> Flask:
    from hotline_bridge import create_app
    from tests.conftest import AUTH_TOKEN, SECRET_KEY

    config = {"TESTING": True, "DATABASE": str(database), "SECRET_KEY": SECRET_KEY}
    return create_app({**config, "TWILIO_AUTH_TOKEN": AUTH_TOKEN})
