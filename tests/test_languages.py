"""Languages are data: services' and sites' words live one row per language, moved there from a
database written by the release that kept them in *_en / *_es columns."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Texter
from flask import Flask

from hotline_bridge.cli import main
from hotline_bridge.directory.models import get_service, get_site
from hotline_bridge.directory.store import open_db

BEFORE = Path(__file__).parent / "fixtures" / "before-languages" / "directory.db"
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
    old = {row["id"]: row for row in _read(BEFORE, "select * from services where status='active'")}
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
