"""Importing the clinic's directory from the simple CSV: checks, reports, transactions, export."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from hotline_bridge.cli import main
from hotline_bridge.directory.discreet import sensitive_hits
from hotline_bridge.directory.store import open_db, with_texts
from hotline_bridge.directory.validation import CATEGORIES, SERVICE_COLUMNS, SITE_COLUMNS
from tests.conftest import PROJECT

EXAMPLES = PROJECT / "examples"

GOOD = {
    "id": "town-legal",
    "site": "default",
    "category": "legal",
    "label_en": "Legal help",
    "label_es": "Ayuda legal",
    "name_en": "Town Legal Aid",
    "name_es": "Asistencia Legal del Pueblo",
    "description_en": "Free advice.",
    "description_es": "Consejo gratis.",
    "phone": "(617) 555-0123",
    "sms": "",
    "tty": "711",
    "address": "1 Main Street",
    "city": "Cambridge",
    "state": "ma",
    "zip": "02139",
    "latitude": "",
    "longitude": "",
    "hours": "Mo-Fr 09:00-17:00; Sa 10:00-14:00",
    "languages": "EN; es",
    "url": "https://example.org/legal",
    "fictional": "yes",
}


def write_csv(
    path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] | None = None
) -> Path:
    """Write ``rows`` as a CSV with ``columns`` (default: every service column)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or SERVICE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(app: Flask, *args: str) -> Result:
    """Run ``hotline-bridge ARGS`` against ``app``."""
    return app.test_cli_runner().invoke(main, list(args))


def dump(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Return every directory row, to compare the database before and after."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return {
            table: conn.execute(f"select * from {table} order by 1, 2").fetchall()
            for table in ("services", "sites", "service_sites", "service_texts", "site_texts")
        }
    finally:
        conn.close()


def service(app: Flask, service_id: str) -> dict[str, Any] | None:
    with open_db(app) as db:
        rows = with_texts(db, list(db.query("select * from services where id = ?", [service_id])))
    return rows[0] if rows else None


def test_import_stores_checked_values(app: Flask, tmp_path: Path) -> None:
    result = run(app, "import", str(write_csv(tmp_path / "s.csv", [GOOD])))
    assert result.exit_code == 0, result.output
    row = service(app, "town-legal")
    assert row is not None
    assert row["phone"] == "+16175550123"
    assert row["tty"] == "711"
    assert row["state"] == "MA"
    assert row["languages"] == "en, es"
    assert row["fictional"] == 1
    assert row["national"] == 0
    # Coordinates left empty are the ZIP code's centre, from the offline table.
    assert row["latitude"] == pytest.approx(42.3647)
    assert row["longitude"] == pytest.approx(-71.1042)


def test_missing_labels_are_not_invented(app: Flask, tmp_path: Path) -> None:
    # Lists then show the service's own name (tests/test_lists.py), not "Legal help 2".
    row = {**GOOD, "label_en": "", "label_es": ""}
    assert run(app, "import", str(write_csv(tmp_path / "s.csv", [row]))).exit_code == 0
    stored = service(app, "town-legal")
    assert stored is not None
    assert (stored["label_en"], stored["label_es"]) == (None, None)


def test_the_template_and_the_demo_directory_import_cleanly(app: Flask) -> None:
    assert run(app, "import", str(EXAMPLES / "services-template.csv")).exit_code == 0
    assert run(app, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    result = run(app, "import", str(EXAMPLES / "demo" / "services.csv"))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(app.config["DATABASE"])
    fictional = conn.execute("select min(fictional) from services where id like 'demo-%'")
    assert fictional.fetchone() == (1,)


BAD_ROWS = [
    ({"phone": "call us"}, "phone", "is not a phone number"),
    ({"phone": "+44 1234 234567"}, "phone", "is not a US number"),
    ({"tty": "555-1234"}, "tty", "is not a valid phone number"),
    ({"latitude": "100", "longitude": "-71"}, "latitude", "out of range"),
    ({"latitude": "42.1", "longitude": ""}, "longitude", "give both"),
    ({"longitude": "east", "latitude": "42"}, "longitude", "is not a number"),
    ({"category": "shelter"}, "category", "unknown category 'shelter'"),
    ({"hours": "Mon-Fri 9-5"}, "hours", "unreadable hours"),
    ({"zip": "ABC 1234"}, "zip", "five-digit"),
    ({"zip": "00000"}, "zip", "not a known US ZIP code"),
    ({"id": "has space"}, "id", "letters, digits"),
    ({"id": "nhth"}, "id", "national line"),
    ({"name_en": ""}, "name_en", "missing"),
    ({"site": "elsewhere"}, "site", "unknown site"),
    ({"label_en": "Trafficking help"}, "label_en", "trafficking"),
    ({"label_es": "Ayuda a víctimas"}, "label_es", "choose a neutral one"),
    ({"label_en": "Help with papers and forms"}, "label_en", "longer than 24 characters"),
    ({"languages": "Spanish"}, "languages", "language code"),
    ({"url": "example.org"}, "url", "web address"),
    ({"state": "Mass."}, "state", "two-letter"),
    ({"fictional": "maybe"}, "fictional", "yes or no"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD_ROWS, ids=[r[1] for r in BAD_ROWS])
def test_every_bad_value_is_reported_and_refused(
    app: Flask, tmp_path: Path, change: dict[str, str], field: str, reason: str
) -> None:
    rows = [{**GOOD, "id": "ok-first"}, {**GOOD, **change}]
    before = dump(app)
    result = run(app, "import", str(write_csv(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("bad.csv:")]
    assert len(problems) == 1, result.output
    assert problems[0].startswith(f"bad.csv:3: {field}: "), problems
    assert reason in problems[0]
    assert dump(app) == before  # the good first row was not written either


def test_a_quoted_value_spanning_lines_reports_the_line_it_starts_on(
    app: Flask, tmp_path: Path
) -> None:
    rows = [{**GOOD, "id": "a", "description_en": "one\ntwo\nthree"}, {**GOOD, "id": "b?"}]
    result = run(app, "import", str(write_csv(tmp_path / "multi.csv", rows)))
    assert "multi.csv:5: id: " in result.output


def test_duplicate_ids_and_unknown_columns_are_problems(app: Flask, tmp_path: Path) -> None:
    result = run(app, "import", str(write_csv(tmp_path / "dup.csv", [GOOD, GOOD])))
    assert "dup.csv:3: id: 'town-legal' appears twice in this file" in result.output
    columns = (*SERVICE_COLUMNS, "lattitude")
    path = write_csv(tmp_path / "typo.csv", [{**GOOD, "lattitude": "1"}], columns)
    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert "typo.csv:1: lattitude: unknown column" in result.output


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest(
    app: Flask, tmp_path: Path
) -> None:
    rows = [GOOD, {**GOOD, "id": "bad", "phone": "12"}, {**GOOD, "id": "also-good"}]
    result = run(app, "import", "--skip-invalid", str(write_csv(tmp_path / "s.csv", rows)))
    assert result.exit_code == 0, result.output
    assert "s.csv:3: phone: " in result.output
    assert "2 of 3 services imported" in result.output
    assert service(app, "town-legal") and service(app, "also-good")
    assert service(app, "bad") is None


def test_dry_run_reports_and_changes_nothing(app: Flask, tmp_path: Path) -> None:
    before = dump(app)
    result = run(app, "import", "--dry-run", str(write_csv(tmp_path / "s.csv", [GOOD])))
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert dump(app) == before
    bad = write_csv(tmp_path / "bad.csv", [{**GOOD, "category": "x"}])
    assert run(app, "import", "--dry-run", str(bad)).exit_code == 1


def test_import_is_idempotent_and_updates_by_id(app: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [GOOD])
    run(app, "import", str(path))
    once = dump(app)
    run(app, "import", str(path))
    assert dump(app) == once
    run(app, "import", str(write_csv(path, [{**GOOD, "phone": "617-555-0199", "city": "Boston"}])))
    row = service(app, "town-legal")
    assert row is not None
    # The city changes at once; the new number waits for a second person in the console.
    assert row["city"] == "Boston" and row["phone"] == "+16175550123"
    assert len(dump(app)["services"]) == len(once["services"])


def test_a_file_of_unknown_columns_is_refused(app: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "other.csv", [{"a": "1"}], ("a",))
    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert "other.csv:1: file: not a services file" in result.output


SITE = {
    "id": "north-clinic",
    "name_en": "North Health Line",
    "name_es": "Línea de Salud Norte",
    "default_language": "es",
    "time_zone": "America/Chicago",
    "zip": "60601",
    "latitude": "",
    "longitude": "",
    "numbers": "+1 312 555 0100; +13125550101",
    "keywords": "wellness, salud",
    "exit_url": "https://www.weather.gov",
    "exit_url_confirmed": "yes",
    "fictional": "1",
}


def test_sites_are_recognised_by_their_columns(app: Flask, tmp_path: Path) -> None:
    result = run(app, "import", str(write_csv(tmp_path / "sites.csv", [SITE], SITE_COLUMNS)))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(app.config["DATABASE"])
    row = conn.execute(
        "select default_language, time_zone, numbers, keywords from sites where id = ?",
        ["north-clinic"],
    ).fetchone()
    assert row == (
        "es",
        "America/Chicago",
        '["+13125550100", "+13125550101"]',
        '["WELLNESS", "SALUD"]',
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"time_zone": "Mars/Olympus"}, "sites.csv:2: time_zone: "),
        ({"default_language": "fr"}, "sites.csv:2: default_language: "),
        ({"numbers": "not a number"}, "sites.csv:2: numbers: "),
        ({"name_en": "Anti-Trafficking Line"}, "sites.csv:2: name_en: "),
    ],
)
def test_bad_sites_are_refused(
    app: Flask, tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    before = dump(app)
    path = write_csv(tmp_path / "sites.csv", [{**SITE, **change}], SITE_COLUMNS)
    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert expected in result.output
    assert dump(app) == before


def test_csv_export_and_reimport_keep_everything(make_app: Any, tmp_path: Path) -> None:
    first = make_app(DATABASE=str(tmp_path / "first.db"))
    assert run(first, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    assert run(first, "import", str(EXAMPLES / "demo" / "services.csv")).exit_code == 0
    services, sites = tmp_path / "out" / "services.csv", tmp_path / "out" / "sites.csv"
    assert run(first, "export", "--format", "csv", str(services)).exit_code == 0
    assert run(first, "export", "--format", "sites", str(sites)).exit_code == 0

    second = make_app(DATABASE=str(tmp_path / "second.db"))
    assert run(second, "import", str(sites)).exit_code == 0
    result = run(second, "import", str(services))
    assert result.exit_code == 0, result.output
    assert _without_source(dump(second)) == _without_source(dump(first))


def _without_source(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Drop the 'source' column (the file a row came from), which differs by design."""
    source = 18  # position of services.source
    return {**rows, "services": [r[:source] + r[source + 1 :] for r in rows["services"]]}


def test_large_files_show_a_progress_bar(app: Flask, tmp_path: Path) -> None:
    rows = [{**GOOD, "id": f"s{n}"} for n in range(1200)]
    result = run(app, "import", str(write_csv(tmp_path / "big.csv", rows)))
    assert result.exit_code == 0, result.output
    assert "Checking" in result.output
    assert "1200 of 1200 services imported" in result.output


def test_every_category_has_a_neutral_label_in_both_languages(app: Flask) -> None:
    catalogs = app.extensions["hotline_bridge"].catalogs
    sensitive = app.extensions["hotline_bridge"].sensitive_words
    for category in CATEGORIES:
        labels = [catalogs.text(lang, f"directory.label.{category}") for lang in ("en", "es")]
        assert labels[0] != labels[1] or category == "emergency", category
        assert not any(sensitive_hits(label, sensitive) for label in labels), labels


# --- Hostile and broken files --------------------------------------------------------------------


def _header_and(row: str) -> bytes:
    return (",".join(SERVICE_COLUMNS) + "\n" + row + "\n").encode("utf-8")


def _good_line(**change: str) -> str:
    out = io.StringIO()
    csv.DictWriter(out, fieldnames=SERVICE_COLUMNS, lineterminator="").writerow({**GOOD, **change})
    return out.getvalue()


BROKEN_FILES = [
    ("latin-1", _good_line(name_en="Clínica").encode("latin-1"), "bad.csv: not UTF-8; save it"),
    ("utf-16", _header_and(_good_line()).decode().encode("utf-16"), "bad.csv: not UTF-8; save it"),
    ("utf-16-no-bom", _header_and(_good_line()).decode().encode("utf-16-le"), "not UTF-8"),
    (
        "invalid-utf-8",
        _header_and(
            _good_line(name_en="Cl\udcffnica")
            .encode("utf-8", "surrogateescape")
            .decode("utf-8", "replace")
        ).replace("\ufffd".encode(), b"\xff"),
        "bad.csv: not UTF-8",
    ),
    (
        "long",
        _header_and(_good_line(description_en="x" * 200_000)),
        "bad.csv:2: description_en: 200000 characters",
    ),
    (
        "stray-quote",
        _header_and(_good_line(name_en="Town") + '\nx,"default,legal'),
        "bad.csv:3: file: not readable as CSV: a quote opened here is never closed",
    ),
    (
        "short-row",
        _header_and("town-legal,default,legal"),
        f"bad.csv:2: label_en: the row has 3 values, the header has {len(SERVICE_COLUMNS)}",
    ),
    (
        "long-row",
        _header_and(_good_line() + ",extra"),
        f"bad.csv:2: row: the row has {len(SERVICE_COLUMNS) + 1} values",
    ),
    (
        "nul",
        _header_and(_good_line(name_en="Town\x00Legal")),
        "bad.csv:2: name_en: contains a NUL byte",
    ),
    (
        "vertical-tab",
        _header_and(_good_line(label_en="Legal\x0bhelp")),
        "bad.csv:2: label_en: contains the control character U+000B",
    ),
    (
        "escape",
        _header_and(_good_line(description_en="Free \x1b[31m")),
        "bad.csv:2: description_en: contains the control character U+001B",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [f[1:] for f in BROKEN_FILES], ids=[f[0] for f in BROKEN_FILES]
)
def test_a_broken_file_is_reported_in_one_line_and_nothing_is_written(
    app: Flask, tmp_path: Path, data: bytes, expected: str
) -> None:
    before = dump(app)
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output
    assert dump(app) == before


def test_a_full_disk_rolls_the_import_back_and_says_so(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_bridge.directory import store

    real_connect = store.connect

    def tiny(path: Any, *, create: bool = False) -> Any:
        db = real_connect(path, create=create)
        pages = db.execute("pragma page_count").fetchone()[0]
        db.execute(f"pragma max_page_count = {pages}")  # no room to grow: "disk is full"
        return db

    before = dump(app)
    monkeypatch.setattr(store, "connect", tiny)
    rows = [{**GOOD, "id": f"s{n}", "description_en": "x" * 3000} for n in range(50)]
    result = run(app, "import", str(write_csv(tmp_path / "s.csv", rows)))
    assert result.exit_code == 1
    refusals = [line for line in result.output.splitlines() if "Nothing imported" in line]
    assert len(refusals) == 1 and "full" in refusals[0], result.output
    assert "Traceback" not in result.output
    monkeypatch.setattr(store, "connect", real_connect)
    assert dump(app) == before


def test_typographic_quotes_and_dashes_are_stored_plain(app: Flask, tmp_path: Path) -> None:
    row = {
        **GOOD,
        "name_en": "St. Mary\u2019s \u201cOpen Door\u201d \u2013 Legal\u00a0Aid\u2026",
        "description_en": "Walk in;\nno  appointment\tneeded.",
    }
    assert run(app, "import", str(write_csv(tmp_path / "s.csv", [row]))).exit_code == 0
    stored = service(app, "town-legal")
    assert stored is not None
    assert stored["name_en"] == 'St. Mary\'s "Open Door" - Legal Aid...'
    assert stored["description_en"] == "Walk in; no appointment needed."


def test_control_characters_set_in_the_database_never_reach_a_reply(
    app: Flask, tmp_path: Path
) -> None:
    from hotline_bridge.directory.store import open_db
    from tests.conftest import Texter

    assert run(app, "import", str(write_csv(tmp_path / "s.csv", [GOOD]))).exit_code == 0
    with open_db(app) as db:
        db.execute(
            "update service_texts set label = ? "
            "where service_id = 'town-legal' and language = 'en'",
            ["Legal\x0bhelp"],
        )
        db.execute("insert into site_texts values ('default', 'en', ?)", ["Line\x1b\x00"])
        db.conn.commit()
    texter = Texter(app.test_client())
    replies = [texter.send(body) for body in ("hello", "2", "1")]  # each parsed as XML
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in "".join(replies))
    assert replies[0].startswith("Line\n")
    assert "Legalhelp" in replies[-1], replies


FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", '=HYPERLINK("http://x")', "'=already", "-"]


def test_export_neutralises_formulas_and_round_trips_exactly(make_app: Any, tmp_path: Path) -> None:
    first = make_app(DATABASE=str(tmp_path / "first.db"))
    rows = [
        {**GOOD, "id": f"f{n}", "description_en": formula, "name_es": formula}
        for n, formula in enumerate(FORMULAS)
    ]
    assert run(first, "import", str(write_csv(tmp_path / "in.csv", rows))).exit_code == 0
    out = tmp_path / "out.csv"
    assert run(first, "export", str(out)).exit_code == 0
    with out.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c[:1] in {"=", "+", "@"}], cells
    assert "'+16175550123" in cells  # a phone number is data, shown as text
    second = make_app(DATABASE=str(tmp_path / "second.db"))
    assert run(second, "import", str(out)).exit_code == 0
    assert _without_source(dump(second)) == _without_source(dump(first))
    stored = service(second, "f0")
    assert stored is not None and stored["description_en"] == "=1+1"
    assert stored["phone"] == "+16175550123"


@pytest.mark.parametrize(
    ("exit_url", "confirmed", "ok"),
    [
        ("/welcome", "", True),
        ("https://www.weather.gov", "yes", True),
        ("https://www.weather.gov", "", False),
        ("http://example.org", "yes", False),
        ("//evil.example/", "yes", False),
        ("/\\evil.example", "yes", False),
        ("/\t/evil.example", "yes", False),
        ("javascript:alert(1)", "yes", False),
    ],
)
def test_a_quick_exit_stays_on_the_kiosk_or_is_confirmed(
    app: Flask, tmp_path: Path, exit_url: str, confirmed: str, ok: bool
) -> None:
    site = {**SITE, "exit_url": exit_url, "exit_url_confirmed": confirmed}
    result = run(app, "import", str(write_csv(tmp_path / "sites.csv", [site], SITE_COLUMNS)))
    assert (result.exit_code == 0) is ok, result.output
    if not ok:
        assert "sites.csv:2: exit_url: " in result.output
