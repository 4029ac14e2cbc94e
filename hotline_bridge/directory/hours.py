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
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_day_names

from hotline_bridge.directory.reasons import Reason

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


# What may follow the rules, each in brackets: the time zone they are in when it is not the
# site's ("[UTC]", "[UTC-05:00]", "[Europe/Madrid]"), and the days they hold for
# ("[2026-01-01..2026-06-30]", "[..2026-06-30]"). Open Referral schedules carry both.
_QUALIFIER = re.compile(r"\s*\[([^\]]*)\]\s*$")
_OFFSET_ZONE = re.compile(r"^UTC(?:([+-])(\d{2}):(\d{2}))?$")
_VALIDITY = re.compile(r"^(\d{4}-\d{2}-\d{2})?\.\.(\d{4}-\d{2}-\d{2})?$")


@dataclass(frozen=True)
class Qualified:
    """Hours text split into its rules and what qualifies them."""

    rules: str
    zone: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def text(self) -> str:
        """Return the hours text again, rules first."""
        parts = [self.rules]
        if self.zone:
            parts.append(f"[{self.zone}]")
        if self.valid_from or self.valid_to:
            start = self.valid_from.isoformat() if self.valid_from else ""
            end = self.valid_to.isoformat() if self.valid_to else ""
            parts.append(f"[{start}..{end}]")
        return " ".join(parts)

    def holds_on(self, day: dt.date) -> bool:
        """Return whether the rules hold on ``day`` (an expired schedule is never open)."""
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_to is None or day <= self.valid_to
        )


def split(text: str) -> Qualified:
    """Split hours text into its rules, zone and validity; ``HoursError`` if one is unreadable."""
    rules, zone, start, end = " ".join(text.split()), None, None, None
    while match := _QUALIFIER.search(rules):
        rules, inner = rules[: match.start()], match[1].strip()
        dates = _VALIDITY.match(inner)
        if dates:
            start, end = _date(dates[1]), _date(dates[2])
        else:
            zone_info(inner)
            zone = inner
    if start and end and end < start:
        english = f"the hours end on {end} before they start on {start}"
        raise HoursError(Reason("hours_order", english, end=end, start=start))
    return Qualified(rules.strip(), zone, start, end)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        english = f"{text!r} is not a date like 2026-06-30"
        raise HoursError(Reason("hours_date", english, value=repr(text))) from None


def zone_info(name: str) -> dt.tzinfo:
    """Return the time zone ``name``: an IANA name, ``UTC``, or a fixed ``UTC+05:30``."""
    offset = _OFFSET_ZONE.match(name)
    if offset:
        if not offset[1]:
            return dt.UTC
        minutes = int(offset[2]) * 60 + int(offset[3])
        return dt.timezone(dt.timedelta(minutes=-minutes if offset[1] == "-" else minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        english = f"{name!r} is not a time zone like America/Chicago or UTC-05:00"
        raise HoursError(Reason("hours_zone", english, value=repr(name))) from None


def offset_zone(minutes: int) -> str:
    """Return the fixed zone ``minutes`` east of UTC as hours text writes it (``UTC-05:00``)."""
    if not minutes:
        return "UTC"
    sign, size = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"UTC{sign}{size // 60:02d}:{size % 60:02d}"


def parse(text: str) -> Week:
    """Parse ``text``; raise ``HoursError`` with a readable reason when it cannot be read."""
    text = split(text).rules
    if not text:
        raise HoursError(Reason("hours_none", "no hours given"))
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
        english = f"{rule!r} gives days but no times (write e.g. 'Mo-Fr 09:00-17:00')"
        raise HoursError(Reason("hours_no_times", english, rule=repr(rule)))
    if times.lower() in _CLOSED:
        return weekdays, ()
    return weekdays, tuple(_span(part, rule) for part in times.split(","))


def _days(head: str) -> list[int]:
    weekdays: list[int] = []
    for spec in head.split(","):
        match = _DAY_SPEC.match(spec)
        if not match:
            english = f"unknown day {spec!r} (use Mo Tu We Th Fr Sa Su)"
            raise HoursError(Reason("hours_day", english, value=repr(spec)))
        first = DAYS.index(match[1])
        last = DAYS.index(match[2] or match[1])
        # Sa-Mo wraps around the week, as OpenStreetMap allows.
        weekdays.extend((first + n) % 7 for n in range((last - first) % 7 + 1))
    return weekdays


def _span(part: str, rule: str) -> Span:
    start_text, dash, end_text = part.strip().partition("-")
    if not dash:
        english = f"{part.strip()!r} in {rule!r} is not a time range like 09:00-17:00"
        raise HoursError(Reason("hours_range", english, value=repr(part.strip()), rule=repr(rule)))
    start, end = _minutes(start_text, rule), _minutes(end_text, rule)
    if start == end or start >= MINUTES_PER_DAY:
        english = f"{part.strip()!r} in {rule!r} opens and closes at the same time"
        raise HoursError(Reason("hours_same", english, value=repr(part.strip()), rule=repr(rule)))
    # A range that ends before it starts runs past midnight into the next day.
    return (start, end if end > start else end + MINUTES_PER_DAY)


def _minutes(text: str, rule: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        english = f"{text.strip()!r} in {rule!r} is not a time like 09:00"
        raise HoursError(Reason("hours_time", english, value=repr(text.strip()), rule=repr(rule)))
    hour, minute = int(match[1]), int(match[2])
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        english = f"{text.strip()!r} in {rule!r} is not a time of day"
        raise HoursError(Reason("hours_clock", english, value=repr(text.strip()), rule=repr(rule)))
    return hour * 60 + minute


def open_now(hours: str | None, tz: str, now: dt.datetime | None = None) -> bool | None:
    """Return whether ``hours`` are open at ``now`` in time zone ``tz``; None when unknown.

    ``now`` defaults to the current time; a naive ``now`` is taken as UTC.
    """
    if not hours:
        return None
    try:
        qualified = split(hours)
        week, zone = parse(qualified.rules), zone_info(qualified.zone or tz)
    except HoursError:
        return None
    now = now or dt.datetime.now(dt.UTC)
    local = (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(zone)
    if not qualified.holds_on(local.date()):
        return False
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
        qualified = split(hours)
        week = parse(qualified.rules)
    except HoursError:
        return hours
    # Hours kept in another zone than the site's say which (a zone name reads alike in any
    # language).
    zone = f" ({qualified.zone})" if qualified.zone else ""
    if week.always:
        return ALWAYS + zone
    if not week.days:
        return hours  # closed every day: say it as staff wrote it
    names = get_day_names("abbreviated", locale=lang)
    return (
        "; ".join(
            f"{_day_runs(days, names)} {', '.join(_clock(span, lang) for span in spans)}"
            for days, spans in _group_days(week)
        )
        + zone
    )


def canonical(hours: str) -> str:
    """Return ``hours`` in one standard spelling (``Mo-Fr 09:00-17:00; Sa 10:00-14:00``), so the
    same hours imported from a spreadsheet or from Open Referral are stored alike."""
    qualified = split(hours)
    return replace(qualified, rules=_write(parse(qualified.rules))).text()


def union(texts: list[str]) -> str:
    """Return the canonical hours open whenever any of ``texts`` is open (several schedules of
    one service add up; they do not replace each other as rules in one text do).

    Hours in different zones or for different days cannot be told as one: ``HoursError``.
    """
    qualifiers = {replace(split(text), rules="") for text in texts}
    if len(qualifiers) > 1:
        english = "its schedules are in different time zones or hold for different days"
        raise HoursError(Reason("hours_apart", english))
    days: dict[int, set[Span]] = {}
    for text in texts:
        for day, spans in parse(text).days.items():
            days.setdefault(day, set()).update(spans)
    merged = Week({day: tuple(sorted(spans)) for day, spans in days.items()})
    always = all(merged.spans(day) == ((0, MINUTES_PER_DAY),) for day in range(7))
    rules = _write(Week(merged.days, always=always))
    return replace(qualifiers.pop(), rules=rules).text() if qualifiers else rules


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


_CLOCK = re.compile(r"^(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def clock_time(text: str) -> tuple[str, int | None]:
    """Return an RFC 3339 time (``09:00:00Z``, ``09:00-05:00``) as ``HH:MM`` and its offset east
    of UTC in minutes (None when it names none)."""
    match = _CLOCK.match(text.strip())
    if not match:
        english = f"{text!r} is not a time like 09:00:00 or 09:00:00-05:00"
        raise HoursError(Reason("hours_rfc_time", english, value=repr(text)))
    offset = match[3]
    if offset is None:
        return f"{match[1]}:{match[2]}", None
    if offset == "Z":
        return f"{match[1]}:{match[2]}", 0
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return f"{match[1]}:{match[2]}", -minutes if offset[0] == "-" else minutes


def from_schedule(byday: str, opens_at: str, closes_at: str) -> str:
    """Return OSM hours for one weekly schedule (iCal ``BYDAY`` like ``MO,TU`` and two times);
    times that name their offset keep it, as the hours' zone."""
    days = [code.strip()[-2:].title() for code in byday.split(",") if code.strip()]
    (opens, opens_offset), (closes, closes_offset) = clock_time(opens_at), clock_time(closes_at)
    if opens_offset != closes_offset:
        english = f"{opens_at!r} and {closes_at!r} are in different time zones"
        raise HoursError(
            Reason("hours_zones", english, opens=repr(opens_at), closes=repr(closes_at))
        )
    times = f"{opens}-{closes}"
    text = f"{','.join(days)} {times}" if days else times
    parse(text)  # refuse what we could not read back
    return text if opens_offset is None else f"{text} [{offset_zone(opens_offset)}]"


def to_schedules(hours: str) -> list[tuple[str, str, str]]:
    """Return the rules of ``hours`` as weekly schedules (``BYDAY``, opens, closes), one per
    group and span (the zone and days they hold for are ``split`` from the text)."""
    week = parse(split(hours).rules)
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
