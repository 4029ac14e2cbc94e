"""Turning what a caller said (Twilio's ``SpeechResult``) into the key they could have pressed.

Spoken digits ("uno", "three"), the shortcut words ("hablar", "menu", "repeat"), the name of the
other language ("español") and the words of an option's label all map onto keys, so a menu
behaves the same whether the caller speaks or presses. The vocabularies live in the catalogs
(``voice.speech.*``), beside the wording they go with.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from hotline_bridge.engine.catalogs import Words
from hotline_bridge.engine.keywords import Keywords

# Words shorter than this carry no meaning of their own in a label ("a", "de", "for").
MIN_WORD = 4

_WORD = re.compile(r"[a-z0-9]+")


def words_of(text: str) -> list[str]:
    """Return the lower-case words of ``text`` without accents."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(plain)


def _phrases(text: str) -> list[list[str]]:
    return [words_of(phrase) for phrase in text.split(",") if words_of(phrase)]


def _digit(heard: list[str], words: Words) -> str | None:
    if len(heard) != 1:
        return None
    if heard[0].isdigit() and len(heard[0]) == 1:
        return heard[0]
    for n, phrase in enumerate(_phrases(words.t("voice.speech.digits"))):
        if phrase == heard:
            return str(n)
    return None


def _shortcut(heard: list[str], shortcuts: dict[str, str]) -> str | None:
    for key, text in shortcuts.items():
        for phrase in _phrases(text):
            if all(word in heard for word in phrase):
                return key
    return None


def _whole_label(heard: list[str], options: Sequence[tuple[str, str]]) -> str | None:
    """Return the key of the one option all of whose meaningful words were said: a label said
    whole ("Someone to talk to") names that option, though it holds a shortcut's word."""
    said = set(heard)
    whole = [
        (len(meant), key)
        for key, label in options
        if (meant := {word for word in words_of(label) if len(word) >= MIN_WORD}) <= said and meant
    ]
    whole.sort(reverse=True)
    if not whole or (len(whole) > 1 and whole[1][0] == whole[0][0]):
        return None
    return whole[0][1]


def _label(heard: list[str], options: Sequence[tuple[str, str]]) -> str | None:
    """Return the key whose label shares the most meaningful words with what was heard, if one
    option clearly wins."""
    said = {word for word in heard if len(word) >= MIN_WORD}
    scores = sorted(
        ((len(said & set(words_of(label))), key) for key, label in options), reverse=True
    )
    if not scores or scores[0][0] == 0 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return scores[0][1]


def understand(
    speech: str,
    words: Words,
    keywords: Keywords,
    options: Sequence[tuple[str, str]],
    shortcuts: dict[str, str],
    language_key: str,
) -> str | None:
    """Return the key ``speech`` stands for, or None when it matches nothing.

    ``options`` are the keys and labels the menu offered; ``shortcuts`` maps each shortcut key
    to the phrases that stand for it, comma-separated (the catalog's ``voice.speech.talk``).
    """
    heard = words_of(speech)
    if not heard:
        return None
    keyword = keywords.match(speech)
    if keyword is not None and keyword.meaning == "language" and keyword.lang != words.lang:
        return language_key
    return (
        _digit(heard, words)
        or _whole_label(heard, options)
        or _shortcut(heard, shortcuts)
        or _label(heard, options)
    )
