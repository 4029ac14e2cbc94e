"""The voice line through the real webhooks: signed calls, both languages, every menu by key."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import sqlite_utils
from flask import Flask

from hotline_bridge.channels.voice import render as voice_render
from hotline_bridge.channels.voice.check import Walk
from hotline_bridge.channels.voice.routes import fail_safe_twiml
from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.checks import sensitive_hits
from hotline_bridge.directory.store import write_services
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.settings import ConfigError
from tests.conftest import BASE_URL, CLINIC_NUMBER, SENDER, sign, signed_post, twiml

LANGS = ("en", "es")
VOICES = {"en": ("en-US", "Polly.Joanna-Neural"), "es": ("es-US", "Polly.Lupe-Neural")}
HOTLINE_DIGITS = "18883737888"
# The key of each language in the greeting.
LANGUAGE_KEY = {"en": "1", "es": "2"}


def words(app: Flask, lang: str) -> Words:
    return app.extensions["hotline_bridge"].catalogs.bind(lang)


def call(app: Flask, lang: str | None = None, **kwargs: str) -> Phone:
    """Return a phone that has called the line and, with ``lang``, chosen that language."""
    phone = Phone(app, caller=SENDER, to=CLINIC_NUMBER, **kwargs)  # type: ignore[arg-type]
    phone.dial_in()
    if lang:
        phone.press(LANGUAGE_KEY[lang])
    return phone


def press(phone: Phone, *keys: str) -> Phone:
    for key in keys:
        phone.press(key)
    return phone


def digits_read(root: ElementTree.Element) -> list[str]:
    """Return each number read in ``root``, its say-as groups joined."""
    numbers = []
    for say in root.iter("Say"):
        groups = [el.text or "" for el in say if el.tag == "say-as"]
        if groups:
            numbers.append("".join(groups))
    return numbers


def assert_voices(phone: Phone, lang: str) -> None:
    """Assert every sentence is in ``lang``'s voice, but the offer of the other language, which
    is in its own."""
    other = "es" if lang == "en" else "en"
    switch = phone.client.application.extensions["hotline_bridge"].catalogs
    offer = switch.text(other, "voice.switch_language")
    for spoken in phone.said:
        expected = VOICES[other] if spoken.text == offer else VOICES[lang]
        assert (spoken.language, spoken.voice) == expected, spoken


def assert_dials_hotline(phone: Phone) -> ElementTree.Element:
    dial = phone.dialing
    assert dial is not None, phone.text
    assert (dial.text or "").strip() == "+" + HOTLINE_DIGITS
    return dial


# --- Greeting and language ---------------------------------------------------------------------


def test_greeting_offers_each_language_in_its_own_voice(app: Flask) -> None:
    phone = call(app)
    assert phone.status == 200
    menu = phone.twiml.find("Gather")  # type: ignore[union-attr]
    assert menu is not None and menu.get("input") == "dtmf speech"
    assert menu.get("action", "").startswith("/voice/language")
    english = words(app, "en").t("voice.choose_language", key="1")
    spanish = words(app, "es").t("voice.choose_language", key="2")
    said = {spoken.text: (spoken.language, spoken.voice) for spoken in phone.said}
    assert said[english] == VOICES["en"]
    assert said[spanish] == VOICES["es"]
    assert english == "For English, press 1." and spanish == "Para español, oprima 2."


@pytest.mark.parametrize("lang", LANGS)
def test_greeting_and_main_menu_use_no_alarming_word(app: Flask, lang: str) -> None:
    sensitive = app.extensions["hotline_bridge"].sensitive_words
    phone = call(app)
    assert sensitive_hits(phone.text, sensitive) == []
    phone.press(LANGUAGE_KEY[lang])
    assert words(app, lang).t("menu.main") in phone.text
    assert sensitive_hits(phone.text, sensitive) == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_language_key_goes_on_in_that_language(app: Flask, lang: str) -> None:
    phone = call(app, lang)
    assert words(app, lang).t("menu.main") in phone.text
    assert_voices(phone, lang)
    menu = phone.twiml.find("Gather")  # type: ignore[union-attr]
    assert menu.get("language") == VOICES[lang][0]  # type: ignore[union-attr]
    assert f"l={lang}" in menu.get("action", "")  # type: ignore[union-attr]


@pytest.mark.parametrize("site_language", LANGS)
def test_pressing_nothing_chooses_the_site_language(
    make_app: object, tmp_path: Path, site_language: str
) -> None:
    app = make_app()  # type: ignore[operator]
    sqlite_utils.Database(tmp_path / "hotline.db")["sites"].update(
        "default", {"default_language": site_language}
    )
    phone = call(app)
    phone.wait()
    assert words(app, site_language).t("menu.main") in phone.text
    assert_voices(phone, site_language)


def test_saying_a_language_chooses_it(app: Flask) -> None:
    phone = call(app)
    phone.speak("Español")
    assert words(app, "es").t("menu.main") in phone.text


@pytest.mark.parametrize(
    ("said", "lang"),
    [
        ("hola tengo una pregunta", "es"),
        ("buenas tardes", "es"),
        ("hello, I have a question about my appointment", "en"),
    ],
)
def test_words_said_at_the_greeting_choose_their_language(app: Flask, said: str, lang: str) -> None:
    phone = call(app)
    phone.speak(said)
    assert words(app, lang).t("menu.main") in phone.text


@pytest.mark.parametrize(
    ("said", "lang"),
    [
        ("hi I need help please", "en"),
        ("ayuda por favor", "es"),
        ("hello, I need help", "en"),
        ("hola, necesito ayuda", "es"),
        ("buenas noches, necesito ayuda", "es"),
    ],
)
def test_a_plea_said_at_the_greeting_is_answered_in_its_language_with_the_24_7_line(
    app: Flask, said: str, lang: str
) -> None:
    phone = call(app)
    phone.speak(said)
    assert words(app, lang).t("voice.signal.offer", key="1") in phone.text
    assert "1 8 8 8 3 7 3 7 8 8 8" in phone.text and "9 1 1" in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_the_pound_key_switches_language_at_a_menu(app: Flask, lang: str) -> None:
    other = "es" if lang == "en" else "en"
    phone = call(app, lang)
    assert words(app, other).t("voice.switch_language") in phone.text
    phone.press("#")
    assert words(app, other).t("menu.main") in phone.text
    assert_voices(phone, other)


# --- Menus by key ---------------------------------------------------------------------------------

# Keys from the main menu, and the catalog entries the caller then hears.
PATHS = [
    (("2",), ["menu.needs", "option.legal", "option.youth"]),
    (("3",), ["voice.info.tips"]),
    (("2", "1"), ["list.legal"]),
    (("2", "2"), ["list.housing"]),
    (("2", "3"), ["list.mental_health"]),
    (("2", "4"), ["list.substance_use"]),
    (("2", "5"), ["list.medical"]),
    (("2", "6"), ["list.basic_needs"]),
    (("2", "7"), ["list.youth"]),
    (("2", "1", "1"), ["option.call", "option.details"]),
    (("2", "0"), ["menu.main"]),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("keys", "entries"), PATHS)
def test_every_menu_path_by_key(
    app: Flask, lang: str, keys: tuple[str, ...], entries: list[str]
) -> None:
    phone = press(call(app, lang), *keys)
    for entry in entries:
        assert words(app, lang).t(entry) in phone.text
    assert_voices(phone, lang)
    menu = phone.twiml.find("Gather")  # type: ignore[union-attr]
    assert menu is not None and menu.get("input") == "dtmf speech"
    assert menu.get("language") == VOICES[lang][0]
    assert menu.get("hints")
    assert phone.twiml.find("Redirect").text == menu.get("action")  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", LANGS)
def test_lists_read_services_by_their_discreet_label(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "2", "1")
    assert (
        "Confidential 24/7 help line" in phone.text or "Línea de ayuda confidencial" in phone.text
    )
    assert "Trafficking" not in phone.text and "Trata" not in phone.text
    phone.press("1")
    assert "Trafficking" not in phone.text and "Trata" not in phone.text
    phone.press("2")
    official = "National Human Trafficking Hotline" if lang == "en" else "Línea Nacional contra"
    assert official in phone.text
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", LANGS)
def test_a_service_key_connects_with_dial(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "2", "1", "1", "1")
    dial = assert_dials_hotline(phone)
    assert dial.get("action", "").startswith("/voice/dialed?n=service&i=nhth")
    assert words(app, lang).t("voice.connecting") in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_a_three_digit_line_is_read_to_dial_by_hand(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "2", "3", "1")  # emotional support: the 988 line
    assert digits_read(phone.twiml) == ["988"]  # type: ignore[arg-type]
    assert words(app, lang).t("option.call") not in phone.text
    assert phone.dialing is None


@pytest.mark.parametrize("lang", LANGS)
def test_talk_to_someone_is_one_key_from_the_main_menu(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "1")
    dial = assert_dials_hotline(phone)
    assert dial.get("answerOnBridge") == "true"
    assert dial.get("timeout") == "25"
    assert dial.get("action", "").startswith("/voice/dialed?n=talk")


@pytest.mark.parametrize("lang", LANGS)
def test_emergency_says_to_hang_up_and_dial_911(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "4")
    assert phone.dialing is None
    assert words(app, lang).t("connect.emergency") in phone.text
    assert digits_read(phone.twiml) == ["911"]  # type: ignore[arg-type]


def _menu_states() -> list[tuple[str, str]]:
    """Every menu's state query, with the keys that reach it from the main menu."""
    return [
        ("main", ""),
        ("needs", "2"),
        ("tips", "3"),
        ("emergency", "4"),
        ("legal", "21"),
        ("service", "211"),
        ("service details", "2112"),
        ("lines", "1"),  # after the talk line did not answer, 1 opens the other lines
    ]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("name", "keys"), _menu_states())
def test_star_ends_the_call_from_every_menu(app: Flask, lang: str, name: str, keys: str) -> None:
    phone = call(app, lang)
    if name == "lines":
        phone.press("1")
        phone.dial_outcome("busy")
    press(phone, *keys)
    assert phone.listening, name
    phone.press("*")
    assert phone.hung_up and phone.dialing is None
    assert phone.text == words(app, lang).t("voice.goodbye")
    assert [child.tag for child in phone.twiml] == ["Say", "Hangup"]  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("name", "keys"), _menu_states())
def test_eight_talks_nine_goes_back_and_repeat_repeats_from_every_menu(
    app: Flask, lang: str, name: str, keys: str
) -> None:
    phone = call(app, lang)
    if name == "lines":
        phone.press("1")
        phone.dial_outcome("busy")
    press(phone, *keys)
    before = phone.text
    phone.speak("repeat" if lang == "en" else "repetir")
    assert phone.text == before
    if name != "lines":
        talk = press(call(app, lang), *keys)
        talk.press("8")
        assert_dials_hotline(talk)
    phone.press("9")
    back = BACK_FROM[name]
    if back is None:  # one level below the main menu, Back would be the main menu: not offered
        assert phone.text.startswith(words(app, lang).t("voice.notice.unknown"))
    elif back == "talk":
        assert_dials_hotline(phone)
    else:
        assert f"n={back}&" in (phone.twiml.find("Gather").get("action") or "")  # type: ignore[union-attr]


# Where 9 leads from each menu: one level up, never the main menu (0 is for that).
BACK_FROM = {
    "main": None,
    "needs": None,
    "tips": None,
    "emergency": None,
    "legal": "needs",
    "service": "legal",
    "service details": "legal",
    "lines": "talk",
}


def test_the_star_at_the_greeting_ends_the_call(app: Flask) -> None:
    phone = call(app)
    phone.press("*")
    assert phone.hung_up


# --- Silence and wrong keys -----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_silence_repeats_once_then_offers_the_hotline_then_connects(app: Flask, lang: str) -> None:
    phone = call(app, lang)
    menu = phone.text
    phone.wait()
    assert phone.text == menu  # repeated once
    phone.wait()
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]
    assert phone.twiml.find("Gather").get("action") == f"/voice/offer?l={lang}"  # type: ignore[union-attr]
    phone.wait()
    assert_dials_hotline(phone)


@pytest.mark.parametrize("lang", LANGS)
def test_silence_ends_at_the_hotline_number_when_it_does_not_answer(app: Flask, lang: str) -> None:
    phone = call(app, lang)
    steps = 0
    while not phone.hung_up:
        steps += 1
        assert steps < 12, "silence went on too long"
        if phone.dialing is not None:
            phone.dial_outcome("no-answer")
        else:
            phone.wait()
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]
    assert words(app, lang).t("voice.final", number="").split()[0] in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_words_that_match_nothing_count_as_a_wrong_choice(app: Flask, lang: str) -> None:
    invalid = words(app, lang).t("voice.notice.unknown")
    phone = press(call(app, lang), "2")
    phone.speak("repeat" if lang == "en" else "repetir")
    assert not phone.text.startswith(invalid)  # repeating is not a mistake
    phone.speak("zebra umbrella quartz")
    assert phone.text.startswith(invalid)
    assert words(app, lang).t("menu.needs") in phone.text
    phone.speak("zebra umbrella quartz")
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]
    assert invalid not in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_invalid_keys_are_bounded(app: Flask, lang: str) -> None:
    phone = call(app, lang)
    phone.press("5")
    assert phone.text.startswith(words(app, lang).t("voice.notice.unknown"))
    assert words(app, lang).t("menu.main") in phone.text
    phone.press("6")
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]
    phone.press("7")  # anything but the main menu or star connects
    assert_dials_hotline(phone)


# --- Dial outcomes ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_completed_call_says_goodbye_and_hangs_up(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "1")
    phone.dial_outcome("completed")
    said = words(app, lang)
    offer = said.t("voice.delete.offer", key="6")
    assert phone.hung_up and phone.text == f"{offer} {said.t('voice.goodbye')}"
    phone.wait()
    assert phone.hung_up and not phone.listening
    assert phone.text == said.t("voice.goodbye")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("outcome", "entry"),
    [
        ("busy", "voice.dial.busy"),
        ("no-answer", "voice.dial.no_answer"),
        ("failed", "voice.dial.failed"),
    ],
)
def test_an_unanswered_call_reads_the_number_and_offers_more(
    app: Flask, lang: str, outcome: str, entry: str
) -> None:
    phone = press(call(app, lang), "1")
    phone.dial_outcome(outcome)
    assert phone.text.startswith(words(app, lang).t(entry))
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]
    assert words(app, lang).pick("voice", "option.other_lines") in phone.text
    assert phone.dialing is None and phone.listening
    phone.press("1")
    assert words(app, lang).t("list.lines") in phone.text
    phone.press("0")
    assert words(app, lang).t("menu.main") in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_a_service_that_did_not_answer_is_read_with_its_number(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "2", "1", "2", "1")  # community services: 211
    assert phone.dialing is None  # 211 is dialled by the caller
    phone = press(call(app, lang), "2", "1", "1", "1")
    phone.dial_outcome("busy")
    assert phone.text.startswith(words(app, lang).t("voice.dial.busy"))
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]


# --- Numbers ------------------------------------------------------------------------------------


def numbers_read_digit_by_digit(walk: Walk) -> None:
    """Fail unless every number said anywhere on the walk is read digit by digit (the whole
    walk runs in test_voice_tools.py::test_the_voice_paths_have_no_problem)."""
    assert len(walk.answers) > 50
    for root in walk.answers.values():
        for say in root.iter("Say"):
            plain = (say.text or "") + "".join(child.tail or "" for child in say)
            assert not re.search(r"\d{3}", plain), plain
            for child in say:
                if child.tag == "say-as":
                    assert child.get("interpret-as") == "digits"


def test_the_number_can_be_repeated(app: Flask) -> None:
    phone = press(call(app, "en"), "2", "1", "1", "2")
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]
    phone.speak("repeat")
    assert digits_read(phone.twiml) == [HOTLINE_DIGITS]  # type: ignore[arg-type]


# --- Speech -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "speech", "entry"),
    [
        ("en", "two", "menu.needs"),
        ("es", "dos", "menu.needs"),
        ("en", "Safety tips.", "voice.info.tips"),
        ("es", "consejos", "voice.info.tips"),
        ("es", "Uno", None),
        ("es", "quiero hablar con alguien", None),
        ("en", "emergency", "connect.emergency"),
        ("en", "español", "menu.main"),
    ],
)
def test_speech_maps_onto_options(app: Flask, lang: str, speech: str, entry: str | None) -> None:
    phone = call(app, lang)
    phone.speak(speech)
    if entry is None:
        assert_dials_hotline(phone)
    else:
        expected = "es" if speech == "español" else lang
        assert words(app, expected).t(entry) in phone.text


# --- Fail-safe ----------------------------------------------------------------------------------


def _assert_fail_safe(phone: Phone, langs: tuple[str, ...]) -> None:
    assert phone.status == 200
    assert_dials_hotline(phone)
    assert {spoken.language for spoken in phone.said} == {VOICES[lang][0] for lang in langs}
    assert phone.twiml.find("Hangup") is not None  # type: ignore[union-attr]


def test_a_corrupted_database_still_connects_the_caller(app: Flask, tmp_path: Path) -> None:
    for path in tmp_path.glob("hotline.db*"):
        path.write_bytes(b"this is not a database " * 200)
    phone = Phone(app, caller=SENDER)
    phone.dial_in()
    _assert_fail_safe(phone, LANGS)
    phone.post("/voice/menu?n=main&l=es", {"Digits": "2"})
    _assert_fail_safe(phone, ("es",))
    assert "Perdón" in phone.text


def test_the_fallback_route_answers_without_the_database(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_bridge.directory import store as db

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fallback opened the database")

    monkeypatch.setattr(db, "connect", refuse)
    phone = Phone(app)
    phone.post("/voice/fallback")
    _assert_fail_safe(phone, LANGS)
    phone.post("/voice/fallback?l=en")
    _assert_fail_safe(phone, ("en",))


def test_fail_safe_twiml_is_the_static_answer(app: Flask) -> None:
    with app.app_context():
        both = str(fail_safe_twiml(None))
        spanish = str(fail_safe_twiml("es"))
    assert "<Dial" in both and "+" + HOTLINE_DIGITS in both
    assert 'language="en-US"' in both and 'language="es-US"' in both
    assert 'language="en-US"' not in spanish


def test_an_unvoiced_node_type_answers_with_the_fail_safe(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(voice_render.RENDERERS, "connect")
    phone = Phone(app)
    phone.post("/voice/menu?n=talk&l=en")
    _assert_fail_safe(phone, ("en",))


# --- Signatures ---------------------------------------------------------------------------------

ROUTES = [
    "/voice",
    "/voice/language?d=en",
    "/voice/menu?n=main&l=en",
    "/voice/offer?l=en",
    "/voice/dialed?n=talk&l=en",
    "/voice/fallback",
    "/voice/status",
]


@pytest.mark.parametrize("path", ROUTES)
def test_unsigned_or_wrongly_signed_requests_are_refused(app: Flask, path: str) -> None:
    client = app.test_client()
    params = {"CallSid": "CA" + "1" * 32, "From": SENDER, "Digits": "1"}
    assert client.post(path, data=params).status_code == 403
    bad = sign(BASE_URL + path, params, token="not-the-token")
    assert client.post(path, data=params, headers={"X-Twilio-Signature": bad}).status_code == 403
    assert signed_post(client, path, params).status_code == 200


def test_a_tampered_action_query_string_is_refused(app: Flask) -> None:
    client = app.test_client()
    params = {"CallSid": "CA" + "1" * 32, "Digits": "1"}
    signature = sign(BASE_URL + "/voice/menu?n=main&l=en", params)
    tampered = client.post(
        "/voice/menu?n=main&l=es", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403
    twiml(tampered)


# --- Settings ---------------------------------------------------------------------------------


def test_a_voice_that_does_not_speak_its_language_refuses_to_start(make_app: object) -> None:
    with pytest.raises(ConfigError, match="VOICE_ES"):
        make_app(VOICE_ES="Polly.Joanna-Neural")  # type: ignore[operator]


def test_mexican_spanish_can_be_chosen(make_app: object) -> None:
    app = make_app(VOICE_ES="Polly.Mia-Neural", VOICE_LANGUAGE_ES="es-MX")  # type: ignore[operator]
    phone = call(app, "es")
    assert {(s.language, s.voice) for s in phone.said} == {("es-MX", "Polly.Mia-Neural")} | {
        VOICES["en"]
    }
    assert phone.twiml.find("Gather").get("language") == "es-MX"  # type: ignore[union-attr]


# --- Local services, paging and gaps -------------------------------------------------------------


def _add_local_services(path: Path, count: int) -> None:
    db = sqlite_utils.Database(path)
    for n in range(1, count + 1):
        shelter = {
            "id": f"shelter{n}",
            "category": "housing",
            "label_en": f"Place number {n}",
            "label_es": f"Lugar número {n}",
            "name_en": f"Example Shelter {n}",
            "name_es": f"Albergue de ejemplo {n}",
            "phone": f"+1555010010{n}",
            "national": 0,
            "fictional": 1,
            "sort_order": n,
        }
        write_services(db, [shelter])
        db["service_sites"].insert({"service_id": f"shelter{n}", "site_id": "default"})


@pytest.mark.parametrize("lang", LANGS)
def test_a_long_list_is_read_a_page_at_a_time(app: Flask, tmp_path: Path, lang: str) -> None:
    _add_local_services(tmp_path / "hotline.db", 6)
    phone = press(call(app, lang), "2", "2")
    label = "Place number" if lang == "en" else "Lugar número"
    assert f"{label} 4" in phone.text and f"{label} 5" not in phone.text
    assert words(app, lang).t("voice.more", key="7") in phone.text
    phone.press("7")
    assert f"{label} 5" in phone.text and f"{label} 4" not in phone.text
    phone.press("2")  # the second of this page: the sixth
    assert f"{label} 6" in phone.text
    assert words(app, lang).t("directory.fictional") in phone.text
    phone.press("1")
    assert (phone.dialing.text or "").strip() == "+15550100106"  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", LANGS)
def test_a_service_no_longer_listed_returns_to_the_main_menu(app: Flask, lang: str) -> None:
    phone = Phone(app)
    phone.post(f"/voice/menu?n=service&i=gone&l={lang}&v=d")
    assert phone.text.startswith(words(app, lang).t("voice.notice.gone"))
    assert words(app, lang).t("menu.main") in phone.text


@pytest.mark.parametrize("lang", LANGS)
def test_the_offer_of_the_hotline_can_go_back_to_the_main_menu(app: Flask, lang: str) -> None:
    phone = call(app, lang)
    phone.wait()
    phone.wait()
    phone.press("0")
    assert words(app, lang).t("menu.main") in phone.text
    assert phone.twiml.find("Gather").get("action") == f"/voice/menu?n=main&l={lang}"  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", LANGS)
def test_menus_listen_for_their_labels(app: Flask, lang: str) -> None:
    phone = press(call(app, lang), "2")
    hints = phone.twiml.find("Gather").get("hints", "")  # type: ignore[union-attr]
    for entry in ("option.legal", "option.youth"):
        assert words(app, lang).t(entry) in hints
    assert words(app, lang).t("voice.speech.talk").split(",")[0] in hints


@pytest.mark.parametrize(("lang", "alias"), [("en", "twenty-four seven"), ("es", "a toda hora")])
def test_24_7_is_read_as_words_in_each_language(app: Flask, lang: str, alias: str) -> None:
    response = signed_post(app.test_client(), f"/voice/menu?n=main&l={lang}", {"CallSid": "CA1"})
    subs = ElementTree.fromstring(response.get_data()).iter("sub")
    assert ("24/7", alias) in {(sub.text, sub.get("alias")) for sub in subs}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_line_the_caller_dials_themselves_says_its_name_when_asked(app: Flask, lang: str) -> None:
    """988 cannot be connected: its details say to dial it, by its discreet label only; the
    key that asks for its name and number says the name too, instead of the same words again."""
    phone = call(app, lang)
    press(phone, "1")
    phone.dial_outcome("no-answer")
    press(phone, "1", "2")  # other lines, then the crisis line (988)
    plain = phone.text
    name = "9 8 8 Suicide & Crisis Lifeline" if lang == "en" else "Línea 9 8 8 de Prevención"
    assert name not in plain
    assert words(app, lang).t("option.details") in plain
    press(phone, "2")
    assert name in phone.text and "9 8 8" in phone.text


@pytest.mark.parametrize(
    ("lang", "said", "label"),
    [
        ("en", "someone to talk to", "Someone to talk to"),
        ("es", "alguien con quien hablar", "Alguien con quien hablar"),
    ],
)
def test_a_label_said_whole_chooses_it_though_it_holds_a_talk_word(
    app: Flask, lang: str, said: str, label: str
) -> None:
    """A service listed as "Someone to talk to" is chosen by saying its label; the talk
    shortcut ("talk", "someone") still answers where no label is said whole."""
    from hotline_bridge.channels.voice.speech import understand

    w, keywords = words(app, lang), app.extensions["hotline_bridge"].keywords
    options = [("1", "Legal help"), ("2", label), ("3", "Walk-in clinic")]
    talk = {"8": w.t("voice.speech.talk")}
    assert understand(said, w, keywords, options, talk, "#") == "2"
    assert understand(said, w, keywords, options[:1], talk, "#") == "8"
