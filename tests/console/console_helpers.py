"""Helpers for the console's tests: a seeded directory, accounts made with the real command, and
a staff member who signs in with a password and a one-time code through the real forms."""

from __future__ import annotations

import json
import re
from typing import Any

import pyotp
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hotline_bridge.cli.staff import staff
from hotline_bridge.directory.store import open_db, write_services, write_sites

PASSWORD = "correct horse battery staple"
NORTH_NUMBER = "+15555550111"
SOUTH_NUMBER = "+15555550122"

NORTH_SERVICE = {
    "id": "north-legal",
    "category": "legal",
    "label_en": "Legal help",
    "label_es": "Ayuda legal",
    "name_en": "North Legal Aid (example)",
    "name_es": "Asistencia Legal Norte (ejemplo)",
    "phone": "+16175550101",
    "hours": "Mo-Su 00:00-24:00",
    "city": "Cambridge",
    "state": "MA",
    "zip": "02139",
    "latitude": 42.36,
    "longitude": -71.1,
    "fictional": 1,
}
SOUTH_SERVICE = {
    **NORTH_SERVICE,
    "id": "south-housing",
    "category": "housing",
    "label_en": "A place to stay",
    "label_es": "Un lugar para quedarse",
    "name_en": "South Shelter (example)",
    "name_es": "Refugio Sur (ejemplo)",
    "phone": "+16175550102",
}


def seed(app: Flask) -> None:
    """Two sites, each with one service and its own Twilio number."""
    with open_db(app) as db, db.conn:
        for site, number in (("north", NORTH_NUMBER), ("south", SOUTH_NUMBER)):
            site_row = {
                "id": site,
                "name_en": f"{site.title()} Health Line",
                "time_zone": "America/New_York",
                "numbers": json.dumps([number]),
                "fictional": 1,
            }
            write_sites(db, [site_row])
        for site, service in (("north", NORTH_SERVICE), ("south", SOUTH_SERVICE)):
            write_services(db, [{**service, "national": 0, "source": "test"}])
            db.table("service_sites").insert({"service_id": service["id"], "site_id": site})


def add_staff(app: Flask, email: str, *where: str, password: str = PASSWORD) -> None:
    """Create an account with ``hotline-bridge staff add`` (password on standard input)."""
    runner = app.test_cli_runner()
    result = runner.invoke(staff, ["add", email, *where], input=password + "\n")
    assert result.exit_code == 0, result.output


def csrf_of(response: TestResponse) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found, "page has no CSRF token"
    return found[1]


class Staffer:
    """One staff member in one browser (a test client with its own cookies)."""

    def __init__(self, app: Flask, email: str, clock: time_machine.Traveller) -> None:
        self.app, self.email, self.clock = app, email, clock
        self.client: FlaskClient = app.test_client()
        self.secret: str | None = None

    def code(self) -> str:
        assert self.secret
        return pyotp.TOTP(self.secret).now()

    def next_code(self) -> str:
        """Wait for the next 30-second step (a code is accepted once) and return its code."""
        self.clock.shift(30)
        return self.code()

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        """POST a console form with the CSRF token of the page at ``path`` (or the directory)."""
        page = self.client.get(kwargs.pop("form_page", "/console/directory"))
        token = csrf_of(page)
        return self.client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)

    def sign_in(self, password: str = PASSWORD) -> TestResponse:
        """Sign in with password and one-time code (enrolling on first sign-in)."""
        page = self.client.get("/console/sign-in")
        response = self.client.post(
            "/console/sign-in",
            data={"csrf_token": csrf_of(page), "email": self.email, "password": password},
        )
        if response.status_code != 303:
            return response
        where = response.headers["Location"]
        page = self.client.get(where)
        if where.endswith("/enrol"):
            found = re.search(
                r'<code class="secret">([A-Z2-7]+)</code>', page.get_data(as_text=True)
            )
            assert found
            self.secret = found[1]
        return self.client.post(where, data={"csrf_token": csrf_of(page), "code": self.code()})
