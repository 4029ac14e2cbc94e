"""Safety cards, restroom stickers, posters and tear-off flyers, per site and per language.

``print_pdf`` is the one entry point (the ``print`` command and the console call it): it proves
every printed number and keyword by texting them through the app, reads national numbers only
from the checked reference, and returns PDF bytes or raises ``PrintRefused`` saying why not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from flask import Flask

from hotline_bridge.directory.models import Site, get_site
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import LANGUAGES
from hotline_bridge.printing import layout, pdf
from hotline_bridge.printing.layout import ARRANGEMENTS, KINDS, POSTER_SIZES, SIDE_BY_SIDE
from hotline_bridge.printing.proof import Proven, candidates, prove
from hotline_bridge.printing.refusal import PrintRefused
from hotline_bridge.printing.wording import Wording, qr_data_uri, wording
from hotline_bridge.runtime import Runtime

__all__ = [
    "ARRANGEMENTS",
    "BOTH",
    "KINDS",
    "LANGS",
    "POSTER_SIZES",
    "PrintRefused",
    "Printed",
    "Request",
    "print_pdf",
    "render",
]

# The choice that prints English and Spanish together (side by side, or a side or page each).
BOTH = "both"
# The languages every deployment can print, and both; a language added as a catalog folder
# prints too (``print_languages``).
LANGS = (*LANGUAGES, BOTH)

# Kinds that carry a QR code unless asked otherwise: a code on a card in a pocket or on a
# sticker can be scanned by someone else, one on a wall is there for anyone.
QR_BY_DEFAULT = frozenset({"poster"})


@dataclass(frozen=True)
class Request:
    """What to print: the site, the kind, the language(s) and the options of each kind."""

    site: str
    kind: str
    lang: str = "both"
    size: str = "letter"
    qr: bool | None = None
    arrangement: str = SIDE_BY_SIDE
    number: str | None = None
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        choices: dict[str, Sequence[str]] = {
            "kind": list(KINDS),
            "size": list(POSTER_SIZES),
            "arrangement": ARRANGEMENTS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")

    @property
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES if self.lang == BOTH else (self.lang,)

    @property
    def with_qr(self) -> bool:
        return self.kind in QR_BY_DEFAULT if self.qr is None else self.qr


def print_languages(languages: Sequence[str]) -> tuple[str, ...]:
    """Return what can be printed with the catalogs' ``languages``: each one alone (a language
    added as a catalog folder too), and English and Spanish together."""
    return (*languages, BOTH)


@dataclass(frozen=True)
class Printed:
    """A drawn PDF, its page count, and what each language printed (proven)."""

    pdf: bytes
    pages: int
    wordings: Sequence[Wording]


def print_pdf(app: Flask, request: Request, today: dt.date | None = None) -> bytes:
    """Return the PDF of ``request``, or raise ``PrintRefused`` when something printed could not
    be proven to reach the site (or would alarm an onlooker)."""
    return render(app, request, today).pdf


def render(app: Flask, request: Request, today: dt.date | None = None) -> Printed:
    """Prove, lay out and draw ``request`` as of ``today`` (default: the current UTC date);
    raise ``PrintRefused`` instead of printing a doubt."""
    wordings = proven_wordings(app, request, today)
    kind = KINDS[request.kind]
    if request.kind == "poster":
        kind = layout.poster(POSTER_SIZES[request.size])
    qr = {w.lang: qr_data_uri(w.sms_uri) for w in wordings} if request.with_qr else {}
    pages = layout.pages(kind, wordings, request.arrangement)
    try:
        document = pdf.write(pdf.html(kind, pages, qr, wordings[0].program))
    except pdf.DoesNotFit as cut:
        rt: Runtime = app.extensions["hotline_bridge"]
        raise PrintRefused(
            rt.catalogs, "print.refused.does_not_fit", kind=request.kind, text=str(cut)
        ) from None
    return Printed(document, len(pages), wordings)


def _site(app: Flask, rt: Runtime, request: Request) -> Site:
    with open_db(app) as db:
        site = get_site(db, request.site)
    if site is None:
        raise PrintRefused(rt.catalogs, "print.refused.no_site", site=request.site)
    if request.number is not None:
        if request.number not in site.numbers:
            raise PrintRefused(
                rt.catalogs, "print.refused.not_its_number", site=site.id, number=request.number
            )
        site = replace(site, numbers=(request.number,))
    if not site.numbers:
        raise PrintRefused(rt.catalogs, "print.refused.no_number", site=site.id)
    return site


def _proven(app: Flask, rt: Runtime, site: Site, request: Request, lang: str) -> Proven:
    proven = prove(app, site, lang, request.keywords)
    if proven is None:
        tried = request.keywords or tuple(candidates(app, site, lang))
        raise PrintRefused(
            rt.catalogs,
            "print.refused.unproven",
            site=site.id,
            keywords=", ".join(tried),
            numbers=", ".join(site.numbers),
            language=lang,
        )
    return proven


def proven_wordings(
    app: Flask, request: Request, today: dt.date | None = None
) -> Sequence[Wording]:
    """Return what each language of ``request`` would print, proven, without drawing it."""
    rt: Runtime = app.extensions["hotline_bridge"]
    if request.lang not in print_languages(rt.catalogs.languages):
        choices = ", ".join(print_languages(rt.catalogs.languages))
        raise ValueError(f"lang must be one of {choices}")
    site = _site(app, rt, request)
    return [
        wording(app, site, _proven(app, rt, site, request, lang), today)
        for lang in request.languages
    ]
