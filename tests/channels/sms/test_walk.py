"""What the SMS line costs the people who text it: many random conversations, through the signed
webhook, with the demo directory that `make run` loads, counted as Twilio counts segments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from hotline_bridge.channels.sms import walk
from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, MEDIAN_SEGMENTS
from tests.conftest import AUTH_TOKEN, SECRET_KEY

CONVERSATIONS = 300
SEED = 24


@pytest.fixture
def demo() -> Iterator[Flask]:
    config = {"TESTING": True, "SECRET_KEY": SECRET_KEY, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    with walk.demo_app(config) as app:
        yield app


@pytest.mark.clock  # "open now" lengthens a list's lines by day
def test_random_conversations_with_the_demo_directory_keep_to_the_budget(demo: Flask) -> None:
    sent = walk.walk(demo, CONVERSATIONS, SEED, walk.DEMO_NUMBERS)
    tallies = {one.lang: one for one in walk.tally(sent)}
    assert set(tallies) == {"en", "es"}
    for one in tallies.values():
        assert one.replies > CONVERSATIONS, one.line()  # every conversation says several things
        assert one.median <= MEDIAN_SEGMENTS, one.line()
        assert one.worst <= MAX_SEGMENTS, one.line()
        assert one.first_worst <= walk.FIRST_SEGMENTS, one.line()
    assert walk.problems(sent) == []


def test_the_same_seed_walks_the_same_conversations(demo: Flask) -> None:
    first, again = (walk.walk(demo, 6, SEED, walk.DEMO_NUMBERS) for _ in range(2))
    assert [s.text for s in first] == [s.text for s in again]
    assert [s.text for s in walk.walk(demo, 6, SEED + 1, walk.DEMO_NUMBERS)] != [
        s.text for s in first
    ]


def test_the_first_reply_is_the_main_menu_in_each_language(demo: Flask) -> None:
    sent = walk.walk(demo, 4, SEED, walk.DEMO_NUMBERS)
    firsts = [s for s in sent if s.first]
    assert {s.lang for s in firsts} == {"en", "es"}
    for one in firsts:
        name = "Riverside Health Line (example)" if one.lang == "en" else "Línea de Salud Riverside"
        assert one.text.startswith(name), one.text


def _sent(lang: str, segments: list[int], first: int = 1) -> list[walk.Sent]:
    return [walk.Sent(lang, n == 0, "x", first if n == 0 else s) for n, s in enumerate(segments)]


@pytest.mark.parametrize(
    ("sent", "found"),
    [
        (_sent("es", [2, 2, 1, 2, 2]), []),
        (_sent("es", [2, 3, 3, 3, 1]), ["median of walked es replies is 3 segments (budget 2)"]),
        (_sent("en", [1, 1, 4]), ["a walked en reply is 4 segments (budget 3)"]),
        (_sent("es", [1, 1, 1], first=3), ["a first es reply is 3 segments (budget 2)"]),
    ],
)
def test_what_is_over_budget_is_named(sent: list[walk.Sent], found: list[str]) -> None:
    budgets = [line for line in walk.problems(sent) if not line.startswith("over ")]
    assert budgets == found


def test_every_sites_line_is_walked(demo: Flask) -> None:
    # The demo clinic's number, and one no site lists (the default site answers it).
    assert walk.line_numbers(demo) == [*walk.DEMO_NUMBERS, walk.UNTIED_NUMBER]
