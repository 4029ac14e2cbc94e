"""Seconds of speech, from pickup, before a caller hears how to reach the 24/7 line."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
import sqlite_utils
from flask import Flask

from hotline_bridge.channels.voice.timing import (
    CHARS_PER_SECOND,
    HELP_WITHIN_SECONDS,
    KEYED,
    PATHS,
    SILENT,
    keys_named,
    say_seconds,
    seconds_to_help,
)
from tests.conftest import CLINIC_NUMBER

LANGS = ("en", "es")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("site_language", LANGS)
def test_the_24_7_line_is_offered_within_six_seconds(
    make_app: object, tmp_path: Path, lang: str, path: str, site_language: str
) -> None:
    app: Flask = make_app()  # type: ignore[operator]
    sqlite_utils.Database(tmp_path / "hotline.db")["sites"].update(
        "default", {"default_language": site_language}
    )
    seconds = seconds_to_help(app, lang, path, to=CLINIC_NUMBER)
    assert seconds is not None, f"a {path} caller in {lang} never hears the way to the 24/7 line"
    assert seconds <= HELP_WITHIN_SECONDS, f"{seconds} s for a {path} caller in {lang}"


def _say(xml: str) -> ElementTree.Element:
    return ElementTree.fromstring(xml)


def test_speech_is_timed_by_its_words_digits_and_pauses() -> None:
    plain = say_seconds(_say("<Say>For English, press 1.</Say>"))
    # 20 characters, the digit as five, and the comma's pause; not the closing full stop's.
    assert plain == pytest.approx(25 / CHARS_PER_SECOND + 0.15)
    alias = say_seconds(_say('<Say>Help, <sub alias="twenty-four seven">24/7</sub>.</Say>'))
    assert alias == pytest.approx(len("Help, twenty-four seven.") / CHARS_PER_SECOND + 0.15)
    number = say_seconds(
        _say(
            '<Say>Call <say-as interpret-as="digits">988</say-as><break time="250ms"/>'
            '<say-as interpret-as="digits">1</say-as> now.</Say>'
        )
    )
    # "Call 9 8 81 now.": four digits read as words, the break between the groups.
    assert number == pytest.approx((len("Call  now.") + 2 + 4 * 5) / CHARS_PER_SECOND + 0.25)


def test_only_keys_named_in_words_count() -> None:
    say = _say('<Say>Talk now, <sub alias="twenty-four seven">24/7</sub>: press 1.</Say>')
    assert keys_named(say) == ["1"]
    number = _say('<Say>The number is <say-as interpret-as="digits">988</say-as>.</Say>')
    assert keys_named(number) == []


def test_a_caller_who_never_hears_the_line_is_reported(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_bridge.channels.voice import timing

    # A caller who cannot reach the line by any key named never hears help.
    monkeypatch.setattr(timing.Caller, "connects", lambda self, menu, key: False)
    assert seconds_to_help(app, "en", SILENT) is None
    assert seconds_to_help(app, "es", KEYED) is None
