"""Uploads through the console's real forms (CSRF token, second factor): nothing is retired
unless staff say the file is the whole directory and confirm what goes; shared services keep
one rule; the report numbers every problem's line; a damaged or oddly named file is said, not
a server error."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
import time_machine
from flask import Flask
from werkzeug.test import TestResponse

from hotline_bridge.cli.directory import import_command
from hotline_bridge.console import auth
from hotline_bridge.directory.store import open_db, with_texts
from hotline_bridge.settings import PROJECT_ROOT
from tests.console.console_helpers import Staffer, add_staff, csrf_of, seed

NORA, NED, SAM, ADA = (
    "nora@north.example",
    "ned@north.example",
    "sam@south.example",
    "ada@admin.example",
)
HEADER = "id,site,category,name_en,label_en,phone,zip,hours\n"
FOOD = "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139,\n"


@pytest.fixture
def console(make_app: Any) -> Flask:
    app: Flask = make_app()
    seed(app)
    add_staff(app, NORA, "--site", "north")
    add_staff(app, NED, "--site", "north")
    add_staff(app, SAM, "--site", "south")
    add_staff(app, ADA, "--admin")
    return app


@pytest.fixture
def people(console: Flask, frozen_clock: time_machine.Traveller) -> Iterator[dict[str, Staffer]]:
    yield {email: Staffer(console, email, frozen_clock) for email in (NORA, NED, SAM, ADA)}


def signed(people: dict[str, Staffer], email: str) -> Staffer:
    member = people[email]
    response = member.sign_in()
    assert response.status_code == 303, response.get_data(as_text=True)
    return member


def service(app: Flask, service_id: str) -> dict[str, Any] | None:
    with open_db(app) as db:
        rows = with_texts(db, list(db.query("select * from services where id = ?", [service_id])))
    return rows[0] if rows else None


def upload(
    member: Staffer, name: str, content: bytes, *, site: str = "north", lang: str | None = None
) -> TestResponse:
    """Upload ``content`` as ``name`` for ``site``, read in ``lang`` when given."""
    if lang is not None:
        member.post("/console/language", {"lang": lang, "next": "/console/upload"})
    page = member.client.get(f"/console/upload?site={site}")
    return member.client.post(
        "/console/upload",
        data={"csrf_token": csrf_of(page), "site": site, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def text_of(response: TestResponse) -> str:
    return unescape(response.get_data(as_text=True))


def apply_action(report: TestResponse) -> str:
    found = re.search(r'action="(/console/upload/[^"]+/apply)"', report.get_data(as_text=True))
    assert found, "the report offers no Apply"
    return found[1]


# --- A file that cannot be read is said, never a server error --------------------------------


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "not a services file"), ("es", "no es un archivo de servicios")],
)
@pytest.mark.parametrize("name", ["..", ".", "/", "../..", "..\\.."])
def test_an_upload_named_like_a_folder_is_answered_not_a_server_error(
    people: dict[str, Staffer], name: str, lang: str, said: str
) -> None:
    nora = signed(people, NORA)
    response = upload(nora, name, b"nothing useful\n", lang=lang)
    assert response.status_code == 200 and said in text_of(response)


def _damaged_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("hsds/services.csv", HEADER + FOOD)
    content = bytearray(buffer.getvalue())
    at = bytes(content).index(b"Food Pantry")
    content[at] ^= 0x20  # one byte changed: the stored checksum no longer matches
    return bytes(content)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "the zip file is damaged; make it again"),
        ("es", "el archivo zip está dañado; vuelva a crearlo"),
    ],
)
def test_a_zip_file_with_a_bad_checksum_is_said_to_be_damaged(
    console: Flask, people: dict[str, Staffer], lang: str, said: str
) -> None:
    nora = signed(people, NORA)
    response = upload(nora, "package.zip", _damaged_zip(), lang=lang)
    html = text_of(response)
    assert response.status_code == 200 and said in html
    assert 'action="/console/upload/' not in html and service(console, "north-food") is None


# --- Nothing is retired unless staff say the file is the whole directory ---------------------


def _audit(app: Flask, action: str) -> list[dict[str, Any]]:
    with open_db(app) as db:
        return list(db.query("select * from audit_log where action = ? order by id", [action]))


def test_an_upload_keeps_what_the_file_leaves_out(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    report = upload(nora, "services.csv", (HEADER + FOOD).encode())
    html = text_of(report)
    assert "Not in the file: 1 (kept)" in html and "North Legal Aid (example)" in html
    applied = nora.client.post(
        apply_action(report), data={"csrf_token": csrf_of(report), "code": nora.next_code()}
    )
    assert applied.status_code == 303
    assert service(console, "north-legal")["status"] == "active"  # type: ignore[index]
    assert not _audit(console, "service retired")


def test_an_admin_chooses_on_the_upload_page_which_site_the_file_is_for(
    console: Flask, people: dict[str, Staffer]
) -> None:
    ada, nora = signed(people, ADA), signed(people, NORA)
    page = text_of(ada.client.get("/console/upload"))
    assert '<select id="upload-site" name="site">' in page
    assert all(f'<option value="{site}"' in page for site in ("default", "north", "south"))
    # Site staff upload for their own site, with nothing to choose.
    assert "upload-site" not in text_of(nora.client.get("/console/upload"))
    # The South site's one service is what a file leaving it out would keep.
    south_only = (HEADER + FOOD.replace(",north,", ",south,")).encode()
    report = upload(ada, "services.csv", south_only, site="south")
    assert "South Shelter (example)" in text_of(report)
    assert "North Legal Aid (example)" not in text_of(report)


def test_the_template_applied_with_a_code_at_the_demo_clinic_keeps_its_ten(
    make_app: Any, frozen_clock: time_machine.Traveller
) -> None:
    # The demo as `make run` loads it, and the template an admin uploads there: applying it
    # with a one-time code adds the template's service (held for its number) and retires none.
    app: Flask = make_app()
    for name in ("sites.csv", "services.csv"):
        loaded = app.test_cli_runner().invoke(
            import_command, ["--if-empty", str(PROJECT_ROOT / "examples" / "demo" / name)]
        )
        assert loaded.exit_code == 0, loaded.output
    add_staff(app, ADA, "--admin")
    ada = Staffer(app, ADA, frozen_clock)
    assert ada.sign_in().status_code == 303
    template = (PROJECT_ROOT / "examples" / "services-template.csv").read_bytes()
    report = upload(ada, "services-template.csv", template, site="demo-clinic")
    assert "Not in the file: 10 (kept)" in text_of(report)
    applied = ada.client.post(
        apply_action(report), data={"csrf_token": csrf_of(report), "code": ada.next_code()}
    )
    assert applied.status_code == 303, text_of(applied)
    assert service(app, "my-legal-aid")["status"] == "held"  # type: ignore[index]
    assert service(app, "demo-legal-aid")["status"] == "active"  # type: ignore[index]
    assert not _audit(app, "service retired")


@pytest.mark.parametrize(
    ("lang", "asked", "button"),
    [
        ("en", "Retire 1 service(s)?", "Retire these 1 and apply"),
        ("es", "¿Retirar 1 servicio(s)?", "Retirar estos 1 y aplicar"),
    ],
)
def test_a_whole_directory_retires_only_after_staff_see_by_name_and_confirm(
    console: Flask, people: dict[str, Staffer], lang: str, asked: str, button: str
) -> None:
    nora = signed(people, NORA)
    report = upload(nora, "services.csv", (HEADER + FOOD).encode(), lang=lang)
    action = apply_action(report)
    chosen = nora.client.post(
        action, data={"csrf_token": csrf_of(report), "whole": "1", "code": nora.next_code()}
    )
    html = text_of(chosen)
    assert chosen.status_code == 200 and asked in html and button in html
    listed = html[html.index('class="retiring"') :]
    assert "North Legal Aid (example)" in listed[: listed.index("</ul>")]
    assert service(console, "north-legal")["status"] == "active"  # type: ignore[index]
    # A confirmation of another list (the directory changed since) confirms nothing.
    stale = nora.client.post(
        action, data={"csrf_token": csrf_of(chosen), "whole": "1", "retire": "north-other"}
    )
    assert stale.status_code == 200 and asked in text_of(stale)
    retire = re.search(r'name="retire" value="([^"]*)"', stale.get_data(as_text=True))
    assert retire and retire[1] == "north-legal"
    confirmed = nora.client.post(
        action,
        data={
            "csrf_token": csrf_of(stale),
            "whole": "1",
            "retire": retire[1],
            "code": nora.next_code(),
        },
    )
    assert confirmed.status_code == 303
    assert service(console, "north-legal")["status"] == "retired"  # type: ignore[index]
    (entry,) = _audit(console, "service retired")
    # The entry says what changed, not every field of the service.
    assert entry["before"] == '{"status": "active"}' and entry["after"] == '{"status": "retired"}'


def test_upload_problems_about_a_rows_site_carry_its_line(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    content = (
        HEADER + FOOD + "south-housing,south,housing,Taken (example),Stay,617-555-0150,02139,\n"
    )
    html = text_of(upload(nora, "services.csv", content.encode()))
    assert "services.csv:3" in html and "cannot change" in html
    assert "services.csv:0" not in html and 'action="/console/upload/' not in html


def test_an_admins_preview_shows_only_real_changes(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    edit = nora.post("/console/services/north-legal/edit", _form(console, phone="617-555-0188"))
    nora.client.post(
        "/console/services/north-legal/edit",
        data={
            **_form(console, phone="617-555-0188"),
            "csrf_token": csrf_of(edit),
            "code": nora.next_code(),
        },
    )
    ada = signed(people, ADA)
    row = "north-legal,north,legal,North Legal Aid (example),Legal help,+16175550101,02139,"
    html = text_of(upload(ada, "services.csv", f"{HEADER}{row}Mo-Su 00:00-24:00\n".encode()))
    # The file gives the number in use while another waits: no change to show or to ask for.
    changed = html[html.index("<h2>") :]
    assert "1-617-555-0101" not in changed and "1-617-555-0188" not in changed
    assert 'name="code"' not in changed


def _form(app: Flask, **changes: str) -> dict[str, str]:
    row = service(app, "north-legal")
    assert row
    values = {k: "" if v is None else str(v) for k, v in row.items()}
    return {**values, "site": "north", **changes}


# --- Words that hold a number or an address wait too (issue 29) -------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name_en", "North Legal Aid - call 617-555-0199"),
        ("description_en", "Text HELP to 55123 for help"),
        ("label_es", "Vea ayuda.example.org"),
        ("address", "Ask at https://example.org/door"),
    ],
)
def test_words_holding_a_number_or_address_wait_for_a_second_person(
    console: Flask, people: dict[str, Staffer], field: str, value: str
) -> None:
    nora = signed(people, NORA)
    before = service(console, "north-legal")
    assert before
    asked = nora.post("/console/services/north-legal/edit", _form(console, **{field: value}))
    assert asked.status_code == 200 and 'name="code"' in asked.get_data(as_text=True)
    done = nora.client.post(
        "/console/services/north-legal/edit",
        data={
            **_form(console, **{field: value}),
            "csrf_token": csrf_of(asked),
            "code": nora.next_code(),
        },
    )
    assert done.status_code == 303
    assert service(console, "north-legal")[field] == before[field]  # type: ignore[index]
    with open_db(console) as db:
        (change,) = db.query("select * from pending_changes where status = 'waiting'")
    assert change["field"] == field and change["new"] == value
    ned = signed(people, NED)
    assert value in text_of(ned.client.get("/console/approvals"))
    assert ned.post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert service(console, "north-legal")[field] == value  # type: ignore[index]


def test_plain_words_change_at_once(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    done = nora.post("/console/services/north-legal/edit", _form(console, name_en="Plain Name"))
    assert done.status_code == 303
    assert service(console, "north-legal")["name_en"] == "Plain Name"  # type: ignore[index]


def test_an_upload_holding_a_number_in_a_name_waits(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    row = "north-legal,north,legal,Call 617-555-0199 (example),Legal help,617-555-0101,02139,"
    report = upload(nora, "services.csv", f"{HEADER}{row}Mo-Su 00:00-24:00\n".encode())
    assert 'name="code"' in report.get_data(as_text=True)
    applied = nora.client.post(
        apply_action(report), data={"csrf_token": csrf_of(report), "code": nora.next_code()}
    )
    assert applied.status_code == 303
    assert service(console, "north-legal")["name_en"] == "North Legal Aid (example)"  # type: ignore[index]


# --- The code that confirms a change is limited as sign-in is (issue 29) ---------------------


def test_wrong_confirmation_codes_are_counted_then_locked(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    form = _form(console, phone="617-555-0188")
    page = nora.post("/console/services/north-legal/edit", form)
    for _ in range(auth.ACCOUNT_LIMIT):
        page = nora.client.post(
            "/console/services/north-legal/edit",
            data={**form, "csrf_token": csrf_of(page), "code": "000000"},
        )
    right = nora.client.post(
        "/console/services/north-legal/edit",
        data={**form, "csrf_token": csrf_of(page), "code": nora.next_code()},
    )
    assert right.status_code == 200 and "Too many tries" in text_of(right)
    with open_db(console) as db:
        assert not list(db.query("select * from pending_changes"))
        failures = db.execute("select failures from staff where email = ?", [NORA]).fetchone()[0]
    assert failures == auth.ACCOUNT_LIMIT


# --- Shared services: one rule for links, the form, uploads and approvals ---------------------


def _share_with_south(app: Flask) -> None:
    with open_db(app) as db, db.conn:
        db.table("service_sites").insert({"service_id": "north-legal", "site_id": "south"})


def test_a_shared_service_offers_no_edit_link_where_editing_is_refused(
    console: Flask, people: dict[str, Staffer]
) -> None:
    _share_with_south(console)
    nora = signed(people, NORA)
    html = text_of(nora.client.get("/console/directory"))
    assert "/console/services/north-legal/edit" not in html
    assert "/console/services/north-legal/preview" in html
    assert "Shared with sites your account cannot change" in html
    assert nora.client.get("/console/services/north-legal/edit?site=north").status_code == 403
    ada = signed(people, ADA)
    assert "/console/services/north-legal/edit" in text_of(
        ada.client.get("/console/directory?site=north")
    )


def test_a_shared_services_change_is_decided_only_by_who_may_change_it(
    console: Flask, people: dict[str, Staffer]
) -> None:
    ada = signed(people, ADA)
    form = _form(console, phone="617-555-0188")
    asked = ada.post("/console/services/north-legal/edit", form)
    ada.client.post(
        "/console/services/north-legal/edit",
        data={**form, "csrf_token": csrf_of(asked), "code": ada.next_code()},
    )
    _share_with_south(console)
    with open_db(console) as db:
        (change,) = db.query("select id from pending_changes where status = 'waiting'")
    nora = signed(people, NORA)
    page = text_of(nora.client.get("/console/approvals"))
    assert f"/console/approvals/{change['id']}/approve" not in page
    assert nora.post(f"/console/approvals/{change['id']}/approve").status_code == 403


def test_an_admins_upload_says_when_a_change_reaches_other_sites(
    console: Flask, people: dict[str, Staffer]
) -> None:
    _share_with_south(console)
    ada = signed(people, ADA)
    row = "north-legal,north,housing,North Legal Aid (example),Legal help,617-555-0101,02139,"
    html = text_of(upload(ada, "services.csv", f"{HEADER}{row}Mo-Su 00:00-24:00\n".encode()))
    assert "north-legal is also shown at south: this change reaches them too." in html


def test_a_program_name_holding_a_number_waits_for_a_second_person(
    console: Flask, people: dict[str, Staffer]
) -> None:
    from tests.console.console_helpers import NORTH_NUMBER

    ada = signed(people, ADA)
    fields = {
        "site": "north",
        "name_en": "North Line - text 55123",
        "name_es": "Línea Norte",
        "default_language": "en",
        "time_zone": "America/New_York",
        "numbers": NORTH_NUMBER,
        "keywords": "",
        "exit_url": "",
        "zip": "",
        "latitude": "",
        "longitude": "",
    }
    saved = ada.post("/console/sites", fields, form_page="/console/sites?site=north")
    assert saved.status_code == 303
    with open_db(console) as db:
        names = dict(db.execute("select language, name from site_texts where site_id = 'north'"))
        (change,) = db.query("select * from pending_changes where status = 'waiting'")
    assert names == {"en": "North Health Line", "es": "Línea Norte"}
    assert change["service_id"] == "site:north" and change["new"] == "North Line - text 55123"
    nora = signed(people, NORA)
    assert nora.post(f"/console/approvals/{change['id']}/approve").status_code == 303
    with open_db(console) as db:
        name = db.execute(
            "select name from site_texts where site_id = 'north' and language = 'en'"
        ).fetchone()[0]
    assert name == "North Line - text 55123"


def test_plain_words_take_back_a_waiting_request_for_that_field(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    worded = _form(console, name_en="Call 617-555-0199")
    asked = nora.post("/console/services/north-legal/edit", worded)
    nora.client.post(
        "/console/services/north-legal/edit",
        data={**worded, "csrf_token": csrf_of(asked), "code": nora.next_code()},
    )
    plain = nora.post("/console/services/north-legal/edit", _form(console, name_en="Plain Name"))
    assert plain.status_code == 303
    with open_db(console) as db:
        statuses = [r["status"] for r in db.query("select status from pending_changes")]
    assert statuses == ["withdrawn"]
    assert service(console, "north-legal")["name_en"] == "Plain Name"  # type: ignore[index]


def test_saving_a_service_unchanged_is_audited_as_confirmed(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    assert nora.post("/console/services/north-legal/edit", _form(console)).status_code == 303
    (entry,) = _audit(console, "service changed")
    assert '"confirmed"' in entry["after"] and "phone" not in entry["after"]


def _ask(member: Staffer, app: Flask, **values: str) -> None:
    """Ask for a change that waits, confirming it with a fresh code."""
    form = _form(app, **values)
    asked = member.post("/console/services/north-legal/edit", form)
    done = member.client.post(
        "/console/services/north-legal/edit",
        data={**form, "csrf_token": csrf_of(asked), "code": member.next_code()},
    )
    assert done.status_code == 303


def test_a_form_showing_a_waiting_value_never_writes_it(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    _ask(nora, console, name_en="Call 617-555-0199", phone="617-555-0188")
    page = nora.client.get("/console/services/north-legal/edit?site=north")
    assert "Call 617-555-0199" in text_of(page)  # the form shows what waits
    shown = _form(console, name_en="Call 617-555-0199", phone="617-555-0188", city="Boston")
    assert nora.post("/console/services/north-legal/edit", shown).status_code == 303
    row = service(console, "north-legal")
    assert row and row["city"] == "Boston"
    assert row["name_en"] == "North Legal Aid (example)" and row["phone"] == "+16175550101"
    with open_db(console) as db:
        assert len(list(db.query("select id from pending_changes where status = 'waiting'"))) == 2


def test_an_upload_giving_a_waiting_number_never_writes_it(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    _ask(nora, console, phone="617-555-0188")
    row = "north-legal,north,legal,North Legal Aid (example),Other label,617-555-0188,02139,"
    report = upload(nora, "services.csv", f"{HEADER}{row}Mo-Su 00:00-24:00\n".encode())
    applied = nora.client.post(
        apply_action(report), data={"csrf_token": csrf_of(report), "code": nora.next_code()}
    )
    assert applied.status_code == 303
    stored = service(console, "north-legal")
    assert stored and stored["label_en"] == "Other label" and stored["phone"] == "+16175550101"
