"""Loading the clinic's own directory: a file checked row by row into a ``Batch``.

Staff bring services and sites as a simple CSV (see ``examples/services-template.csv``) or as an
Open Referral package (``hsds``). Every value is checked before anything is written, and every
problem is reported as ``FILE:LINE: field: reason`` so staff can fix the spreadsheet and try
again. By default one problem refuses the whole import; nothing is half-loaded. Each reason is
English for the command line and a ``Reason`` that carries its catalog key (``import.<key>``)
and values, so the console says it in its reader's language.

The layers, each in its own module: ``csvfile`` reads a file's rows with their lines,
``values`` and ``validation`` check a value and a row, this module checks a whole file into a
``Batch``, and ``writing`` writes a batch to SQLite in one transaction and says what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hotline_bridge.directory.csvfile import FileProblem, Problem, header, read_rows
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.validation import (
    REQUIRED_SERVICE_COLUMNS,
    REQUIRED_SITE_COLUMNS,
    Context,
    RowError,
    check_service,
    check_site,
    service_warnings,
)
from hotline_bridge.directory.values import clean_cell


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
    # Rows of the file that belong to no one service (an HSDS package's metadata, taxonomies),
    # by table, kept to be exported as they came.
    package: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    # Services that passed every check (some may have gone straight to a Writer).
    checked: int = 0

    @property
    def valid(self) -> int:
        """Return how many rows passed every check."""
        return max(self.checked, len(self.services)) + len(self.sites)


class Sink(Protocol):
    """Where checked services may go instead of the batch (``writing.Writer``)."""

    def add(self, row: dict[str, Any], links: list[str]) -> None:
        """Take one checked service and the sites that show it."""


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
    sink: Sink | None = None,
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
    sink: Sink | None,
) -> None:
    for line, raw in rows:
        batch.rows += 1
        row, links, problems = check_service(raw, ctx)
        if row and row["id"] in batch.named:
            english = f"{row['id']!r} appears twice in this file"
            problems.append(RowError("id", Reason("twice", english, value=repr(row["id"]))))
        batch.named.add(row["id"] if row else clean_cell(raw.get("id", "")))
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
