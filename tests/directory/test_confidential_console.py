"""Marking a place confidential in the console: a staff write like any other, with its one-time
session, CSRF token and audit entry, and then no channel gives the address."""

from __future__ import annotations

import json

from flask import Flask

from hotline_bridge.directory.store import open_db
from tests.conftest import Texter
from tests.console.conftest import quick_hashes  # noqa: F401  (a fixture the console's tests use)
from tests.console.console_helpers import NORTH_NUMBER, Staffer
from tests.console.test_console import (  # noqa: F401  (fixtures)
    NORA,
    console,
    form_of,
    people,
    service,
    signed,
)

STREET = "12 Hidden Lane"


def _audit(app: Flask, target: str) -> list[dict[str, object]]:
    with open_db(app) as db:
        rows = db.query("select * from audit_log where target = ? order by id", [target])
        return [{**r, "after": json.loads(r["after"] or "{}")} for r in rows]


def test_the_service_form_marks_a_place_confidential_audited_and_csrf_protected(
    console: Flask,  # noqa: F811
    people: dict[str, Staffer],  # noqa: F811
) -> None:
    nora = signed(people, NORA)
    page = nora.client.get("/console/services/north-legal/edit?site=north")
    assert 'name="confidential" type="checkbox"' in page.get_data(as_text=True)
    form = form_of(console, "north-legal", address=STREET, confidential="yes", site="north")
    # Without the form's CSRF token nothing is written.
    refused = nora.client.post("/console/services/north-legal/edit", data=form)
    assert refused.status_code == 400
    assert (service(console, "north-legal") or {})["confidential"] == 0
    assert nora.post("/console/services/north-legal/edit", form).status_code == 303
    row = service(console, "north-legal")
    assert row is not None and row["confidential"] == 1 and row["address"] == STREET
    entries = [e for e in _audit(console, "north-legal") if "confidential" in e["after"]]  # type: ignore[operator]
    assert entries and entries[-1]["staff"] == NORA
    # The directory lists it as confidential; the line gives no street.
    listing = nora.client.get("/console/directory?site=north").get_data(as_text=True)
    assert "Confidential address" in listing
    texter = Texter(console.test_client(), to=NORTH_NUMBER)
    for body in ("hello", "2", "1"):
        texter.send(body)
    detail = texter.send("1")
    assert "North Legal Aid" in detail and STREET not in detail
    assert "Address given by phone" in detail
    # Unticking the box is a staff write too, and audited.
    form = form_of(console, "north-legal", confidential="", site="north")
    assert nora.post("/console/services/north-legal/edit", form).status_code == 303
    assert (service(console, "north-legal") or {})["confidential"] == 0
    last = [e for e in _audit(console, "north-legal") if "confidential" in e["after"]]  # type: ignore[operator]
    assert last[-1]["after"]["confidential"] == 0  # type: ignore[index]
