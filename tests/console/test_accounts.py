"""Accounts without a shell (issue 23, item 5) and the sign-in hardening of issue 29: the first
admin from a one-time link, colleagues, second-factor resets, disabling and enabling, one's own
password, the password rules, and sign-in limits by account and by address."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from werkzeug.test import TestResponse

from hotline_bridge.cli.staff import staff as staff_command
from hotline_bridge.console import auth, links
from hotline_bridge.directory.store import connect, open_db, write_sites
from tests.console.console_helpers import PASSWORD, Staffer, add_staff, csrf_of, seed

ADA, NORA, NED = "ada@admin.example", "nora@north.example", "ned@north.example"
NEW_PASSWORD = "plum kettle orbit lantern"


@pytest.fixture
def console(make_app: Any) -> Flask:
    app: Flask = make_app()
    seed(app)
    return app


def first_link(app: Flask) -> str:
    """Return the path of the first admin's link, as ``serve`` makes it."""
    with open_db(app) as db:
        token = links.first_admin_link(db, dt.datetime.now(dt.UTC))
    assert token
    return links.PATH + token


def enrol(member: Staffer, response: TestResponse) -> TestResponse:
    """Follow a redirect to the enrolment page and confirm the code it shows."""
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/console/enrol")
    page = member.client.get("/console/enrol")
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.get_data(as_text=True))
    assert found
    member.secret = found[1]
    return member.client.post(
        "/console/enrol", data={"csrf_token": csrf_of(page), "code": member.code()}
    )


def set_up(member: Staffer, path: str, **fields: str) -> TestResponse:
    page = member.client.get(path)
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page), "password": PASSWORD, "again": PASSWORD, **fields}
    return member.client.post(path, data=data)


@pytest.fixture
def ada(console: Flask, frozen_clock: time_machine.Traveller) -> Staffer:
    """The first admin, set up from the link and signed in."""
    member = Staffer(console, ADA, frozen_clock)
    done = enrol(member, set_up(member, first_link(console), email=ADA))
    assert done.headers["Location"].endswith("/console/directory")
    return member


def invite(ada: Staffer, email: str, **fields: str) -> str:
    """Add an account in the console; return the path of its one-time link."""
    page = ada.client.get("/console/accounts")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page), "email": email, "role": "site", "site": "north"}
    response = ada.client.post("/console/accounts", data={**data, **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    found = re.search(r'id="link" class="link" value="([^"]+)"', response.get_data(as_text=True))
    assert found
    return "/console/" + unescape(found[1]).split("/console/", 1)[1]


@pytest.fixture
def nora(ada: Staffer, console: Flask, frozen_clock: time_machine.Traveller) -> Staffer:
    """A colleague added by the admin, who set her password from her link and enrolled."""
    member = Staffer(console, NORA, frozen_clock)
    done = enrol(member, set_up(member, invite(ada, NORA)))
    assert done.headers["Location"].endswith("/console/directory")
    return member


def audit(app: Flask) -> list[tuple[str, str, str]]:
    with open_db(app) as db:
        return [tuple(row) for row in db.execute("select staff, action, target from audit_log")]


def account(app: Flask, email: str) -> dict[str, Any]:
    with open_db(app) as db:
        return next(db.query("select * from staff where email = ?", [email]))


# --- The first admin ---


def test_the_first_admin_is_set_up_from_the_link_once(console: Flask, ada: Staffer) -> None:
    assert ada.client.get("/console/accounts").status_code == 200
    assert (ADA, "first admin set up", ADA) in audit(console)
    assert account(console, ADA)["admin"] == 1 and account(console, ADA)["totp_confirmed"] == 1
    # The same link, or any first-admin link, works no more once an account exists.
    with open_db(console) as db:
        assert links.first_admin_link(db, dt.datetime.now(dt.UTC)) is None
        stored = [row[0] for row in db.execute("select token_hash from setup_links")]
    stranger = console.test_client()
    for path in ("/console/setup/anything", "/console/setup/" + stored[0]):
        assert stranger.get(path).status_code == 404


def test_the_first_admins_link_works_once(
    console: Flask, frozen_clock: time_machine.Traveller
) -> None:
    path = first_link(console)
    token = path.rsplit("/", 1)[1]
    with open_db(console) as db:
        assert token not in str(list(db.query("select * from setup_links")))  # a hash only
    first = Staffer(console, ADA, frozen_clock)
    assert set_up(first, path, email=ADA).status_code == 303
    second = Staffer(console, "eve@example.org", frozen_clock)
    assert second.client.get(path).status_code == 404


def test_the_first_admins_link_expires(
    console: Flask, frozen_clock: time_machine.Traveller
) -> None:
    path = first_link(console)
    frozen_clock.shift(links.FIRST_ADMIN_VALID + dt.timedelta(seconds=1))
    assert console.test_client().get(path).status_code == 404


def test_a_new_link_ends_the_earlier_one(console: Flask) -> None:
    earlier, later = first_link(console), first_link(console)
    client = console.test_client()
    assert client.get(earlier).status_code == 404
    assert client.get(later).status_code == 200


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("password1234", "common passwords"),
        ("Password-1234", "common passwords"),
        ("short", "at least 12"),
        ("ada@admin.example 2026", "email"),
        ("ADA admin example", "email"),
    ],
)
def test_the_setup_refuses_a_weak_password(
    console: Flask, frozen_clock: time_machine.Traveller, password: str, says: str
) -> None:
    member = Staffer(console, ADA, frozen_clock)
    path = first_link(console)
    page = member.client.get(path)
    data = {"csrf_token": csrf_of(page), "email": ADA, "password": password, "again": password}
    refused = member.client.post(path, data=data)
    assert refused.status_code == 422 and says in refused.get_data(as_text=True)
    assert member.client.get(path).status_code == 200  # a refusal does not use up the link


# --- An admin's changes need a fresh code ---


def test_account_and_site_pages_ask_for_a_fresh_code(console: Flask, ada: Staffer) -> None:
    ada.clock.shift(auth.REAUTH_WINDOW + dt.timedelta(seconds=1))
    for path in ("/console/accounts", "/console/sites"):
        asked = ada.client.get(path)
        assert asked.status_code == 303 and "/console/verify" in asked.headers["Location"]
    page = ada.client.get("/console/accounts")
    form = ada.client.get(page.headers["Location"])
    posted = ada.client.post(
        "/console/verify",
        data={"csrf_token": csrf_of(form), "next": "/console/accounts", "code": "000000"},
    )
    assert "That code did not work" in posted.get_data(as_text=True)
    back = ada.client.post(
        "/console/verify",
        data={"csrf_token": csrf_of(form), "next": "/console/accounts", "code": ada.next_code()},
    )
    assert back.headers["Location"] == "/console/accounts"
    assert ada.client.get("/console/accounts").status_code == 200


def test_wrong_codes_on_the_confirm_page_are_limited(console: Flask, ada: Staffer) -> None:
    ada.clock.shift(auth.REAUTH_WINDOW + dt.timedelta(seconds=1))
    form = ada.client.get("/console/verify?next=/console/accounts")
    data = {"csrf_token": csrf_of(form), "next": "/console/accounts", "code": "000000"}
    answers = [ada.client.post("/console/verify", data=data) for _ in range(auth.ACCOUNT_LIMIT)]
    assert all(answer.status_code == 200 for answer in answers)
    right = ada.client.post("/console/verify", data={**data, "code": ada.next_code()})
    assert right.status_code == 429
    assert ada.client.get("/console/accounts").status_code == 303


def test_a_stale_code_refuses_an_account_change(
    console: Flask, ada: Staffer, nora: Staffer
) -> None:
    page = ada.client.get("/console/accounts")
    ada.clock.shift(auth.REAUTH_WINDOW + dt.timedelta(seconds=1))
    nora_id = account(console, NORA)["id"]
    refused = ada.client.post(
        f"/console/accounts/{nora_id}/disable", data={"csrf_token": csrf_of(page)}
    )
    assert refused.status_code == 303 and "/console/verify" in refused.headers["Location"]
    assert account(console, NORA)["disabled"] == 0


def test_an_admin_adds_a_site_with_its_keyword_and_number(console: Flask, ada: Staffer) -> None:
    page = ada.client.get("/console/sites")
    fields = {
        "csrf_token": csrf_of(page),
        "id": "harbor",
        "name_en": "Harbor Health Line",
        "name_es": "Línea de Salud Harbor",
        "default_language": "en",
        "time_zone": "America/New_York",
        "numbers": "+15555550133",
        "keywords": "HARBOR",
    }
    assert ada.client.post("/console/sites", data=fields).status_code == 303
    with open_db(console) as db:
        row = next(db.query("select numbers, keywords from sites where id = 'harbor'"))
    assert "+15555550133" in row["numbers"] and "HARBOR" in row["keywords"]
    assert (ADA, "site added", "harbor") in audit(console)


# --- Colleagues ---


def test_a_colleague_sets_their_own_password_from_their_link(console: Flask, nora: Staffer) -> None:
    assert (ADA, "account added", NORA) in audit(console)
    assert (NORA, "password set", NORA) in audit(console)
    assert account(console, NORA)["site"] == "north" and account(console, NORA)["admin"] == 0
    assert nora.client.get("/console/accounts").status_code == 403


def test_a_colleagues_account_cannot_sign_in_before_its_password_is_set(
    console: Flask, ada: Staffer, frozen_clock: time_machine.Traveller
) -> None:
    invite(ada, NED)
    listed = console.test_cli_runner().invoke(staff_command, ["list"]).output
    assert re.search(r"ned@north\.example .* invited", listed)
    waiting = Staffer(console, NED, frozen_clock)
    assert "That did not work" in waiting.sign_in(password="").get_data(as_text=True)
    assert "Password not set yet" in ada.client.get("/console/accounts").get_data(as_text=True)


def test_adding_an_account_checks_email_role_and_site(console: Flask, ada: Staffer) -> None:
    page = ada.client.get("/console/accounts")
    token = csrf_of(page)
    for fields, says in (
        ({"email": "not an email", "role": "site", "site": "north"}, "Type an email address"),
        ({"email": ADA, "role": "admin"}, "already has an account"),
        ({"email": "x@north.example", "role": "site", "site": "nowhere"}, "Choose the site"),
    ):
        refused = ada.client.post("/console/accounts", data={"csrf_token": token, **fields})
        assert refused.status_code == 422 and says in refused.get_data(as_text=True)
    with open_db(console) as db:
        assert db.execute("select count(*) from staff").fetchone()[0] == 1


def test_resetting_a_second_factor_ends_sessions_and_asks_to_enrol_again(
    console: Flask, ada: Staffer, nora: Staffer
) -> None:
    page = ada.client.get("/console/accounts")
    nora_id = account(console, NORA)["id"]
    done = ada.client.post(
        f"/console/accounts/{nora_id}/reset-factor", data={"csrf_token": csrf_of(page)}
    )
    assert done.status_code == 303
    assert nora.client.get("/console/directory").status_code == 302  # her session ended
    assert (ADA, "second factor reset", NORA) in audit(console)
    old_secret = nora.secret
    again = nora.sign_in()
    assert again.headers["Location"].endswith("/console/directory")
    assert nora.secret != old_secret  # a new secret was enrolled


def test_an_admin_cannot_reset_or_disable_themselves(console: Flask, ada: Staffer) -> None:
    page = ada.client.get("/console/accounts")
    mine = account(console, ADA)["id"]
    for action in ("reset-factor", "disable"):
        refused = ada.client.post(
            f"/console/accounts/{mine}/{action}", data={"csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403


def test_site_staff_cannot_change_accounts(console: Flask, ada: Staffer, nora: Staffer) -> None:
    page = nora.client.get("/console/directory")
    ada_id = account(console, ADA)["id"]
    for action in ("reset-factor", "disable", "enable", "link"):
        refused = nora.client.post(
            f"/console/accounts/{ada_id}/{action}", data={"csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403, action
    assert account(console, ADA)["totp_confirmed"] == 1


def test_disable_and_enable_again(console: Flask, ada: Staffer, nora: Staffer) -> None:
    page = ada.client.get("/console/accounts")
    nora_id = account(console, NORA)["id"]
    ada.client.post(f"/console/accounts/{nora_id}/disable", data={"csrf_token": csrf_of(page)})
    assert nora.client.get("/console/directory").status_code == 302
    right = nora.sign_in()
    wrong = nora.sign_in(password="not her password at all")
    # A disabled account answers as a wrong password does: nothing confirms a guess.
    assert right.status_code == wrong.status_code == 200
    assert right.get_data() == wrong.get_data() or _same_message(right, wrong)
    ada.client.post(f"/console/accounts/{nora_id}/enable", data={"csrf_token": csrf_of(page)})
    nora.clock.shift(30)  # a code is accepted once
    assert nora.sign_in().headers["Location"].endswith("/console/directory")
    actions = [entry[1] for entry in audit(console) if entry[2] == NORA]
    assert "account disabled" in actions and "account enabled" in actions


def _same_message(a: TestResponse, b: TestResponse) -> bool:
    found = [re.search(r'role="alert">([^<]+)<', r.get_data(as_text=True)) for r in (a, b)]
    return all(found) and found[0][1] == found[1][1]  # type: ignore[index]


def test_a_new_link_lets_a_colleague_choose_a_new_password(
    console: Flask, ada: Staffer, nora: Staffer
) -> None:
    page = ada.client.get("/console/accounts")
    nora_id = account(console, NORA)["id"]
    made = ada.client.post(f"/console/accounts/{nora_id}/link", data={"csrf_token": csrf_of(page)})
    found = re.search(r'id="link" class="link" value="([^"]+)"', made.get_data(as_text=True))
    assert found
    path = "/console/" + unescape(found[1]).split("/console/", 1)[1]
    page = nora.client.get(path)
    data = {"csrf_token": csrf_of(page), "password": NEW_PASSWORD, "again": NEW_PASSWORD}
    kept = nora.client.post(path, data=data)
    assert kept.headers["Location"].endswith("/console/code")  # her second factor stays
    nora.clock.shift(30)
    assert nora.sign_in(password=NEW_PASSWORD).headers["Location"].endswith("/directory")


# --- One's own password ---


def test_everyone_changes_their_own_password(console: Flask, ada: Staffer, nora: Staffer) -> None:
    other = Staffer(console, NORA, nora.clock)
    other.secret = nora.secret
    nora.clock.shift(30)
    assert other.sign_in().headers["Location"].endswith("/directory")  # a second browser
    page = nora.client.get("/console/password")
    token = csrf_of(page)

    def change(current: str, new: str, again: str | None = None) -> TestResponse:
        data = {"csrf_token": token, "current": current, "password": new, "again": again or new}
        return nora.client.post("/console/password", data=data)

    assert "not your current password" in change("wrong one", NEW_PASSWORD).get_data(as_text=True)
    assert "common passwords" in change(PASSWORD, "password1234").get_data(as_text=True)
    assert "must not contain your email" in change(PASSWORD, "nora north 2026 x").get_data(
        as_text=True
    )
    assert "not the same" in change(PASSWORD, NEW_PASSWORD, "typo").get_data(as_text=True)
    assert change(PASSWORD, NEW_PASSWORD).status_code == 303
    assert nora.client.get("/console/directory").status_code == 200  # this session goes on
    assert other.client.get("/console/directory").status_code == 302  # the other ended
    assert (NORA, "password changed", NORA) in audit(console)
    assert "That did not work" in other.sign_in().get_data(as_text=True)
    nora.clock.shift(30)
    assert other.sign_in(password=NEW_PASSWORD).headers["Location"].endswith("/directory")


# --- Sign-in limits ---


def _fail(member: Staffer, times: int) -> TestResponse:
    response = None
    for _ in range(times):
        page = member.client.get("/console/sign-in")
        response = member.client.post(
            "/console/sign-in",
            data={"csrf_token": csrf_of(page), "email": member.email, "password": "wrong"},
        )
    assert response is not None
    return response


@pytest.fixture
def many(console: Flask, frozen_clock: time_machine.Traveller) -> list[Staffer]:
    emails = [f"staff{n}@north.example" for n in range(6)]
    for email in emails:
        add_staff(console, email, "--site", "north")
    return [Staffer(console, email, frozen_clock) for email in emails]


def test_failures_on_real_accounts_from_one_address_are_limited(many: list[Staffer]) -> None:
    per_account = auth.ACCOUNT_LIMIT - 1
    for member in many[: auth.ADDRESS_LIMIT // per_account]:
        _fail(member, per_account)
    assert many[-1].sign_in().status_code == 429
    many[-1].clock.shift(auth.FAILURE_WINDOW.total_seconds() + 1)
    assert many[-1].sign_in().status_code == 303


def test_a_locked_account_does_not_say_whether_the_password_is_right(
    console: Flask, many: list[Staffer]
) -> None:
    member = many[0]
    with open_db(console) as db, db.conn:
        db.execute("update staff set locked = 1 where email = ?", [member.email])
    right, wrong = member.sign_in(), _fail(member, 1)
    assert right.status_code == wrong.status_code == 200
    assert _same_message(right, wrong)


def test_guesses_sent_together_do_not_pass_the_limit(console: Flask) -> None:
    """Twelve workers count a guess at the same instant: exactly the limit get through."""
    now = dt.datetime.now(dt.UTC)
    key = auth.account_key(NORA)
    start = threading.Barrier(12)
    passed: list[bool] = []

    def guess() -> None:
        db = connect(console.config["DATABASE"])
        try:
            start.wait()
            passed.append(auth.reserve(db, {key: auth.ACCOUNT_LIMIT}, [key], now) is not None)
        finally:
            db.close()

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert passed.count(True) == auth.ACCOUNT_LIMIT


def test_a_line_break_in_the_language_forms_next_leads_to_the_console(console: Flask) -> None:
    client = console.test_client()
    token = csrf_of(client.get("/console/sign-in"))
    for target in ("/console/directory\r\nSet-Cookie: x=1", "https://elsewhere.example/", "//x"):
        answer = client.post(
            "/console/language", data={"csrf_token": token, "lang": "es", "next": target}
        )
        assert answer.status_code == 303
        assert answer.headers["Location"] == "/console/directory"
        assert "x=1" not in str(answer.headers)


# --- The command line ---


def test_the_command_line_resets_a_factor_and_enables_an_account(
    console: Flask, nora: Staffer
) -> None:
    runner = console.test_cli_runner()
    assert runner.invoke(staff_command, ["reset-factor", NORA]).exit_code == 0
    assert account(console, NORA)["totp_secret"] is None
    assert nora.client.get("/console/directory").status_code == 302
    assert runner.invoke(staff_command, ["disable", NORA]).exit_code == 0
    assert runner.invoke(staff_command, ["enable", NORA]).exit_code == 0
    assert account(console, NORA)["disabled"] == 0
    entries = audit(console)
    assert ("command line", "second factor reset", NORA) in entries
    assert ("command line", "account enabled", NORA) in entries
    with open_db(console) as db:
        after = db.execute("select after from audit_log where action = 'second factor reset'")
        assert "totp_secret" not in after.fetchone()[0]


# --- The front page and the kiosk ---


def test_the_front_page_points_to_the_kiosk_and_the_console_in_both_languages(
    console: Flask,
) -> None:
    page = console.test_client().get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="/kiosk"' in text and 'href="/console/sign-in"' in text
    assert 'lang="en"' in text and 'lang="es"' in text
    assert "Staff sign-in" in text and "Acceso del personal" in text
    for word in ("trafficking", "trata", "abuse", "abuso", "violence", "police", "victim"):
        assert word not in text.lower()


@pytest.fixture
def one_clinic(make_app: Any, tmp_path: Path) -> Iterator[Flask]:
    app: Flask = make_app(DATABASE=str(tmp_path / "one-clinic.db"))
    with open_db(app) as db, db.conn:
        site = {"id": "harbor", "name_en": "Harbor Health Line", "time_zone": "America/New_York"}
        write_sites(db, [site])
    yield app


def test_the_kiosk_opens_the_only_clinic(one_clinic: Flask, console: Flask) -> None:
    only = one_clinic.test_client().get("/kiosk").get_data(as_text=True)
    assert "/kiosk/harbor/" in only
    two = console.test_client().get("/kiosk").get_data(as_text=True)  # north and south
    assert "/kiosk/default/" in two
