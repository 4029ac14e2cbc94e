"""Open Referral HSDS 3.0 tabular packages: reading what fits our directory, and writing it back.

A package is a folder with ``datapackage.json`` and one CSV per table. We read services with their
phones, locations and addresses (through ``service_at_location``), weekly schedules, languages and
taxonomy terms (through ``attributes``); what the line does not use is kept and written back as
it came. An export is every table of Open Referral's own ``datapackage.json``, each with HSDS's
columns in HSDS's order; our own fields that HSDS has no place for (Spanish names, discreet
labels, category, sites, a confidential place) travel in one extension table,
``x-hotline-bridge.csv`` (docs/hsds-extension.md), so a package we exported comes back whole, and
other readers can ignore it. Packages exported before it held them in ``x_`` columns of
``services.csv``, which are still read.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from hotline_bridge.directory import hours
from hotline_bridge.directory.csvfile import Problem, read_rows
from hotline_bridge.directory.importer import Batch, exported_row
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import DEFAULT_SITE, package_rows, with_texts
from hotline_bridge.directory.validation import CATEGORIES, Context, check_service, service_warnings
from hotline_bridge.directory.values import (
    RowError,
    coordinate,
    phone_number,
    state_reason,
    zip_code,
)

DATAPACKAGE = "datapackage.json"
TABLES = (
    "organizations",
    "services",
    "locations",
    "addresses",
    "phones",
    "schedules",
    "service_at_location",
    "languages",
    "taxonomies",
    "taxonomy_terms",
    "attributes",
    "programs",
    "contacts",
    "funding",
    "service_areas",
    "required_documents",
    "cost_options",
    "accessibility",
    "organization_identifiers",
    "metadata",
    "meta_table_descriptions",
    "x-hotline-bridge",
)
# Our fields that HSDS does not hold: columns of our extension table (services.csv held them
# in packages exported before it).
EXTRA_COLUMNS = (
    "x_category",
    "x_sites",
    "x_name_es",
    "x_description_es",
    "x_label_en",
    "x_label_es",
    "x_fictional",
)
TAXONOMY_ID = "hotline-bridge-categories"
# The parts of a place kept in x_ columns of locations.csv when there is no street address.
PLACE = ("city", "state", "zip")

# Words in a taxonomy term or a service's own name and description that tell its category, tried
# in this order; the first category with a matching word wins.
# Words match at the start of a word: "counsel" finds "Counselling", "rent" does not find "parent".
CATEGORY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"\b(?:{'|'.join(words)})", re.IGNORECASE))
    for name, words in (
        ("immigration", ("immigration", "asylum", "visa", "refugee")),
        ("legal", ("legal", "lawyer", "attorney")),
        ("substance_use", ("substance", "addiction", "alcohol", "drug", "detox")),
        ("mental_health", ("mental", "counsel", "therap", "psycholog", "emotional")),
        ("housing", ("housing", "shelter", "homeless", "rent")),
        ("medical", ("medical", "health care", "healthcare", "doctor", "dental")),
        ("employment", ("employment", "job", "career")),
        ("youth", ("youth", "teen", "young people")),
        ("basic_needs", ("food", "pantry", "clothing", "utilities", "meal")),
    )
)
VOICE_TYPES = {"", "voice", "cell", "main"}
TEXT_TYPES = {"text", "sms"}
TTY_TYPES = {"tty", "textphone"}
# The type our export gives each kind of number.
PHONE_TYPES = {"phone": "voice", "sms": "text", "tty": "textphone"}


@dataclass
class Package:
    """A package's tables: rows by table with the line each starts on."""

    root: Path
    today: dt.date  # the day schedules that have ended are told by
    tables: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)  # what to fix that stops nothing
    # The phone row each service was given for each kind (phone, sms, tty), by service id.
    phones: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    _groups: dict[tuple[str, str], dict[str, list[tuple[int, dict[str, str]]]]] = field(
        default_factory=dict
    )

    def rows(self, table: str) -> list[tuple[int, dict[str, str]]]:
        """Return the rows of ``table`` (none if the package lacks it)."""
        return self.tables.get(table, [])

    def by(self, table: str, column: str) -> dict[str, list[tuple[int, dict[str, str]]]]:
        """Return the rows of ``table`` grouped by ``column`` (worked out once per package)."""
        if (table, column) not in self._groups:
            groups: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
            for line, row in self.rows(table):
                if row.get(column):
                    groups[row[column]].append((line, row))
            self._groups[table, column] = groups
        return self._groups[table, column]


def is_package(path: Path) -> bool:
    """Return whether ``path`` is a folder that looks like an HSDS package."""
    return path.is_dir() and ((path / DATAPACKAGE).exists() or (path / "services.csv").exists())


def read_package(root: Path, today: dt.date) -> Package:
    """Read the tables of the package at ``root``, to be checked on ``today``.

    Table files are found through ``datapackage.json`` when it can be read, and by their usual
    names otherwise (published packages sometimes ship it broken), with a note saying so.
    """
    package = Package(root, today)
    paths = {table: root / f"{table}.csv" for table in TABLES}
    try:
        descriptor = json.loads((root / DATAPACKAGE).read_text(encoding="utf-8"))
        for resource in descriptor.get("resources", []):
            if resource.get("name") in paths and resource.get("path"):
                paths[resource["name"]] = root / resource["path"]
    except (OSError, ValueError, AttributeError) as exc:
        error = type(exc).__name__
        english = f"cannot be read ({error}); tables were found by their file names"
        unread = Reason("datapackage_unread", english, error=error)
        package.notes.append(Problem(DATAPACKAGE, 1, "datapackage", unread))
    for table, path in paths.items():
        if path.is_file():
            package.tables[table] = list(read_rows(path))
    return package


def check_package(
    root: Path,
    ctx: Context,
    *,
    today: dt.date,
    site: str | None = None,
    category: str | None = None,
) -> Batch:
    """Check an HSDS package on ``today``; what it would do well to fix but that stops nothing
    (a service no one can call, an ended schedule left out) is among the batch's warnings.

    ``site`` is the site that shows services without an ``x_sites`` column; ``category`` is the
    category of services whose own cannot be told from their taxonomy terms or words.
    """
    package = read_package(root, today)
    batch = Batch(warnings=package.notes)  # filled in as the package is read
    if not package.rows("services"):
        none = Reason("no_services", "no services in the package")
        batch.problems.append(Problem("services.csv", 1, "services", none))
        return batch
    terms = _service_terms(package)
    for line, source in package.rows("services"):
        batch.rows += 1
        service = _with_extension(package, source)
        batch.named.add(service.get("x_id") or service.get("id", ""))
        raw, problems = _flatten(package, service, terms, site=site, category=category)
        if not (raw.get("phone") or raw.get("sms") or raw.get("tty")):
            english = (
                "no phone is linked to this service, its locations or its organization; "
                "people cannot call or text it"
            )
            package.notes.append(
                Problem("services.csv", line, "phone", Reason("no_phone", english))
            )
        row, links, row_problems = check_service(raw, ctx)
        batch.problems.extend(problems)
        batch.problems.extend(
            Problem("services.csv", line, _hsds_field(p.field), _hsds_reason(p, raw))
            for p in row_problems
        )
        if row and not row_problems:
            batch.warnings.extend(
                Problem("services.csv", line, _hsds_field(w.field), w.reason)
                for w in service_warnings(row, ctx)
            )
            kept = _kept(package, source, row["id"])
            if kept.get("schedules"):  # the hours they gave, to tell if staff change them
                kept["hours"] = row["hours"]
            batch.services.append(
                {**row, "kept": json.dumps(kept, sort_keys=True) if kept else None}
            )
            batch.links[row["id"]] = links
            batch.lines[row["id"]] = line
    _keep_package_rows(package, batch)
    batch.warnings.extend(_dangling(package))
    return batch


# Tables whose rows belong to the package, not to one service.
PACKAGE_TABLES = ("metadata", "meta_table_descriptions", "taxonomies", "taxonomy_terms")


def _keep_package_rows(package: Package, batch: Batch) -> None:
    """Keep the rows that belong to no service: the package's metadata and table descriptions,
    its taxonomies and terms (our own export's are written anew), and attributes that name no
    row of the package; they are stored apart from any service, and the export writes them
    once."""
    if not batch.services:
        return
    ours = {stable_id("taxonomy", TAXONOMY_ID), *(stable_id("category", c) for c in CATEGORIES)}
    ids = {row.get("id") for table in package.tables.values() for _line, row in table}
    for table in (*PACKAGE_TABLES, "attributes"):
        found = [
            _whole(table, row)
            for _line, row in package.rows(table)
            if row.get("id")
            and row["id"] not in ours
            and (table != "attributes" or row.get("link_id") not in ids)
        ]
        if found:
            batch.package[table] = found


@functools.cache
def foreign_keys() -> dict[str, tuple[tuple[str, str], ...]]:
    """Return, by table, each column that names a row of another table, with that table (the
    official datapackage's foreign keys)."""
    names = {r["name"]: Path(r["path"]).stem for r in official()["resources"]}
    return {
        Path(r["path"]).stem: tuple(
            (key["fields"], names[key["reference"]["resource"]])
            for key in r["schema"].get("foreignKeys", [])
        )
        for r in official()["resources"]
    }


def _dangling(package: Package) -> Iterator[Problem]:
    """Yield a note for each link that names no row of the package: a valid package cannot
    hold it, so the export leaves it out, and says so here rather than in silence."""
    for table, keys in foreign_keys().items():
        for column, target in keys:
            known = package.by(target, "id")
            for line, row in package.rows(table):
                value = (row.get(column) or "").strip()
                if value and value not in known:
                    where = f"{target}.csv"
                    yield Problem(f"{table}.csv", line, column, _nowhere(table, where, value))


def _nowhere(table: str, target: str, value: str) -> Reason:
    # HSDS requires a service's organization: the export makes one of the service's own.
    if table == "services" and target == "organizations.csv":
        english = (
            f"{value} is not in organizations.csv, so the export gives the service an "
            "organization of its own name"
        )
        return Reason("organization_nowhere", english, value=value)
    english = f"{value} is not in {target}, so the export leaves this link out"
    return Reason("link_nowhere", english, value=value, table=target)


def _with_extension(package: Package, service: dict[str, str]) -> dict[str, str]:
    """Return a services row with our own fields from the extension table, if it has a row."""
    found = package.by("x-hotline-bridge", "service_id").get(service.get("id", ""), [])
    extra = {k: v for k, v in found[0][1].items() if k.startswith("x_")} if found else {}
    return {**service, **extra}


# The columns of HSDS's tables that the line reads (the rest of a row is kept as it came).
_USED = {
    "services": {"id", "organization_id", "name", "description", "url", "status"},
    "locations": {"location_type", "latitude", "longitude"},
    "addresses": {
        "location_id",
        "address_1",
        "address_2",
        "city",
        "state_province",
        "postal_code",
        "country",
    },
    "service_at_location": {"service_id", "location_id"},
    "languages": {"service_id", "code", "name"},
    "phones": {"service_id", "number", "extension"},
}


def _official(table: str, row: Mapping[str, str]) -> dict[str, str]:
    """Return the values of ``row`` in HSDS's own columns of ``table``, less those the line
    reads itself."""
    columns = set(official_columns().get(table, ()))
    used = _USED.get(table, set())
    return {k: v for k, v in row.items() if v and k in columns and k not in used}


def _kept(package: Package, service: Mapping[str, str], our_id: str) -> dict[str, Any]:
    """Return what the source holds about a service that the line does not use, to export it
    as it came: the service's other fields, its organization, its languages' names and the rest
    of their rows, its schedules whole, its first location, address and link between them, and
    the whole rows of the tables the line does not read that belong to it, its other places
    and the phones it does not offer (``rows``, with the service's own id in ``source_id``,
    which their links name); what our own export made up (ids we derive) is not kept, so a
    package we exported comes back as it was."""
    kept: dict[str, Any] = {"service": _official("services", service)}
    organizations = package.by("organizations", "id").get(service.get("organization_id", ""))
    if organizations and organizations[0][1].get("id") != stable_id("organization", our_id):
        kept["organization"] = _official("organizations", organizations[0][1]) | {
            "id": organizations[0][1]["id"]
        }
    programs = package.by("programs", "id").get(service.get("program_id", ""))
    if programs:
        kept["program"] = _official("programs", programs[0][1]) | {"id": programs[0][1]["id"]}
    elif "program_id" in kept["service"]:
        del kept["service"]["program_id"]  # a link to nothing would not be valid HSDS
    names = {
        row["code"].strip().lower(): row["name"]
        for _line, row in package.by("languages", "service_id").get(service.get("id", ""), [])
        if row.get("code") and row.get("name")
    }
    if names:
        kept["languages"] = names
    kept["language_rows"] = _language_rows(package, service, our_id)
    kept["schedules"] = _schedules(package, service, our_id)
    kept["phone_rows"] = _phone_rows(package, service, our_id)
    place = _kept_place(package, service, our_id)
    rows = place.pop("rows", {})
    kept.update(place)
    for table, found in _kept_rows(package, service, our_id, bool(organizations)).items():
        rows.setdefault(table, []).extend(found)
    if rows:
        kept["rows"], kept["source_id"] = rows, service.get("id", "")
    return {k: v for k, v in kept.items() if v}


def _phone_rows(
    package: Package, service: Mapping[str, str], our_id: str
) -> dict[str, dict[str, str]]:
    """Return, by kind, the rest of the phone row each kind's number came from (its type,
    description, contact and links, and its id when the row is the service's own: a number
    its organization or place gives several services is written for each, with ids of ours)."""
    sid = service.get("id", "")
    found = _first_location(package, service)
    # What a number says of itself may name the street of a place that must stay hidden.
    hidden = found is not None and _hidden_place(found[1], service)
    kept: dict[str, dict[str, str]] = {}
    for column, row in package.phones.get(sid, {}).items():
        rest = _official("phones", row)
        if hidden:
            rest.pop("description", None)
        if row.get("service_id") != sid or row.get("id") == stable_id("phone", our_id, column):
            rest.pop("id", None)
        if rest.get("type", "").strip().lower() == PHONE_TYPES[column]:
            del rest["type"]  # the type our export writes anyway
        if rest:
            kept[column] = rest
    return kept


def _schedules(package: Package, service: Mapping[str, str], our_id: str) -> list[dict[str, str]]:
    """Return, whole, the service's own schedules (those read into its hours, one that has
    ended, one that could not be read), but for the rows our own export made."""
    rows = package.by("schedules", "service_id").get(service.get("id", ""), [])
    ours = {stable_id("schedule", our_id, str(n)) for n in range(1, len(rows) + 1)}
    return [_whole("schedules", row) for _line, row in rows if row.get("id") not in ours]


def _language_rows(
    package: Package, service: Mapping[str, str], our_id: str
) -> dict[str, dict[str, str]]:
    """Return, by code, the rest of each language row of the service (its id, note and
    links), but for the rows our own export made."""
    kept: dict[str, dict[str, str]] = {}
    for _line, row in package.by("languages", "service_id").get(service.get("id", ""), []):
        code = (row.get("code") or "").strip().lower()
        if code and row.get("id") != stable_id("language", our_id, code):
            kept[code] = _official("languages", row)
    return {code: rest for code, rest in kept.items() if rest}


def _locations(
    package: Package, service: Mapping[str, str]
) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Return the service's locations that the package holds, each with the link to it: the
    line uses the first; the others are kept whole."""
    links = package.by("service_at_location", "service_id").get(service.get("id", ""), [])
    locations = package.by("locations", "id")
    return [
        (link, locations[link["location_id"]][0][1])
        for _line, link in links
        if link.get("location_id") in locations
    ]


def _first_location(
    package: Package, service: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Return the service's first location that the package holds, with the link to it."""
    found = _locations(package, service)
    return found[0] if found else None


def _hidden_place(location: Mapping[str, str], service: Mapping[str, str]) -> bool:
    return is_confidential(location) or _flag_set(service.get("x_confidential"))


def _kept_place(package: Package, service: Mapping[str, str], our_id: str) -> dict[str, Any]:
    found = _first_location(package, service)
    if found is None:
        return {}
    link, location = found
    if location.get("id") == stable_id("location", our_id):
        return {}  # made by our own export
    if _hidden_place(location, service):
        # Nothing that could say where it is: a description or directions name streets.
        return {
            "location": {"id": location["id"]},
            "service_at_location": {"id": link["id"]} if link.get("id") else {},
        }
    by_location = package.by("addresses", "location_id")
    addresses = [row for _line, row in by_location.get(location["id"], [])]
    used = next((row for row in addresses if not any(_bad_address(row))), None)
    # The address the line reads is the place's own; the others (a postal address beside
    # the street one, or one the line could not read) are kept whole.
    others = [_whole("addresses", row) for row in addresses if row is not used]
    # Whether the place names an organization, even none: the export writes it as it came.
    owner = {"organization_id": location.get("organization_id") or ""}
    return {
        "location": _official("locations", location) | owner,
        "service_at_location": _official("service_at_location", link),
        "address": _official("addresses", used) if used else {},
        "rows": {"addresses": others} if others else {},
    }


def _whole(table: str, row: Mapping[str, str]) -> dict[str, str]:
    """Return every value of ``row`` in HSDS's own columns of ``table``."""
    columns = set(official_columns().get(table, ()))
    return {k: v for k, v in row.items() if v and k in columns}


# The tables the line does not read, each with its columns that tie a row to a service, its
# organization, its places or the links between them (from the official datapackage.json).
BELONGING = {
    "contacts": ("service_id", "service_at_location_id", "location_id", "organization_id"),
    "funding": ("service_id", "organization_id"),
    "service_areas": ("service_id",),
    "required_documents": ("service_id",),
    "cost_options": ("service_id",),
    "accessibility": ("location_id",),
    "organization_identifiers": ("organization_id",),
    # A place's own opening times (the service's are kept beside its hours: ``_kept``).
    "schedules": ("service_at_location_id", "location_id"),
    "attributes": ("link_id",),  # a taxonomy term on any of them
}
# What describes a place of its own: never kept for a confidential place.
PLACE_TABLES = frozenset({"addresses", "accessibility"})


def _kept_rows(
    package: Package, service: Mapping[str, str], our_id: str, organization: bool
) -> dict[str, list[dict[str, str]]]:
    """Return, whole, the rows of the tables the line does not read that belong to the
    service: its own, and those of its organization, its places and the links to them that
    name no other service (each service there keeps them; the export writes them once); its
    second and further places themselves; and the phones it does not offer."""
    sid = service.get("id", "")
    ids: dict[str, list[str]] = {"service_id": [sid]}
    if organization:
        ids["organization_id"] = [service.get("organization_id", "")]
    places = _locations(package, service)
    hidden = bool(places) and _hidden_place(places[0][1], service)
    ids["service_at_location_id"] = [link.get("id", "") for link, _location in places]
    ids["location_id"] = [location.get("id", "") for _link, location in places]
    ours = stable_id("attribute", our_id, "category")  # our own export's category
    every = [value for found in ids.values() for value in found]
    kept = _other_places(package, places[1:], service, hidden=hidden)
    for table, columns in BELONGING.items():
        if hidden and table in PLACE_TABLES:
            continue
        rows: dict[int, dict[str, str]] = {}
        for column in columns:
            for value in every if column == "link_id" else ids.get(column, []):
                rows.update(package.by(table, column).get(value, []) if value else [])
        chosen = [
            _whole(table, row)
            for _line, row in sorted(rows.items())
            if row.get("service_id", sid) in {sid, ""} and row.get("id") != ours
        ]
        if table == "schedules":  # those with a service_id are the service's own
            chosen = [row for row in chosen if not row.get("service_id")]
        if table == "attributes":
            chosen = _with_terms(package, chosen, kept)
        if chosen:
            kept.setdefault(table, []).extend(chosen)
    phones = _other_phones(package, service, our_id, hidden=hidden)
    if phones:
        kept["phones"] = phones
    return kept


def _other_places(
    package: Package,
    places: list[tuple[dict[str, str], dict[str, str]]],
    service: Mapping[str, str],
    *,
    hidden: bool,
) -> dict[str, list[dict[str, str]]]:
    """Return, whole, a service's places after the first (the line uses one place a
    service), the links to them and their addresses; of a confidential service's places (or
    one confidential itself) only what says nothing of where it is."""
    kept: dict[str, list[dict[str, str]]] = defaultdict(list)
    by_location = package.by("addresses", "location_id")
    for link, location in places:
        if hidden or _hidden_place(location, service):
            # What the link says of the place may name its street, as its own words may.
            kept["service_at_location"].append(_whole("service_at_location", link | _UNSAID))
            kept["locations"].append(_hidden_location(location))
            continue
        kept["service_at_location"].append(_whole("service_at_location", link))
        kept["locations"].append(_whole("locations", location))
        addresses = by_location.get(location["id"], [])
        kept["addresses"].extend(_whole("addresses", row) for _line, row in addresses)
    return dict(kept)


_UNSAID = {"description": ""}


def _hidden_location(location: Mapping[str, str]) -> dict[str, str]:
    """Return what may be kept of a confidential place: its id and links, nothing of where
    it is (a name or description may name its street)."""
    kind = (location.get("location_type") or "").strip().lower()
    return {k: location[k] for k in ("id", "organization_id") if location.get(k)} | {
        "location_type": kind if kind in {"physical", "postal", "virtual"} else "physical"
    }


def _other_phones(
    package: Package, service: Mapping[str, str], our_id: str, *, hidden: bool
) -> list[dict[str, str]]:
    """Return, whole, the service's phones the line does not offer: a fax, a second number
    of a kind, one it could not read (what a number says of itself is left out for a
    confidential place: it may name the street)."""
    sid = service.get("id", "")
    chosen = [id(row) for row in package.phones.get(sid, {}).values()]
    ours = {stable_id("phone", our_id, column) for column in PHONE_TYPES}
    kept = []
    for _line, row in _linked_phones(package, service):
        if (
            id(row) in chosen
            or row.get("id") in ours
            or row.get("service_id", sid) not in {sid, ""}
        ):
            continue
        whole = _whole("phones", row)
        if hidden:
            whole.pop("description", None)
        kept.append(whole)
    return kept


def _with_terms(
    package: Package, attributes: list[dict[str, str]], kept: dict[str, list[dict[str, str]]]
) -> list[dict[str, str]]:
    """Return the attributes whose taxonomy term the package holds, keeping each term and its
    taxonomy whole in ``kept`` (an attribute without its term would not be valid HSDS)."""
    terms = package.by("taxonomy_terms", "id")
    taxonomies = package.by("taxonomies", "id")
    with_terms = []
    for attribute in attributes:
        term = terms.get(attribute.get("taxonomy_term_id", ""))
        if not term:
            continue
        with_terms.append(attribute)
        _add(kept, "taxonomy_terms", term[0][1])
        taxonomy = taxonomies.get(term[0][1].get("taxonomy_id", ""))
        if taxonomy:
            _add(kept, "taxonomies", taxonomy[0][1])
    return with_terms


def _add(kept: dict[str, list[dict[str, str]]], table: str, row: Mapping[str, str]) -> None:
    """Keep ``row`` whole under ``table``, once however many attributes name it."""
    whole = _whole(table, row)
    if whole not in kept.setdefault(table, []):
        kept[table].append(whole)


def _flag_set(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "yes", "true", "y"}


def _hsds_reason(problem: RowError, raw: Mapping[str, str]) -> Reason:
    if problem.field == "category" and not raw["category"]:
        english = "no taxonomy term or word tells the category; give one with --category"
        return Reason("no_category", english)
    return problem.reason


def _hsds_field(ours: str) -> str:
    """Name a problem's field as the HSDS services table calls it."""
    return {"name_en": "name", "description_en": "description"}.get(ours, ours)


def _service_terms(package: Package) -> dict[str, list[dict[str, str]]]:
    """Return each service's taxonomy terms, through the attributes table."""
    terms = {row["id"]: row for _line, row in package.rows("taxonomy_terms")}
    linked: dict[str, list[dict[str, str]]] = defaultdict(list)
    for _line, attribute in package.rows("attributes"):
        term = terms.get(attribute.get("taxonomy_term_id", ""))
        if term and attribute.get("link_id"):
            linked[attribute["link_id"]].append(term)
    return linked


def _flatten(
    package: Package,
    service: Mapping[str, str],
    terms: Mapping[str, list[dict[str, str]]],
    *,
    site: str | None,
    category: str | None,
) -> tuple[dict[str, str], list[Problem]]:
    """Turn one HSDS service and its related rows into a row of our simple CSV form.

    A related row that cannot be used (a phone that is not a US number, a latitude of 100) is
    reported and left out, so ``--skip-invalid`` still loads the service with what is good.
    """
    sid = service.get("id", "")
    problems: list[Problem] = []
    raw = {
        "id": service.get("x_id") or sid,
        "site": service.get("x_sites") or site or "",
        "category": service.get("x_category")
        or guess_category(service, terms.get(sid, []))
        or category
        or "",
        "name_en": service.get("name", ""),
        "name_es": service.get("x_name_es", ""),
        "description_en": service.get("description", ""),
        "description_es": service.get("x_description_es", ""),
        "label_en": service.get("x_label_en", ""),
        "label_es": service.get("x_label_es", ""),
        "url": service.get("url", ""),
        "fictional": service.get("x_fictional", ""),
        "status": service.get("x_status") or service.get("status", ""),
    }
    raw.update(_phones(package, service, problems))
    raw.update(_place(package, service, problems))
    raw["hours"] = _hours(package, service, problems)
    raw["languages"] = ", ".join(
        row.get("code", "").strip().lower()
        for _line, row in package.by("languages", "service_id").get(sid, [])
        if row.get("code")
    )
    return raw, problems


def guess_category(service: Mapping[str, str], terms: list[dict[str, str]]) -> str | None:
    """Return our category for an HSDS service from its taxonomy terms, then from its words."""
    for term in terms:
        if term.get("code") in CATEGORIES:
            return term["code"]
    texts = [f"{t.get('code', '')} {t.get('name', '')}" for t in terms]
    texts.append(f"{service.get('name', '')} {service.get('description', '')}")
    for text in texts:
        for name, pattern in CATEGORY_WORDS:
            if pattern.search(text):
                return name
    return None


def _phones(
    package: Package, service: Mapping[str, str], problems: list[Problem]
) -> dict[str, str]:
    """Return the service's numbers, each kind from the most specific link that has one: the
    service at the place the line uses, the service, that place, its organization, then its
    other places. A fax, a second number of a kind and one the line cannot dial are kept
    (``_other_phones``), never offered."""
    found: dict[str, str] = {}
    unread: list[tuple[str, int, Reason]] = []
    for line, row in _linked_phones(package, service):
        kind = (row.get("type") or "").strip().lower()
        column = "sms" if kind in TEXT_TYPES else "tty" if kind in TTY_TYPES else "phone"
        if column == "phone" and kind not in VOICE_TYPES:
            continue  # a fax: kept, never offered
        try:
            number = phone_number(row.get("number", ""), "number", short_codes=column == "sms")
        except RowError as exc:
            unread.append((column, line, exc.reason))
            continue
        if number and column not in found:  # the first of each kind is the one people get
            found[column] = number
            package.phones.setdefault(service.get("id", ""), {})[column] = row
            extension = (row.get("extension") or "").strip().removesuffix(".0")
            if column == "phone" and extension:
                found["phone_extension"] = extension
    # Every row is kept and exported as it came (``_kept_rows``). One the line cannot dial is
    # a problem when the service is left with no number of its kind; beside a number that
    # works, it is only a note: kept, never offered.
    for column, line, reason in unread:
        if column in found:
            english = f"{reason}; kept as it came, but the line never gives it out or calls it"
            kept = Reason("phone_kept", english, reason=reason)
            package.notes.append(Problem("phones.csv", line, "number", kept))
        else:
            problems.append(Problem("phones.csv", line, "number", reason))
    return found


def _linked_phones(
    package: Package, service: Mapping[str, str]
) -> Iterator[tuple[int, dict[str, str]]]:
    sid = service.get("id", "")
    at = [row for _line, row in package.by("service_at_location", "service_id").get(sid, [])]
    # The place the line uses comes first; the numbers of the others are kept, after its own.
    found = _first_location(package, service)
    first, others = ([found[0]], [row for row in at if row is not found[0]]) if found else ([], at)
    tiers = (
        ("service_at_location_id", [row.get("id", "") for row in first]),
        ("service_id", [sid]),
        ("location_id", [row.get("location_id", "") for row in first]),
        ("organization_id", [service.get("organization_id", "")]),
        ("service_at_location_id", [row.get("id", "") for row in others]),
        ("location_id", [row.get("location_id", "") for row in others]),
    )
    seen: set[int] = set()
    for column, ids in tiers:
        for link in filter(None, ids):
            for line, row in package.by("phones", column).get(link, []):
                if line not in seen:
                    seen.add(line)
                    yield line, row


def _place(package: Package, service: Mapping[str, str], problems: list[Problem]) -> dict[str, str]:
    """Return the address and coordinates of the service's first location."""
    links = package.by("service_at_location", "service_id").get(service.get("id", ""), [])
    locations = package.by("locations", "id")
    for _line, link in links:
        if link.get("location_id") in locations:
            line, location = locations[link["location_id"]][0]
            place = _coordinates(line, location, problems)
            # Our export keeps a place known only by city and ZIP code in its own columns,
            # since HSDS has no address without a street.
            ours = {**service, **location}
            place.update({key: ours[f"x_{key}"] for key in PLACE if ours.get(f"x_{key}")})
            place.update(_address(package, location["id"], problems))
            if is_confidential(location) or _flag_set(service.get("x_confidential")):
                place["confidential"] = "yes"
            return place
    return {}


# HSDS has no field for a place whose address must stay hidden (a shelter): a ``redacted``
# location type is proposed for a later version, and until then ``x_confidential`` says it.
CONFIDENTIAL_TYPES = frozenset({"redacted", "confidential"})


def is_confidential(location: Mapping[str, str]) -> bool:
    """Return whether an HSDS location is a place whose address must stay hidden."""
    kind = (location.get("location_type") or "").strip().lower()
    return kind in CONFIDENTIAL_TYPES or _flag_set(location.get("x_confidential"))


def _coordinates(line: int, location: Mapping[str, str], problems: list[Problem]) -> dict[str, str]:
    try:
        lat = coordinate(location.get("latitude", ""), "latitude", 90)
        lon = coordinate(location.get("longitude", ""), "longitude", 180)
    except RowError as exc:
        problems.append(Problem("locations.csv", line, exc.field, exc.reason))
        return {}
    if lat is None or lon is None:
        return {}
    return {"latitude": str(lat), "longitude": str(lon)}


def _address(package: Package, location_id: str, problems: list[Problem]) -> dict[str, str]:
    """Return the first usable address of a location, reporting every problem of the others."""
    for line, row in package.by("addresses", "location_id").get(location_id, []):
        found = [Problem("addresses.csv", line, name, reason) for name, reason in _bad_address(row)]
        problems.extend(found)
        if not found:
            state = (row.get("state_province") or "").strip().upper()
            return {
                "address": row.get("address_1", ""),
                "address_2": row.get("address_2", ""),
                "city": row.get("city", ""),
                "state": state,
                "zip": (row.get("postal_code") or "").strip(),
            }
    return {}


def _bad_address(row: Mapping[str, str]) -> Iterator[tuple[str, Reason]]:
    if (row.get("country") or "US").strip().upper() not in {"US", "USA"}:
        country = repr(row.get("country"))
        yield "country", Reason("country", f"{country} is not a US address", value=country)
    state = (row.get("state_province") or "").strip()
    if state and not (len(state) == 2 and state.isalpha()):
        yield "state_province", state_reason(state)
    try:
        zip_code(row.get("postal_code", ""))
    except RowError as exc:
        yield "postal_code", exc.reason


def _hours(package: Package, service: Mapping[str, str], problems: list[Problem]) -> str:
    """Return the service's hours from its schedules, with their zone and the days they hold
    for; a schedule that has ended is left out, and one that cannot be told is reported."""
    rules = []
    sid = service.get("id", "")
    # Our extension table names the zone (or none, for the site's) for all of them.
    zone = {"x_time_zone": service["x_time_zone"]} if "x_time_zone" in service else {}
    for line, row in package.by("schedules", "service_id").get(sid, []):
        try:
            text = schedule_hours({**row, **zone})
        except hours.HoursError as exc:
            unread = Reason("schedule", f"not read: {exc}", reason=exc.args[0])
            problems.append(Problem("schedules.csv", line, _schedule_field(row, exc), unread))
            continue
        ended = hours.split(text).valid_to
        if ended is not None and ended < package.today:
            ended_reason = Reason("schedule_ended", "ended, so left out")
            package.notes.append(Problem("schedules.csv", line, "valid_to", ended_reason))
            continue
        rules.append(text)
    try:
        return hours.union(rules) if rules else ""
    except hours.HoursError as exc:
        english = f"{sid}: {exc}; no hours"
        unread = Reason("schedules", english, service=sid, reason=exc.args[0])
        problems.append(Problem("schedules.csv", 1, "service_id", unread))
        return ""


# The schedules column a reason is about, by its catalog key (else the times, then freq).
_SCHEDULE_FIELDS = {
    "schedule_freq": "freq",
    "schedule_monthly": "freq",
    "schedule_interval": "interval",
    "schedule_offset": "timezone",
    "hours_date": "valid_from",
    "hours_zones": "closes_at",
    "hours_day": "byday",
}


def _schedule_field(row: Mapping[str, str], exc: hours.HoursError) -> str:
    """Name the column of a schedule that could not be read: the opening time or closing time
    it lacks, else the one its reason is about."""
    for name in ("opens_at", "closes_at"):
        if not (row.get(name) or "").strip():
            return name
    reason = exc.args[0]
    key = reason.key.removeprefix("import.") if isinstance(reason, Reason) else ""
    if key == "hours_rfc_time":
        bad = [n for n in ("opens_at", "closes_at") if repr(row.get(n)) in str(reason)]
        return bad[0] if bad else "opens_at"
    return _SCHEDULE_FIELDS.get(key, "opens_at" if key.startswith("hours_") else "freq")


def schedule_hours(row: Mapping[str, str]) -> str:
    """Return one HSDS schedule as hours text; ``HoursError`` for what it cannot say.

    WEEKLY (and MONTHLY on plain weekdays, which is the same) with ``byday`` is read; a
    schedule every other week, on days of the month or on the nth weekday is not.
    """
    freq = (row.get("freq") or "WEEKLY").strip().upper()
    byday = row.get("byday") or ""
    if freq not in {"WEEKLY", "MONTHLY"}:
        english = f"{freq!r} schedules cannot be shown as weekly hours"
        raise hours.HoursError(Reason("schedule_freq", english, value=repr(freq)))
    if freq == "MONTHLY" and (row.get("bymonthday") or re.search(r"\d", byday) or not byday):
        english = "a monthly schedule on days of the month cannot be shown"
        raise hours.HoursError(Reason("schedule_monthly", english))
    if (row.get("interval") or "1").strip() not in {"", "1"}:
        english = f"a schedule every {row['interval']} weeks cannot be shown"
        raise hours.HoursError(Reason("schedule_interval", english, n=row["interval"]))
    text = hours.from_schedule(byday, row.get("opens_at", ""), row.get("closes_at", ""))
    qualified = hours.split(text)
    zone: str | None
    # Our own export names the zone (or none, for the site's) in x_time_zone; its offsets are
    # only what that zone's were on the day of the export.
    if "x_time_zone" in row:
        zone = row["x_time_zone"] or None
    else:
        zone = qualified.zone or _offset(row.get("timezone", ""))
    start = _day(row.get("valid_from")) or _day(row.get("dtstart"))
    ends = [d for d in (_day(row.get("valid_to")), _day(row.get("until"))) if d]
    return replace(
        qualified, zone=zone, valid_from=start, valid_to=min(ends) if ends else None
    ).text()


def _offset(text: str) -> str | None:
    """Return HSDS's ``timezone`` (hours east of UTC, as a number) as a zone, None if empty."""
    if not text.strip():
        return None
    try:
        return hours.offset_zone(round(float(text) * 60))
    except ValueError:
        english = f"timezone {text!r} is not a number of hours"
        raise hours.HoursError(Reason("schedule_offset", english, value=repr(text))) from None


def _day(text: str | None) -> dt.date | None:
    if not (text or "").strip():
        return None
    try:
        return dt.date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        english = f"{text!r} is not a date like 2026-06-30"
        raise hours.HoursError(Reason("hours_date", english, value=repr(text))) from None


# --- Export -----------------------------------------------------------------------------------

# Open Referral's own tabular datapackage.json for HSDS 3.0 (CC BY-SA 4.0): an export has every
# table it describes, each with its columns in its order, and carries it as its descriptor.
OFFICIAL = Path(__file__).parent / "data" / "hsds-3.0-datapackage.json"
# Our own fields, which HSDS has no place for, in one extension table: one row per service (see
# docs/hsds-extension.md). Readers that know only HSDS ignore it.
EXTENSION = "x-hotline-bridge"
EXTENSION_COLUMNS = (
    "service_id",
    "x_id",
    "x_status",
    *EXTRA_COLUMNS,
    "x_confidential",
    "x_city",
    "x_state",
    "x_zip",
    "x_time_zone",
)


@functools.cache
def official() -> dict[str, Any]:
    """Return the official HSDS 3.0 tabular descriptor."""
    descriptor: dict[str, Any] = json.loads(OFFICIAL.read_text(encoding="utf-8"))
    return descriptor


def official_columns() -> dict[str, tuple[str, ...]]:
    """Return each HSDS table (by its file's name) with its columns in HSDS's order."""
    return {
        Path(resource["path"]).stem: tuple(f["name"] for f in resource["schema"]["fields"])
        for resource in official()["resources"]
    }


# What HSDS calls a service we retired or hold for approval (it has no word for either);
# x_status keeps ours.
HSDS_STATUS = {"retired": "inactive", "held": "inactive"}
# Every id we export is a UUID, as HSDS 3.0 requires: the source's own when it gave one, else
# the same UUID5 every time for the same service and part (so re-exports line up).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/hotline-bridge/hsds")


def stable_id(*parts: str) -> str:
    """Return the UUID of one exported row: ``parts`` name it (``service``, the service id, ...);
    a service id that is already a UUID is kept as it is."""
    if len(parts) == 2 and parts[0] == "service" and _is_uuid(parts[1]):
        return parts[1]
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def export(db: sqlite_utils.Database, root: Path, now: dt.datetime | None = None) -> int:
    """Write the local directory (not the national lines) as an HSDS package; return the count.

    Opening times carry the UTC offset of their zone at ``now`` (default: the current time),
    and our extension table says the zone itself, so a re-import reads the same hours. What
    the source held that the line does not use is written back as it came.
    """
    root.mkdir(parents=True, exist_ok=True)
    columns = official_columns()
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in [*columns, EXTENSION]}
    _taxonomy(tables)
    zones = {row["id"]: row["time_zone"] for row in db.query("select id, time_zone from sites")}
    services = with_texts(
        db, list(db.query("select * from services where national = 0 order by id"))
    )
    sites = _sites_by_service(db)
    written: dict[str, set[str]] = defaultdict(set)

    def add(found: Iterator[tuple[str, list[dict[str, Any]]]]) -> None:
        for table, rows in found:
            # One row for each, however many services share it (an organization, a contact).
            rows = [row for row in rows if row.get("id") not in written[table]]
            written[table].update(row["id"] for row in rows if row.get("id"))
            tables[table].extend(rows)

    for service in services:
        shown_at = sites.get(service["id"], [])
        zone = zones.get(shown_at[0] if shown_at else DEFAULT_SITE) or "America/New_York"
        add(_service_tables(service, shown_at, zone, now))
    # The rows of the packages themselves, after every service's.
    add(_package_tables(package_rows(db)))
    for table, rows in tables.items():
        _write_csv(root / f"{table}.csv", columns.get(table, EXTENSION_COLUMNS), rows)
    _write_descriptor(root)
    return len(services)


def _taxonomy(tables: dict[str, list[dict[str, Any]]]) -> None:
    taxonomy = stable_id("taxonomy", TAXONOMY_ID)
    tables["taxonomies"].append(
        {
            "id": taxonomy,
            "name": "hotline-bridge categories",
            "description": "The categories hotline-bridge lists help by.",
        }
    )
    tables["taxonomy_terms"].extend(
        {
            "id": stable_id("category", name),
            "code": name,
            "name": name,
            "description": f"hotline-bridge category {name}",
            "taxonomy_id": taxonomy,
        }
        for name in CATEGORIES
    )


def _sites_by_service(db: sqlite_utils.Database) -> dict[str, list[str]]:
    sites: dict[str, list[str]] = defaultdict(list)
    for row in db.query("select service_id, site_id from service_sites order by site_id"):
        sites[row["service_id"]].append(row["site_id"])
    return sites


def kept_of(service: Mapping[str, Any]) -> dict[str, Any]:
    """Return what an import kept of a service's source that the line does not use."""
    try:
        kept = json.loads(service.get("kept") or "{}")
    except ValueError:
        return {}
    return kept if isinstance(kept, dict) else {}


def _service_tables(
    service: Mapping[str, Any], sites: list[str], zone: str, now: dt.datetime | None
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    sid = service["id"]
    kept = kept_of(service)
    uid = stable_id("service", sid)
    source_org = kept.get("organization") or {}
    org = source_org.get("id") or stable_id("organization", sid)
    yield (
        "organizations",
        [
            {
                "name": service["name_en"],
                "description": service["description_en"] or service["name_en"],
                "website": service["url"],
            }
            | source_org
            | {"id": org}
        ],
    )
    program = kept.get("program") or {}
    if program:
        yield "programs", [program | {"organization_id": program.get("organization_id") or org}]
    yield "services", [_service_row(service, uid, org, kept.get("service") or {})]
    yield "x-hotline-bridge", [_extension_row(service, sites, uid)]
    yield (
        "attributes",
        [
            {
                "id": stable_id("attribute", sid, "category"),
                "link_id": uid,
                "taxonomy_term_id": stable_id("category", service["category"]),
                "link_type": "service",
                "link_entity": "service",
            }
        ],
    )
    phones = PHONE_TYPES.items()
    known = _known(service, uid, org, kept)
    source: dict[str, dict[str, str]] = kept.get("phone_rows") or {}
    if service["confidential"]:  # marked since its import: a description may name its street
        source = {
            col: {k: v for k, v in row.items() if k != "description"} for col, row in source.items()
        }
    yield (
        "phones",
        [
            {"type": kind}
            | _linked(source.get(col, {}), known)
            | {"id": source.get(col, {}).get("id") or stable_id("phone", sid, col)}
            | {"service_id": uid, "number": service[col]}
            | {"extension": service["phone_extension"] if col == "phone" else None}
            for col, kind in phones
            if service[col]
        ],
    )
    given: list[dict[str, str]] = kept.get("schedules") or []
    if given and kept.get("hours") == service["hours"]:
        # The hours are still those the source's schedules gave: they go back as they came.
        yield "schedules", [_given_schedule(_linked(row, known), zone, now) for row in given]
    elif service["hours"]:
        yield "schedules", list(_schedule_rows(sid, uid, service["hours"], zone, now))
    names = kept.get("languages") or {}
    rows = kept.get("language_rows") or {}
    yield (
        "languages",
        [
            _linked(rows.get(code, {}), known)
            | {"id": rows.get(code, {}).get("id") or stable_id("language", sid, code)}
            | {"service_id": uid, "code": code, "name": names.get(code)}
            for code in filter(None, (service["languages"] or "").split(", "))
        ],
    )
    yield from _location_tables(service, uid, org, kept)
    yield from _kept_tables(service, uid, org, kept)


def _service_row(
    service: Mapping[str, Any], uid: str, org: str, source: Mapping[str, Any]
) -> dict[str, Any]:
    """HSDS's services row: what the source held, with the line's own values over it."""
    return {
        **source,
        "id": uid,
        "organization_id": org,
        "name": service["name_en"],
        "description": service["description_en"],
        "url": service["url"],
        "status": HSDS_STATUS.get(service["status"], service["status"]),
    }


def _extension_row(service: Mapping[str, Any], sites: list[str], uid: str) -> dict[str, Any]:
    complete = all(service[name] for name in ("address", "city", "state", "zip"))
    return {
        "service_id": uid,
        "x_id": service["id"],
        "x_status": service["status"],
        "x_category": service["category"],
        "x_sites": ";".join(sites),
        "x_name_es": service["name_es"],
        "x_description_es": service["description_es"],
        "x_label_en": service["label_en"],
        "x_label_es": service["label_es"],
        "x_fictional": service["fictional"],
        "x_confidential": "yes" if service["confidential"] else "",
        # The place known only by city and ZIP code: HSDS has no address without a street.
        **({} if complete else {f"x_{key}": service[key] for key in PLACE}),
        "x_time_zone": hours.split(service["hours"]).zone or "" if service["hours"] else "",
    }


def _schedule_rows(
    sid: str, uid: str, text: str, site_zone: str, now: dt.datetime | None
) -> Iterator[dict[str, Any]]:
    """Write hours as weekly schedules whose times carry their zone's offset at ``now``."""
    qualified = hours.split(text)
    when = now or dt.datetime.now(dt.UTC)
    offset = when.astimezone(hours.zone_info(qualified.zone or site_zone)).utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    suffix = "Z" if not minutes else hours.offset_zone(minutes)[3:]
    for n, (byday, opens, closes) in enumerate(hours.to_schedules(text), 1):
        yield {
            "id": stable_id("schedule", sid, str(n)),
            "service_id": uid,
            "valid_from": qualified.valid_from.isoformat() if qualified.valid_from else None,
            "valid_to": qualified.valid_to.isoformat() if qualified.valid_to else None,
            "timezone": minutes / 60 if minutes % 60 else minutes // 60,
            "freq": "WEEKLY",
            "byday": byday,
            "opens_at": f"{opens}:00{suffix}",
            "closes_at": f"{closes}:00{suffix}",
        }


# A time as HSDS writes it, with its offset from UTC; and one a source gave without it.
RFC_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
BARE_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _given_schedule(row: dict[str, str], site_zone: str, now: dt.datetime | None) -> dict[str, str]:
    """Return a source's schedule as it came, but a time it gave without its offset from UTC
    (which HSDS requires), given the offset of the schedule's own ``timezone``, else of the
    site's zone at ``now``."""
    bare = {
        name: match
        for name in ("opens_at", "closes_at")
        if (match := BARE_TIME.match((row.get(name) or "").strip()))
    }
    if not bare:
        return row
    try:
        minutes = round(float(row["timezone"]) * 60)
    except (KeyError, ValueError):
        when = (now or dt.datetime.now(dt.UTC)).astimezone(hours.zone_info(site_zone))
        offset = when.utcoffset()
        minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    suffix = "Z" if not minutes else hours.offset_zone(minutes)[3:]
    times = {name: f"{int(m[1]):02}:{m[2]}:{m[3] or '00'}{suffix}" for name, m in bare.items()}
    return row | times


def _package_tables(
    rows: Mapping[str, list[dict[str, Any]]],
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Write back the rows that belong to a package, not to one service: a term's taxonomy,
    an attribute's term, as links among them."""
    known = {row["id"]: row["id"] for found in rows.values() for row in found if row.get("id")}
    known[stable_id("taxonomy", TAXONOMY_ID)] = stable_id("taxonomy", TAXONOMY_ID)
    for table, found in rows.items():
        yield table, [_linked(row, known, FOREIGN) for row in found]


def _place_ids(service: Mapping[str, Any], kept: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return the exported ids of the service's location and of the link to it, or None when
    it has no place to export (neither a ZIP code nor a location of its source)."""
    location = kept.get("location") or {}
    if service["latitude"] is None and not service["zip"] and not location:
        return None
    link = kept.get("service_at_location") or {}
    return (
        location.get("id") or stable_id("location", service["id"]),
        link.get("id") or stable_id("service_at_location", service["id"]),
    )


def _location_tables(
    service: Mapping[str, Any], uid: str, org: str, kept: Mapping[str, Any]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    sid = service["id"]
    ids = _place_ids(service, kept)
    if ids is None:
        return
    location, at = ids
    # The place as a file may hold it: no coordinates that were only the ZIP code's centre,
    # and for a confidential place no street and no coordinates at all, nor what the source
    # said of it (a description or directions name streets), even if marked since its import.
    place = exported_row(service)
    source = {} if service["confidential"] else kept.get("location") or {}
    # The organization the source named, when it named one the export holds.
    owner = org
    if "organization_id" in (kept.get("location") or {}):
        owner = _known(service, uid, org, kept).get(kept["location"]["organization_id"], "")
    complete = all(place[name] for name in ("address", "city", "state", "zip"))
    yield (
        "locations",
        [
            {"name": service["name_en"]}
            | source
            | {
                "id": location,
                "location_type": "physical",
                "organization_id": owner,
                "latitude": place["latitude"],
                "longitude": place["longitude"],
            }
        ],
    )
    link = _hidden("service_at_location", kept.get("service_at_location") or {}, service)
    yield (
        "service_at_location",
        [link | {"id": at, "service_id": uid, "location_id": location}],
    )
    # HSDS requires every part of an address; a service known only by its ZIP code has none.
    if complete:
        address = kept.get("address") or {}
        yield (
            "addresses",
            [
                address
                | {
                    "id": address.get("id") or stable_id("address", sid),
                    "location_id": location,
                    "address_1": place["address"],
                    "address_2": place["address_2"],
                    "city": place["city"],
                    "state_province": place["state"],
                    "postal_code": place["zip"],
                    "country": "US",
                    "address_type": address.get("address_type") or "physical",
                }
            ],
        )


# The columns of kept rows that name another row (the official datapackage's foreign keys,
# and an attribute's link_id): a phone row keeps its id only when it was the service's own.
LINK_COLUMNS = (
    "organization_id",
    "service_id",
    "location_id",
    "service_at_location_id",
    "link_id",
    "taxonomy_term_id",
    "taxonomy_id",
    "phone_id",
    "contact_id",
)


# The same, less an attribute's link_id, which is no foreign key of the official datapackage
# (and which HSDS requires): an attribute of the package's own keeps it as it came.
FOREIGN = tuple(column for column in LINK_COLUMNS if column != "link_id")


def _known(
    service: Mapping[str, Any], uid: str, org: str, kept: Mapping[str, Any]
) -> dict[str, str]:
    """Return the ids that kept rows may link to, each with the id the export gives its row:
    the service (whose own id may have changed), its organization, place and link to it, and
    the kept rows themselves."""
    known = {kept.get("source_id") or uid: uid, org: org}
    ids = _place_ids(service, kept)
    if ids is not None:
        known.update((i, i) for i in ids)
    rows: dict[str, list[dict[str, str]]] = kept.get("rows") or {}
    for found in rows.values():
        known.update((row["id"], row["id"]) for row in found if row.get("id"))
    phones: dict[str, dict[str, str]] = kept.get("phone_rows") or {}
    known.update((row["id"], row["id"]) for row in phones.values() if row.get("id"))
    return known


def _kept_tables(
    service: Mapping[str, Any], uid: str, org: str, kept: Mapping[str, Any]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Write back, whole, the rows kept of the tables the line does not read, each link
    leading to the row the export holds: the service's own id may have changed, and a link
    that led nowhere in the source is left empty, as a valid package has none."""
    known = _known(service, uid, org, kept)
    columns = official_columns()
    rows: dict[str, list[dict[str, str]]] = kept.get("rows") or {}
    for table, found in rows.items():
        if table in columns and not (service["confidential"] and table in PLACE_TABLES):
            yield table, [_linked(_hidden(table, row, service), known) for row in found]


def _hidden(table: str, row: dict[str, str], service: Mapping[str, Any]) -> dict[str, str]:
    """Return a kept row as a confidential service's export may hold it (marked since its
    import, say): of its places, nothing of where they are; of its phones, not what a number
    says of itself, which may name the street."""
    if not service["confidential"]:
        return row
    if table == "locations":
        return _hidden_location(row)
    if table in {"phones", "service_at_location"}:
        return {k: v for k, v in row.items() if k != "description"}
    return row


def _linked(
    row: Mapping[str, str], known: Mapping[str, str], columns: tuple[str, ...] = LINK_COLUMNS
) -> dict[str, str]:
    return {**row, **{k: known.get(row[k], "") for k in columns if row.get(k)}}


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def _write_descriptor(root: Path) -> None:
    """Write Open Referral's own descriptor, with our extension table described after it."""
    descriptor = dict(official())
    descriptor["resources"] = [
        *official()["resources"],
        {
            "name": "x_hotline_bridge",
            "path": f"{EXTENSION}.csv",
            "description": (
                "hotline-bridge's own fields for each service (docs/hsds-extension.md); "
                "HSDS readers may ignore this table."
            ),
            "format": "csv",
            "mediatype": "text/csv",
            "profile": "tabular-data-resource",
            "schema": {
                "fields": [{"name": column, "type": "string"} for column in EXTENSION_COLUMNS],
                "primaryKey": "service_id",
            },
        },
    ]
    (root / DATAPACKAGE).write_text(json.dumps(descriptor, indent=2) + "\n", encoding="utf-8")
