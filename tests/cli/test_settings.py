"""Settings: declared once, parsed in one place, documented, and strict outside local mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from hotline_bridge import create_app
from hotline_bridge.cli import load_app
from hotline_bridge.settings import PROJECT_ROOT, SETTINGS, ConfigError, describe, load
from tests.conftest import (
    AUTH_TOKEN,
    CLINIC_NUMBER,
    GUNICORN_CONFIG,
    SENDER,
    free_port,
    server_env,
    sign,
)

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("row", describe(), ids=lambda row: row["variable"])
def test_every_setting_is_documented_in_the_readme(row: dict[str, str]) -> None:
    assert f"`{row['variable']}`" in README
    assert row["help"] in README


def test_every_setting_has_help_and_a_default_declared() -> None:
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)
    for setting in SETTINGS:
        assert setting.help.endswith(".") and len(setting.help) > 20


def test_the_contracts_settings_exist() -> None:
    names = {s.name for s in SETTINGS}
    assert {
        "DATABASE",
        "SECRET_KEY",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "VALIDATE_SIGNATURES",
        "PROXY_HOPS",
    } <= names


def test_production_refuses_to_start_without_secrets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE": str(tmp_path / "x.db"), "TWILIO_AUTH_TOKEN": "t"})
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        create_app({"DATABASE": str(tmp_path / "x.db"), "SECRET_KEY": "s"})


PRODUCTION = {"SECRET_KEY": "s", "TWILIO_AUTH_TOKEN": AUTH_TOKEN}


def test_production_refuses_to_start_without_public_url(tmp_path: Path) -> None:
    config = {**PRODUCTION, "DATABASE": str(tmp_path / "x.db")}
    with pytest.raises(click.ClickException) as refused:
        load_app(config)  # what ``serve`` and every command start with
    message = refused.value.format_message()
    assert message.startswith("cannot start: HOTLINE_BRIDGE_PUBLIC_URL must be set")
    assert "\n" not in message
    assert create_app({**config, "PUBLIC_URL": "https://line.example.org"})
    assert create_app({**config, "LOCAL": "1"})  # make run


def test_gunicorn_refuses_to_start_without_public_url_in_one_line(tmp_path: Path) -> None:
    """As the systemd unit starts it: gunicorn with the repository's configuration."""
    env = server_env(tmp_path / "x.db")  # no PUBLIC_URL
    argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    argv += ["--bind", f"127.0.0.1:{free_port()}"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cannot start: HOTLINE_BRIDGE_PUBLIC_URL must be set")


def test_trusting_the_host_header_is_an_explicit_loud_choice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {**PRODUCTION, "DATABASE": str(tmp_path / "x.db"), "TRUST_HOST_HEADER": "1"}
    assert create_app(config)
    assert "HOTLINE_BRIDGE_TRUST_HOST_HEADER is on" in caplog.text
    assert "HOTLINE_BRIDGE_PUBLIC_URL" in caplog.text


def test_with_public_url_a_signature_for_another_host_fails(tmp_path: Path) -> None:
    config = {**PRODUCTION, "DATABASE": str(tmp_path / "x.db")}
    client = create_app({**config, "PUBLIC_URL": "https://line.example.org"}).test_client()
    params = {"Body": "hello", "From": SENDER, "To": CLINIC_NUMBER, "MessageSid": "SM" + "1" * 32}

    def post(signed_for: str, host: str) -> int:
        headers = {"X-Twilio-Signature": sign(signed_for, params), "Host": host}
        return client.post("/sms", data=params, headers=headers).status_code

    assert post("https://other.example/sms", "other.example") == 403
    assert post("http://localhost/sms", "localhost") == 403
    assert post("https://line.example.org/sms", "other.example") == 200


def test_signature_checks_can_be_turned_off_only_in_local_mode() -> None:
    with pytest.raises(ConfigError, match="LOCAL"):
        load({"VALIDATE_SIGNATURES": "0", "SECRET_KEY": "s", "TWILIO_AUTH_TOKEN": "t"})
    local = load({"VALIDATE_SIGNATURES": "0", "LOCAL": "1"})
    assert local["VALIDATE_SIGNATURES"] is False and local["SECRET_KEY"]


def test_local_mode_warns_loudly_when_checks_are_off(caplog: pytest.LogCaptureFixture) -> None:
    load({"VALIDATE_SIGNATURES": False, "LOCAL": True})
    assert "signature checks are OFF" in caplog.text


def test_settings_come_from_prefixed_environment_variables(
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(tmp_path / "env.db"))
    monkeypatch.setenv("HOTLINE_BRIDGE_SECRET_KEY", "from-env")
    monkeypatch.setenv("HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN", "token-from-env")
    monkeypatch.setenv("HOTLINE_BRIDGE_PROXY_HOPS", "2")
    monkeypatch.setenv("HOTLINE_BRIDGE_PUBLIC_URL", "https://line.example.org")
    monkeypatch.setenv("HOTLINE_BRIDGE_SENSITIVE_WORDS", "alpha, beta")
    app = create_app()
    assert app.config["DATABASE"] == str(tmp_path / "env.db")
    assert app.config["PROXY_HOPS"] == 2
    assert app.config["SENSITIVE_WORDS"] == ("alpha", "beta")
    assert (tmp_path / "env.db").exists()


@pytest.mark.parametrize(
    ("name", "value"), [("PROXY_HOPS", "many"), ("LOCAL", "perhaps"), ("SESSION_MINUTES", "soon")]
)
def test_malformed_values_are_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"HOTLINE_BRIDGE_{name}"):
        load({name: value, "LOCAL": "1"} if name != "LOCAL" else {name: value})


def test_database_is_created_seeded_and_in_wal_mode(app) -> None:  # type: ignore[no-untyped-def]
    from hotline_bridge.directory.store import open_db, read_national_lines

    with open_db(app) as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert db.execute("pragma busy_timeout").fetchone()[0] > 0
        stored = {row["id"]: row for row in db["services"].rows_where("national = 1")}
    for line in read_national_lines():
        assert stored[line["id"]]["phone"] == (line["voice"] or None)
        assert stored[line["id"]]["tty"] == (line["tty"] or None)
        if line["id"] != "nhth":  # its short code waits for confirmation (below)
            assert stored[line["id"]]["sms"] == (line["sms_number"] or None)


def test_shipped_reference_matches_the_checked_copy() -> None:
    shared = PROJECT_ROOT.parent / "shared" / "reference" / "national-resources.csv"
    shipped = PROJECT_ROOT / "hotline_bridge" / "directory" / "data" / "national-resources.csv"
    if shared.exists():  # beside the repository in development and CI
        assert shipped.read_bytes() == shared.read_bytes()
    assert b"+18883737888" in shipped.read_bytes()


def test_numbers_changed_in_the_database_are_restored_at_start(make_app) -> None:  # type: ignore[no-untyped-def]
    from hotline_bridge.directory.store import open_db

    app = make_app()
    with open_db(app) as db, db.conn:
        db.execute("update services set phone = '+15550000000' where id = 'nhth'")
    app = make_app()
    with open_db(app) as db:
        assert db["services"].get("nhth")["phone"] == "+18883737888"


def test_migrations_are_recorded_and_safe_to_rerun(make_app) -> None:  # type: ignore[no-untyped-def]
    from hotline_bridge.directory.store import migrations, open_db

    app = make_app()
    make_app()
    with open_db(app) as db:
        assert migrations.pending(db) == []
        assert len(migrations.applied(db)) >= 1


def test_flagged_numbers_are_withheld_until_confirmed(make_app) -> None:  # type: ignore[no-untyped-def]
    from hotline_bridge.directory.store import open_db

    with open_db(make_app()) as db:
        nhth = db["services"].get("nhth")
    assert nhth["phone"] == "+18883737888"
    assert nhth["sms"] is None and nhth["sms_keyword"] is None
    with open_db(make_app(CONFIRMED_LINES="nhth@2026-12-07")) as db:
        assert db["services"].get("nhth")["sms"] == "233733"


@pytest.mark.parametrize("value", ["nhth", "nowhere@2026-12-01", "nhth@yesterday"])
def test_a_malformed_confirmation_refuses_to_start(make_app, value: str) -> None:  # type: ignore[no-untyped-def]
    from hotline_bridge.settings import ConfigError

    with pytest.raises(ConfigError, match="CONFIRMED_LINES"):
        make_app(CONFIRMED_LINES=value)


def test_check_names_stale_and_unconfirmed_lines() -> None:
    import datetime as dt

    from hotline_bridge.directory import national

    found = list(national.findings({}, dt.date(2026, 12, 9)))
    assert [(f.line_id, f.fatal) for f in found] == [("nhth", True)]
    assert "233733" in found[0].text and "+18883737888" not in found[0].text
    later = list(national.findings({"nhth": dt.date(2026, 12, 7)}, dt.date(2027, 7, 1)))
    assert {f.line_id for f in later} == {line.id for line in national.lines()}
    assert not any(f.fatal for f in later)


@pytest.mark.parametrize("name", [s.name for s in SETTINGS if type(s.default) is int])
def test_a_count_or_a_length_of_time_below_zero_is_refused_by_name(name: str) -> None:
    """PROXY_HOPS=-1 once let every proxied request fail outside the fail-safe."""
    with pytest.raises(ConfigError, match=f"_{name}: expected a whole number of 0 or more"):
        load({"TESTING": True, name: "-1"})
