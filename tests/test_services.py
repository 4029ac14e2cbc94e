"""Keeping the directory current: sites and routing, one service at a time, and what is retired."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Texter
from flask import Flask
from test_import import EXAMPLES, run

from hotline_bridge.cli import main
from hotline_bridge.directory.store import open_db


def demo(app: Flask) -> Flask:
    """Import the demo clinic and its services into ``app``."""
    for name in ("sites.csv", "services.csv"):
        result = run(app, "import", str(EXAMPLES / "demo" / name))
        assert result.exit_code == 0, result.output
    return app


def add_site(app: Flask, site_id: str, numbers: str, keywords: str) -> None:
    with open_db(app) as db:
        db.table("sites").insert(
            {
                "id": site_id,
                "name_en": f"{site_id.title()} Clinic Line",
                "numbers": numbers,
                "keywords": keywords,
            }
        )


# --- Sites and routing -------------------------------------------------------------------------


def test_another_sites_keyword_on_a_dedicated_number_is_answered_by_the_numbers_site(
    app: Flask,
) -> None:
    demo(app)
    add_site(app, "south", "[]", '["BIENESTAR"]')
    texter = Texter(app.test_client(), to="+15555550199")  # the demo clinic's own number
    assert texter.send("BIENESTAR").startswith("Riverside Health Line")
    # Its own keyword still starts over at the number's site.
    assert texter.send("WELLNESS").startswith("Riverside Health Line")


def test_a_keyword_on_a_shared_number_chooses_its_site(app: Flask) -> None:
    demo(app)
    add_site(app, "south", '["+15550100777"]', '["BIENESTAR"]')
    add_site(app, "north", '["+15550100777"]', '["NORTE"]')
    shared = Texter(app.test_client(), to="+15550100777")
    assert shared.send("BIENESTAR").startswith("South Clinic Line")
    unlisted = Texter(app.test_client(), sender="+15558675310", to="+15550100888")
    assert unlisted.send("NORTE").startswith("North Clinic Line")


def test_an_unknown_kiosk_address_is_404_with_the_hotline_and_911(
    app: Flask, captured_logs: pytest.LogCaptureFixture
) -> None:
    page = app.test_client().get("/kiosk/no-such-clinic")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "1-888-373-7888" in html and "911" in html
    assert "Content-Security-Policy" in page.headers
    assert any(
        "no-such-clinic" in r.getMessage() and r.levelno == logging.WARNING
        for r in captured_logs.records
    )
    assert app.test_client().get("/kiosk/no-such-clinic/es/main").status_code == 404
    assert app.test_client().get("/kiosk/default/en").status_code == 200


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A command line with no Twilio secrets at all."""
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(tmp_path / "cli.db"))
    monkeypatch.delenv("HOTLINE_BRIDGE_SECRET_KEY", raising=False)
    monkeypatch.delenv("HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN", raising=False)
    return {}


def test_import_and_export_need_no_twilio_secrets(env: Any, tmp_path: Path) -> None:
    for name in ("sites.csv", "services.csv"):
        result = CliRunner().invoke(main, ["import", str(EXAMPLES / "demo" / name)])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["export", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(main, ["fallback-twiml"])
    assert refused.exit_code != 0 and "SECRET_KEY" in refused.output


def test_both_simulators_answer_as_the_same_site(app: Flask) -> None:
    demo(app)
    sms = app.test_cli_runner().invoke(main, ["simulate", "sms"], input="hello\n")
    voice = app.test_cli_runner().invoke(main, ["simulate", "voice"], input="*\n")
    assert "Riverside Health Line" in sms.output, sms.output
    assert "Riverside Health Line" in voice.output, voice.output
