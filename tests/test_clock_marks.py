"""The suite's own clock rule: a test runs once unless it is marked ``clock``, and a test whose
answers depend on the time of day cannot pass without the mark."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from tests.conftest import CLOCKS, PROJECT

# Tests run by a pytest of their own, with this suite's conftest, to see what the rule does.
CASES = """
import pytest

from hotline_bridge.directory import hours

OFFICE = "Mo-Fr 09:00-17:00"
NEW_YORK = "America/New_York"


def test_unmarked_and_meets_office_hours():
    assert hours.open_now(OFFICE, NEW_YORK) is not None


def test_unmarked_and_meets_a_line_open_around_the_clock():
    assert hours.open_now("24/7", NEW_YORK) is True


def test_unmarked_and_asks_whether_it_is_day(daytime):
    assert daytime in (True, False)


@pytest.mark.clock
def test_marked_and_sees_both_moments(daytime):
    assert hours.open_now(OFFICE, NEW_YORK) is daytime
"""


def run_cases(tmp_path: Path) -> dict[str, str]:
    """Run CASES with the suite's conftest; return each test's outcome by its id."""
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    (tmp_path / "test_cases.py").write_text(CASES)
    report = tmp_path / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    env.pop("HOTLINE_BRIDGE_TEST_CLOCK", None)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    argv += ["--rootdir", str(tmp_path), f"--junitxml={report}", str(tmp_path)]
    subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False)
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        outcomes[case.get("name", "")] = "failed" if failed else "passed"
    return outcomes


def test_only_marked_tests_run_at_both_moments_and_the_rule_is_enforced(tmp_path: Path) -> None:
    outcomes = run_cases(tmp_path)
    assert outcomes == {
        # Office hours are open at one moment and closed at the other: the mark is missing.
        "test_unmarked_and_meets_office_hours": "failed",
        "test_unmarked_and_meets_a_line_open_around_the_clock": "passed",
        "test_unmarked_and_asks_whether_it_is_day": "failed",
        **{f"test_marked_and_sees_both_moments[{name}]": "passed" for name in CLOCKS},
    }
