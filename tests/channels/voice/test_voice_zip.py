"""Nearest by ZIP code on the voice line: keyed in from a list, read nearest first with miles,
paged, chosen and connected, in both languages; bounded when unknown or unanswered; never kept."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

from hotline_bridge.channels.voice import render as voice_render
from hotline_bridge.channels.voice.check import voice_problems, walk_calls
from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.cli import main
from hotline_bridge.directory.models import get_service
from hotline_bridge.directory.store import open_db
from tests.channels.voice.test_voice import (
    HOTLINE_DIGITS,
    LANGS,
    VOICES,
    assert_dials_hotline,
    call,
    press,
    words,
)
from tests.conftest import CLINIC_NUMBER, SENDER, signed_post, twiml
from tests.directory.test_import import GOOD, run, write_csv

# ZIP 02139's centre in the offline table; the test services lie due north of it.
CENTRE = (42.3647, -71.1042)
# A ZIP code near the test services, and one far from all of them (Anchorage).
NEAR_ZIP, FAR_ZIP = "02139", "99501"
# A ZIP code no file or row of the test holds, so finding it afterwards means it was kept.
PERSON_ZIP = "02140"
# Keys from the main menu to the housing list, and the list's key for the nearest by ZIP code.
TO_HOUSING = ("2", "2")
ZIP_KEY = "5"

# Five places to stay, by degrees of latitude north of the centre: 0.03, 0.2, 1.0, 2.4 and 3.5
# miles. Only the second has hours, open day and night.
PLACES = [
    ("h-a", "A", 0.0005, ""),
    ("h-b", "B", 0.003, "24/7"),
    ("h-c", "C", 0.0145, ""),
    ("h-d", "D", 0.035, ""),
    ("h-e", "E", 0.05, ""),
]


@pytest.fixture
def nearby_app(app: Flask, tmp_path: Path) -> Flask:
    """The app with five places to stay near ZIP 02139, at the default site."""
    rows = [
        {
            **GOOD,
            "id": service_id,
            "category": "housing",
            "label_en": f"Place {letter}",
            "label_es": f"Lugar {letter}",
            "name_en": f"Example House {letter}",
            "name_es": f"Casa de ejemplo {letter}",
            "phone": f"(617) 555-013{n}",
            "tty": "",
            "zip": "",
            "latitude": f"{CENTRE[0] + degrees:.4f}",
            "longitude": f"{CENTRE[1]:.4f}",
            "hours": hours,
        }
        for n, (service_id, letter, degrees, hours) in enumerate(PLACES, 1)
    ]
    result = run(app, "import", str(write_csv(tmp_path / "places.csv", rows)))
    assert result.exit_code == 0, result.output
    return app


def at_zip_question(app: Flask, lang: str) -> Phone:
    """Return a call, in ``lang``, at the question of a ZIP code for a place to stay."""
    phone = press(call(app, lang), *TO_HOUSING)
    assert (
        words(app, lang).t("voice.option", label=words(app, lang).t("zip.search"), key=ZIP_KEY)
        in phone.text
    )
    phone.press(ZIP_KEY)
    return phone


def said(phone: Phone) -> list[str]:
    return [spoken.text for spoken in phone.said]


def assert_all_in_voice(phone: Phone, lang: str) -> None:
    for spoken in phone.said:
        assert (spoken.language, spoken.voice) == VOICES[lang], spoken


# --- Keyed in from a list, read nearest first --------------------------------------------------


FIRST_PAGE = {
    "en": [
        "Here is the help nearest to you.",
        "Place A, less than a tenth of a mile away: press 1.",
        "Place B, 0.2 miles away, open now: press 2.",
        "Place C, one mile away: press 3.",
        "Example listing, not a real service.",
        "To hear more, press 7.",
        "Another ZIP code: press 5.",
    ],
    "es": [
        "Esta es la ayuda más cercana a usted.",
        "Lugar A, a menos de una décima de milla: oprima 1.",
        "Lugar B, a 0.2 millas, abierto ahora: oprima 2.",
        "Lugar C, a una milla: oprima 3.",
        "Ejemplo, no es un servicio real.",
        "Para escuchar más, oprima 7.",
        "Otro código postal: oprima 5.",
    ],
}
SECOND_PAGE = {
    "en": ["Place D, 2.4 miles away: press 1.", "Place E, 3.5 miles away: press 2."],
    "es": ["Lugar D, a 2.4 millas: oprima 1.", "Lugar E, a 3.5 millas: oprima 2."],
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_list_asks_for_a_zip_code_with_its_kind_chosen(nearby_app: Flask, lang: str) -> None:
    phone = at_zip_question(nearby_app, lang)
    menu = phone.twiml.find("Gather")  # type: ignore[union-attr]
    assert menu is not None
    assert (menu.get("input"), menu.get("numDigits"), menu.get("finishOnKey")) == ("dtmf", "5", "#")
    assert menu.get("language") == VOICES[lang][0]
    assert menu.get("action") == f"/voice/menu?n=nearby&i=.housing&l={lang}"
    assert phone.twiml.find("Redirect").text == menu.get("action")  # type: ignore[union-attr]
    assert said(phone)[0] == words(nearby_app, lang).t("voice.zip.ask")
    assert_all_in_voice(phone, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_nearest_are_read_first_with_miles_three_at_a_time(
    nearby_app: Flask, lang: str
) -> None:
    phone = at_zip_question(nearby_app, lang)
    phone.press(NEAR_ZIP)
    assert said(phone)[: len(FIRST_PAGE[lang])] == FIRST_PAGE[lang]
    assert_all_in_voice(phone, lang)
    menu = phone.twiml.find("Gather")  # type: ignore[union-attr]
    assert menu.get("input") == "dtmf speech" and menu.get("numDigits") == "1"  # type: ignore[union-attr]
    assert "Place A" in menu.get("hints", "") or "Lugar A" in menu.get("hints", "")  # type: ignore[union-attr]
    phone.press("7")
    assert said(phone)[:2] == SECOND_PAGE[lang]
    assert words(nearby_app, lang).t("voice.more", key="7") not in phone.text
    assert words(nearby_app, lang).t("voice.zip.nearest") not in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_a_result_opens_its_detail_and_connects_with_dial(nearby_app: Flask, lang: str) -> None:
    phone = at_zip_question(nearby_app, lang)
    press(phone, NEAR_ZIP, "7", "2")  # the fifth nearest: Place E
    assert said(phone)[0] == ("Place E" if lang == "en" else "Lugar E")
    assert words(nearby_app, lang).t("option.call") in phone.text
    phone.press("2")
    assert "Example House E" in phone.text or "Casa de ejemplo E" in phone.text
    phone.press("1")
    dial = phone.dialing
    assert dial is not None and (dial.text or "").strip() == "+16175550135"
    # The state rides on, with where Back leads: the results it was chosen from.
    expected = f"/voice/dialed?n=service&i=h-e&l={lang}&b=nearby:{NEAR_ZIP}.housing@1"
    assert dial.get("action") == expected
    assert dial.get("answerOnBridge") == "true"
    phone.dial_outcome("busy")
    assert words(nearby_app, lang).t("voice.dial.busy") in phone.text
    assert "6 1 7 5 5 5 0 1 3 5" in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_another_zip_code_can_be_keyed_in_from_the_results(nearby_app: Flask, lang: str) -> None:
    phone = at_zip_question(nearby_app, lang)
    press(phone, NEAR_ZIP, ZIP_KEY)
    assert said(phone)[0] == words(nearby_app, lang).t("voice.zip.ask")
    phone.press(FAR_ZIP)
    assert said(phone)[0] == words(nearby_app, lang).t("voice.zip.none")


def test_the_pound_key_reads_the_results_in_the_other_language(nearby_app: Flask) -> None:
    phone = at_zip_question(nearby_app, "en")
    press(phone, NEAR_ZIP, "#")
    assert said(phone)[: len(FIRST_PAGE["es"])] == FIRST_PAGE["es"]
    assert_all_in_voice(phone, "es")


@pytest.mark.parametrize("lang", LANGS)
def test_saying_a_key_chooses_that_result(nearby_app: Flask, lang: str) -> None:
    phone = at_zip_question(nearby_app, lang)
    phone.press(NEAR_ZIP)
    phone.speak("three" if lang == "en" else "tres")
    assert said(phone)[0] == ("Place C" if lang == "en" else "Lugar C")


# --- The question of the kind, when none is chosen ----------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_zip_code_without_a_kind_asks_for_the_kind(nearby_app: Flask, lang: str) -> None:
    client = nearby_app.test_client()
    params = {"CallSid": "CA" + "1" * 32, "From": SENDER, "To": CLINIC_NUMBER, "Digits": NEAR_ZIP}
    asked = twiml(signed_post(client, f"/voice/menu?n=nearby&l={lang}", params))
    menu = asked.find("Gather")
    assert menu is not None and menu.get("action") == f"/voice/menu?n=nearby&i={NEAR_ZIP}&l={lang}"
    text = " ".join("".join(say.itertext()) for say in asked.iter("Say"))
    assert text.startswith(words(nearby_app, lang).t("zip.kind"))
    housing = words(nearby_app, lang).t("option.housing")
    assert words(nearby_app, lang).t("voice.option", label=housing, key="2") in text
    chosen = twiml(signed_post(client, menu.get("action", ""), {**params, "Digits": "2"}))
    text = " ".join("".join(say.itertext()) for say in chosen.iter("Say"))
    assert text.startswith(FIRST_PAGE[lang][0] + " " + FIRST_PAGE[lang][1])


# --- Unknown, nothing near, silence, shortcuts ---------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("entry", ["00000", "021#"])
def test_an_unknown_zip_code_is_asked_again_then_the_hotline_is_offered(
    nearby_app: Flask, lang: str, entry: str
) -> None:
    phone = at_zip_question(nearby_app, lang)
    phone.press(entry)
    # A ZIP code the table does not know, or one too short, is said to be so.
    notice = "voice.zip.unknown" if entry == "00000" else "voice.zip.digits"
    assert said(phone)[:2] == [
        words(nearby_app, lang).t(notice),
        words(nearby_app, lang).t("voice.zip.ask"),
    ]
    assert phone.twiml.find("Gather").get("numDigits") == "5"  # type: ignore[union-attr]
    phone.press(entry)
    assert phone.twiml.find("Gather").get("action") == f"/voice/offer?l={lang}"  # type: ignore[union-attr]
    assert HOTLINE_DIGITS in phone.text.replace(" ", "")
    phone.wait()
    assert_dials_hotline(phone)


def test_an_unknown_zip_code_in_an_action_url_is_asked_again(nearby_app: Flask) -> None:
    phone = Phone(nearby_app)
    phone.post("/voice/menu?n=nearby&i=00000.housing&l=es")  # silence there: one turn counted
    assert said(phone)[0] == words(nearby_app, "es").t("voice.zip.unknown")
    action = phone.twiml.find("Gather").get("action")  # type: ignore[union-attr]
    assert action == "/voice/menu?n=nearby&i=.housing&l=es&r=1"


@pytest.mark.parametrize("lang", LANGS)
def test_nothing_near_offers_the_lines_that_can_help(nearby_app: Flask, lang: str) -> None:
    phone = at_zip_question(nearby_app, lang)
    phone.press(FAR_ZIP)
    w = words(nearby_app, lang)
    assert said(phone)[0] == w.t("voice.zip.none")
    with open_db(nearby_app) as db:
        lines = [get_service(db, line) for line in ("community211", "nhth")]  # housing's fallback
    for n, line in enumerate(lines, 1):
        assert line is not None
        assert w.t("voice.option", label=line.label(lang), key=str(n)) in phone.text
    assert w.t("voice.option", label=w.t("zip.again"), key=ZIP_KEY) in phone.text
    press(phone, "2", "1")
    assert_dials_hotline(phone)


@pytest.mark.parametrize("lang", LANGS)
def test_silence_at_the_zip_question_is_bounded(nearby_app: Flask, lang: str) -> None:
    phone = at_zip_question(nearby_app, lang)
    phone.wait()
    assert said(phone)[0] == words(nearby_app, lang).t("voice.zip.ask")
    assert "r=1" in phone.twiml.find("Gather").get("action", "")  # type: ignore[union-attr]
    phone.wait()
    assert phone.twiml.find("Gather").get("action") == f"/voice/offer?l={lang}"  # type: ignore[union-attr]
    phone.wait()
    assert_dials_hotline(phone)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("entry", ["*", "*#", "02*"])
def test_star_ends_the_call_at_the_zip_question(nearby_app: Flask, lang: str, entry: str) -> None:
    phone = at_zip_question(nearby_app, lang)
    phone.press(entry)
    assert phone.hung_up and phone.dialing is None
    assert phone.text == words(nearby_app, lang).t("voice.goodbye")


@pytest.mark.parametrize("lang", LANGS)
def test_shortcut_keys_work_at_the_zip_question(nearby_app: Flask, lang: str) -> None:
    w = words(nearby_app, lang)
    assert (
        w.t("voice.zip.shortcuts", talk="8", home="0", back="9")
        in at_zip_question(nearby_app, lang).text
    )
    home = at_zip_question(nearby_app, lang)
    home.press("0#")
    assert w.t("menu.main") in home.text
    talk = at_zip_question(nearby_app, lang)
    talk.press("8")  # then a pause: Twilio sends the one key
    assert_dials_hotline(talk)
    back = at_zip_question(nearby_app, lang)
    back.press("9")  # back to the list the ZIP code was asked for
    assert said(back)[0] == w.t("list.housing")
    again = at_zip_question(nearby_app, lang)
    again.wait()  # silence asks again, once
    assert said(again)[0] == w.t("voice.zip.ask")


# --- Nothing kept ---------------------------------------------------------------------------------


def test_no_zip_code_is_kept_after_a_call(
    nearby_app: Flask, tmp_path: Path, captured_logs: pytest.LogCaptureFixture
) -> None:
    phone = at_zip_question(nearby_app, "es")
    press(phone, PERSON_ZIP, "7", "1", "1")
    phone.dial_outcome("no-answer")
    phone.press("0")
    phone.press("*")
    assert phone.hung_up
    logging.getLogger("hotline_bridge.test").warning("voice url was %s", phone.url)
    kept = [*tmp_path.rglob("*"), *Path(nearby_app.instance_path).rglob("*")]
    for path in kept:
        if path.is_file() and path.suffix != ".csv":  # the CSV is the test's own directory
            assert PERSON_ZIP.encode() not in path.read_bytes(), path
    assert all(PERSON_ZIP not in record.getMessage() for record in captured_logs.records)
    with open_db(nearby_app) as db:
        events = {row["event"] for row in db.query("select event from counts")}
    assert "zip:code" in events
    assert not any(PERSON_ZIP[:3] in event for event in events)


# --- The path check and the simulator ----------------------------------------------------------


def test_the_walk_keys_in_zip_codes_and_finds_no_problem(nearby_app: Flask) -> None:
    walk = walk_calls(nearby_app)
    seen = "\n".join(walk.where)
    for lang in LANGS:
        for sentence in (*FIRST_PAGE[lang], *SECOND_PAGE[lang]):
            assert sentence in seen
        assert words(nearby_app, lang).t("voice.zip.none") in seen
        assert words(nearby_app, lang).t("voice.zip.unknown") in seen
    assert voice_problems(nearby_app, walk) == []


def test_simulate_voice_takes_a_zip_code(nearby_app: Flask) -> None:
    typed = ["1", *TO_HOUSING, ZIP_KEY, NEAR_ZIP, "2", "*"]
    result = nearby_app.test_cli_runner().invoke(
        main, ["simulate", "voice"], input="\n".join(typed)
    )
    assert result.exit_code == 0, result.output
    assert "[en-US, Polly.Joanna-Neural] Please enter a five-digit ZIP code" in result.output
    assert (
        "[en-US, Polly.Joanna-Neural] Place B, 0.2 miles away, open now: press 2." in result.output
    )
    assert result.output.rstrip().endswith("<Hangup>")


@pytest.mark.parametrize(
    ("lang", "miles", "spoken"),
    [
        ("en", 0.0, "less than a tenth of a mile away"),
        ("en", 1.0, "one mile away"),
        ("en", 2.0, "2 miles away"),
        ("en", 12.3, "12.3 miles away"),
        ("es", 0.05, "a menos de una décima de milla"),
        ("es", 1.0, "a una milla"),
        ("es", 2.4, "a 2.4 millas"),
    ],
)
def test_distances_read_naturally(app: Flask, lang: str, miles: float, spoken: str) -> None:
    assert voice_render.distance(words(app, lang), miles) == spoken
