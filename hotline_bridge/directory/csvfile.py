"""Reading the clinic's CSV files: each row with the line it starts on, and cells as
spreadsheets keep them.

A file that cannot be read on (not UTF-8, broken CSV) is a ``FileProblem``; a row that does not
have as many values as the header is passed on marked (``SHAPE``), for the row's checks to
report with the rest of what is wrong with it (``validation.raw_problems``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from hotline_bridge.directory.reasons import Reason


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


# The CSV reader stops at a value this long, so a hostile file cannot fill the memory with one
# value (the row checks refuse much shorter ones: ``validation.VALUE_MAX``).
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
