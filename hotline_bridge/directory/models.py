"""Reading the directory: services, the sites that show them, and how their numbers are written."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from hotline_bridge.directory.store import DEFAULT_SITE, SERVICE_TEXTS, text_column
from hotline_bridge.engine.keywords import normalize
from hotline_bridge.engine.phones import EXTENSION_KEY as EXTENSION_KEY
from hotline_bridge.engine.phones import call_uri as call_uri
from hotline_bridge.engine.phones import dial_string as dial_string
from hotline_bridge.engine.phones import display_number as display_number
from hotline_bridge.engine.phones import display_phone as display_phone
from hotline_bridge.engine.phones import send_digits as send_digits

# The longest message that can still be a site's keyword.
MAX_KEYWORD_LENGTH = 40

# Three-digit service numbers dialled as they are.
SERVICE_CODES = frozenset({"211", "311", "411", "511", "611", "711", "811", "911", "988"})


# The language every service and site has words in (an import requires its English name); a
# word missing in another language falls back to it.
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Texts:
    """What a service says in one language: its discreet label, official name and description."""

    label: str | None = None
    name: str | None = None
    description: str | None = None


_NO_TEXTS = Texts()


@dataclass(frozen=True)
class Service:
    """One service of the directory, as every channel shows it."""

    id: str
    category: str
    # Its words by language code (rows of service_texts).
    texts: Mapping[str, Texts] = field(default_factory=dict, hash=False)
    phone: str | None = None
    sms: str | None = None
    sms_keyword: str | None = None
    tty: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    hours: str | None = None
    languages: str | None = None
    url: str | None = None
    national: int = 0
    fictional: int = 0
    # A confidential place (a shelter): the service is read with no street and no coordinates
    # at all (see ``_hidden``), and people are told to call for the address.
    confidential: int = 0
    # Dialled after the number connects; shown as "1-617-555-0123 ext. 100".
    phone_extension: str | None = None

    def _in(self, lang: str) -> Texts:
        return self.texts.get(lang) or _NO_TEXTS

    def label(self, lang: str) -> str:
        """Return what a list shows: the discreet label the clinic gave, else the service's own
        name in ``lang`` (``discreet.DiscreetNames`` stands in for a name that is not safe)."""
        return self._in(lang).label or self._in(FALLBACK_LANGUAGE).label or self.name(lang)

    def name(self, lang: str) -> str:
        """Return the official name, for a person who asked for detail."""
        return self._in(lang).name or self._in(FALLBACK_LANGUAGE).name or ""

    def description(self, lang: str) -> str:
        """Return the short description in ``lang`` (empty if there is none)."""
        return self._in(lang).description or ""

    def english_only_for(self, lang: str) -> bool:
        """Return whether the service answers in English but not in ``lang``, as its
        ``languages`` say ("en, es", "en, es, 200+ by interpreter"): a reader of ``lang`` is
        told before calling. Unknown languages, or an interpreter, tell nothing."""
        spoken = {item.strip().lower() for item in (self.languages or "").split(",")}
        if lang == FALLBACK_LANGUAGE or lang in spoken or any("interpret" in s for s in spoken):
            return False
        return spoken == {FALLBACK_LANGUAGE}


@dataclass(frozen=True)
class Site:
    """A clinic: its program name, default language and time zone, and what leads to it."""

    id: str
    # Its program name by language code (rows of site_texts).
    names: Mapping[str, str] = field(default_factory=dict, hash=False)
    default_language: str = "en"
    time_zone: str = "America/New_York"
    zip: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    numbers: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exit_url: str | None = None
    # The clinic confirmed that an exit_url on another server is reachable from its lobby.
    exit_url_confirmed: int = 0
    fictional: int = 0
    # The clinic turned off "Reply CALL" (the SMS line ringing a person from its number).
    callback_off: int = 0

    def program_name(self, lang: str) -> str | None:
        """Return the site's own program name in ``lang`` (else in its default language, else
        in English), or None to use the catalog's."""
        for code in (lang, self.default_language, FALLBACK_LANGUAGE):
            if self.names.get(code):
                return self.names[code]
        return None


_SERVICE_FIELDS = frozenset(Service.__dataclass_fields__)
_SITE_FIELDS = frozenset(Site.__dataclass_fields__)


# Characters no reply may carry (they make TwiML invalid XML): import refuses them, and they are
# dropped from whatever the database holds, however they got there. Tabs and line breaks stay.
_UNSAFE = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xFFFE, 0xFFFF]
)


def _safe(value: Any) -> Any:
    return value.translate(_UNSAFE) if isinstance(value, str) else value


def _place(row: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Return a service's values with the street as people read it (both address lines) and,
    for a confidential place, with no street and no coordinates: whatever a channel does with
    the ``Service`` it is given, it cannot show, say, send or print what it does not hold."""
    if row.get("confidential"):
        return {**values, "address": None, "latitude": None, "longitude": None}
    street = ", ".join(str(p) for p in (values.get("address"), _safe(row.get("address_2"))) if p)
    return {**values, "address": street or None}


def _service(row: Mapping[str, Any]) -> Service:
    values = {k: _safe(v) for k, v in row.items() if k in _SERVICE_FIELDS}
    texts = json.loads(row.get("texts") or "{}")
    values["texts"] = {lang: Texts(*(_safe(v) for v in words)) for lang, words in texts.items()}
    return Service(**_place(row, values))


def as_service(row: Mapping[str, Any]) -> Service:
    """Return a stored services row, or a row as files write it (``name_en``, ``label_es``,
    ... columns, as an import checks it), as the ``Service`` every channel shows."""
    if "texts" in row:
        return _service(row)
    words: dict[str, dict[str, str]] = {}
    for column, value in row.items():
        found = text_column(column, SERVICE_TEXTS)
        if found is not None and value:
            words.setdefault(found[1], {})[found[0]] = value
    texts = {lang: Texts(**{k: _safe(v) for k, v in w.items()}) for lang, w in words.items()}
    values = {k: _safe(v) for k, v in row.items() if k in _SERVICE_FIELDS}
    return Service(**_place(row, {**values, "texts": texts}))


def _site(row: Mapping[str, Any]) -> Site:
    values = {k: _safe(v) for k, v in row.items() if k in _SITE_FIELDS}
    values["numbers"] = tuple(json.loads(row.get("numbers") or "[]"))
    values["keywords"] = tuple(json.loads(row.get("keywords") or "[]"))
    names = json.loads(row.get("names") or "{}")
    values["names"] = {lang: _safe(name) for lang, name in names.items() if name}
    return Site(**{k: v for k, v in values.items() if v is not None})


def _rows(db: sqlite_utils.Database, sql: str, params: Sequence[object]) -> list[dict[str, Any]]:
    # Straight to sqlite3: these queries run on every webhook, and sqlite-utils' query() adds
    # more than the query itself costs.
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# A service's row with its words in every language, read in the same query (one lookup of
# service_texts' primary key per service, never one query per service).
_SERVICE = """
    select s.*, (select json_group_object(t.language, json_array(t.label, t.name, t.description))
                 from service_texts t where t.service_id = s.id) as texts
    from services s
"""
# A site's row with its program name in every language.
_SITE = """
    select sites.*, (select json_group_object(t.language, t.name)
                     from site_texts t where t.site_id = sites.id) as names
    from sites
"""


def get_service(db: sqlite_utils.Database, service_id: str) -> Service | None:
    """Return the service ``service_id``, or None."""
    rows = _rows(db, f"{_SERVICE} where s.id = ? and s.status = 'active'", [service_id])
    return _service(rows[0]) if rows else None


def services_in(
    db: sqlite_utils.Database, categories: Sequence[str], site_id: str = DEFAULT_SITE
) -> list[Service]:
    """Return the services of ``categories`` shown at ``site_id``: its local ones first, then
    the national lines in their checked order."""
    marks = ", ".join("?" for _ in categories)
    sql = f"""{_SERVICE}
        where s.category in ({marks}) and s.status = 'active'
          and (s.national = 1 or s.id in (select service_id from service_sites where site_id = ?))
        order by s.national, s.sort_order, coalesce(
          nullif((select t.label from service_texts t
                  where t.service_id = s.id and t.language = ?), ''),
          (select t.name from service_texts t where t.service_id = s.id and t.language = ?)
        ), s.id
    """
    return [
        _service(row)
        for row in _rows(db, sql, [*categories, site_id, FALLBACK_LANGUAGE, FALLBACK_LANGUAGE])
    ]


def get_services(db: sqlite_utils.Database, service_ids: Sequence[str]) -> list[Service]:
    """Return the services ``service_ids`` that exist, in the order given."""
    marks = ", ".join("?" for _ in service_ids)
    sql = f"{_SERVICE} where s.id in ({marks}) and s.status = 'active'"
    rows = _rows(db, sql, list(service_ids))
    found = {row["id"]: _service(row) for row in rows}
    return [found[i] for i in service_ids if i in found]


def kiosk_home_site(db: sqlite_utils.Database) -> str:
    """Return the site a bare ``/kiosk`` opens: the one clinic site when exactly one exists
    besides the built-in default, else the default."""
    sql = "select id from sites where id != ? limit 2"
    rows = db.execute(sql, [DEFAULT_SITE]).fetchall()
    return str(rows[0][0]) if len(rows) == 1 else DEFAULT_SITE


def get_site(db: sqlite_utils.Database, site_id: str) -> Site | None:
    """Return the site ``site_id``, or None."""
    rows = _rows(db, f"{_SITE} where sites.id = ?", [site_id])
    return _site(rows[0]) if rows else None


# The site whose numbers include the one given, or else the default site, in one query.
_SITE_FOR_NUMBER = f"""{_SITE}
    where sites.id = coalesce(
        (select sites.id from sites, json_each(sites.numbers) j where j.value = ? limit 1), ?)
"""


def site_for_number(db: sqlite_utils.Database, number: str | None) -> Site:
    """Return the site a Twilio number (a webhook's ``To``) leads to, or the default site."""
    rows = _rows(db, _SITE_FOR_NUMBER, [number or "", DEFAULT_SITE])
    return _site(rows[0]) if rows else Site(DEFAULT_SITE)


# Site keywords are words, so a message with a digit in it is never one (and costs no query).
NOT_A_KEYWORD = re.compile(r"\d")


# The sites that list a number among their own; one site means the number is dedicated to it.
_SITES_OF_NUMBER = "select sites.id from sites, json_each(sites.numbers) j where j.value = ?"


def site_for_keyword(
    db: sqlite_utils.Database, text: str, number: str | None = None
) -> Site | None:
    """Return the site whose keyword ``text`` is (clinics sharing one short code each print
    their own keyword on their cards), or None. Matching ignores case, accents and spaces.

    Keywords choose among sites only on a shared ``number``: on a number dedicated to one site,
    another site's keyword is just a message to that site, which answers it.
    """
    if NOT_A_KEYWORD.search(text) or len(text) > MAX_KEYWORD_LENGTH:
        return None
    return keyword_sites(db, number).get(normalize(text))


def keyword_sites(db: sqlite_utils.Database, number: str | None = None) -> dict[str, Site]:
    """Return the sites a message to ``number`` may name by keyword, by their keywords as
    ``normalize`` writes them (the first site to hold a keyword has it)."""
    owners = [row["id"] for row in _rows(db, _SITES_OF_NUMBER, [number])] if number else []
    sql = f"{_SITE} where sites.keywords is not null and sites.keywords != '[]'"
    found: dict[str, Site] = {}
    for row in _rows(db, sql, []):
        if len(owners) == 1 and row["id"] != owners[0]:
            continue
        site = _site(row)
        for word in json.loads(row["keywords"]):
            found.setdefault(normalize(word), site)
    return found
