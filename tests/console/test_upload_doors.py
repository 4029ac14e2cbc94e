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
from argon2 import PasswordHasher
from flask import Flask
from werkzeug.test import TestResponse

from hotline_bridge.console import auth
from hotline_bridge.directory.store import open_db, with_texts
from tests.console.console_helpers import Staffer, add_staff, csrf_of, seed

NORA, NED, SAM, ADA = (
    "nora@north.example",
    "ned@north.example",
    "sam@south.example",
    "ada@admin.example",
)
HEADER = "id,site,category,name_en,label_en,phone,zip,hours\n"
FOOD = "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139,\n"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash at argon2id's lightest cost: the cost is the library's business, not these tests'."""
    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


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
