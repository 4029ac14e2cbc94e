"""Open Referral HSDS 3.0 packages: the real, imperfect example package, and our own round trip."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from test_import import EXAMPLES, dump, run, service

FIXTURE = Path(__file__).parent / "fixtures" / "hsds-3.0"
SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"

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
    assert (row["label_en"], row["label_es"]) == ("Emotional support", "Apoyo emocional")
    assert row["hours"] == "Th-Fr 10:00-18:00"
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
    names = {resource["name"] for resource in descriptor["resources"]}
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
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_schedules_of_one_service_add_up(app: Flask, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    shutil.copytree(FIXTURE, package)
    schedules = package / "schedules.csv"
    lines = schedules.read_text(encoding="utf-8").splitlines()
    second = lines[1].replace("48102e86", "58102e86").replace('"TH,FR"', "MO")
    schedules.write_text("\n".join([*lines, second]) + "\n", encoding="utf-8")
    run(app, "import", "--skip-invalid", str(package))
    row = service(app, SERVICE_ID)
    assert row is not None and row["hours"] == "Mo,Th-Fr 10:00-18:00"


def test_a_package_is_shown_at_the_site_given(app: Flask) -> None:
    result = run(app, "import", "--skip-invalid", "--site", "nowhere", str(FIXTURE))
    assert "services.csv:2: site: unknown site 'nowhere'" in result.output
    assert run(app, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    run(app, "import", "--skip-invalid", "--site", "demo-clinic", str(FIXTURE))
    conn = sqlite3.connect(app.config["DATABASE"])
    sites = conn.execute("select site_id from service_sites where service_id = ?", [SERVICE_ID])
    assert sites.fetchall() == [("demo-clinic",)]
