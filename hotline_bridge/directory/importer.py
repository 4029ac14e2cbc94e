"""Loading the clinic's own directory: checking rows, then writing them in one transaction.

Staff bring services and sites as a simple CSV (see ``examples/services-template.csv``) or as an
Open Referral package (``hsds``). Every value is checked before anything is written, and every
problem is reported as ``FILE:LINE: field: reason`` so staff can fix the spreadsheet and try
again. By default one problem refuses the whole import; nothing is half-loaded. Each reason is
English for the command line and a ``Reason`` that carries its catalog key (``import.<key>``)
and values, so the console says it in its reader's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import sqlite_utils

from hotline_bridge.directory import hours
from hotline_bridge.directory.models import SERVICE_CODES
from hotline_bridge.directory.nearby import zip_point
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import (
    ACTIVE,
    DEFAULT_SITE,
    SERVICE_TEXTS,
    SITE_TEXTS,
    STATUSES,
    text_column,
    text_columns,
    with_texts,
    write_services,
    write_sites,
)
from hotline_bridge.engine.catalogs import LANGUAGES
from hotline_bridge.engine.keywords import Keywords

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
    "status",
    "phone_extension",
    "address_2",
    "confidential",
)
# Other names a services file may give a column, and the column each stands for.
COLUMN_ALIASES = {"address_confidential": "confidential", "extension": "phone_extension"}
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
    "exit_url_confirmed",
    "fictional",
    "callback_off",
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
    """One problem with one value of one row (line 0: with the file as a whole)."""

    file: str
    line: int
    field: str
    reason: Reason

    def __str__(self) -> str:
        if not self.line:
            return f"{self.file}: {self.reason}"
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


class FileProblem(Exception):
    """A file that cannot be read on: not UTF-8, or broken CSV; nothing from it is used."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Batch:
    """What a file holds once checked: the valid rows, the sites each service shows at, the
    problems found, and how many rows were read."""

    services: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # What staff should look at but does not stop the import (a sensitive name with no label).
    warnings: list[Problem] = field(default_factory=list)
    rows: int = 0
    # Every id the file names, valid or not: a service whose row has a problem is not absent.
    named: set[str] = field(default_factory=set)
    # The sites whose directory the file is: their services it does not name are retired.
    covers: set[str] = field(default_factory=set)
    # The line each service kept in ``services`` starts on, for problems found after checking.
    lines: dict[str, int] = field(default_factory=dict)

    # Services that passed every check (some may have gone straight to a Writer).
    checked: int = 0

    @property
    def valid(self) -> int:
        """Return how many rows passed every check."""
        return max(self.checked, len(self.services)) + len(self.sites)


@dataclass(frozen=True)
class Context:
    """What checking a row needs to know about the world outside the file."""

    known_sites: frozenset[str]
    national_ids: frozenset[str]
    sensitive_words: tuple[str, ...]
    # A category's discreet wording in a language: what a list shows for a sensitive name.
    default_label: Callable[[str, str], str]
    # The languages a row may have words in (columns name_<code>, ...): those of the catalogs.
    languages: tuple[str, ...] = LANGUAGES

    # Words that make a service's own name unsafe to list (``flows/sensitive-names.toml``).
    sensitive_names: tuple[str, ...] = ()
    # The languages in which a service's details (a checked row) cannot be sent within the
    # channels' budgets once its description is left for later; None: not checked.
    detail_fits: Callable[[Mapping[str, Any]], list[str]] | None = None
    # The languages in which a site's program name (a checked row) makes an answer that must
    # name it (HELP, STOP, START) longer than the SMS budget; None: not checked.
    program_fits: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    # The words a text conversation itself answers (STOP, HELP, MENU, ES...), which no site
    # keyword may be; None: not checked.
    line_keywords: Keywords | None = None

    def service_columns(self) -> tuple[str, ...]:
        """Return every column a services file may have, words in every language included."""
        return (
            *SERVICE_COLUMNS,
            *COLUMN_ALIASES,
            *_more_columns(SERVICE_TEXTS, self.languages),
        )

    def site_columns(self) -> tuple[str, ...]:
        """Return every column a sites file may have."""
        return (*SITE_COLUMNS, *_more_columns(SITE_TEXTS, self.languages))


def _more_columns(fields: Sequence[str], languages: Sequence[str]) -> list[str]:
    """The word columns of the languages beyond English and Spanish (whose columns are named)."""
    return text_columns(fields, [lang for lang in languages if lang not in LANGUAGES])


class RowError(Exception):
    """A value that cannot be accepted, with the field at fault."""

    def __init__(self, field_name: str, reason: Reason) -> None:
        super().__init__(reason)
        self.field, self.reason = field_name, reason


def context_for(
    db: sqlite_utils.Database,
    sensitive_words: Sequence[str],
    default_label: Callable[[str, str], str],
    languages: Sequence[str] = LANGUAGES,
    *,
    sensitive_names: Sequence[str] = (),
    detail_fits: Callable[[Mapping[str, Any]], list[str]] | None = None,
    program_fits: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None,
    line_keywords: Keywords | None = None,
) -> Context:
    """Return the checking context for ``db`` (the sites and national lines already there)."""
    return Context(
        known_sites=frozenset(row["id"] for row in db.query("select id from sites")),
        national_ids=frozenset(
            row["id"] for row in db.query("select id from services where national = 1")
        ),
        sensitive_words=tuple(sensitive_words),
        default_label=default_label,
        languages=tuple(languages),
        sensitive_names=tuple(sensitive_names),
        detail_fits=detail_fits,
        program_fits=program_fits,
        line_keywords=line_keywords,
    )


# --- Reading a CSV file ----------------------------------------------------------------------


# A value longer than this is refused (a label is 24, a description a few sentences); the CSV
# reader itself stops at READ_LIMIT, so a hostile file cannot fill the memory with one value.
VALUE_MAX = 4000
READ_LIMIT = 1_000_000
# Where a row's shape (too few or too many values) is noted for the row's checks to report.
SHAPE = "\x00shape"
# NUL cannot pass through Python's CSV reader; it is read as this stand-in, which the value
# checks refuse like any other control character.
NUL_STAND_IN = "\u2400"
NOT_UTF8 = Reason("not_utf8", "not UTF-8; save it as CSV UTF-8")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield each row of a CSV file with the line it starts on (a quoted value may span lines).

    Raises ``FileProblem`` for a file that is not UTF-8 or not CSV; a row with too few or too
    many values carries the reason under ``SHAPE``.
    """
    with _open_csv(path) as handle:
        reader = csv.reader(_lines(handle), strict=True)
        columns = [name.strip() for name in _next(reader, path, 1) or []]
        start = reader.line_num + 1
        while (values := _next(reader, path, start)) is not None:
            if any(v.strip() for v in values):
                yield start, _row(columns, values)
            start = reader.line_num + 1


def _open_csv(path: Path) -> TextIO:
    with path.open("rb") as raw:
        head = raw.read(64)
    # UTF-16 (what Excel's "Unicode text" writes) has a byte-order mark or NULs between letters.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00\x00" in head or head.count(0) > 8:
        raise FileProblem(Problem(path.name, 0, "file", NOT_UTF8))
    csv.field_size_limit(READ_LIMIT)
    return path.open(encoding="utf-8-sig", newline="")


def _lines(handle: TextIO) -> Iterator[str]:
    for text in handle:
        yield text.replace("\x00", NUL_STAND_IN)


def _next(reader: Any, path: Path, line: int) -> list[str] | None:
    try:
        return next(reader, None)
    except UnicodeDecodeError:
        raise FileProblem(Problem(path.name, 0, "file", NOT_UTF8)) from None
    except csv.Error as exc:
        reason = str(exc)
        found = Reason("not_csv", f"not readable as CSV: {reason}", reason=reason)
        if "unexpected end of data" in reason:
            found = Reason("quote", "not readable as CSV: a quote opened here is never closed")
        raise FileProblem(Problem(path.name, line, "file", found)) from None


def _row(columns: list[str], values: list[str]) -> dict[str, str]:
    row = {name: value.strip() for name, value in zip(columns, values, strict=False) if name}
    if len(values) != len(columns):
        # The first column without a value is the one to look at; a long row has none.
        at_fault = columns[len(values)] if len(values) < len(columns) else "row"
        row[SHAPE] = f"{at_fault}\x00{len(values)}\x00{len(columns)}"
    return row


def header(path: Path) -> list[str]:
    """Return the column names of a CSV file (``FileProblem`` if it cannot be read)."""
    with _open_csv(path) as handle:
        return [name.strip() for name in _next(csv.reader(_lines(handle)), path, 1) or []]


def kind_of(columns: Sequence[str]) -> str | None:
    """Return what a CSV holds, by its columns: "services", "sites", or None."""
    if all(name in columns for name in REQUIRED_SERVICE_COLUMNS):
        return "services"
    if all(name in columns for name in REQUIRED_SITE_COLUMNS):
        return "sites"
    return None


def check_services_csv(
    path: Path,
    ctx: Context,
    rows: Iterable[tuple[int, dict[str, str]]] | None = None,
    sink: Writer | None = None,
) -> Batch:
    """Check a services CSV; ``rows`` may be the file's rows wrapped in a progress bar. With a
    ``sink``, valid rows go straight to it instead of into the batch (a file of any size)."""
    batch = Batch()
    try:
        batch.problems.extend(
            _column_problems(path, ctx.service_columns(), REQUIRED_SERVICE_COLUMNS)
        )
        if batch.problems:
            return batch
        rows = rows if rows is not None else read_rows(path)
        _check_service_rows(path, ctx, rows, batch, sink)
    except FileProblem as exc:
        batch.problems.append(exc.problem)
    return batch


def _check_service_rows(
    path: Path,
    ctx: Context,
    rows: Iterable[tuple[int, dict[str, str]]],
    batch: Batch,
    sink: Writer | None,
) -> None:
    for line, raw in rows:
        batch.rows += 1
        row, links, problems = check_service(raw, ctx)
        if row and row["id"] in batch.named:
            english = f"{row['id']!r} appears twice in this file"
            problems.append(RowError("id", Reason("twice", english, value=repr(row["id"]))))
        batch.named.add(_value(raw, "id"))
        batch.problems.extend(Problem(path.name, line, p.field, p.reason) for p in problems)
        if row and not problems:
            batch.warnings.extend(
                Problem(path.name, line, w.field, w.reason) for w in service_warnings(row, ctx)
            )
            batch.checked += 1
            if sink is None:
                batch.services.append(row)
                batch.links[row["id"]] = links
                batch.lines[row["id"]] = line
            else:
                sink.add(row, links)


def check_sites_csv(
    path: Path, ctx: Context, rows: Iterable[tuple[int, dict[str, str]]] | None = None
) -> Batch:
    """Check a sites CSV."""
    batch = Batch()
    try:
        batch.problems.extend(_column_problems(path, ctx.site_columns(), REQUIRED_SITE_COLUMNS))
        if batch.problems:
            return batch
        for line, raw in rows if rows is not None else read_rows(path):
            batch.rows += 1
            row, problems = check_site(raw, ctx)
            batch.problems.extend(Problem(path.name, line, p.field, p.reason) for p in problems)
            if row and not problems:
                batch.sites.append(row)
    except FileProblem as exc:
        batch.problems.append(exc.problem)
    return batch


def _column_problems(path: Path, known: Sequence[str], required: Sequence[str]) -> list[Problem]:
    columns = header(path)
    problems = [
        Problem(path.name, 1, name or "(empty)", Reason("column", "unknown column"))
        for name in columns
        if name not in known
    ]
    problems += [
        Problem(path.name, 1, name, Reason("column_missing", "required column is missing"))
        for name in required
        if name not in columns
    ]
    return problems


# --- Checking one row -------------------------------------------------------------------------


def check_service(
    raw: Mapping[str, str], ctx: Context
) -> tuple[dict[str, Any] | None, list[str], list[RowError]]:
    """Check one service row; return the row to store, its sites, and every problem found."""
    problems = raw_problems(raw)
    if problems:
        return None, [], problems
    row: dict[str, Any] = {}
    for name, check in _SERVICE_CHECKS:
        try:
            row[name] = check(raw, ctx)
        except RowError as exc:
            problems.append(exc)
    row.update(_words(raw, SERVICE_TEXTS, ctx, row))
    links = []
    try:
        links = _sites_of(raw, ctx)
    except RowError as exc:
        problems.append(exc)
    if not problems:
        problems.extend(_check_place(row, raw))
        problems.extend(_check_labels(row, ctx))
    if not problems:
        problems.extend(_check_detail_fits(row, ctx))
    return (row if not problems else None), links, problems


# Characters no reply may carry: they make TwiML invalid XML or do odd things on a screen.
# Tabs and line breaks are spacing, and are read as spaces.
_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{NUL_STAND_IN}]")
_SPACING = re.compile(r"\s+")
# Typographic quotes, dashes and spaces that read the same as plain ones but push an English
# text message out of GSM-7 into UCS-2 (twice the segments).
TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
    }
)


def raw_problems(raw: Mapping[str, str]) -> list[RowError]:
    """Return what makes a row unreadable as it stands: its shape, control characters, and
    values too long to be what their column says."""
    problems = []
    if SHAPE in raw:
        at_fault, values, columns = raw[SHAPE].split("\x00")
        english = f"the row has {values} values, the header has {columns}"
        problems.append(RowError(at_fault, Reason("shape", english, n=values, columns=columns)))
    for name, value in raw.items():
        if name == SHAPE or not value:
            continue
        found = _CONTROL.search(value)
        if found:
            problems.append(RowError(name, _control_reason(found.group())))
        elif len(value) > VALUE_MAX:
            english = f"{len(value)} characters long; keep it under {VALUE_MAX}"
            problems.append(
                RowError(name, Reason("too_long", english, length=len(value), limit=VALUE_MAX))
            )
    return problems


def _control_reason(char: str) -> Reason:
    if char == NUL_STAND_IN:
        return Reason("nul", "contains a NUL byte; save the file again as CSV UTF-8")
    code = f"U+{ord(char):04X}"
    return Reason("control", f"contains the control character {code}; remove it", char=code)


def clean_text(text: str) -> str:
    """Return ``text`` with plain quotes, dashes and spaces for typographic ones, and every run
    of spacing (tabs and line breaks too) as one space."""
    if text.isascii() and not _ODD_SPACING.search(text):
        return text.strip()  # the usual case, and the cheap one
    return _SPACING.sub(" ", text.translate(TYPOGRAPHY)).strip()


_ODD_SPACING = re.compile(r"\s\s|[\t\n\r\f\v]")


# A cell a spreadsheet would run as a formula starts with one of these; exports put an
# apostrophe before it (spreadsheets show the value as text) and imports take it off again.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
# Negative coordinates are plain numbers to a spreadsheet, not formulas.
_PLAIN_NUMBER = re.compile(r"^-\d+(\.\d+)?$")


def guard_cell(value: str) -> str:
    """Return ``value`` as an exported CSV cell that no spreadsheet runs as a formula."""
    if _FORMULA.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def unguard_cell(value: str) -> str:
    """Undo ``guard_cell``, so re-importing an export gives the same directory."""
    if value.startswith("'") and _FORMULA.match(value[1:]):
        return value[1:]
    return value


def _value(raw: Mapping[str, str], name: str) -> str:
    value = raw.get(name)
    if not value:  # most columns of most rows: nothing to clean (the import's busiest call)
        return ""
    return clean_text(unguard_cell(value.strip()))


def _check_id(raw: Mapping[str, str], ctx: Context) -> str:
    value = _value(raw, "id")
    if not value:
        raise RowError("id", MISSING)
    if not _ID.match(value):
        raise RowError("id", _id_form(value))
    if value in ctx.national_ids:
        english = f"{value!r} is a national line, which cannot be changed here"
        raise RowError("id", Reason("national", english, value=repr(value)))
    return value


# Why an empty value of a column that needs one is refused.
MISSING = Reason("missing", "missing")


def _id_form(value: str) -> Reason:
    english = f"{value!r}: use up to 64 letters, digits, '-', '_' or '.'"
    return Reason("id_form", english, value=repr(value))


def _check_category(raw: Mapping[str, str], _ctx: Context) -> str:
    value = _value(raw, "category").lower()
    if value not in CATEGORIES:
        shown, known = repr(value or "(empty)"), ", ".join(CATEGORIES)
        english = f"unknown category {shown} (use one of {known})"
        raise RowError("category", Reason("category", english, value=shown, known=known))
    return value


def _words(
    raw: Mapping[str, str], fields: Sequence[str], ctx: Context, checked: Mapping[str, Any]
) -> dict[str, str | None]:
    """Return a row's words in every language of ``ctx`` (the ones already checked stay)."""
    columns = text_columns(fields, ctx.languages)
    return {c: _value(raw, c) or None for c in columns if c not in checked}


def _required(name: str) -> Callable[[Mapping[str, str], Context], str]:
    def check(raw: Mapping[str, str], _ctx: Context) -> str:
        value = _value(raw, name)
        if not value:
            raise RowError(name, MISSING)
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
    number, reason = _e164(value, strict)
    if number is None:
        english = f"{value!r} {_PHONE_REASONS[reason]}"
        raise RowError(field_name, Reason(reason, english, value=repr(value)))
    return number


# Why a value is not a number people can be given, by the key of its catalog entry.
_PHONE_REASONS = {
    "phone_unreadable": "is not a phone number",
    "phone_invalid": "is not a valid phone number",
    "phone_not_us": "is not a US number",
}


# Directories repeat numbers (an organization's main line behind many services), and parsing
# one is most of what checking a row costs, so each distinct number is parsed once.
@functools.lru_cache(maxsize=65536)
def _e164(value: str, strict: bool) -> tuple[str | None, str]:
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return None, "phone_unreadable"
    usable = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not usable(parsed):
        return None, "phone_invalid"
    if parsed.country_code != 1:
        return None, "phone_not_us"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ""


def _phone(name: str, *, short_codes: bool = False) -> Callable[[Mapping[str, str], Context], Any]:
    def check(raw: Mapping[str, str], _ctx: Context) -> str | None:
        number, _extension = split_extension(_value(raw, name))
        return phone_number(number, name, short_codes=short_codes)

    return check


# An extension written after a number: "617-555-0123 ext. 100", "x100", "extension 100",
# "ext 100", "ext.100", "#100" (Spanish: "ext." too).
_EXTENSION = re.compile(
    r"[\s,;]*(?:ext(?:ension|ensi[oó]n)?\.?|x|#)\s*(?P<digits>\d+)\s*$", re.IGNORECASE
)
_EXTENSION_DIGITS = re.compile(r"^\d{1,10}$")


def split_extension(phone: str) -> tuple[str, str | None]:
    """Return a phone value as its number and the extension written after it (or None)."""
    found = _EXTENSION.search(phone)
    if found is None or not found.start():
        return phone, None
    return phone[: found.start()], found["digits"]


def _check_extension(raw: Mapping[str, str], _ctx: Context) -> str | None:
    """An extension comes from its own column, or else from after the phone number."""
    value = _value(raw, "phone_extension") or _value(raw, "extension")
    written = split_extension(_value(raw, "phone"))[1]
    value = value.removeprefix("ext.").removeprefix("ext").strip() if value else written or ""
    if not value:
        return None
    if not _EXTENSION_DIGITS.match(value):
        english = f"{value!r} is not an extension of digits like 100"
        raise RowError("phone_extension", Reason("extension", english, value=repr(value)))
    if not _value(raw, "phone"):
        english = "an extension needs the phone number it is dialled after"
        raise RowError("phone_extension", Reason("extension_alone", english))
    return value


def _check_confidential(raw: Mapping[str, str], _ctx: Context) -> int:
    name = "confidential" if "confidential" in raw else "address_confidential"
    return flag(_value(raw, name), name)


def _plus_four(raw: Mapping[str, str], _ctx: Context) -> str | None:
    """The four digits of a ZIP+4, kept to be written back as they came."""
    value = _value(raw, "zip").strip(_STRAY)
    return value[6:] if re.match(r"^\d{5}-\d{4}$", value) else None


def _check_state(raw: Mapping[str, str], _ctx: Context) -> str | None:
    value = _value(raw, "state").upper()
    if value and not _STATE.match(value):
        raise RowError("state", state_reason(value))
    return value or None


def state_reason(value: str) -> Reason:
    """Return why ``value`` is not a state."""
    english = f"{value!r} is not a two-letter state code like MA"
    return Reason("state", english, value=repr(value))


def zip_code(text: str) -> str | None:
    """Return a five-digit ZIP code (ZIP+4 is cut to five), None for empty; else ``RowError``."""
    value = text.strip(_STRAY)
    if not value:
        return None
    if re.match(r"^\d{5}(-\d{4})?$", value):
        return value[:5]
    english = f"{value!r} is not a five-digit ZIP code"
    raise RowError("zip", Reason("zip", english, value=repr(value)))


def coordinate(text: str, name: str, limit: float) -> float | None:
    """Return a latitude or longitude within ``limit`` degrees, None for empty."""
    value = text.strip(_STRAY)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        english = f"{value!r} is not a number"
        raise RowError(name, Reason("not_number", english, value=repr(value))) from None
    if not -limit <= number <= limit:
        english = f"{value} is out of range (-{limit:g} to {limit:g})"
        raise RowError(name, Reason("range", english, value=value, limit=f"{limit:g}"))
    return number


def _check_hours(raw: Mapping[str, str], _ctx: Context) -> str | None:
    value = _value(raw, "hours")
    if not value:
        return None
    canonical, reason = _canonical_hours(value)
    if canonical is None:
        english = f"unreadable hours {value!r}: {reason}"
        raise RowError("hours", Reason("hours", english, value=repr(value), reason=reason))
    return canonical


# Most services of a directory share a handful of opening hours.
@functools.lru_cache(maxsize=4096)
def _canonical_hours(value: str) -> tuple[str | None, str]:
    try:
        return hours.canonical(value), ""
    except hours.HoursError as exc:
        return None, exc.args[0]  # a Reason, which the console says in its own language


def languages(text: str) -> str | None:
    """Return language codes as ``en, es``; None for empty."""
    codes = [part.strip().lower() for part in _LIST_SEPARATOR.split(text) if part.strip()]
    for code in codes:
        if not _LANGUAGE.match(code):
            english = f"{code!r} is not a language code like en or es"
            raise RowError("languages", Reason("language", english, value=repr(code)))
    return ", ".join(dict.fromkeys(codes)) or None


def url(text: str, name: str = "url") -> str | None:
    """Return a web address, None for empty."""
    value = text.strip(_STRAY)
    if value and not re.match(r"^https?://[^\s]+$", value):
        english = f"{value!r} is not a web address starting with http:// or https://"
        raise RowError(name, Reason("url", english, value=repr(value)))
    return value or None


def flag(text: str, name: str = "fictional") -> int:
    """Return 1 or 0 for a yes/no column."""
    value = text.strip().lower()
    if value in {"1", "yes", "true", "y", "sí", "si"}:
        return 1
    if value in {"", "0", "no", "false", "n"}:
        return 0
    raise RowError(name, Reason("flag", f"{text!r} is not yes or no", value=repr(text)))


_SERVICE_CHECKS: tuple[tuple[str, Callable[[Mapping[str, str], Context], Any]], ...] = (
    ("id", _check_id),
    ("category", _check_category),
    ("name_en", _required("name_en")),
    ("phone", _phone("phone")),
    ("phone_extension", _check_extension),
    ("sms", _phone("sms", short_codes=True)),
    ("tty", _phone("tty")),
    ("address", _optional("address")),
    ("address_2", _optional("address_2")),
    ("city", _optional("city")),
    ("state", _check_state),
    ("zip", lambda raw, _ctx: zip_code(_value(raw, "zip"))),
    ("zip4", _plus_four),
    ("confidential", _check_confidential),
    ("latitude", lambda raw, _ctx: coordinate(_value(raw, "latitude"), "latitude", 90)),
    ("longitude", lambda raw, _ctx: coordinate(_value(raw, "longitude"), "longitude", 180)),
    ("hours", _check_hours),
    ("languages", lambda raw, _ctx: languages(_value(raw, "languages"))),
    ("url", lambda raw, _ctx: url(_value(raw, "url"))),
    ("fictional", lambda raw, _ctx: flag(_value(raw, "fictional"))),
    ("status", lambda raw, _ctx: status(_value(raw, "status"))),
)


def status(text: str) -> str:
    """Return a service's status (HSDS 3.0's, or ours for retired); empty means active."""
    value = " ".join(text.lower().replace("_", " ").split()) or ACTIVE
    if value not in STATUSES:
        known = ", ".join(STATUSES)
        english = f"{text!r} is not one of {known}"
        raise RowError("status", Reason("one_of", english, value=repr(text), known=known))
    return value


def _sites_of(raw: Mapping[str, str], ctx: Context) -> list[str]:
    names = [p.strip() for p in _LIST_SEPARATOR.split(_value(raw, "site")) if p.strip()]
    for name in names:
        if name not in ctx.known_sites:
            english = f"unknown site {name!r} (import the sites file first)"
            raise RowError("site", Reason("site", english, value=repr(name)))
    return names or [DEFAULT_SITE]


def _check_place(row: dict[str, Any], raw: Mapping[str, str]) -> list[RowError]:
    """Coordinates come in pairs; when both are empty, the ZIP code's centre stands in, marked
    as the estimate it is (never written out as the place's own).

    A confidential place is found only by its ZIP code's centre: coordinates of its own would
    tell how far away it is to the tenth of a mile, so they are not kept at all."""
    lat, lon = row.get("latitude"), row.get("longitude")
    if (lat is None) != (lon is None):
        missing = "longitude" if lon is None else "latitude"
        english = "give both latitude and longitude, or neither"
        return [RowError(missing, Reason("pair", english))]
    row["estimated"] = 0
    if row.get("confidential"):
        row["latitude"] = row["longitude"] = lat = None
    if lat is None and row.get("zip"):
        point = zip_point(row["zip"])
        if point is None:
            english = f"{row['zip']!r} is not a known US ZIP code"
            return [RowError("zip", Reason("zip_unknown", english, value=repr(row["zip"])))]
        row["latitude"], row["longitude"] = point
        row["estimated"] = 1
    return []


def _check_labels(row: dict[str, Any], ctx: Context) -> list[RowError]:
    """Labels are what a person's screen shows first: never an alarming word. A missing label
    stays missing: lists then show the service's own name, which people can tell apart (see
    ``service_warnings`` for a name that is not safe to list)."""
    problems = []
    for lang in ctx.languages:
        name = f"label_{lang}"
        if not row.get(name):
            continue
        hits = sensitive_hits(row[name], ctx.sensitive_words)
        if len(row[name]) > LABEL_MAX:
            english = f"longer than {LABEL_MAX} characters; keep it short"
            problems.append(RowError(name, Reason("label_long", english, limit=LABEL_MAX)))
        elif hits:
            english = f"label uses the word {hits[0]!r}; choose a neutral one"
            problems.append(RowError(name, Reason("label_word", english, word=repr(hits[0]))))
    return problems


def service_warnings(row: Mapping[str, Any], ctx: Context) -> list[RowError]:
    """Return what staff should fix in a checked service that does not stop its import: a
    name with a sensitive word and no discreet label, which lists replace with the category's
    discreet wording until staff give one."""
    warnings: dict[str, RowError] = {}
    for lang in ctx.languages:
        if row.get(f"label_{lang}") or row.get("label_en"):
            continue
        field_name = f"name_{lang}" if row.get(f"name_{lang}") else "name_en"
        hits = sensitive_hits(row.get(field_name) or "", ctx.sensitive_names)
        if hits and field_name not in warnings:
            shown = ctx.default_label(row["category"], lang)
            english = (
                f"warning: the name holds {hits[0]!r} and there is no label_{lang}; lists show "
                f"{shown!r} instead until you give a discreet label"
            )
            reason = Reason(
                "name_word", english, word=repr(hits[0]), column=f"label_{lang}", shown=repr(shown)
            )
            warnings[field_name] = RowError(field_name, reason)
    return list(warnings.values())


def _check_detail_fits(row: Mapping[str, Any], ctx: Context) -> list[RowError]:
    """A service's details must fit every channel's budget (an SMS of three segments) in every
    language once the description is left for "the rest on request"."""
    if ctx.detail_fits is None:
        return []
    for lang in ctx.detail_fits(row):
        longest = max(("address", "hours", f"name_{lang}"), key=lambda n: len(row.get(n) or ""))
        english = (
            f"the details cannot fit one text message reply (3 segments) in {lang}, even "
            "without the description; shorten the name, address or hours"
        )
        field_name = longest if row.get(longest) else "name_en"
        return [RowError(field_name, Reason("detail_fits", english, language=lang))]
    return []


def fold(text: str) -> str:
    """Return ``text`` lower-cased without accents, so "Policía" and "policia" compare equal."""
    if text.isascii():  # no accents to take off (most names)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sensitive_hits(text: str, words: Sequence[str]) -> list[str]:
    """Return the sensitive ``words`` that start a word of ``text``, ignoring case and accents
    (so plurals and other forms count too: "víctimas", "abused")."""
    folded = fold(text)
    anyone, each = _word_patterns(tuple(words))
    if anyone is None or not anyone.search(folded):
        return []  # almost every name: one search, not one per word
    return [word for word, pattern in each if pattern.search(folded)]


@functools.lru_cache(maxsize=16)
def _word_patterns(
    words: tuple[str, ...],
) -> tuple[re.Pattern[str] | None, tuple[tuple[str, re.Pattern[str]], ...]]:
    """Compile, once per word list, a search for any of ``words`` and one for each."""
    starts = [rf"(?<!\w){re.escape(fold(word))}" for word in words]
    each = tuple((word, re.compile(start)) for word, start in zip(words, starts, strict=True))
    return (re.compile("|".join(starts)) if starts else None), each


def check_site(
    raw: Mapping[str, str], ctx: Context
) -> tuple[dict[str, Any] | None, list[RowError]]:
    """Check one site row; return the row to store and every problem found."""
    problems = raw_problems(raw)
    if problems:
        return None, problems
    row: dict[str, Any] = {}
    for name, check in _SITE_CHECKS:
        try:
            row[name] = check(raw, ctx)
        except RowError as exc:
            problems.append(exc)
    row.update(_words(raw, SITE_TEXTS, ctx, row))
    for lang in ctx.languages:
        hits = sensitive_hits(row.get(f"name_{lang}") or "", ctx.sensitive_words)
        if hits:
            english = f"the program name uses {hits[0]!r}"
            problems.append(
                RowError(f"name_{lang}", Reason("program_word", english, word=repr(hits[0])))
            )
    problems.extend(_line_keyword_problems(row.get("keywords") or [], ctx))
    reason = exit_url_problem(row.get("exit_url"), bool(row.get("exit_url_confirmed")))
    if reason:
        problems.append(RowError("exit_url", reason))
    if not problems and ctx.program_fits is not None:
        problems.extend(_program_problem(lang, answer) for lang, answer in ctx.program_fits(row))
    if not problems and row["latitude"] is None and row["zip"]:
        row["latitude"], row["longitude"] = zip_point(row["zip"]) or (None, None)
    return (row if not problems else None), problems


def _program_problem(lang: str, answer: str) -> RowError:
    """Return why a program name is refused: in ``lang``, it makes the main menu (``answer``
    "menu", the first reply, which opens with it) longer than two segments, or the answer to
    HELP (which must name it) longer than three."""
    if answer == "menu":
        english = (
            f"the program name makes the main menu, the first text message reply, longer than "
            f"2 segments in {lang}; shorten it"
        )
        return RowError(f"name_{lang}", Reason("program_fits_menu", english, language=lang))
    english = (
        f"the program name makes the answer to HELP longer than one text message reply "
        f"(3 segments) in {lang}; shorten it"
    )
    return RowError(f"name_{lang}", Reason("program_fits", english, language=lang))


# The text conversation's own words (flows/keywords.toml: STOP, START, HELP, DELETE, MENU, ...,
# and each language's switch words, ES, EN, ...). On a shared number a site keyword is read
# first, so a site keyword among them would take the word from the line: a STOP that no
# longer stops. Greetings may be site keywords: they start a conversation either way, and a
# clinic prints one on its cards ("Text WELLNESS").
_CARD_WORDS = "greeting"


def _line_keyword_problems(words: Sequence[str], ctx: Context) -> list[RowError]:
    """Refuse site keywords that are already words of the line itself (see above)."""
    table = ctx.line_keywords
    if table is None:
        return []
    taken = [w for w in words if (found := table.match(w)) and found.meaning != _CARD_WORDS]
    if not taken:
        return []
    named = ", ".join(repr(word) for word in taken)
    english = (
        f"the line itself answers {named} (words like STOP, HELP, MENU or ES); "
        "choose other keywords"
    )
    return [RowError("keywords", Reason("line_keyword", english, words=named))]


# A path on the kiosk's own server: one slash, then no backslash, space or control character
# (a browser reads "//host", "/\host" and "/<tab>/host" as another site).
_OWN_PATH = re.compile(r"^/(?![/\\])[^\s\\\x00-\x1f\x7f]*$")
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d+)?(?:/[^\s\\\x00-\x1f\x7f]*)?$")


def exit_url_problem(value: str | None, confirmed: bool) -> Reason | None:
    """Return why ``value`` may not be a kiosk's quick-exit page, or None if it may.

    A quick exit must never strand the kiosk: it goes to a page on the kiosk's own server, or to
    an https:// page on another site only once the clinic has confirmed it works from the kiosk.
    """
    if not value or _OWN_PATH.match(value):
        return None
    if not _HTTPS.match(value):
        english = f"{value!r}: use a path on this server (like /welcome) or an https:// address"
        return Reason("exit_url", english, value=repr(value))
    if not confirmed:
        english = (
            f"{value!r} is on another site: set exit_url_confirmed to yes once the clinic has "
            "confirmed it opens from the kiosk"
        )
        return Reason("exit_url_other", english, value=repr(value))
    return None


def _site_id(raw: Mapping[str, str], _ctx: Context) -> str:
    value = _value(raw, "id")
    if not _ID.match(value):
        raise RowError("id", _id_form(value))
    return value


def _default_language(raw: Mapping[str, str], ctx: Context) -> str:
    value = _value(raw, "default_language").lower() or "en"
    if value not in ctx.languages:
        known = ", ".join(ctx.languages)
        english = f"{value!r} is not one of {known}"
        raise RowError(
            "default_language", Reason("one_of", english, value=repr(value), known=known)
        )
    return value


def _time_zone(raw: Mapping[str, str], _ctx: Context) -> str:
    value = _value(raw, "time_zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        english = f"{value!r} is not a time zone like America/Chicago"
        raise RowError("time_zone", Reason("time_zone", english, value=repr(value))) from None
    return value


def _numbers(raw: Mapping[str, str], _ctx: Context) -> list[str]:
    parts = [p for p in _LIST_SEPARATOR.split(_value(raw, "numbers")) if p.strip()]
    numbers = (phone_number(p, "numbers", short_codes=True, strict=False) for p in parts)
    return [number for number in numbers if number]


def _keywords(raw: Mapping[str, str], _ctx: Context) -> list[str]:
    words = [p.strip().upper() for p in _LIST_SEPARATOR.split(_value(raw, "keywords"))]
    for word in words:
        if word and not word.isalnum():
            english = f"{word!r} must be one word of letters and digits"
            raise RowError("keywords", Reason("keyword", english, value=repr(word)))
    return [word for word in words if word]


def _site_coordinate(name: str, limit: float) -> Callable[[Mapping[str, str], Context], Any]:
    return lambda raw, _ctx: coordinate(_value(raw, name), name, limit)


_SITE_CHECKS: tuple[tuple[str, Callable[[Mapping[str, str], Context], Any]], ...] = (
    ("id", _site_id),
    ("default_language", _default_language),
    ("time_zone", _time_zone),
    ("zip", lambda raw, _ctx: zip_code(_value(raw, "zip"))),
    ("latitude", _site_coordinate("latitude", 90)),
    ("longitude", _site_coordinate("longitude", 180)),
    ("numbers", _numbers),
    ("keywords", _keywords),
    ("exit_url", lambda raw, _ctx: _value(raw, "exit_url") or None),
    (
        "exit_url_confirmed",
        lambda raw, _ctx: flag(_value(raw, "exit_url_confirmed"), "exit_url_confirmed"),
    ),
    ("fictional", lambda raw, _ctx: flag(_value(raw, "fictional"))),
    ("callback_off", lambda raw, _ctx: flag(_value(raw, "callback_off"), "callback_off")),
)


# --- A stored service as a file's row ---------------------------------------------------------


def as_file_row(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored service's values as a services file writes them, for staff to change:
    ZIP+4 whole, and no coordinates where they were only the ZIP code's centre (an import
    works them out again; written out, they would become the place's own)."""
    row = dict(stored)
    if row.get("zip") and row.get("zip4"):
        row["zip"] = f"{row['zip']}-{row['zip4']}"
    if row.get("estimated"):
        row["latitude"] = row["longitude"] = None
    return row


# What a confidential place never lets out of the database.
HIDDEN_PLACE = ("address", "address_2", "latitude", "longitude")


def exported_row(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored service as an export writes it: ``as_file_row``, and for a
    confidential place no street and no coordinates (it says only that it is confidential)."""
    row = as_file_row(stored)
    if row.get("confidential"):
        row.update(dict.fromkeys(HIDDEN_PLACE))
    return row


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What writing a batch changes: services added, changed and retired, and services that
    stay at other sites but are no longer shown at one the file covers."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unlinked: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        """Yield one line per change, for staff to read before (or after) it happens."""
        yield from (f"added: {sid}" for sid in self.added)
        yield from (f"changed: {sid}" for sid in self.changed)
        yield from (f"retired: {sid}" for sid in self.retired)
        yield from (f"retired at {site}: {sid}" for sid, site in self.unlinked)


# Given a checked service, the stored one (None if new) and the sites that show it, return
# the row to write (see ``Writer``).
Guard = Callable[[dict[str, Any], dict[str, Any] | None, list[str]], dict[str, Any]]

# The columns compared to tell a changed service from one imported again as it was (its words
# in every language are compared too).
_COMPARED = tuple(name for name, _check in _SERVICE_CHECKS)
# SQLite allows only so many parameters in one statement.
CHUNK = 500


class Writer:
    """Writes checked services a chunk at a time, noting what each chunk adds and changes, so
    an import of any size holds one chunk in memory. Call it inside a transaction: the caller
    commits, or rolls everything back when the file had problems or it was a dry run."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        source: str,
        today: dt.date,
        complete: bool,
        guard: Guard | None = None,
    ) -> None:
        self.db, self.source, self.day, self.complete = db, source, today.isoformat(), complete
        # What may be written of each row (the caller keeps back what waits for approval).
        self.guard = guard
        self.plan = Plan()
        self.kept = Plan()
        self.covers: set[str] = set()
        self._chunk: list[tuple[dict[str, Any], list[str]]] = []

    def add(self, row: dict[str, Any], links: list[str]) -> None:
        """Take one checked service and the sites that show it."""
        self._chunk.append((row, links))
        self.covers.update(links)
        if len(self._chunk) >= CHUNK:
            self._flush()

    def finish(self, batch: Batch) -> Plan:
        """Write what is left and, for a complete file, retire what its sites no longer list."""
        self._flush()
        # What the file leaves out is retired only from a complete file; otherwise it is kept,
        # and named so staff see what a complete file would retire.
        _absent(self.db, batch, self.covers, self.plan if self.complete else self.kept)
        retire(self.db, self.plan)
        return self.plan

    def _flush(self) -> None:
        if not self._chunk:
            return
        stored, links = _stored(self.db, [row["id"] for row, _links in self._chunk])
        for row, shown_at in self._chunk:
            old = stored.get(row["id"])
            if old is None:
                self.plan.added.append(row["id"])
            elif _differs(old, row) or links.get(row["id"], set()) != set(shown_at):
                self.plan.changed.append(row["id"])
        chunk = self._chunk
        if self.guard is not None:
            chunk = [(self.guard(row, stored.get(row["id"]), at), at) for row, at in chunk]
        rows = [
            {**row, "national": 0, "source": self.source, "confirmed": self.day}
            for row, _links in chunk
        ]
        write_services(self.db, rows)
        _write_links(self.db, {row["id"]: shown_at for row, shown_at in self._chunk})
        self._chunk = []


def _stored(
    db: sqlite_utils.Database, ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    marks = ", ".join("?" for _ in ids)
    rows = list(db.query(f"select * from services where id in ({marks})", ids))
    stored = {r["id"]: r for r in with_texts(db, rows)}
    links: dict[str, set[str]] = {}
    sql = f"select service_id, site_id from service_sites where service_id in ({marks})"
    for sid, site in db.execute(sql, list(ids)).fetchall():
        links.setdefault(sid, set()).add(site)
    return stored, links


def _differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    words = [name for name in new if text_column(name, SERVICE_TEXTS)]
    return any(old.get(name) != new.get(name) for name in (*_COMPARED, *words) if name in new)


def _absent(db: sqlite_utils.Database, batch: Batch, covers: set[str], result: Plan) -> None:
    """A file is the directory of the sites it names: their active local services it does not
    name are retired, or only taken off those sites when other sites still show them."""
    covers = covers | batch.covers
    if not covers:
        return
    sql = """
        select s.id, l.site_id from services s join service_sites l on l.service_id = s.id
        where s.national = 0 and s.status = 'active' order by s.id, l.site_id
    """
    sites: dict[str, list[str]] = {}
    for sid, site in db.execute(sql).fetchall():
        sites.setdefault(sid, []).append(site)
    for sid, shown_at in sites.items():
        if sid in batch.named or not covers.intersection(shown_at):
            continue
        if covers.issuperset(shown_at):
            result.retired.append(sid)
        else:
            result.unlinked.extend((sid, site) for site in shown_at if site in covers)


def write(
    db: sqlite_utils.Database,
    batch: Batch,
    *,
    source: str,
    today: dt.date,
    complete: bool = True,
    guard: Guard | None = None,
) -> Plan:
    """Write a checked batch in one transaction, replacing rows with the same id and, for a
    ``complete`` batch, retiring what its sites no longer list; return what changed. The
    services written are confirmed on ``today``."""
    writer = Writer(db, source=source, today=today, complete=complete, guard=guard)
    with db.atomic():
        return write_in_transaction(db, batch, writer)


def write_in_transaction(db: sqlite_utils.Database, batch: Batch, writer: Writer) -> Plan:
    """``write``, inside a transaction the caller holds (and may roll back), through a
    ``writer`` that may already hold the services a streamed check gave it."""
    for site in batch.sites:
        values = {**site, "numbers": _json(site["numbers"]), "keywords": _json(site["keywords"])}
        write_sites(db, [values])
    for row in batch.services:
        writer.add(row, batch.links[row["id"]])
    return writer.finish(batch)


def retire(db: sqlite_utils.Database, changes: Plan) -> None:
    """Apply a plan's retirements: the status for services no site lists, the link for others."""
    for start in range(0, len(changes.retired), CHUNK):
        chunk = changes.retired[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        db.execute(f"update services set status = 'retired' where id in ({marks})", chunk)
    for sid, site in changes.unlinked:
        db.execute("delete from service_sites where service_id = ? and site_id = ?", [sid, site])


def _write_links(db: sqlite_utils.Database, links: Mapping[str, Sequence[str]]) -> None:
    ids = list(links)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        db.execute(
            f"delete from service_sites where service_id in ({', '.join('?' for _ in chunk)})",
            chunk,
        )
    db.conn.executemany(
        "insert or ignore into service_sites (service_id, site_id) values (?, ?)",
        [(sid, site) for sid, sites in links.items() for site in sites],
    )


def _json(values: Sequence[str]) -> str | None:
    return json.dumps(list(values)) if values else None
