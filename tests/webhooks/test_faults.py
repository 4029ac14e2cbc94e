"""Faults injected into a running line: every channel still answers with the 24/7 hotline.

The database is deleted, damaged, locked, made read-only or fills up; a catalog entry goes
missing; the flow breaks. Under each, a text, a call and the kiosk still reach the hotline
(normally when the fault leaves reading possible, through the static fail-safe otherwise), and
no answer is a 500. At start-up a missing catalog or a broken flow refuses to start in one line.
"""

from __future__ import annotations

import contextlib
import resource
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hotline_bridge.engine import flow as flow_module
from hotline_bridge.engine.catalogs import CatalogError, Catalogs
from hotline_bridge.engine.flow import FlowError
from hotline_bridge.settings import PROJECT_ROOT
from tests.conftest import Texter, signed_post, twiml
from tests.webhooks.test_hardening import read_only

HOTLINE = "1-888-373-7888"
HOTLINE_E164 = "+18883737888"

Fault = Callable[[Flask], contextlib.AbstractContextManager[None]]


def _database_files(app: Flask) -> list[Path]:
    path = Path(app.config["DATABASE"])
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


@contextlib.contextmanager
def deleted(app: Flask) -> Iterator[None]:
    for path in _database_files(app):
        path.unlink()
    yield


@contextlib.contextmanager
def corrupted(app: Flask) -> Iterator[None]:
    for path in _database_files(app):
        path.write_bytes(b"this is not a database " * 512)
    yield


@contextlib.contextmanager
def locked(app: Flask) -> Iterator[None]:
    conn = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    conn.execute("begin exclusive")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


@contextlib.contextmanager
def unwritable(app: Flask) -> Iterator[None]:
    with read_only(Path(app.config["DATABASE"]).parent):
        yield


@contextlib.contextmanager
def full(app: Flask) -> Iterator[None]:
    """No file of this process may grow: every write that needs more room fails, as on a full
    disk (Python ignores the SIGXFSZ the kernel sends)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    size = max(path.stat().st_size for path in _database_files(app))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


DATABASE_FAULTS = [deleted, corrupted, locked, unwritable, full]


def _sms_reaches_the_hotline(app: Flask) -> None:
    texter = Texter(app.test_client())
    first = texter.send("hello")
    talk = texter.send("1")
    assert HOTLINE in first or HOTLINE in talk


def _voice_reaches_the_hotline(app: Flask) -> None:
    client = app.test_client()
    fields = {"CallSid": "CA" + "7" * 32, "To": "+15550100999", "From": "+15558675309"}
    assert twiml(signed_post(client, "/voice", fields)) is not None
    answer = signed_post(client, "/voice/menu?n=main&l=en", {**fields, "Digits": "1"})
    assert HOTLINE_E164 in answer.get_data(as_text=True)
    assert twiml(answer).find("Dial") is not None


def _kiosk_reaches_the_hotline(app: Flask) -> None:
    response = app.test_client().get("/kiosk/default/en/talk")
    assert response.status_code == 200
    assert HOTLINE in response.get_data(as_text=True)


CHANNELS = {
    "sms": _sms_reaches_the_hotline,
    "voice": _voice_reaches_the_hotline,
    "kiosk": _kiosk_reaches_the_hotline,
}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("fault", DATABASE_FAULTS, ids=lambda fault: fault.__name__)
def test_every_channel_reaches_the_hotline_whatever_happens_to_the_database(
    make_app: Any, fault: Fault, channel: str
) -> None:
    app = make_app(COUNTS_FLUSH_SECONDS=1)
    CHANNELS[channel](app)  # a working line first, with its connections open
    with fault(app):
        CHANNELS[channel](app)


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_reaches_the_hotline_when_a_catalog_entry_is_missing(
    app: Flask, channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(self: Catalogs, lang: str, key: str, /, **params: object) -> str:
        raise KeyError(key)

    monkeypatch.setattr(Catalogs, "text", missing)
    CHANNELS[channel](app)


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_reaches_the_hotline_when_the_flow_breaks_at_run_time(
    app: Flask, channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: flow_module.Flow, node_id: str) -> flow_module.Node:
        raise KeyError(node_id)

    monkeypatch.setattr(flow_module.Flow, "node", broken)
    CHANNELS[channel](app)


def test_a_missing_catalog_refuses_to_start(make_app: Any, tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(PROJECT_ROOT / "locales", locales)
    for path in (locales / "es").rglob("messages.*"):
        path.unlink()
    with pytest.raises(CatalogError, match="es"):
        make_app(LOCALES_DIR=str(locales))


def test_a_broken_flow_refuses_to_start(make_app: Any, tmp_path: Path) -> None:
    broken = tmp_path / "main.toml"
    text = (PROJECT_ROOT / "flows" / "main.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace('goto = "', 'goto = "nowhere-', 1), encoding="utf-8")
    with pytest.raises(FlowError, match="nowhere-"):
        make_app(FLOW_FILE=str(broken))


def test_the_fail_safe_gives_the_hotline_as_the_deployment_overrode_it(
    make_app: Any, tmp_path: Path
) -> None:
    """A reviewed override of the 24/7 line reaches the static fail-safe in every language and
    channel, not only the answers read from the database."""
    overrides = tmp_path / "national-overrides.csv"
    overrides.write_text(
        "id,field,value,source,date\n"
        "nhth,voice,+18885550142,https://humantraffickinghotline.org/,2026-12-08\n",
        encoding="utf-8",
    )
    app = make_app(NATIONAL_OVERRIDES=str(overrides))
    with deleted(app):
        text = Texter(app.test_client()).send("hello")
        fields = {"CallSid": "CA" + "7" * 32, "To": "+15550100999", "From": "+15558675309"}
        call = signed_post(app.test_client(), "/voice", fields).get_data(as_text=True)
    assert "1-888-555-0142" in text and HOTLINE not in text
    assert "+18885550142" in call and HOTLINE_E164 not in call


def test_a_relative_overrides_path_is_taken_from_the_project_folder(make_app: Any) -> None:
    from hotline_bridge.settings import ConfigError

    with pytest.raises(ConfigError, match=str(PROJECT_ROOT / "no-such-overrides.csv")):
        make_app(NATIONAL_OVERRIDES="no-such-overrides.csv")


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a catalog at all", None],
    ids=["empty", "garbage", "cut-off"],
)
def test_a_damaged_catalog_refuses_to_start_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes | None
) -> None:
    """``serve`` once crashed with a traceback on a damaged .mo file."""
    from click.testing import CliRunner

    from hotline_bridge.cli import main

    locales = tmp_path / "locales"
    shutil.copytree(PROJECT_ROOT / "locales", locales)
    compiled = locales / "es" / "LC_MESSAGES" / "messages.mo"
    whole = compiled.read_bytes()
    compiled.write_bytes(whole[: len(whole) // 2] if damage is None else damage)
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(tmp_path / "line.db"))
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCALES_DIR", str(locales))
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code != 0
    assert "cannot start:" in result.output and "messages.mo" in result.output
    assert "damaged" in result.output and "Traceback" not in result.output
