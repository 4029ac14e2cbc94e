"""The greeting in every language: heard in each, help first, and keys that name where they lead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hotline_bridge.channels.voice.check import time_to_help_problems
from hotline_bridge.channels.voice.simulator import Phone
from tests.conftest import CLINIC_NUMBER, SENDER
from tests.engine.test_languages import PSEUDO, _pseudo_locales

VOICES = {"en": ("en-US", "Polly.Joanna-Neural"), "es": ("es-US", "Polly.Lupe-Neural")}
PSEUDO_VOICE = ("en-US", "Polly.Matthew-Neural")
HOTLINE = "+18883737888"


def call(app: Flask) -> Phone:
    phone = Phone(app, caller=SENDER, to=CLINIC_NUMBER)
    phone.dial_in()
    return phone


def text(app: Flask, lang: str, msgid: str, **params: Any) -> str:
    return str(app.extensions["hotline_bridge"].catalogs.bind(lang).t(msgid, **params))


def test_the_greeting_offers_the_24_7_line_first_in_each_language(app: Flask) -> None:
    said = call(app).said
    first = [(s.text, s.language, s.voice) for s in said[:2]]
    assert first == [
        ("To talk to someone now, press 8.", *VOICES["en"]),
        ("Para hablar con alguien ya, oprima 8.", *VOICES["es"]),
    ]


def test_the_greeting_listens_to_each_language_in_that_language(app: Flask) -> None:
    phone = call(app)
    menus = list(phone.twiml.iter("Gather"))  # type: ignore[union-attr]
    assert [m.get("language") for m in menus] == ["en-US", "es-US"]
    assert [m.get("action") for m in menus] == [
        "/voice/language?d=en&h=en",
        "/voice/language?d=en&h=es",
    ]
    # Each menu holds the sentences of its own language.
    for menu in menus:
        assert {say.get("language") for say in menu.iter("Say")} >= {menu.get("language")}
    assert {say.get("language") for say in menus[1].iter("Say")} == {"es-US"}
    english, spanish = (m.get("hints", "").split(", ") for m in menus)
    # The first menu reads the talk key in both languages, so it listens for both ways of asking.
    assert {"one", "two", "eight", "español", "english", "talk", "hablar"} <= set(english)
    assert {"uno", "dos", "ocho", "español", "english", "hablar"} <= set(spanish)
    # A short wait between the menus, the full one after the last.
    assert [m.get("timeout") for m in menus] == ["1", "6"]


@pytest.mark.parametrize("said", ["dos", "español", "hablo español"])
def test_spanish_words_heard_by_the_spanish_menu_go_on_in_spanish(app: Flask, said: str) -> None:
    phone = call(app)
    phone.speak(said, language="es-US")
    assert text(app, "es", "menu.main") in phone.text


def test_talking_to_someone_said_in_spanish_connects_in_spanish(app: Flask) -> None:
    phone = call(app)
    phone.speak("hablar con alguien", language="es-US")
    dial = phone.dialing
    assert dial is not None and (dial.text or "").strip() == HOTLINE
    assert text(app, "es", "voice.connecting") in phone.text
    assert "l=es" in dial.get("action", "")


def test_danger_said_in_spanish_at_the_greeting_is_answered_in_spanish(app: Flask) -> None:
    phone = call(app)
    phone.speak("me tienen encerrada y no me dejan salir", language="es-US")
    assert phone.twiml.find("Gather").get("action", "").startswith("/voice/signal")  # type: ignore[union-attr]
    assert {s.language for s in phone.said} == {"es-US"}


def test_the_talk_key_in_the_greeting_connects_in_every_language(app: Flask) -> None:
    phone = call(app)
    phone.press("8")
    dial = phone.dialing
    assert dial is not None and (dial.text or "").strip() == HOTLINE
    connecting = [(s.text, s.language) for s in phone.said]
    assert connecting == [
        (text(app, "en", "voice.connecting"), "en-US"),
        (text(app, "es", "voice.connecting"), "es-US"),
    ]


def test_the_time_to_help_is_checked(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline_bridge.channels.voice import check

    assert list(time_to_help_problems(app)) == []
    monkeypatch.setattr(check, "seconds_to_help", lambda app, lang, path: 6.5)
    problems = list(time_to_help_problems(app))
    assert len(problems) == 4
    assert "a keyed caller in en hears the way to the 24/7 line after 6.5 s" in problems[0]


# --- A third language -------------------------------------------------------------------------


@pytest.fixture
def pseudo(make_app: Any, tmp_path: Path) -> Flask:
    app: Flask = make_app(LOCALES_DIR=str(_pseudo_locales(tmp_path)))
    return app


def _voice(app: Flask, lang: str) -> tuple[str, str]:
    return PSEUDO_VOICE if lang == PSEUDO else VOICES[lang]


def test_each_language_key_of_the_greeting_names_its_own_language(pseudo: Flask) -> None:
    phone = call(pseudo)
    offers = {s.text: (s.language, s.voice) for s in phone.said}
    for key, lang in (("1", "en"), ("2", "es"), ("3", PSEUDO)):
        prompt = text(pseudo, lang, "voice.choose_language", key=key)
        assert offers[prompt] == _voice(pseudo, lang)
        chosen = call(pseudo)
        chosen.press(key)
        assert text(pseudo, lang, "menu.main") in chosen.text, (key, lang)


@pytest.mark.parametrize(("lang", "following"), [("en", "es"), ("es", PSEUDO), (PSEUDO, "en")])
def test_the_pound_key_names_the_language_it_leads_to(
    pseudo: Flask, lang: str, following: str
) -> None:
    phone = call(pseudo)
    phone.press({"en": "1", "es": "2", PSEUDO: "3"}[lang])
    switch = {
        other: text(pseudo, other, "voice.switch_language")
        for other in ("en", "es", PSEUDO)
        if other != lang
    }
    offered = [s for s in phone.said if s.text in switch.values()]
    assert [(s.text, (s.language, s.voice)) for s in offered] == [
        (switch[following], _voice(pseudo, following))
    ]
    phone.press("#")
    assert text(pseudo, following, "menu.main") in phone.text


def test_a_line_that_does_not_answer_the_talk_key_offers_the_next_language(app: Flask) -> None:
    phone = call(app)
    phone.press("8")
    phone.dial_outcome("busy")
    assert text(app, "en", "voice.dial.busy") in phone.text
    offer = text(app, "es", "voice.switch_language")
    assert [(s.language, s.voice) for s in phone.said if s.text == offer] == [VOICES["es"]]
    phone.press("#")
    assert {s.language for s in phone.said} == {"es-US"}, phone.said
    assert offer not in phone.text


def test_a_language_chosen_is_not_offered_again_below_the_main_menu(app: Flask) -> None:
    phone = call(app)
    phone.press("1")
    phone.press("2")
    assert text(app, "es", "voice.switch_language") not in phone.text


# --- A language no Twilio voice speaks ---------------------------------------------------------

VOICELESS_PROFILE = """keywords = ["QPS", "PSEUDO"]
voice_fallback = "en"
"""
BY_TEXT = "In <Pseudo>, by text message: send QPS to this number."


@pytest.fixture
def voiceless(make_app: Any, tmp_path: Path) -> Flask:
    app: Flask = make_app(LOCALES_DIR=str(_pseudo_locales(tmp_path, VOICELESS_PROFILE)))
    return app


def test_a_language_without_a_voice_is_offered_by_text_in_its_fallback(voiceless: Flask) -> None:
    phone = call(voiceless)
    said = [(s.text, s.language, s.voice) for s in phone.said]
    assert (BY_TEXT, *VOICES["en"]) in said
    assert all((language, voice) in VOICES.values() for _, language, voice in said), said
    # Only the languages with a voice are chosen by a key, each listened for in its own menu.
    menus = list(phone.twiml.iter("Gather"))  # type: ignore[union-attr]
    assert [m.get("language") for m in menus] == ["en-US", "es-US"]
    assert not any("Pseudo, press" in text for text, _, _ in said)


def test_a_site_whose_language_has_no_voice_greets_in_the_fallback(voiceless: Flask) -> None:
    from hotline_bridge.directory.models import site_for_number
    from hotline_bridge.directory.store import open_db

    with open_db(voiceless) as db:
        site = site_for_number(db, CLINIC_NUMBER)
        db["sites"].update(site.id, {"default_language": PSEUDO})
    phone = call(voiceless)
    assert phone.said[0].voice == VOICES["en"][1]
    menus = phone.twiml.iter("Gather")  # type: ignore[union-attr]
    assert next(menus).get("action") == "/voice/language?d=en&h=en"
    phone.wait()  # pressing nothing goes on in the language the site's callers hear
    assert (phone.said[0].text, phone.said[0].voice) == ("How can we help?", VOICES["en"][1])
    assert {(s.language, s.voice) for s in phone.said[:-1]} == {VOICES["en"]}


def test_simulate_voice_reads_the_offer_by_text(voiceless: Flask) -> None:
    from hotline_bridge.cli import main

    result = voiceless.test_cli_runner().invoke(main, ["simulate", "voice"], input="*\n")
    assert result.exit_code == 0, result.output
    assert f"[en-US, Polly.Joanna-Neural] {BY_TEXT}" in result.output


def test_the_fail_safe_and_reply_call_speak_the_fallback(voiceless: Flask) -> None:
    phone = Phone(voiceless, caller=SENDER, to=CLINIC_NUMBER)
    for url in (f"/voice/fallback?l={PSEUDO}", f"/voice/callback/answer?l={PSEUDO}"):
        phone.post(url)
        assert phone.said and {(s.language, s.voice) for s in phone.said} == {VOICES["en"]}, url


def test_the_console_preview_reads_the_call_its_callers_hear(voiceless: Flask) -> None:
    from hotline_bridge.cli import main
    from hotline_bridge.console import doors
    from hotline_bridge.directory.models import get_service, get_site
    from hotline_bridge.directory.store import open_db
    from tests.conftest import PROJECT

    demo = PROJECT / "examples" / "demo"
    for name in ("sites.csv", "services.csv"):
        result = voiceless.test_cli_runner().invoke(main, ["import", str(demo / name)])
        assert result.exit_code == 0, result.output
    with open_db(voiceless) as db:
        site, service = get_site(db, "demo-clinic"), get_service(db, "demo-legal-aid")
    assert site is not None and service is not None
    details = text(voiceless, PSEUDO, "option.details")
    flow = voiceless.extensions["hotline_bridge"].flow
    seen = doors.voice_detail(voiceless, flow, site, service, PSEUDO, details)
    assert seen.steps[0] == "1", seen.steps  # English: no key chooses the pseudo-language
    # Its details were asked for, by the English option's words, as its callers would.
    assert service.name("en") in seen.text and "<" not in seen.text, seen.text


@pytest.mark.parametrize(
    ("profile", "refusal"),
    [
        ('keywords = ["QPS"]\nvoice_fallback = "fr"\n', "voice_fallback 'fr' is no language"),
        ('keywords = ["QPS"]\n', "give a voice and speech, or the voice_fallback of calls"),
        ('keywords = ["QPS"]\nvoice = "Polly.Matthew-Neural"\n', "voice and speech go together"),
    ],
)
def test_check_refuses_a_language_with_no_voice_and_no_fallback_with_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str, refusal: str
) -> None:
    from click.testing import CliRunner

    from hotline_bridge.cli import main

    monkeypatch.setenv("HOTLINE_BRIDGE_LOCALES_DIR", str(_pseudo_locales(tmp_path, profile)))
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(tmp_path / "check.db"))
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")
    result = CliRunner().invoke(main, ["check", "--quiet"])
    assert result.exit_code != 0
    assert "cannot start" in result.output and refusal in result.output, result.output


@pytest.mark.usefixtures("short_walks")  # a language's whole walk: test_languages.py
def test_check_passes_a_language_that_falls_back_on_calls(make_app: Any, tmp_path: Path) -> None:
    import datetime as dt

    from hotline_bridge.checks import run_checks

    locales = str(_pseudo_locales(tmp_path, VOICELESS_PROFILE))
    app = make_app(LOCALES_DIR=locales, CONFIRMED_LINES="nhth@2026-12-07")
    report = run_checks(app, dt.date(2026, 12, 9))
    assert not report.failed, [line for line in report.lines if line.startswith("FAIL")]
    assert f"voice: {PSEUDO} is read as en on calls, and offered by text" in report.lines
