"""A hung Twilio API: deletions run off the request, so every webhook is answered at once.

Twilio's REST API is faked with ``responses`` whose callbacks block on a ``threading.Event``
that the test sets only once the answer has come (or after a long while, so that code which
waits for the API would answer after it and fail here). No test measures time: each asserts
that the answer came while the fake API still held the call.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask
from requests import PreparedRequest

from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.directory.models import display_number
from hotline_bridge.runtime import runtime
from hotline_bridge.webhooks import forget
from tests.conftest import CLINIC_NUMBER, SENDER, Texter

ACCOUNT_SID = "AC" + "0" * 32
API = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/AC0+/.*")
CALL_SID = "CA" + "7" * 32
# Seconds the fake API holds a call when the test never releases it: far longer than any
# answer may take, so code that waited for the API would answer only after it.
HELD_SECONDS = 20


class HungApi:
    """Twilio's API, not answering until ``release``; counts what it holds and has let go."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.entered = threading.Event()
        self.finished = threading.Event()
        self.calls = 0

    def answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.calls += 1
        self.entered.set()
        self.released.wait(HELD_SECONDS)
        self.finished.set()
        key = "calls" if "/Calls" in (request.url or "") else "messages"
        page = {key: [], "next_page_uri": None, "page": 0, "page_size": 50}
        return 200, {}, json.dumps(page)

    def still_holding(self) -> bool:
        """Whether no call to the API has been let go yet."""
        return not self.finished.is_set()


@pytest.fixture
def hung() -> Iterator[HungApi]:
    api = HungApi()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in (responses.GET, responses.POST, responses.DELETE):
            mock.add_callback(method, API, callback=api.answer)
        yield api
        api.released.set()


@pytest.fixture
def live(make_app: Any) -> Flask:
    app: Flask = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    return app


def wording(app: Flask, lang: str, key: str, channel: str = "sms") -> str:
    with app.app_context():
        rt = runtime()
        phone = display_number(rt.failsafe.hotline_phone)
        return rt.catalogs.bind(lang).pick(channel, key, phone=phone)


def drained(app: Flask) -> bool:
    pool: forget.Now = app.extensions[forget.NOW]
    return pool.idle(HELD_SECONDS * 4)


@pytest.mark.parametrize(("keyword", "lang"), [("DELETE", "en"), ("BORRAR", "es")])
def test_a_delete_is_answered_while_twilio_hangs_and_says_it_is_under_way(
    live: Flask, hung: HungApi, keyword: str, lang: str
) -> None:
    reply = Texter(live.test_client()).send(keyword)
    answered_first = hung.still_holding()
    assert hung.entered.wait(HELD_SECONDS)  # the deletion did reach the API
    hung.released.set()
    assert answered_first
    assert reply == wording(live, lang, "delete.under_way")
    assert reply != wording(live, lang, "delete.done")
    assert drained(live)


def test_key_6_on_a_call_is_answered_while_twilio_hangs(live: Flask, hung: HungApi) -> None:
    phone = Phone(live, caller=SENDER, to=CLINIC_NUMBER)
    phone.fields["CallSid"] = CALL_SID
    phone.dial_in()
    phone.press("1")  # English
    phone.press("1")  # talk now: connected
    phone.dial_outcome("completed")
    phone.press("6")  # on the goodbye: delete my records
    answered_first = hung.still_holding()
    hung.released.set()
    assert answered_first
    assert phone.hung_up
    assert phone.text == wording(live, "en", "voice.delete.under_way", channel="voice")
    assert drained(live)


def test_other_people_are_answered_while_deletions_hang(live: Flask, hung: HungApi) -> None:
    client = live.test_client()
    first = Texter(client, sender="+15558670001").send("DELETE")
    assert hung.entered.wait(HELD_SECONDS)
    # While the first hangs, more deletions are not waited for at all ...
    more = [Texter(client, sender=f"+1555867000{n}").send("DELETE") for n in (2, 3, 4)]
    # ... and someone else's ordinary message is answered as always.
    menu = Texter(client, sender="+15558670009").send("hello")
    answered_first = hung.still_holding()
    hung.released.set()
    assert answered_first
    under_way = wording(live, "en", "delete.under_way")
    assert first == under_way and more == [under_way] * 3
    assert menu and menu != under_way
    assert drained(live)


def test_a_deletion_in_time_is_told_as_done(live: Flask, hung: HungApi) -> None:
    """A Twilio that answers in time gets "deleted", not "being deleted"."""
    hung.released.set()
    reply = Texter(live.test_client()).send("DELETE")
    assert reply == wording(live, "en", "delete.done")


def test_after_a_slow_deletion_the_next_is_not_waited_for() -> None:
    """Once a deletion took longer than a request may wait, the next request does not wait."""
    pool = forget.Now(answer_seconds=0.01)
    release = threading.Event()
    assert pool.run(lambda: release.wait(HELD_SECONDS)) == forget.UNDER_WAY
    release.set()
    assert pool.idle(HELD_SECONDS)
    assert pool.slow
    blocked = threading.Event()
    pool.answer_seconds = HELD_SECONDS * 4  # code that waited would answer only after the job
    assert pool.run(lambda: blocked.wait(HELD_SECONDS)) == forget.UNDER_WAY
    answered_first = not blocked.is_set()
    blocked.set()
    assert answered_first and pool.idle(HELD_SECONDS)


def test_deletions_held_are_bounded() -> None:
    pool = forget.Now(threads=1, limit=2, answer_seconds=0.01)
    release = threading.Event()
    assert pool.run(lambda: release.wait(HELD_SECONDS)) == forget.UNDER_WAY
    assert pool.run(lambda: release.wait(HELD_SECONDS)) == forget.UNDER_WAY
    assert pool.run(lambda: True) == forget.PARTIAL  # not started: the person asks again
    release.set()
    assert pool.idle(HELD_SECONDS)


def test_a_deletion_that_raises_is_told_as_not_all(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> bool:
        raise RuntimeError(SENDER)

    assert forget.Now().run(broken) == forget.PARTIAL
    assert SENDER not in caplog.text
