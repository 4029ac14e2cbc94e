"""A confidential place (a shelter) and a number with an extension, through every door: import,
console, command line, SMS, voice, kiosk, nearest by ZIP code and both exports."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hotline_bridge.channels.voice.simulator import describe
from hotline_bridge.checks import check_directory
from hotline_bridge.directory.nearby import zip_point
from hotline_bridge.directory.store import open_db
from tests.channels.voice.test_voice import call, press
from tests.channels.voice.test_voice import words as voice_words
from tests.conftest import CLINIC_NUMBER, SENDER, Texter, checked
from tests.directory.test_import import GOOD, run, service, write_csv

LANGS = ("en", "es")
# What the shelter's own address and coordinates are; none of it may leave the database.
STREET, SECOND = "12 Hidden Lane", "Back door"
LATITUDE, LONGITUDE = "42.3791", "-71.0973"
SECRETS = (STREET, "Hidden", SECOND, LATITUDE, LONGITUDE, "42.379", "-71.097")
SHELTER = {
    **GOOD,
    "id": "safe-house",
    "category": "housing",
    "label_en": "A place to stay",
    "label_es": "Un lugar para quedarse",
    "name_en": "Harbor House (example)",
    "name_es": "Casa Puerto (ejemplo)",
    "phone": "(617) 555-0134 ext. 100",
    "tty": "",
    "address": STREET,
    "address_2": SECOND,
    "city": "Cambridge",
    "state": "MA",
    "zip": "02139",
    "latitude": LATITUDE,
    "longitude": LONGITUDE,
    "hours": "",
    "confidential": "yes",
}


@pytest.fixture
def shelter_app(app: Flask, tmp_path: Path) -> Flask:
    """The app with one confidential place to stay, whose number has an extension."""
    result = run(app, "import", str(write_csv(tmp_path / "shelter.csv", [SHELTER])))
    assert result.exit_code == 0, result.output
    return app


def assert_hidden(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_the_database_keeps_the_street_for_staff_but_only_the_zip_centre_to_search(
    shelter_app: Flask,
) -> None:
    row = service(shelter_app, "safe-house")
    assert row is not None
    assert (row["address"], row["address_2"], row["confidential"]) == (STREET, SECOND, 1)
    # Its own coordinates would tell its distance to a tenth of a mile: not kept at all.
    assert (row["latitude"], row["longitude"]) == zip_point("02139")
    assert row["estimated"] == 1
    assert (row["phone"], row["phone_extension"]) == ("+16175550134", "100")


def test_the_old_column_name_marks_a_place_confidential_too(app: Flask, tmp_path: Path) -> None:
    row = {**SHELTER, "address_confidential": "sí"}
    del row["confidential"]
    columns = tuple(row)
    result = run(app, "import", str(write_csv(tmp_path / "s.csv", [row], columns)))
    assert result.exit_code == 0, result.output
    assert (service(app, "safe-house") or {})["confidential"] == 1


def test_a_bad_confidential_value_or_extension_is_reported_with_line_and_field(
    app: Flask, tmp_path: Path
) -> None:
    rows = [
        {**SHELTER, "confidential": "maybe"},
        {**SHELTER, "id": "other", "phone": "", "phone_extension": "100"},
        {**SHELTER, "id": "third", "phone_extension": "1O0"},
    ]
    result = run(app, "import", str(write_csv(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 1
    assert "bad.csv:2: confidential: 'maybe' is not yes or no" in result.output
    assert "bad.csv:3: phone_extension: an extension needs the phone number" in result.output
    assert "bad.csv:4: phone_extension: '1O0' is not an extension of digits" in result.output
    assert service(app, "safe-house") is None  # nothing half-written


# --- SMS -----------------------------------------------------------------------------------------


def _sms_words(app: Flask, lang: str) -> Any:
    return app.extensions["hotline_bridge"].catalogs.bind(lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("on", ["sms", "whatsapp"])
def test_text_detail_gives_the_number_with_its_extension_and_no_address(
    shelter_app: Flask, lang: str, on: str
) -> None:
    prefix = "whatsapp:" if on == "whatsapp" else ""
    texter = Texter(
        shelter_app.test_client(), sender=f"{prefix}{SENDER}", to=f"{prefix}{CLINIC_NUMBER}"
    )
    texter.send("hello" if lang == "en" else "hola")
    texter.send("2")
    listing = texter.send("2")
    key = re.search(rf"^(\d+) {SHELTER[f'label_{lang}']}", listing, re.MULTILINE)
    assert key, listing
    detail = texter.send(key[1])
    assert SHELTER[f"name_{lang}"] in detail
    assert_hidden(detail)
    assert "Cambridge" not in detail and "02139" not in detail
    w = _sms_words(shelter_app, lang)
    assert w.t("directory.address_by_phone") in detail
    assert "1-617-555-0134 ext. 100" in detail


@pytest.mark.parametrize("lang", LANGS)
def test_sms_nearest_by_zip_shows_no_closer_distance_than_the_zip_area(
    shelter_app: Flask, lang: str
) -> None:
    texter = Texter(shelter_app.test_client())
    texter.send("hello" if lang == "en" else "hola")
    texter.send("2")
    texter.send("2")
    results = texter.send("02139")  # a ZIP code at a list: the nearest of its kind
    assert SHELTER[f"label_{lang}"] in results, results
    assert_hidden(results)
    # Measured from the ZIP code's centre to its own: the same ZIP area, nothing closer.
    assert "0.0" in results


# --- Voice ---------------------------------------------------------------------------------------


def _voice_detail(app: Flask, lang: str) -> Any:
    phone = press(call(app, lang), "2", "2")
    label = SHELTER[f"label_{lang}"]
    key = re.search(rf"{label}[^0-9]*(\d)", phone.text) or re.search(
        rf"(\d)[^0-9]*{label}", phone.text
    )
    assert key, phone.text
    phone.press(key[1])
    return phone


@pytest.mark.parametrize("lang", LANGS)
def test_voice_reads_no_address_and_dials_the_extension(shelter_app: Flask, lang: str) -> None:
    phone = _voice_detail(shelter_app, lang)
    phone.press("2")  # its details: name, number and where it is
    w = voice_words(shelter_app, lang)
    assert SHELTER[f"name_{lang}"] in phone.text
    assert w.t("voice.address_by_phone") in phone.text
    assert w.t("voice.extension", extension="1 0 0") in phone.text
    assert_hidden(phone.text)
    assert "Cambridge" not in phone.text
    phone.press("1")  # call it
    dial = phone.dialing
    assert dial is not None
    number = dial.find("Number")
    assert number is not None, dial
    assert (number.text, number.get("sendDigits")) == ("+16175550134", "wwww100")
    assert "  <Dial 1-617-555-0134 ext. 100>" in list(describe(phone))  # the simulator


# --- Kiosk ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_kiosk_detail_slip_and_codes_hold_no_address(shelter_app: Flask, lang: str) -> None:
    client = shelter_app.test_client()
    page = client.get(f"/kiosk/default/{lang}/service:safe-house~housing")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert SHELTER[f"name_{lang}"] in html
    assert_hidden(html)
    assert "02139" not in html
    w = _sms_words(shelter_app, lang)
    assert w.t("kiosk.address_by_phone") in html
    assert "1-617-555-0134 ext. 100" in html


@pytest.mark.parametrize("lang", LANGS)
def test_kiosk_nearest_by_zip_holds_no_address(shelter_app: Flask, lang: str) -> None:
    client = shelter_app.test_client()
    page = client.get(f"/kiosk/default/{lang}/nearby:02139.housing")
    html = page.get_data(as_text=True)
    assert SHELTER[f"label_{lang}"] in html, html
    assert_hidden(html)


# --- Exports -------------------------------------------------------------------------------------


def _files_text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.glob("*")))


def test_csv_export_says_confidential_and_holds_no_street_or_coordinates(
    shelter_app: Flask, tmp_path: Path
) -> None:
    out = tmp_path / "services.csv"
    result = run(shelter_app, "export", "--format", "csv", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert_hidden(text)
    (row,) = csv.DictReader(text.splitlines())
    assert (row["confidential"], row["zip"], row["phone_extension"]) == ("1", "02139", "100")
    assert row["latitude"] == row["longitude"] == ""  # not even the ZIP centre, as if its own


def test_hsds_export_says_the_place_exists_but_not_where(
    shelter_app: Flask, tmp_path: Path
) -> None:
    out = tmp_path / "package"
    result = run(shelter_app, "export", "--format", "hsds", str(out))
    assert result.exit_code == 0, result.output
    assert_hidden(_files_text(out))
    with (out / "locations.csv").open(encoding="utf-8") as handle:
        (location,) = list(csv.DictReader(handle))
    assert location["latitude"] == location["longitude"] == ""
    with (out / "phones.csv").open(encoding="utf-8") as handle:
        phones = list(csv.DictReader(handle))
    assert [(p["number"], p["extension"]) for p in phones] == [("+16175550134", "100")]
    # And a package that says so brings the place back as confidential.
    with open_db(shelter_app) as db, db.conn:
        db.execute("delete from service_sites")
        db.execute("delete from service_texts where service_id = 'safe-house'")
        db.execute("delete from services where id = 'safe-house'")
    result = run(shelter_app, "import", str(out))
    assert result.exit_code == 0, result.output
    row = service(shelter_app, "safe-house")
    assert row is not None and row["confidential"] == 1 and row["address"] is None


@pytest.mark.parametrize(
    ("column", "value"), [("location_type", "redacted"), ("x_confidential", "true")]
)
def test_an_hsds_location_marked_redacted_or_x_confidential_is_confidential(
    app: Flask, tmp_path: Path, column: str, value: str
) -> None:
    package = tmp_path / "package"
    package.mkdir()
    sid, lid = "8b1b0c1e-0000-4000-8000-000000000001", "8b1b0c1e-0000-4000-8000-000000000002"
    tables = {
        "services": [{"id": sid, "name": "Harbor House shelter", "status": "active"}],
        "locations": [
            {"id": lid, "location_type": "physical", "latitude": LATITUDE}
            | {"longitude": LONGITUDE, column: value}
        ],
        "service_at_location": [{"id": "sal-1", "service_id": sid, "location_id": lid}],
        "addresses": [
            {
                "id": "a-1",
                "location_id": lid,
                "address_1": STREET,
                "city": "Cambridge",
                "state_province": "MA",
                "postal_code": "02139-4307",
                "country": "US",
            }
        ],
        "phones": [{"id": "p-1", "service_id": sid, "number": "617-555-0134", "extension": "100"}],
    }
    for name, rows in tables.items():
        with (package / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=list(dict.fromkeys(k for r in rows for k in r))
            )
            writer.writeheader()
            writer.writerows(rows)
    result = run(app, "import", str(package))
    assert result.exit_code == 0, result.output
    row = service(app, sid)
    assert row is not None
    assert (row["confidential"], row["estimated"], row["zip4"]) == (1, 1, "4307")
    assert (row["latitude"], row["longitude"]) == zip_point("02139")
    assert row["phone_extension"] == "100"


# --- Staff: the console and the command line -----------------------------------------------------


def test_services_edit_marks_a_place_confidential_and_the_log_says_who(
    app: Flask, tmp_path: Path
) -> None:
    plain = {**SHELTER, "confidential": "no"}
    assert run(app, "import", str(write_csv(tmp_path / "s.csv", [plain]))).exit_code == 0
    assert (service(app, "safe-house") or {})["latitude"] == float(LATITUDE)
    result = run(app, "services", "edit", "safe-house", "--set", "confidential=yes")
    assert result.exit_code == 0, result.output
    row = service(app, "safe-house")
    assert row is not None and row["confidential"] == 1
    assert (row["latitude"], row["longitude"]) == zip_point("02139")
    with open_db(app) as db:
        logged = [
            r["after"] for r in db.query("select * from audit_log where target = 'safe-house'")
        ]
    assert any('"confidential": 1' in (after or "") for after in logged), logged
    listed = run(app, "services", "list").output
    assert "safe-house" in listed and "(confidential address)" in listed


def test_check_lists_the_confidential_places(shelter_app: Flask) -> None:
    lines = checked(shelter_app, check_directory).lines
    assert "directory: 1 confidential place(s), no address given: safe-house" in lines
