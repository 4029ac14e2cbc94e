"""The nearest services to a ZIP code: distance in miles, nearest first, open now or not.

ZIP codes become coordinates through an offline table (the ``zipcodes`` package), loaded once per
process; nothing goes over the network. A ZIP code is used for one lookup and never stored or
logged. The query keeps to a bounding box around the ZIP code on an indexed table and widens it
only when too few services are inside, so a directory of 50,000 services answers in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import sqlite_utils
import zipcodes

from hotline_bridge.directory.hours import open_now
from hotline_bridge.directory.models import (
    FALLBACK_LANGUAGE,
    Service,
    Site,
    get_services,
    get_site,
)
from hotline_bridge.engine.step import ZIP_CODE

# Mean radius of the Earth in miles, for the haversine distance.
EARTH_RADIUS_MILES = 3958.8
# Miles per degree of latitude (near enough everywhere for a bounding box).
MILES_PER_DEGREE = 69.0
# Search radii tried in turn: a city first, then the region, then the state and beyond. Services
# farther than the last radius are not "near" and are not offered.
RADII_MILES = (10.0, 30.0, 100.0, 300.0)


@dataclass(frozen=True)
class Nearby:
    """One service near a ZIP code."""

    service: Service
    miles: float
    open_now: bool | None


def spoken_languages(languages: str | None) -> set[str]:
    """Return the language codes of a ``languages`` field ("en, es" -> {"en", "es"})."""
    return {part.strip().lower() for part in re.split(r"[,;/\s]+", languages or "") if part}


@cache
def _zip_table() -> dict[str, tuple[float, float]]:
    """Every US ZIP code's centre, read once from the offline table."""
    return {
        row["zip_code"]: (float(row["lat"]), float(row["long"]))
        for row in zipcodes.list_all()
        if row.get("lat") and row.get("long")
    }


def zip_point(zip_code: str) -> tuple[float, float] | None:
    """Return the latitude and longitude of a five-digit ZIP code, or None if it is unknown."""
    if not ZIP_CODE.match(zip_code or ""):
        return None
    return _zip_table().get(zip_code)


def warm_up() -> None:
    """Load the ZIP table now, so the first person to send a ZIP code does not wait for it."""
    _zip_table()


def miles_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle (haversine) distance in miles between two points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def _box(point: tuple[float, float], miles: float) -> tuple[float, float, float, float]:
    lat, lon = point
    dlat = miles / MILES_PER_DEGREE
    # A degree of longitude shrinks toward the poles; never let the box collapse.
    dlon = miles / (MILES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


# Rows inside the box, nearest first by a flat-earth estimate SQLite can compute (the box is
# small enough for it to order almost exactly); the exact distance is worked out in Python.
_IN_BOX = """
    select s.id, s.latitude, s.longitude, s.languages from services s
    where s.category in ({marks}) and s.status = 'active'
      and s.latitude between ? and ? and s.longitude between ? and ?
      and exists (select 1 from service_sites l where l.service_id = s.id and l.site_id = ?)
    order by (s.latitude - ?) * (s.latitude - ?) + (s.longitude - ?) * (s.longitude - ?) * ?
    limit ?
"""

# How many more rows than wanted to take from the estimate, so that exact distances and the
# language tie-break still see every service that could belong on the page.
MARGIN_FACTOR, MARGIN_ROWS = 4, 20


@dataclass(frozen=True)
class _Candidate:
    miles: float
    id: str
    languages: str | None

    def order(self, lang: str) -> tuple[float, bool]:
        """Nearest first; at a distance that reads the same, the person's language first."""
        return (round(self.miles, 1), lang not in spoken_languages(self.languages))


def _ordered(
    db: sqlite_utils.Database, found: list[_Candidate], lang: str, wanted: int
) -> list[_Candidate]:
    """Sort ``found`` by ``order``, then by the label the person reads and the id. Labels are
    read only for candidates that tie where the page is cut from, usually none."""
    keys = {candidate.id: candidate.order(lang) for candidate in found}
    found = sorted(found, key=lambda candidate: (keys[candidate.id], candidate.id))
    shown = {keys[candidate.id] for candidate in found[:wanted]}
    counted = Counter(keys.values())
    tied = [c.id for c in found if keys[c.id] in shown and counted[keys[c.id]] > 1]
    if not tied:
        return found
    labels = _labels(db, tied, lang)
    return sorted(found, key=lambda c: (keys[c.id], labels.get(c.id, ""), c.id))


def _candidates(
    db: sqlite_utils.Database,
    point: tuple[float, float],
    categories: Sequence[str],
    site: str,
    wanted: int,
) -> list[_Candidate]:
    """Return the services inside the smallest radius that holds ``wanted`` of them."""
    sql = _IN_BOX.format(marks=", ".join("?" for _ in categories))
    lat, lon = point
    squeeze = math.cos(math.radians(lat)) ** 2
    order = [lat, lat, lon, lon, squeeze, wanted * MARGIN_FACTOR + MARGIN_ROWS]
    found: list[_Candidate] = []
    for radius in RADII_MILES:
        rows = db.execute(sql, [*categories, *_box(point, radius), site, *order]).fetchall()
        found = []
        for sid, s_lat, s_lon, languages in rows:
            miles = miles_between(point, (s_lat, s_lon))
            if miles <= radius:
                found.append(_Candidate(miles, sid, languages))
        if len(found) >= wanted:
            break
    return found


# Each candidate's label in the person's language, else in English, in one query for them all.
_LABELS = """
    select service_id, label from service_texts
    where service_id in ({marks}) and language in (?, ?) and label is not null
    order by language = ?
"""


def _labels(db: sqlite_utils.Database, ids: Sequence[str], lang: str) -> dict[str, str]:
    sql = _LABELS.format(marks=", ".join("?" for _ in ids))
    # The person's language sorts last, so its label overwrites the English one.
    rows = db.execute(sql, [*ids, lang, FALLBACK_LANGUAGE, lang]).fetchall()
    return dict(rows)


def nearest(
    db: sqlite_utils.Database,
    zip_code: str,
    categories: Sequence[str],
    *,
    site: str | Site,
    lang: str,
    limit: int = 3,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> list[Nearby] | None:
    """Return the services of ``categories`` shown at ``site`` nearest to ``zip_code``.

    ``site`` is a ``Site`` or a site id. Nearest first; at equal distance (to a tenth of a mile,
    as shown) services that speak ``lang`` come first. ``open_now`` is judged at ``now`` (default:
    the current time) in the site's time zone. Returns None when the ZIP code is unknown, and an
    empty list when nothing is near.
    """
    point = zip_point(zip_code)
    if point is None:
        return None
    if not isinstance(site, Site):
        site = get_site(db, site) or Site(site)
    found = _candidates(db, point, categories, site.id, offset + limit)
    found = _ordered(db, found, lang, offset + limit)
    page = found[offset : offset + limit]
    services = get_services(db, [candidate.id for candidate in page])
    return [
        Nearby(service, round(candidate.miles, 1), open_now(service.hours, site.time_zone, now))
        for candidate, service in zip(page, services, strict=True)
    ]
