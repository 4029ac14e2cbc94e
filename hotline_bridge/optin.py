"""The opt-in image carriers ask for (``GET /optin/<site>.png``): the site's printed wallet card
as a picture, at a stable public address of the line.

A toll-free verification and an A2P 10DLC campaign each need a public image of how people opt
in; here that is the card a clinic hands out ("Text WELLNESS to ..."), drawn by the same
printing code that prints it, proven number and keyword included, and its first page turned
into a PNG by poppler's pdftoppm (``printing.preview``, already what the console's print
preview uses). Drawing takes a second or two, so each site's picture is kept in memory for the
day it was drawn on; a site that cannot be printed, or an unknown one, is a 404.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, abort, current_app

from hotline_bridge.directory.models import get_site
from hotline_bridge.directory.store import get_db

# What a site id in the address may be; anything else is not looked up at all.
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Pictures kept at most (a deployment has a handful of sites).
MAX_KEPT = 32
# How long a browser or Twilio's reviewers may keep the picture.
MAX_AGE_SECONDS = 3600

bp = Blueprint("optin", __name__)


@dataclass
class Kept:
    """Each site's picture, with the day it was drawn on."""

    pictures: dict[str, tuple[dt.date, bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def draw(app: Flask, site_id: str, today: dt.date) -> bytes | None:
    """Return the site's wallet card (both languages) as a PNG, or None when it cannot be
    printed or drawn."""
    from hotline_bridge.printing import PrintRefused, Request, print_pdf
    from hotline_bridge.printing.preview import first_page_png

    try:
        document = print_pdf(app, Request(site_id, "wallet", "both"), today)
    except PrintRefused:
        return None
    return first_page_png(document)


def picture(app: Flask, site_id: str, today: dt.date) -> bytes | None:
    """Return the site's picture for ``today``, drawn once a day."""
    kept: Kept = app.extensions["hotline_bridge.optin"]
    with kept.lock:
        found = kept.pictures.get(site_id)
        if found and found[0] == today:
            return found[1]
    drawn = draw(app, site_id, today)
    if drawn is not None:
        with kept.lock:
            if len(kept.pictures) >= MAX_KEPT:
                kept.pictures.clear()
            kept.pictures[site_id] = (today, drawn)
    return drawn


@bp.get("/optin/<site_id>.png")
def image(site_id: str) -> Response:
    """The site's printed card as a PNG."""
    if not SITE_ID.match(site_id) or get_site(get_db(), site_id) is None:
        abort(404)
    drawn = picture(current_app, site_id, dt.datetime.now(dt.UTC).date())
    if drawn is None:
        abort(404)
    response = Response(drawn, mimetype="image/png")
    # Public: the card is handed out; carriers' reviewers fetch it from anywhere.
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return response


def init_app(app: Flask) -> None:
    """Register the opt-in image's address."""
    app.extensions["hotline_bridge.optin"] = Kept()
    app.register_blueprint(bp)
