"""What needs a second person before people are given it, whichever door it comes through.

A number people are sent to (phone, text, TTY) always does. So does any text people read (a
name, label, description, address, hours or web address) that holds a phone number, a short or
service code, or a web address: typed into a name, it reaches people as surely as the phone
column does. Such a change waits in ``pending_changes`` and the directory keeps the old value
until another staff member of the site (or an admin) approves it. The console and the command
line both ask through ``guarded``, so the rule is written once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from hotline_bridge.console import store
from hotline_bridge.directory.store import (
    SERVICE_TEXTS,
    SITE_TEXTS,
    text_column,
    upsert_many,
    with_texts,
)

NUMBER_FIELDS = store.NUMBER_COLUMNS
# What is dialled after a number: it decides who a call reaches, so it waits as a number does
# (through the same requests as words that hold a number).
DIALLED_FIELDS = ("phone_extension",)
# A service's words beyond its name, label and description (in every language) that people read.
TEXT_FIELDS = ("address", "city", "hours", "url")

# Seven or more digits, however spaced or punctuated: a phone number.
_PHONE = re.compile(r"\+?\d(?:[\s().\-/]*\d){6,}")
# Five or six digits standing alone: a short code ("Text HELP to 55123").
_SHORT_CODE = re.compile(r"(?<![\d.,:])\d{5,6}(?![\d.,:]?\d)")
# The three-digit service codes people dial (211, 911, 988, ...).
_SERVICE_CODE = re.compile(r"(?<!\d)(?:[2-9]11|988)(?!\d)")
# A web address: a scheme, "www.", an e-mail address, or a name with a known ending.
_WEB = re.compile(
    r"(?:[a-z][a-z0-9+.\-]*://|www\.|@[a-z0-9\-]+\.[a-z]{2,}"
    r"|\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|gov|edu|info|biz|io|co|us|me|ly|app"
    r"|link|site|online|page|help|health|care|social|chat|xyz|ws|to|gl|mx|es)\b)",
    re.IGNORECASE,
)


def holds_contact(text: str) -> bool:
    """Return whether ``text`` holds a phone number, a short or service code or a web address."""
    return any(pattern.search(text) for pattern in (_PHONE, _SHORT_CODE, _SERVICE_CODE, _WEB))


def is_text_field(name: str) -> bool:
    """Return whether ``name`` is a service's words people read (any language)."""
    return name in TEXT_FIELDS or text_column(name, SERVICE_TEXTS) is not None


def needs_second_person(name: str, value: object) -> bool:
    """Return whether setting ``name`` to ``value`` must wait for a second person."""
    if name in NUMBER_FIELDS or name in DIALLED_FIELDS:
        return True
    return is_text_field(name) and bool(value) and holds_contact(str(value))


def guarded(
    old: Mapping[str, Any], new: Mapping[str, Any], waiting: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Return the changes from ``old`` to ``new`` that wait for a second person, as
    ``{field: (old, new)}``; a value given as it already waits is no new request."""
    shown = {**old, **waiting}
    return {
        name: (old.get(name), value)
        for name, value in new.items()
        if _differs(shown.get(name), value) and needs_second_person(name, value)
    }


def unapproved(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Return the fields of ``new`` that must not be written as they are: a value unlike the
    directory's that needs a second person. This holds whether or not it is asked for now (a
    form or file giving a value that already waits keeps waiting for it)."""
    return [
        name
        for name, value in new.items()
        if _differs(old.get(name), value) and needs_second_person(name, value)
    ]


def released(
    old: Mapping[str, Any], new: Mapping[str, Any], waiting: Mapping[str, Any]
) -> list[str]:
    """Return the fields whose waiting request a new value takes back: words that no longer
    hold a number or address (a value given as the directory has it, which ``guarded`` asks
    for, withdraws its request when asked)."""
    return [
        name
        for name in waiting
        if name in new
        and _differs(waiting[name], new[name])
        and not needs_second_person(name, new[name])
    ]


def _differs(a: object, b: object) -> bool:
    return (a or None) != (b or None)


def kept_back(
    new: Mapping[str, Any], old: Mapping[str, Any] | None, fields: Iterable[str]
) -> dict[str, Any]:
    """Return ``new`` with ``fields`` as the directory has them (None for a new service)."""
    return {**new, **{name: (old or {}).get(name) for name in fields}}


def waiting_values(database: sqlite_utils.Database, service_id: str) -> dict[str, Any]:
    """Return the values of ``service_id`` that wait for approval, by field."""
    sql = "select field, new from pending_changes where service_id = ? and status = 'waiting'"
    return {row["field"]: row["new"] for row in database.query(sql, [service_id])}


def may_wait(name: str) -> bool:
    """Return whether ``name`` is a field whose change can wait for approval."""
    return name in NUMBER_FIELDS or name in DIALLED_FIELDS or is_text_field(name)


# A change to a site's program name waits in ``pending_changes`` as a service's does, under
# this prefix and the site's id (a site's name people read holds no number either).
SITE_PREFIX = "site:"


def site_target(site_id: str) -> str:
    """Return the name a change to site ``site_id`` waits under."""
    return SITE_PREFIX + site_id


def site_of_target(target: str) -> str | None:
    """Return the site a waiting change is about, or None for a service's."""
    return target[len(SITE_PREFIX) :] if target.startswith(SITE_PREFIX) else None


def site_guarded(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Return a site's changed program names that hold a number or a web address."""
    return {
        name: (old.get(name), value)
        for name, value in new.items()
        if text_column(name, SITE_TEXTS)
        and _differs(old.get(name), value)
        and value
        and holds_contact(str(value))
    }


def current_value(database: sqlite_utils.Database, service_id: str, name: str) -> tuple[bool, Any]:
    """Return whether the service (or site) exists and the value of its field ``name``."""
    site = site_of_target(service_id)
    table, key = ("sites", site) if site is not None else ("services", service_id)
    rows = list(database.query(f"select * from {table} where id = ?", [key]))
    if not rows:
        return False, None
    return True, with_texts(database, rows, sites=site is not None)[0].get(name)


def put(database: sqlite_utils.Database, service_id: str, name: str, value: Any) -> None:
    """Write one approved value (a number or words) into the directory."""
    site = site_of_target(service_id)
    if site is not None:
        field, lang = text_column(name, SITE_TEXTS) or ("", "")
        if not field:
            raise ValueError(name)
        columns = ["site_id", "language", field]
        upsert_many(database, "site_texts", columns, [[site, lang, value]], ("site_id", "language"))
        return
    words = text_column(name, SERVICE_TEXTS)
    if words is None:
        if not may_wait(name):
            raise ValueError(name)  # never a column name from anywhere else
        database.execute(f"update services set [{name}] = ? where id = ?", [value, service_id])
        return
    field, lang = words
    upsert_many(
        database,
        "service_texts",
        ["service_id", "language", field],
        [[service_id, lang, value or None]],
        ("service_id", "language"),
    )
