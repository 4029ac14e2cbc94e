"""The public privacy page: what it states comes from the settings and files the code enforces,
it is served in every language, and a kiosk's link to it returns to the kiosk by itself."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from hotline_bridge import create_app
from hotline_bridge.channels.voice.render import KEY_FORGET
from hotline_bridge.privacy_page import TWILIO_REMOVAL_DAYS
from hotline_bridge.webhooks.forget import SETTLE_SECONDS
from tests.channels.kiosk.test_kiosk import seed_kiosk
from tests.channels.kiosk.test_kiosk_browser import Server


def text_of(app: Flask, path: str) -> str:
    response = app.test_client().get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_numbers_come_from_the_settings(make_app: Any) -> None:
    app = make_app(SESSION_MINUTES=7, CONSOLE_MIN_COUNT=9, DELETE_TWILIO_RECORDS=True)
    page = text_of(app, "/privacy")
    assert "After 7 minutes without a message" in page
    assert "never see a count below 9." in page
    assert f"about {int(SETTLE_SECONDS)} seconds after it ends" in page
    assert f"press {KEY_FORGET} on the safety tips" in page
    assert f"for up to {TWILIO_REMOVAL_DAYS} days" in page
    assert "Text DELETE, DELETE ALL, or ERASE" in page


def test_without_deleting_every_record_it_says_how_to_ask(make_app: Any) -> None:
    page = text_of(make_app(DELETE_TWILIO_RECORDS=False), "/privacy")
    assert "does not delete Twilio's copies on its own" in page
    assert "seconds after it ends" not in page


def test_the_keywords_are_read_from_the_keyword_file(
    make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_bridge import runtime as runtime_module
    from hotline_bridge.settings import PROJECT_ROOT

    table = (PROJECT_ROOT / "flows/keywords.toml").read_text(encoding="utf-8")
    changed = tmp_path / "keywords.toml"
    changed.write_text(table.replace('"BORRAR", ', '"SUPRIMIR", "BORRAR", '), encoding="utf-8")
    monkeypatch.setattr(runtime_module, "KEYWORDS_FILE", str(changed))
    page = text_of(make_app(), "/privacy/es")
    assert "Envíe SUPRIMIR, BORRAR, BORRAR TODO, ELIMINAR o ELIMINAR TODO" in page


@pytest.mark.parametrize("path", ["/privacy/es", "/privacy?lang=es"])
def test_spanish_by_path_or_by_query(app: Flask, path: str) -> None:
    page = text_of(app, path)
    assert "Lo que la línea no guarda" in page
    assert "Después de 15 minutos sin mensajes" in page


def test_an_unknown_language_is_the_default_one(app: Flask) -> None:
    assert "What the line does not keep" in text_of(app, "/privacy/xx")


def test_who_runs_the_line_is_named_when_set(make_app: Any) -> None:
    app = make_app(BUSINESS_NAME="Riverside Clinic Inc.", CONTACT_EMAIL="privacy@example.org")
    page = text_of(app, "/privacy")
    assert "Run by: Riverside Clinic Inc." in page
    assert "privacy@example.org" in page
    assert "Who runs this line" not in text_of(make_app(), "/privacy")


@pytest.mark.parametrize(
    "back", ["//evil.example/x", "https://evil.example/", "/console", "/kiosk"]
)
def test_only_a_kiosk_page_of_this_server_is_returned_to(app: Flask, back: str) -> None:
    html = app.test_client().get("/privacy", query_string={"back": back}).get_data(as_text=True)
    assert "data-return" not in html
    assert "<script" not in html


# --- In a browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("privacy")
    app = create_app(
        {"TESTING": True, "DATABASE": str(tmp / "hotline.db"), "KIOSK_IDLE_SECONDS": 1}
    )
    seed_kiosk(app.config["DATABASE"])
    running = Server(app)
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("lang", "heading", "other"),
    [
        ("en", "What the line does not keep", "Español"),
        ("es", "Lo que la línea no guarda", "English"),
    ],
)
def test_the_page_in_each_language_in_a_browser(
    browser: Browser, server: Server, lang: str, heading: str, other: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.base) else outside.append(r.url))
    page.goto(f"{server.base}/privacy/{lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=2).first).to_have_text(heading)
    page.get_by_role("link", name=other).click()
    expect(page.locator("html")).not_to_have_attribute("lang", lang)
    assert not outside
    assert not context.cookies()
    context.close()


def test_from_the_kiosk_and_back_by_itself(browser: Browser, server: Server) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.base}/kiosk/lobby/es")
    page.get_by_role("link", name="Privacidad").click()
    expect(page).to_have_url(re.compile(r"/privacy/es\?back="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacidad")
    # No touch for the kiosk's idle time (one second here): back to the kiosk's home page.
    expect(page).to_have_url(f"{server.base}/kiosk/lobby/es", timeout=5000)
    context.close()
