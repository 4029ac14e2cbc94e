"""The clinic console: signing in, who may do what, number changes that wait for a second
person (a new service's too), the audit log, uploads, restoring a retired service, seeing a
service through the real doors, trying the line, the usage counts and the console's Spanish.
Every test goes through the console's real forms (with their CSRF tokens)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import time_machine
from babel.dates import format_date
from click.testing import CliRunner
from flask import Flask

from hotline_bridge.channels.sms.sessions import conversation_cookie
from hotline_bridge.checks import check_waiting_changes
from hotline_bridge.cli import main
from hotline_bridge.cli.staff import staff as staff_command
from hotline_bridge.console import auth, tools
from hotline_bridge.console.cookie import COOKIE_NAME
from hotline_bridge.console.services import import_context
from hotline_bridge.counters import totals
from hotline_bridge.directory.models import get_site
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import open_db, with_texts
from hotline_bridge.directory.validation import check_service
from hotline_bridge.runtime import runtime
from tests.conftest import FIXTURES, Texter, checked
from tests.console.console_helpers import (
    NORTH_NUMBER,
    PASSWORD,
    SOUTH_SERVICE,
    Staffer,
    add_staff,
    csrf_of,
    seed,
)

NORA, NED, SAM, ADA = (
    "nora@north.example",
    "ned@north.example",
    "sam@south.example",
    "ada@admin.example",
)


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
    assert response.status_code == 303 and response.headers["Location"].endswith("/directory")
    return member


def service(app: Flask, service_id: str) -> dict[str, Any] | None:
    with open_db(app) as db:
        rows = with_texts(db, list(db.query("select * from services where id = ?", [service_id])))
    return rows[0] if rows else None


def form_of(app: Flask, service_id: str, **changes: str) -> dict[str, str]:
    row = service(app, service_id)
    assert row
    values = {k: "" if v is None else str(v) for k, v in row.items()}
    return {**values, **changes}


def texted_detail(app: Flask, to: str = NORTH_NUMBER) -> str:
    """Text the line as a person would, down to the first legal service's detail."""
    texter = Texter(app.test_client(), to=to)
    for body in ("hello", "2", "1"):
        texter.send(body)
    return texter.send("1")


# --- Signing in ------------------------------------------------------------------------------


def test_sign_in_with_password_and_code_enrols_then_asks_for_the_code(
    people: dict[str, Staffer],
) -> None:
    nora = signed(people, NORA)
    assert nora.client.get("/console/directory").status_code == 200
    nora.post("/console/sign-out")
    assert nora.client.get("/console/directory").status_code == 302
    nora.clock.shift(30)
    again = nora.sign_in()
    assert again.status_code == 303 and again.headers["Location"].endswith("/directory")


def test_a_wrong_code_does_not_sign_in_and_a_code_is_used_once(
    people: dict[str, Staffer],
) -> None:
    nora = signed(people, NORA)
    nora.post("/console/sign-out")
    page = nora.client.get("/console/sign-in")
    nora.client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_of(page), "email": NORA, "password": PASSWORD},
    )
    page = nora.client.get("/console/code")
    replay = nora.client.post(
        "/console/code", data={"csrf_token": csrf_of(page), "code": nora.code()}
    )
    assert "That did not work" in replay.get_data(as_text=True)
    assert nora.client.get("/console/directory").status_code == 302


def test_the_password_alone_reaches_nothing(people: dict[str, Staffer]) -> None:
    nora = people[NORA]
    page = nora.client.get("/console/sign-in")
    nora.client.post(
        "/console/sign-in", data={"csrf_token": csrf_of(page), "email": NORA, "password": PASSWORD}
    )
    assert nora.client.get("/console/directory").status_code == 302


def test_the_password_is_stored_as_an_argon2_hash(console: Flask) -> None:
    with open_db(console) as db:
        stored = db.execute("select password_hash from staff where email = ?", [NORA]).fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def _fail(member: Staffer, times: int) -> None:
    for _ in range(times):
        page = member.client.get("/console/sign-in")
        member.client.post(
            "/console/sign-in",
            data={"csrf_token": csrf_of(page), "email": member.email, "password": "wrong"},
        )


def test_failed_sign_ins_are_limited_per_account(people: dict[str, Staffer]) -> None:
    nora = people[NORA]
    _fail(nora, auth.ACCOUNT_LIMIT)
    refused = nora.sign_in()
    assert refused.status_code == 429
    nora.clock.shift(auth.FAILURE_WINDOW.total_seconds() + 1)
    assert nora.sign_in().status_code == 303


def test_made_up_emails_from_one_address_do_not_lock_out_a_real_account(
    people: dict[str, Staffer],
) -> None:
    # Issue 29: a stranger behind the clinic's shared address cannot lock its staff out.
    for n in range(auth.ADDRESS_LIMIT):
        stranger = Staffer(people[NORA].app, f"nobody{n}@example.org", people[NORA].clock)
        _fail(stranger, 1)
    assert people[NED].sign_in().status_code == 303


def test_an_account_locks_after_repeated_failures(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = people[NORA]
    for _ in range(auth.LOCK_AFTER // auth.ACCOUNT_LIMIT):
        _fail(nora, auth.ACCOUNT_LIMIT)
        nora.clock.shift(auth.FAILURE_WINDOW.total_seconds() + 1)
    locked = nora.sign_in()
    assert "locked" in locked.get_data(as_text=True)
    result = console.test_cli_runner().invoke(staff_command, ["unlock", NORA])
    assert result.exit_code == 0
    assert nora.sign_in().status_code == 303


def test_the_session_ends_after_inactivity(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    nora.clock.shift(dt.timedelta(minutes=console.config["CONSOLE_IDLE_MINUTES"] - 1))
    assert nora.client.get("/console/directory").status_code == 200
    nora.clock.shift(dt.timedelta(minutes=console.config["CONSOLE_IDLE_MINUTES"] + 1))
    assert nora.client.get("/console/directory").status_code == 302


def test_disabling_an_account_ends_its_sessions(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    assert console.test_cli_runner().invoke(staff_command, ["disable", NORA]).exit_code == 0
    assert nora.client.get("/console/directory").status_code == 302


def test_staff_command_refuses_a_short_password_and_lists_accounts(console: Flask) -> None:
    runner = console.test_cli_runner()
    short = runner.invoke(
        staff_command, ["add", "x@north.example", "--site", "north"], input="short\n"
    )
    assert short.exit_code != 0
    listed = runner.invoke(staff_command, ["list"])
    assert NORA in listed.output and "site north" in listed.output and "admin" in listed.output
    assert CliRunner().invoke(main, ["staff", "--help"]).exit_code == 0


# --- Every page and action needs a session ----------------------------------------------------

OPEN = {"console.sign_in", "console.code", "console.enrol", "console.static", "console.language"}
# Opened by a one-time link instead of a session (tests/console/test_accounts.py).
OPEN |= {"console.setup"}


def _console_rules(app: Flask) -> list[tuple[str, str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint in OPEN:
            continue
        path = re.sub(
            r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m[0] else "north-legal", rule.rule
        )
        rules.extend((method, path, rule.endpoint) for method in rule.methods & {"GET", "POST"})
    return rules


def test_no_console_page_or_action_without_a_session(console: Flask) -> None:
    client = console.test_client()
    token = csrf_of(client.get("/console/sign-in"))
    rules = _console_rules(console)
    assert len(rules) >= 20
    for method, path, _endpoint in rules:
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].endswith("/console/sign-in"), path
        else:
            assert client.post(path, data={"csrf_token": token}).status_code == 401, path
    assert service(console, "north-legal") is not None


def test_a_form_without_a_valid_csrf_token_is_refused(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    for token in (None, "forged"):
        data = {"site": "north"} if token is None else {"site": "north", "csrf_token": token}
        response = nora.client.post("/console/services/north-legal/delete", data=data)
        assert response.status_code == 400
    assert service(console, "north-legal") is not None


# --- A site's staff cannot read or change another site ---------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/console/directory?site=south"),
        ("GET", "/console/services/south-housing/edit"),
        ("GET", "/console/services/south-housing/preview"),
        ("GET", "/console/services/new?site=south"),
        ("GET", "/console/upload?site=south"),
        ("GET", "/console/try?site=south"),
        ("GET", "/console/sites"),
        ("POST", "/console/services/south-housing/edit"),
        ("POST", "/console/services/south-housing/retire"),
        ("POST", "/console/services/south-housing/delete"),
        ("POST", "/console/services/new?site=south"),
        ("POST", "/console/sites"),
    ],
)
def test_site_staff_cannot_reach_another_site(
    console: Flask, people: dict[str, Staffer], method: str, path: str
) -> None:
    nora = signed(people, NORA)
    if method == "GET":
        response = nora.client.get(path)
    else:
        response = nora.post(path, form_of(console, "south-housing", phone="+16175550199"))
    assert response.status_code == 403
    assert service(console, "south-housing") == {
        **service(console, "south-housing"),
        "phone": SOUTH_SERVICE["phone"],
    }  # type: ignore[dict-item]
    with open_db(console) as db:
        assert (
            db.execute("select count(*) from service_sites where site_id = 'south'").fetchone()[0]
            == 1
        )


def test_an_admin_sees_every_site(people: dict[str, Staffer]) -> None:
    ada = signed(people, ADA)
    assert "south-housing" in ada.client.get("/console/directory?site=south").get_data(as_text=True)
    assert ada.client.get("/console/sites?site=south").status_code == 200


# --- Editing, with the same checks as an import ------------------------------------------------


def test_add_and_edit_a_service_reaches_a_signed_sms_reply(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    fields = {
        "site": "north",
        "id": "north-clinic",
        "category": "legal",
        "name_en": "Harbor Clinic (example)",
        "label_en": "Walk-in legal help",
        "phone": "617-555-0177",
        "hours": "Mo-Su 00:00-24:00",
    }
    confirm = nora.post("/console/services/new?site=north", fields)
    assert confirm.status_code == 200 and "1-617-555-0177" in confirm.get_data(as_text=True)
    added = nora.client.post(
        "/console/services/new?site=north",
        data={**fields, "csrf_token": csrf_of(confirm), "code": nora.next_code()},
    )
    assert added.status_code == 303
    (change,) = _waiting(console)
    assert signed(people, NED).post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert service(console, "north-clinic")["phone"] == "+16175550177"  # type: ignore[index]
    edited = nora.post(
        "/console/services/north-clinic/edit",
        form_of(console, "north-clinic", name_en="Harbor Legal Clinic (example)", site="north"),
    )
    assert edited.status_code == 303
    texter = Texter(console.test_client(), to=NORTH_NUMBER)
    for body in ("hello", "2", "1"):
        listing = texter.send(body)
    key = re.search(r"^(\d+) Walk-in legal help", listing, re.MULTILINE)
    assert key, listing
    assert "Harbor Legal Clinic (example)" in texter.send(key[1])


def test_a_bad_value_is_refused_with_the_error_next_to_its_field(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    response = nora.post(
        "/console/services/north-legal/edit",
        form_of(console, "north-legal", zip="ABCDE", hours="whenever", site="north"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        r'id="f-zip"[^>]*aria-invalid="true"[^>]*>\s*<span class="field-error" id="e-zip">', html
    )
    assert 'id="e-hours"' in html
    assert service(console, "north-legal")["zip"] == "02139"  # type: ignore[index]


def test_the_national_lines_are_read_only(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    assert nora.client.get("/console/services/nhth/edit").status_code == 403
    assert nora.post("/console/services/nhth/delete").status_code == 403
    assert service(console, "nhth") is not None


def test_retire_and_delete(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    assert nora.post("/console/services/north-legal/retire", {"site": "north"}).status_code == 303
    assert "North Legal Aid" not in texted_detail(console)
    assert service(console, "north-legal")["status"] == "retired"  # type: ignore[index]
    ada = signed(people, ADA)
    deleted = ada.post("/console/services/north-legal/delete", {"confirm": "yes"})
    assert deleted.status_code == 303
    assert service(console, "north-legal") is None


# --- A number change waits for a second person ------------------------------------------------

NEW_PHONE = "+16175550188"


def _ask_for_new_phone(console: Flask, member: Staffer, service_id: str, site: str) -> None:
    form = form_of(console, service_id, phone=NEW_PHONE, site=site)
    shown = member.post(f"/console/services/{service_id}/edit", form)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "1-617-555-0188" in html and 'class="old"' in html
    assert service(console, service_id)["phone"] != NEW_PHONE  # type: ignore[index]
    token = csrf_of(shown)
    done = member.client.post(
        f"/console/services/{service_id}/edit",
        data={**form, "csrf_token": token, "code": member.next_code()},
    )
    assert done.status_code == 303


def _waiting(console: Flask) -> list[dict[str, Any]]:
    with open_db(console) as db:
        return list(db.query("select * from pending_changes where status = 'waiting'"))


def test_a_number_change_is_served_only_after_another_person_approves(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    _ask_for_new_phone(console, nora, "north-legal", "north")
    assert "1-617-555-0101" in texted_detail(console)
    (change,) = _waiting(console)
    assert nora.post(f"/console/approvals/{change['id']}/approve").status_code == 403
    assert "1-617-555-0101" in texted_detail(console)
    sam = signed(people, SAM)
    assert sam.post(f"/console/approvals/{change['id']}/approve").status_code == 403
    ned = signed(people, NED)
    assert ned.post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert "1-617-555-0188" in texted_detail(console)
    assert not _waiting(console)


def test_a_number_change_needs_the_second_factor_again(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    form = form_of(console, "north-legal", phone=NEW_PHONE, site="north")
    shown = nora.post("/console/services/north-legal/edit", form)
    wrong = nora.client.post(
        "/console/services/north-legal/edit",
        data={**form, "csrf_token": csrf_of(shown), "code": "000000"},
    )
    assert wrong.status_code == 200 and "That code did not work" in wrong.get_data(as_text=True)
    assert not _waiting(console)


def test_a_single_staff_site_is_approved_by_an_admin(
    console: Flask, people: dict[str, Staffer]
) -> None:
    sam = signed(people, SAM)
    _ask_for_new_phone(console, sam, "south-housing", "south")
    (change,) = _waiting(console)
    ada = signed(people, ADA)
    assert change["id"] and f"/approvals/{change['id']}/approve" in ada.client.get(
        "/console/approvals"
    ).get_data(as_text=True)
    assert ada.post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert service(console, "south-housing")["phone"] == NEW_PHONE  # type: ignore[index]


def test_check_lists_what_waits_for_approval(
    console: Flask, people: dict[str, Staffer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _ask_for_new_phone(console, signed(people, NORA), "north-legal", "north")
    lines = "\n".join(checked(console, check_waiting_changes).lines)
    assert f"WAIT north/north-legal phone: +16175550101 -> {NEW_PHONE}, asked by {NORA}" in lines
    assert "console: 1 number change(s) wait for approval" in lines


# --- The audit log ---------------------------------------------------------------------------


def test_the_audit_log_records_each_change(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    nora.post(
        "/console/services/north-legal/edit",
        form_of(console, "north-legal", name_en="North Legal Clinic (example)", site="north"),
    )
    _ask_for_new_phone(console, nora, "north-legal", "north")
    with open_db(console) as db:
        entries = list(db.query("select * from audit_log where staff = ? order by id", [NORA]))
    actions = [e["action"] for e in entries]
    # The number alone changed the second time: its request is the entry, and no empty change.
    assert actions == ["sign-in", "service changed", "number change requested"]
    assert "North Legal Aid (example)" in entries[1]["before"]
    assert "North Legal Clinic (example)" in entries[1]["after"]
    page = nora.client.get("/console/audit").get_data(as_text=True)
    assert "number change requested: north-legal" in page and NEW_PHONE in page
    sam = signed(people, SAM)
    assert "north-legal" not in sam.client.get("/console/audit").get_data(as_text=True)


# --- Cookies that never mix ------------------------------------------------------------------


def test_the_console_cookie_is_its_own(console: Flask, people: dict[str, Staffer]) -> None:
    nora = people[NORA]
    page = nora.client.get("/console/sign-in")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/console"):
        assert attribute in cookie


def test_the_console_cookie_is_never_accepted_by_the_webhooks(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    value = nora.client.get_cookie(COOKIE_NAME, path="/console").value  # type: ignore[union-attr]
    texter = Texter(console.test_client(), to=NORTH_NUMBER)
    texter.client.set_cookie("s", value)
    first = texter.send("2")  # a conversation that was never started: not understood as a step
    assert "How can we help?" in first and "What do you need?" not in first


def test_the_sms_cookie_is_never_accepted_by_the_console(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    token = nora.client.get("/console/directory") and _session_token(console, nora)
    forged = conversation_cookie(console).signer.dumps({"sid": token})
    stranger = console.test_client()
    stranger.set_cookie(COOKIE_NAME, forged, path="/console")
    assert stranger.get("/console/directory").status_code == 302
    texter = Texter(console.test_client(), to=NORTH_NUMBER)
    texter.send("hello")
    sms_cookie = texter.client.get_cookie("s")
    assert sms_cookie is not None
    stranger.set_cookie(COOKIE_NAME, sms_cookie.value, path="/console")
    assert stranger.get("/console/directory").status_code == 302


def _session_token(console: Flask, member: Staffer) -> str:
    raw = member.client.get_cookie(COOKIE_NAME, path="/console")
    assert raw is not None
    data = console.session_interface.console.get_signing_serializer(console).loads(raw.value)  # type: ignore[attr-defined]
    return str(data["sid"])


def test_console_pages_send_strict_security_headers(people: dict[str, Staffer]) -> None:
    page = people[NORA].client.get("/console/sign-in")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"


def test_the_kiosk_never_links_to_the_console(console: Flask) -> None:
    client = console.test_client()
    for path in ("/kiosk", "/kiosk/north", "/kiosk/north/en", "/kiosk/north/es", "/welcome"):
        assert "/console" not in client.get(path).get_data(as_text=True), path


# --- Upload, preview, trying the line, usage --------------------------------------------------

HEADER = "id,site,category,name_en,label_en,phone,zip,hours\n"


def _upload(member: Staffer, name: str, content: bytes, *, lang: str | None = None) -> Any:
    """Upload *content* as *name* to the north site, read in *lang* when given."""
    if lang is not None:
        member.post("/console/language", {"lang": lang, "next": "/console/upload"})
    page = member.client.get("/console/upload")
    return member.client.post(
        "/console/upload",
        data={"csrf_token": csrf_of(page), "site": "north", "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_an_upload_with_a_bad_row_shows_the_line_and_writes_nothing(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    content = (
        HEADER
        + "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139,\n"
        + "north-bad,north,legal,Bad Row (example),Legal,not a number,02139,\n"
    ).encode()
    html = _upload(nora, "services.csv", content).get_data(as_text=True)
    assert "services.csv:3" in html and "not a phone number" in html
    assert "Added: 2" not in html and service(console, "north-food") is None


def test_an_upload_is_previewed_then_applied(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    content = (
        HEADER + "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139,\n"
    ).encode()
    report = _upload(nora, "services.csv", content)
    html = report.get_data(as_text=True)
    # A service the file leaves out is listed, and kept (see tests/console/test_upload_doors.py).
    assert "Added: 1" in html and "Not in the file: 1 (kept)" in html and "north-legal" in html
    assert service(console, "north-food") is None
    action = re.search(r'action="(/console/upload/[^"]+/apply)"', html)
    assert action
    applied = nora.client.post(
        action[1], data={"csrf_token": csrf_of(report), "code": nora.next_code()}
    )
    assert applied.status_code == 303
    assert service(console, "north-food")["status"] == "held"  # type: ignore[index]
    (change,) = _waiting(console)
    assert signed(people, NED).post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert service(console, "north-food")["phone"] == "+16175550150"  # type: ignore[index]
    assert service(console, "north-food")["status"] == "active"  # type: ignore[index]
    assert "North Legal Aid" in texted_detail(console)


@pytest.mark.parametrize(
    ("lang", "heading", "said"),
    [
        ("en", "1 warning(s)", "the name holds 'trafficking' and there is no label_en"),
        ("es", "1 advertencia(s)", "el nombre contiene 'trafficking' y no hay label_en"),
    ],
)
def test_an_upload_report_shows_warnings_in_the_readers_language_and_can_still_be_applied(
    console: Flask, people: dict[str, Staffer], lang: str, heading: str, said: str
) -> None:
    nora = signed(people, NORA)
    content = (
        HEADER
        + "north-legal2,north,legal,Anti-Trafficking Legal Project (example),,617-555-0150,02139,\n"
    ).encode()
    html = _upload(nora, "services.csv", content, lang=lang).get_data(as_text=True)
    html = unescape(html)
    assert heading in html and said in html and "services.csv:2" in html
    assert re.search(r'action="/console/upload/[^"]+/apply"', html)  # a warning stops nothing


@pytest.mark.parametrize(
    ("lang", "shown"),
    [
        ("en", [("Legal help", "Housing"), ("Retired", "Active")]),
        ("es", [("Ayuda legal", "Vivienda"), ("Retirado", "Activo")]),
    ],
)
def test_an_upload_report_shows_changed_values_as_staff_read_them(
    console: Flask, people: dict[str, Staffer], lang: str, shown: list[tuple[str, str]]
) -> None:
    nora = signed(people, NORA)
    nora.post("/console/services/north-legal/retire", {"site": "north"})
    row = "north-legal,north,housing,North Legal Aid (example),Legal help,617-555-0188,02139,"
    html = _upload(nora, "services.csv", f"{HEADER}{row}Mo-Su 00:00-24:00\n".encode(), lang=lang)
    pairs = re.findall(
        r'class="old">([^<]*)</td><td class="new">([^<]*)<', html.get_data(as_text=True)
    )
    kind, number, *_, status = pairs  # the kind of help, the number, ..., restored
    assert [kind, status] == shown
    assert number == ("1-617-555-0101", "1-617-555-0188")


def test_an_upload_cannot_touch_another_site(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    content = (
        HEADER + "south-housing,south,housing,Taken (example),Stay,617-555-0150,02139,\n"
    ).encode()
    html = _upload(nora, "services.csv", content).get_data(as_text=True)
    assert "cannot change" in html and "Apply" not in html


@pytest.mark.parametrize(
    ("lang", "preview", "warning", "link"),
    [
        (
            "en",
            "What applying it would do",
            "cannot be read (JSONDecodeError); tables were",
            "is not in organizations.csv, so the export leaves this link out",
        ),
        (
            "es",
            "Lo que haría",
            "no se puede leer (JSONDecodeError); las tablas se",
            "no está en organizations.csv, así que la exportación omite este enlace",
        ),
    ],
)
def test_an_hsds_package_can_be_uploaded_and_its_notes_are_warnings(
    console: Flask, people: dict[str, Staffer], lang: str, preview: str, warning: str, link: str
) -> None:
    package = FIXTURES / "hsds-3.0"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in package.iterdir():
            archive.write(path, f"hsds/{path.name}")
    nora = signed(people, NORA)
    html = unescape(
        _upload(nora, "package.zip", buffer.getvalue(), lang=lang).get_data(as_text=True)
    )
    assert preview in html
    # The package's own datapackage.json is broken: said apart from the problems.
    warnings = html[html.index('id="warnings"') :]
    assert "datapackage.json:1" in warnings and warning in warnings
    # A link to a row the package does not hold: named, with its line, in the reader's language.
    assert "locations.csv" in warnings and link in warnings


def test_see_a_service_as_people_will(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    before = _counts(console)
    html = nora.client.get("/console/services/north-legal/preview?site=north").get_data(
        as_text=True
    )
    assert html.count("North Legal Aid (example)") >= 3  # SMS detail, voice reading, kiosk card
    assert "Asistencia Legal Norte (ejemplo)" in html
    assert "GSM-7, 1 segment(s)" in html
    assert "1 6 1 7 5 5 5 0 1 0 1" in html  # the voice line reads the number digit by digit
    assert _counts(console) == before


def _counts(console: Flask) -> list[dict[str, object]]:
    with open_db(console) as db:
        return totals(db)


def test_try_the_line_by_text_and_by_call_is_not_counted(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    before = _counts(console)
    nora.post(
        "/console/try", {"do": "text", "body": "hello", "site": "north"}, form_page="/console/try"
    )
    nora.post(
        "/console/try", {"do": "text", "body": "2", "site": "north"}, form_page="/console/try"
    )
    page = nora.client.get("/console/try").get_data(as_text=True)
    assert "How can we help?" in page and "What do you need?" in page
    nora.post("/console/try", {"do": "call", "site": "north"}, form_page="/console/try")
    nora.post("/console/try", {"do": "key", "key": "1", "site": "north"}, form_page="/console/try")
    page = nora.client.get("/console/try").get_data(as_text=True)
    assert "For English, press 1" in page and "Talk to someone now, 24/7: press 1" in page
    assert _counts(console) == before


def test_what_staff_type_into_the_line_is_kept_nowhere_at_rest(
    console: Flask, people: dict[str, Staffer]
) -> None:
    typed = "zebra umbrella quartz"
    nora = signed(people, NORA)
    for body in ("hello", typed):
        form = {"do": "text", "body": body, "site": "north"}
        nora.post("/console/try", form, form_page="/console/try")
    assert typed in unescape(nora.client.get("/console/try").get_data(as_text=True))
    database = Path(console.config["DATABASE"])
    for path in database.parent.glob(database.name + "*"):  # the file, its WAL and shared memory
        assert typed.encode() not in path.read_bytes(), path.name
    with open_db(console) as db:
        assert "trial" not in db.table("console_sessions").columns_dict
    # The conversation rides in a cookie bound to this sign-in: another one starts afresh.
    kept = nora.client.get_cookie(tools.TRIAL_COOKIE, path="/console/try")
    assert kept is not None
    ned = signed(people, NED)
    ned.client.set_cookie(tools.TRIAL_COOKIE, kept.value, path="/console/try")
    assert typed not in unescape(ned.client.get("/console/try").get_data(as_text=True))


def test_usage_hides_small_counts_and_downloads_csv(
    console: Flask, people: dict[str, Staffer]
) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with open_db(console) as db, db.conn:
        db.table("counts").insert_all(
            [
                {"day": today, "channel": "sms", "language": "en", "event": "main", "n": 40},
                {"day": today, "channel": "voice", "language": "es", "event": "rare-step", "n": 2},
            ]
        )
    nora = signed(people, NORA)
    html = nora.client.get("/console/usage").get_data(as_text=True)
    assert "<svg" in html and ">40<" in html and "rare-step" not in html
    csv_text = nora.client.get("/console/usage.csv").get_data(as_text=True)
    assert f"{today},sms,en,main,40" in csv_text and "rare-step" not in csv_text


def test_an_admin_changes_site_settings_with_the_import_checks(
    console: Flask, people: dict[str, Staffer]
) -> None:
    ada = signed(people, ADA)
    fields = {
        "site": "north",
        "id": "north",
        "name_en": "North Community Line",
        "name_es": "Línea Norte",
        "default_language": "es",
        "time_zone": "America/Chicago",
        "numbers": NORTH_NUMBER,
        "keywords": "NORTE",
        "exit_url": "https://www.weather.gov",
        "exit_url_confirmed": "yes",  # another site: the clinic confirms it
        "zip": "",
        "latitude": "",
        "longitude": "",
    }
    bad = ada.post(
        "/console/sites",
        {**fields, "time_zone": "Mars/Olympus"},
        form_page="/console/sites?site=north",
    )
    assert bad.status_code == 422 and 'id="e-time_zone"' in bad.get_data(as_text=True)
    taken = ada.post(
        "/console/sites",
        {**fields, "numbers": "+15555550122"},
        form_page="/console/sites?site=north",
    )
    assert taken.status_code == 422 and "south" in taken.get_data(as_text=True)
    good = ada.post("/console/sites", fields, form_page="/console/sites?site=north")
    assert good.status_code == 303
    texter = Texter(console.test_client(), to=NORTH_NUMBER)
    assert "Línea Norte" in texter.send("hola")


def test_the_console_speaks_both_languages(people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    nora.post("/console/language", {"lang": "es", "next": "/console/directory"})
    html = nora.client.get("/console/directory").get_data(as_text=True)
    assert '<html lang="es">' in html and "Directorio" in html and "Agregar un servicio" in html


def test_a_change_names_only_a_site_that_shows_the_service(
    console: Flask, people: dict[str, Staffer]
) -> None:
    ada = signed(people, ADA)
    form = form_of(console, "north-legal", phone=NEW_PHONE, site="south")
    assert ada.post("/console/services/north-legal/edit", form).status_code == 403
    assert not _waiting(console)


def test_a_number_changed_by_upload_needs_the_code_and_waits_for_approval(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    content = (
        HEADER
        + "north-legal,north,legal,North Legal Aid (example),Legal help,617-555-0188,02139,"
        + "Mo-Su 00:00-24:00\n"
    ).encode()
    report = _upload(nora, "services.csv", content)
    html = report.get_data(as_text=True)
    assert "Changed: 1" in html and 'name="code"' in html
    action = re.search(r'action="(/console/upload/[^"]+/apply)"', html)
    assert action
    refused = nora.client.post(action[1], data={"csrf_token": csrf_of(report)})
    assert refused.status_code == 200 and not _waiting(console)
    applied = nora.client.post(
        action[1], data={"csrf_token": csrf_of(refused), "code": nora.next_code()}
    )
    assert applied.status_code == 303
    assert "1-617-555-0101" in texted_detail(console)
    (change,) = _waiting(console)
    assert change["new"] == NEW_PHONE and change["requested_by"] == NORA


# --- A new service's numbers wait for a second person too ------------------------------------

CLINIC = {
    "site": "north",
    "id": "north-clinic",
    "category": "legal",
    "name_en": "Harbor Clinic (example)",
    "label_en": "Walk-in legal help",
    "phone": "617-555-0177",
    "sms": "617-555-0178",
    "zip": "02139",
    "hours": "Mo-Su 00:00-24:00",
}


def _add_clinic(member: Staffer, **changes: str) -> None:
    """Add CLINIC through the form, confirming its numbers with a fresh code."""
    fields = {**CLINIC, **changes}
    shown = member.post("/console/services/new?site=north", fields)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "1-617-555-0177" in html and "new service" in html
    done = member.client.post(
        "/console/services/new?site=north",
        data={**fields, "csrf_token": csrf_of(shown), "code": member.next_code()},
    )
    assert done.status_code == 303


def offered(app: Flask, service_id: str) -> bool:
    """Return whether people are offered ``service_id`` anywhere: lists, details, nearest by
    ZIP (the one reader that SMS, voice, the kiosk and print proofs all go through)."""
    with open_db(app) as db:
        site = get_site(db, "north")
        assert site is not None
        directory = SiteDirectory(db, site, dt.datetime.now(dt.UTC))
        listed = [s.id for s in directory.services(["legal", "basic_needs"])]
        near = directory.nearest("02139", ["legal", "basic_needs"], "en", 10) or []
        return (
            service_id in listed
            or directory.service(service_id) is not None
            or any(n.service.id == service_id for n in near)
        )


def _sms_listing(app: Flask) -> str:
    texter = Texter(app.test_client(), to=NORTH_NUMBER)
    for body in ("hello", "2"):
        texter.send(body)
    return texter.send("1")


def test_a_new_service_is_not_served_before_another_person_approves_its_numbers(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    _add_clinic(nora)
    row = service(console, "north-clinic")
    assert row and row["status"] == "held" and row["phone"] is None and row["sms"] is None
    assert not offered(console, "north-clinic")
    assert "Walk-in legal help" not in _sms_listing(console)
    phone, sms = _waiting(console)
    assert (phone["field"], phone["old"], phone["new"]) == ("phone", None, "+16175550177")
    sam = signed(people, SAM)
    for change in (phone, sms):  # nobody approves their own, nor another site's
        assert nora.post(f"/console/approvals/{change['id']}/approve").status_code == 403
        assert sam.post(f"/console/approvals/{change['id']}/approve").status_code == 403
    assert not offered(console, "north-clinic")
    ned = signed(people, NED)
    assert "New service, not offered until approved" in ned.client.get(
        "/console/approvals"
    ).get_data(as_text=True)
    assert ned.post(f"/console/approvals/{phone['id']}/approve").status_code == 303
    assert not offered(console, "north-clinic")  # its text number still waits
    assert ned.post(f"/console/approvals/{sms['id']}/approve").status_code == 303
    assert offered(console, "north-clinic")
    assert "Walk-in legal help" in _sms_listing(console)


def test_a_new_service_needs_the_code_and_is_shown_as_waiting(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    shown = nora.post("/console/services/new?site=north", CLINIC)
    wrong = nora.client.post(
        "/console/services/new?site=north",
        data={**CLINIC, "csrf_token": csrf_of(shown), "code": "000000"},
    )
    assert wrong.status_code == 200 and "That code did not work" in wrong.get_data(as_text=True)
    assert service(console, "north-clinic") is None and not _waiting(console)
    _add_clinic(nora)
    html = nora.client.get("/console/directory").get_data(as_text=True)
    assert "Not offered yet: its numbers wait for approval" in html


def test_editing_a_held_service_keeps_it_held(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    _add_clinic(nora, sms="")
    page = nora.client.get("/console/services/north-clinic/edit")
    assert 'value="+16175550177"' in page.get_data(as_text=True)  # the number that waits
    form = form_of(console, "north-clinic", phone="+16175550177", site="north")
    edited = nora.client.post(
        "/console/services/north-clinic/edit",
        data={**form, "name_en": "Harbor Legal Clinic (example)", "csrf_token": csrf_of(page)},
    )
    assert edited.status_code == 303, edited.get_data(as_text=True)
    row = service(console, "north-clinic")
    assert row and row["status"] == "held" and row["name_en"] == "Harbor Legal Clinic (example)"
    assert len(_waiting(console)) == 1 and not offered(console, "north-clinic")


def test_a_new_service_whose_numbers_are_turned_down_stays_held(
    console: Flask, people: dict[str, Staffer]
) -> None:
    _add_clinic(signed(people, NORA), sms="")
    (change,) = _waiting(console)
    ada = signed(people, ADA)
    assert ada.post(f"/console/approvals/{change['id']}/reject").status_code == 303
    row = service(console, "north-clinic")
    assert row and row["status"] == "held" and row["phone"] is None
    assert not offered(console, "north-clinic")


def test_check_lists_a_held_new_service(
    console: Flask, people: dict[str, Staffer], monkeypatch: Any
) -> None:
    _add_clinic(signed(people, NORA), sms="")
    lines = "\n".join(checked(console, check_waiting_changes).lines)
    assert f"WAIT north/north-clinic phone: (none) -> +16175550177, asked by {NORA}" in lines
    assert "a new service, not offered until then" in lines


def test_the_audit_log_records_request_approval_and_rejection(
    console: Flask, people: dict[str, Staffer]
) -> None:
    _add_clinic(signed(people, NORA))
    phone, sms = _waiting(console)
    ned = signed(people, NED)
    ned.post(f"/console/approvals/{phone['id']}/approve")
    ned.post(f"/console/approvals/{sms['id']}/reject")
    with open_db(console) as db:
        entries = [
            (e["staff"], e["action"])
            for e in db.query("select * from audit_log where target = 'north-clinic' order by id")
        ]
    assert entries == [
        (NORA, "service added"),
        (NORA, "number change requested"),
        (NORA, "number change requested"),
        (NED, "number change approved"),
        (NED, "number change rejected"),
        (NED, "service offered"),
    ]
    assert offered(console, "north-clinic")
    assert service(console, "north-clinic")["sms"] is None  # type: ignore[index]


# --- Uploads -----------------------------------------------------------------------------------


def test_an_upload_that_adds_a_service_holds_its_numbers(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    content = (
        HEADER
        + "north-legal,north,legal,North Legal Aid (example),Legal help,617-555-0101,02139,"
        + "Mo-Su 00:00-24:00\n"
        + "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139,\n"
    ).encode()
    report = _upload(nora, "services.csv", content)
    html = report.get_data(as_text=True)
    assert "Added: 1" in html and "not offered them until a second person approves" in html
    assert 'name="code"' in html
    action = re.search(r'action="(/console/upload/[^"]+/apply)"', html)
    assert action
    refused = nora.client.post(action[1], data={"csrf_token": csrf_of(report)})
    assert refused.status_code == 200 and service(console, "north-food") is None
    applied = nora.client.post(
        action[1], data={"csrf_token": csrf_of(refused), "code": nora.next_code()}
    )
    assert applied.status_code == 303
    assert not offered(console, "north-food") and offered(console, "north-legal")
    (change,) = _waiting(console)
    assert nora.post(f"/console/approvals/{change['id']}/approve").status_code == 403
    assert signed(people, NED).post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert offered(console, "north-food")


# --- Restoring a retired service --------------------------------------------------------------


def test_a_retired_service_is_restored(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    assert nora.post("/console/services/north-legal/retire", {"site": "north"}).status_code == 303
    assert "North Legal Aid" not in texted_detail(console)
    html = nora.client.get("/console/directory").get_data(as_text=True)
    assert "Retired services" in html and "Restore north-legal" in html
    assert nora.post("/console/services/north-legal/restore", {"site": "north"}).status_code == 303
    assert "North Legal Aid" in texted_detail(console)
    with open_db(console) as db:
        (entry,) = db.query("select * from audit_log where action = 'service restored'")
    assert entry["staff"] == NORA and '"active"' in entry["after"]
    # An active service is not restored again.
    assert nora.post("/console/services/north-legal/restore", {"site": "north"}).status_code == 409


def test_restoring_is_authorised_and_csrf_protected(
    console: Flask, people: dict[str, Staffer]
) -> None:
    signed(people, NORA).post("/console/services/north-legal/retire", {"site": "north"})
    sam = signed(people, SAM)
    assert sam.post("/console/services/north-legal/restore", {"site": "north"}).status_code == 403
    nora = people[NORA]
    for data in ({"site": "north"}, {"site": "north", "csrf_token": "forged"}):
        refused = nora.client.post("/console/services/north-legal/restore", data=data)
        assert refused.status_code == 400
    assert service(console, "north-legal")["status"] == "retired"  # type: ignore[index]


def test_a_restored_service_whose_numbers_were_never_approved_is_held(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    _add_clinic(nora, sms="")
    nora.post("/console/services/north-clinic/retire", {"site": "north"})
    assert service(console, "north-clinic")["status"] == "retired"  # type: ignore[index]
    assert nora.post("/console/services/north-clinic/restore", {"site": "north"}).status_code == 303
    assert service(console, "north-clinic")["status"] == "held"  # type: ignore[index]
    assert not offered(console, "north-clinic")
    (change,) = _waiting(console)
    assert signed(people, NED).post(f"/console/approvals/{change['id']}/approve").status_code == 303
    assert offered(console, "north-clinic")


def test_services_restore_on_the_command_line(
    console: Flask, people: dict[str, Staffer], monkeypatch: Any
) -> None:
    _add_clinic(signed(people, NORA), sms="")
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", console.config["DATABASE"])
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")
    runner = CliRunner()
    for service_id in ("north-legal", "north-clinic"):
        assert runner.invoke(main, ["services", "retire", service_id]).exit_code == 0
    restored = runner.invoke(main, ["services", "restore", "north-legal"])
    assert restored.exit_code == 0 and "restored: north-legal" in restored.output
    held = runner.invoke(main, ["services", "restore", "north-clinic"])
    assert held.exit_code == 0 and "held for approval: north-clinic" in held.output
    again = runner.invoke(main, ["services", "restore", "north-legal"])
    assert again.exit_code != 0 and "not retired" in again.output
    assert offered(console, "north-legal") and not offered(console, "north-clinic")
    with open_db(console) as db:
        sql = "select staff from audit_log where action = 'service restored'"
        actions = [row["staff"] for row in db.query(sql)]
    # Named with who ran the command (the system user, without --as).
    assert len(actions) == 2 and all(a.startswith("command line (") for a in actions)


# --- The console's own language ---------------------------------------------------------------


def _in_spanish_console(member: Staffer) -> None:
    member.post("/console/language", {"lang": "es", "next": "/console/directory"})


def test_a_spanish_console_upload_gives_the_reason_in_spanish(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    _in_spanish_console(nora)
    content = (
        HEADER
        + "north-bad,north,legal,Bad Row (example),Legal,not a number,02139,\n"
        + "north-zip,north,legal,Bad Zip (example),Legal,,ABCDE,\n"
        + "north-hours,north,legal,Bad Hours (example),Legal,,02139,Mo-Fr 9-17\n"
    ).encode()
    html = _upload(nora, "services.csv", content).get_data(as_text=True)
    html = html.replace("&#39;", "'")
    assert "services.csv:2" in html and "'not a number' no es un número de teléfono" in html
    assert "services.csv:3" in html and "'ABCDE' no es un código postal de cinco dígitos" in html
    assert "horario ilegible 'Mo-Fr 9-17': '9' en 'Mo-Fr 9-17' no es una hora como 09:00" in html
    assert "is not a phone number" not in html


def test_the_spanish_audit_page_names_actions_in_spanish(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    _add_clinic(nora, sms="")
    _in_spanish_console(nora)
    html = nora.client.get("/console/audit").get_data(as_text=True)
    assert "servicio agregado: north-clinic" in html
    assert "cambio de número solicitado: north-clinic" in html
    assert "number change requested" not in html


def test_every_import_reason_reads_the_same_in_the_english_catalog(console: Flask) -> None:
    """The command line prints a reason's English; the console, its catalog entry: the two
    must say the same, or the English console would drift from the command line."""
    raw = {
        "id": "bad id!",
        "category": "nothing",
        "name_en": "",
        "phone": "555",
        "sms": "+44 20 7946 0958",
        "state": "Mass",
        "zip": "1",
        "latitude": "x",
        "longitude": "500",
        "hours": "whenever",
        "languages": "english",
        "url": "ftp://x",
        "fictional": "maybe",
        "status": "open",
        "site": "nowhere",
        "label_en": "x" * 30,
        "label_es": "Ayuda",
    }
    with console.app_context():
        catalogs = runtime().catalogs
        _row, _links, problems = check_service(raw, _context(console))
        _row, _links, more = check_service({**raw, "description_en": "\x01"}, _context(console))
    reasons = [p.reason for p in problems + more]
    for text in ("Mo-Fr", "Mo-Fr 9-17", "Mo-Fr 09:00-09:00", "Mo 25:00-26:00", "", "Mo-Fr 1"):
        _row, _links, bad_hours = check_service({**raw, "hours": text}, _context(console))
        reasons += [p.reason.values["reason"] for p in bad_hours if p.field == "hours"]
    assert len(reasons) >= 18
    for reason in reasons:
        assert isinstance(reason, Reason), reason
        assert catalogs.text("en", reason.key, **reason.values) == str(reason)
        assert catalogs.text("es", reason.key, **reason.values) != str(reason)


def _context(app: Flask) -> Any:
    with open_db(app) as db, app.test_request_context():
        return import_context(db)


def test_an_upload_that_lists_a_retired_service_again_restores_it(
    console: Flask, people: dict[str, Staffer]
) -> None:
    nora = signed(people, NORA)
    nora.post("/console/services/north-legal/retire", {"site": "north"})
    row = "north-legal,north,legal,North Legal Aid (example),Legal help,617-555-0101,02139,"
    report = _upload(nora, "services.csv", f"{HEADER}{row}Mo-Su 00:00-24:00\n".encode())
    html = report.get_data(as_text=True)
    assert "Changed: 1" in html and "Status" in html and 'name="code"' not in html
    action = re.search(r'action="(/console/upload/[^"]+/apply)"', html)
    assert action
    assert nora.client.post(action[1], data={"csrf_token": csrf_of(report)}).status_code == 303
    assert offered(console, "north-legal")


# --- Defects found by the audit ----------------------------------------------------------------

LATIN_ROW = "north-pena,north,legal,Peña Legal (example),Legal,617-555-0150,02139,\n"
# Excel's "CSV" on Windows: Windows-1252, with its typographic dash (0x96).
EXCEL_ROW = LATIN_ROW.replace("Legal (", "Legal \u2013 (")


def _zipped(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("services.csv", (HEADER + LATIN_ROW).encode("latin-1")),
        ("services.csv", (HEADER + EXCEL_ROW).encode("cp1252")),
        ("services.csv", (HEADER + LATIN_ROW).encode("utf-16")),
        ("package.zip", _zipped("hsds/services.csv", (HEADER + LATIN_ROW).encode("latin-1"))),
    ],
    ids=["latin-1", "windows-1252", "utf-16", "zipped-latin-1"],
)
@pytest.mark.parametrize(
    ("lang", "said", "where", "preview"),
    [
        ("en", "not UTF-8; save it as CSV UTF-8", "the whole file", "What applying it would do"),
        ("es", "no está en UTF-8; guárdelo como CSV UTF-8", "todo el archivo", "Lo que haría"),
    ],
    ids=["en", "es"],
)
def test_an_upload_that_is_not_utf8_is_reported_in_the_readers_language_and_stores_nothing(
    console: Flask,
    people: dict[str, Staffer],
    name: str,
    content: bytes,
    lang: str,
    said: str,
    where: str,
    preview: str,
) -> None:
    nora = signed(people, NORA)
    response = _upload(nora, name, content, lang=lang)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and said in html and f'scope="row">{where}<' in html
    # An unreadable file would not retire the site's services: no preview says it would.
    assert preview not in html and "north-legal" not in html
    assert "/apply" not in html and service(console, "north-pena") is None
    with open_db(console) as db:
        assert not list(db.query("select id from uploads"))


def _site_row(app: Flask, site_id: str) -> dict[str, Any]:
    with open_db(app) as db:
        rows = with_texts(db, list(db.query("select * from sites where id = ?", [site_id])))
    return rows[0]


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Another site already has this id; choose another one."),
        ("es", "Otro sitio ya tiene este identificador; elija otro."),
    ],
    ids=["en", "es"],
)
def test_a_new_site_with_a_taken_id_is_refused_and_changes_nothing(
    console: Flask, people: dict[str, Staffer], lang: str, said: str
) -> None:
    ada = signed(people, ADA)
    ada.post("/console/language", {"lang": lang, "next": "/console/sites"})
    before = _site_row(console, "north")
    fields = {
        "id": "north",
        "name_en": "Someone Else's Line",
        "default_language": "en",
        "time_zone": "America/Denver",
        "zip": "80202",
    }
    refused = ada.post("/console/sites?site=", fields, form_page="/console/sites")
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert re.search(r'id="f-id"[^>]*aria-invalid="true"', html) and said in html
    assert _site_row(console, "north") == before
    # Nor can an edit of one site be turned into an overwrite of another.
    edit = {**fields, "site": "south"}
    ada.post("/console/sites", edit, form_page="/console/sites?site=south")
    assert _site_row(console, "north") == before
    texter = Texter(console.test_client(), to=NORTH_NUMBER)
    assert "North Health Line" in texter.send("help")
    added = ada.post("/console/sites?site=", {**fields, "id": "west"}, form_page="/console/sites")
    assert added.status_code == 303
    assert _site_row(console, "west")["time_zone"] == "America/Denver"


NORTH_SITE_FORM = {
    "site": "north",
    "name_en": "North Health Line",
    "default_language": "en",
    "time_zone": "America/New_York",
    "numbers": NORTH_NUMBER,
}


@pytest.mark.parametrize(
    "word",
    ["STOP", "help", "Parar", "AYUDA", "START", "MENU", "Menú", "DELETE", "BORRAR", "ES", "EN"],
    ids=lambda word: word.encode("ascii", "replace").decode(),
)
def test_a_site_keyword_the_line_already_answers_is_refused(
    console: Flask, people: dict[str, Staffer], word: str
) -> None:
    ada = signed(people, ADA)
    before = _site_row(console, "north")
    form = {**NORTH_SITE_FORM, "keywords": f"NORTE, {word}"}
    refused = ada.post("/console/sites", form, form_page="/console/sites?site=north")
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    error = re.search(r'<span class="field-error" id="e-keywords">([^<]*)<', html)
    assert error and f"'{word.upper()}'" in error[1], html
    assert _site_row(console, "north") == before
    # A greeting is not the line's own word: clinics print one on their cards.
    kept = {**NORTH_SITE_FORM, "keywords": "WELLNESS, SALUD"}
    assert (
        ada.post("/console/sites", kept, form_page="/console/sites?site=north").status_code == 303
    )


def test_a_reserved_site_keyword_is_said_in_spanish_and_refused_by_the_csv_import(
    console: Flask, people: dict[str, Staffer], tmp_path: Any
) -> None:
    ada = signed(people, ADA)
    _in_spanish_console(ada)
    form = {**NORTH_SITE_FORM, "keywords": "STOP, AYUDA"}
    html = unescape(
        ada.post("/console/sites", form, form_page="/console/sites?site=north").get_data(
            as_text=True
        )
    )
    assert "la propia línea responde a 'STOP', 'AYUDA'" in html
    path = tmp_path / "sites.csv"
    path.write_text("id,time_zone,keywords\nwest,America/Denver,WEST;HELP\n", encoding="utf-8")
    result = console.test_cli_runner().invoke(main, ["import", str(path)])
    assert result.exit_code == 1 and "sites.csv:2: keywords: " in result.output
    assert "'HELP'" in result.output
    with open_db(console) as db:
        assert not list(db.query("select id from sites where id = 'west'"))


def _deleted(console: Flask) -> list[str]:
    with open_db(console) as db:
        sql = "select target from audit_log where action = 'service deleted'"
        return [row["target"] for row in db.query(sql)]


@pytest.mark.parametrize(
    ("lang", "asked", "button"),
    [
        ("en", "Delete north-legal for good?", "Delete it for good"),
        ("es", "¿Eliminar north-legal para siempre?", "Eliminarlo para siempre"),
    ],
    ids=["en", "es"],
)
def test_delete_asks_for_confirmation_first(
    console: Flask, people: dict[str, Staffer], lang: str, asked: str, button: str
) -> None:
    with open_db(console) as db, db.conn:  # shown at a second site too: both links go
        db.table("service_sites").insert({"service_id": "north-legal", "site_id": "south"})
    ada = signed(people, ADA)
    ada.post("/console/language", {"lang": lang, "next": "/console/directory"})
    listing = ada.client.get("/console/directory?site=north").get_data(as_text=True)
    # The directory's Delete leads to the question; it is no form that deletes at once.
    assert 'href="/console/services/north-legal/delete?site=north"' in listing
    assert 'action="/console/services/north-legal/delete"' not in listing
    page = ada.client.get("/console/services/north-legal/delete?site=north")
    html = unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and asked in html and button in html
    assert "<li>north</li>" in html and "<li>south</li>" in html
    assert 'name="csrf_token"' in html and 'name="confirm" value="yes"' in html
    # A post without the confirmation (an old page, a stray click) only asks again.
    again = ada.post("/console/services/north-legal/delete", {"site": "north"})
    assert again.status_code == 200 and asked in unescape(again.get_data(as_text=True))
    assert service(console, "north-legal") is not None and not _deleted(console)
    done = ada.post("/console/services/north-legal/delete", {"site": "north", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"].endswith("?site=north")
    assert service(console, "north-legal") is None and _deleted(console) == ["north-legal"]
    with open_db(console) as db:
        assert not list(db.query("select 1 from service_sites where service_id = 'north-legal'"))


def test_the_delete_question_is_only_for_who_may_delete(
    console: Flask, people: dict[str, Staffer]
) -> None:
    sam = signed(people, SAM)
    assert sam.client.get("/console/services/north-legal/delete").status_code == 403
    assert sam.client.get("/console/services/nhth/delete").status_code == 403
    refused = sam.client.post(
        "/console/services/south-housing/delete", data={"site": "south", "confirm": "yes"}
    )
    assert refused.status_code == 400  # no CSRF token
    assert service(console, "south-housing") is not None


def _row_headers(html: str) -> list[str]:
    return [unescape(cell) for cell in re.findall(r'<th scope="row">([^<]*)</th>', html)]


@pytest.mark.parametrize(
    ("lang", "shown"),
    [
        (
            "en",
            [
                *("Text messages (SMS)", "Calls", "Kiosk", "English", "Spanish", "Not known yet"),
                *("Nearby, by ZIP code", "Legal help", "Quick exit", "Call started"),
                *("Twilio status: delivered", "Call to the line: no answer"),
                "Twilio status: other",
            ],
        ),
        (
            "es",
            [
                *("Mensajes de texto (SMS)", "Llamadas", "Quiosco", "inglés", "español"),
                *("Aún sin saber", "Cerca, por código postal", "Ayuda legal", "Salida rápida"),
                "Llamada iniciada",
                *("Estado en Twilio: entregado", "Llamada a la línea: sin respuesta"),
                "Estado en Twilio: otro",
            ],
        ),
    ],
    ids=["en", "es"],
)
def test_usage_names_channels_languages_and_steps_in_the_readers_language(
    console: Flask, people: dict[str, Staffer], lang: str, shown: list[str]
) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    counts = [
        ("sms", "en", "step:nearby"),
        ("sms", "es", "step:legal"),
        ("kiosk", "es", "exit"),
        ("voice", "unknown", "call"),
        ("sms", "all", "status:delivered"),
        ("sms", "all", "status:other"),
        ("voice", "all", "dial:no-answer"),
    ]
    with open_db(console) as db, db.conn:
        db.table("counts").insert_all(
            {"day": today, "channel": c, "language": lang_, "event": e, "n": 40}
            for c, lang_, e in counts
        )
    nora = signed(people, NORA)
    nora.post("/console/language", {"lang": lang, "next": "/console/usage"})
    html = nora.client.get("/console/usage").get_data(as_text=True)
    headers = _row_headers(html)
    assert set(shown) <= set(headers), headers
    raw = {"sms", "voice", "kiosk", "en", "es", "unknown", "step:nearby", "step:legal", "exit"}
    assert not raw & set(headers), headers
    legends = re.findall(r'<span class="key s\d+"></span>([^<]*)</li>', html)
    assert legends and not raw & set(legends), legends
    # Dates on the charts are written the reader's way; the form's fields keep ISO dates.
    day = format_date(dt.date.fromisoformat(today), "medium", locale=lang)
    assert day != today and f"\N{EN DASH} {day})" in unescape(html)
    assert f'value="{today}"' in html
    # The CSV download keeps the stored keys: it is read by programs, not people.
    csv_text = nora.client.get("/console/usage.csv").get_data(as_text=True)
    assert f"{today},sms,en,step:nearby,40" in csv_text


@pytest.mark.parametrize(
    ("lang", "labels", "when"),
    [
        ("en", ["Phone", "Address"], r"[A-Z][a-z]{2} \d{1,2}, 2026, \d{1,2}:\d{2}\s[AP]M"),
        ("es", ["Teléfono", "Dirección"], r"\d{1,2} [a-z]{3,4}\.? 2026, \d{1,2}:\d{2}"),
    ],
    ids=["en", "es"],
)
def test_audit_fields_and_approval_times_are_in_the_readers_language(
    console: Flask, people: dict[str, Staffer], lang: str, labels: list[str], when: str
) -> None:
    nora = signed(people, NORA)
    nora.post(
        "/console/services/north-legal/edit",
        form_of(console, "north-legal", address="1 Main Street", site="north"),
    )
    _ask_for_new_phone(console, nora, "north-legal", "north")
    nora.post("/console/language", {"lang": lang, "next": "/console/audit"})
    audit = unescape(nora.client.get("/console/audit").get_data(as_text=True))
    fields = re.findall(r"<dt>([^<]*)</dt>", audit)
    assert set(labels) <= set(fields), fields
    assert "phone" not in fields and "address" not in fields
    approvals = unescape(nora.client.get("/console/approvals").get_data(as_text=True))
    asked = re.search(r'<time datetime="([^"]+)">([^<]*)</time>', approvals)
    assert asked and re.fullmatch(when, asked[2]), asked
    assert "T" not in asked[2] and dt.datetime.fromisoformat(asked[1])


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "the program name makes the main menu, the first text message reply, longer than"),
        ("es", "el nombre del programa hace que el menú principal, la primera respuesta"),
    ],
    ids=["en", "es"],
)
def test_a_program_name_that_makes_the_main_menu_three_segments_is_refused_by_the_site_form(
    console: Flask, people: dict[str, Staffer], lang: str, said: str
) -> None:
    ada = signed(people, ADA)
    ada.post("/console/language", {"lang": lang, "next": "/console/sites"})
    before = _site_row(console, "north")
    # An accented letter sends English as UCS-2: 45 characters leave the menu no room.
    form = {**NORTH_SITE_FORM, "name_en": "Clínica de la Comunidad Riverside Health Line"}
    refused = ada.post("/console/sites", form, form_page="/console/sites?site=north")
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    error = re.search(r'<span class="field-error" id="e-name_en">([^<]*)<', html)
    assert error and said in error[1] and " en;" in error[1], html
    assert _site_row(console, "north") == before
