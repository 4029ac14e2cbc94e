"""Languages are data: services' and sites' words live one row per language, moved there from a
database written by the release that kept them in *_en / *_es columns."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape

from hotline_bridge.cli import main
from hotline_bridge.directory.models import get_service, get_site
from hotline_bridge.directory.store import open_db
from tests.conftest import FIXTURES, PROJECT, Texter

BEFORE = FIXTURES / "before-languages" / "directory.db"
LOCALES = PROJECT / "locales"
# The demo clinic's number in that database.
DEMO_NUMBER = "+15555550199"
SERVICE_WORDS = ("label", "name", "description")
# What the migration must leave exactly as it was.
KEPT_TABLES = ("service_sites", "counts", "staff", "audit_log", "console_sessions")


def _read(path: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql)]
    finally:
        conn.close()


@pytest.fixture
def before(tmp_path: Path) -> Path:
    """A copy of the old release's database, for the new code to open."""
    copy = tmp_path / "hotline.db"
    shutil.copyfile(BEFORE, copy)
    return copy


@pytest.fixture
def migrated(make_app: Any, before: Path) -> Flask:
    app: Flask = make_app(DATABASE=str(before))
    return app


def _words(row: dict[str, Any], fields: tuple[str, ...], lang: str) -> tuple[str | None, ...]:
    return tuple(row[f"{name}_{lang}"] or None for name in fields)


def test_the_fixture_is_the_old_schema() -> None:
    columns = {row["name"] for row in _read(BEFORE, "pragma table_info(services)")}
    assert {"label_en", "name_es", "description_es"} <= columns
    assert _read(BEFORE, "select count(*) as n from services")[0]["n"] == 22


def test_every_service_keeps_every_word_in_both_languages(migrated: Flask, before: Path) -> None:
    old = _read(BEFORE, "select * from services order by id")
    with open_db(migrated) as db:
        ids = [row["id"] for row in db.query("select id from services order by id")]
        texts = {
            (row["service_id"], row["language"]): (row["label"], row["name"], row["description"])
            for row in db.query("select * from service_texts")
        }
    assert ids == [row["id"] for row in old]
    for row in old:
        if row["national"]:  # re-seeded from the checked reference and its notes at each start
            continue
        for lang in ("en", "es"):
            words = _words(row, SERVICE_WORDS, lang)
            found = texts.get((row["id"], lang), (None, None, None))
            assert found == words, (row["id"], lang)
    # A language with no words for a service has no row, not an empty one.
    assert set(texts.values()) == set(texts.values()) - {(None, None, None)}
    has_words = [
        (r["id"], lang) for r in old for lang in ("en", "es") if any(_words(r, SERVICE_WORDS, lang))
    ]
    assert sorted(texts) == sorted(has_words)


def test_services_read_the_same_through_the_models(migrated: Flask) -> None:
    # The national lines are re-seeded from the checked reference and its notes at each start.
    active = "select * from services where status = 'active' and not national"
    old = {row["id"]: row for row in _read(BEFORE, active)}
    with open_db(migrated) as db:
        for sid, row in old.items():
            service = get_service(db, sid)
            assert service is not None
            for lang in ("en", "es"):
                assert service.label(lang) == (
                    row[f"label_{lang}"] or row["label_en"] or row["name_en"]
                )
                assert service.name(lang) == (row[f"name_{lang}"] or row["name_en"])
                assert service.description(lang) == (row[f"description_{lang}"] or "")
            assert (service.phone, service.category) == (row["phone"], row["category"])


def test_sites_keep_their_program_names(migrated: Flask) -> None:
    with open_db(migrated) as db:
        demo, north = get_site(db, "demo-clinic"), get_site(db, "north-clinic")
    assert demo is not None and north is not None
    assert demo.program_name("en") == "Riverside Health Line (example)"
    assert demo.program_name("es") == "Línea de Salud Riverside (ejemplo)"
    # No Spanish name: the site's default language (Spanish) has none, so English stands in.
    assert north.program_name("es") == "Northside Wellness (example)"
    assert (north.numbers, north.keywords) == (("+15555550198",), ("NORTE",))


@pytest.mark.parametrize("table", KEPT_TABLES)
def test_other_tables_are_kept_as_they_were(migrated: Flask, before: Path, table: str) -> None:
    old = _read(BEFORE, f"select * from {table} order by 1, 2")
    assert old or table == "console_sessions"
    assert _read(before, f"select * from {table} order by 1, 2") == old


def test_the_old_columns_are_gone_and_the_migration_is_recorded(
    migrated: Flask, make_app: Any, before: Path
) -> None:
    for table in ("services", "sites"):
        columns = {row["name"] for row in _read(before, f"pragma table_info({table})")}
        assert not {c for c in columns if c.endswith(("_en", "_es"))}, table
    make_app(DATABASE=str(before))  # a second start applies nothing again
    applied = _read(before, "select name from _sqlite_migrations where name like 'm004%'")
    assert [row["name"] for row in applied] == ["m004_language_texts"]
    assert _read(before, "pragma foreign_key_check") == []


def test_the_migrated_line_answers_in_spanish_with_the_moved_words(migrated: Flask) -> None:
    texter = Texter(migrated.test_client(), to=DEMO_NUMBER)
    menu = texter.send("hola")
    assert menu.startswith("Línea de Salud Riverside (ejemplo)")
    texter.send("2")
    legal = texter.send("1")
    assert "Ayuda legal" in legal


def test_export_writes_the_old_columns_back(migrated: Flask, tmp_path: Path) -> None:
    out = tmp_path / "services.csv"
    result = migrated.test_cli_runner().invoke(main, ["export", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        exported = {row["id"]: row for row in csv.DictReader(handle)}
    old = _read(BEFORE, "select * from services where national = 0")
    assert set(exported) == {row["id"] for row in old}
    for row in old:
        for column in ("label_en", "label_es", "name_en", "name_es", "description_es"):
            assert exported[row["id"]][column] == (row[column] or ""), (row["id"], column)


# --- A third language, added as data ---------------------------------------------------------

PSEUDO = "qps"
# Every pseudo-language message is the English one between these marks: ASCII in GSM-7, so a
# text message costs what the English one does, give or take the marks.
OPEN, CLOSE = "<", ">"
# The Twilio voice that reads it, and what it says its own name is: data, not code.
PSEUDO_PROFILE = """keywords = ["QPS", "PSEUDO"]
voice = "Polly.Matthew-Neural"
speech = "en-US"
"""
OWN_WORDS = {
    "kiosk.language_name": "Pseudo",
    # Short: the Spanish main menu after a first message that suggests danger has room for
    # eight more characters within three segments, and check holds every reply to that.
    "sms.language_offer": "QPS",
    "voice.choose_language": "For Pseudo, press %(key)s.",
    "voice.switch_language": "For Pseudo, press the pound key.",
}


def _pseudo_locales(tmp_path: Path, profile: str = PSEUDO_PROFILE) -> Path:
    """Copy the catalogs and add a pseudo-language wrapping every English message, described
    by ``profile`` (its language.toml)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    with (locales / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id:
            text = OWN_WORDS.get(str(message.id), str(message.string))
            message.string = f"{OPEN}{text}{CLOSE}"
    folder = locales / PSEUDO / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    (locales / PSEUDO / "language.toml").write_text(profile, encoding="utf-8")
    return locales


@pytest.fixture
def pseudo(make_app: Any, tmp_path: Path) -> Flask:
    app: Flask = make_app(LOCALES_DIR=str(_pseudo_locales(tmp_path)))
    return app


def _wrapped(text: str) -> bool:
    """Whether every line is the pseudo-language's (numbered options keep their key in front),
    but for a menu's last line, which offers the other languages in their own words."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[-1].startswith("English: reply EN /"):
        lines = lines[:-1]
    return bool(lines) and all(OPEN in line and line.endswith(CLOSE) for line in lines)


def test_the_pseudo_language_is_offered_beside_spanish_by_text(pseudo: Flask) -> None:
    texter = Texter(pseudo.test_client())
    menu = texter.send("hello")
    assert menu.splitlines()[-1] == "Español: responda ES / <QPS>"
    switched = texter.send("QPS")
    assert _wrapped(switched), switched
    assert _wrapped(texter.send("2")), "the next menu stays in the pseudo-language"
    spanish = Texter(pseudo.test_client(), sender="+15558675310").send("hola")
    assert spanish.splitlines()[-1] == "English: reply EN / <QPS>"


def test_two_languages_keep_the_one_line_switch(app: Flask) -> None:
    texter = Texter(app.test_client())
    assert texter.send("hello").splitlines()[-1] == "Español: responda ES"
    assert texter.send("ES").splitlines()[-1] == "English: reply EN"


def test_the_pseudo_language_is_offered_on_whatsapp(pseudo: Flask) -> None:
    from tests.engine.test_conversations import WhatsApper

    writer = WhatsApper(pseudo.test_client())
    assert "<QPS>" in writer.send("hi")
    assert _wrapped(writer.send("pseudo"))


def test_the_kiosk_shows_the_pseudo_language(pseudo: Flask) -> None:
    client = pseudo.test_client()
    home = client.get("/kiosk").get_data(as_text=True)
    assert 'hreflang="qps"' in home and ">&lt;Pseudo&gt;</a>" in home
    page = client.get("/kiosk/default/qps").get_data(as_text=True)
    assert 'lang="qps"' in page
    assert "&lt;" + pseudo.extensions["hotline_bridge"].catalogs.text("en", "kiosk.exit") in page


def test_the_voice_line_speaks_the_pseudo_language_in_its_own_voice(pseudo: Flask) -> None:
    from hotline_bridge.channels.voice.simulator import Phone

    phone = Phone(pseudo, caller="+15558675309", to="+15550100999")  # type: ignore[arg-type]
    phone.dial_in()
    said = {spoken.text: (spoken.language, spoken.voice) for spoken in phone.said}
    assert said["<For Pseudo, press 3.>"] == ("en-US", "Polly.Matthew-Neural")
    phone.press("3")
    spoken = [s for s in phone.said if s.voice == "Polly.Matthew-Neural"]
    assert spoken and all(_wrapped(s.text) for s in spoken), phone.said
    assert "<For Pseudo, press the pound key.>" not in [s.text for s in phone.said]


def test_check_walks_the_pseudo_language(make_app: Any, tmp_path: Path) -> None:
    import datetime as dt

    from hotline_bridge.checks import run_checks

    # The national line whose text number waits for re-verification is confirmed here, so that
    # the only failures left would be the pseudo-language's.
    locales = str(_pseudo_locales(tmp_path))
    pseudo = make_app(LOCALES_DIR=locales, CONFIRMED_LINES="nhth@2026-12-07")
    report = run_checks(pseudo, dt.date(2026, 12, 9))
    assert not report.failed, [line for line in report.lines if line.startswith("FAIL")]
    assert any(line.startswith(f"summary sms {PSEUDO}:") for line in report.lines), report.lines


def test_the_console_forms_take_the_pseudo_languages_words(
    pseudo: Flask, frozen_clock: Any
) -> None:
    from tests.console.console_helpers import Staffer, add_staff, seed

    seed(pseudo)
    add_staff(pseudo, "ada@example.org", "--admin")
    ada = Staffer(pseudo, "ada@example.org", frozen_clock)
    assert ada.sign_in().status_code == 303
    form = ada.client.get("/console/services/new?site=north").get_data(as_text=True)
    assert 'name="name_qps"' in form and "Name in &lt;Pseudo&gt;" in form
    site = ada.client.get("/console/sites?site=north").get_data(as_text=True)
    assert 'name="name_qps"' in site and 'value="qps"' in site


def test_the_console_is_offered_in_the_pseudo_language(pseudo: Flask) -> None:
    client = pseudo.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    assert 'value="qps" lang="qps">&lt;Pseudo&gt;</button>' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    switched = client.post(
        "/console/language",
        data={"lang": "qps", "next": "/console/sign-in", "csrf_token": token},
    )
    assert switched.status_code == 303
    again = client.get("/console/sign-in").get_data(as_text=True)
    title = pseudo.extensions["hotline_bridge"].catalogs.text("qps", "console.signin.title")
    assert '<html lang="qps">' in again and escape(title) in again
    assert 'value="en" lang="en">English</button>' in again


def test_a_card_prints_in_the_pseudo_language(pseudo: Flask) -> None:
    import io

    import pypdf

    from hotline_bridge.printing import Request, render
    from tests.printing.test_print import add_sites

    add_sites(pseudo)
    printed = render(
        pseudo, Request(site="riverside", kind="wallet", lang=PSEUDO, keywords=("QPS",))
    )
    assert [w.lang for w in printed.wordings] == [PSEUDO]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(printed.pdf)).pages)
    assert OPEN in text and CLOSE in text, text
    with pytest.raises(ValueError, match="lang must be one of en, es, qps, both"):
        render(pseudo, Request(site="riverside", kind="wallet", lang="xx"))


def test_the_print_command_and_page_offer_the_pseudo_language(
    pseudo: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_bridge.cli import main
    from hotline_bridge.console.printing import lang_names
    from tests.printing.test_print import add_sites

    add_sites(pseudo)
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", pseudo.config["DATABASE"])
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCALES_DIR", pseudo.config["LOCALES_DIR"])
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")
    out = tmp_path / "card.pdf"
    runner = pseudo.test_cli_runner()
    result = runner.invoke(
        main,
        [
            "print",
            "riverside",
            "--kind",
            "wallet",
            "--lang",
            PSEUDO,
            "--keyword",
            "QPS",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    refused = runner.invoke(
        main, ["print", "riverside", "--kind", "wallet", "--lang", "xx", "--out", str(out)]
    )
    assert refused.exit_code != 0 and "choose one of en, es, qps, both" in refused.output
    with pseudo.test_request_context("/console/print"):
        assert lang_names()[PSEUDO] == f"{OPEN}Pseudo{CLOSE}"


@pytest.mark.parametrize(
    ("voice", "speech"),
    [
        ("Polly.Lea-Neural", "fr-FR"),
        ("Polly.Kajal-Neural", "hi-IN"),
        ("Google.vi-VN-Standard-A", "vi-VN"),
    ],
)
def test_a_third_language_reads_in_any_twilio_voice_of_its_language(
    make_app: Any, tmp_path: Path, voice: str, speech: str
) -> None:
    from hotline_bridge.channels.voice.simulator import Phone

    profile = PSEUDO_PROFILE.replace("Polly.Matthew-Neural", voice).replace("en-US", speech)
    app = make_app(LOCALES_DIR=str(_pseudo_locales(tmp_path, profile)))
    phone = Phone(app, caller="+15558675309", to="+15550100999")
    phone.dial_in()
    phone.press("3")
    assert {(s.language, s.voice) for s in phone.said if _wrapped(s.text)} == {(speech, voice)}


def test_a_voice_of_another_language_is_refused_for_a_third_language(
    make_app: Any, tmp_path: Path
) -> None:
    from hotline_bridge.settings import ConfigError

    profile = PSEUDO_PROFILE.replace("Polly.Matthew-Neural", "Polly.Lea-Neural")  # en-US speech
    locales = _pseudo_locales(tmp_path, profile)
    with pytest.raises(ConfigError, match=r"'Polly\.Lea-Neural' is not a known voice for en-US"):
        make_app(LOCALES_DIR=str(locales))
