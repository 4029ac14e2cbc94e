"""Conversations a frightened person can finish: language, first words, WhatsApp."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge.channels.sms.segments import cost
from hotline_bridge.checks import sensitive_hits
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.engine.wordlists import LanguageGuesser
from hotline_bridge.settings import PROJECT_ROOT
from tests.channels.sms import SmsWords, sms_words
from tests.conftest import SENDER, Texter, signed_post, twiml

HOTLINE = "1-888-373-7888"


def words(app: Flask, lang: str) -> SmsWords:
    """The words of the SMS line's replies (its own variant of a key, where it has one)."""
    return sms_words(app, lang)


def shared_words(app: Flask, lang: str) -> Words:
    """The words every channel shares: what WhatsApp writes."""
    return app.extensions["hotline_bridge"].catalogs.bind(lang)


# --- Language of a first message --------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        "ES",
        "es",
        "Español",
        "Hola, necesito ayuda",
        "ayuda con vivienda",
        "necesito un lugar donde quedarme",
        "¿Dónde puedo hablar con alguien?",
        "buenas tardes",
        "tengo miedo",
    ],
)
def test_a_first_message_in_spanish_is_answered_in_spanish(
    app: Flask, client: FlaskClient, first: str
) -> None:
    reply = Texter(client).send(first)
    assert words(app, "es").t("option.talk") in reply


@pytest.mark.parametrize(
    "first", ["EN", "hello", "I need help", "where can I stay tonight", "hi there", "ok"]
)
def test_a_first_message_in_english_is_answered_in_english(
    app: Flask, client: FlaskClient, first: str
) -> None:
    reply = Texter(client).send(first)
    assert words(app, "en").t("menu.main") in reply


def test_spanish_written_later_switches_the_conversation(app: Flask, client: FlaskClient) -> None:
    texter = Texter(client)
    texter.send("hi")
    reply = texter.send("no entiendo, me puede explicar las opciones por favor")
    assert reply.splitlines()[1] == words(app, "es").t("notice.unknown")
    assert words(app, "es").t("option.talk") in reply


def test_a_word_or_two_of_english_does_not_switch_a_spanish_conversation(
    app: Flask, client: FlaskClient
) -> None:
    texter = Texter(client)
    texter.send("hola")
    assert texter.send("ok").splitlines()[1] == words(app, "es").t("notice.unknown")


ENGLISH_STARTS = ["", "hi ", "hello, ", "please ", "hey, ", "good morning, "]
ENGLISH_ASKS = [
    "i need help",
    "i need a place to stay",
    "can you help me",
    "where can i find a doctor",
    "i need a lawyer",
    "who can i talk to",
    "is there food near me",
    "i need help with my papers",
    "my friend needs help",
    "i want to talk to someone",
    "where do i go",
    "how does this work",
    "i need a job",
    "is this free",
    "i dont have money for the doctor",
    "i have no place to sleep tonight",
]
ENGLISH_ENDS = ["", " please", " now", " thanks", "?"]
SPANISH_STARTS = ["", "hola ", "buenas, ", "por favor ", "buenos días, ", "oiga, "]
SPANISH_ASKS = [
    "necesito ayuda",
    "necesito un lugar donde quedarme",
    "me puede ayudar",
    "dónde encuentro un médico",
    "necesito un abogado",
    "con quién puedo hablar",
    "hay comida cerca",
    "necesito ayuda con mis papeles",
    "mi amiga necesita ayuda",
    "quiero hablar con alguien",
    "a dónde voy",
    "cómo funciona esto",
    "necesito trabajo",
    "es gratis",
    "no tengo dinero para el doctor",
    "no tengo donde dormir esta noche",
]
SPANISH_ENDS = ["", " por favor", " ahora", " gracias", "?"]


def _corpus(starts: list[str], asks: list[str], ends: list[str]) -> list[str]:
    messages = [f"{s}{a}{e}" for s, a, e in itertools.product(starts, asks, ends)]
    # Some written in capitals, some without accents, as people type on a small keyboard.
    return (
        messages
        + [m.upper() for m in messages[::7]]
        + [m.replace("í", "i").replace("é", "e").replace("ó", "o") for m in messages[::5]]
    )


def test_the_language_of_first_messages_is_right_almost_always() -> None:
    guesser = LanguageGuesser.load(PROJECT_ROOT / "flows" / "languages.toml")
    english = _corpus(ENGLISH_STARTS, ENGLISH_ASKS, ENGLISH_ENDS)
    spanish = _corpus(SPANISH_STARTS, SPANISH_ASKS, SPANISH_ENDS)
    assert len(english) > 500 and len(spanish) > 500
    right_en = sum(guesser.guess(m, ("en", "es")) in {"en", None} for m in english)
    right_es = sum(guesser.guess(m, ("en", "es")) == "es" for m in spanish)
    # A message with no clue is answered in the site's language, so for English (the default)
    # "no clue" is right too; Spanish must be recognised.
    assert right_en / len(english) >= 0.99, right_en / len(english)
    assert right_es / len(spanish) >= 0.98, right_es / len(spanish)


@pytest.mark.parametrize("text", ["S.O.S.", "S O S", "s.o.s", "A T M"])
def test_letters_spelled_out_are_no_clue_to_the_language(text: str) -> None:
    guesser = LanguageGuesser.load(PROJECT_ROOT / "flows" / "languages.toml")
    assert guesser.guess(text, ("en", "es")) is None
    # A one-letter word among others still counts: "o" is Spanish for "or".
    assert guesser.guess(f"{text} ayuda o algo", ("en", "es")) == "es"


# --- Words that suggest danger ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "lang"),
    [
        ("my boss keeps my passport and watches my phone, I'm scared", "en"),
        ("he hurts me and I can't leave", "en"),
        ("mi jefe tiene mi pasaporte y revisa mi teléfono, tengo miedo", "es"),
        ("no me deja salir de la casa", "es"),
    ],
)
def test_a_message_that_suggests_danger_gets_a_calm_line_first(
    app: Flask, client: FlaskClient, message: str, lang: str
) -> None:
    reply = Texter(client).send(message)
    lines = reply.splitlines()
    w = words(app, lang)
    assert HOTLINE in lines[1] and "911" in lines[1]  # after the program name, before the menu
    assert w.t("option.talk") in reply  # the main menu's choices (its question may give way)
    assert cost(reply).segments <= 3
    # Nothing alarming is said back, nor any of the words the person used.
    sensitive = app.extensions["hotline_bridge"].sensitive_words
    assert sensitive_hits(reply, sensitive) == []
    for word in ("passport", "pasaporte", "scared", "miedo", "hurts", "salir"):
        assert word not in reply.lower()


# Short first messages in Spanish, most of them from someone in danger, whose few words once
# told no language (or leaned English on "a"), so the site's English answered them.
SHORT_SPANISH = [
    ("no me deja salir", True),
    ("me van a matar", True),
    ("me obligan a trabajar", True),
    ("no me pagan", True),
    ("me pegan", True),
    ("me tienen encerrada", True),
    ("ayúdeme por favor", True),
    ("socorro", True),
    ("me quitaron el pasaporte", True),
    ("no estoy a salvo", True),
    ("voy a la clinica", False),
    ("a dónde voy", False),
]


@pytest.mark.parametrize(("message", "danger"), SHORT_SPANISH)
def test_a_short_spanish_first_message_is_answered_in_spanish(
    app: Flask, client: FlaskClient, message: str, danger: bool
) -> None:
    reply = Texter(client).send(message)
    es = words(app, "es")
    assert es.t("option.talk") in reply, reply
    calm = es.t("notice.signal", phone=HOTLINE, emergency="911")
    assert (calm in reply) is danger, reply
    assert cost(reply).segments <= 3


def test_the_calm_line_comes_later_in_a_conversation_too(app: Flask, client: FlaskClient) -> None:
    texter = Texter(client)
    texter.send("hi")
    texter.send("2")
    reply = texter.send("I am afraid to go home")
    assert HOTLINE in reply.splitlines()[0]
    assert words(app, "en").t("option.legal") in reply


# --- WhatsApp -------------------------------------------------------------------------------------


class WhatsApper(Texter):
    """A person writing on WhatsApp: Twilio posts to the same webhook with whatsapp: addresses."""

    def send(self, body: str) -> str:
        self.count += 1
        params = {
            "Body": body,
            "From": f"whatsapp:{self.sender}",
            "To": f"whatsapp:{self.to}",
            "MessageSid": f"SM{self.count:032d}",
            "NumMedia": "0",
        }
        response = signed_post(self.client, "/sms", params)
        assert response.status_code == 200
        return "\n".join(m.text or "" for m in twiml(response).findall("Message"))


@pytest.mark.parametrize(("first", "lang"), [("hi", "en"), ("hola", "es")])
def test_a_signed_whatsapp_message_gets_the_main_menu(
    app: Flask, client: FlaskClient, first: str, lang: str
) -> None:
    person = WhatsApper(client, SENDER)
    reply = person.send(first)
    assert shared_words(app, lang).t("menu.main") in reply
    tips = person.send("3")
    assert tips.startswith(shared_words(app, lang).t("whatsapp.info.tips"))
    assert ("archive" if lang == "en" else "archiv") in tips
    assert sms_words(app, lang).t("info.tips") not in tips  # the SMS tips are not WhatsApp's


def test_every_whatsapp_path_works_and_is_never_cut_to_a_budget(
    app: Flask, client: FlaskClient
) -> None:
    for lang, first in (("en", "hi"), ("es", "hola")):
        person = WhatsApper(client, SENDER)
        person.send(first)
        person.send("1")
        lines = person.send("1")
        assert shared_words(app, lang).t("list.lines") in lines
        detail = person.send("2")
        assert "988" in detail
        assert person.send("9").startswith(shared_words(app, lang).t("list.lines"))
        assert shared_words(app, lang).t("menu.main") in person.send("0")
        near = person.send("02139")
        assert near.startswith(shared_words(app, lang).t("zip.kind"))


def test_a_site_chooses_its_whatsapp_sender_like_a_number(make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from hotline_bridge.cli import main

    app = make_app()
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "id,name_en,name_es,default_language,time_zone,zip,numbers,keywords\n"
        "north,North Clinic Line,Línea Clínica Norte,es,America/Chicago,60601,+13125550100,\n",
        encoding="utf-8",
    )
    env = {"HOTLINE_BRIDGE_DATABASE": app.config["DATABASE"], "HOTLINE_BRIDGE_LOCAL": "1"}
    assert CliRunner(env=env).invoke(main, ["import", str(sites)]).exit_code == 0
    reply = WhatsApper(app.test_client(), SENDER, to="+13125550100").send("5")
    assert reply.startswith("Línea Clínica Norte")


@pytest.mark.parametrize(
    ("first", "lang"), [("MENÚ", "es"), ("menú", "es"), ("Menú.", "es"), ("MENU", "en")]
)
def test_a_keyword_with_a_spanish_accent_is_answered_in_spanish(
    app: Flask, client: FlaskClient, first: str, lang: str
) -> None:
    """MENÚ and MENU are one word once accents are ignored; its accent says it is Spanish."""
    reply = Texter(client).send(first)
    assert words(app, lang).t("option.talk") in reply
