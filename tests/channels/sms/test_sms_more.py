"""'More' (7) pages a list; anywhere else it is a choice that is not there, said so plainly."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import Texter

GREETING = {"en": "hello", "es": "hola"}
NOT_UNDERSTOOD = {"en": "Sorry, we did not understand.", "es": "No le entendimos."}
ALL_SHOWN = {"en": "That is all of them.", "es": "Eso es todo."}
MORE = "7"


def started(app: Flask, lang: str) -> tuple[Texter, str]:
    texter = Texter(app.test_client())
    return texter, texter.send(GREETING[lang])


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("where", "keys"), [("main menu", ()), ("talk", ("1",)), ("tips", ("3",))])
def test_more_where_nothing_pages_repeats_the_screen_as_not_understood(
    app: Flask, lang: str, where: str, keys: tuple[str, ...]
) -> None:
    texter, reply = started(app, lang)
    for key in keys:
        reply = texter.send(key)
    again = texter.send(MORE)
    assert NOT_UNDERSTOOD[lang] in again.splitlines()[:2], (where, again)
    assert ALL_SHOWN[lang] not in again
    # The screen itself comes again, its choices as they were.
    assert reply.splitlines()[-1] == again.splitlines()[-1]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_more_on_a_list_shown_whole_says_that_is_all(app: Flask, lang: str) -> None:
    texter, _ = started(app, lang)
    texter.send("2")  # help near you
    texter.send("6")  # food, work and other needs: one line, shown whole
    assert texter.send(MORE).startswith(ALL_SHOWN[lang])
