"""Turning laid-out pages into a PDF: Jinja templates with print CSS, drawn by WeasyPrint.

Nothing is fetched while drawing: the style sheet is inlined, QR codes are data URIs, fonts come
from the machine's fontconfig (Debian's DejaVu, which covers Spanish) and are embedded in the PDF.
A template that asked for anything else would stop the rendering.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from hotline_bridge.printing.layout import TABS, Kind, Page

_templates = Environment(
    loader=PackageLoader("hotline_bridge.printing", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def html(kind: Kind, pages: Sequence[Page], qr: Mapping[str, str], title: str) -> str:
    """Return the HTML document of ``pages``; ``qr`` holds each language's QR image, if any."""
    template = _templates.get_template("sheet.html")
    return template.render(
        kind=kind,
        pages=pages,
        qr=qr,
        title=title,
        tabs=range(TABS),
        css=_templates.loader.get_source(_templates, "print.css")[0],  # type: ignore[union-attr]
    )


def write(document: str) -> bytes:
    """Draw ``document`` as PDF bytes, refusing every fetch but inline data."""
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf = HTML(string=document, url_fetcher=fetcher).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when given no target
    return pdf
