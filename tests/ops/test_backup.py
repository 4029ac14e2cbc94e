"""Backups: a restore drill through the real commands, and refusals that protect the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline_bridge import create_app
from hotline_bridge.cli import main
from hotline_bridge.settings import PROJECT_ROOT
from tests.conftest import BASE_URL, Texter

DEMO = PROJECT_ROOT / "examples" / "demo"
DEMO_NUMBER = "+15555550199"
# What a person texts to reach the demo clinic's local legal help.
CONVERSATION = ("hi", "2", "1")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A production-like database holding the demo clinic's directory and console tables."""
    path = tmp_path / "live" / "hotline.db"
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(path))
    monkeypatch.setenv("HOTLINE_BRIDGE_SECRET_KEY", "backup-secret")
    monkeypatch.setenv("HOTLINE_BRIDGE_PUBLIC_URL", BASE_URL)  # where the tests' webhooks go
    monkeypatch.setenv("HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN", "test-auth-token-0123456789abcdef")
    # A restored file shows in the very next reply (a deployment's default looks every 50 ms;
    # tests/webhooks/test_webhook_shell.py holds that bound).
    monkeypatch.setenv("HOTLINE_BRIDGE_CHANGE_CHECK_MS", "0")
    for name in ("sites.csv", "services.csv"):
        result = CliRunner().invoke(main, ["import", str(DEMO / name)])
        assert result.exit_code == 0, result.output
    # The clinic console's accounts and audit log: a backup must carry whatever the database holds.
    added = CliRunner().invoke(
        main,
        ["staff", "add", "ana@clinic.example", "--admin"],
        input="a long passphrase for ana\na long passphrase for ana\n",
    )
    assert added.exit_code == 0, added.output
    return path


def conversation() -> list[str]:
    """Text the line through the real webhook and return each reply."""
    app = create_app({"TESTING": True})
    texter = Texter(app.test_client(), to=DEMO_NUMBER)
    return [texter.send(body) for body in CONVERSATION]


def contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables the drill compares, in a stable order."""
    tables = ("services", "sites", "service_sites", "staff", "audit_log")
    with sqlite3.connect(path) as conn:
        rows = {t: conn.execute(f"select * from {t} order by 1, 2").fetchall() for t in tables}
    conn.close()
    return rows


def destroy_by_deleting(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def destroy_by_overwriting(path: Path) -> None:
    path.write_bytes(b"not a database any more" * 100)


@pytest.mark.parametrize("destroy", [destroy_by_deleting, destroy_by_overwriting])
def test_restore_drill_brings_back_the_same_line(database: Path, tmp_path: Path, destroy) -> None:  # type: ignore[no-untyped-def]
    before, rows = conversation(), contents(database)
    assert "Legal help, Cambridge" in before[-1]  # the demo clinic's own directory answers
    backups = tmp_path / "backups"
    backups.mkdir()
    made = CliRunner().invoke(main, ["backup", str(backups)])
    assert made.exit_code == 0, made.output
    (backup_file,) = backups.iterdir()
    assert "integrity ok" in made.output and backup_file.stat().st_mode & 0o077 == 0

    destroy(database)
    with pytest.raises(Exception):  # noqa: B017 - the drill needs a database that is really gone
        contents(database)

    restored = CliRunner().invoke(main, ["restore", str(backup_file)])
    assert restored.exit_code == 0, restored.output
    assert contents(database) == rows
    assert conversation() == before


def test_a_running_app_answers_from_the_restored_directory(database: Path, tmp_path: Path) -> None:
    app = create_app({"TESTING": True})
    texter = Texter(app.test_client(), to=DEMO_NUMBER)
    CliRunner().invoke(main, ["backup", str(tmp_path / "before.db")])
    with sqlite3.connect(database) as conn:
        conn.execute(
            "update service_texts set label = 'Changed label' "
            "where service_id = 'demo-legal-aid' and language = 'en'"
        )
    conn.close()
    assert "Changed label" in [texter.send(body) for body in CONVERSATION][-1]
    result = CliRunner().invoke(main, ["restore", str(tmp_path / "before.db")])
    assert result.exit_code == 0, result.output
    replies = [texter.send(body) for body in CONVERSATION]
    assert "Changed label" not in replies[-1] and "Legal help, Cambridge" in replies[-1]


def test_restore_refuses_a_file_that_is_not_a_backup(database: Path, tmp_path: Path) -> None:
    rows = contents(database)
    bogus = tmp_path / "bogus.db"
    with sqlite3.connect(bogus) as conn:
        conn.execute("create table other (x)")
    conn.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00garbage" * 512)
    for path in (bogus, garbage):
        result = CliRunner().invoke(main, ["restore", str(path)])
        assert result.exit_code == 1 and "not a" in result.output, result.output
    assert contents(database) == rows


def test_backup_never_overwrites_the_database(database: Path) -> None:
    result = CliRunner().invoke(main, ["backup", str(database)])
    assert result.exit_code == 1 and "cannot overwrite" in result.output
    assert [row[1] for row in contents(database)["staff"]] == ["ana@clinic.example"]
    assert contents(database)["audit_log"]  # the account's creation, recorded


def test_a_backup_from_an_earlier_release_answers_at_once_when_restored(
    database: Path, tmp_path: Path
) -> None:
    """A backup made before per-language texts, restored under a running server: the restore
    brings it to this release's tables, so the next reply comes from its directory and not from
    the fail-safe."""
    app = create_app({"TESTING": True})
    texter = Texter(app.test_client(), to=DEMO_NUMBER)
    assert "Legal help, Cambridge" in [texter.send(body) for body in CONVERSATION][-1]
    old = tmp_path / "old.db"
    old.write_bytes((PROJECT_ROOT / "tests/fixtures/before-languages/directory.db").read_bytes())
    result = CliRunner().invoke(main, ["restore", str(old)])
    assert result.exit_code == 0, result.output
    texter = Texter(app.test_client(), to=DEMO_NUMBER)
    replies = [texter.send(body) for body in CONVERSATION]
    failsafe = app.extensions["hotline_bridge"].failsafe.text("en")
    assert failsafe not in replies and "Legal help, Cambridge" in replies[-1]
    with sqlite3.connect(database) as conn:
        staff = conn.execute("select count(*) from staff").fetchone()[0]
    conn.close()
    assert staff == 2  # the backup's own console accounts


def _add_counts(path: Path, n: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "insert into counts (day, channel, language, event, n) values (?, ?, ?, ?, ?)",
            ("2026-12-01", "sms", "en", "menu", n),
        )
    conn.close()


def _total(*paths: Path) -> int:
    args = [item for path in paths for item in ("--database", str(path))]
    result = CliRunner().invoke(main, ["counts", *args])
    assert result.exit_code == 0, result.output
    # Each line: day, channel, language, how many, event.
    rows = [line.split() for line in result.output.splitlines()]
    return sum(int(row[3]) for row in rows if row[-1] == "menu")


@pytest.mark.parametrize(("keep", "total"), [(True, 3 + 5), (False, 3 + 3)])
def test_an_instance_that_takes_the_directory_keeps_its_own_counts(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool, total: int
) -> None:
    """The writer (A) counted 3, another instance (B) 5: B restoring A's backup with
    --keep-counts leaves the line's total at 8; a plain restore makes B a copy of A."""
    writer, backup_file = tmp_path / "writer.db", tmp_path / "writer-backup.db"
    writer.write_bytes(database.read_bytes())
    _add_counts(writer, 3)
    _add_counts(database, 5)
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(writer))
    assert CliRunner().invoke(main, ["backup", str(backup_file)]).exit_code == 0
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(database))
    restored = CliRunner().invoke(main, ["restore", *(["--keep-counts"] * keep), str(backup_file)])
    assert restored.exit_code == 0, restored.output
    assert _total(writer, database) == total
