"""Nearest services by ZIP code: ordering, distance, language, open now, and the SMS line."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from flask import Flask

from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, cost
from hotline_bridge.directory import nearby
from hotline_bridge.directory import store as database
from tests.conftest import Texter
from tests.directory.test_import import EXAMPLES, GOOD, run, write_csv

# ZIP 02139's centre in the offline table.
CENTRE = (42.3647, -71.1042)
EARTH_RADIUS_MILES = 3958.8
DEMO_NUMBER = "+15555550199"
# A ZIP code no service row holds, so finding it anywhere afterwards means it was kept.
PERSON_ZIP = "02140"


def north(miles_degrees: float) -> tuple[str, str]:
    """Return coordinates ``miles_degrees`` of latitude due north of the centre."""
    return f"{CENTRE[0] + miles_degrees:.4f}", f"{CENTRE[1]:.4f}"


def due_north_miles(degrees: float) -> float:
    """Along a meridian the great-circle distance is the radius times the angle."""
    return round(EARTH_RADIUS_MILES * math.radians(degrees), 1)


def place(service_id: str, degrees: float, **values: str) -> dict[str, str]:
    lat, lon = north(degrees)
    return {**GOOD, "id": service_id, "latitude": lat, "longitude": lon, "zip": "", **values}


@pytest.fixture
def directory(app: Flask, tmp_path: Path) -> Flask:
    rows = [
        place("far", 1.0, label_en="Far"),
        place("near", 0.02, label_en="Near"),
        place("middle", 0.05, label_en="Middle"),
        place("too-far", 5.0, label_en="Too far"),
        place("housing", 0.01, category="housing"),
        place("other-site", 0.01, site="north"),
        place("en-only", 0.1, label_en="A English", label_es="A inglés", languages="en"),
        place("es-too", 0.1, label_en="B Spanish", label_es="B español", languages="en, es"),
    ]
    sites = [{"id": "north", "time_zone": "America/Chicago"}]
    assert run(app, "import", str(write_csv(tmp_path / "sites.csv", sites, ("id", "time_zone"))))
    result = run(app, "import", str(write_csv(tmp_path / "s.csv", rows)))
    assert result.exit_code == 0, result.output
    return app


def lookup(app: Flask, zip_code: str = "02139", **kwargs: object) -> list[nearby.Nearby] | None:
    options = {"site": "default", "lang": "en", "limit": 10, **kwargs}
    with database.open_db(app) as db:
        return nearby.nearest(db, zip_code, ["legal"], **options)  # type: ignore[arg-type]


@pytest.mark.clock
def test_nearest_first_with_hand_computed_distances(directory: Flask) -> None:
    found = lookup(directory)
    assert found is not None
    assert [(n.service.id, n.miles) for n in found] == [
        ("near", due_north_miles(0.02)),  # 1.4
        ("middle", due_north_miles(0.05)),  # 3.5
        ("en-only", due_north_miles(0.1)),  # 6.9
        ("es-too", due_north_miles(0.1)),
        ("far", due_north_miles(1.0)),  # 69.1
    ]
    # Other categories, other sites' services and anything beyond the last radius stay out.


@pytest.mark.clock
def test_the_persons_language_comes_first_at_equal_distance(directory: Flask) -> None:
    found = lookup(directory, lang="es")
    assert found is not None
    assert [n.service.id for n in found][2:4] == ["es-too", "en-only"]


@pytest.mark.clock
def test_pages_and_sites(directory: Flask) -> None:
    page = lookup(directory, limit=2, offset=2)
    assert page is not None and [n.service.id for n in page] == ["en-only", "es-too"]
    north_site = lookup(directory, site="north")
    assert north_site is not None and [n.service.id for n in north_site] == ["other-site"]


def test_unknown_zip_and_nothing_near(directory: Flask) -> None:
    assert lookup(directory, "00000") is None
    assert lookup(directory, "abcde") is None
    assert lookup(directory, "99501") == []  # Anchorage: nothing within reach


def test_open_now_is_judged_in_the_sites_time_zone(directory: Flask) -> None:
    # Monday 14:30 UTC: 9:30 in New York (the default site), 8:30 in Chicago (the north site),
    # and GOOD's hours are Mo-Fr 09:00-17:00.
    monday = dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC)
    found = lookup(directory, now=monday)
    assert found is not None and found[0].open_now is True
    found = lookup(directory, now=monday, site="north")
    assert found is not None and found[0].open_now is False
    found = lookup(directory, now=monday + dt.timedelta(hours=1), site="north")
    assert found is not None and found[0].open_now is True


def test_distance_matches_haversine_east_west() -> None:
    # One degree of longitude at the equator is the radius times one degree.
    assert nearby.miles_between((0.0, 0.0), (0.0, 1.0)) == pytest.approx(69.094, abs=0.001)


# --- Through the SMS line --------------------------------------------------------------------


@pytest.fixture
def demo(app: Flask) -> Flask:
    assert run(app, "import", str(EXAMPLES / "demo" / "sites.csv")).exit_code == 0
    assert run(app, "import", str(EXAMPLES / "demo" / "services.csv")).exit_code == 0
    return app


@pytest.fixture
def person(demo: Flask) -> Texter:
    return Texter(demo.test_client(), to=DEMO_NUMBER)


def within_budget(reply: str) -> str:
    assert cost(reply).segments <= MAX_SEGMENTS, reply
    return reply


def test_site_is_chosen_by_the_number_texted(demo: Flask, tmp_path: Path) -> None:
    reply = Texter(demo.test_client(), to=DEMO_NUMBER).send("hi")
    assert reply.startswith("Riverside Health Line (example)\n")
    other = Texter(demo.test_client(), to="+15550100999").send("hi")
    assert "Riverside" not in other
    sites = [
        {
            "id": "spanish-site",
            "default_language": "es",
            "time_zone": "America/Chicago",
            "name_es": "Línea Comunitaria",
            "numbers": "+13125550123",
        }
    ]
    columns = ("id", "default_language", "time_zone", "name_es", "numbers")
    assert run(demo, "import", str(write_csv(tmp_path / "s.csv", sites, columns))).exit_code == 0
    spanish = Texter(demo.test_client(), to="+13125550123").send("5")
    assert spanish.startswith("Línea Comunitaria\n¿")


@pytest.mark.clock
def test_zip_from_the_needs_menu_in_english(person: Texter) -> None:
    person.send("hi")
    assert "Or send your ZIP code." in person.send("2")
    kinds = within_budget(person.send("02139"))
    assert kinds.startswith("What kind of help near you?\n1 Legal or immigration help")
    results = within_budget(person.send("1")).splitlines()
    assert results[0] == "Legal help:"
    assert results[1].startswith("1 Legal help, 0.2 mi")
    assert results[1].endswith("1-617-555-0101")
    assert results[2].startswith("2 Papers and status help, 1.3 mi")
    assert "Example listing, not a real service." in results
    detail = within_budget(person.send("1"))
    assert detail.startswith("Riverside Legal Aid (example)\nCall 1-617-555-0101")
    assert "Hours: Mon-Fri 9am-5pm" in detail


@pytest.mark.clock
def test_zip_on_a_list_searches_that_list_in_spanish(person: Texter, daytime: bool) -> None:
    person.send("hola")
    person.send("2")
    assert person.send("3").startswith("Apoyo emocional:")
    results = within_budget(person.send(PERSON_ZIP)).splitlines()
    assert results[0] == "Apoyo emocional:"
    assert results[1].startswith("1 Alguien con quien hablar, ")
    # The demo service opens weekdays 08:00-20:00, New York time.
    opened = ", abierto ahora" if daytime else ""
    assert results[1] == f"1 Alguien con quien hablar, a 3.1 millas{opened} 1-617-555-0104"
    detail = within_budget(person.send("1"))
    assert detail.startswith("Centro de Consejería Riverside (ejemplo)\nLlame al 1-617-555-0104")
    assert "Horario: lun-vie 8:00-20:00; sáb 9:00-13:00" in detail


@pytest.mark.clock
def test_more_results_three_at_a_time(demo: Flask, tmp_path: Path) -> None:
    rows = [
        place(f"extra-{n}", 0.3 + n / 100, label_en=f"Extra {n}", site="demo-clinic")
        for n in range(5)
    ]
    extra = write_csv(tmp_path / "extra.csv", rows)
    assert run(demo, "import", "--add-only", str(extra)).exit_code == 0
    person = Texter(demo.test_client(), to=DEMO_NUMBER)
    person.send("hi")
    person.send("2")
    person.send("1")
    first = within_budget(person.send("02139")).splitlines()
    assert [line[:2] for line in first[1:5]] == ["1 ", "2 ", "3 ", "7 "]
    second = within_budget(person.send("7")).splitlines()
    assert second[1].startswith("1 ")
    assert "7 More" in second
    third = within_budget(person.send("7"))
    assert "7 More" not in third


def test_an_unknown_zip_gets_a_clear_answer(person: Texter) -> None:
    person.send("hola")
    reply = within_budget(person.send("00000")).splitlines()
    assert reply[1] == "No conocemos ese código postal."
    person.send("EN")
    assert "We don't know that ZIP code." in person.send("00000")


def test_a_zip_code_as_the_first_message_finds_help_near_it(demo: Flask) -> None:
    person = Texter(demo.test_client(), to=DEMO_NUMBER)
    kinds = within_budget(person.send("02139"))
    assert kinds.startswith("What kind of help near you?\n1 Legal or immigration help")
    unknown = Texter(demo.test_client(), to=DEMO_NUMBER).send("00000").splitlines()
    assert unknown[1] == "We don't know that ZIP code."


def test_nothing_near_offers_the_lines_that_can_help(person: Texter) -> None:
    person.send("hi")
    person.send("2")
    person.send("7")  # youth: the demo has one, in Cambridge
    reply = within_budget(person.send("99501"))  # Anchorage
    assert reply.startswith("Nothing of this kind nearby yet. These lines can help:")
    assert "1 Youth support line 1-800-786-2929" in reply
    assert "Call 1-800-786-2929" in person.send("1")  # the line offered can be chosen


@pytest.mark.clock
def test_no_zip_code_is_kept_anywhere(
    demo: Flask, person: Texter, tmp_path: Path, captured_logs: pytest.LogCaptureFixture
) -> None:
    person.send("hi")
    person.send(PERSON_ZIP)
    person.send("1")
    person.send("7")
    person.send("hola")
    person.send(PERSON_ZIP)
    for path in Path(tmp_path).rglob("*"):
        if path.is_file() and path.suffix != ".csv":
            assert PERSON_ZIP.encode() not in path.read_bytes(), path
    assert all(PERSON_ZIP not in record.getMessage() for record in captured_logs.records)
    with database.open_db(demo) as db:
        events = {row["event"] for row in db.query("select event from counts")}
    assert not any(PERSON_ZIP[:3] in event for event in events)


def test_open_now_shows_and_long_results_still_fit_three_segments(
    app: Flask, tmp_path: Path
) -> None:
    long_es = "Orientación jurídica ya"  # 23 characters, near the longest label allowed
    rows = [
        place(f"always-{n}", n / 100, hours="24/7", label_en=f"Open {n}", label_es=long_es)
        for n in range(1, 5)
    ]
    assert run(app, "import", str(write_csv(tmp_path / "open.csv", rows))).exit_code == 0
    english = Texter(app.test_client())
    english.send("hi")
    english.send("2")
    english.send("1")
    reply = within_budget(english.send("02139")).splitlines()
    assert reply[1] == "1 Open 1, 0.7 mi, open now 1-617-555-0123"
    assert "Example listing, not a real service." in reply
    spanish = Texter(app.test_client(), sender="+15558675310")
    spanish.send("hola")
    spanish.send("2")
    spanish.send("1")
    reply = within_budget(spanish.send("02139")).splitlines()
    # Too long for every mark: the label and distance stay; "open now" and the phone (which
    # the detail gives) give way.
    assert reply[1] == f"1 {long_es}, a 0.7 millas"
    assert reply[4] == "7 Siguientes"


def test_the_longest_title_and_labels_still_fit_with_labels_whole(
    app: Flask, tmp_path: Path
) -> None:
    label = "Ayuda cercana en la zona"  # 24 characters
    rows = [
        place(f"far-{n}", 1 + n / 10, category="substance_use", label_es=label, hours="24/7")
        for n in range(4)
    ]
    assert run(app, "import", str(write_csv(tmp_path / "far.csv", rows))).exit_code == 0
    person = Texter(app.test_client())
    for body in ("hola", "2", "4"):
        person.send(body)
    reply = within_budget(person.send("02139")).splitlines()
    # A label is never cut: a person must be able to tell what they choose.
    entries = [line for line in reply if line[:2] in {"1 ", "2 ", "3 "}]
    assert [line[: len(label) + 2] for line in entries] == [f"{n} {label}" for n in (1, 2, 3)]
    assert entries[0].startswith(f"1 {label}, a 69.1 millas")
