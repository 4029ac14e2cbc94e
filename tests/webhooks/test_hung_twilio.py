"""A hung Twilio API: deletions run off the request, so every webhook is answered at once.

Twilio's REST API is faked with ``responses`` whose callbacks block on a ``threading.Event``
that the test sets only once the answer has come (or after a long while, so that code which
waits for the API would answer after it and fail here). No test measures time: each asserts
that the answer came while the fake API still held the call.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from requests import PreparedRequest

from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.directory.models import display_number
from hotline_bridge.runtime import runtime
from hotline_bridge.webhooks import forget
from tests.conftest import CLINIC_NUMBER, SENDER, Texter, sign

ACCOUNT_SID = "AC" + "0" * 32
API = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/AC0+/.*")
CALL_SID = "CA" + "7" * 32
# Seconds the fake API holds a call when the test never releases it: far longer than any
# answer may take, so code that waited for the API would answer only after it.
HELD_SECONDS = 20
# Seconds within which every webhook must be answered with Twilio's API hanging.
ANSWER_WITHIN_SECONDS = 5


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


# --- Under gunicorn, as served ----------------------------------------------------------------


class HoldingProxy:
    """An HTTPS proxy on loopback that takes every connection and never answers: Twilio's API,
    hanging, as the server's Twilio client reaches it (through ``HTTPS_PROXY``)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.taken = threading.Event()
        threading.Thread(target=self._take, daemon=True).start()

    def _take(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            self.held.append(connection)
            self.taken.set()

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


def post(base_url: str, path: str, params: dict[str, str]) -> str:
    """POST as Twilio does (signed); return the body of a 200 answer."""
    headers = {"X-Twilio-Signature": sign(base_url + path, params)}
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(base_url + path, data=data, headers=headers)
    # Twilio waits 15 s; the line must answer well within that whatever the API does.
    with urllib.request.urlopen(request, timeout=ANSWER_WITHIN_SECONDS) as response:
        assert response.status == 200
        return str(response.read().decode())


def text(base_url: str, sender: str, body: str) -> str:
    sid = f"SM{secrets.token_hex(16)}"
    params = {"Body": body, "From": sender, "To": CLINIC_NUMBER, "MessageSid": sid}
    return html.unescape(post(base_url, "/sms", params))


@pytest.fixture
def proxy() -> Iterator[HoldingProxy]:
    holding = HoldingProxy()
    yield holding
    holding.close()


def test_under_gunicorn_every_webhook_is_answered_while_twilio_hangs(
    gunicorn_server: Any, tmp_path: Path, proxy: HoldingProxy, live: Flask
) -> None:
    url = f"http://127.0.0.1:{proxy.port}"
    base_url = gunicorn_server(
        tmp_path / "line.db",
        workers=1,  # one worker: a request that waited for Twilio would hold everyone
        HOTLINE_BRIDGE_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        HTTPS_PROXY=url,
        https_proxy=url,
        NO_PROXY="",
        no_proxy="",
    )
    under_way = wording(live, "en", "delete.under_way")
    assert text(base_url, "+15558670001", "DELETE").count(under_way) == 1
    assert proxy.taken.is_set()  # the deletion did go to (the hanging) Twilio
    assert text(base_url, "+15558670002", "DELETE").count(under_way) == 1
    assert "<Message>" in text(base_url, "+15558670009", "hello")
    # A caller's key 6 on the tips, the webhook that reached gunicorn's timeout.
    call = {"From": "+15558670003", "To": CLINIC_NUMBER, "CallSid": CALL_SID}
    answer = post(base_url, "/voice", call)
    for key in ("1", "3", "6"):  # English, the tips, delete my records
        action = re.search(r'<Gather action="([^"]+)"', answer)
        assert action, answer
        answer = post(base_url, html.unescape(action[1]), {**call, "Digits": key})
    said = wording(live, "en", "voice.delete.under_way", channel="voice")
    assert html.unescape(answer).count(said) == 1
    assert proxy.held  # and Twilio's API still has not answered
