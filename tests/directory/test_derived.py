"""What a worker works out from the directory (sites, lists, screens, a list's page size) is
kept only while the directory is unchanged: every write to it, by whatever path, shows in the
next reply, and the usage counts' writes keep nothing from being reused."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from hotline_bridge.channels.sms.replies import Replies
from hotline_bridge.cli import main
from hotline_bridge.directory import store
from hotline_bridge.directory.store import Derived, derived, get_db
from tests.conftest import Texter

LISTED = "community211"


@pytest.fixture
def fresh_app(make_app: Any) -> Flask:
    """An app that keeps no answers: every reply is worked out, from what the worker keeps of
    the directory."""
    app: Flask = make_app()
    app.extensions["hotline_bridge.replies"] = Replies(size=0)
    return app


def _legal_list(app: Flask, sender: str) -> str:
    texter = Texter(app.test_client(), sender=sender)
    texter.send("hello")
    texter.send("2")  # find help
    return texter.send("1")  # legal or immigration help


def _label(app: Flask, service_id: str) -> str:
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        row = conn.execute(
            "select coalesce(nullif(label, ''), name) from service_texts "
            "where service_id = ? and language = 'en'",
            (service_id,),
        ).fetchone()
    return str(row[0])


def test_an_import_shows_in_the_next_reply(fresh_app: Flask, tmp_path: Path) -> None:
    before = _legal_list(fresh_app, "+15558670001")
    assert _label(fresh_app, LISTED) in before
    services = tmp_path / "services.csv"
    services.write_text(
        "id,site,category,label_en,label_es,name_en,name_es,phone,languages,fictional\n"
        "newly-listed,default,legal,Brand new legal desk,Mesa legal nueva,New Desk (example),"
        'Mesa Nueva (ejemplo),+16175550177,"en, es",1\n',
        encoding="utf-8",
    )
    env = {"HOTLINE_BRIDGE_DATABASE": fresh_app.config["DATABASE"], "HOTLINE_BRIDGE_LOCAL": "1"}
    result = CliRunner(env=env).invoke(main, ["import", str(services)])
    assert result.exit_code == 0, result.output
    after = _legal_list(fresh_app, "+15558670002")
    assert "Brand new legal desk" in after and after != before


def test_a_console_edit_shows_in_the_next_reply(fresh_app: Flask) -> None:
    before = _legal_list(fresh_app, "+15558670001")
    with fresh_app.test_request_context():  # the worker's own connection, as the console's
        get_db().execute(
            "update service_texts set label = 'Renamed desk' where service_id = ? "
            "and language = 'en'",
            [LISTED],
        )
        get_db().conn.commit()
    after = _legal_list(fresh_app, "+15558670002")
    assert "Renamed desk" in after and after != before


def test_a_deletion_shows_in_the_next_reply(fresh_app: Flask) -> None:
    before = _legal_list(fresh_app, "+15558670001")
    label = _label(fresh_app, LISTED)
    assert label in before
    with sqlite3.connect(fresh_app.config["DATABASE"]) as conn:  # another process
        conn.execute("pragma foreign_keys = on")
        conn.execute("delete from service_sites where service_id = ?", (LISTED,))
        conn.execute("delete from service_texts where service_id = ?", (LISTED,))
        conn.execute("delete from services where id = ?", (LISTED,))
    assert label not in _legal_list(fresh_app, "+15558670002")


def test_a_site_change_shows_in_the_next_reply(fresh_app: Flask) -> None:
    first = Texter(fresh_app.test_client(), sender="+15558670001").send("hello")
    with sqlite3.connect(fresh_app.config["DATABASE"]) as conn:
        conn.execute(
            "insert or replace into site_texts (site_id, language, name) "
            "values ('default', 'en', 'A renamed program')"
        )
    again = Texter(fresh_app.test_client(), sender="+15558670002").send("hello")
    assert again.startswith("A renamed program") and not first.startswith("A renamed program")


def test_every_directory_table_moves_the_version(app: Flask) -> None:
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        for table in store.DIRECTORY_TABLES:
            before = conn.execute(store.DIRECTORY_VERSION).fetchone()[0]
            conn.execute(f"update {table} set rowid = rowid")
            count = conn.execute(f"select count(*) from {table}").fetchone()[0]
            after = conn.execute(store.DIRECTORY_VERSION).fetchone()[0]
            assert count == 0 or after > before, table


def test_what_is_kept_outlives_the_counts_but_not_a_change(app: Flask) -> None:
    with app.app_context():
        db = get_db()
        derived(db)["worked out"] = 1
        with sqlite3.connect(app.config["DATABASE"]) as conn:  # the counts' own connection
            conn.execute(
                "insert into counts (day, channel, language, event, n) "
                "values ('2026-01-01', 'sms', 'en', 'x', 1)"
            )
        assert derived(db) == {"worked out": 1}
        _retire = "update services set status = 'retired' where id = ?"
        with sqlite3.connect(app.config["DATABASE"]) as conn:
            conn.execute(_retire, (LISTED,))
        assert derived(db) == {}


def test_a_change_is_seen_within_the_check_interval(app: Flask) -> None:
    with app.app_context():
        db = get_db()
        held = Derived(check_seconds=0.05)
        held.current(db, 100.0)["worked out"] = 1
        with sqlite3.connect(app.config["DATABASE"]) as conn:
            conn.execute("update services set status = 'retired' where id = ?", (LISTED,))
        assert held.current(db, 100.03) == {"worked out": 1}  # not looked at yet
        assert held.current(db, 100.08) == {}  # looked at: emptied
        held.current(db, 100.09)["worked out"] = 1
        db.execute("update services set status = 'active' where id = ?", [LISTED])  # own write
        db.conn.commit()
        assert held.current(db, 100.1) == {}  # at once, not at the next look


def _version_and_triggers(app: Flask) -> tuple[int, int]:
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        version = conn.execute(store.DIRECTORY_VERSION).fetchone()[0]
        triggers = conn.execute(
            "select count(*) from sqlite_master where type = 'trigger' and name like '%_version'"
        ).fetchone()[0]
    return int(version), int(triggers)


def test_an_import_moves_the_version_once_and_keeps_every_trigger(
    fresh_app: Flask, tmp_path: Path
) -> None:
    """Rows of an import do not each move the version (a trigger at each row cost a third of
    a large import's time): it moves once, however many rows, and the triggers are there again
    after it, after a dry run and after an import refused for its problems. (Each command also
    re-applies the national lines as it starts, which moves the version by the same amount.)"""
    _version, triggers = _version_and_triggers(fresh_app)
    assert triggers == len(store.DIRECTORY_TABLES) * 3
    env = {"HOTLINE_BRIDGE_DATABASE": fresh_app.config["DATABASE"], "HOTLINE_BRIDGE_LOCAL": "1"}
    header = "id,site,category,label_en,label_es,name_en,name_es,phone,languages,fictional\n"
    row = "desk-{n},default,legal,Desk {n},Mesa {n},Desk {n} (example),Mesa {n} (ejemplo),"

    def moved(first: int, count: int, *args: str, body: str = "") -> int:
        services = tmp_path / f"services-{first}-{count}.csv"
        rows = "".join(
            row.format(n=n) + '+16175550177,"en, es",1\n' for n in range(first, first + count)
        )
        services.write_text(header + (body or rows), encoding="utf-8")
        before = _version_and_triggers(fresh_app)[0]
        CliRunner(env=env).invoke(main, ["import", *args, str(services)])
        after, now_triggers = _version_and_triggers(fresh_app)
        assert now_triggers == triggers
        return after - before

    dry = moved(0, 10, "--dry-run")
    assert moved(0, 10) == moved(10, 200) == dry + 1
    assert moved(500, 0, body="bad row,,,\n") == dry  # refused: nothing of it written
    assert "Desk 1" in _legal_list(fresh_app, "+15558670003")


def test_a_restore_shows_in_the_next_reply(fresh_app: Flask, tmp_path: Path) -> None:
    """A restore copies pages and fires no trigger: it still moves the version past both the
    backup's and the live database's, so no worker answers from what it kept."""
    env = {"HOTLINE_BRIDGE_DATABASE": fresh_app.config["DATABASE"], "HOTLINE_BRIDGE_LOCAL": "1"}
    saved = tmp_path / "saved.db"
    assert CliRunner(env=env).invoke(main, ["backup", str(saved)]).exit_code == 0
    before = _legal_list(fresh_app, "+15558670001")
    with sqlite3.connect(fresh_app.config["DATABASE"]) as conn:
        conn.execute(
            "update service_texts set label = 'Renamed desk' where service_id = ? "
            "and language = 'en'",
            [LISTED],
        )
    renamed = _legal_list(fresh_app, "+15558670002")
    assert "Renamed desk" in renamed
    version, _ = _version_and_triggers(fresh_app)
    result = CliRunner(env=env).invoke(main, ["restore", str(saved)])
    assert result.exit_code == 0, result.output
    assert _version_and_triggers(fresh_app)[0] > version
    assert _legal_list(fresh_app, "+15558670003") == before
