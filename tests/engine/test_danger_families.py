"""Families of danger the line hears in general wording, each with messages written for this file
(none taken from the labelled sets), and ordinary messages sharing their words that stay silent."""

from __future__ import annotations

import pytest

from hotline_bridge.engine.danger import Danger
from tests.conftest import PROJECT

DANGER_FILE = PROJECT / "flows" / "danger.toml"


@pytest.fixture(scope="module")
def danger() -> Danger:
    return Danger.load(DANGER_FILE)


# --- A greeting before a plea ------------------------------------------------------------------

# A plea the line hears, and the same plea after greetings: the greeting changes nothing.
PLEAS = [
    "necesito ayuda",
    "ayuda por favor",
    "necesito ayuda urgente",
    "i need help",
    "i need help please",
    "help me please",
]
GREETINGS = [
    "hola",
    "Hola!!",
    "holaa buenas noches,",
    "buenos días.",
    "Buenas tardes",
    "oiga",
    "hi",
    "hello,",
    "hey there",
    "good evening.",
    "hiii",
]


@pytest.mark.parametrize("plea", PLEAS)
@pytest.mark.parametrize("greeting", GREETINGS)
def test_a_plea_after_a_greeting_is_heard_as_the_plea_alone(
    danger: Danger, greeting: str, plea: str
) -> None:
    assert danger.found_in(plea), plea
    assert danger.found_in(f"{greeting} {plea}"), f"{greeting} {plea}"


# A request for the menu or an ordinary question stays ordinary after a greeting too: "can you
# help me" to a help line asks what it offers.
@pytest.mark.parametrize(
    "text",
    [
        "can you help me",
        "hey can u help me",
        "hi can you help me",
        "hola me pueden ayudar",
        "buenas tardes, me pueden ayudar",
        "hola necesito ayuda con la renta",
        "hi i need help finding a dentist",
        "buenos dias a que hora abren",
        "hello what are your hours",
        "ayuda",
        "hola ayuda",
        "hola",
        "hi",
    ],
)
def test_a_greeting_before_an_ordinary_message_stays_silent(danger: Danger, text: str) -> None:
    assert not danger.found_in(text), text


def test_only_the_opening_greeting_is_left_out(danger: Danger) -> None:
    assert danger.without_greeting("Hola, buenas noches... necesito ayuda") == "necesito ayuda"
    assert danger.without_greeting("hey there! he hit me") == "he hit me"
    assert danger.without_greeting("hola") == "hola"
    assert danger.without_greeting("necesito ayuda, hola") == "necesito ayuda, hola"
    # "yo" is Spanish "I", not a greeting
    assert danger.without_greeting("yo no puedo salir") == "yo no puedo salir"


def test_the_language_of_a_plea_after_a_greeting_is_heard(danger: Danger) -> None:
    assert danger.language_of("hola, necesito ayuda", ["en", "es"]) == "es"
    assert danger.language_of("hello, i need help", ["en", "es"]) == "en"
