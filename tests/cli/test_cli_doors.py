"""The command line keeps the console's rules: an import retires only with --replace, `make
run`'s --if-empty keeps console work, a new number (or words holding one) waits for a second
person in the console, and every write is in the audit log with who ran it."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import Result
from flask import Flask

from hotline_bridge.cli import main
from hotline_bridge.console import auth
from hotline_bridge.directory.store import open_db, with_texts
from hotline_bridge.settings import PROJECT_ROOT
from tests.console.console_helpers import Staffer, add_staff, csrf_of

DEMO = PROJECT_ROOT / "examples" / "demo"
NORA = "nora@demo.example"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, list(args))


@pytest.fixture
def demo(make_app: Any) -> Flask:
    app: Flask = make_app()
    for name in ("sites.csv", "services.csv"):
        result = run(app, "import", "--if-empty", str(DEMO / name))
        assert result.exit_code == 0, result.output
    return app


def service(app: Flask, service_id: str) -> dict[str, Any]:
    with open_db(app) as db:
        rows = with_texts(db, list(db.query("select * from services where id = ?", [service_id])))
    return rows[0]


def audit(app: Flask) -> list[dict[str, Any]]:
    with open_db(app) as db:
        return list(db.query("select * from audit_log order by id"))


def waiting(app: Flask) -> list[dict[str, Any]]:
    with open_db(app) as db:
        return list(db.query("select * from pending_changes where status = 'waiting'"))


def demo_rows() -> list[dict[str, str]]:
    with (DEMO / "services.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_make_run_loads_the_demo_only_into_an_empty_directory(demo: Flask) -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "import --if-empty examples/demo/services.csv" in makefile
    with open_db(demo) as db, db.conn:
        db.execute("update services set hours = '24/7' where id = 'demo-legal-aid'")
    for name in ("sites.csv", "services.csv"):  # make run, again
        again = run(demo, "import", "--if-empty", str(DEMO / name))
        assert again.exit_code == 0 and "Kept the directory as it is" in again.output
    assert service(demo, "demo-legal-aid")["hours"] == "24/7"
    assert any(e["action"] == "directory imported" for e in audit(demo))


def test_an_import_retires_nothing_without_replace(demo: Flask, tmp_path: Path) -> None:
    rows = [r for r in demo_rows() if r["id"] != "demo-legal-aid"]
    path = write_rows(tmp_path / "services.csv", rows)
    kept = run(demo, "import", str(path))
    assert kept.exit_code == 0 and "retired:" not in kept.output
    assert "kept (not in the file; --replace retires it): demo-legal-aid" in kept.output
    assert service(demo, "demo-legal-aid")["status"] == "active"
    replaced = run(demo, "import", "--replace", "--as", "nobody@x.example", str(path))
    assert replaced.exit_code != 0  # --as names a real account, or nothing is done
    replaced = run(demo, "import", "--replace", str(path))
    assert "retired: demo-legal-aid" in replaced.output
    assert service(demo, "demo-legal-aid")["status"] == "retired"
    (entry,) = [e for e in audit(demo) if e["action"] == "service retired"]
    assert entry["staff"].startswith("command line (") and entry["target"] == "demo-legal-aid"
    assert json.loads(entry["after"]) == {"status": "retired"}


@pytest.mark.clock  # the console's directory says what is open now
def test_a_command_line_number_change_waits_for_the_console(
    demo: Flask, frozen_clock: Any, tmp_path: Path
) -> None:
    add_staff(demo, NORA, "--site", "demo-clinic")
    add_staff(demo, "ned@demo.example", "--site", "demo-clinic")
    edit = run(
        demo, "services", "edit", "demo-legal-aid", "--as", NORA, "--set", "phone=617-555-0199"
    )
    assert edit.exit_code == 0, edit.output
    rows = [{**r, "phone": "+16175550177"} if r["id"] == "demo-shelter" else r for r in demo_rows()]
    imported = run(demo, "import", str(write_rows(tmp_path / "s.csv", rows)))
    assert imported.exit_code == 0, imported.output
    assert "waits for approval in the console: demo-shelter phone" in imported.output
    assert service(demo, "demo-legal-aid")["phone"] == "+16175550101"
    assert service(demo, "demo-shelter")["phone"] == "+16175550103"
    asked = {c["service_id"]: c for c in waiting(demo)}
    assert asked["demo-legal-aid"]["requested_by"] == f"command line ({NORA})"
    assert asked["demo-shelter"]["requested_by"].startswith("command line (")
    # Nora cannot approve at the console what she asked for at the command line; Ned can.
    nora = Staffer(demo, NORA, frozen_clock)
    assert nora.sign_in().status_code == 303
    own = asked["demo-legal-aid"]["id"]
    assert nora.post(f"/console/approvals/{own}/approve").status_code == 403
    ned = Staffer(demo, "ned@demo.example", frozen_clock)
    assert ned.sign_in().status_code == 303
    page = ned.client.get("/console/approvals").get_data(as_text=True)
    assert f"command line ({NORA})" in page
    assert ned.post(f"/console/approvals/{own}/approve").status_code == 303
    assert service(demo, "demo-legal-aid")["phone"] == "+16175550199"


def test_command_line_words_holding_a_number_wait_too(demo: Flask) -> None:
    add_staff(demo, NORA, "--site", "demo-clinic")
    edit = run(demo, "services", "edit", "demo-legal-aid", "--set", "description_en=Text 55123 now")
    assert edit.exit_code == 0 and "waits for approval" in edit.output
    assert service(demo, "demo-legal-aid")["description_en"] == "Free legal advice."
    (change,) = waiting(demo)
    assert change["field"] == "description_en" and change["new"] == "Text 55123 now"


@pytest.mark.clock  # the console's directory says what is open now
def test_a_phone_extension_waits_for_a_second_person_as_a_number_does(
    demo: Flask, frozen_clock: Any
) -> None:
    # What is dialled after the number decides who a call reaches.
    add_staff(demo, NORA, "--site", "demo-clinic")
    add_staff(demo, "ned@demo.example", "--site", "demo-clinic")
    edit = run(
        demo, "services", "edit", "demo-legal-aid", "--as", NORA, "--set", "phone_extension=204"
    )
    assert edit.exit_code == 0 and "waits for approval" in edit.output, edit.output
    assert not service(demo, "demo-legal-aid")["phone_extension"]
    (change,) = waiting(demo)
    assert change["field"] == "phone_extension" and change["new"] == "204"
    ned = Staffer(demo, "ned@demo.example", frozen_clock)
    assert ned.sign_in().status_code == 303
    assert ned.post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert service(demo, "demo-legal-aid")["phone_extension"] == "204"


def test_every_command_line_write_is_audited_with_who_ran_it(demo: Flask) -> None:
    add_staff(demo, NORA, "--site", "demo-clinic")
    for args in (
        ("edit", "demo-legal-aid", "--as", NORA, "--set", "city=Boston"),
        ("retire", "demo-legal-aid", "--as", NORA),
        ("restore", "demo-legal-aid", "--as", NORA),
        ("delete", "demo-food", "--yes", "--as", NORA),
    ):
        assert run(demo, "services", *args).exit_code == 0
    mine = [(e["action"], e["target"]) for e in audit(demo) if NORA in (e["staff"] or "")]
    assert mine == [
        ("service changed", "demo-legal-aid"),
        ("service retired", "demo-legal-aid"),
        ("service restored", "demo-legal-aid"),
        ("service deleted", "demo-food"),
    ]


@pytest.mark.clock  # the console's directory says what is open now
def test_demo_clinic_staff_can_edit_the_demo_services(demo: Flask, frozen_clock: Any) -> None:
    add_staff(demo, NORA, "--site", "demo-clinic")
    nora = Staffer(demo, NORA, frozen_clock)
    assert nora.sign_in().status_code == 303
    html = nora.client.get("/console/directory").get_data(as_text=True)
    assert "/console/services/demo-legal-aid/edit" in html
    page = nora.client.get("/console/services/demo-legal-aid/edit?site=demo-clinic")
    assert page.status_code == 200 and csrf_of(page)
    # Freshly imported services were confirmed by the import: none needs checking.
    assert "<br><strong>Needs checking</strong>" not in html


def test_a_sites_file_program_name_holding_an_address_waits(demo: Flask, tmp_path: Path) -> None:
    text = (DEMO / "sites.csv").read_text(encoding="utf-8")
    changed = text.replace("Riverside Health Line (example)", "Riverside - riverside.example.org")
    path = tmp_path / "sites.csv"
    path.write_text(changed, encoding="utf-8")
    assert run(demo, "import", str(path)).exit_code == 0
    with open_db(demo) as db:
        name = db.execute(
            "select name from site_texts where site_id = 'demo-clinic' and language = 'en'"
        ).fetchone()[0]
    assert name == "Riverside Health Line (example)"
    (change,) = waiting(demo)
    assert change["service_id"] == "site:demo-clinic" and "riverside.example.org" in change["new"]
    assert any(e["action"] == "site imported" for e in audit(demo))


def test_a_new_service_from_the_command_line_is_held_once_someone_can_approve(
    demo: Flask, tmp_path: Path
) -> None:
    add_staff(demo, NORA, "--site", "demo-clinic")
    row = {**demo_rows()[0], "id": "demo-new", "phone": "+16175550166"}
    assert run(demo, "import", str(write_rows(tmp_path / "new.csv", [row]))).exit_code == 0
    added = service(demo, "demo-new")
    assert added["status"] == "held" and added["phone"] is None
    assert {c["field"] for c in waiting(demo)} >= {"phone"}
    # No command offers it before its number is approved.
    assert run(demo, "services", "edit", "demo-new", "--set", "status=active").exit_code == 0
    assert service(demo, "demo-new")["status"] == "held"


def test_the_spanish_audit_page_names_a_command_line_import(demo: Flask, frozen_clock: Any) -> None:
    add_staff(demo, "ada@admin.example", "--admin")
    ada = Staffer(demo, "ada@admin.example", frozen_clock)
    assert ada.sign_in().status_code == 303
    ada.post("/console/language", {"lang": "es", "next": "/console/audit"})
    html = ada.client.get("/console/audit").get_data(as_text=True)
    assert "directorio importado: services.csv" in html and "línea de comandos (" in html
    assert "Agregados" in html


def test_an_import_giving_a_waiting_number_never_writes_it(demo: Flask, tmp_path: Path) -> None:
    add_staff(demo, NORA, "--site", "demo-clinic")
    assert (
        run(demo, "services", "edit", "demo-legal-aid", "--set", "phone=617-555-0199").exit_code
        == 0
    )
    rows = [
        {**r, "phone": "+16175550199", "city": "Boston"} if r["id"] == "demo-legal-aid" else r
        for r in demo_rows()
    ]
    assert run(demo, "import", str(write_rows(tmp_path / "s.csv", rows))).exit_code == 0
    stored = service(demo, "demo-legal-aid")
    assert stored["city"] == "Boston" and stored["phone"] == "+16175550101"
    assert len(waiting(demo)) == 1
