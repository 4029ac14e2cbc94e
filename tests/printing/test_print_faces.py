"""What every printed face says and how it is set, read back from the PDF.

For each kind, in one language and in both (side by side, and one language per side), with and
without QR codes: each face carries the text line with the number, the rates, HELP and STOP line
in its own language, and the safety tip where it fits; no type is under 8 pt; the number (a short
code with its keyword) is the largest thing on a face that gives it; and zxing-cpp reads every
QR code. Sizes come from pypdf's text operators (font size times the text and page matrices).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from io import BytesIO

import pypdf
import pytest
from flask import Flask

from hotline_bridge.printing import Request, print_pdf
from hotline_bridge.printing.layout import PER_SIDE, SIDE_BY_SIDE
from tests.printing.test_print import (
    KEYWORDS,
    NUMBER,
    SHOWN_NUMBER,
    TEXT_LINE,
    add_sites,
    draw,
    pages_text,
    qr_codes,
)

# The catalogs' wording, as the CTIA short code handbook asks for it wherever a number is shown.
RATES = {
    "en": "Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
    "es": (
        "Pueden aplicarse tarifas de mensajes y datos. "
        "Responda AYUDA para recibir ayuda, PARAR para cancelar."
    ),
}
TIP = {
    "en": "You can delete the messages after you read them.",
    "es": "Puede borrar los mensajes después de leerlos.",
}
SMALLEST_PT = 8.0
BOTH = ("en", "es")


@dataclass(frozen=True)
class Face:
    """What one printed page must show, in which languages."""

    langs: tuple[str, ...]
    number: bool = True
    rates: bool = True
    tip: bool = True


def expected(kind: str, lang: str, arrangement: str, qr: bool) -> list[Face]:
    """Return each page's face: a one-language wallet card keeps the number on its discreet
    front and the 24/7 line, tip and rates on its back; two languages on one face leave out the
    tip, as does a whole card beside its QR code."""
    langs = BOTH if lang == "both" else (lang,)
    per_side = len(langs) > 1 and arrangement == PER_SIDE
    if kind == "wallet" and per_side:
        return [Face((code,), tip=not qr) for code in langs]
    if kind == "wallet":
        one = len(langs) == 1
        return [Face(langs, rates=False, tip=False), Face(langs, number=False, tip=one)]
    if per_side:
        return [Face((code,)) for code in langs]
    return [Face(langs, tip=len(langs) == 1 or kind in {"poster", "tabs"})]


CASES = [
    ("wallet", "en", SIDE_BY_SIDE, False),
    ("wallet", "es", SIDE_BY_SIDE, True),
    ("wallet", "both", SIDE_BY_SIDE, False),
    ("wallet", "both", SIDE_BY_SIDE, True),
    ("wallet", "both", PER_SIDE, False),
    ("wallet", "both", PER_SIDE, True),
    ("sticker", "en", SIDE_BY_SIDE, False),
    ("sticker", "es", SIDE_BY_SIDE, True),
    ("sticker", "both", SIDE_BY_SIDE, True),
    ("sticker", "both", PER_SIDE, False),
    ("poster", "es", SIDE_BY_SIDE, True),
    ("poster", "both", SIDE_BY_SIDE, True),
    ("poster", "both", PER_SIDE, False),
    ("tabs", "en", SIDE_BY_SIDE, False),
    ("tabs", "both", SIDE_BY_SIDE, True),
]


def type_sizes(document: bytes) -> list[list[tuple[str, float]]]:
    """Return, page by page, each run of text with the size it is drawn at, in points."""
    return [_runs(page) for page in pypdf.PdfReader(BytesIO(document)).pages]


def _runs(page: pypdf.PageObject) -> list[tuple[str, float]]:
    runs: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if text.strip():
            scale = math.sqrt(abs(cm[0] * cm[3] - cm[1] * cm[2]))
            scale *= math.sqrt(abs(tm[0] * tm[3] - tm[1] * tm[2]))
            runs.append((text.strip(), round(size * scale, 2)))

    page.extract_text(visitor_text=visit)
    return runs


@pytest.fixture
def clinic(app: Flask) -> Flask:
    add_sites(app)
    return app


@pytest.mark.parametrize(
    ("kind", "lang", "arrangement", "qr"),
    CASES,
    ids=[f"{k}-{lang}-{a}{'-qr' if q else ''}" for k, lang, a, q in CASES],
)
def test_every_face_carries_the_number_the_rates_line_and_readable_type(
    clinic: Flask, kind: str, lang: str, arrangement: str, qr: bool
) -> None:
    document = print_pdf(clinic, Request("riverside", kind, lang, qr=qr, arrangement=arrangement))
    faces = expected(kind, lang, arrangement, qr)
    texts, sizes = pages_text(document), type_sizes(document)
    assert len(texts) == len(faces)
    drawn = draw(document, f"faces-{kind}-{lang}-{arrangement}", dpi=150) if qr else []
    for n, (face, text, runs) in enumerate(zip(faces, texts, sizes, strict=True)):
        where = f"page {n + 1}"
        for code in BOTH:
            shown = code in face.langs
            assert (TEXT_LINE[code] in text) == (shown and face.number), (where, code)
            assert (RATES[code] in text) == (shown and face.rates), (where, code)
            assert (TIP[code] in text) == (shown and face.tip), (where, code)
        smallest = min(runs, key=lambda run: run[1])
        assert smallest[1] >= SMALLEST_PT, (where, smallest)
        if face.number:
            largest = max(size for _, size in runs)
            at_largest = {t for t, size in runs if size == largest}
            assert at_largest == {SHOWN_NUMBER}, (where, largest, at_largest)
        if drawn and face.number:
            uris = {f"sms:{NUMBER}?body={KEYWORDS[code]}" for code in face.langs}
            assert set(qr_codes(drawn[n])) == uris, where


def test_a_short_code_and_its_keyword_are_the_largest_on_a_sticker(app: Flask) -> None:
    from tests.printing.test_print import SITE

    add_sites(app, {**SITE, "numbers": '["55123"]'})
    document = print_pdf(app, Request("riverside", "sticker", "es"))
    (text,) = pages_text(document)
    assert "Envíe SALUD al 55123" in text and RATES["es"] in text
    (runs,) = type_sizes(document)
    largest = max(size for _, size in runs)
    assert {t for t, size in runs if size == largest} == {"55123"}
    keyword = next(size for t, size in runs if t == "SALUD")
    assert keyword >= max(size for t, size in runs if t not in {"55123", "SALUD"}) - 1
