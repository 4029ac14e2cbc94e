"""The console's preview calls the voice line as a person would, choosing the language by the
key the site's own greeting gives it (a Spanish-speaking site offers Spanish first)."""

from __future__ import annotations

import pytest
from flask import Flask

from hotline_bridge.console import doors
from hotline_bridge.directory.models import get_service, get_site
from hotline_bridge.directory.store import open_db
from hotline_bridge.settings import PROJECT_ROOT
from tests.directory.test_import import run

DEMO = PROJECT_ROOT / "examples" / "demo"


@pytest.mark.parametrize("first", ["en", "es"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_voice_preview_is_read_in_the_language_asked_for(
    app: Flask, first: str, lang: str
) -> None:
    for name in ("sites.csv", "services.csv"):
        assert run(app, "import", str(DEMO / name)).exit_code == 0
    with open_db(app) as db:
        db["sites"].update("demo-clinic", {"default_language": first})
        site = get_site(db, "demo-clinic")
        service = get_service(db, "demo-legal-aid")
    assert site is not None and service is not None
    catalogs = app.extensions["hotline_bridge"].catalogs
    details = catalogs.text(lang, "option.details")
    seen = doors.voice_detail(
        app, app.extensions["hotline_bridge"].flow, site, service, lang, details
    )
    assert service.label(lang) in seen.text or service.name(lang) in seen.text, seen.text
