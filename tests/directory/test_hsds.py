"""Open Referral HSDS 3.0 packages: the real, imperfect example package, and our own round trip."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hotline_bridge.directory import hsds
from hotline_bridge.directory.store import open_db
from hotline_bridge.runtime import import_context
from tests.conftest import FIXTURES
from tests.directory.test_import import EXAMPLES, dump, run, service

FIXTURE = FIXTURES / "hsds-3.0"
SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"
# One schedule of the service: weekdays, nine to five.
WEEKDAYS = {
    "id": "68102e86-bb50-41c4-8f1e-e269368c41d1",
    "service_id": SERVICE_ID,
    "freq": "WEEKLY",
    "byday": "MO,TU,WE,TH,FR",
    "opens_at": "09:00",
    "closes_at": "17:00",
}

# What the example package gets wrong, each with the table line and the field at fault.
EXPECTED_PROBLEMS = [
    "phones.csv:2: number: '+44 1234 234567' is not a US number",
    "locations.csv:2: latitude: 100 is out of range (-90 to 90)",
    "addresses.csv:2: state_province: 'MyState' is not a two-letter state code like MA",
    "addresses.csv:2: postal_code: 'ABC 1234' is not a five-digit ZIP code",
]


def test_the_example_package_is_refused_with_every_problem_reported(app: Flask) -> None:
    before = dump(app)
    result = run(app, "import", str(FIXTURE))
    assert result.exit_code == 1
    for problem in EXPECTED_PROBLEMS:
        assert problem in result.output
    # Its datapackage.json is a broken link; the tables are still found, with a note.
    assert "datapackage.json:1: datapackage: cannot be read" in result.output
    assert "Nothing imported" in result.output
    assert dump(app) == before


def test_skip_invalid_loads_what_is_good_in_the_example_package(app: Flask) -> None:
    result = run(app, "import", "--skip-invalid", str(FIXTURE))
    assert result.exit_code == 0, result.output
    for problem in EXPECTED_PROBLEMS:
        assert problem in result.output
    row = service(app, SERVICE_ID)
    assert row is not None
    assert row["name_en"] == "Community Counselling"
    # No taxonomy term is linked, so the category comes from the service's own words.
    assert row["category"] == "mental_health"
    # No discreet label is given, and none is invented: lists show the service's own name.
    assert (row["label_en"], row["label_es"]) == (None, None)
    # Its only schedule held until 2005 (in UTC+3): an ended schedule is never "open now".
    assert row["hours"] is None
    assert "schedules.csv:2: valid_to: ended, so left out" in result.output
    assert row["languages"] == "ur"
    assert row["url"] == "http://example.com/counselling"
    # The unusable phone, coordinates and address were left out, not guessed.
    assert row["phone"] is None
    assert row["latitude"] is None
    assert row["zip"] is None


def test_a_package_category_can_be_given_when_it_cannot_be_told(app: Flask, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    shutil.copytree(FIXTURE, package)
    services = package / "services.csv"
    text = services.read_text(encoding="utf-8")
    services.write_text(
        text.replace("Community Counselling", "Drop-in")
        .replace("Counselling Services", "Visits")
        .replace("mental health", "many"),
        encoding="utf-8",
    )
    result = run(app, "import", "--skip-invalid", str(package))
    assert "services.csv:2: category: no taxonomy term or word tells the category" in result.output
    assert service(app, SERVICE_ID) is None
    result = run(app, "import", "--skip-invalid", "--category", "medical", str(package))
    row = service(app, SERVICE_ID)
    assert row is not None and row["category"] == "medical"


def test_hsds_export_and_reimport_keep_everything(make_app: Any, tmp_path: Path) -> None:
    first = make_app(DATABASE=str(tmp_path / "first.db"))
    assert run(first, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    assert run(first, "import", str(EXAMPLES / "demo" / "services.csv")).exit_code == 0
    package = tmp_path / "package"
    result = run(first, "export", "--format", "hsds", str(package))
    assert result.exit_code == 0, result.output
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    names = {Path(resource["path"]).stem for resource in descriptor["resources"]}
    assert {"services", "phones", "locations", "schedules", "taxonomy_terms"} <= names

    second = make_app(DATABASE=str(tmp_path / "second.db"))
    assert run(second, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    result = run(second, "import", str(package))
    assert result.exit_code == 0, result.output
    assert _local(second) == _local(first)


def _local(app: Flask) -> list[tuple[Any, ...]]:
    """Every column of the local services except the file each came from, with their sites."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        columns = [r[1] for r in conn.execute("pragma table_info(services)") if r[1] != "source"]
        sql = f"""select {", ".join(columns)},
                  (select group_concat(site_id) from service_sites where service_id = id)
                  from services where national = 0 order by id"""
        texts = "select * from service_texts order by service_id, language"
        return [*conn.execute(sql).fetchall(), *conn.execute(texts).fetchall()]
    finally:
        conn.close()


def test_schedules_of_one_service_add_up(app: Flask, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    shutil.copytree(FIXTURE, package)
    dates = {"valid_to": "", "until": "", "valid_from": "", "dtstart": ""}
    first = {**table(package, "schedules")[0], **dates}
    second = {**first, "id": "58102e86-bb50-41c4-8f1e-e269368c41d1", "byday": "MO"}
    write_table(package, "schedules", [first, second])
    run(app, "import", "--skip-invalid", str(package))
    row = service(app, SERVICE_ID)
    # The example's timezone (3) is the zone the hours are kept in.
    assert row is not None and row["hours"] == "Mo,Th-Fr 10:00-18:00 [UTC+03:00]"


def test_a_package_is_shown_at_the_site_given(app: Flask) -> None:
    result = run(app, "import", "--skip-invalid", "--site", "nowhere", str(FIXTURE))
    assert "services.csv:2: site: unknown site 'nowhere'" in result.output
    assert run(app, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    run(app, "import", "--skip-invalid", "--site", "demo-clinic", str(FIXTURE))
    conn = sqlite3.connect(app.config["DATABASE"])
    sites = conn.execute("select site_id from service_sites where service_id = ?", [SERVICE_ID])
    assert sites.fetchall() == [("demo-clinic",)]


# --- Real-shaped packages: status, phones by link, zoned schedules ------------------------------


def table(package: Path, name: str) -> list[dict[str, str]]:
    with (package / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_table(package: Path, name: str, rows: list[dict[str, str]]) -> None:
    path = package / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        columns = next(csv.reader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


ORG = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
LOCATION = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
AT_LOCATION = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
OTHER_SERVICE = "bc148810-d857-441c-9679-408f346de14b"


def clean_package(tmp_path: Path) -> Path:
    """Return a copy of the example package with its errors fixed and a second service."""
    package = tmp_path / "pkg"
    shutil.copytree(FIXTURE, package)
    (package / "datapackage.json").unlink()
    write_table(
        package,
        "locations",
        [{**table(package, "locations")[0], "latitude": "42.36", "longitude": "-71.10"}],
    )
    address = table(package, "addresses")[0]
    write_table(
        package,
        "addresses",
        [{**address, "state_province": "MA", "postal_code": "02139", "country": "US"}],
    )
    services = table(package, "services")
    second = {**services[0], "id": OTHER_SERVICE, "name": "Food pantry"}
    write_table(package, "services", [services[0], second])
    write_table(package, "schedules", [])
    write_table(package, "phones", [])
    return package


def phone(number: str, **links: str) -> dict[str, str]:
    return {
        "id": f"{abs(hash(tuple(links.items()))) % 10**8:08d}-0000-4000-8000-000000000000",
        "number": number,
        "type": "voice",
        **links,
    }


def test_phones_come_from_the_most_specific_link(app: Flask, tmp_path: Path) -> None:
    package = clean_package(tmp_path)
    write_table(
        package,
        "phones",
        [
            phone("617-555-0104", organization_id=ORG),
            phone("617-555-0103", location_id=LOCATION),
            phone("617-555-0102", service_id=SERVICE_ID),
            phone("617-555-0101", service_at_location_id=AT_LOCATION),
        ],
    )
    result = run(app, "import", str(package))
    assert result.exit_code == 0, result.output
    assert service(app, SERVICE_ID)["phone"] == "+16175550101"  # type: ignore[index]
    # The second service has no location and no phone of its own: its organization's.
    assert service(app, OTHER_SERVICE)["phone"] == "+16175550104"  # type: ignore[index]
    write_table(package, "phones", [phone("617-555-0103", location_id=LOCATION)])
    assert run(app, "import", str(package)).exit_code == 0
    # A changed number waits for a second person in the console, as every door's does.
    with open_db(app) as db:
        asked = db.execute("select new from pending_changes where service_id = ?", [SERVICE_ID])
        assert asked.fetchone()[0] == "+16175550103"


def test_a_service_nobody_can_reach_is_reported(app: Flask, tmp_path: Path) -> None:
    result = run(app, "import", str(clean_package(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "services.csv:2: phone: no phone is linked to this service" in result.output
    assert "services.csv:3: phone: no phone is linked" in result.output


def test_an_inactive_service_is_never_offered_and_reimport_retires(
    app: Flask, tmp_path: Path
) -> None:
    from tests.conftest import Texter

    package = clean_package(tmp_path)
    write_table(package, "phones", [phone("617-555-0101", organization_id=ORG)])
    services = table(package, "services")
    write_table(
        package,
        "services",
        [{**services[0], "status": "active"}, {**services[1], "status": "defunct"}],
    )
    assert run(app, "import", "--category", "mental_health", str(package)).exit_code == 0
    assert service(app, OTHER_SERVICE)["status"] == "defunct"  # type: ignore[index]

    def offered() -> str:
        texter = Texter(app.test_client())
        texter.send("hello")
        texter.send("2")
        return texter.send("3")

    listing = offered()
    assert "\n1 Community Counselling\n8 " in listing, listing  # the defunct one is not offered
    write_table(
        package,
        "services",
        [{**services[0], "status": "inactive"}, {**services[1], "status": "defunct"}],
    )
    result = run(app, "import", "--dry-run", "--category", "mental_health", str(package))
    assert f"changed: {SERVICE_ID}" in result.output
    assert run(app, "import", "--category", "mental_health", str(package)).exit_code == 0
    assert service(app, SERVICE_ID)["status"] == "inactive"  # type: ignore[index]
    assert "1 Community Counselling" not in offered()


@pytest.mark.parametrize(
    ("schedule", "hours"),
    [
        ({"opens_at": "09:00:00Z", "closes_at": "17:00:00Z"}, "Mo-Fr 09:00-17:00 [UTC]"),
        ({"opens_at": "09:00-05:00", "closes_at": "17:00-05:00"}, "Mo-Fr 09:00-17:00 [UTC-05:00]"),
        ({"timezone": "-6"}, "Mo-Fr 09:00-17:00 [UTC-06:00]"),
        (
            {"valid_from": "2026-01-01", "valid_to": "2027-06-30"},
            "Mo-Fr 09:00-17:00 [2026-01-01..2027-06-30]",
        ),
        ({"until": "2027-03-01"}, "Mo-Fr 09:00-17:00 [..2027-03-01]"),
        ({"freq": "MONTHLY"}, "Mo-Fr 09:00-17:00"),
    ],
)
def test_schedules_keep_their_zone_and_dates(
    app: Flask, tmp_path: Path, schedule: dict[str, str], hours: str
) -> None:
    package = clean_package(tmp_path)
    write_table(package, "schedules", [{**WEEKDAYS, **schedule}])
    result = run(app, "import", str(package))
    assert result.exit_code == 0, result.output
    assert service(app, SERVICE_ID)["hours"] == hours  # type: ignore[index]


@pytest.mark.parametrize(
    ("today", "hours"),
    [
        (dt.date(2027, 3, 1), "Mo-Fr 09:00-17:00 [..2027-03-01]"),  # its last day
        (dt.date(2027, 3, 2), ""),  # ended: left out, with a note
    ],
)
def test_a_schedule_has_ended_by_the_day_the_package_is_checked_on(
    app: Flask, tmp_path: Path, today: dt.date, hours: str
) -> None:
    package = clean_package(tmp_path)
    write_table(package, "schedules", [{**WEEKDAYS, "valid_to": "2027-03-01"}])
    with open_db(app) as db, app.app_context():
        batch = hsds.check_package(package, import_context(db), today=today)
    (row,) = [r for r in batch.services if r["id"] == SERVICE_ID]
    assert (row["hours"] or "") == hours
    warned = "schedules.csv:2: valid_to: ended, so left out" in map(str, batch.warnings)
    assert warned == (not hours) and not batch.problems


@pytest.mark.parametrize(
    ("schedule", "field", "reason"),
    [
        ({"freq": "MONTHLY", "byday": "1MO"}, "freq", "monthly schedule on days of the month"),
        ({"freq": "MONTHLY", "bymonthday": "15"}, "freq", "monthly schedule on days of the month"),
        ({"interval": "2"}, "interval", "every 2 weeks"),
        ({"freq": "DAILY"}, "freq", "'DAILY' schedules"),
        ({"opens_at": "9am"}, "opens_at", "is not a time like 09:00:00"),
        ({"closes_at": "five"}, "closes_at", "is not a time like 09:00:00"),
        # A schedule with no opening times names the times it lacks, not its frequency.
        ({"opens_at": "", "closes_at": ""}, "opens_at", "is not a time like 09:00:00"),
        ({"closes_at": ""}, "closes_at", "is not a time like 09:00:00"),
    ],
)
def test_schedules_that_cannot_be_told_are_reported(
    app: Flask, tmp_path: Path, schedule: dict[str, str], field: str, reason: str
) -> None:
    package = clean_package(tmp_path)
    write_table(package, "schedules", [{**WEEKDAYS, "byday": "MO", **schedule}])
    result = run(app, "import", "--skip-invalid", str(package))
    assert f"schedules.csv:2: {field}: not read: " in result.output, result.output
    assert reason in result.output
    assert service(app, SERVICE_ID)["hours"] is None  # type: ignore[index]


def test_zoned_and_dated_hours_are_open_only_when_they_hold() -> None:
    import datetime as dt

    from hotline_bridge.directory.hours import describe, open_now

    utc_nine = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)  # 4:30 a.m. in New York
    assert open_now("Mo-Fr 09:00-17:00 [UTC]", "America/New_York", utc_nine) is True
    assert open_now("Mo-Fr 09:00-17:00", "America/New_York", utc_nine) is False
    assert open_now("Mo-Fr 09:00-17:00 [..2026-11-30]", "UTC", utc_nine) is False
    assert open_now("Mo-Fr 09:00-17:00 [2026-12-03..]", "UTC", utc_nine) is False
    assert open_now("Mo-Fr 09:00-17:00 [2026-12-01..2026-12-31]", "UTC", utc_nine) is True
    assert describe("Mo-Fr 09:00-17:00 [UTC-05:00]", "en") == "Mon-Fri 9am-5pm (UTC-05:00)"


# --- Export: valid HSDS 3.0 --------------------------------------------------------------------

SCHEMAS = FIXTURES / "hsds-3.0-schema"


def _typed(value: str, field: dict[str, Any]) -> Any:
    if field["type"] in {"number", "integer"}:
        return float(value)
    return value


# Datapackage types beyond JSON's: how each must be written in a CSV cell. HSDS asks for
# opening times with their zone ("09:00Z", "09:00-05:00").
CELL_FORMATS = {
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
    "time": re.compile(r"^\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$"),
    "number": re.compile(r"^-?\d+(\.\d+)?$"),
}


def strict_problems(package: Path) -> list[str]:
    """What ``frictionless validate`` reports against the official datapackage.json, checked
    here without it: every table it describes is present, with exactly its columns in its
    order, and every foreign key leads to a row."""
    official = json.loads((SCHEMAS / "datapackage.json").read_text(encoding="utf-8"))
    problems = []
    by_name = {resource["name"]: resource for resource in official["resources"]}
    for resource in official["resources"]:
        path = package / resource["path"]
        if not path.exists():
            problems.append(f"{path.name}: missing")
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        fields = [field["name"] for field in resource["schema"]["fields"]]
        if header != fields:
            problems.append(f"{path.name}: columns {header} are not {fields}")
        for key in resource["schema"].get("foreignKeys", []):
            target = by_name[key["reference"]["resource"]]
            known = {
                row[key["reference"]["fields"]] for row in table(package, Path(target["path"]).stem)
            }
            for n, row in enumerate(table(package, path.stem), 2):
                value = row.get(key["fields"]) or ""
                if value and value not in known:
                    problems.append(f"{path.name}:{n}: {key['fields']}: {value} leads nowhere")
    return problems


def datapackage_problems(package: Path) -> list[str]:
    """Check a package's CSVs against the official datapackage's types and constraints."""
    official = json.loads((SCHEMAS / "datapackage.json").read_text(encoding="utf-8"))
    problems = []
    for resource in official["resources"]:
        path = package / resource["path"]
        if not path.exists():
            continue
        rows = table(package, path.stem)
        for field in resource["schema"]["fields"]:
            constraints, name = field.get("constraints", {}), field["name"]
            values = [row.get(name) or "" for row in rows]
            for n, value in enumerate(values, 2):
                where = f"{path.name}:{n}: {name}"
                if not value:
                    if constraints.get("required"):
                        problems.append(f"{where}: required")
                    continue
                pattern = CELL_FORMATS.get(field["type"])
                if pattern and not pattern.match(value):
                    problems.append(f"{where}: not a {field['type']}: {value!r}")
                if field.get("format") == "uuid" and not re.match(r"^[0-9a-f-]{36}$", value):
                    problems.append(f"{where}: not a uuid: {value!r}")
                if "enum" in constraints and value not in constraints["enum"]:
                    problems.append(f"{where}: {value!r} not in {constraints['enum']}")
            if constraints.get("unique") and len(set(filter(None, values))) < len(
                list(filter(None, values))
            ):
                problems.append(f"{path.name}: {name}: not unique")
    return problems


def schema_problems(package: Path) -> list[str]:
    """Validate a package's rows with the official JSON Schema, format checking on."""
    from jsonschema import Draft202012Validator, FormatChecker

    official = json.loads((SCHEMAS / "datapackage.json").read_text(encoding="utf-8"))
    schema = json.loads((SCHEMAS / "tabular.json").read_text(encoding="utf-8"))
    document: dict[str, list[dict[str, Any]]] = {}
    for resource in official["resources"]:
        path = package / resource["path"]
        if path.exists():
            fields = {f["name"]: f for f in resource["schema"]["fields"]}
            document[resource["name"]] = [
                {k: _typed(v, fields[k]) for k, v in row.items() if v and k in fields}
                for row in table(package, path.stem)
            ]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def exported(make_app: Any, tmp_path: Path, name: str, *also: Path) -> Path:
    """Export, as HSDS, the demo directory `make run` loads (and the packages ``also`` names,
    their invalid rows skipped)."""
    app = make_app(DATABASE=str(tmp_path / f"{name}.db"))
    assert run(app, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    assert run(app, "import", str(EXAMPLES / "demo" / "services.csv")).exit_code == 0
    for source in also:
        assert run(app, "import", "--skip-invalid", str(source)).exit_code == 0
    out = tmp_path / name
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    return out


def test_the_export_is_valid_hsds_3(make_app: Any, tmp_path: Path) -> None:
    package = exported(make_app, tmp_path, "out")
    assert schema_problems(package) == []
    assert datapackage_problems(package) == []
    assert strict_problems(package) == []
    schedules = table(package, "schedules")
    assert schedules and all(row["opens_at"].endswith("-05:00") for row in schedules)


def frictionless_problems(package: Path) -> list[str]:
    """Validate the tables of ``package`` with `frictionless`, as Open Referral validates its
    examples: against Open Referral's own tabular ``datapackage.json`` (column names and order,
    types, formats, required fields, primary and foreign keys), not the one the export wrote."""
    import frictionless

    official = package / "open-referral-datapackage.json"
    shutil.copy(SCHEMAS / "datapackage.json", official)
    report = frictionless.validate(str(official))
    return [
        f"{task.name}: {error.type}: {error.message}"
        for task in report.tasks
        for error in task.errors
    ] + [f"package: {error.message}" for error in report.errors]


def test_frictionless_finds_the_export_valid_against_open_referrals_datapackage(
    make_app: Any, tmp_path: Path
) -> None:
    package = exported(make_app, tmp_path, "out", FIXTURE)
    assert table(package, "services") and table(package, "phones")
    assert frictionless_problems(package) == []


def test_frictionless_would_find_a_table_out_of_hsds_order(make_app: Any, tmp_path: Path) -> None:
    package = exported(make_app, tmp_path, "out")
    rows = table(package, "services")
    turned = list(reversed(list(rows[0])))
    with (package / "services.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, turned)
        writer.writeheader()
        writer.writerows(rows)
    assert any("service: incorrect-label" in p for p in frictionless_problems(package))


def test_the_checkers_catch_what_the_old_export_got_wrong(tmp_path: Path) -> None:
    package = tmp_path / "old"
    package.mkdir()
    (package / "services.csv").write_text(
        "id,organization_id,name,status,url\nlegal-aid,legal-aid-org,Legal aid,active,not a url\n",
        encoding="utf-8",
    )
    (package / "schedules.csv").write_text(
        "id,opens_at\n8b0c2bc4-5a58-4a4b-9ef4-0f3b2d6f5a11,09:00:00\n", encoding="utf-8"
    )
    (package / "organizations.csv").write_text(
        "id,name\n8b0c2bc4-5a58-4a4b-9ef4-0f3b2d6f5a12,Org\n", encoding="utf-8"
    )
    found = "\n".join(schema_problems(package) + datapackage_problems(package))
    assert "is not a 'uuid'" in found
    assert "services.csv:2: id: not a uuid" in found
    assert "schedules.csv:2: opens_at: not a time" in found
    assert "organizations.csv:2: description: required" in found


def test_export_ids_are_stable_uuids(make_app: Any, tmp_path: Path) -> None:
    first = exported(make_app, tmp_path, "one")
    second = exported(make_app, tmp_path, "two")
    ids = [row["id"] for row in table(first, "services")]
    assert ids == [row["id"] for row in table(second, "services")]
    assert all(re.match(r"^[0-9a-f-]{36}$", i) for i in ids)


def test_a_uuid_the_source_gave_is_kept(app: Flask, tmp_path: Path) -> None:
    assert run(app, "import", "--skip-invalid", str(FIXTURE)).exit_code == 0
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    assert [row["id"] for row in table(out, "services")] == [SERVICE_ID]


def test_the_official_tabular_example_imports(app: Flask, tmp_path: Path) -> None:
    example = json.loads((SCHEMAS / "examples" / "tabular.json").read_text(encoding="utf-8"))
    package = tmp_path / "official"
    package.mkdir()
    for name, rows in example.items():
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with (package / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(
                {
                    k: "" if v is None else v
                    for k, v in row.items()
                    if not isinstance(v, list | dict)
                }
                for row in rows
            )
    result = run(app, "import", "--skip-invalid", str(package))
    assert result.exit_code == 0, result.output
    assert "1 of 1 services imported" in result.output
    assert service(app, SERVICE_ID)["name_en"] == "Community Counselling"  # type: ignore[index]


# --- A faithful round trip: what the line does not use comes back out as it came ---------------


def us_variant(tmp_path: Path) -> Path:
    """The official example package with a US phone, place and address (ZIP+4)."""
    package = tmp_path / "us"
    shutil.copytree(FIXTURE, package)
    for name, change in (
        ("phones", {"number": "+16175550123"}),
        ("locations", {"latitude": "42.3601", "longitude": "-71.0589"}),
        ("addresses", {"state_province": "MA", "postal_code": "02139-4307"}),
    ):
        write_table(package, name, [{**row, **change} for row in table(package, name)])
    return package


def test_an_hsds_package_comes_back_out_with_nothing_lost(app: Flask, tmp_path: Path) -> None:
    source = us_variant(tmp_path)
    result = run(app, "import", str(source))
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    assert schema_problems(out) == [] and datapackage_problems(out) == []
    assert strict_problems(out) == []
    # The organization and the program, whole.
    for name in ("organizations", "programs"):
        assert table(out, name) == table(source, name)
    # The service: every field the line does not use, as it came.
    (exported,) = table(out, "services")
    (given,) = [row for row in table(source, "services") if row["id"] == SERVICE_ID]
    for name in ("alternate_name", "email", "eligibility_description", "fees_description"):
        assert exported[name] == given[name], name
    for name in ("alert", "last_modified", "interpretation_services", "program_id"):
        assert exported[name] == given[name], name
    # Language names, the second address line, ZIP+4 and the place's own coordinates.
    assert [(r["code"], r["name"]) for r in table(out, "languages")] == [("ur", "Urdu")]
    (address,) = table(out, "addresses")
    assert (address["address_1"], address["address_2"]) == ("1-30 Main Street", "MyVillage")
    assert (address["postal_code"], address["attention"]) == ("02139-4307", "A. Persona")
    (location,) = table(out, "locations")
    assert (location["latitude"], location["longitude"]) == ("42.3601", "-71.0589")
    assert location["transportation"].startswith("MyCity Civic Center is serviced")
    phones = [(r["number"], r["extension"]) for r in table(out, "phones") if r["type"] == "voice"]
    assert phones == [("+16175550123", "100")]


def test_a_zip_codes_centre_is_never_exported_as_the_places_own(app: Flask, tmp_path: Path) -> None:
    from tests.directory.test_import import GOOD, write_csv

    assert run(app, "import", str(write_csv(tmp_path / "s.csv", [GOOD]))).exit_code == 0
    assert service(app, "town-legal")["estimated"] == 1  # type: ignore[index]
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    (location,) = table(out, "locations")
    assert location["latitude"] == location["longitude"] == ""
    assert strict_problems(out) == []


# --- The tables the line does not read: kept whole and written back ----------------------------

# A package of our own holding a row of every table the line does not read, a second (postal)
# address beside the street one, and rows shared by the organization and the place.
EXTRA_SERVICE = "5e1a0000-0000-4000-8000-000000000001"
EXTRA_ORG = "5e1a0000-0000-4000-8000-000000000002"
EXTRA_LOCATION = "5e1a0000-0000-4000-8000-000000000003"
POSTAL = "5e1a0000-0000-4000-8000-000000000006"
EXTRA_PHONE = "5e1a0000-0000-4000-8000-000000000004"
FAX = "5e1a0000-0000-4000-8000-000000000015"
ABROAD = "5e1a0000-0000-4000-8000-000000000017"
SECOND_LOCATION = "5e1a0000-0000-4000-8000-000000000019"
SECOND_AT = "5e1a0000-0000-4000-8000-00000000001a"
EXTRA: dict[str, list[dict[str, str]]] = {
    "organizations": [
        {"id": EXTRA_ORG, "name": "Harbor Legal", "description": "Free legal help."},
    ],
    "services": [
        {
            "id": EXTRA_SERVICE,
            "organization_id": EXTRA_ORG,
            "name": "Harbor legal aid clinic",
            "description": "Free advice from a lawyer.",
            "status": "active",
        }
    ],
    "phones": [
        {"id": EXTRA_PHONE, "service_id": EXTRA_SERVICE, "number": "617-555-0188"}
        | {"type": "cell", "description": "Intake line, weekdays"}
        | {"contact_id": "5e1a0000-0000-4000-8000-000000000008"},
        # Numbers the line does not offer: a fax, a second voice number, one it cannot dial,
        # and the second place's own number.
        {"id": FAX, "service_id": EXTRA_SERVICE, "number": "617-555-0190", "type": "fax"},
        {"id": "5e1a0000-0000-4000-8000-000000000016", "service_id": EXTRA_SERVICE}
        | {"number": "617-555-0191", "type": "voice", "description": "After hours"},
        {"id": ABROAD, "service_id": EXTRA_SERVICE, "number": "+44 20 7946 0018"}
        | {"type": "voice", "description": "London office"},
        {"id": "5e1a0000-0000-4000-8000-000000000018", "service_at_location_id": SECOND_AT}
        | {"number": "617-555-0192", "extension": "12", "type": "voice"},
    ],
    "languages": [
        {"id": "5e1a0000-0000-4000-8000-000000000014", "service_id": EXTRA_SERVICE}
        | {"phone_id": EXTRA_PHONE, "name": "Spanish", "code": "es", "note": "Ask for Rosa"}
    ],
    "locations": [
        {"id": EXTRA_LOCATION, "location_type": "physical", "name": "Harbor office"}
        | {"latitude": "42.37", "longitude": "-71.11"},
        {"id": SECOND_LOCATION, "location_type": "physical", "name": "Hill office"}
        | {"latitude": "42.39", "longitude": "-71.12", "transportation": "Bus 87"},
    ],
    "service_at_location": [
        {"id": "5e1a0000-0000-4000-8000-000000000005", "service_id": EXTRA_SERVICE}
        | {"location_id": EXTRA_LOCATION, "description": "Intake at the harbor front desk"},
        {"id": SECOND_AT, "service_id": EXTRA_SERVICE, "location_id": SECOND_LOCATION}
        | {"description": "Walk-in clinic on Tuesdays"},
    ],
    "schedules": [
        {"id": "5e1a0000-0000-4000-8000-00000000001b", "service_id": EXTRA_SERVICE}
        | {"timezone": "-5", "freq": "WEEKLY", "byday": "MO,WE", "opens_at": "09:00:00-05:00"}
        | {"closes_at": "17:00:00-05:00", "description": "Weekday intake by appointment"}
        | {"notes": "Closed on state holidays", "attending_type": "in person or by phone"}
        | {"schedule_link": "http://example.org/book"},
        {"id": "5e1a0000-0000-4000-8000-00000000001c", "location_id": SECOND_LOCATION}
        | {"service_at_location_id": SECOND_AT, "freq": "WEEKLY", "byday": "TU"}
        | {"opens_at": "10:00:00-05:00", "closes_at": "14:00:00-05:00"}
        | {"description": "Walk-in hours", "notes": "Bring a photo ID"},
    ],
    "addresses": [
        {
            "id": "5e1a0000-0000-4000-8000-000000000007",
            "location_id": EXTRA_LOCATION,
            "attention": "Front desk",
            "address_1": "12 Harbor Street",
            "address_2": "Suite 3",
            "city": "Cambridge",
            "region": "Middlesex",
            "state_province": "MA",
            "postal_code": "02139",
            "country": "US",
            "address_type": "physical",
        },
        {
            "id": POSTAL,
            "location_id": EXTRA_LOCATION,
            "attention": "Intake",
            "address_1": "PO Box 4417",
            "city": "Cambridge",
            "state_province": "MA",
            "postal_code": "02139-4417",
            "country": "US",
            "address_type": "postal",
        },
        {
            "id": "5e1a0000-0000-4000-8000-00000000001d",
            "location_id": SECOND_LOCATION,
            "address_1": "40 Hill Road",
            "city": "Somerville",
            "state_province": "MA",
            "postal_code": "02144",
            "country": "US",
            "address_type": "physical",
        },
    ],
    "contacts": [
        {"id": "5e1a0000-0000-4000-8000-000000000008", "service_id": EXTRA_SERVICE}
        | {"name": "Rosa Diaz", "title": "Intake lead", "email": "intake@example.org"},
        # Shared by the place and the organization, and by no service in particular.
        {"id": "5e1a0000-0000-4000-8000-000000000009", "organization_id": EXTRA_ORG}
        | {"location_id": EXTRA_LOCATION, "name": "Sam Lee", "department": "Reception"},
    ],
    "service_areas": [
        {"id": "5e1a0000-0000-4000-8000-00000000000a", "service_id": EXTRA_SERVICE}
        | {"name": "Cambridge", "description": "Residents of Cambridge"}
        | {"uri": "http://example.org"}
    ],
    "required_documents": [
        {"id": "5e1a0000-0000-4000-8000-00000000000b", "service_id": EXTRA_SERVICE}
        | {"document": "Any photo ID", "uri": "http://example.org/id"}
    ],
    "cost_options": [
        {"id": "5e1a0000-0000-4000-8000-00000000000c", "service_id": EXTRA_SERVICE}
        | {"valid_from": "2026-01-01", "valid_to": "2027-12-31", "option": "Sliding scale"}
        | {"currency": "USD", "amount": "10", "amount_description": "per visit"}
    ],
    "funding": [
        {"id": "5e1a0000-0000-4000-8000-00000000000d", "organization_id": EXTRA_ORG}
        | {"source": "City grant"},
        {"id": "5e1a0000-0000-4000-8000-00000000000e", "service_id": EXTRA_SERVICE}
        | {"source": "State legal fund"},
    ],
    "accessibility": [
        {"id": "5e1a0000-0000-4000-8000-00000000000f", "location_id": EXTRA_LOCATION}
        | {"description": "Ramp at the side door", "details": "Ring the bell"}
        | {"url": "http://example.org/access"},
        {"id": "5e1a0000-0000-4000-8000-00000000001e", "location_id": SECOND_LOCATION}
        | {"description": "Lift to the second floor"},
    ],
    "organization_identifiers": [
        {"id": "5e1a0000-0000-4000-8000-000000000010", "organization_id": EXTRA_ORG}
        | {"identifier_scheme": "US-EIN", "identifier_type": "EIN", "identifier": "12-3456789"}
    ],
    "attributes": [
        {"id": "5e1a0000-0000-4000-8000-000000000011", "link_id": EXTRA_SERVICE}
        | {"taxonomy_term_id": "5e1a0000-0000-4000-8000-000000000012", "link_type": "service"}
        | {"link_entity": "service", "value": "yes"}
    ],
    "taxonomy_terms": [
        {"id": "5e1a0000-0000-4000-8000-000000000012", "code": "walk-in", "name": "Walk-in"}
        | {"description": "No appointment needed"}
        | {"taxonomy_id": "5e1a0000-0000-4000-8000-000000000013"},
        # A term and a taxonomy nothing uses.
        {"id": "5e1a0000-0000-4000-8000-00000000001f", "code": "evening", "name": "Evening"}
        | {"description": "Open after 6 pm", "language": "en"}
        | {"taxonomy_id": "5e1a0000-0000-4000-8000-000000000020"},
    ],
    "taxonomies": [
        {"id": "5e1a0000-0000-4000-8000-000000000013", "name": "Local terms"}
        | {"description": "Terms of the local directory"},
        {"id": "5e1a0000-0000-4000-8000-000000000020", "name": "Opening terms"}
        | {"description": "When a place is open", "version": "2"},
    ],
    "metadata": [
        {"id": "5e1a0000-0000-4000-8000-000000000021", "resource_id": EXTRA_SERVICE}
        | {"resource_type": "service", "last_action_date": "2026-03-02"}
        | {"last_action_type": "update", "field_name": "name"}
        | {"previous_value": "Harbor legal aid", "replacement_value": "Harbor legal aid clinic"}
        | {"updated_by": "Directory team"},
    ],
    "meta_table_descriptions": [
        {"id": "5e1a0000-0000-4000-8000-000000000022", "name": "Harbor directory"}
        | {"language": "en", "character_set": "UTF-8"},
    ],
}


def extra_package(tmp_path: Path, **change: dict[str, str]) -> Path:
    """Write ``EXTRA`` as a package, each table's first row changed as ``change`` says."""
    package = tmp_path / "extra"
    package.mkdir()
    for name, rows in EXTRA.items():
        rows = [rows[0] | change.get(name, {}), *rows[1:]]
        with (package / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, list(dict.fromkeys(k for r in rows for k in r)))
            writer.writeheader()
            writer.writerows(rows)
    return package


def _every_value_lost(source: Path, out: Path, refused: set[tuple[str, str]]) -> list[str]:
    """Every value of every HSDS table of ``source`` that does not come back in ``out`` as it
    came, row by row by id. A link that leads to no row of the source comes back empty (a
    valid package has none); a number the line dials comes back as it dials it, and an
    opening time given without its offset from UTC with that offset added (HSDS requires
    one). ``refused`` names the (id, column) the import reported as a problem and left out."""
    from hotline_bridge.directory.values import phone_number

    ids = {p.stem: {row["id"] for row in table(source, p.stem)} for p in source.glob("*.csv")}
    lost = []
    for name, columns in hsds.official_columns().items():
        links = dict(hsds.foreign_keys()[name])
        written = {row["id"]: row for row in table(out, name)}
        for row in table(source, name) if (source / f"{name}.csv").exists() else []:
            back = written.get(row["id"])
            if back is None:
                lost.append(f"{name}: {row['id']}: the whole row")
                continue
            for column, value in row.items():
                if not value or column not in columns or (row["id"], column) in refused:
                    continue
                if column in links and value not in ids.get(links[column], set()):
                    value = ""
                if column == "number" and back[column] != value:
                    value = phone_number(value, "number") or value
                if column in {"opens_at", "closes_at"} and not hsds.RFC_TIME.match(value):
                    value = back[column] if back[column].startswith(value) else value
                if back[column] != value and back[column] != value.strip():  # cells are trimmed
                    lost.append(f"{name}: {row['id']}: {column}: {row[column]!r}")
    return lost


# What the example package holds that the import refuses, reports and leaves out: a latitude
# of 100 and a longitude of 101 (a value the line uses, never written as it came).
REFUSED = {(LOCATION, "latitude"), (LOCATION, "longitude")}


def test_the_tables_the_line_does_not_read_come_back_whole(make_app: Any, tmp_path: Path) -> None:
    extra = extra_package(tmp_path)
    app = make_app(DATABASE=str(tmp_path / "first.db"))
    assert run(app, "import", "--skip-invalid", str(FIXTURE)).exit_code == 0
    result = run(app, "import", str(extra))
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    assert schema_problems(out) == [] and datapackage_problems(out) == []
    assert strict_problems(out) == [] and frictionless_problems(out) == []
    # Every value of both packages, every table, comes back as it came.
    assert _every_value_lost(extra, out, set()) == []
    assert _every_value_lost(FIXTURE, out, REFUSED) == []
    # The example's number the line cannot dial is written back as it came, never offered.
    (abroad,) = [r for r in table(out, "phones") if r["service_id"] == SERVICE_ID]
    assert abroad == table(FIXTURE, "phones")[0]
    assert (service(app, SERVICE_ID) or {})["phone"] is None
    # The line offers the service's own number; the others are kept, never offered.
    row = service(app, EXTRA_SERVICE)
    assert row is not None and (row["phone"], row["address"]) == (
        "+16175550188",
        "12 Harbor Street",
    )
    numbers = [r["id"] for r in table(out, "phones") if r["id"].startswith("5e1a")]
    assert numbers == [p["id"] for p in EXTRA["phones"]]
    (phone,) = [r for r in table(out, "phones") if r["id"] == EXTRA_PHONE]
    assert {k: phone[k] for k in EXTRA["phones"][0]} == EXTRA["phones"][0] | {
        "number": "+16175550188"
    }
    # The second place comes after the first, with its address after the first place's two.
    addresses = [r["id"] for r in table(out, "addresses") if r["id"].startswith("5e1a")]
    assert addresses == [EXTRA["addresses"][0]["id"], POSTAL, EXTRA["addresses"][2]["id"]]
    # The example's schedule ended in 2005: it is not the line's hours, and comes back whole,
    # its times given the offset of its own timezone (UTC+3).
    (ended,) = [r for r in table(out, "schedules") if r["service_id"] == SERVICE_ID]
    assert (ended["opens_at"], ended["closes_at"]) == ("10:00:00+03:00", "18:00:00+03:00")

    # A package we exported comes back whole again, with nothing written twice.
    second = make_app(DATABASE=str(tmp_path / "second.db"))
    assert run(second, "import", "--skip-invalid", str(out)).exit_code == 0
    again = tmp_path / "again"
    assert run(second, "export", "--format", "hsds", str(again)).exit_code == 0
    for name in (*hsds.official_columns(), hsds.EXTENSION):
        assert table(again, name) == table(out, name), name


def test_what_the_line_cannot_use_is_said_plainly(app: Flask, tmp_path: Path) -> None:
    result = run(app, "import", str(extra_package(tmp_path)))
    assert result.exit_code == 0, result.output
    # A number it cannot dial beside one it can: kept, never offered, and not a problem.
    kept = "but the line never gives it out or calls it"
    assert (
        f"phones.csv:5: number: '+44 20 7946 0018' is not a US number; kept as it came, {kept}"
        in (result.output)
    )
    assert "0 problem(s) reported" in result.output


def test_a_link_to_nothing_is_reported_with_its_line(app: Flask) -> None:
    result = run(app, "import", "--skip-invalid", str(FIXTURE))
    assert result.exit_code == 0, result.output
    for link in (
        "locations.csv:2: organization_id: 985e4a42-bd9f-4edc-911d-0243a4640aca is not in "
        "organizations.csv, so the export leaves this link out",
        "contacts.csv:2: service_at_location_id: 93eaf18d-1cd2-4ec7-bffb-3c9172ee5070 is not "
        "in service_at_location.csv",
        "taxonomy_terms.csv:2: taxonomy_id: 07ff6aee-a219-438c-b694-d2fcb6c5373b is not in "
        "taxonomies.csv",
    ):
        assert link in result.output
    # The example's only phone cannot be dialled: still a problem, with its line, and kept.
    assert "phones.csv:2: number: '+44 1234 234567' is not a US number\n" in result.output


def test_a_service_whose_organization_is_missing_is_told_what_it_gets(
    app: Flask, tmp_path: Path
) -> None:
    missing = "5e1a0000-0000-4000-8000-0000000000ff"
    extra = extra_package(tmp_path, services={"organization_id": missing})
    result = run(app, "import", str(extra))
    assert result.exit_code == 0, result.output
    assert (
        f"services.csv:2: organization_id: {missing} is not in organizations.csv, so the export "
        "gives the service an organization of its own name"
    ) in result.output
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    (exported,) = table(out, "services")
    assert exported["organization_id"] not in {"", missing}
    assert strict_problems(out) == [] and datapackage_problems(out) == []


def test_schedules_given_without_an_offset_read_the_same_hours_again(
    make_app: Any, tmp_path: Path
) -> None:
    bare = {"opens_at": "09:00", "closes_at": "17:00", "timezone": ""}
    first = make_app(DATABASE=str(tmp_path / "first.db"))
    assert run(first, "import", str(extra_package(tmp_path, schedules=bare))).exit_code == 0
    out = tmp_path / "out"
    assert run(first, "export", "--format", "hsds", str(out)).exit_code == 0
    (given,) = [r for r in table(out, "schedules") if r["service_id"] == EXTRA_SERVICE]
    # The site's offset is added (HSDS requires one); the rest is as it came.
    assert (given["opens_at"], given["timezone"]) == ("09:00:00-05:00", "")
    assert given["description"] == "Weekday intake by appointment"
    second = make_app(DATABASE=str(tmp_path / "second.db"))
    assert run(second, "import", str(out)).exit_code == 0
    hours = [service(app, EXTRA_SERVICE)["hours"] for app in (first, second)]  # type: ignore[index]
    assert hours[0] == hours[1] == "Mo,We 09:00-17:00"


def test_a_packages_own_rows_outlive_every_service(app: Flask, tmp_path: Path) -> None:
    """Metadata and taxonomies belong to the package, not to a service: deleting the services
    an import wrote loses none of them."""
    from tests.console.console_helpers import add_staff

    extra = extra_package(tmp_path)
    assert run(app, "import", str(extra)).exit_code == 0
    add_staff(app, "ada@clinic.example", "--admin")
    deleted = run(app, "services", "delete", EXTRA_SERVICE, "--yes", "--as", "ada@clinic.example")
    assert deleted.exit_code == 0, deleted.output
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    for name in ("metadata", "meta_table_descriptions", "taxonomy_terms"):
        ids = {row["id"] for row in table(out, name)}
        assert {row["id"] for row in EXTRA[name]} <= ids, name
    assert strict_problems(out) == [] and frictionless_problems(out) == []


def test_the_hours_staff_change_replace_the_sources_schedules(app: Flask, tmp_path: Path) -> None:
    assert run(app, "import", str(extra_package(tmp_path))).exit_code == 0
    with open_db(app) as db:
        db.execute("update services set hours = 'Mo-Fr 08:00-12:00' where id = ?", [EXTRA_SERVICE])
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    own = [r for r in table(out, "schedules") if r["service_id"] == EXTRA_SERVICE]
    assert own and all(r["opens_at"].startswith("08:00:00") for r in own)
    assert "Weekday intake by appointment" not in (out / "schedules.csv").read_text(
        encoding="utf-8"
    )
    # The second place's own hours are still as they came.
    assert "Walk-in hours" in (out / "schedules.csv").read_text(encoding="utf-8")


def test_a_confidential_place_keeps_none_of_its_addresses_or_access(
    app: Flask, tmp_path: Path
) -> None:
    extra = extra_package(tmp_path, locations={"location_type": "redacted"})
    result = run(app, "import", str(extra))
    assert result.exit_code == 0, result.output
    kept = hsds.kept_of(service(app, EXTRA_SERVICE) or {})
    assert "addresses" not in kept["rows"] and "accessibility" not in kept["rows"]
    # Nor anything of its other place: its address, name, coordinates, how to get there.
    for secret in (*SECRETS, "PO Box", "Ramp", "Harbor office", "Hill office", "Bus 87"):
        assert secret not in json.dumps(kept)
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    _nothing_of_where(out)


# Where a confidential service's places are: its two addresses, access, coordinates, and
# what its numbers and the link to its second place say of themselves.
SECRETS = (
    "12 Harbor Street",
    "PO Box 4417",
    "Ramp at the side door",
    "42.37",
    "40 Hill Road",
    "Lift to the second floor",
    "42.39",
    "Hill office",
    "Intake line, weekdays",
    "After hours",
    "Walk-in clinic on Tuesdays",
    "Intake at the harbor front desk",
)


def _nothing_of_where(out: Path) -> None:
    text = "".join(path.read_text(encoding="utf-8") for path in out.glob("*.csv"))
    for secret in SECRETS:
        assert secret not in text, secret
    # What says nothing of where it is still comes back: its places' ids among them.
    assert "Rosa Diaz" in text and "Any photo ID" in text and SECOND_LOCATION in text
    assert strict_problems(out) == [] and datapackage_problems(out) == []


def test_a_place_marked_confidential_after_import_exports_nothing_of_where(
    app: Flask, tmp_path: Path
) -> None:
    assert run(app, "import", str(extra_package(tmp_path))).exit_code == 0
    with open_db(app) as db:
        db.execute("update services set confidential = 1 where id = ?", [EXTRA_SERVICE])
    out = tmp_path / "out"
    assert run(app, "export", "--format", "hsds", str(out)).exit_code == 0
    _nothing_of_where(out)
