"""Printing cards, stickers, posters and tear-off flyers from the console.

The page (GET) takes the kind, the language(s) and the site; with a kind chosen it proves and
draws the print as ``hotline-bridge print`` does and shows its first page as a picture, or says
in the console's language why nothing can be printed and what to do. Nothing is written until
the PDF is downloaded (POST, CSRF-checked), and every download is in the audit log.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from flask import abort, current_app, render_template, request
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from hotline_bridge.console import store
from hotline_bridge.console.access import (
    db,
    lang,
    now,
    require_site,
    signed_in,
    staff,
    who,
    words,
)
from hotline_bridge.console.blueprint import bp
from hotline_bridge.directory.models import display_number
from hotline_bridge.printing import (
    KINDS,
    POSTER_SIZES,
    Printed,
    PrintRefused,
    Request,
    print_languages,
)
from hotline_bridge.printing import render as draw
from hotline_bridge.printing.preview import first_page_png
from hotline_bridge.printing.wording import Wording
from hotline_bridge.runtime import runtime

# What the form offers first.
DEFAULT_KIND, DEFAULT_LANG, DEFAULT_SIZE = "wallet", "both", "letter"
# Where the number goes in a sentence before it is wrapped in markup of its own.
_SLOT = "\x00"
# The audit log's name for a downloaded print.
PRINTED = "printed"


@dataclass(frozen=True)
class Choice:
    """What staff chose on the form (already checked against what the printing package
    offers and the sites the account may act for)."""

    site: str
    kind: str
    lang: str
    size: str

    def request(self) -> Request:
        return Request(self.site, self.kind, self.lang, size=self.size)

    def file_name(self) -> str:
        size = f"-{self.size}" if self.kind == "poster" else ""
        return f"{self.site}-{self.kind}{size}-{self.lang}.pdf"


def sites() -> list[str]:
    """Return the sites the signed-in account may print for: its own, or every site for an
    administrator."""
    me = staff()
    if not me.admin:
        return [me.site] if me.site else []
    return [row["id"] for row in db().query("select id from sites order by id")]


def chosen(values: Mapping[str, str], offered: list[str]) -> Choice | None:
    """Return the choice in ``values`` (None when no kind is chosen yet); answer 400 to a value
    the form does not offer and 403 to a site the account may not act for."""
    if not values.get("kind"):
        return None
    choice = Choice(
        site=require_site(values.get("site") or (offered[0] if offered else None)),
        kind=values["kind"],
        lang=values.get("lang", DEFAULT_LANG),
        size=values.get("size", DEFAULT_SIZE),
    )
    if choice.kind not in KINDS or choice.lang not in _langs() or choice.size not in POSTER_SIZES:
        abort(400)
    return choice


def attempt(choice: Choice) -> Printed | PrintRefused:
    """Prove and draw ``choice`` as of the request's day; return the print or the refusal."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        return draw(app, choice.request(), now().date())
    except PrintRefused as refused:
        return refused


def _page(choice: Choice | None, offered: list[str], outcome: Printed | PrintRefused | None) -> str:
    printed = outcome if isinstance(outcome, Printed) else None
    refused = outcome if isinstance(outcome, PrintRefused) else None
    png = first_page_png(printed.pdf) if printed else None
    return render_template(
        "console/print.html",
        sites=offered,
        choice=choice
        or Choice(offered[0] if offered else "", DEFAULT_KIND, DEFAULT_LANG, DEFAULT_SIZE),
        kinds=list(KINDS),
        langs=_langs(),
        lang_names=lang_names(),
        sizes=list(POSTER_SIZES),
        printed=printed,
        proofs=proofs(printed.wordings if printed else ()),
        preview=base64.b64encode(png).decode("ascii") if png else None,
        refused=refused.text(lang()) if refused else None,
        todo=todo_key(refused) if refused else None,
    )


def _langs() -> tuple[str, ...]:
    """Return the language choices of a print: each of the catalogs' languages, and both."""
    return print_languages(runtime().catalogs.languages)


def lang_names() -> dict[str, str]:
    """Return the name of each language choice in the console's language (a language added
    as a catalog folder, without a name here, is named in its own words)."""
    bound = words()
    named = {}
    for code in _langs():
        key = f"console.print.lang.{code}"
        has = bound.catalogs.has(key)
        named[code] = bound.t(key) if has else bound.catalogs.text(code, "kiosk.language_name")
    return named


def proofs(wordings: Sequence[Wording]) -> list[Markup]:
    """Return, for each printed language, the sentence that says which number and keyword were
    proven to open its menu (read back from the ``sms:`` link its QR code would carry), with
    the number kept on one line."""
    bound, names = words(), lang_names()
    said = []
    for w in wordings:
        number, _, body = w.sms_uri.removeprefix("sms:").partition("?body=")
        sentence = bound.t(
            "console.print.proven", keyword=unquote(body), number=_SLOT, language=names[w.lang]
        )
        shown = Markup('<span class="number">{}</span>').format(display_number(number))
        said.append(Markup(str(escape(sentence)).replace(_SLOT, str(shown))))
    return said


def todo_key(refused: PrintRefused) -> str:
    """Return the catalog key of what staff can do about a refusal (a general one for a
    reason the console has no advice of its own for)."""
    key = "console.print.todo." + refused.key.removeprefix("print.refused.")
    return key if words().catalogs.has(key) else "console.print.todo.other"


def _audited(choice: Choice, printed: Printed) -> dict[str, object]:
    """Return what the audit log keeps of a print: kind, language(s), poster size, pages."""
    size = {"size": choice.size} if choice.kind == "poster" else {}
    return {"kind": choice.kind, "language": choice.lang, **size, "pages": printed.pages}


@bp.get("/print")
@signed_in
def print_page() -> str:
    """Show the print form; with a kind chosen, the first page's picture or why it cannot print
    (proving and drawing write nothing)."""
    offered = sites()
    choice = chosen(request.args, offered)
    return _page(choice, offered, attempt(choice) if choice else None)


@bp.post("/print")
@signed_in
def print_download() -> Response | tuple[str, int]:
    """Prove and draw the print again, record it in the audit log, and send the PDF."""
    offered = sites()
    choice = chosen(request.form, offered)
    if choice is None:
        abort(400)
    outcome = attempt(choice)
    if isinstance(outcome, PrintRefused):
        return _page(choice, offered, outcome), 422
    with db().conn:
        store.record(
            db(),
            now(),
            who(),
            PRINTED,
            choice.kind,
            site=choice.site,
            after=_audited(choice, outcome),
        )
    return Response(
        outcome.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{choice.file_name()}"'},
    )
