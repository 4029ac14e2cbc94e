"""Weekly opening hours in the OpenStreetMap ``opening_hours`` form, for the cases a clinic needs.

Supported: ``24/7``; rules separated by ``;``, each with optional days (``Mo-Fr``, ``Sa,Su``) and
times (``09:00-17:00``, ``09:00-12:00,13:00-17:00``, ``22:00-02:00`` past midnight) or ``off``.
A later rule replaces what an earlier one said about the same days, as in OpenStreetMap. Anything
else (public holidays, months, week numbers) is refused with a reason staff can act on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_day_names

ALWAYS = "24/7"
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MINUTES_PER_DAY = 24 * 60

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_SPEC = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")
_CLOSED = {"off", "closed"}

# Spans of one weekday, in minutes from its midnight; an end past 1440 runs into the next day.
Span = tuple[int, int]


class HoursError(ValueError):
    """Hours that this subset of ``opening_hours`` cannot read; the message says why."""


@dataclass(frozen=True)
class Week:
    """Parsed hours: for each weekday (0 = Monday) the spans it is open."""

    days: Mapping[int, tuple[Span, ...]]
    always: bool = False

    def spans(self, weekday: int) -> tuple[Span, ...]:
        """Return the spans open on ``weekday``."""
        return self.days.get(weekday, ())


def parse(text: str) -> Week:
    """Parse ``text``; raise ``HoursError`` with a readable reason when it cannot be read."""
    text = " ".join(text.split())
    if not text:
        raise HoursError("no hours given")
    if text == ALWAYS:
        return Week({day: ((0, MINUTES_PER_DAY),) for day in range(7)}, always=True)
    days: dict[int, tuple[Span, ...]] = {}
    for rule in filter(None, (part.strip() for part in text.split(";"))):
        weekdays, spans = _rule(rule)
        for day in weekdays:
            days[day] = spans
    open_days = {day: spans for day, spans in days.items() if spans}
    always = all(open_days.get(day) == ((0, MINUTES_PER_DAY),) for day in range(7))
    return Week(open_days, always=always)


def _rule(rule: str) -> tuple[list[int], tuple[Span, ...]]:
    head, _, rest = rule.partition(" ")
    if head[:1].isalpha():
        weekdays, times = _days(head), rest.strip()
    else:
        weekdays, times = list(range(7)), rule
    if not times:
        raise HoursError(f"{rule!r} gives days but no times (write e.g. 'Mo-Fr 09:00-17:00')")
    if times.lower() in _CLOSED:
        return weekdays, ()
    return weekdays, tuple(_span(part, rule) for part in times.split(","))


def _days(head: str) -> list[int]:
    weekdays: list[int] = []
    for spec in head.split(","):
        match = _DAY_SPEC.match(spec)
        if not match:
            raise HoursError(f"unknown day {spec!r} (use Mo Tu We Th Fr Sa Su)")
        first = DAYS.index(match[1])
        last = DAYS.index(match[2] or match[1])
        # Sa-Mo wraps around the week, as OpenStreetMap allows.
        weekdays.extend((first + n) % 7 for n in range((last - first) % 7 + 1))
    return weekdays


def _span(part: str, rule: str) -> Span:
    start_text, dash, end_text = part.strip().partition("-")
    if not dash:
        raise HoursError(f"{part.strip()!r} in {rule!r} is not a time range like 09:00-17:00")
    start, end = _minutes(start_text, rule), _minutes(end_text, rule)
    if start == end or start >= MINUTES_PER_DAY:
        raise HoursError(f"{part.strip()!r} in {rule!r} opens and closes at the same time")
    # A range that ends before it starts runs past midnight into the next day.
    return (start, end if end > start else end + MINUTES_PER_DAY)


def _minutes(text: str, rule: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise HoursError(f"{text.strip()!r} in {rule!r} is not a time like 09:00")
    hour, minute = int(match[1]), int(match[2])
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise HoursError(f"{text.strip()!r} in {rule!r} is not a time of day")
    return hour * 60 + minute


def open_now(hours: str | None, tz: str, now: dt.datetime | None = None) -> bool | None:
    """Return whether ``hours`` are open at ``now`` in time zone ``tz``; None when unknown.

    ``now`` defaults to the current time; a naive ``now`` is taken as UTC.
    """
    if not hours:
        return None
    try:
        week, zone = parse(hours), ZoneInfo(tz)
    except (HoursError, ZoneInfoNotFoundError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    local = (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(zone)
    minute = local.hour * 60 + local.minute
    today, yesterday = local.weekday(), (local.weekday() - 1) % 7
    if any(start <= minute < end for start, end in week.spans(today)):
        return True
    # Yesterday's late spans may still be open after midnight.
    late = minute + MINUTES_PER_DAY
    return any(start <= late < end for start, end in week.spans(yesterday))


def describe(hours: str | None, lang: str) -> str:
    """Return ``hours`` written for a reader of ``lang`` ("Mon-Fri 9am-5pm"; "lun-vie 9:00-17:00").

    Hours that cannot be read are returned as they were written, so nothing is hidden.
    """
    if not hours:
        return ""
    try:
        week = parse(hours)
    except HoursError:
        return hours
    if week.always:
        return ALWAYS
    if not week.days:
        return hours  # closed every day: say it as staff wrote it
    names = get_day_names("abbreviated", locale=lang)
    return "; ".join(
        f"{_day_runs(days, names)} {', '.join(_clock(span, lang) for span in spans)}"
        for days, spans in _group_days(week)
    )


def canonical(hours: str) -> str:
    """Return ``hours`` in one standard spelling (``Mo-Fr 09:00-17:00; Sa 10:00-14:00``), so the
    same hours imported from a spreadsheet or from Open Referral are stored alike."""
    return _write(parse(hours))


def union(texts: list[str]) -> str:
    """Return the canonical hours open whenever any of ``texts`` is open (several schedules of
    one service add up; they do not replace each other as rules in one text do)."""
    days: dict[int, set[Span]] = {}
    for text in texts:
        for day, spans in parse(text).days.items():
            days.setdefault(day, set()).update(spans)
    merged = Week({day: tuple(sorted(spans)) for day, spans in days.items()})
    always = all(merged.spans(day) == ((0, MINUTES_PER_DAY),) for day in range(7))
    return _write(Week(merged.days, always=always))


def _write(week: Week) -> str:
    if week.always:
        return ALWAYS
    if not week.days:
        return "off"
    return "; ".join(
        f"{_day_runs(days, dict(enumerate(DAYS)))} "
        + ",".join(f"{_hhmm(start)}-{_hhmm(end)}" for start, end in spans)
        for days, spans in _group_days(week)
    )


def _group_days(week: Week) -> list[tuple[list[int], tuple[Span, ...]]]:
    """Group the weekdays that share the same spans, in the order of their first day."""
    groups: dict[tuple[Span, ...], list[int]] = {}
    for day in range(7):
        if week.spans(day):
            groups.setdefault(week.spans(day), []).append(day)
    return [(days, spans) for spans, days in groups.items()]


def _day_runs(days: list[int], names: Mapping[int, str]) -> str:
    """Write days as ranges of consecutive days: ``Mo-We,Fr``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}-{names[run[-1]]}" for run in runs
    )


def _clock(span: Span, lang: str) -> str:
    end = span[1] - MINUTES_PER_DAY if span[1] > MINUTES_PER_DAY else span[1]
    return f"{_time(span[0], lang)}-{_time(end, lang)}"


def _time(minutes: int, lang: str) -> str:
    """Write a time as people of ``lang`` in the US read it: 9am / 5:30pm, or 9:00 / 17:30."""
    hour, minute = divmod(minutes, 60)
    if lang != "en":
        return f"{hour}:{minute:02d}"
    suffix = "am" if hour % 24 < 12 else "pm"
    twelve = hour % 12 or 12
    return f"{twelve}{suffix}" if not minute else f"{twelve}:{minute:02d}{suffix}"


def from_schedule(byday: str, opens_at: str, closes_at: str) -> str:
    """Return OSM hours for one weekly schedule (iCal ``BYDAY`` like ``MO,TU`` and two times)."""
    days = [code.strip()[-2:].title() for code in byday.split(",") if code.strip()]
    times = f"{opens_at[:5]}-{closes_at[:5]}"
    text = f"{','.join(days)} {times}" if days else times
    parse(text)  # refuse what we could not read back
    return text


def to_schedules(hours: str) -> list[tuple[str, str, str]]:
    """Return ``hours`` as weekly schedules (``BYDAY``, opens, closes), one per group and span."""
    week = parse(hours)
    rows = []
    for days, spans in _group_days(week):
        byday = ",".join(DAYS[day].upper() for day in days)
        for start, end in spans:
            rows.append((byday, _hhmm(start), _hhmm(end)))
    return rows


def _hhmm(minutes: int) -> str:
    """Write minutes as HH:MM; a span's end past midnight is written as the next day's time."""
    if minutes > MINUTES_PER_DAY:
        minutes -= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
