"""``tools/measure_doors.py`` counts what each door really answers: a plea heard by SMS and by
voice, "SOS" said alone (the emergency screen), and the menu's Emergency option chosen by its
key, which is a choice, not an alarm."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tools import measure_doors

ROWS = [
    ("danger", "kept_in", "my boss locks us in the house at night and wont let us leave"),
    ("danger", "emergency", "SOS"),
    ("ordinary", "appointment", "what time does the clinic open tomorrow"),
]


def test_each_door_counts_pleas_and_the_emergency_screen_said_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sample-en.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "concept", "text"])
        writer.writerows(ROWS)
    measure_doors.main([str(path)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        "sample-en.csv sms",
        "sample-en.csv voice, greeting",
        "sample-en.csv voice, main menu",
    ]
    for line in lines:
        assert line.endswith("recall 100.0% (2/2), false alarms 0.0% (0/1)"), line


def test_the_menus_emergency_option_chosen_by_its_key_is_not_an_alarm(tmp_path: Path) -> None:
    """ "four" on the main menu opens the emergency screen as a choice: no danger is counted,
    so it is not heard; "SOS" opens it as an alarm."""
    app = measure_doors.make_app(str(tmp_path))
    assert not measure_doors.said(app, 1, "four", "en", True)
    assert measure_doors.said(app, 2, "SOS", "en", True)
