"""What a printed face says in one language: every line from the catalogs, every number proven.

The site's number and keyword come from ``proof`` (texted through the app before printing); the
24/7 line and 911 come only from the checked national reference, and a number that reference
flags for re-verification stops the print until the deployment confirms it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from urllib.parse import quote

import segno
from flask import Flask

from hotline_bridge.checks import sensitive_hits
from hotline_bridge.directory import national
from hotline_bridge.directory.models import Site, display_number
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.printing.proof import Proven, answers_calls
from hotline_bridge.printing.refusal import PrintRefused
from hotline_bridge.runtime import Runtime

# A number a phone can call: a full number, not a short code that only takes texts.
_CALLABLE = re.compile(r"^\+\d{8,15}$")

# Stand-ins for the keyword and the number while the text line is worded, so the face can set
# each in its own type (the number is the largest thing printed) in whatever order the
# language puts them.
_KEYWORD, _NUMBER = "\x01", "\x02"
_PARTS = re.compile(f"([{_KEYWORD}{_NUMBER}])")


@dataclass(frozen=True)
class Wording:
    """The lines one language prints, and the ``sms:`` link its QR code opens."""

    lang: str
    program: str
    headline: str
    private: str
    text: str
    call: str | None
    hotline: str
    emergency: str
    tip: str
    rates: str
    qr_caption: str
    sms_uri: str
    # The text line in pieces: ("keyword", "WELLNESS"), ("number", "1-555-…") and the words
    # around them (""), in the language's order; joined, they are ``text``.
    text_parts: tuple[tuple[str, str], ...] = ()
    # The privacy page's address, on posters, when the deployment names its public address.
    privacy: str = ""

    def lines(self) -> Iterator[str]:
        """Yield every line of printed text (for the sensitive-word check)."""
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name not in {"lang", "sms_uri"} and isinstance(value, str) and value:
                yield value


def text_parts(words: Words, keyword: str, number: str) -> tuple[tuple[str, str], ...]:
    """Return the text line of ``words``'s language cut into the keyword, the number and the
    words around them."""
    worded = words.t("print.text", keyword=_KEYWORD, number=_NUMBER)
    values = {_KEYWORD: ("keyword", keyword), _NUMBER: ("number", number)}
    return tuple(values.get(part, ("", part)) for part in _PARTS.split(worded) if part)


def sms_uri(number: str, keyword: str) -> str:
    """Return the RFC 5724 link that opens a text to ``number`` with ``keyword`` filled in."""
    return f"sms:{number}?body={quote(keyword, safe='')}"


def qr_data_uri(uri: str) -> str:
    """Return ``uri`` as a QR code, an SVG data URI the PDF embeds (no file, no fetch)."""
    code = segno.make(uri, error="m", micro=False)
    return str(code.svg_data_uri(scale=4, border=4, dark="#000", light="#fff"))


def checked_number(
    app: Flask, line_id: str, today: dt.date | None = None
) -> tuple[str, Mapping[str, str]]:
    """Return a national line's voice number and row from the checked reference with the
    deployment's reviewed overrides; refuse while the reference flags that number and the
    deployment has not confirmed it, or while the row is stale on ``today`` (default: the
    current UTC date)."""
    rt: Runtime = app.extensions["hotline_bridge"]
    line, confirmed = national.in_effect(
        national.by_id()[line_id], app.config["CONFIRMED_LINES"], app.config["NATIONAL_OVERRIDES"]
    )
    number = display_number(line.row["voice"])
    if "voice" in line.withheld(confirmed) or not line.row["voice"]:
        raise PrintRefused(
            rt.catalogs,
            "print.refused.unconfirmed",
            line=line.id,
            number=number,
            source=line.row["source"],
        )
    last = last_checked(line, confirmed)
    if ((today or dt.datetime.now(dt.UTC).date()) - last).days > national.STALE_AFTER_DAYS:
        raise PrintRefused(
            rt.catalogs,
            "print.refused.stale",
            line=line.id,
            number=number,
            checked=last.isoformat(),
            days=national.STALE_AFTER_DAYS,
            source=line.row["source"],
        )
    return line.row["voice"], line.row


def last_checked(line: national.NationalLine, confirmed: Mapping[str, dt.date]) -> dt.date:
    """Return the last day the row was checked: the reference's date, or a later day on which
    the deployment confirmed the row at its source."""
    return max(line.checked, confirmed.get(line.id, line.checked))


def wording(app: Flask, site: Site, proven: Proven, today: dt.date | None = None) -> Wording:
    """Return what ``proven.lang``'s faces print for ``site`` on ``today``."""
    rt: Runtime = app.extensions["hotline_bridge"]
    words = rt.catalogs.bind(proven.lang)
    hotline, row = checked_number(app, rt.flow.hotline, today)
    emergency, _ = checked_number(app, rt.flow.emergency, today)
    number = display_number(proven.number)
    # The checked reference file has English and Spanish labels; another language prints the
    # English one.
    label = row.get(f"discreet_label_{words.lang}") or row["discreet_label_en"]
    found = Wording(
        lang=words.lang,
        program=site.program_name(words.lang) or words.t("program.name"),
        headline=words.t("print.headline"),
        private=words.t("print.private"),
        text=words.t("print.text", keyword=proven.keyword, number=number),
        call=_call(app, site, words, proven.number),
        hotline=words.t("print.hotline", label=label, number=display_number(hotline)),
        emergency=words.t("print.emergency", number=display_number(emergency)),
        tip=words.t("print.tip"),
        rates=words.t(
            "print.rates",
            help=_first(rt, "help", words.lang),
            stop=_first(rt, "stop", words.lang),
        ),
        qr_caption=words.t("print.qr"),
        sms_uri=sms_uri(proven.number, proven.keyword),
        text_parts=text_parts(words, proven.keyword, number),
        privacy=_privacy(app, words),
    )
    _refuse_sensitive(rt, found)
    return found


def _call(app: Flask, site: Site, words: Words, number: str) -> str | None:
    """Return the line that says to call ``number``: none for a short code, which only takes
    texts; a refusal when a call to it would not reach the site's own voice menu."""
    if not _CALLABLE.match(number):
        return None
    if not answers_calls(app, site, number):
        raise PrintRefused(
            words.catalogs, "print.refused.call_unproven", site=site.id, number=number
        )
    return words.t("print.call", number=display_number(number))


def _privacy(app: Flask, words: Words) -> str:
    """Return the line giving the privacy page's address (none without ``PUBLIC_URL``)."""
    public = app.config.get("PUBLIC_URL")
    if not public:
        return ""
    return words.t("print.privacy", url=f"{public.removeprefix('https://')}/privacy/{words.lang}")


def _first(rt: Runtime, meaning: str, lang: str) -> str:
    written = rt.keywords.words(meaning, lang) or rt.keywords.words(meaning, "en")
    return written[0]


def _refuse_sensitive(rt: Runtime, found: Wording) -> None:
    """Refuse a face that would alarm an onlooker (a site's name is typed in by staff)."""
    for line in found.lines():
        hits = sensitive_hits(line, rt.sensitive_words)
        if hits:
            raise PrintRefused(rt.catalogs, "print.refused.sensitive", word=hits[0], line=line)
