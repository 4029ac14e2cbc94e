"""How the voice line reads what is written for the eye: "24/7" and numbers in names."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.channels.voice.test_voice import LANGS, call, press

# The talk shortcut, on every menu.
TALK = "8"


@pytest.mark.parametrize("lang", LANGS)
def test_the_24_7_line_is_read_by_its_wording_when_it_does_not_answer(
    app: Flask, lang: str
) -> None:
    """Its label ("Confidential 24/7 help line") was once read as "Confidential 2 4/7"."""
    phone = press(call(app, lang), TALK)
    assert phone.dialing is not None
    phone.dial_outcome("no-answer")
    assert phone.twiml is not None
    assert "2 4/7" not in phone.text
    written = [el.text for say in phone.twiml.iter("Say") for el in say if el.tag == "sub"]
    aliases = [el.get("alias") for say in phone.twiml.iter("Say") for el in say if el.tag == "sub"]
    assert "24/7" in written, phone.text
    assert all(alias and "/" not in alias for alias in aliases)
    # Outside its <sub>, no "24/7" is left for the voice to read as it likes.
    for say in phone.twiml.iter("Say"):
        assert "24/7" not in (say.text or "") + "".join(el.tail or "" for el in say)
