"""Printing from the console in real headless Chromium (Debian's, through Playwright): a staff
member opens the print page from the navigation, chooses a kind and a language, sees the preview
picture load, downloads the PDF and finds the download in the audit log, in English and in
Spanish. axe-core checks the page with its preview and with a refusal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import Browser, Page, expect

from hotline_bridge import create_app
from hotline_bridge.directory import national
from tests.channels.kiosk.test_kiosk_browser import Server
from tests.conftest import AUTH_TOKEN, SECRET_KEY
from tests.console.console_helpers import add_staff, seed
from tests.console.test_console_browser import no_violations, shot, sign_in

NORA = "nora@north.example"
SHOWN = "1-555-555-0111"

# What each console language calls the controls, and what the chosen print must say.
SEEN = {
    "en": {
        "nav": "Print",
        "heading": "Print cards and posters",
        "kind": "Stickers (6 to a sheet)",
        "lang": "Spanish",
        "show": "Show the preview",
        "download": "Download the PDF",
        "printed": "printed: sticker",
        "refused": "Nothing can be printed yet",
    },
    "es": {
        "nav": "Imprimir",
        "heading": "Imprimir tarjetas y carteles",
        "kind": "Etiquetas adhesivas (6 por hoja)",
        "lang": "Inglés",
        "show": "Ver la vista previa",
        "download": "Descargar el PDF",
        "printed": "impresión descargada: sticker",
        "refused": "Todavía no se puede imprimir nada",
    },
}
# The English console prints a Spanish sticker, the Spanish console an English one.
PRINTED = {"en": f"Envíe HOLA al {SHOWN}", "es": f"Text HI to {SHOWN}"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "hotline.db"),
            "SECRET_KEY": SECRET_KEY,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
    )
    seed(app)
    add_staff(app, NORA, "--site", "north")
    running = Server(app)
    yield running
    running.stop()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, base_url=server.base, accept_downloads=True
    )
    yield context.new_page()
    context.close()


def _open_print_page(page: Page, lang: str) -> dict[str, str]:
    sign_in(page, NORA, {})
    if lang == "es":
        page.get_by_role("button", name="Español").click()
    seen = SEEN[lang]
    page.get_by_role("navigation").get_by_role("link", name=seen["nav"], exact=True).click()
    expect(page.get_by_role("heading", name=seen["heading"])).to_be_visible()
    return seen


@pytest.mark.parametrize("lang", ["en", "es"])
def test_choose_preview_and_download_a_print(page: Page, server: Server, lang: str) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    seen = _open_print_page(page, lang)
    page.get_by_role("radio", name=seen["kind"]).check()
    page.get_by_role("radio", name=seen["lang"], exact=True).check()
    page.get_by_role("button", name=seen["show"]).click()
    preview = page.locator("img.print-preview")
    expect(preview).to_be_visible()
    # The picture was drawn and decoded, not merely referenced.
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    assert preview.evaluate("img => img.naturalHeight > img.naturalWidth")
    no_violations(page)
    shot(page, f"print-{lang}")
    # The page and its preview load nothing from another origin.
    elsewhere = [url for url in asked if not url.startswith((server.base + "/", "data:"))]
    assert elsewhere == []
    assert any(url.startswith(server.base + "/console/print?") for url in asked)
    with page.expect_download() as started:
        page.get_by_role("button", name=seen["download"]).click()
    download = started.value
    printed = "es" if lang == "en" else "en"
    assert download.suggested_filename == f"north-sticker-{printed}.pdf"
    document = Path(download.path()).read_bytes()
    assert document.startswith(b"%PDF")
    reader = pypdf.PdfReader(BytesIO(document))
    text = " ".join(reader.pages[0].extract_text().split())
    assert text.count(PRINTED[lang]) == 6
    page.goto("/console/audit")
    expect(page.get_by_role("rowheader", name=re.compile(seen["printed"]))).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_refusal_is_shown_and_offers_no_download(
    page: Page, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = []
    for line in national.lines():
        row = dict(line.row)
        if row["id"] == "nhth":
            row["checked"] = "2026-01-02"  # more than 180 days before the test's day
        rows.append(national.NationalLine(row))
    monkeypatch.setattr(national, "lines", lambda: tuple(rows))
    seen = _open_print_page(page, lang)
    page.get_by_role("button", name=seen["show"]).click()
    expect(page.get_by_role("alert")).to_contain_text(seen["refused"])
    expect(page.get_by_role("alert")).to_contain_text("2026-01-02")
    expect(page.get_by_role("button", name=seen["download"])).to_have_count(0)
    no_violations(page)
    shot(page, f"print-refused-{lang}")
