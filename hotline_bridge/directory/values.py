"""One value of a row, as people write it, into the form the directory keeps.

Each function takes a cell's text and returns the stored value (None for an empty cell), or
raises ``RowError`` naming the field at fault and a ``Reason``: English for the command line,
and a catalog key with its values for the console, which says it in its reader's language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import phonenumbers

from hotline_bridge.directory import hours
from hotline_bridge.directory.csvfile import unguard_cell
from hotline_bridge.directory.models import SERVICE_CODES
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import ACTIVE, STATUSES

# Short codes (5 or 6 digits) are texted as they are.
_SHORT_CODE = re.compile(r"^\d{5,6}$")
_STATE = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
LIST_SEPARATOR = re.compile(r"[;,]")
# Quotes and spaces that spreadsheets and exports leave around values.
_STRAY = " \t\"'\u201c\u201d\u2018\u2019"


class RowError(Exception):
    """A value that cannot be accepted, with the field at fault."""

    def __init__(self, field_name: str, reason: Reason) -> None:
        super().__init__(reason)
        self.field, self.reason = field_name, reason


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


def clean_text(text: str) -> str:
    """Return ``text`` with plain quotes, dashes and spaces for typographic ones, and every run
    of spacing (tabs and line breaks too) as one space."""
    if text.isascii() and not _ODD_SPACING.search(text):
        return text.strip()  # the usual case, and the cheap one
    return _SPACING.sub(" ", text.translate(TYPOGRAPHY)).strip()


_ODD_SPACING = re.compile(r"\s\s|[\t\n\r\f\v]")


def clean_cell(value: str) -> str:
    """Return a cell's value as the checks read it: trimmed, unguarded, typography plain."""
    if not value:  # most columns of most rows: nothing to clean
        return ""
    return clean_text(unguard_cell(value.strip()))


def clean_row(raw: Mapping[str, str]) -> dict[str, str]:
    """Return every cell of a row cleaned once (``clean_cell``), for its checks to read."""
    cells = raw.values()
    if None not in cells:  # a form or a package may leave a value out as None
        whole = "\x00".join(cells)
        if whole.isascii() and not _ODD_CELL.search(whole):
            return dict(raw)  # most rows: every cell is clean as it stands
    return {name: clean_cell(value) for name, value in raw.items()}


# What ``clean_cell`` would change in one of a row's cells, joined by NULs (no cell holds one by
# then): a run or an odd kind of spacing, or a cell that starts with an apostrophe or with
# spacing, or ends with spacing.
_ODD_CELL = re.compile(r"\s\s|[\t\n\r\f\v]|(?:^|\x00)['\s]|\s(?:\x00|$)")


# Why an empty value of a column that needs one is refused.
MISSING = Reason("missing", "missing")


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


# An extension written after a number: "617-555-0123 ext. 100", "x100", "extension 100",
# "ext 100", "ext.100", "#100" (Spanish: "ext." too).
_EXTENSION = re.compile(
    r"[\s,;]*(?:ext(?:ension|ensi[oó]n)?\.?|x|#)\s*(?P<digits>\d+)\s*$", re.IGNORECASE
)
EXTENSION_DIGITS = re.compile(r"^\d{1,10}$")


def split_extension(phone: str) -> tuple[str, str | None]:
    """Return a phone value as its number and the extension written after it (or None)."""
    found = _EXTENSION.search(phone)
    if found is None or not found.start():
        return phone, None
    return phone[: found.start()], found["digits"]


def state(text: str) -> str | None:
    """Return a two-letter state code, None for empty."""
    value = text.upper()
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


def plus_four(text: str) -> str | None:
    """Return the four digits of a ZIP+4, kept to be written back as they came."""
    value = text.strip(_STRAY)
    return value[6:] if re.match(r"^\d{5}-\d{4}$", value) else None


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


def opening_hours(value: str) -> str | None:
    """Return opening hours in their canonical form (see ``hours``), None for empty."""
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


# A directory's services speak a handful of combinations of languages.
@functools.lru_cache(maxsize=4096)
def languages(text: str) -> str | None:
    """Return language codes as ``en, es``; None for empty."""
    codes = [part.strip().lower() for part in LIST_SEPARATOR.split(text) if part.strip()]
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


def status(text: str) -> str:
    """Return a service's status (HSDS 3.0's, or ours for retired); empty means active."""
    value = " ".join(text.lower().replace("_", " ").split()) or ACTIVE
    if value not in STATUSES:
        known = ", ".join(STATUSES)
        english = f"{text!r} is not one of {known}"
        raise RowError("status", Reason("one_of", english, value=repr(text), known=known))
    return value
