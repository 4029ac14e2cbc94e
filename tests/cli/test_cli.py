"""The hotline-bridge command: every command has help; check, simulate and fallback-twiml work."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import click
import pytest
from click.testing import CliRunner

from hotline_bridge.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "HOTLINE_BRIDGE_DATABASE": str(tmp_path / "cli.db"),
        "HOTLINE_BRIDGE_SECRET_KEY": "cli-secret",
        "HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN": "cli-token",
        "HOTLINE_BRIDGE_PUBLIC_URL": "https://line.example.org",
        # This deployment has confirmed the short code flagged in the reference.
        "HOTLINE_BRIDGE_CONFIRMED_LINES": "nhth@2026-12-07",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, prefix + name + " "))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(main), ids=lambda v: str(v))
def test_every_command_has_help(name: str, command: click.Command) -> None:
    assert command.help or command.short_help, name
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output


def test_check_passes_on_the_shipped_flow_and_catalogs(env: dict[str, str]) -> None:
    import sqlite3

    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "GSM-7" in result.output and "UCS-2" in result.output
    assert "check passed" in result.output
    # Every voice path and SMS conversation walked, and nothing counted.
    with sqlite3.connect(env["HOTLINE_BRIDGE_DATABASE"]) as conn:
        assert conn.execute("select count(*) from counts").fetchone()[0] == 0


@pytest.mark.clock
def test_no_reply_of_the_demo_directory_make_run_loads_is_over_three_segments(
    env: dict[str, str],
) -> None:
    """What `make run` serves: the demo clinic's long program name still lets every answer
    (HELP in Spanish too) fit three segments."""
    from hotline_bridge.settings import PROJECT_ROOT

    for name in ("sites.csv", "services.csv"):
        imported = CliRunner().invoke(main, ["import", str(PROJECT_ROOT / "examples/demo" / name)])
        assert imported.exit_code == 0, imported.output
    result = CliRunner().invoke(main, ["check", "--quiet"])
    assert "over 3 segments" not in result.output
    assert "max 3" in result.output and "max 4" not in result.output
    # Random conversations on the imported directory: within the budget, the main menu too.
    assert "walk sms es:" in result.output and "walk sms en:" in result.output
    assert "median of walked" not in result.output and "a first" not in result.output


def test_a_program_name_too_long_for_the_answer_to_help_is_refused_by_import(
    env: dict[str, str], tmp_path: Path
) -> None:
    sites = tmp_path / "sites.csv"
    long_name = "Línea de Salud Comunitaria del Condado de Riverside y Alrededores"
    sites.write_text(
        "id,name_en,name_es,default_language,time_zone,zip\n"
        f"riverside,Riverside Health Line,{long_name},es,America/New_York,02139\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["import", str(sites)])
    assert result.exit_code != 0
    assert "name_es" in result.output and "answer to HELP" in result.output
    assert "main menu, the first text message reply, longer than 2 segments in es" in result.output


def test_a_program_name_that_makes_the_main_menu_three_segments_is_refused_by_import(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The main menu is the first reply and opens with the program name: two segments at
    most. An accented letter sends English as UCS-2 (70 characters a segment)."""
    sites = tmp_path / "sites.csv"
    header = "id,name_en,name_es,default_language,time_zone,zip\n"
    too_long = "Clínica de la Comunidad Riverside Health Line"
    sites.write_text(
        f"{header}stmary,{too_long},Línea Santa María,en,America/New_York,02139\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["import", str(sites)])
    assert result.exit_code != 0
    assert "name_en" in result.output and "name_es" not in result.output
    assert "main menu, the first text message reply, longer than 2 segments in en" in result.output
    assert "answer to HELP" not in result.output  # HELP still fits its three
    # A few characters shorter, it fits.
    sites.write_text(
        f"{header}stmary,Clínica de la Comunidad Health Line,Línea Santa María,en,"
        "America/New_York,02139\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["import", str(sites)])
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("short_walks")
def test_check_fails_on_a_flagged_line_the_deployment_has_not_confirmed(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_BRIDGE_CONFIRMED_LINES")
    result = CliRunner().invoke(main, ["check", "--quiet"])
    assert result.exit_code != 0
    assert (
        "FAIL national line nhth: flagged for re-verification (sms_number 233733" in result.output
    )
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")  # a trial, not a deployment: a warning
    result = CliRunner().invoke(main, ["check", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "WARN national line nhth" in result.output


@pytest.mark.usefixtures("short_walks")
def test_check_fails_on_a_sensitive_word_on_first_contact(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_BRIDGE_SENSITIVE_WORDS", "help")
    result = CliRunner().invoke(main, ["check", "--quiet"])
    assert result.exit_code != 0
    assert "sensitive words" in result.output


@pytest.mark.usefixtures("short_walks")
def test_check_reports_a_broken_start_without_a_traceback(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_BRIDGE_PROXY_HOPS", "several")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code != 0 and "PROXY_HOPS" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("short_walks")
def test_check_needs_no_production_secrets(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_BRIDGE_SECRET_KEY")
    monkeypatch.delenv("HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN")
    result = CliRunner().invoke(main, ["check", "--quiet"])
    assert result.exit_code == 0, result.output


def test_other_commands_refuse_to_start_without_secrets(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_BRIDGE_SECRET_KEY")
    result = CliRunner().invoke(main, ["fallback-twiml"])
    assert result.exit_code != 0 and "SECRET_KEY" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["hello", "1", "HELP"], ["Talk to someone now", "1-888-373-7888", "GSM-7"]),
        (
            ["hola", "2", "1", "1"],
            [
                "¿En qué le ayudamos?",
                "Ayuda legal",
                "UCS-2",
                "Línea Nacional contra la Trata de Personas",
            ],
        ),
    ],
)
def test_simulate_sms_is_a_signed_conversation(
    env: dict[str, str], lines: list[str], expected: list[str]
) -> None:
    result = CliRunner().invoke(main, ["simulate", "sms"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "(200," in result.output and "(403," not in result.output
    for text in expected:
        assert text in result.output


def test_fallback_twiml_is_static_bilingual_and_valid(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["fallback-twiml"])
    assert result.exit_code == 0, result.output
    message = ElementTree.fromstring(result.output).findtext("Message") or ""
    assert "1-888-373-7888" in message and "911" in message
    assert "Sorry" in message and "Tuvimos" in message


def test_settings_lists_every_variable() -> None:
    result = CliRunner().invoke(main, ["settings"])
    assert "HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN" in result.output


@pytest.mark.usefixtures("short_walks")
def test_trying_the_line_adds_nothing_to_the_usage_counts(env: dict[str, str]) -> None:
    import sqlite3

    CliRunner().invoke(main, ["simulate", "sms"], input="hello\n1\nHELP\n")
    CliRunner().invoke(main, ["check", "--quiet"])
    with sqlite3.connect(env["HOTLINE_BRIDGE_DATABASE"]) as conn:
        assert conn.execute("select count(*) from counts").fetchone()[0] == 0


def test_counts_shows_only_anonymous_aggregates(env: dict[str, str]) -> None:
    from flask.testing import FlaskClient

    from hotline_bridge import create_app
    from hotline_bridge.counters import today

    assert "No counts yet." in CliRunner().invoke(main, ["counts"]).output
    app = create_app()
    client: FlaskClient = app.test_client()
    client.get("/kiosk/default/es")
    result = CliRunner().invoke(main, ["counts", "--day", today()])
    assert result.exit_code == 0, result.output
    assert "kiosk" in result.output and "es" in result.output and "step:main" in result.output
