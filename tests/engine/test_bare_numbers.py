"""A number alone (a menu choice) is answered without hearing it for danger or a language:
the danger file and the language words are held here to what that relies on."""

from __future__ import annotations

from hotline_bridge.engine.conversation import bare_number
from hotline_bridge.engine.danger import Danger
from hotline_bridge.engine.keywords import Keywords
from hotline_bridge.engine.wordlists import LanguageGuesser, words_of
from hotline_bridge.settings import resolve_path

NUMBERS = [str(n) for n in range(10_000)] + [f"{n:02d}" for n in range(10)] + ["007", "0"]


def test_no_number_but_911_suggests_danger() -> None:
    danger = Danger.load(resolve_path("flows/danger.toml"))
    heard = [number for number in NUMBERS if danger.found_in(number)]
    assert heard == ["911"]


def test_a_number_holding_911_is_heard_in_full() -> None:
    assert not bare_number("911")
    assert not bare_number(" 1911 ")
    assert bare_number("1") and bare_number(" 12\n") and bare_number("0")


def test_911_is_a_keyword_answered_before_danger() -> None:
    keywords = Keywords.load(resolve_path("flows/keywords.toml"), {})
    found = keywords.match("911")
    assert found is not None and found.meaning == "emergency"


def test_only_plain_digits_are_bare_numbers() -> None:
    for text in ("", " ", "1a", "²", "\uff11", "1.5", "-1", "one", "12 13"):
        assert not bare_number(text), text


def test_no_language_is_told_by_a_number() -> None:
    guesser = LanguageGuesser.load(resolve_path("flows/languages.toml"))
    digits = {word for words in guesser.words.values() for word in words if not word.isalpha()}
    assert not digits
    assert all(guesser.guess(n, ["en", "es"]) is None for n in NUMBERS[:200])
    assert words_of("12") == ["12"]
