"""DELETE / BORRAR and the voice line's key 6: Twilio's copies go, the person is told honestly.

Twilio's REST API is mocked at the HTTP edge with ``responses``, in the shapes Twilio documents:
a list of Messages or Calls is a JSON page with ``next_page_uri``; a DELETE answers 204, or 404
for a record already gone, or 429 and 5xx errors that are worth a retry.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import responses
from flask import Flask
from prometheus_client import REGISTRY
from responses import matchers

from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.runtime import runtime
from hotline_bridge.webhooks import forget
from tests.conftest import CLINIC_NUMBER, SENDER, Texter, run_later, signed_post, twiml

ACCOUNT_SID = "AC" + "0" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
CALL_SID = "CA" + "7" * 32
# What the person wrote, as Twilio's list holds it: it must never leave the list response.
SECRET_TEXT = "zebra umbrella quartz"
# The person's number in the forms a file or a log might hold it.
SENDER_FORMS = [SENDER, SENDER[1:], SENDER[2:], "555-867-5309", "(555) 867-5309", "8675309"]
ERRORS = "hotline_bridge_twilio_api_errors_total"


@pytest.fixture
def live(make_app: Any) -> Flask:
    """An app with a Twilio account to delete from."""
    app: Flask = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    return app


def words(app: Flask, lang: str) -> Words:
    with app.app_context():
        return runtime().catalogs.bind(lang)


def phone_number(app: Flask) -> str:
    with app.app_context():
        return runtime().failsafe.hotline_phone


def message(sid: str, sender: str = SENDER, to: str = CLINIC_NUMBER) -> dict[str, Any]:
    """One Message as Twilio lists it (a few of its documented fields)."""
    return {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "from": sender,
        "to": to,
        "body": SECRET_TEXT,
        "status": "delivered" if sender == CLINIC_NUMBER else "received",
        "direction": "outbound-reply" if sender == CLINIC_NUMBER else "inbound",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def list_pages(
    resource: str, filters: dict[str, str], pages: list[list[dict[str, Any]]], status: int = 200
) -> None:
    """Answer the list of ``resource`` filtered by ``filters`` with ``pages``, linked by
    ``next_page_uri`` as Twilio links them."""
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/{resource}.json"
    key = resource.lower()
    for number, records in enumerate(pages):
        params = {**filters, "PageSize": "50"}
        if number:
            params |= {"Page": str(number), "PageToken": f"PA{number}"}
        later = {
            **filters,
            "PageSize": "50",
            "Page": str(number + 1),
            "PageToken": f"PA{number + 1}",
        }
        body = {
            key: records,
            "page": number,
            "page_size": 50,
            "start": number * 50,
            "end": number * 50 + max(len(records) - 1, 0),
            "uri": f"{path}?{urlencode(params)}",
            "first_page_uri": f"{path}?{urlencode({**filters, 'PageSize': '50', 'Page': '0'})}",
            "previous_page_uri": None,
            "next_page_uri": f"{path}?{urlencode(later)}" if number + 1 < len(pages) else None,
        }
        responses.get(
            f"https://api.twilio.com{path}",
            json=body,
            status=status,
            match=[matchers.query_param_matcher(params)],
        )


def conversation(
    *pages_in: list[dict[str, Any]], replies: list[dict[str, Any]] | None = None
) -> None:
    """Twilio's list of the person's messages to the line (in pages) and of the replies."""
    list_pages("Messages", {"From": SENDER, "To": CLINIC_NUMBER}, list(pages_in) or [[]])
    list_pages("Messages", {"From": CLINIC_NUMBER, "To": SENDER}, [replies or []])


def deletable(resource: str, sid: str, *statuses: int) -> None:
    """Answer DELETE of one record with ``statuses`` in turn (204 when none are given)."""
    for status in statuses or (204,):
        body = None if status == 204 else {"code": 20000 + status, "message": "x", "status": status}
        responses.delete(f"{API}/{resource}/{sid}.json", status=status, json=body)


def too_soon(resource: str, sid: str) -> None:
    """Answer DELETE of one record as Twilio does shortly after the record is done."""
    body = {
        "code": forget.TOO_SOON,
        "message": "Cannot delete this resource before it is complete",
        "more_info": "https://www.twilio.com/docs/errors/20009",
        "status": 400,
    }
    responses.delete(f"{API}/{resource}/{sid}.json", status=400, json=body)


def deleted() -> list[str]:
    """Return the Sids Twilio was asked to delete, in order."""
    return [
        urlsplit(call.request.url or "").path.rsplit("/", 1)[-1].removesuffix(".json")
        for call in responses.calls
        if call.request.method == "DELETE"
    ]


def sid(n: int, prefix: str = "SM") -> str:
    return f"{prefix}{n:032d}"


# --- SMS and WhatsApp ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "lang"),
    [
        ("DELETE", "en"),
        ("delete all", "en"),
        ("Erase", "en"),
        ("BORRAR", "es"),
        ("borrar todo", "es"),
        ("Eliminar", "es"),
        ("ELIMINÁR", "es"),
    ],
)
@responses.activate
def test_delete_lists_the_conversation_both_ways_and_deletes_every_copy(
    live: Flask, keyword: str, lang: str
) -> None:
    texter = Texter(live.test_client())
    texter.send("hola" if lang == "es" else "hello")
    # The person's messages come in two pages; the one being answered is listed but kept.
    current = sid(2)
    conversation(
        [message(sid(1))], [message(current)], replies=[message(sid(90), CLINIC_NUMBER, SENDER)]
    )
    for record in (sid(1), sid(90)):
        deletable("Messages", record)
    reply = texter.send(keyword)
    expected = words(live, lang).pick("sms", "delete.done", phone=_display(live))
    assert reply == expected
    assert deleted() == [sid(1), sid(90)]
    assert current not in deleted()


@responses.activate
def test_a_message_twilio_will_not_delete_yet_is_deleted_by_a_later_sweep(live: Flask) -> None:
    """A message sent a moment before DELETE is one Twilio refuses to delete yet: the person is
    told the copies go (they will), and the conversation is swept again once Twilio accepts."""
    texter = Texter(live.test_client())
    texter.send("hello")
    conversation([message(sid(1))])
    too_soon("Messages", sid(1))
    reply = texter.send("DELETE")
    assert reply == words(live, "en").pick("sms", "delete.done", phone=_display(live))
    assert deleted() == [sid(1)]
    responses.calls.reset()
    conversation([message(sid(1))])
    deletable("Messages", sid(1))
    assert run_later(live) == 1
    assert deleted() == [sid(1)]


def _display(app: Flask) -> str:
    from hotline_bridge.directory.models import display_number

    return display_number(phone_number(app))


@responses.activate
def test_the_confirmation_is_itself_deleted_once_delivered(live: Flask) -> None:
    client = live.test_client()
    conversation()
    params = {"Body": "BORRAR", "From": SENDER, "To": CLINIC_NUMBER, "MessageSid": sid(5)}
    answer = twiml(signed_post(client, "/sms", params)).find("Message")
    assert answer is not None
    action = answer.get("action", "")
    assert action == "http://localhost/sms/status?forget=1"
    responses.calls.reset()
    # Twilio reports the confirmation's delivery from the line to the person: the sweep lists the
    # conversation again and deletes the confirmation and the request it answered.
    conversation([message(sid(5))], replies=[message(sid(6), CLINIC_NUMBER, SENDER)])
    deletable("Messages", sid(5))
    deletable("Messages", sid(6))
    status = {"MessageSid": sid(6), "MessageStatus": "sent", "From": CLINIC_NUMBER, "To": SENDER}
    signed_post(client, "/sms/status?forget=1", status).close()
    assert deleted() == []  # not final yet: Twilio would refuse
    status["MessageStatus"] = "delivered"
    done = signed_post(client, "/sms/status?forget=1", status)
    assert done.status_code == 200
    done.close()
    assert deleted() == []  # just delivered: Twilio asks to wait at least a minute
    assert run_later(live, 50) == 0
    assert run_later(live) == 2  # held once for "sent" and once for "delivered"
    assert sorted(set(deleted())) == [sid(5), sid(6)]


@responses.activate
def test_a_confirmation_only_ever_sent_is_deleted_a_while_later(live: Flask) -> None:
    """Where the carrier reports no delivery, "sent" is the confirmation's last status: the
    conversation is swept again once Twilio can delete it, by the worker, not by a request."""
    client = live.test_client()
    conversation()
    params = {"Body": "DELETE", "From": SENDER, "To": CLINIC_NUMBER, "MessageSid": sid(5)}
    signed_post(client, "/sms", params).close()
    responses.calls.reset()
    conversation([message(sid(5))], replies=[message(sid(6), CLINIC_NUMBER, SENDER)])
    deletable("Messages", sid(5))
    deletable("Messages", sid(6))
    status = {"MessageSid": sid(6), "MessageStatus": "sent", "From": CLINIC_NUMBER, "To": SENDER}
    started = time.monotonic()
    signed_post(client, "/sms/status?forget=1", status).close()
    assert deleted() == []  # too soon: Twilio would refuse
    later: forget.Later = live.extensions[forget.LATER]
    assert len(later) == 1 and later.run_due(started + 60) == 0  # not yet
    assert later.run_due(started + forget.SETTLE_SECONDS + 1) == 1
    assert sorted(deleted()) == [sid(5), sid(6)] and len(later) == 0


def test_later_deletions_are_bounded_and_run_by_their_thread() -> None:
    done = threading.Event()
    ran: list[str] = []

    def job(name: str) -> Any:
        def run() -> forget.Tally:
            ran.append(name)
            done.set()
            return forget.Tally()

        return run

    later = forget.Later(delay=0.01, limit=1)
    assert later.add(job("a"))
    assert done.wait(5) and ran == ["a"]
    blocked = forget.Later(delay=60, limit=1, start=False)
    assert blocked.add(job("b"), now=0)
    assert not blocked.add(job("c"), now=0)


def test_what_twilio_finds_too_soon_is_tried_again_a_bounded_number_of_times() -> None:
    tries: list[float] = []

    def job() -> forget.Tally:
        tries.append(len(tries))
        return forget.Tally(waiting=1)

    later = forget.Later(delay=90, retry_delay=300, tries=3, start=False)
    later.add(job, now=0)
    assert later.run_due(89) == 0 and later.run_due(91) == 1
    assert later.run_due(300) == 0 and later.run_due(391) == 1
    assert later.run_due(692) == 1 and len(later) == 0  # the third try was the last
    assert len(tries) == 3


@responses.activate
def test_a_later_sweep_that_cannot_be_held_is_counted(make_app: Any) -> None:
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    app.extensions[forget.LATER] = forget.Later(limit=0, start=False)
    status = {"MessageSid": sid(6), "MessageStatus": "sent", "From": CLINIC_NUMBER, "To": SENDER}
    signed_post(app.test_client(), "/sms/status?forget=1", status).close()
    with open_db(app) as db:
        events = {row["event"] for row in db.query("select event from counts")}
    assert "delete:later-dropped" in events and not responses.calls


@responses.activate
def test_an_ordinary_message_costs_no_call_to_twilio(live: Flask) -> None:
    texter = Texter(live.test_client())
    for body in ("hello", "3", "0"):
        assert texter.send(body)
    assert len(responses.calls) == 0


@responses.activate
def test_a_record_already_gone_counts_as_deleted(live: Flask) -> None:
    conversation([message(sid(1)), message(sid(3))])
    deletable("Messages", sid(1), 404)
    deletable("Messages", sid(3))
    reply = Texter(live.test_client()).send("DELETE")
    assert reply == words(live, "en").pick("sms", "delete.done", phone=_display(live))


@responses.activate
def test_a_rate_limit_or_server_error_is_retried(live: Flask) -> None:
    conversation([message(sid(3))])
    deletable("Messages", sid(3), 429, 500, 204)
    reply = Texter(live.test_client()).send("DELETE")
    assert reply == words(live, "en").pick("sms", "delete.done", phone=_display(live))
    assert deleted() == [sid(3)] * 3


@pytest.mark.parametrize("lang", ["en", "es"])
@responses.activate
def test_copies_that_will_not_go_are_counted_and_told_without_alarm(live: Flask, lang: str) -> None:
    labels = {"operation": "delete messages"}
    before = REGISTRY.get_sample_value(ERRORS, labels) or 0
    conversation([message(sid(3)), message(sid(4))])
    deletable("Messages", sid(3), 500, 503, 500)  # three tries, then it is left
    deletable("Messages", sid(4))
    reply = Texter(live.test_client()).send("BORRAR" if lang == "es" else "DELETE")
    assert reply == words(live, lang).pick("sms", "delete.partial", phone=_display(live))
    assert deleted() == [sid(3)] * 3 + [sid(4)]
    assert (REGISTRY.get_sample_value(ERRORS, labels) or 0) == before + 3
    with open_db(live) as db:
        events = {row["event"] for row in db["counts"].rows}
    assert {"delete", "delete:incomplete"} <= events


@responses.activate
def test_a_page_that_cannot_be_listed_is_told(live: Flask) -> None:
    list_pages("Messages", {"From": SENDER, "To": CLINIC_NUMBER}, [[]], status=503)
    list_pages("Messages", {"From": CLINIC_NUMBER, "To": SENDER}, [[]])
    reply = Texter(live.test_client()).send("DELETE")
    assert reply == words(live, "en").pick("sms", "delete.partial", phone=_display(live))


@responses.activate
def test_past_the_cap_the_rest_waits_for_another_request(
    live: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forget, "MAX_RECORDS", 3)
    conversation([message(sid(n)) for n in range(10, 15)])
    for n in range(10, 15):
        deletable("Messages", sid(n))
    responses.assert_all_requests_are_fired = False
    reply = Texter(live.test_client()).send("DELETE")
    assert reply == words(live, "en").pick("sms", "delete.partial", phone=_display(live))
    assert deleted() == [sid(10), sid(11), sid(12)]


@responses.activate
def test_past_the_time_budget_nothing_more_is_asked(
    live: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forget, "BUDGET_SECONDS", 0.0)
    conversation([message(sid(10))])
    responses.assert_all_requests_are_fired = False
    reply = Texter(live.test_client()).send("DELETE")
    assert reply == words(live, "en").pick("sms", "delete.partial", phone=_display(live))
    assert deleted() == []


@responses.activate
def test_whatsapp_lists_by_its_own_addresses(live: Flask) -> None:
    person, line = f"whatsapp:{SENDER}", f"whatsapp:{CLINIC_NUMBER}"
    list_pages("Messages", {"From": person, "To": line}, [[message(sid(50), person, line)]])
    list_pages("Messages", {"From": line, "To": person}, [[]])
    deletable("Messages", sid(50))
    reply = Texter(live.test_client(), sender=person, to=line).send("BORRAR")
    assert reply == words(live, "es").pick("whatsapp", "delete.done", phone=_display(live))
    assert deleted() == [sid(50)]


@responses.activate
def test_after_stop_the_copies_go_but_nothing_is_sent(live: Flask) -> None:
    texter = Texter(live.test_client())
    texter.send("STOP")
    conversation([message(sid(1))])
    deletable("Messages", sid(1))
    assert texter.send("DELETE") == ""
    assert deleted() == [sid(1)]


@pytest.mark.parametrize(
    ("overrides", "expected"), [({"LOCAL": True}, "delete.done"), ({}, "delete.partial")]
)
@responses.activate
def test_without_a_twilio_account_nothing_is_called(
    make_app: Any, overrides: dict[str, Any], expected: str
) -> None:
    app = make_app(**overrides)
    reply = Texter(app.test_client()).send("DELETE")
    assert reply == words(app, "en").pick("sms", expected, phone=_display(app))
    assert len(responses.calls) == 0


@responses.activate
def test_deleting_leaves_no_number_or_text_behind(
    live: Flask, tmp_path: Path, captured_logs: pytest.LogCaptureFixture
) -> None:
    texter = Texter(live.test_client())
    texter.send(f"hello {SECRET_TEXT}")
    conversation([message(sid(1))], replies=[message(sid(7), CLINIC_NUMBER, SENDER)])
    deletable("Messages", sid(1), 429, 404)
    deletable("Messages", sid(7), 500, 500, 500)
    texter.send("DELETE")
    logging.getLogger("hotline_bridge.test").warning("sender was %s", SENDER)
    stored = b"\n".join(
        path.read_bytes()
        for folder in (tmp_path, Path(live.instance_path))
        if folder.exists()
        for path in folder.rglob("*")
        if path.is_file()
    ).decode("utf-8", errors="replace")
    assert "Twilio delete messages failed" in captured_logs.text  # the failure was logged...
    assert "/Messages.json?" in captured_logs.text  # Twilio's client logged the list
    for needle in [*SENDER_FORMS, CLINIC_NUMBER, SECRET_TEXT]:
        assert needle not in stored, f"{needle!r} was kept"
        assert needle not in captured_logs.text, f"{needle!r} was logged"  # ...without either


# --- Voice ---------------------------------------------------------------------------------------


def call_records(
    children: list[dict[str, Any]] | None = None,
    earlier_legs: list[dict[str, Any]] | None = None,
) -> None:
    """Twilio's side of a call that asks to be forgotten: the status callback update, the lists
    of the call's legs, the caller's calls both ways (with the legs of the earlier one) and
    their messages."""
    responses.post(
        f"{API}/Calls/{CALL_SID}.json",
        json={"sid": CALL_SID, "status": "in-progress"},
        match=[
            matchers.urlencoded_params_matcher(
                {"StatusCallback": "http://localhost/voice/status?forget=1"}
            )
        ],
    )
    earlier = {"sid": sid(1, "CA"), "status": "completed", "from": SENDER, "to": CLINIC_NUMBER}
    this = {"sid": CALL_SID, "status": "in-progress", "from": SENDER, "to": CLINIC_NUMBER}
    list_pages("Calls", {"ParentCallSid": CALL_SID}, [children or []])
    list_pages("Calls", {"From": SENDER, "To": CLINIC_NUMBER}, [[this, earlier]])
    list_pages("Calls", {"ParentCallSid": sid(1, "CA")}, [earlier_legs or []])
    list_pages("Calls", {"From": CLINIC_NUMBER, "To": SENDER}, [[]])
    conversation([message(sid(1))])
    deletable("Calls", sid(1, "CA"))
    deletable("Messages", sid(1))


def caller(app: Flask, lang: str) -> Phone:
    phone = Phone(app, caller=SENDER, to=CLINIC_NUMBER)
    phone.fields["CallSid"] = CALL_SID
    phone.dial_in()
    phone.press("1" if lang == "en" else "2")
    return phone


@pytest.mark.parametrize("lang", ["en", "es"])
@responses.activate
def test_the_tips_offer_the_key_that_deletes_the_callers_records(live: Flask, lang: str) -> None:
    phone = caller(live, lang)
    phone.press("3")  # the tips
    said = words(live, lang)
    assert said.t("voice.delete.offer", key="6") in phone.text
    leg = {"sid": sid(2, "CA"), "status": "completed", "from": SENDER, "to": "+18883737888"}
    call_records(children=[leg])
    deletable("Calls", sid(2, "CA"))
    phone.press("6")
    assert phone.text.startswith(said.t("voice.delete.done"))
    assert phone.listening and said.t("voice.delete.offer", key="6") in phone.text
    assert sorted(deleted()) == sorted([sid(2, "CA"), sid(1, "CA"), sid(1)])
    assert CALL_SID not in deleted()  # in progress: its status callback deletes it once ended


@pytest.mark.parametrize("lang", ["en", "es"])
@responses.activate
def test_the_goodbye_after_a_connected_call_offers_the_key(live: Flask, lang: str) -> None:
    phone = caller(live, lang)
    phone.press("1")  # talk now: connected
    phone.dial_outcome("completed")
    said = words(live, lang)
    assert phone.listening and phone.text.startswith(said.t("voice.delete.offer", key="6"))
    call_records()
    phone.press("6")
    assert phone.hung_up and not phone.listening
    assert phone.text == said.t("voice.delete.done")
    assert sorted(deleted()) == sorted([sid(1, "CA"), sid(1)])


@responses.activate
def test_an_earlier_calls_connection_to_the_hotline_goes_with_it(live: Flask) -> None:
    """A leg of an earlier call says whom the person called: it is deleted before its call."""
    phone = caller(live, "en")
    phone.press("1")
    phone.dial_outcome("completed")
    leg = {"sid": sid(3, "CA"), "status": "completed", "from": CLINIC_NUMBER, "to": "+18883737888"}
    call_records(earlier_legs=[leg])
    deletable("Calls", sid(3, "CA"))
    phone.press("6")
    assert phone.text == words(live, "en").t("voice.delete.done")
    assert deleted() == [sid(3, "CA"), sid(1, "CA"), sid(1)]


@responses.activate
def test_another_key_on_the_goodbye_only_ends_the_call(live: Flask) -> None:
    phone = caller(live, "en")
    phone.press("1")
    phone.dial_outcome("completed")
    phone.press("4")
    assert phone.hung_up and phone.text == words(live, "en").t("voice.goodbye")
    assert len(responses.calls) == 0


@responses.activate
def test_a_call_that_asked_is_deleted_once_it_ends(live: Flask) -> None:
    deletable("Calls", CALL_SID)
    fields = {"CallSid": CALL_SID, "CallStatus": "completed", "From": SENDER, "To": CLINIC_NUMBER}
    signed_post(live.test_client(), "/voice/status", fields).close()
    assert deleted() == []  # the setting is off, and this call did not ask
    signed_post(live.test_client(), "/voice/status?forget=1", fields).close()
    assert deleted() == []  # just ended: Twilio asks to wait at least a minute
    assert run_later(live) == 1
    assert deleted() == [CALL_SID]


@responses.activate
def test_a_call_twilio_will_not_delete_yet_is_tried_again_later(live: Flask) -> None:
    too_soon("Calls", CALL_SID)
    deletable("Calls", CALL_SID)
    fields = {"CallSid": CALL_SID, "CallStatus": "completed", "From": SENDER, "To": CLINIC_NUMBER}
    signed_post(live.test_client(), "/voice/status?forget=1", fields).close()
    assert run_later(live) == 1 and deleted() == [CALL_SID]
    assert run_later(live, forget.RETRY_LATER_SECONDS) == 0  # the next try waits longer
    assert run_later(live, forget.SETTLE_SECONDS + forget.RETRY_LATER_SECONDS + 1) == 1
    assert deleted() == [CALL_SID, CALL_SID]
    assert len(live.extensions[forget.LATER]) == 0


@responses.activate
def test_the_voice_simulator_shows_the_key_without_calling_twilio(live: Flask) -> None:
    phone = Phone(live, dry_run=True)
    phone.dial_in()
    phone.press("1")
    phone.press("3")
    phone.press("6")
    assert phone.text.startswith(words(live, "en").t("voice.delete.done"))
    assert len(responses.calls) == 0


@responses.activate
def test_a_delete_sent_again_deletes_again(make_app: Any) -> None:
    """Answers to repeated keywords are kept, but never a DELETE's: each one deletes."""
    # Counts written in the background, as in production, so the database (and with it the
    # kept answers) does not change between the two messages.
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, COUNTS_FLUSH_SECONDS=60)
    texter = Texter(app.test_client())
    texter.send("hello")
    for _ in range(2):  # the same message at the same place twice
        responses.reset()
        conversation([message(sid(60))])
        deletable("Messages", sid(60))
        texter.send("DELETE")
        assert deleted() == [sid(60)]
