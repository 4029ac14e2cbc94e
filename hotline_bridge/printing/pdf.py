"""Turning laid-out pages into a PDF: Jinja templates with print CSS, drawn by WeasyPrint.

Nothing is fetched while drawing: the style sheet is inlined, QR codes are data URIs, fonts come
from the machine's fontconfig (Debian's DejaVu, which covers Spanish) and are embedded in the PDF.
A template that asked for anything else would stop the rendering.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from weasyprint import HTML
from weasyprint.formatting_structure import boxes
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


# The boxes whose contents must stay inside them: each printed piece, and each tear-off tab's
# turned text (checked before it is turned; the template makes it fit its tab once turned).
FRAMES = frozenset({"piece", "turn"})

# How far, in CSS pixels, drawn text may cross its frame's edge (rounding, glyph overhang).
TOLERANCE = 0.5


class DoesNotFit(Exception):
    """Some printed words or a QR code would be cut off at the edge of a card or sticker."""


def write(document: str) -> bytes:
    """Draw ``document`` as PDF bytes, refusing every fetch but inline data, and refusing a
    layout in which anything would be cut off (a card missing half its number is worse than
    no card)."""
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    drawn = HTML(string=document, url_fetcher=fetcher).render()
    for page in drawn.pages:
        _check_fit(page._page_box)  # the laid-out boxes have no public name
    pdf = drawn.write_pdf()
    assert pdf is not None  # write_pdf returns bytes when given no target
    return pdf


def _check_fit(box: Any, frame: Any = None) -> None:
    element = getattr(box, "element", None)
    classes = set((element.get("class") or "").split()) if element is not None else set()
    if classes & FRAMES and not isinstance(box, boxes.TextBox):
        frame = box
    drawn = isinstance(box, boxes.TextBox | boxes.ReplacedBox)
    if frame is not None and drawn and not _inside(box, frame):
        raise DoesNotFit(getattr(box, "text", "an image"))
    for child in _children(box):
        _check_fit(child, frame)


def _children(box: Any) -> Iterator[Any]:
    yield from getattr(box, "children", ())


def _edges(box: Any) -> tuple[float, float, float, float]:
    left, top = box.border_box_x(), box.border_box_y()
    return left, top, left + box.border_width(), top + box.border_height()


def _inside(box: Any, frame: Any) -> bool:
    left, top, right, bottom = _edges(frame)
    box_left, box_top, box_right, box_bottom = _edges(box)
    return (
        box_left >= left - TOLERANCE
        and box_top >= top - TOLERANCE
        and box_right <= right + TOLERANCE
        and box_bottom <= bottom + TOLERANCE
    )
