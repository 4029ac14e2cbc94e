"""Weekly hours in the OpenStreetMap form: reading, writing for people, and "open now"."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline_bridge.directory import hours

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "canonical", "english", "spanish"),
    [
        ("24/7", "24/7", "24/7", "24/7"),
        ("Mo-Su 00:00-24:00", "24/7", "24/7", "24/7"),
        (
            "Mo-Fr 09:00-17:00; Sa 10:00-14:00",
            "Mo-Fr 09:00-17:00; Sa 10:00-14:00",
            "Mon-Fri 9am-5pm; Sat 10am-2pm",
            "lun-vie 9:00-17:00; sáb 10:00-14:00",
        ),
        (
            "Mo,We,Fr 9:00-12:00,13:00-17:30",
            "Mo,We,Fr 09:00-12:00,13:00-17:30",
            "Mon,Wed,Fri 9am-12pm, 1pm-5:30pm",
            "lun,mié,vie 9:00-12:00, 13:00-17:30",
        ),
        ("Fr-Sa 22:00-02:00", "Fr-Sa 22:00-02:00", "Fri-Sat 10pm-2am", "vie-sáb 22:00-2:00"),
        # A later rule replaces what an earlier one said about the same day.
        (
            "Mo-Fr 09:00-17:00; We off",
            "Mo-Tu,Th-Fr 09:00-17:00",
            "Mon-Tue,Thu-Fri 9am-5pm",
            "lun-mar,jue-vie 9:00-17:00",
        ),
    ],
)
def test_hours_are_read_and_described(
    text: str, canonical: str, english: str, spanish: str
) -> None:
    assert hours.canonical(text) == canonical
    assert hours.describe(text, "en") == english
    assert hours.describe(text, "es") == spanish


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Mon-Fri 9-5", "unknown day 'Mon-Fri'"),
        ("Mo-Fr", "gives days but no times"),
        ("Mo-Fr 09:00-25:00", "is not a time of day"),
        ("Mo-Fr 9am-5pm", "is not a time like 09:00"),
        ("PH off", "unknown day 'PH'"),
        ("Mo-Fr 09:00 17:00", "is not a time range"),
        ("Mo 09:00-09:00", "opens and closes at the same time"),
    ],
)
def test_unreadable_hours_say_why(text: str, reason: str) -> None:
    with pytest.raises(hours.HoursError) as problem:
        hours.parse(text)
    assert reason in str(problem.value)


@pytest.mark.parametrize(
    ("text", "now", "tz", "expected"),
    [
        # Monday 14:30 UTC is 9:30 in New York (open) but 8:30 in Chicago (not yet).
        (
            "Mo-Fr 09:00-17:00",
            dt.datetime(2026, 11, 23, 14, 30, tzinfo=UTC),
            "America/New_York",
            True,
        ),
        (
            "Mo-Fr 09:00-17:00",
            dt.datetime(2026, 11, 23, 14, 30, tzinfo=UTC),
            "America/Chicago",
            False,
        ),
        # Sunday 1:30 in New York is still Saturday night's 22:00-02:00.
        ("Sa 22:00-02:00", dt.datetime(2026, 11, 22, 6, 30, tzinfo=UTC), "America/New_York", True),
        ("Sa 22:00-02:00", dt.datetime(2026, 11, 22, 8, 30, tzinfo=UTC), "America/New_York", False),
        ("24/7", dt.datetime(2026, 11, 22, 8, 30, tzinfo=UTC), "America/Denver", True),
        ("", dt.datetime(2026, 11, 22, 8, 30, tzinfo=UTC), "America/Denver", None),
        ("whenever", dt.datetime(2026, 11, 22, 8, 30, tzinfo=UTC), "America/Denver", None),
    ],
)
def test_open_now_in_the_sites_time_zone(
    text: str, now: dt.datetime, tz: str, expected: bool | None
) -> None:
    assert hours.open_now(text, tz, now) is expected


def test_schedules_round_trip() -> None:
    text = "Mo-Fr 09:00-12:00,13:00-17:00; Sa 22:00-02:00"
    rules = [hours.from_schedule(*schedule) for schedule in hours.to_schedules(text)]
    assert hours.union(rules) == hours.canonical(text)
    assert hours.union([hours.from_schedule(*s) for s in hours.to_schedules("24/7")]) == "24/7"
