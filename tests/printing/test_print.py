"""Printed cards, stickers, posters and flyers: sizes, counts, wording, QR codes and the proof.

Every PDF is opened with pypdf (page size, extracted text, embedded fonts) and drawn with
poppler's pdftoppm; the drawings land in test-artifacts/print/ and their QR codes are read back
with zxing-cpp.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdf
import pytest
import responses
import zxingcpp
from click.testing import CliRunner
from flask import Flask
from PIL import Image

from hotline_bridge.cli import main
from hotline_bridge.counters import DRY_RUN
from hotline_bridge.directory import national
from hotline_bridge.directory.store import open_db, write_sites
from hotline_bridge.printing import PrintRefused, Request, layout, pdf, print_pdf, render
from hotline_bridge.settings import DEFAULT_SENSITIVE_WORDS, PROJECT_ROOT
from hotline_bridge.webhooks import Signatures
from tests.conftest import BASE_URL, run_later, sign

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "print"

# The clinic every test prints for, on its own number, with an English and a Spanish keyword.
NUMBER = "+15550100999"
SHOWN_NUMBER = "1-555-010-0999"
SITE = {
    "id": "riverside",
    "name_en": "Riverside Health Line",
    "name_es": "Línea de Salud Riverside",
    "default_language": "en",
    "numbers": f'["{NUMBER}"]',
    "keywords": '["WELLNESS", "SALUD"]',
}
KEYWORDS = {"en": "WELLNESS", "es": "SALUD"}
TEXT_LINE = {"en": f"Text WELLNESS to {SHOWN_NUMBER}", "es": f"Envíe SALUD al {SHOWN_NUMBER}"}
# The 24/7 line and 911 as the checked reference gives them.
HOTLINE = "1-888-373-7888"
HOTLINE_LINE = {
    "en": f"Confidential 24/7 help line: {HOTLINE}",
    "es": f"Línea de ayuda confidencial 24/7: {HOTLINE}",
}
EMERGENCY_LINE = {"en": "Emergency: 911", "es": "Emergencias: 911"}
SENSITIVE = [w.strip() for w in DEFAULT_SENSITIVE_WORDS.split(",")]

LETTER_POINTS = (612, 792)
TABLOID_POINTS = (792, 1224)

# How many of each kind's pieces one page carries, and whether it has a back.
PER_PAGE = {"wallet": 10, "sticker": 6, "poster": 1}


def add_sites(app: Flask, *sites: dict[str, str]) -> None:
    with open_db(app) as db:
        write_sites(db, sites or [SITE])


@pytest.fixture
def clinic(app: Flask) -> Flask:
    add_sites(app)
    return app


def pages_text(document: bytes) -> list[str]:
    """Return each page's text with all runs of white space made one space."""
    reader = pypdf.PdfReader(BytesIO(document))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def page_sizes(document: bytes) -> set[tuple[int, int]]:
    reader = pypdf.PdfReader(BytesIO(document))
    return {(round(p.mediabox.width), round(p.mediabox.height)) for p in reader.pages}


def fonts(document: bytes) -> Iterator[tuple[str, bool]]:
    """Yield every font's name and whether its glyphs are embedded in the file."""
    reader = pypdf.PdfReader(BytesIO(document))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                yield str(font["/BaseFont"]), embedded


def draw(document: bytes, name: str, dpi: int = 100) -> list[Path]:
    """Draw every page as a PNG in test-artifacts/print/ and return the files."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in _pages(name):
        old.unlink()
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(document)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(source), str(ARTIFACTS / name)], check=True
    )
    return _pages(name)


def _pages(name: str) -> list[Path]:
    """Return the pages pdftoppm drew for ``name`` (``name-1.png``, or ``name-01.png``...),
    never another drawing's whose name starts the same ("sticker-per-side-qr-1.png" is not a
    page of "sticker-per-side", which another test may be drawing at the same time)."""
    page = re.compile(re.escape(name) + r"-\d+\.png")
    return sorted(p for p in ARTIFACTS.glob(f"{name}-*.png") if page.fullmatch(p.name))


def qr_codes(png: Path) -> list[str]:
    """Return the text of every QR code on a drawn page."""
    with Image.open(png) as image:
        found = zxingcpp.read_barcodes(image.convert("L"))
    return sorted(code.text for code in found if code.format == zxingcpp.BarcodeFormat.QRCode)


def sensitive_on(text: str) -> list[str]:
    return [w for w in SENSITIVE if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.I)]


# --- Each kind: page size, how many on a sheet, what each face says ----------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_wallet_cards_are_ten_to_a_letter_sheet_front_then_back(clinic: Flask, lang: str) -> None:
    document = print_pdf(clinic, Request("riverside", "wallet", lang))
    draw(document, f"wallet-{lang}")
    front, back = pages_text(document)
    assert page_sizes(document) == {LETTER_POINTS}
    assert front.count(TEXT_LINE[lang]) == 10
    assert front.count(f"{'Call' if lang == 'en' else 'Llame al'} {SHOWN_NUMBER}") == 10
    assert front.count(SITE["name_en" if lang == "en" else "name_es"]) == 10
    assert HOTLINE not in front  # the front is the discreet side: program, text, call
    assert back.count(HOTLINE_LINE[lang]) == 10
    assert back.count(EMERGENCY_LINE[lang]) == 10
    assert back.count("Puede borrar" if lang == "es" else "You can delete") == 10


@pytest.mark.parametrize("kind", ["wallet", "sticker", "poster", "tabs"])
@pytest.mark.parametrize("lang", ["en", "es", "both"])
def test_every_kind_prints_the_number_keyword_and_24_7_line(
    clinic: Flask, kind: str, lang: str
) -> None:
    document = print_pdf(clinic, Request("riverside", kind, lang))
    draw(document, f"{kind}-{lang}")
    text = " ".join(pages_text(document))
    assert page_sizes(document) == {LETTER_POINTS}
    for code in ("en", "es") if lang == "both" else (lang,):
        assert TEXT_LINE[code] in text
        assert HOTLINE_LINE[code] in text
        assert EMERGENCY_LINE[code] in text


@pytest.mark.parametrize("kind", ["wallet", "sticker", "poster", "tabs"])
@pytest.mark.parametrize("lang", ["en", "es", "both"])
def test_no_face_carries_a_word_that_would_alarm_an_onlooker(
    clinic: Flask, kind: str, lang: str
) -> None:
    for page in pages_text(print_pdf(clinic, Request("riverside", kind, lang))):
        assert sensitive_on(page) == [], page


@pytest.mark.parametrize(("kind", "per_page"), PER_PAGE.items())
def test_each_sheet_carries_its_count_of_pieces_in_both_languages(
    clinic: Flask, kind: str, per_page: int
) -> None:
    first = pages_text(print_pdf(clinic, Request("riverside", kind, "both")))[0]
    assert first.count(TEXT_LINE["en"]) == per_page
    assert first.count(TEXT_LINE["es"]) == per_page


def test_the_flyer_has_eight_tear_off_tabs_each_with_number_and_keyword(clinic: Flask) -> None:
    (page,) = pages_text(print_pdf(clinic, Request("riverside", "tabs", "en")))
    # Once in the flyer's body, once on each tab.
    assert page.count(TEXT_LINE["en"]) == 1 + layout.TABS
    assert page.count(f"Call {SHOWN_NUMBER}") == 1 + layout.TABS


def test_bilingual_tabs_alternate_languages(clinic: Flask) -> None:
    (page,) = pages_text(print_pdf(clinic, Request("riverside", "tabs", "both")))
    assert page.count(TEXT_LINE["en"]) == 1 + layout.TABS // 2
    assert page.count(TEXT_LINE["es"]) == 1 + layout.TABS // 2


@pytest.mark.parametrize(
    ("size", "points"), [("letter", LETTER_POINTS), ("tabloid", TABLOID_POINTS)]
)
def test_posters_come_in_letter_and_11_by_17(clinic: Flask, size: str, points: tuple) -> None:
    document = print_pdf(clinic, Request("riverside", "poster", "both", size=size))
    draw(document, f"poster-{size}", dpi=50)
    assert page_sizes(document) == {points}
    assert len(pages_text(document)) == 1


@pytest.mark.parametrize("kind", ["wallet", "poster", "sticker", "tabs"])
def test_both_languages_one_per_side(clinic: Flask, kind: str) -> None:
    request = Request("riverside", kind, "both", arrangement=layout.PER_SIDE)
    document = print_pdf(clinic, request)
    draw(document, f"{kind}-per-side", dpi=50)
    english, spanish = pages_text(document)
    assert TEXT_LINE["en"] in english and TEXT_LINE["es"] not in english
    assert TEXT_LINE["es"] in spanish and TEXT_LINE["en"] not in spanish
    if kind == "wallet":  # one language a side, each side a whole card
        assert english.count(HOTLINE_LINE["en"]) == 10
        assert spanish.count(HOTLINE_LINE["es"]) == 10


def test_fonts_are_embedded_dejavu_with_spanish_letters(clinic: Flask) -> None:
    document = print_pdf(clinic, Request("riverside", "poster", "es"))
    found = dict(fonts(document))
    assert found and all(found.values()), found
    assert all("DejaVu" in name for name in found), found
    assert "Envíe SALUD" in pages_text(document)[0]  # accents come out as the letters they are


# --- Where the pieces go ----------------------------------------------------------------------


def test_each_back_lands_behind_its_front_when_flipped_on_the_long_edge() -> None:
    kind = layout.KINDS["wallet"]
    fronts, backs = layout.slots(kind), layout.slots(kind, back=True)
    for (fx, fy), (bx, by) in zip(fronts, backs, strict=True):
        assert fy == by
        assert bx == pytest.approx(kind.page[0] - fx - kind.piece[0])
    right_column = fronts[1::2]
    assert layout.slots(kind, back=True)[::2] == right_column  # each back is a mirror image


@pytest.mark.parametrize("name", ["wallet", "sticker"])
def test_pieces_fit_the_sheet_and_cut_marks_stay_off_them(name: str) -> None:
    kind = layout.KINDS[name]
    pieces = [(x, y, x + kind.piece[0], y + kind.piece[1]) for x, y in layout.slots(kind)]
    assert len(pieces) == kind.per_sheet
    assert all(
        x0 > 0 and x1 < kind.page[0] and y0 > 0 and y1 < kind.page[1] for x0, y0, x1, y1 in pieces
    )
    marks = layout.marks(kind)
    assert marks
    for mark in marks:
        x1 = mark.x if mark.vertical else mark.x + mark.length
        y1 = mark.y + mark.length if mark.vertical else mark.y
        for px0, py0, px1, py1 in pieces:
            overlaps = mark.x < px1 and x1 > px0 and mark.y < py1 and y1 > py0
            assert not overlaps, (mark, (px0, py0))
        assert mark.x >= 0 and x1 <= kind.page[0] and mark.y >= 0 and y1 <= kind.page[1]


# --- QR codes ---------------------------------------------------------------------------------


def test_a_poster_carries_a_qr_code_that_opens_the_text_ready_to_send(clinic: Flask) -> None:
    (png,) = draw(print_pdf(clinic, Request("riverside", "poster", "en")), "poster-qr", dpi=150)
    assert qr_codes(png) == [f"sms:{NUMBER}?body=WELLNESS"]


def test_a_bilingual_poster_has_a_code_for_each_language(clinic: Flask) -> None:
    (png,) = draw(print_pdf(clinic, Request("riverside", "poster", "both")), "poster-qr-both", 150)
    assert qr_codes(png) == [f"sms:{NUMBER}?body=SALUD", f"sms:{NUMBER}?body=WELLNESS"]


@pytest.mark.parametrize("kind", ["wallet", "sticker", "tabs"])
def test_pocket_and_stall_pieces_carry_no_qr_code_unless_asked(clinic: Flask, kind: str) -> None:
    plain = draw(print_pdf(clinic, Request("riverside", kind, "en")), f"{kind}-plain", dpi=150)
    assert all(qr_codes(png) == [] for png in plain)
    asked = draw(print_pdf(clinic, Request("riverside", kind, "en", qr=True)), f"{kind}-qr", 150)
    assert f"sms:{NUMBER}?body=WELLNESS" in qr_codes(asked[0])


def test_a_poster_without_its_code_when_asked(clinic: Flask) -> None:
    (png,) = draw(
        print_pdf(clinic, Request("riverside", "poster", "en", qr=False)), "poster-no", 100
    )
    assert qr_codes(png) == []


def test_the_sms_link_follows_rfc_5724_and_escapes_the_keyword() -> None:
    from hotline_bridge.printing.wording import sms_uri

    assert sms_uri("+15550100999", "WELLNESS") == "sms:+15550100999?body=WELLNESS"
    assert sms_uri("55123", "Menú sur") == "sms:55123?body=Men%C3%BA%20sur"


# --- The proof: nothing is printed that does not reach the site -------------------------------

NORTH = {
    "id": "north",
    "name_en": "North Clinic Line",
    "name_es": "Línea Clínica Norte",
    "default_language": "es",
    "numbers": f'["{NUMBER}"]',
    "keywords": '["NORTE"]',
}


def refusal(app: Flask, request: Request) -> PrintRefused:
    with pytest.raises(PrintRefused) as caught:
        print_pdf(app, request)
    return caught.value


def test_a_keyword_that_routes_to_another_site_is_refused(app: Flask) -> None:
    add_sites(app, SITE, NORTH)
    refused = refusal(app, Request("riverside", "wallet", "es", keywords=("NORTE",)))
    assert refused.key == "print.refused.unproven"
    assert "NORTE" in str(refused) and "riverside" in str(refused)
    assert "No se imprimió nada" in refused.text("es")


def test_a_keyword_that_answers_in_the_other_language_is_refused(clinic: Flask) -> None:
    # WELLNESS reaches the site, but in English: a Spanish card must not print it.
    refused = refusal(clinic, Request("riverside", "wallet", "es", keywords=("WELLNESS",)))
    assert refused.key == "print.refused.unproven"


def test_the_proof_goes_through_the_sms_route_itself(clinic: Flask) -> None:
    from hotline_bridge.printing.proof import send

    answer = send(clinic, NUMBER, "SALUD")
    assert (answer.site, answer.lang) == ("riverside", "es")
    assert answer.text.startswith("Línea de Salud Riverside")


def test_a_keyword_the_line_cannot_answer_is_refused(make_app: Any) -> None:
    # With a wrong auth token the webhook refuses the signed test message: nothing proves the
    # line, so nothing is printed.
    app = make_app()
    add_sites(app)
    app.extensions["hotline_bridge.signatures"] = Signatures("another-token")
    assert refusal(app, Request("riverside", "poster", "en")).key == "print.refused.unproven"


def test_a_site_without_its_own_keywords_prints_a_greeting_its_number_answers(app: Flask) -> None:
    add_sites(app, {**SITE, "keywords": "[]"})
    texts = pages_text(print_pdf(app, Request("riverside", "poster", "both")))[0]
    assert f"Text HI to {SHOWN_NUMBER}" in texts
    assert f"Envíe HOLA al {SHOWN_NUMBER}" in texts


def test_the_call_line_is_proven_on_the_voice_line_too(clinic: Flask) -> None:
    from hotline_bridge.directory.models import get_site
    from hotline_bridge.printing.proof import answers_calls

    with open_db(clinic) as db:
        site = get_site(db, "riverside")
    assert site is not None
    assert answers_calls(clinic, site, NUMBER)
    assert not answers_calls(clinic, site, "+15550100000")  # greeted as the default site


def test_a_short_code_is_printed_to_text_not_to_call(app: Flask) -> None:
    add_sites(app, {**SITE, "numbers": '["55123"]'})
    document = print_pdf(app, Request("riverside", "poster", "en"))
    (png,) = draw(document, "poster-short-code", dpi=150)
    (page,) = pages_text(document)
    assert "Text WELLNESS to 55123" in page
    assert "Call 55123" not in page
    assert qr_codes(png) == ["sms:55123?body=WELLNESS"]


def test_a_number_that_is_not_the_sites_is_refused(clinic: Flask) -> None:
    refused = refusal(clinic, Request("riverside", "wallet", "en", number="+15550100000"))
    assert refused.key == "print.refused.not_its_number"


def test_a_site_without_a_number_or_that_does_not_exist_is_refused(app: Flask) -> None:
    add_sites(app, {**NORTH, "numbers": "[]"})
    assert refusal(app, Request("north", "wallet", "es")).key == "print.refused.no_number"
    assert refusal(app, Request("nowhere", "wallet", "es")).key == "print.refused.no_site"


def test_a_sensitive_word_in_a_site_name_is_refused(app: Flask) -> None:
    add_sites(app, {**SITE, "name_en": "Anti-Trafficking Line"})
    refused = refusal(app, Request("riverside", "sticker", "en"))
    assert refused.key == "print.refused.sensitive"
    assert "trafficking" in str(refused)


def _flag_hotline_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the reference flag the 24/7 line's own voice number for re-verification."""
    rows = []
    for line in national.lines():
        row = dict(line.row)
        if row["id"] == "nhth":
            row["notes"] = "The operator changed: re-verify 1-888-373-7888 at the source"
        rows.append(national.NationalLine(row))
    monkeypatch.setattr(national, "lines", lambda: tuple(rows))


def test_words_that_would_be_cut_off_at_the_edge_are_refused(app: Flask) -> None:
    long_name = "Riverside Community Health and Wellness Line of the Greater Valley Region " * 4
    add_sites(app, {**SITE, "name_en": long_name, "name_es": long_name})
    refused = refusal(app, Request("riverside", "wallet", "both", qr=True))
    assert refused.key == "print.refused.does_not_fit"
    assert "wallet" in str(refused)
    assert "quedaría cortado" in refused.text("es")


@pytest.mark.parametrize("kind", ["wallet", "sticker"])
@pytest.mark.parametrize("arrangement", layout.ARRANGEMENTS)
def test_the_most_crowded_small_pieces_still_fit(
    clinic: Flask, kind: str, arrangement: str
) -> None:
    request = Request("riverside", kind, "both", qr=True, arrangement=arrangement)
    pngs = draw(print_pdf(clinic, request), f"{kind}-{arrangement}-qr", dpi=200)
    assert f"sms:{NUMBER}?body=SALUD" in qr_codes(pngs[-1 if arrangement == "per-side" else 0])


def test_a_flagged_national_number_stops_the_print_until_confirmed(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    add_sites(app)
    _flag_hotline_voice(monkeypatch)
    refused = refusal(app, Request("riverside", "wallet", "en"))
    assert refused.key == "print.refused.unconfirmed"
    assert "nhth@YYYY-MM-DD" in str(refused)
    confirmed = replace(Request("riverside", "wallet", "en"))
    app.config["CONFIRMED_LINES"] = national.parse_confirmations("nhth@2026-12-07")
    assert HOTLINE_LINE["en"] in pages_text(print_pdf(app, confirmed))[1]


def test_printing_adds_nothing_to_the_usage_counts(clinic: Flask) -> None:
    print_pdf(clinic, Request("riverside", "tabs", "both"))
    with open_db(clinic) as db:
        assert db.execute("select count(*) from counts").fetchone()[0] == 0


ACCOUNT_SID = "AC" + "1" * 32
MESSAGE_SID = "SM" + "2" * 32


@responses.activate
@pytest.mark.parametrize("proving", [False, True])
def test_a_proving_message_asks_twilio_to_delete_nothing(make_app: Any, proving: bool) -> None:
    # The message that proves a card never went through Twilio: there is no copy to delete,
    # and asking would be a request leaving the machine.
    app = make_app(DELETE_TWILIO_RECORDS=True, TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{MESSAGE_SID}.json"
    responses.add(responses.DELETE, url, status=204)
    params = {"Body": "WELLNESS", "From": "+15555550100", "To": NUMBER, "MessageSid": MESSAGE_SID}
    response = app.test_client().post(
        "/sms",
        data=params,
        headers={"X-Twilio-Signature": sign(BASE_URL + "/sms", params)},
        environ_base={DRY_RUN: True} if proving else {},
    )
    response.close()
    run_later(app)
    assert len(responses.calls) == (0 if proving else 1)


def test_render_reports_what_was_proven(clinic: Flask) -> None:
    printed = render(clinic, Request("riverside", "wallet", "both"))
    assert printed.pages == 2
    assert [w.sms_uri for w in printed.wordings] == [
        f"sms:{NUMBER}?body=WELLNESS",
        f"sms:{NUMBER}?body=SALUD",
    ]


# --- Nothing leaves the machine ---------------------------------------------------------------


@pytest.mark.parametrize(
    "source", ["http://127.0.0.1:9/logo.png", "https://example.org/x.css", "file:///etc/hostname"]
)
def test_drawing_a_pdf_fetches_nothing(source: str) -> None:
    document = f'<html><body><img src="{source}"><p>x</p></body></html>'
    with pytest.raises(BaseException, match="Error fetching"):
        pdf.write(document)


# --- The command ------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A deployment's settings with the demo sites imported, and no secrets set."""
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(tmp_path / "cli.db"))
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")
    result = CliRunner().invoke(main, ["import", str(PROJECT_ROOT / "examples/demo/sites.csv")])
    assert result.exit_code == 0, result.output
    for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN", "LOCAL", "CONFIRMED_LINES"):
        monkeypatch.delenv(f"HOTLINE_BRIDGE_{name}", raising=False)
    return {}


def test_the_command_writes_a_proven_pdf_without_production_secrets(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "cards.pdf"
    args = ["print", "demo-clinic", "--kind", "wallet", "--lang", "both", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "sms:+15555550199?body=WELLNESS" in result.output
    assert "sms:+15555550199?body=SALUD" in result.output
    assert "Text WELLNESS to 1-555-555-0199" in pages_text(out.read_bytes())[0]


def test_the_command_refuses_and_writes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "cards.pdf"
    args = ["print", "demo-clinic", "--kind", "poster", "--keyword", "HOLA", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "Nothing was printed" in result.output
    assert not out.exists()


@pytest.mark.parametrize("change", [{"kind": "banner"}, {"size": "a4"}, {"arrangement": "stacked"}])
def test_a_request_names_only_known_choices(change: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=next(iter(change))):
        Request(**{"site": "riverside", "kind": "wallet", **change})


def test_a_language_the_catalogs_lack_is_refused(clinic: Flask) -> None:
    with pytest.raises(ValueError, match="lang must be one of en, es, both"):
        render(clinic, Request(site="riverside", kind="wallet", lang="fr"))


def test_print_gives_the_hotline_as_the_deployment_overrode_it(
    make_app: Any, tmp_path: Path
) -> None:
    from hotline_bridge.printing.wording import checked_number

    overrides = tmp_path / "national-overrides.csv"
    overrides.write_text(
        "id,field,value,source,date\n"
        "nhth,voice,+18885550142,https://humantraffickinghotline.org/,2026-12-08\n",
        encoding="utf-8",
    )
    number, row = checked_number(make_app(NATIONAL_OVERRIDES=str(overrides)), "nhth")
    assert number == "+18885550142" and row["checked"] == "2026-12-08"
