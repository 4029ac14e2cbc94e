"""Printing from the console (/console/print): who may print for which site, the preview, the
PDF (page size, wording in the chosen language, QR code), the audit entry of each download, and
a refusal explained in the reader's language. Every request goes through the console's real
forms, signed in with a password and a one-time code."""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Iterator
from html import unescape
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdf
import pytest
import time_machine
import zxingcpp
from flask import Flask
from PIL import Image

from hotline_bridge.console import store
from hotline_bridge.directory import national
from hotline_bridge.directory.store import open_db
from hotline_bridge.printing import KINDS, LANGS, POSTER_SIZES, preview
from hotline_bridge.runtime import Runtime
from hotline_bridge.settings import PROJECT_ROOT
from tests.console.console_helpers import NORTH_NUMBER, Staffer, add_staff, csrf_of, seed

NORA, SAM, ADA = "nora@north.example", "sam@south.example", "ada@admin.example"
SHOWN = "1-555-555-0111"
LETTER, TABLOID = (612, 792), (792, 1224)
# What each language's faces say to text the north site (it has no keyword of its own, so the
# card prints the greeting its number answers in that language).
TEXT_LINE = {"en": f"Text HI to {SHOWN}", "es": f"Envíe HOLA al {SHOWN}"}


@pytest.fixture
def console(make_app: Any) -> Flask:
    app: Flask = make_app()
    seed(app)
    add_staff(app, NORA, "--site", "north")
    add_staff(app, SAM, "--site", "south")
    add_staff(app, ADA, "--admin")
    return app


@pytest.fixture
def people(console: Flask, frozen_clock: time_machine.Traveller) -> Iterator[dict[str, Staffer]]:
    yield {email: Staffer(console, email, frozen_clock) for email in (NORA, SAM, ADA)}


def signed(people: dict[str, Staffer], email: str, lang: str = "en") -> Staffer:
    member = people[email]
    response = member.sign_in()
    assert response.status_code == 303, response.get_data(as_text=True)
    if lang != "en":
        member.post("/console/language", {"lang": lang, "next": "/console/print"})
    return member


def page_text(member: Staffer, query: str = "") -> str:
    response = member.client.get("/console/print" + query)
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def download(member: Staffer, **choice: str) -> Any:
    return member.post("/console/print", choice, form_page="/console/print")


def audit(app: Flask) -> list[dict[str, Any]]:
    with open_db(app) as db:
        return [e for e in store.audit_entries(db, None) if e["action"] == "printed"]


def pages_text(document: bytes) -> list[str]:
    reader = pypdf.PdfReader(BytesIO(document))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def page_sizes(document: bytes) -> set[tuple[int, int]]:
    reader = pypdf.PdfReader(BytesIO(document))
    return {(round(p.mediabox.width), round(p.mediabox.height)) for p in reader.pages}


def qr_codes(document: bytes, tmp_path: Path) -> list[str]:
    """Draw the first page with pdftoppm and return the text of every QR code on it."""
    source = tmp_path / "printed.pdf"
    source.write_bytes(document)
    root = tmp_path / "printed"
    subprocess.run(
        ["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-singlefile", "-png", source, root],
        check=True,
    )
    with Image.open(f"{root}.png") as image:
        found = zxingcpp.read_barcodes(image.convert("L"))
    return sorted(code.text for code in found if code.format == zxingcpp.BarcodeFormat.QRCode)


# --- Who may print -------------------------------------------------------------------------


def test_signed_out_gets_the_sign_in_page(console: Flask) -> None:
    client = console.test_client()
    response = client.get("/console/print?site=north&kind=wallet&lang=en")
    assert response.status_code in {302, 303}
    assert response.headers["Location"].endswith("/console/sign-in")
    token = csrf_of(client.get("/console/sign-in"))
    posted = client.post(
        "/console/print", data={"csrf_token": token, "site": "north", "kind": "wallet"}
    )
    assert posted.status_code == 401
    assert audit(console) == []


def test_the_print_page_is_in_the_navigation(people: dict[str, Staffer]) -> None:
    html = signed(people, NORA).client.get("/console/directory").get_data(as_text=True)
    assert re.search(r'<a href="/console/print">Print</a>', html)


def test_staff_choose_only_their_own_site_and_an_admin_any(people: dict[str, Staffer]) -> None:
    nora = page_text(signed(people, NORA))
    assert '<option value="north" selected>north</option>' in nora
    assert 'value="south"' not in nora
    ada = page_text(signed(people, ADA))
    assert 'value="north"' in ada and 'value="south"' in ada


def test_staff_cannot_print_for_another_site(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    assert nora.client.get("/console/print?site=south&kind=wallet&lang=en").status_code == 403
    refused = download(nora, site="south", kind="wallet", lang="en", size="letter")
    assert refused.status_code == 403
    assert refused.mimetype != "application/pdf"
    assert audit(console) == []


def test_a_download_needs_the_forms_csrf_token(console: Flask, people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    response = nora.client.post("/console/print", data={"site": "north", "kind": "wallet"})
    assert response.status_code == 400
    assert audit(console) == []


def test_a_choice_the_form_does_not_offer_is_refused(people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    assert nora.client.get("/console/print?site=north&kind=banner").status_code == 400
    assert nora.client.get("/console/print?site=north&kind=wallet&lang=fr").status_code == 400


# --- The preview and the PDF ---------------------------------------------------------------


def test_the_form_offers_every_kind_and_language(people: dict[str, Staffer]) -> None:
    html = page_text(signed(people, NORA))
    for kind in ("wallet", "sticker", "poster", "tabs"):
        assert f'name="kind" value="{kind}"' in html
    for lang in ("en", "es", "both"):
        assert f'name="lang" value="{lang}"' in html
    assert "<img" not in html  # nothing is drawn until a kind is chosen


def test_the_preview_is_a_picture_of_the_first_page_and_writes_nothing(
    console: Flask, people: dict[str, Staffer]
) -> None:
    html = page_text(signed(people, NORA), "?site=north&kind=sticker&lang=es")
    found = re.search(r'<img class="print-preview" src="data:image/png;base64,([^"]+)"', html)
    assert found, html
    with Image.open(BytesIO(base64.b64decode(found[1]))) as image:
        assert image.format == "PNG"
        assert image.height > image.width  # a Letter page, upright
    number = f'<span class="number">{SHOWN}</span>'  # never broken at its hyphens
    assert f"Checked just now (Spanish): texting HOLA to {number} opens this site's menu." in html
    assert "Download the PDF" in html
    assert audit(console) == []
    with open_db(console) as db:
        assert db.execute("select count(*) from counts").fetchone()[0] == 0


def test_without_pdftoppm_the_page_says_so_and_still_offers_the_pdf(
    people: dict[str, Staffer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preview.shutil, "which", lambda _name: None)
    html = page_text(signed(people, NORA), "?site=north&kind=poster&lang=en")
    assert "<img" not in html
    assert "This server cannot draw the preview (pdftoppm is missing)." in html
    assert "Download the PDF" in html


@pytest.mark.parametrize(("lang", "other"), [("en", "es"), ("es", "en")])
def test_a_download_is_a_pdf_in_the_chosen_language_and_is_audited(
    console: Flask, people: dict[str, Staffer], lang: str, other: str
) -> None:
    nora = signed(people, NORA)
    response = download(nora, site="north", kind="wallet", lang=lang, size="letter")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="north-wallet-{lang}.pdf"'
    document = response.get_data()
    assert document.startswith(b"%PDF")
    assert page_sizes(document) == {LETTER}
    front, _back = pages_text(document)
    assert front.count(TEXT_LINE[lang]) == 10
    assert TEXT_LINE[other] not in front
    (entry,) = audit(console)
    assert entry["staff"] == NORA
    assert entry["site"] == "north"
    assert entry["target"] == "wallet"
    assert entry["after"] == {"kind": "wallet", "language": lang, "pages": 2}


def test_a_poster_in_both_languages_is_tabloid_with_a_code_for_each(
    console: Flask, people: dict[str, Staffer], tmp_path: Path
) -> None:
    ada = signed(people, ADA)
    response = download(ada, site="north", kind="poster", lang="both", size="tabloid")
    assert response.status_code == 200
    document = response.get_data()
    assert page_sizes(document) == {TABLOID}
    (page,) = pages_text(document)
    assert TEXT_LINE["en"] in page and TEXT_LINE["es"] in page
    assert qr_codes(document, tmp_path) == [
        f"sms:{NORTH_NUMBER}?body=HI",
        f"sms:{NORTH_NUMBER}?body=HOLA",
    ]
    (entry,) = audit(console)
    assert (entry["staff"], entry["site"]) == (ADA, "north")
    assert entry["after"] == {"kind": "poster", "language": "both", "size": "tabloid", "pages": 1}


def test_the_audit_log_page_shows_the_print(people: dict[str, Staffer]) -> None:
    nora = signed(people, NORA)
    assert download(nora, site="north", kind="tabs", lang="en", size="letter").status_code == 200
    html = unescape(nora.client.get("/console/audit").get_data(as_text=True))
    assert re.search(r"printed: tabs <span class=\"quiet\">\(north\)</span>", html), html


# --- What the proof refuses, in the reader's language --------------------------------------


def _national(monkeypatch: pytest.MonkeyPatch, **changes: str) -> None:
    """Change the 24/7 line's row of the checked reference (its notes, its checked date)."""
    rows = []
    for line in national.lines():
        row = dict(line.row)
        if row["id"] == "nhth":
            row.update(changes)
        rows.append(national.NationalLine(row))
    monkeypatch.setattr(national, "lines", lambda: tuple(rows))


REFUSALS = {
    "flagged": (
        {"notes": "The operator changed: re-verify 1-888-373-7888 at the source"},
        {
            "en": [
                "Nothing can be printed yet",
                "Nothing was printed: the national line nhth (1-888-373-7888) is flagged",
                "Do not print or hand out this number until it is confirmed.",
            ],
            "es": [
                "Todavía no se puede imprimir nada",
                "No se imprimió nada: la línea nacional nhth (1-888-373-7888) está marcada",
                "No imprima ni entregue este número hasta que se confirme.",
            ],
        },
    ),
    "stale": (
        {"checked": "2026-01-02"},
        {
            "en": [
                "Nothing can be printed yet",
                "was last checked on 2026-01-02, more than 180 days ago",
                "Do not print this number until someone checks it again.",
            ],
            "es": [
                "Todavía no se puede imprimir nada",
                "se verificó por última vez el 2026-01-02, hace más de 180 días",
                "No imprima este número hasta que alguien lo vuelva a verificar.",
            ],
        },
    ),
}


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("why", REFUSALS)
def test_a_refused_print_is_explained_in_the_readers_language(
    console: Flask,
    people: dict[str, Staffer],
    monkeypatch: pytest.MonkeyPatch,
    why: str,
    lang: str,
) -> None:
    changes, said = REFUSALS[why]
    _national(monkeypatch, **changes)
    nora = signed(people, NORA, lang)
    html = page_text(nora, "?site=north&kind=wallet&lang=both")
    for words in said[lang]:
        assert words in html
    assert "<img" not in html
    assert "Download the PDF" not in html and "Descargar el PDF" not in html
    other = "es" if lang == "en" else "en"
    assert said[other][0] not in html
    refused = download(nora, site="north", kind="wallet", lang="both", size="letter")
    assert refused.status_code == 422
    assert said[lang][1] in unescape(refused.get_data(as_text=True))
    assert audit(console) == []


def test_every_choice_and_every_refusal_has_its_words_in_both_languages(console: Flask) -> None:
    runtime: Runtime = console.extensions["hotline_bridge"]
    catalogs = runtime.catalogs
    english = (PROJECT_ROOT / "locales/en/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    refusals = re.findall(r'^msgid "print\.refused\.(\w+)"', english, re.M)
    assert len(refusals) >= 9
    wanted = [f"console.print.todo.{reason}" for reason in refusals]
    wanted += [f"console.print.kind.{kind}" for kind in KINDS]
    wanted += [f"console.print.size.{size}" for size in POSTER_SIZES]
    wanted += [f"console.print.lang.{code}" for code in LANGS]
    assert [key for key in wanted if not catalogs.has(key)] == []
