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


# Spanish replies that took three segments until their wording was written for SMS (GSM-7
# where it reads as well, shorter where it cannot be): how to tell each in a walk.
TWO_SEGMENTS_IN_SPANISH = {
    # ... but under "we don't know that ZIP code" ("código" takes it to UCS-2).
    "talk screen offering a call": lambda t: "LLAMAR" in t and "código postal" not in t,
    "nearby results with three distances": lambda t: t.count(" millas") >= 3,
    "safety tips": lambda t: t.startswith("Consejos") or "\nConsejos" in t,
    "a list's end": lambda t: t.startswith("Eso es todo."),
}
# The share of Spanish replies still over two segments in this walk (HELP with the demo's
# accented program name, the main menu under the calm line or "we don't know that ZIP
# code", a demo service's details or a one-service list with an accented name or label):
# measured 7.0%; it was 27%.
SPANISH_OVER_TWO = 0.08


@pytest.fixture
def demo_calling() -> Iterator[Flask]:
    """The demo directory on a line with a Twilio account: the talk screen offers a call."""
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    }
    with walk.demo_app(config) as app:
        yield app


@pytest.mark.clock  # "open now" lengthens a list's lines by day
def test_spanish_replies_people_get_most_keep_to_two_segments(demo_calling: Flask) -> None:
    sent = walk.walk(demo_calling, CONVERSATIONS, SEED, walk.DEMO_NUMBERS)
    spanish = [s for s in sent if s.lang == "es"]
    for kind, shown in TWO_SEGMENTS_IN_SPANISH.items():
        found = [s for s in spanish if shown(s.text)]
        assert found, kind
        over = [s.text for s in found if s.segments > MEDIAN_SEGMENTS]
        assert over == [], (kind, over[:2])
    over_two = sum(s.segments > MEDIAN_SEGMENTS for s in spanish) / len(spanish)
    assert over_two <= SPANISH_OVER_TWO, f"{over_two:.1%} of Spanish replies over two segments"


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
