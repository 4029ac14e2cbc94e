"""Checking one row of a services or sites file, value by value, against the world outside it.

Every value is checked (``values``) and then the row as a whole: the sites it names exist, a
label is short and never alarming, coordinates come in pairs, a service's details fit one text
message reply. Every problem found is a ``RowError`` naming the field at fault and a ``Reason``
(English for the command line, a catalog key for the console, said in its reader's language).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from hotline_bridge.directory.csvfile import NUL_STAND_IN, SHAPE
from hotline_bridge.directory.discreet import sensitive_hits
from hotline_bridge.directory.nearby import zip_point
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import (
    DEFAULT_SITE,
    SERVICE_TEXTS,
    SITE_TEXTS,
    text_columns,
)
from hotline_bridge.directory.values import (
    EXTENSION_DIGITS,
    LIST_SEPARATOR,
    MISSING,
    RowError,
    clean_row,
    coordinate,
    flag,
    languages,
    opening_hours,
    phone_number,
    plus_four,
    split_extension,
    state,
    status,
    url,
    zip_code,
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

# How a service is reached, where it is and when, in the order people read them (the console's
# form shows them so).
SERVICE_DETAILS = (
    "phone",
    "phone_extension",
    "sms",
    "tty",
    "address",
    "address_2",
    "confidential",
    "city",
    "state",
    "zip",
    "latitude",
    "longitude",
    "hours",
    "languages",
    "url",
)
# The fields added since the first services template: a file's columns end with them, so the
# columns of older files keep their places.
_ADDED_FIELDS = ("phone_extension", "address_2", "confidential")
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
    *(c for c in SERVICE_DETAILS if c not in _ADDED_FIELDS),
    "fictional",
    "status",
    *_ADDED_FIELDS,
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
# Labels are listed three to a text message, so they stay short.
LABEL_MAX = 24
# A value longer than this is refused (a label is 24, a description a few sentences); the CSV
# reader itself stops at a much longer one (``csvfile.READ_LIMIT``).
VALUE_MAX = 4000


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


# --- Checking one row -------------------------------------------------------------------------


def check_service(
    raw: Mapping[str, str], ctx: Context
) -> tuple[dict[str, Any] | None, list[str], list[RowError]]:
    """Check one service row; return the row to store, its sites, and every problem found."""
    problems = raw_problems(raw)
    if problems:
        return None, [], problems
    raw = clean_row(raw)
    row = _checked(raw, ctx, _SERVICE_CHECKS, SERVICE_TEXTS, problems)
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


# A check of one column, given the row's cells cleaned once (``values.clean_row``): the value
# to store, or ``RowError``.
Check = Callable[[Mapping[str, str], Context], Any]


def _checked(
    raw: Mapping[str, str],
    ctx: Context,
    checks: Sequence[tuple[str, Check]],
    texts: Sequence[str],
    problems: list[RowError],
) -> dict[str, Any]:
    """Return a row's checked values and its words, adding what is wrong to ``problems``."""
    row: dict[str, Any] = {}
    for name, check in checks:
        try:
            row[name] = check(raw, ctx)
        except RowError as exc:
            problems.append(exc)
    row.update(_words(raw, texts, ctx, row))
    return row


# Characters no reply may carry: they make TwiML invalid XML or do odd things on a screen.
# Tabs and line breaks are spacing, and are read as spaces.
_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{NUL_STAND_IN}]")


def raw_problems(raw: Mapping[str, str]) -> list[RowError]:
    """Return what makes a row unreadable as it stands: its shape, control characters, and
    values too long to be what their column says."""
    problems = []
    if SHAPE in raw:
        at_fault, values, columns = raw[SHAPE].split("\x00")
        english = f"the row has {values} values, the header has {columns}"
        problems.append(RowError(at_fault, Reason("shape", english, n=values, columns=columns)))
    filled = [value for name, value in raw.items() if name != SHAPE and value]
    if not _CONTROL.search("\n".join(filled)) and max(map(len, filled), default=0) <= VALUE_MAX:
        return problems  # almost every row: one search for all its values
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


def _check_id(raw: Mapping[str, str], ctx: Context) -> str:
    value = raw.get("id", "")
    if not value:
        raise RowError("id", MISSING)
    if not _ID.match(value):
        raise RowError("id", _id_form(value))
    if value in ctx.national_ids:
        english = f"{value!r} is a national line, which cannot be changed here"
        raise RowError("id", Reason("national", english, value=repr(value)))
    return value


def _id_form(value: str) -> Reason:
    english = f"{value!r}: use up to 64 letters, digits, '-', '_' or '.'"
    return Reason("id_form", english, value=repr(value))


def _check_category(raw: Mapping[str, str], _ctx: Context) -> str:
    value = raw.get("category", "").lower()
    if value not in CATEGORIES:
        shown, known = repr(value or "(empty)"), ", ".join(CATEGORIES)
        english = f"unknown category {shown} (use one of {known})"
        raise RowError("category", Reason("category", english, value=shown, known=known))
    return value


def _words(
    raw: Mapping[str, str], fields: Sequence[str], ctx: Context, checked: Mapping[str, Any]
) -> dict[str, str | None]:
    """Return a row's words in every language of ``ctx`` (the ones already checked stay)."""
    return {
        c: raw.get(c) or None
        for c in _text_columns(tuple(fields), ctx.languages)
        if c not in checked
    }


# The same few columns for every row of a file.
@functools.lru_cache(maxsize=64)
def _text_columns(fields: tuple[str, ...], languages: tuple[str, ...]) -> list[str]:
    return text_columns(fields, languages)


def _required(name: str) -> Callable[[Mapping[str, str], Context], str]:
    def check(raw: Mapping[str, str], _ctx: Context) -> str:
        value = raw.get(name, "")
        if not value:
            raise RowError(name, MISSING)
        return value

    return check


def _optional(name: str) -> Callable[[Mapping[str, str], Context], str | None]:
    return lambda raw, _ctx: raw.get(name, "") or None


def _phone(name: str, *, short_codes: bool = False) -> Check:
    def check(raw: Mapping[str, str], _ctx: Context) -> str | None:
        number, _extension = split_extension(raw.get(name, ""))
        return phone_number(number, name, short_codes=short_codes)

    return check


def _check_extension(raw: Mapping[str, str], _ctx: Context) -> str | None:
    """An extension comes from its own column, or else from after the phone number."""
    value = raw.get("phone_extension", "") or raw.get("extension", "")
    written = split_extension(raw.get("phone", ""))[1]
    value = value.removeprefix("ext.").removeprefix("ext").strip() if value else written or ""
    if not value:
        return None
    if not EXTENSION_DIGITS.match(value):
        english = f"{value!r} is not an extension of digits like 100"
        raise RowError("phone_extension", Reason("extension", english, value=repr(value)))
    if not raw.get("phone", ""):
        english = "an extension needs the phone number it is dialled after"
        raise RowError("phone_extension", Reason("extension_alone", english))
    return value


def _check_confidential(raw: Mapping[str, str], _ctx: Context) -> int:
    name = "confidential" if "confidential" in raw else "address_confidential"
    return flag(raw.get(name, ""), name)


_SERVICE_CHECKS: tuple[tuple[str, Check], ...] = (
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
    ("state", lambda raw, _ctx: state(raw.get("state", ""))),
    ("zip", lambda raw, _ctx: zip_code(raw.get("zip", ""))),
    ("zip4", lambda raw, _ctx: plus_four(raw.get("zip", ""))),
    ("confidential", _check_confidential),
    ("latitude", lambda raw, _ctx: coordinate(raw.get("latitude", ""), "latitude", 90)),
    ("longitude", lambda raw, _ctx: coordinate(raw.get("longitude", ""), "longitude", 180)),
    ("hours", lambda raw, _ctx: opening_hours(raw.get("hours", ""))),
    ("languages", lambda raw, _ctx: languages(raw.get("languages", ""))),
    ("url", lambda raw, _ctx: url(raw.get("url", ""))),
    ("fictional", lambda raw, _ctx: flag(raw.get("fictional", ""))),
    ("status", lambda raw, _ctx: status(raw.get("status", ""))),
)
# The columns a service's checks give (its words in every language come beside them).
SERVICE_FIELDS = tuple(name for name, _check in _SERVICE_CHECKS)


def _sites_of(raw: Mapping[str, str], ctx: Context) -> list[str]:
    names = [p.strip() for p in LIST_SEPARATOR.split(raw.get("site", "")) if p.strip()]
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


def check_site(
    raw: Mapping[str, str], ctx: Context
) -> tuple[dict[str, Any] | None, list[RowError]]:
    """Check one site row; return the row to store and every problem found."""
    problems = raw_problems(raw)
    if problems:
        return None, problems
    raw = clean_row(raw)
    row = _checked(raw, ctx, _SITE_CHECKS, SITE_TEXTS, problems)
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
    value = raw.get("id", "")
    if not _ID.match(value):
        raise RowError("id", _id_form(value))
    return value


def _default_language(raw: Mapping[str, str], ctx: Context) -> str:
    value = raw.get("default_language", "").lower() or "en"
    if value not in ctx.languages:
        known = ", ".join(ctx.languages)
        english = f"{value!r} is not one of {known}"
        raise RowError(
            "default_language", Reason("one_of", english, value=repr(value), known=known)
        )
    return value


def _time_zone(raw: Mapping[str, str], _ctx: Context) -> str:
    value = raw.get("time_zone", "")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        english = f"{value!r} is not a time zone like America/Chicago"
        raise RowError("time_zone", Reason("time_zone", english, value=repr(value))) from None
    return value


def _numbers(raw: Mapping[str, str], _ctx: Context) -> list[str]:
    parts = [p for p in LIST_SEPARATOR.split(raw.get("numbers", "")) if p.strip()]
    numbers = (phone_number(p, "numbers", short_codes=True, strict=False) for p in parts)
    return [number for number in numbers if number]


def _keywords(raw: Mapping[str, str], _ctx: Context) -> list[str]:
    words = [p.strip().upper() for p in LIST_SEPARATOR.split(raw.get("keywords", ""))]
    for word in words:
        if word and not word.isalnum():
            english = f"{word!r} must be one word of letters and digits"
            raise RowError("keywords", Reason("keyword", english, value=repr(word)))
    return [word for word in words if word]


def _site_coordinate(name: str, limit: float) -> Check:
    return lambda raw, _ctx: coordinate(raw.get(name, ""), name, limit)


_SITE_CHECKS: tuple[tuple[str, Check], ...] = (
    ("id", _site_id),
    ("default_language", _default_language),
    ("time_zone", _time_zone),
    ("zip", lambda raw, _ctx: zip_code(raw.get("zip", ""))),
    ("latitude", _site_coordinate("latitude", 90)),
    ("longitude", _site_coordinate("longitude", 180)),
    ("numbers", _numbers),
    ("keywords", _keywords),
    ("exit_url", lambda raw, _ctx: raw.get("exit_url", "") or None),
    (
        "exit_url_confirmed",
        lambda raw, _ctx: flag(raw.get("exit_url_confirmed", ""), "exit_url_confirmed"),
    ),
    ("fictional", lambda raw, _ctx: flag(raw.get("fictional", ""))),
    ("callback_off", lambda raw, _ctx: flag(raw.get("callback_off", ""), "callback_off")),
)
