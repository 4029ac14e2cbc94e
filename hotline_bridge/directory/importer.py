"""Loading the clinic's own directory: checking rows, then writing them in one transaction.

Staff bring services and sites as a simple CSV (see ``examples/services-template.csv``) or as an
Open Referral package (``hsds``). Every value is checked before anything is written, and every
problem is reported as ``FILE:LINE: field: reason`` so staff can fix the spreadsheet and try
again. By default one problem refuses the whole import; nothing is half-loaded.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import sqlite_utils

from hotline_bridge.directory import hours
from hotline_bridge.directory.models import SERVICE_CODES
from hotline_bridge.directory.nearby import zip_point
from hotline_bridge.directory.store import DEFAULT_SITE
from hotline_bridge.engine.catalogs import LANGUAGES

CATEGORIES = (
    "talk_now",
    "emergency",
    "legal",
    "immigration",
    "housing",
    "mental_health",
    "substance_use",
    "medical",
    "basic_needs",
    "employment",
    "youth",
)

SERVICE_COLUMNS = (
    "id",
    "site",
    "category",
    "label_en",
    "label_es",
    "name_en",
    "name_es",
    "description_en",
    "description_es",
    "phone",
    "sms",
    "tty",
    "address",
    "city",
    "state",
    "zip",
    "latitude",
    "longitude",
    "hours",
    "languages",
    "url",
    "fictional",
)
SITE_COLUMNS = (
    "id",
    "name_en",
    "name_es",
    "default_language",
    "time_zone",
    "zip",
    "latitude",
    "longitude",
    "numbers",
    "keywords",
    "exit_url",
    "fictional",
)
# Columns a file must have for us to know what it holds.
REQUIRED_SERVICE_COLUMNS = ("id", "category", "name_en")
REQUIRED_SITE_COLUMNS = ("id", "time_zone")

# Ids travel in conversation cookies, voice URLs and kiosk links, so they stay short and plain.
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
# Short codes (5 or 6 digits) are texted as they are.
_SHORT_CODE = re.compile(r"^\d{5,6}$")
# Labels are listed three to a text message, so they stay short.
LABEL_MAX = 24
_STATE = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_LIST_SEPARATOR = re.compile(r"[;,]")
# Quotes and spaces that spreadsheets and exports leave around values.
_STRAY = " \t\"'\u201c\u201d\u2018\u2019"


@dataclass(frozen=True)
class Problem:
    """One problem with one value of one row."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass
class Batch:
    """What a file holds once checked: the valid rows, the sites each service shows at, the
    problems found, and how many rows were read."""

    services: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0

    @property
    def valid(self) -> int:
        """Return how many rows passed every check."""
        return len(self.services) + len(self.sites)


@dataclass(frozen=True)
class Context:
    """What checking a row needs to know about the world outside the file."""

    known_sites: frozenset[str]
    national_ids: frozenset[str]
    sensitive_words: tuple[str, ...]
    default_label: Callable[[str, str], str]


class RowError(Exception):
    """A value that cannot be accepted, with the field at fault."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field_name, reason


def context_for(
    db: sqlite_utils.Database,
    sensitive_words: Sequence[str],
    default_label: Callable[[str, str], str],
) -> Context:
    """Return the checking context for ``db`` (the sites and national lines already there)."""
    return Context(
        known_sites=frozenset(row["id"] for row in db.query("select id from sites")),
        national_ids=frozenset(
            row["id"] for row in db.query("select id from services where national = 1")
        ),
        sensitive_words=tuple(sensitive_words),
        default_label=default_label,
    )


# --- Reading a CSV file ----------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield each row of a CSV file with the line it starts on (a quoted value may span lines)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        reader.fieldnames  # noqa: B018 (reads the header, so line numbers start after it)
        start = reader.line_num + 1
        for row in reader:
            yield start, {k.strip(): (v or "").strip() for k, v in row.items() if k}
            start = reader.line_num + 1


def header(path: Path) -> list[str]:
    """Return the column names of a CSV file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def kind_of(columns: Sequence[str]) -> str | None:
    """Return what a CSV holds, by its columns: "services", "sites", or None."""
    if all(name in columns for name in REQUIRED_SERVICE_COLUMNS):
        return "services"
    if all(name in columns for name in REQUIRED_SITE_COLUMNS):
        return "sites"
    return None


def check_services_csv(
    path: Path, ctx: Context, rows: Iterable[tuple[int, dict[str, str]]] | None = None
) -> Batch:
    """Check a services CSV; ``rows`` may be the file's rows wrapped in a progress bar."""
    batch = Batch()
    batch.problems.extend(_column_problems(path, SERVICE_COLUMNS, REQUIRED_SERVICE_COLUMNS))
    if batch.problems:
        return batch
    seen: set[str] = set()
    for line, raw in rows if rows is not None else read_rows(path):
        batch.rows += 1
        row, links, problems = check_service(raw, ctx)
        if row and row["id"] in seen:
            problems.append(RowError("id", f"{row['id']!r} appears twice in this file"))
        batch.problems.extend(Problem(path.name, line, p.field, p.reason) for p in problems)
        if row and not problems:
            seen.add(row["id"])
            batch.services.append(row)
            batch.links[row["id"]] = links
    return batch


def check_sites_csv(
    path: Path, ctx: Context, rows: Iterable[tuple[int, dict[str, str]]] | None = None
) -> Batch:
    """Check a sites CSV."""
    batch = Batch()
    batch.problems.extend(_column_problems(path, SITE_COLUMNS, REQUIRED_SITE_COLUMNS))
    if batch.problems:
        return batch
    for line, raw in rows if rows is not None else read_rows(path):
        batch.rows += 1
        row, problems = check_site(raw, ctx)
        batch.problems.extend(Problem(path.name, line, p.field, p.reason) for p in problems)
        if row and not problems:
            batch.sites.append(row)
    return batch


def _column_problems(path: Path, known: Sequence[str], required: Sequence[str]) -> list[Problem]:
    columns = header(path)
    problems = [
        Problem(path.name, 1, name or "(empty)", "unknown column")
        for name in columns
        if name not in known
    ]
    problems += [
        Problem(path.name, 1, name, "required column is missing")
        for name in required
        if name not in columns
    ]
    return problems


# --- Checking one row -------------------------------------------------------------------------


def check_service(
    raw: Mapping[str, str], ctx: Context
) -> tuple[dict[str, Any] | None, list[str], list[RowError]]:
    """Check one service row; return the row to store, its sites, and every problem found."""
    problems: list[RowError] = []
    row: dict[str, Any] = {}
    for name, check in _SERVICE_CHECKS:
        try:
            row[name] = check(raw, ctx)
        except RowError as exc:
            problems.append(exc)
    links = []
    try:
        links = _sites_of(raw, ctx)
    except RowError as exc:
        problems.append(exc)
    if not problems:
        problems.extend(_check_place(row, raw))
        problems.extend(_check_labels(row, ctx))
    return (row if not problems else None), links, problems


def _value(raw: Mapping[str, str], name: str) -> str:
    return (raw.get(name) or "").strip()


def _check_id(raw: Mapping[str, str], ctx: Context) -> str:
    value = _value(raw, "id")
    if not value:
        raise RowError("id", "missing")
    if not _ID.match(value):
        raise RowError("id", f"{value!r}: use up to 64 letters, digits, '-', '_' or '.'")
    if value in ctx.national_ids:
        raise RowError("id", f"{value!r} is a national line, which cannot be changed here")
    return value


def _check_category(raw: Mapping[str, str], _ctx: Context) -> str:
    value = _value(raw, "category").lower()
    if value not in CATEGORIES:
        shown = value or "(empty)"
        raise RowError(
            "category", f"unknown category {shown!r} (use one of {', '.join(CATEGORIES)})"
        )
    return value


def _required(name: str) -> Callable[[Mapping[str, str], Context], str]:
    def check(raw: Mapping[str, str], _ctx: Context) -> str:
        value = _value(raw, name)
        if not value:
            raise RowError(name, "missing")
        return value

    return check


def _optional(name: str) -> Callable[[Mapping[str, str], Context], str | None]:
    return lambda raw, _ctx: _value(raw, name) or None


def phone_number(
    text: str, field_name: str, *, short_codes: bool = False, strict: bool = True
) -> str | None:
    """Return a phone number as E.164 (``+16175550123``), or a service number (``988``) or
    short code as it is; None for an empty value. Raise ``RowError`` for anything else.

    ``strict`` numbers (the ones people are given) must be valid assigned numbers; a site's own
    Twilio numbers only need the right shape, since they are matched and never dialled.
    """
    value = text.strip(_STRAY)
    if not value:
        return None
    if value in SERVICE_CODES or (short_codes and _SHORT_CODE.match(value)):
        return value
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        raise RowError(field_name, f"{value!r} is not a phone number") from None
    usable = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not usable(parsed):
        raise RowError(field_name, f"{value!r} is not a valid phone number")
    if parsed.country_code != 1:
        raise RowError(field_name, f"{value!r} is not a US number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _phone(name: str, *, short_codes: bool = False) -> Callable[[Mapping[str, str], Context], Any]:
    return lambda raw, _ctx: phone_number(_value(raw, name), name, short_codes=short_codes)


def _check_state(raw: Mapping[str, str], _ctx: Context) -> str | None:
    value = _value(raw, "state").upper()
    if value and not _STATE.match(value):
        raise RowError("state", f"{value!r} is not a two-letter state code like MA")
    return value or None


def zip_code(text: str) -> str | None:
    """Return a five-digit ZIP code (ZIP+4 is cut to five), None for empty; else ``RowError``."""
    value = text.strip(_STRAY)
    if not value:
        return None
    if re.match(r"^\d{5}(-\d{4})?$", value):
        return value[:5]
    raise RowError("zip", f"{value!r} is not a five-digit ZIP code")


def coordinate(text: str, name: str, limit: float) -> float | None:
    """Return a latitude or longitude within ``limit`` degrees, None for empty."""
    value = text.strip(_STRAY)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RowError(name, f"{value!r} is not a number") from None
    if not -limit <= number <= limit:
        raise RowError(name, f"{value} is out of range (-{limit:g} to {limit:g})")
    return number


def _check_hours(raw: Mapping[str, str], _ctx: Context) -> str | None:
    value = _value(raw, "hours")
    if not value:
        return None
    try:
        return hours.canonical(value)
    except hours.HoursError as exc:
        raise RowError("hours", f"unreadable hours {value!r}: {exc}") from None


def languages(text: str) -> str | None:
    """Return language codes as ``en, es``; None for empty."""
    codes = [part.strip().lower() for part in _LIST_SEPARATOR.split(text) if part.strip()]
    for code in codes:
        if not _LANGUAGE.match(code):
            raise RowError("languages", f"{code!r} is not a language code like en or es")
    return ", ".join(dict.fromkeys(codes)) or None


def url(text: str, name: str = "url") -> str | None:
    """Return a web address, None for empty."""
    value = text.strip(_STRAY)
    if value and not re.match(r"^https?://[^\s]+$", value):
        raise RowError(name, f"{value!r} is not a web address starting with http:// or https://")
    return value or None


def flag(text: str, name: str = "fictional") -> int:
    """Return 1 or 0 for a yes/no column."""
    value = text.strip().lower()
    if value in {"1", "yes", "true", "y", "sí", "si"}:
        return 1
    if value in {"", "0", "no", "false", "n"}:
        return 0
    raise RowError(name, f"{text!r} is not yes or no")


_SERVICE_CHECKS: tuple[tuple[str, Callable[[Mapping[str, str], Context], Any]], ...] = (
    ("id", _check_id),
    ("category", _check_category),
    ("name_en", _required("name_en")),
    ("name_es", _optional("name_es")),
    ("label_en", _optional("label_en")),
    ("label_es", _optional("label_es")),
    ("description_en", _optional("description_en")),
    ("description_es", _optional("description_es")),
    ("phone", _phone("phone")),
    ("sms", _phone("sms", short_codes=True)),
    ("tty", _phone("tty")),
    ("address", _optional("address")),
    ("city", _optional("city")),
    ("state", _check_state),
    ("zip", lambda raw, _ctx: zip_code(_value(raw, "zip"))),
    ("latitude", lambda raw, _ctx: coordinate(_value(raw, "latitude"), "latitude", 90)),
    ("longitude", lambda raw, _ctx: coordinate(_value(raw, "longitude"), "longitude", 180)),
    ("hours", _check_hours),
    ("languages", lambda raw, _ctx: languages(_value(raw, "languages"))),
    ("url", lambda raw, _ctx: url(_value(raw, "url"))),
    ("fictional", lambda raw, _ctx: flag(_value(raw, "fictional"))),
)


def _sites_of(raw: Mapping[str, str], ctx: Context) -> list[str]:
    names = [p.strip() for p in _LIST_SEPARATOR.split(_value(raw, "site")) if p.strip()]
    for name in names:
        if name not in ctx.known_sites:
            raise RowError("site", f"unknown site {name!r} (import the sites file first)")
    return names or [DEFAULT_SITE]


def _check_place(row: dict[str, Any], raw: Mapping[str, str]) -> list[RowError]:
    """Coordinates come in pairs; when both are empty, the ZIP code's centre stands in."""
    lat, lon = row.get("latitude"), row.get("longitude")
    if (lat is None) != (lon is None):
        missing = "longitude" if lon is None else "latitude"
        return [RowError(missing, "give both latitude and longitude, or neither")]
    if lat is None and row.get("zip"):
        point = zip_point(row["zip"])
        if point is None:
            return [RowError("zip", f"{row['zip']!r} is not a known US ZIP code")]
        row["latitude"], row["longitude"] = point
    return []


def _check_labels(row: dict[str, Any], ctx: Context) -> list[RowError]:
    """Labels are what a person's screen shows first: never an alarming word. A missing label
    is the category's neutral one from the catalogs."""
    problems = []
    for lang in LANGUAGES:
        name = f"label_{lang}"
        if not row.get(name):
            row[name] = ctx.default_label(row["category"], lang)
            continue
        hits = sensitive_hits(row[name], ctx.sensitive_words)
        if len(row[name]) > LABEL_MAX:
            problems.append(RowError(name, f"longer than {LABEL_MAX} characters; keep it short"))
        elif hits:
            problems.append(
                RowError(name, f"label uses the word {hits[0]!r}; choose a neutral one")
            )
    return problems


def fold(text: str) -> str:
    """Return ``text`` lower-cased without accents, so "Policía" and "policia" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sensitive_hits(text: str, words: Sequence[str]) -> list[str]:
    """Return the sensitive ``words`` that start a word of ``text``, ignoring case and accents
    (so plurals and other forms count too: "víctimas", "abused")."""
    folded = fold(text)
    return [w for w in words if re.search(rf"(?<!\w){re.escape(fold(w))}", folded)]


def check_site(
    raw: Mapping[str, str], ctx: Context
) -> tuple[dict[str, Any] | None, list[RowError]]:
    """Check one site row; return the row to store and every problem found."""
    problems: list[RowError] = []
    row: dict[str, Any] = {}
    for name, check in _SITE_CHECKS:
        try:
            row[name] = check(raw, ctx)
        except RowError as exc:
            problems.append(exc)
    for lang in LANGUAGES:
        hits = sensitive_hits(row.get(f"name_{lang}") or "", ctx.sensitive_words)
        if hits:
            problems.append(RowError(f"name_{lang}", f"the program name uses {hits[0]!r}"))
    if not problems and row["latitude"] is None and row["zip"]:
        row["latitude"], row["longitude"] = zip_point(row["zip"]) or (None, None)
    return (row if not problems else None), problems


def _site_id(raw: Mapping[str, str], _ctx: Context) -> str:
    value = _value(raw, "id")
    if not _ID.match(value):
        raise RowError("id", f"{value!r}: use up to 64 letters, digits, '-', '_' or '.'")
    return value


def _default_language(raw: Mapping[str, str], _ctx: Context) -> str:
    value = _value(raw, "default_language").lower() or "en"
    if value not in LANGUAGES:
        raise RowError("default_language", f"{value!r} is not one of {', '.join(LANGUAGES)}")
    return value


def _time_zone(raw: Mapping[str, str], _ctx: Context) -> str:
    value = _value(raw, "time_zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise RowError("time_zone", f"{value!r} is not a time zone like America/Chicago") from None
    return value


def _numbers(raw: Mapping[str, str], _ctx: Context) -> list[str]:
    parts = [p for p in _LIST_SEPARATOR.split(_value(raw, "numbers")) if p.strip()]
    numbers = (phone_number(p, "numbers", short_codes=True, strict=False) for p in parts)
    return [number for number in numbers if number]


def _keywords(raw: Mapping[str, str], _ctx: Context) -> list[str]:
    words = [p.strip().upper() for p in _LIST_SEPARATOR.split(_value(raw, "keywords"))]
    for word in words:
        if word and not word.isalnum():
            raise RowError("keywords", f"{word!r} must be one word of letters and digits")
    return [word for word in words if word]


def _site_coordinate(name: str, limit: float) -> Callable[[Mapping[str, str], Context], Any]:
    return lambda raw, _ctx: coordinate(_value(raw, name), name, limit)


_SITE_CHECKS: tuple[tuple[str, Callable[[Mapping[str, str], Context], Any]], ...] = (
    ("id", _site_id),
    ("name_en", _optional("name_en")),
    ("name_es", _optional("name_es")),
    ("default_language", _default_language),
    ("time_zone", _time_zone),
    ("zip", lambda raw, _ctx: zip_code(_value(raw, "zip"))),
    ("latitude", _site_coordinate("latitude", 90)),
    ("longitude", _site_coordinate("longitude", 180)),
    ("numbers", _numbers),
    ("keywords", _keywords),
    ("exit_url", lambda raw, _ctx: url(_value(raw, "exit_url"), "exit_url")),
    ("fictional", lambda raw, _ctx: flag(_value(raw, "fictional"))),
)


# --- Writing ----------------------------------------------------------------------------------


def write(db: sqlite_utils.Database, batch: Batch, *, source: str) -> None:
    """Write a checked batch in one transaction, replacing rows with the same id."""
    with db.atomic():
        for site in batch.sites:
            values = {
                **site,
                "numbers": _json(site["numbers"]),
                "keywords": _json(site["keywords"]),
            }
            db.table("sites").upsert(values, pk="id")
        if batch.services:
            rows = [{**row, "national": 0, "source": source} for row in batch.services]
            db.table("services").upsert_all(rows, pk="id")
            _write_links(db, batch.links)


def _write_links(db: sqlite_utils.Database, links: Mapping[str, Sequence[str]]) -> None:
    ids = list(links)
    for start in range(0, len(ids), 500):  # SQLite limits the number of parameters
        chunk = ids[start : start + 500]
        db.execute(
            f"delete from service_sites where service_id in ({', '.join('?' for _ in chunk)})",
            chunk,
        )
    db.table("service_sites").insert_all(
        ({"service_id": sid, "site_id": site} for sid, sites in links.items() for site in sites),
        pk=("service_id", "site_id"),
    )


def _json(values: Sequence[str]) -> str | None:
    return json.dumps(list(values)) if values else None
