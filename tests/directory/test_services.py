"""Keeping the directory current: sites and routing, one service at a time, and what is retired."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from hotline_bridge.cli import main
from hotline_bridge.directory.store import open_db, with_texts, write_sites
from tests.conftest import Texter
from tests.directory.test_import import EXAMPLES, run


def demo(app: Flask) -> Flask:
    """Import the demo clinic and its services into ``app``."""
    for name in ("sites.csv", "services.csv"):
        result = run(app, "import", str(EXAMPLES / "demo" / name))
        assert result.exit_code == 0, result.output
    return app


def add_site(app: Flask, site_id: str, numbers: str, keywords: str) -> None:
    with open_db(app) as db:
        site = {
            "id": site_id,
            "name_en": f"{site_id.title()} Clinic Line",
            "numbers": numbers,
            "keywords": keywords,
        }
        write_sites(db, [site])


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


# --- One service at a time -----------------------------------------------------------------------


def services_cmd(app: Flask, *args: str, **kwargs: Any) -> Any:
    return app.test_cli_runner().invoke(main, ["services", *args], **kwargs)


def stored(app: Flask, service_id: str) -> dict[str, Any] | None:
    with open_db(app) as db:
        rows = with_texts(db, list(db.query("select * from services where id = ?", [service_id])))
    return rows[0] if rows else None


def legal_list(app: Flask) -> str:
    texter = Texter(app.test_client(), to="+15555550199")
    texter.send("hello")
    texter.send("2")
    return texter.send("1")


def legal_entries(app: Flask) -> int:
    """Return how many demo legal services the SMS list offers (two when both are active)."""
    return sum(1 for line in legal_list(app).splitlines() if line[:1].isdigit() and "Legal" in line)


def test_services_list_and_show(app: Flask) -> None:
    demo(app)
    listing = services_cmd(app, "list", "--site", "demo-clinic")
    assert listing.exit_code == 0, listing.output
    assert "demo-legal-aid  active  legal  confirmed 2026-12-" in listing.output
    shown = services_cmd(app, "show", "demo-legal-aid")
    assert "phone: +16175550101" in shown.output
    assert "site: demo-clinic" in shown.output
    missing = services_cmd(app, "show", "nhth")  # a national line is not a local service
    assert missing.exit_code != 0 and "no local service" in missing.output


def test_an_edit_is_checked_as_an_import_row_is(app: Flask) -> None:
    demo(app)
    bad = services_cmd(app, "edit", "demo-legal-aid", "--set", "phone=call us")
    assert bad.exit_code == 1
    assert "demo-legal-aid: phone: 'call us' is not a phone number" in bad.output
    label = services_cmd(app, "edit", "demo-legal-aid", "--set", "label_en=Trafficking help")
    assert label.exit_code == 1 and "label_en: label uses the word" in label.output
    good = services_cmd(app, "edit", "demo-legal-aid", "--set", "phone=(617) 555-0199")
    assert good.exit_code == 0, good.output
    # A new number waits for a second person in the console (tests/cli/test_cli_doors.py).
    assert "waits for approval in the console: demo-legal-aid phone" in good.output
    row = stored(app, "demo-legal-aid")
    assert row is not None and row["phone"] == "+16175550101"
    assert services_cmd(app, "edit", "demo-legal-aid", "--set", "id=x").exit_code != 0


def test_a_retired_service_is_never_offered_and_can_be_restored(app: Flask) -> None:
    demo(app)
    assert legal_entries(app) == 2
    assert services_cmd(app, "retire", "demo-legal-aid").exit_code == 0
    assert legal_entries(app) == 1
    row = stored(app, "demo-legal-aid")
    assert row is not None and row["status"] == "retired"
    restored = services_cmd(app, "edit", "demo-legal-aid", "--set", "status=active")
    assert restored.exit_code == 0, restored.output
    assert legal_entries(app) == 2


def test_delete_removes_a_service_for_good(app: Flask) -> None:
    demo(app)
    assert services_cmd(app, "delete", "demo-legal-aid", input="n\n").exit_code != 0
    assert stored(app, "demo-legal-aid") is not None
    assert services_cmd(app, "delete", "demo-legal-aid", "--yes").exit_code == 0
    assert stored(app, "demo-legal-aid") is None
    assert services_cmd(app, "delete", "nhth", "--yes").exit_code != 0
    assert stored(app, "nhth") is not None


# --- A site's file is its directory ----------------------------------------------------------


def _demo_rows() -> list[dict[str, str]]:
    import csv

    with (EXAMPLES / "demo" / "services.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_an_import_retires_what_the_sites_file_leaves_out(app: Flask, tmp_path: Path) -> None:
    from tests.directory.test_import import write_csv

    demo(app)
    rows = _demo_rows()
    kept = [r for r in rows if r["id"] != "demo-legal-aid"]
    kept[0] = {**kept[0], "phone": "+16175550177"}
    path = write_csv(tmp_path / "services.csv", kept, tuple(rows[0]))
    before = stored(app, "demo-legal-aid")
    kept_all = run(app, "import", str(path))  # without --replace, nothing is retired
    assert "retired" not in kept_all.output
    assert stored(app, "demo-legal-aid")["status"] == "active"  # type: ignore[index]
    dry = run(app, "import", "--dry-run", "--replace", str(path))
    assert dry.exit_code == 0, dry.output
    assert "retired: demo-legal-aid" in dry.output
    assert "added:" not in dry.output
    assert stored(app, "demo-legal-aid") == before  # a dry run changes nothing
    assert legal_entries(app) == 2
    result = run(app, "import", "--replace", str(path))
    assert result.exit_code == 0, result.output
    assert "retired: demo-legal-aid" in result.output
    row = stored(app, "demo-legal-aid")
    assert row is not None and row["status"] == "retired"
    assert legal_entries(app) == 1
    # Brought back by a later file that lists it again.
    again = run(app, "import", str(EXAMPLES / "demo" / "services.csv"))
    assert "changed: demo-legal-aid" in again.output
    assert legal_entries(app) == 2


def test_a_file_for_one_site_leaves_other_sites_alone(app: Flask, tmp_path: Path) -> None:
    from tests.directory.test_import import GOOD, write_csv

    demo(app)
    with open_db(app) as db, db.conn:  # shared with the default site too
        db.table("service_sites").insert({"service_id": "demo-legal-aid", "site_id": "default"})
    other = {**GOOD, "id": "elsewhere", "site": "default"}
    result = run(app, "import", "--replace", str(write_csv(tmp_path / "d.csv", [other])))
    assert result.exit_code == 0, result.output
    # Shown at the demo clinic too: it leaves only the default site.
    assert "retired at default: demo-legal-aid" in result.output
    row = stored(app, "demo-legal-aid")
    assert row is not None and row["status"] == "active"
    assert legal_entries(app) == 2


def test_check_lists_services_not_confirmed_recently(make_app: Any, tmp_path: Path) -> None:
    import datetime as dt

    from hotline_bridge.checks import run_checks

    app = demo(make_app(CONFIRM_EVERY_DAYS=30))
    with open_db(app) as db:
        db.execute("update services set confirmed = '2026-01-05' where id = 'demo-legal-aid'")
        db.execute("update services set confirmed = null where id = 'demo-immigration'")
        db.conn.commit()
    report = run_checks(app, dt.date(2026, 12, 9))
    warned = [line for line in report.lines if line.startswith("WARN service")]
    assert warned[0].startswith("WARN service demo-immigration: last confirmed never")
    assert warned[1].startswith("WARN service demo-legal-aid: last confirmed 2026-01-05")
    assert len(warned) == 2
    assert services_cmd(app, "edit", "demo-legal-aid").exit_code == 0  # confirmed today
    report = run_checks(app, dt.date(2026, 12, 9))
    assert not any("demo-legal-aid" in line for line in report.lines if "WARN" in line)


def test_check_fails_on_an_unsafe_exit_set_in_the_database(app: Flask) -> None:
    import datetime as dt

    from hotline_bridge.checks import run_checks

    with open_db(app) as db:
        db.execute("update sites set exit_url = '//evil.example/' where id = 'default'")
        db.conn.commit()
    report = run_checks(app, dt.date(2026, 12, 9))
    assert report.failed
    assert any(line.startswith("FAIL site default: exit_url: ") for line in report.lines)


# --- National lines: only through a reviewed override file ----------------------------------------


def test_a_reviewed_override_changes_a_national_line_and_check_shows_it(
    make_app: Any, tmp_path: Path
) -> None:
    import datetime as dt

    from hotline_bridge.checks import run_checks

    overrides = tmp_path / "national-overrides.csv"
    overrides.write_text(
        "id,field,value,source,date\n"
        "nhth,sms_number,233722,https://humantraffickinghotline.org/about-us/what-we-do,"
        "2026-12-08\n",
        encoding="utf-8",
    )
    app = make_app(NATIONAL_OVERRIDES=str(overrides))
    row = stored(app, "nhth")
    assert row is not None and row["sms"] == "233722" and row["checked"] == "2026-12-08"
    report = run_checks(app, dt.date(2026, 12, 9))
    shown = [line for line in report.lines if "overridden" in line]
    assert shown == [
        "national line nhth: sms_number overridden to '233722' (checked at "
        "https://humantraffickinghotline.org/about-us/what-we-do on 2026-12-08, "
        "national-overrides.csv:2)"
    ]
    # The reviewed row no longer waits for confirmation.
    assert not any("nhth: flagged" in line for line in report.lines)
    without = make_app(DATABASE=str(tmp_path / "plain.db"))
    plain = stored(without, "nhth")
    assert plain is not None and plain["sms"] is None  # withheld until confirmed


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("nowhere,voice,988,https://x.org,2026-12-08", "id: 'nowhere' is not a national line"),
        ("nhth,id,x,https://x.org,2026-12-08", "field: 'id' is not one of"),
        ("nhth,voice,call us,https://x.org,2026-12-08", "value: 'call us' is not a number"),
        ("nhth,voice,988,word of mouth,2026-12-08", "source: give the https:// page"),
        ("nhth,voice,988,https://x.org,2020-01-01", "date: 2020-01-01 is before"),
    ],
)
def test_an_override_that_is_not_reviewed_refuses_to_start(
    make_app: Any, tmp_path: Path, row: str, reason: str
) -> None:
    from hotline_bridge.settings import ConfigError

    overrides = tmp_path / "o.csv"
    overrides.write_text(f"id,field,value,source,date\n{row}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="NATIONAL_OVERRIDES") as refused:
        make_app(NATIONAL_OVERRIDES=str(overrides))
    assert f"o.csv:2: {reason}" in str(refused.value)


def test_check_fails_on_control_characters_set_in_the_database(app: Flask) -> None:
    import datetime as dt

    from hotline_bridge.checks import run_checks

    demo(app)
    with open_db(app) as db:
        db.execute(
            "update service_texts set label = ? "
            "where service_id = 'demo-legal-aid' and language = 'en'",
            ["Legal\x0b"],
        )
        db.execute(
            "update site_texts set name = ? where site_id = 'demo-clinic' and language = 'en'",
            ["Line\x1b"],
        )
        db.conn.commit()
    report = run_checks(app, dt.date(2026, 12, 9))
    assert (
        "FAIL service demo-legal-aid: label_en: contains the control character U+000B; remove it"
        in (report.lines)
    )
    assert "FAIL site demo-clinic: name_en: contains the control character U+001B; remove it" in (
        report.lines
    )
