"""The checked US national lines: the reference rows, their flags, what a deployment confirmed.

The reference (``data/national-resources.csv``, a copy of the project's checked file) carries the
date each row was checked and, in its notes, "re-verify" where a number must be confirmed at its
source before it is printed or sent. A flagged number is withheld from every reply, card and page
until the deployment names the row in ``CONFIRMED_LINES`` with a date on or after the row's
``checked`` date; ``check`` says which rows are stale or wait for confirmation.

A deployment may change a line only through a reviewed override file (``NATIONAL_OVERRIDES``):
each row gives the line, the column, the new value, the source it was checked at and the day.
An overridden line counts as checked (and confirmed) on that day, and ``check`` shows every
override.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

NATIONAL_LINES_CSV = Path(__file__).parent / "data" / "national-resources.csv"

# Rows not checked for this many days are stale (the reference README's rule).
STALE_AFTER_DAYS = 180

# The word in a row's notes that asks a deployment to confirm a number at its source.
REVERIFY = "re-verify"

# The reference columns that hold a way to reach a line, and what each withholds with it.
CONTACT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "voice": ("voice",),
    "sms_number": ("sms_number", "sms_keyword"),
    "tty": ("tty",),
}

# Where one statement of a row's notes ends and the next begins.
_CLAUSE = re.compile(r"[;.]\s+")
# A phone number written inside prose: digits with the separators people use.
_WRITTEN_NUMBER = re.compile(r"\+?\d[\d\s().\-]*\d")


@dataclass(frozen=True)
class NationalLine:
    """One row of the reference."""

    row: Mapping[str, str]

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def checked(self) -> dt.date:
        return dt.date.fromisoformat(self.row["checked"])

    def flagged(self) -> tuple[str, ...]:
        """Return the contact columns the notes ask to re-verify: those whose number the notes
        name, or every contact column when a flag names none."""
        flags = [c for c in _CLAUSE.split(self.row.get("notes", "")) if REVERIFY in c.lower()]
        if not flags:
            return ()
        named = {_digits(m) for clause in flags for m in _WRITTEN_NUMBER.findall(clause)}
        fields = tuple(
            f for f in CONTACT_FIELDS if self.row.get(f) and _digits(self.row[f]) in named
        )
        return fields or tuple(CONTACT_FIELDS)

    def confirmed_by(self, confirmations: Mapping[str, dt.date]) -> bool:
        """Return whether the deployment confirmed this row on or after it was checked."""
        when = confirmations.get(self.id)
        return when is not None and when >= self.checked

    def withheld(self, confirmations: Mapping[str, dt.date]) -> tuple[str, ...]:
        """Return the columns that may not be sent or printed until the row is confirmed."""
        if self.confirmed_by(confirmations):
            return ()
        return tuple(column for f in self.flagged() for column in CONTACT_FIELDS[f])

    def usable(self, confirmations: Mapping[str, dt.date]) -> dict[str, str]:
        """Return the row with every withheld column emptied."""
        hidden = set(self.withheld(confirmations))
        return {key: ("" if key in hidden else value) for key, value in self.row.items()}


def _digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    # A ten-digit US number is the same line with or without its country code.
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


@cache
def lines() -> tuple[NationalLine, ...]:
    """Return the reference rows, in file order (read once per process)."""
    with NATIONAL_LINES_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(NationalLine(row) for row in csv.DictReader(handle))


def by_id() -> dict[str, NationalLine]:
    """Return the reference rows by id."""
    return {line.id: line for line in lines()}


def parse_confirmations(value: object) -> dict[str, dt.date]:
    """Parse ``CONFIRMED_LINES``: ``id@YYYY-MM-DD`` entries separated by commas.

    Raises ``ValueError`` naming the entry when one is malformed or names no reference row.
    """
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    known = by_id()
    confirmed: dict[str, dt.date] = {}
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        line_id, sep, day = item.partition("@")
        if not sep or line_id not in known:
            raise ValueError(f"{item!r}: expected a national line id and @YYYY-MM-DD")
        try:
            confirmed[line_id] = dt.date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"{item!r}: {day!r} is not a date (YYYY-MM-DD)") from None
    return confirmed


@dataclass(frozen=True)
class Finding:
    """Something ``check`` says about a national line; ``fatal`` ones fail a deployment."""

    line_id: str
    text: str
    fatal: bool


def findings(
    confirmations: Mapping[str, dt.date],
    today: dt.date,
    rows: Sequence[NationalLine] | None = None,
) -> Iterator[Finding]:
    """Yield the stale rows and the flagged rows the deployment has not confirmed."""
    for line in lines() if rows is None else rows:
        age = (today - line.checked).days
        if age > STALE_AFTER_DAYS:
            yield Finding(
                line.id, f"last checked {line.checked} ({age} days ago): re-check it", False
            )
        withheld = line.withheld(confirmations)
        if withheld:
            values = ", ".join(f"{c} {line.row[c]}" for c in withheld if line.row.get(c))
            yield Finding(
                line.id,
                f"flagged for re-verification ({values}): withheld from replies and print "
                f"until confirmed at {line.row['source']} and named in CONFIRMED_LINES "
                f"as {line.id}@YYYY-MM-DD",
                True,
            )


# The override file's columns, and the reference columns an override may change.
OVERRIDE_COLUMNS = ("id", "field", "value", "source", "date")
OVERRIDABLE = (
    "voice",
    "sms_number",
    "sms_keyword",
    "tty",
    "hours",
    "languages",
    "official_name_en",
    "official_name_es",
    "discreet_label_en",
    "discreet_label_es",
)
# Numbers a person is given are written as the reference writes them: E.164, or 3 to 6 digits.
_NUMBER = re.compile(r"^(\+1\d{10}|\d{3,6})$")


@dataclass(frozen=True)
class Override:
    """One reviewed change to one column of one national line."""

    line_id: str
    field: str
    value: str
    source: str
    date: dt.date
    where: str

    def describe(self) -> str:
        """Return what ``check`` says about it."""
        return (
            f"{self.field} overridden to {self.value!r} (checked at {self.source} on "
            f"{self.date}, {self.where})"
        )


def parse_overrides(value: object) -> tuple[Override, ...]:
    """Parse ``NATIONAL_OVERRIDES``: the path of a reviewed CSV file, or empty for none.

    Raises ``ValueError`` naming ``FILE:LINE`` when the file or a row cannot be used.
    """
    if not value:
        return ()
    path = Path(str(value))
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != OVERRIDE_COLUMNS:
                raise ValueError(f"{path}:1: the columns must be {', '.join(OVERRIDE_COLUMNS)}")
            return tuple(_override(row, f"{path.name}:{reader.line_num}") for row in reader)
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None


def _override(row: Mapping[str, str], where: str) -> Override:
    known = by_id()
    line_id, column = row["id"].strip(), row["field"].strip()
    value, source = row["value"].strip(), row["source"].strip()
    if line_id not in known:
        raise ValueError(f"{where}: id: {line_id!r} is not a national line")
    if column not in OVERRIDABLE:
        raise ValueError(f"{where}: field: {column!r} is not one of {', '.join(OVERRIDABLE)}")
    if column in CONTACT_FIELDS and value and not _NUMBER.match(value):
        raise ValueError(f"{where}: value: {value!r} is not a number like +18883737888 or 988")
    if not source.startswith("https://"):
        raise ValueError(f"{where}: source: give the https:// page the value was checked at")
    try:
        day = dt.date.fromisoformat(row["date"].strip())
    except ValueError:
        raise ValueError(f"{where}: date: {row['date']!r} is not a date (YYYY-MM-DD)") from None
    if day < known[line_id].checked:
        raise ValueError(f"{where}: date: {day} is before the reference's own check")
    return Override(line_id, column, value, source, day, where)


def overridden(
    line: NationalLine, overrides: Sequence[Override]
) -> tuple[NationalLine, dt.date | None]:
    """Return ``line`` with its overrides applied, and the day they were checked (None if none
    apply). An overridden line was checked on that day; its notes' flags no longer hold."""
    mine = [o for o in overrides if o.line_id == line.id]
    if not mine:
        return line, None
    day = max(o.date for o in mine)
    row = {**line.row, **{o.field: o.value for o in mine}, "checked": day.isoformat()}
    row["source"] = mine[-1].source
    return NationalLine(row), day


def in_effect(
    line: NationalLine,
    confirmations: Mapping[str, dt.date],
    overrides: Sequence[Override],
) -> tuple[NationalLine, dict[str, dt.date]]:
    """Return ``line`` as this deployment has it (its reviewed overrides applied) and the
    confirmations that hold for it: an override of a row confirms the row."""
    checked, reviewed = overridden(line, overrides)
    return checked, {**confirmations, **({checked.id: reviewed} if reviewed else {})}
