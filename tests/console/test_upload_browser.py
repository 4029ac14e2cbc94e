"""An upload in real headless Chromium (Debian's, through Playwright): a file that leaves a
service out keeps it, unless staff say the file is the whole directory, see by name what that
retires and confirm; each page passes axe-core, in English and Spanish."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
import time_machine
from playwright.sync_api import Page, expect

from tests.console.test_console_browser import (  # noqa: F401  (fixtures)
    NORA,
    no_violations,
    page,
    server,
    shot,
    sign_in,
)

WORDS = {
    "en": {
        "file": "File",
        "check": "Check the file",
        "whole": re.compile("^This file is our whole directory"),
        "code": "6-digit code",
        "apply": "Apply",
        "asked": "Retire 1 service(s)?",
        "retire": "Retire these 1 and apply",
        "retired": "Retired services",
        "language": None,
    },
    "es": {
        "file": "Archivo",
        "check": "Revisar el archivo",
        "whole": re.compile("^Este archivo es todo nuestro directorio"),
        "code": "Código de 6 dígitos",
        "apply": "Aplicar",
        "asked": "¿Retirar 1 servicio(s)?",
        "retire": "Retirar estos 1 y aplicar",
        "retired": "Servicios retirados",
        "language": "Español",
    },
}


def _preview_of_a_file_leaving_one_out(
    page: Page,  # noqa: F811
    tmp_path: Path,
    w: dict[str, object],
) -> dict[str, str]:
    """Sign in as Nora (in the language of ``w``) and check a file that leaves out one of
    her site's services; return the one-time-code secrets."""
    secrets: dict[str, str] = {}
    sign_in(page, NORA, secrets)
    if w["language"]:
        page.get_by_role("button", name=str(w["language"])).click()
    upload = tmp_path / "services.csv"
    upload.write_text(
        "id,site,category,name_en,label_en,phone,zip\n"
        "north-food,north,basic_needs,Food Pantry (example),Food,617-555-0150,02139\n",
        encoding="utf-8",
    )
    page.goto("/console/upload")
    page.get_by_label(str(w["file"]), exact=True).set_input_files(str(upload))
    # The report is measured as it is drawn: wait until it and its stylesheet have loaded.
    with page.expect_navigation():
        page.get_by_role("button", name=str(w["check"])).click()
    return secrets


def test_the_whole_directory_box_sits_beside_its_words(
    page: Page,  # noqa: F811
    tmp_path: Path,
) -> None:
    # The box was once stretched as wide as a text field, far from the words it answers.
    _preview_of_a_file_leaving_one_out(page, tmp_path, WORDS["en"])
    box = page.get_by_label(WORDS["en"]["whole"]).bounding_box()
    words = page.locator("label[for=whole]").bounding_box()
    assert box is not None and words is not None
    assert box["width"] < 40
    assert 0 <= words["x"] - (box["x"] + box["width"]) < 24


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_whole_directory_upload_names_what_it_retires_before_it_does(
    page: Page,  # noqa: F811
    frozen_clock: time_machine.Traveller,
    tmp_path: Path,
    lang: str,
) -> None:
    w = WORDS[lang]
    secrets = _preview_of_a_file_leaving_one_out(page, tmp_path, w)
    page.get_by_label(w["whole"]).check()
    frozen_clock.shift(30)
    page.get_by_label(str(w["code"])).fill(pyotp.TOTP(secrets[NORA]).now())
    page.get_by_role("button", name=str(w["apply"]), exact=True).click()
    expect(page.get_by_role("heading", name=str(w["asked"]))).to_be_visible()
    expect(page.locator("ul.retiring")).to_contain_text("North Legal Aid (example)")
    no_violations(page)
    shot(page, f"upload-confirm-retire-{lang}")
    frozen_clock.shift(30)
    form = page.locator("#confirm-retire form").first
    form.get_by_label(str(w["code"])).fill(pyotp.TOTP(secrets[NORA]).now())
    form.get_by_role("button", name=str(w["retire"])).click()
    retired = page.get_by_role("table", name=str(w["retired"]))
    expect(retired).to_contain_text("North Legal Aid (example)")
