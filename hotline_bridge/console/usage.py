"""The anonymous usage counts as staff read them: per day, by channel, language and menu step,
as charts drawn on the server (SVG, no script), a date range and a CSV download.

A count below ``CONSOLE_MIN_COUNT`` for a day and step is never shown or downloaded: on a quiet
day a count of one could single a person out to someone who knows when they used the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from babel.dates import format_date
from flask import current_app, render_template, request
from werkzeug.wrappers import Response

from hotline_bridge.console.access import babel_language, db, lang, now, signed_in, words
from hotline_bridge.console.blueprint import bp
from hotline_bridge.engine.catalogs import Words

# The range shown when staff choose none.
DEFAULT_DAYS = 30
# The longest range one page draws.
MAX_DAYS = 366
# Chart size in SVG units.
CHART_WIDTH, CHART_HEIGHT, CHART_MARGIN = 720, 220, 32
# Room above the tallest bar for the scale's top label.
CHART_TOP = 18
CHANNELS = ("sms", "voice", "kiosk")


def date_range(args: Mapping[str, str], today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the chosen first and last day (the last 30 days unless chosen, at most a year)."""
    try:
        last = dt.date.fromisoformat(args.get("to", "")) if args.get("to") else today
        first = (
            dt.date.fromisoformat(args["from"])
            if args.get("from")
            else last - dt.timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError:
        last, first = today, today - dt.timedelta(days=DEFAULT_DAYS - 1)
    first = max(min(first, last), last - dt.timedelta(days=MAX_DAYS - 1))
    return first, last


def shown_counts(
    database: sqlite_utils.Database, first: dt.date, last: dt.date, minimum: int
) -> list[dict[str, Any]]:
    """Return the counts of the range, leaving out every day-and-step below ``minimum``."""
    sql = """select day, channel, language, event, n from counts where day between ? and ?
             and (day, event) in (select day, event from counts where day between ? and ?
                                  group by day, event having sum(n) >= ?)
             and n >= ? order by day, channel, language, event"""
    span = [first.isoformat(), last.isoformat()]
    return list(database.query(sql, [*span, *span, minimum, minimum]))


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, in SVG units."""

    x: float
    y: float
    width: float
    height: float
    series: str
    label: str


def bars(
    rows: Iterable[Mapping[str, Any]],
    days: Sequence[str],
    series: Sequence[str],
    by: str,
    name: Callable[[str], str] = str,
    day_name: Callable[[str], str] = str,
) -> tuple[list[Bar], int]:
    """Lay out per-day bars side by side, one per ``series`` value of column ``by``, each
    titled with its day's ``day_name`` and the value's ``name``."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        totals[row["day"], row[by]] += row["n"]
    top = max(totals.values(), default=0) or 1
    slot = (CHART_WIDTH - CHART_MARGIN) / max(len(days), 1)
    width = slot / (len(series) + 1)
    laid = []
    for d, day in enumerate(days):
        for s, series_name in enumerate(series):
            n = totals.get((day, series_name), 0)
            height = (CHART_HEIGHT - CHART_MARGIN - CHART_TOP) * n / top
            x = CHART_MARGIN + d * slot + s * width
            y = CHART_HEIGHT - CHART_MARGIN - height
            laid.append(
                Bar(
                    round(x, 1),
                    round(y, 1),
                    round(width, 1),
                    round(height, 1),
                    series_name,
                    f"{day_name(day)} {name(series_name)}: {n}",
                )
            )
    return laid, top


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _table(rows: Iterable[Mapping[str, Any]], by: str) -> list[tuple[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row[by]] += row["n"]
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


# --- What staff read for a stored key -------------------------------------------------------


def count_name(bound: Words, by: str, key: str) -> str:
    """Return a count's channel, language or event (column ``by``) as staff read it, in the
    console's language; a key the catalogs have no words for is shown as it is stored."""
    if by == "event":
        return event_name(bound, key)
    return _said(bound, f"console.usage.{by}.{key}") or key


def event_name(bound: Words, event: str) -> str:
    """Return an event ("step:nearby", "exit", "status:delivered") as staff read it."""
    kind, _, detail = event.partition(":")
    if kind == "step":
        return step_name(bound, detail)
    whole = _said(bound, "console.usage.event." + event.replace(":", ".").replace("-", "_"))
    if whole or not detail:
        return whole or event
    # A status or an action: its kind in words, then Twilio's status word in the reader's
    # language (an action, or a status the catalogs do not name, as it is stored).
    shown = _said(bound, "console.usage.twilio." + detail.replace("-", "_")) or detail
    return _said(bound, f"console.usage.kind.{kind}", detail=shown) or event


def step_name(bound: Words, node: str) -> str:
    """Return a flow node's name: its own words, else its category's (a list of services)."""
    for key in (f"console.usage.step.{node}", f"console.category.{node}"):
        if said := _said(bound, key):
            return said
    return node


def _said(bound: Words, key: str, **values: str) -> str | None:
    return bound.t(key, **values) if bound.catalogs.has(key) else None


@bp.get("/usage")
@signed_in
def usage() -> str:
    """Show the counts of a date range as charts and tables."""
    first, last = date_range(request.args, now().date())
    minimum = current_app.config["CONSOLE_MIN_COUNT"]
    rows = shown_counts(db(), first, last, minimum)
    days = _days(first, last)
    languages = sorted({row["language"] for row in rows}) or ["en", "es"]
    bound = words()
    reader = babel_language(lang())

    def day_name(iso: str) -> str:
        return format_date(dt.date.fromisoformat(iso), "medium", locale=reader)

    channel_bars, channel_top = bars(
        rows, days, CHANNELS, "channel", lambda key: count_name(bound, "channel", key), day_name
    )
    language_bars, language_top = bars(
        rows, days, languages, "language", lambda key: count_name(bound, "language", key), day_name
    )
    return render_template(
        "console/usage.html",
        first=first.isoformat(),
        last=last.isoformat(),
        first_shown=day_name(first.isoformat()),
        last_shown=day_name(last.isoformat()),
        minimum=minimum,
        charts=[
            ("channel", CHANNELS, channel_bars, channel_top),
            ("language", languages, language_bars, language_top),
        ],
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        margin=CHART_MARGIN,
        top_pad=CHART_TOP,
        steps=_table(rows, "event"),
        by_channel=_table(rows, "channel"),
        by_language=_table(rows, "language"),
        days=days,
        named=lambda by, key: count_name(bound, by, key),
    )


@bp.get("/usage.csv")
@signed_in
def usage_csv() -> Response:
    """Download the counts shown for a date range as CSV."""
    first, last = date_range(request.args, now().date())
    rows = shown_counts(db(), first, last, current_app.config["CONSOLE_MIN_COUNT"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["day", "channel", "language", "event", "n"])
    writer.writeheader()
    writer.writerows(rows)
    name = f"usage-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
