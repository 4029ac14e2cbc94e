"""'Reply CALL': the SMS line rings the person from its own number and bridges them to the 24/7
line, only after YES, never after STOP, never on WhatsApp, within its caps, keeping nothing.

Every message is a signed webhook; Twilio's REST API is mocked at the HTTP edge with
``responses`` (the request creating the call is checked field by field); delayed calls run on
the test's clock, never by sleeping.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from responses import matchers

from hotline_bridge.channels.sms import callback
from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, MEDIAN_SEGMENTS, cost
from hotline_bridge.channels.sms.simulator import SmsSimulator
from hotline_bridge.directory.models import display_number
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.runtime import runtime
from tests.conftest import (
    CLINIC_NUMBER,
    SENDER,
    Texter,
    checked,
    run_later,
    sign,
    signed_post,
    twiml,
)

ACCOUNT_SID = "AC" + "0" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
CALLS = f"{API}/Calls.json"
CALL_SID = "CA" + "5" * 32
LEG_SID = "CA" + "6" * 32
# The person's number in the forms a file or a log might hold it.
SENDER_FORMS = [SENDER, SENDER[1:], SENDER[2:], "555-867-5309", "(555) 867-5309", "8675309"]
LABEL = {"en": "Confidential 24/7 help line", "es": "Línea de ayuda confidencial 24/7"}
# A conversation that reaches the talk screen, and its CALL and YES, by language.
OPENING = {"en": ("hello", "1"), "es": ("hola", "1")}
CALL = {"en": "CALL", "es": "LLAMAR"}
YES = {"en": "YES", "es": "SÍ"}


@pytest.fixture
def live(make_app: Any) -> Flask:
    """An app with a Twilio account to place calls with."""
    app: Flask = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    return app


@pytest.fixture
def api() -> Any:
    """Twilio's REST API: creating a call answers 201 with the call's Sid."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(CALLS, status=201, json={"sid": CALL_SID, "status": "queued"})
        yield mock


def created(mock: Any) -> list[dict[str, list[str]]]:
    """Return the form of every request that created a call."""
    return [
        parse_qs(str(call.request.body))
        for call in mock.calls
        if call.request.method == "POST" and call.request.url == CALLS
    ]


def words(app: Flask, lang: str) -> Words:
    with app.app_context():
        return runtime().catalogs.bind(lang)


def hotline(app: Flask) -> str:
    with app.app_context():
        return display_number(runtime().failsafe.hotline_phone)


def say(app: Flask, lang: str, key: str, **params: Any) -> str:
    values = {"number": display_number(CLINIC_NUMBER), "label": LABEL[lang], "phone": hotline(app)}
    return words(app, lang).t(key, **{**values, **params})


def at_talk(client: FlaskClient, lang: str, sender: str = SENDER) -> tuple[Texter, str]:
    texter = Texter(client, sender=sender)
    reply = ""
    for body in OPENING[lang]:
        reply = texter.send(body)
    return texter, reply


def waiting(app: Flask) -> callback.Waiting:
    return callback.held(app).waiting


# --- The offer and the confirmation --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_talk_screen_offers_the_call_from_its_number_in_two_segments(
    live: Flask, lang: str
) -> None:
    _, reply = at_talk(live.test_client(), lang)
    number = display_number(CLINIC_NUMBER)
    long = words(live, lang).t("sms.callback.offer", label=LABEL[lang], number=number)
    short = words(live, lang).t("sms.callback.offer_short", number=number)
    assert long in reply or short in reply
    # The talk screen is among the replies people get most: two segments, in each language.
    assert cost(reply).segments <= MEDIAN_SEGMENTS
    if lang == "en":
        assert long in reply  # English has room for all of it


def test_the_call_offer_gives_way_to_the_short_one_before_a_third_segment(live: Flask) -> None:
    lang = "en"
    talk = words(live, lang)
    screen = "Free, private help\n" + "x" * 200 + "\n0 Menu"
    offered = callback.with_offer(talk, screen, LABEL[lang], CLINIC_NUMBER)
    short = talk.t("sms.callback.offer_short", number=display_number(CLINIC_NUMBER))
    assert short in offered and cost(offered).segments == MEDIAN_SEGMENTS
    # With no room even for the short one in two segments, the whole offer in three.
    crowded = callback.with_offer(talk, "x" * 250 + "\n0 Menu", LABEL[lang], CLINIC_NUMBER)
    assert "connect you to" in crowded and cost(crowded).segments == MAX_SEGMENTS


@pytest.mark.parametrize("lang", ["en", "es"])
def test_call_then_yes_places_one_call_from_the_line_to_the_person(
    live: Flask, api: Any, lang: str
) -> None:
    texter, _ = at_talk(live.test_client(), lang)
    assert texter.send(CALL[lang]) == say(live, lang, "sms.callback.confirm")
    assert created(api) == []  # nothing rings before YES
    assert texter.send(YES[lang]) == say(live, lang, "sms.callback.placed")
    [form] = created(api)
    assert form == {
        "To": [SENDER],
        "From": [CLINIC_NUMBER],
        "Url": [f"http://localhost/voice/callback/answer?l={lang}&s=default"],
        "Method": ["POST"],
        "StatusCallback": [f"http://localhost/voice/callback/status?l={lang}"],
        "StatusCallbackMethod": ["POST"],
        "Timeout": [str(callback.RING_SECONDS)],
        "MachineDetection": ["Enable"],
    }
    # A second YES is just a word: no second call.
    texter.send(YES[lang])
    assert len(created(api)) == 1


def test_every_reply_of_the_call_fits_the_budget(live: Flask) -> None:
    for lang in ("en", "es"):
        for label, text in callback.inventory(
            words(live, lang), CLINIC_NUMBER, LABEL[lang], "+18883737888"
        ):
            assert cost(text).segments <= MAX_SEGMENTS, (lang, label, text)


def test_no_call_without_yes_right_after_call(live: Flask, api: Any) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    assert "YES" not in texter.send("YES")  # a YES nobody asked for: not understood
    texter.send("CALL")
    texter.send("1")  # something else: the question is gone
    texter.send("YES")
    texter.send("0")
    assert created(api) == []


def test_a_yes_long_after_call_confirms_nothing(
    live: Flask, api: Any, frozen_clock: time_machine.Coordinates
) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    texter.send("CALL")
    frozen_clock.shift(callback.CONFIRM_SECONDS + 60)
    texter.send("YES")
    assert created(api) == []


def test_call_answers_in_spanish_in_a_spanish_conversation(live: Flask, api: Any) -> None:
    texter, _ = at_talk(live.test_client(), "es")
    assert texter.send("CALL") == say(live, "es", "sms.callback.confirm")
    assert texter.send("si") == say(live, "es", "sms.callback.placed")
    assert len(created(api)) == 1


# --- The call itself ------------------------------------------------------------------------------

BRIDGE = {
    "en": (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="en-US" voice="Polly.Joanna-Neural">'
        "Community Health Line, connecting you now. Press star to end.</Say>"
        '<Dial action="/voice/dialed?n=talk&amp;l=en" answerOnBridge="true" '
        'hangupOnStar="true" method="POST" timeout="25">+18883737888</Dial></Response>'
    ),
    "es": (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="es-US" voice="Polly.Lupe-Neural">'
        "Línea de Salud Comunitaria, le comunicamos ahora. Oprima asterisco para terminar.</Say>"
        '<Dial action="/voice/dialed?n=talk&amp;l=es" answerOnBridge="true" '
        'hangupOnStar="true" method="POST" timeout="25">+18883737888</Dial></Response>'
    ),
}


def answered(app: Flask, lang: str, answered_by: str = "human") -> Any:
    fields = {
        "CallSid": CALL_SID,
        "AccountSid": ACCOUNT_SID,
        "From": CLINIC_NUMBER,
        "To": SENDER,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "AnsweredBy": answered_by,
    }
    return signed_post(app.test_client(), f"/voice/callback/answer?l={lang}&s=default", fields)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_person_who_answers_is_bridged_to_the_24_7_line(live: Flask, lang: str) -> None:
    response = answered(live, lang)
    twiml(response)
    assert response.get_data(as_text=True) == BRIDGE[lang]


def test_an_answering_machine_hears_nothing(live: Flask) -> None:
    response = answered(live, "en", "machine_start")
    assert response.get_data(as_text=True) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
    )


def test_a_busy_24_7_line_offers_the_other_lines_as_the_voice_menu_does(live: Flask) -> None:
    fields = {"CallSid": CALL_SID, "From": CLINIC_NUMBER, "To": SENDER, "DialCallStatus": "busy"}
    root = twiml(signed_post(live.test_client(), "/voice/dialed?n=talk&l=en", fields))
    spoken = " ".join("".join(say.itertext()) for say in root.iter("Say"))
    assert words(live, "en").t("voice.dial.busy") in spoken
    assert root.find("Gather") is not None  # the other lines, a key away


def test_after_a_busy_24_7_line_the_menu_is_the_clinics_that_called(make_app: Any) -> None:
    """On the line's own call, ``To`` is the person: the menu that follows a busy 24/7 line is
    still the clinic's whose number rang them, as a call to that number would hear it."""
    from hotline_bridge.channels.voice.simulator import Phone
    from tests.cli.test_cli_doors import DEMO
    from tests.directory.test_import import run

    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    for name in ("sites.csv", "services.csv"):
        assert run(app, "import", str(DEMO / name)).exit_code == 0
    line = "+15555550199"  # the demo clinic's number
    rung = Phone(app, caller=line, to=SENDER)
    rung.fields["Direction"] = "outbound-api"
    rung.post("/voice/callback/answer?l=en&s=demo-clinic", {"AnsweredBy": "human"})
    rung.dial_outcome("busy")
    caller = Phone(app, to=line)
    caller.dial_in()
    caller.press("1")  # English
    caller.press("1")  # talk to someone now: the 24/7 line is dialled
    caller.dial_outcome("busy")
    assert rung.text == caller.text
    for phone in (rung, caller):
        for key in ("0", "2", "1"):  # the main menu, help near you, legal help
            phone.press(key)
    assert rung.text == caller.text
    assert "Legal help, Cambridge" in rung.text  # the clinic's own, not the default site's


def test_the_answer_route_refuses_an_unsigned_request(live: Flask) -> None:
    response = live.test_client().post("/voice/callback/answer?l=en", data={"To": SENDER})
    assert response.status_code == 403


# --- Later ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_call_20_rings_twenty_minutes_later(live: Flask, api: Any, lang: str) -> None:
    texter, _ = at_talk(live.test_client(), lang)
    confirm = texter.send(f"{CALL[lang]} 20")
    assert confirm == say(live, lang, "sms.callback.confirm_later", minutes=20)
    assert texter.send(YES[lang]) == say(live, lang, "sms.callback.scheduled", minutes=20)
    now = time.time()
    assert created(api) == [] and len(waiting(live)) == 1
    assert waiting(live).run_due(now + 19 * 60) == 0
    assert created(api) == []
    assert waiting(live).run_due(now + 20 * 60 + 1) == 1
    [form] = created(api)
    assert form["To"] == [SENDER] and form["From"] == [CLINIC_NUMBER]
    assert len(waiting(live)) == 0


def test_more_than_sixty_minutes_is_explained_and_asks_nothing(live: Flask, api: Any) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    assert texter.send("CALL 90") == say(live, "en", "sms.callback.minutes", most=60)
    texter.send("YES")
    assert created(api) == [] and len(waiting(live)) == 0


def test_a_full_queue_still_gives_the_24_7_line(live: Flask, api: Any) -> None:
    callback.held(live).waiting.limit = 0
    texter, _ = at_talk(live.test_client(), "en")
    texter.send("CALL 5")
    assert texter.send("YES") == say(live, "en", "sms.callback.failed")
    assert hotline(live) in say(live, "en", "sms.callback.failed")


# --- Limits ---------------------------------------------------------------------------------------


def test_one_call_per_conversation_per_ten_minutes(
    live: Flask, api: Any, frozen_clock: time_machine.Coordinates
) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    texter.send("CALL")
    texter.send("YES")
    assert texter.send("CALL") == say(live, "en", "sms.callback.again")
    texter.send("YES")
    assert len(created(api)) == 1
    frozen_clock.shift(callback.GAP_SECONDS + 30)
    assert texter.send("CALL") == say(live, "en", "sms.callback.confirm")
    texter.send("YES")
    assert len(created(api)) == 2


def test_a_site_places_at_most_its_hourly_cap(
    make_app: Any, api: Any, frozen_clock: time_machine.Coordinates
) -> None:
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, CALLBACKS_PER_HOUR=2)
    replies = []
    for n in range(3):  # three people, each with their own conversation (cookie)
        texter, _ = at_talk(app.test_client(), "en", sender=f"+1555010{n:04d}")
        texter.send("CALL")
        replies.append(texter.send("YES"))
    assert replies[2] == say(app, "en", "sms.callback.failed")
    assert len(created(api)) == 2
    frozen_clock.shift(callback.HOUR + 1)
    texter, _ = at_talk(app.test_client(), "en", sender="+15550109999")
    texter.send("CALL")
    assert texter.send("YES") == say(app, "en", "sms.callback.placed")
    assert len(created(api)) == 3


def test_the_hourly_cap_holds_across_workers_and_restarts(
    make_app: Any, api: Any, frozen_clock: time_machine.Coordinates
) -> None:
    """Two workers on one database share the cap, and a restarted worker still knows it."""
    workers = [make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, CALLBACKS_PER_HOUR=2) for _ in range(2)]
    replies = []
    for n, worker in enumerate([*workers, *workers]):
        texter, _ = at_talk(worker.test_client(), "en", sender=f"+1555011{n:04d}")
        texter.send("CALL")
        replies.append(texter.send("YES"))
        frozen_clock.shift(600)  # one call every ten minutes
    placed = say(workers[0], "en", "sms.callback.placed")
    refused = say(workers[0], "en", "sms.callback.failed")
    assert replies == [placed, placed, refused, refused]
    restarted = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, CALLBACKS_PER_HOUR=2)
    texter, _ = at_talk(restarted.test_client(), "en", sender="+15550118888")
    texter.send("CALL")
    assert texter.send("YES") == refused
    # The first call was placed more than an hour ago: its place is free again.
    frozen_clock.shift(callback.HOUR - 4 * 600 + 1)
    texter, _ = at_talk(restarted.test_client(), "en", sender="+15550118889")
    texter.send("CALL")
    assert texter.send("YES") == placed
    assert len(created(api)) == 3
    with open_db(restarted) as db:
        stored = list(db["callback_admissions"].rows)
    assert {row["site"] for row in stored} == {"default"}  # a site and a count, nothing else
    assert sum(row["n"] for row in stored) == 2


def test_a_cap_of_zero_offers_no_call(make_app: Any, api: Any) -> None:
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, CALLBACKS_PER_HOUR=0)
    texter, reply = at_talk(app.test_client(), "en")
    assert "CALL" not in reply
    assert texter.send("CALL") != say(app, "en", "sms.callback.confirm")
    texter.send("YES")
    assert created(api) == []


def test_no_account_offers_no_call(make_app: Any) -> None:
    app = make_app()  # neither a Twilio account nor local mode: nothing to call with
    _, reply = at_talk(app.test_client(), "en")
    assert "CALL" not in reply


# --- STOP, WhatsApp ---------------------------------------------------------------------------


def test_a_number_that_texted_stop_is_never_called(live: Flask, api: Any) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    texter.send("STOP")
    assert texter.send("CALL") == ""
    assert texter.send("YES") == ""
    assert created(api) == []


def test_stop_cancels_a_call_that_waits(live: Flask, api: Any) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    texter.send("CALL 15")
    texter.send("YES")
    assert len(waiting(live)) == 1
    texter.send("STOP")
    assert len(waiting(live)) == 0
    waiting(live).run_due(time.time() + 3600)
    assert created(api) == []


def test_stop_through_twilios_opt_out_is_honoured(make_app: Any, api: Any) -> None:
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, SMS_OPT_OUT_BY_TWILIO=True)
    client = app.test_client()
    texter, _ = at_talk(client, "en")
    texter.send("CALL 10")
    texter.send("YES")
    fields = {
        "Body": "STOP",
        "From": SENDER,
        "To": CLINIC_NUMBER,
        "MessageSid": "SM" + "9" * 32,
        "OptOutType": "STOP",
    }
    assert twiml(signed_post(client, "/sms", fields)).find("Message") is None
    assert len(waiting(app)) == 0
    texter.send("CALL")
    texter.send("YES")
    assert created(api) == []


def test_whatsapp_is_not_offered_the_call(live: Flask, api: Any) -> None:
    person = Texter(live.test_client(), f"whatsapp:{SENDER}", f"whatsapp:{CLINIC_NUMBER}")
    person.send("hello")
    reply = person.send("1")
    assert "CALL" not in reply
    assert person.send("CALL") != say(live, "en", "sms.callback.confirm")
    person.send("YES")
    assert created(api) == []


# --- Faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 500, "json": {"code": 20500, "message": "Internal", "status": 500}},
        {"status": 400, "json": {"code": 21215, "message": "Geo permission", "status": 400}},
        {"body": requests.exceptions.ConnectTimeout("no answer")},
        {"body": requests.exceptions.ReadTimeout("hung")},
    ],
    ids=["server-error", "refused", "connect-timeout", "hung"],
)
def test_when_twilio_fails_the_person_still_gets_the_24_7_line(
    live: Flask, failure: dict[str, Any]
) -> None:
    with responses.RequestsMock() as mock:
        mock.post(CALLS, **failure)
        texter, _ = at_talk(live.test_client(), "en")
        texter.send("CALL")
        reply = texter.send("YES")
    assert reply == say(live, "en", "sms.callback.failed")
    assert hotline(live) in reply and "911" in reply


def test_a_delayed_call_that_fails_is_counted(live: Flask) -> None:
    with responses.RequestsMock() as mock:
        mock.post(CALLS, body=requests.exceptions.ReadTimeout("hung"))
        texter, _ = at_talk(live.test_client(), "en")
        texter.send("CALL 1")
        texter.send("YES")
        assert waiting(live).run_due(time.time() + 120) == 1
    assert counts(live).get("callback:failed") == 1


# --- Records, counts, nothing kept ---------------------------------------------------------------


def counts(app: Flask) -> dict[str, int]:
    with open_db(app) as db:
        rows = db.query("select event, sum(n) n from counts group by event")
        return {row["event"]: row["n"] for row in rows}


def test_the_call_and_its_leg_are_deleted_after_it_ends(make_app: Any) -> None:
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, DELETE_TWILIO_RECORDS=True)
    fields = {"CallSid": CALL_SID, "CallStatus": "completed", "From": CLINIC_NUMBER, "To": SENDER}
    with responses.RequestsMock() as mock:
        signed_post(app.test_client(), "/voice/callback/status?l=en", fields).close()
        leg = {"sid": LEG_SID, "parent_call_sid": CALL_SID}
        mock.get(
            CALLS,
            json={"calls": [leg], "next_page_uri": None, "page": 0, "page_size": 10},
            match=[matchers.query_param_matcher({"ParentCallSid": CALL_SID}, strict_match=False)],
        )
        mock.delete(f"{API}/Calls/{LEG_SID}.json", status=204)
        mock.delete(f"{API}/Calls/{CALL_SID}.json", status=204)
        assert run_later(app) == 1
        deleted = [c.request.url for c in mock.calls if c.request.method == "DELETE"]
    assert deleted == [f"{API}/Calls/{LEG_SID}.json", f"{API}/Calls/{CALL_SID}.json"]


def test_usage_counts_calls_requested_placed_and_connected(live: Flask, api: Any) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    texter.send("CALL")
    texter.send("YES")
    answered(live, "en").close()
    found = counts(live)
    assert found["callback:requested"] == 1
    assert found["callback:placed"] == 1
    assert found["callback:connected"] == 1


def _all_bytes(folder: Path) -> str:
    return "\n".join(
        path.read_bytes().decode("utf-8", errors="replace")
        for path in folder.rglob("*")
        if path.is_file()
    )


def test_nothing_about_the_person_is_kept(
    live: Flask, api: Any, tmp_path: Path, captured_logs: pytest.LogCaptureFixture
) -> None:
    texter, _ = at_talk(live.test_client(), "en")
    for body in ("CALL", "YES", "CALL 20", "YES"):
        texter.send(body)
    answered(live, "en").close()
    fields = {"CallSid": CALL_SID, "CallStatus": "completed", "From": CLINIC_NUMBER, "To": SENDER}
    signed_post(live.test_client(), "/voice/callback/status?l=en", fields).close()
    texter2, _ = at_talk(live.test_client(), "es", sender="+15558675310")
    texter2.send("LLAMAR 5")
    texter2.send("SÍ")
    waiting(live).run_due(time.time() + 3600)
    assert len(created(api)) == 2
    stored = _all_bytes(tmp_path)
    for needle in SENDER_FORMS:
        assert needle not in stored, f"{needle!r} was kept"
        assert needle not in captured_logs.text, f"{needle!r} was logged"
    assert "8675310" not in stored and "8675310" not in captured_logs.text


def test_the_simulator_shows_the_line_would_call(live: Flask, api: Any) -> None:
    phone = SmsSimulator(live, to=CLINIC_NUMBER)
    for body in ("hello", "1", "CALL"):
        phone.send(body)
    _, text = phone.send("YES")
    assert text == say(live, "en", "sms.callback.simulated")
    assert created(api) == []


def test_the_cookie_holds_no_number(live: Flask, api: Any) -> None:
    client = live.test_client()
    texter, _ = at_talk(client, "en")
    texter.send("CALL 20")
    texter.send("YES")
    cookie = client.get_cookie("s")
    assert cookie is not None
    payload = cookie.value.split(".")[0]
    held = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(held) <= {"l", "p", "x", "s", "k", "c", "o"}
    assert all(SENDER[2:] not in str(value) for value in held.values())


def test_the_check_weighs_every_reply_of_the_call(live: Flask) -> None:
    from hotline_bridge import checks

    report = checked(live, checks.check_sms)
    assert not report.failed, report.lines
    for lang in ("en", "es"):
        for label in ("default/talk (offering CALL)", "CALL 60", "CALL, YES (not placed)"):
            assert any(
                line.startswith(f"sms {lang}") and line.endswith(label) for line in report.lines
            )


def test_a_site_of_its_own_can_turn_the_call_off(make_app: Any, api: Any) -> None:
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID, CALLBACKS_PER_HOUR="10, default=0")
    texter, reply = at_talk(app.test_client(), "en")
    assert "CALL" not in reply
    texter.send("CALL")
    texter.send("YES")
    assert created(api) == []


def test_the_hourly_cap_setting_is_checked_at_start_up(make_app: Any) -> None:
    from hotline_bridge.settings import ConfigError

    with pytest.raises(ConfigError, match="CALLBACKS_PER_HOUR"):
        make_app(CALLBACKS_PER_HOUR="clinic-b=0")
    with pytest.raises(ConfigError, match="CALLBACKS_PER_HOUR"):
        make_app(CALLBACKS_PER_HOUR="10, clinic-b=-1")


def test_a_yes_twilio_delivers_twice_rings_once(live: Flask, api: Any) -> None:
    client = live.test_client()
    texter, _ = at_talk(client, "en")
    texter.send("CALL")
    asked = client.get_cookie("s")
    assert asked is not None
    fields = {
        "Body": "YES",
        "From": SENDER,
        "To": CLINIC_NUMBER,
        "MessageSid": "SM" + "8" * 32,
        "AccountSid": ACCOUNT_SID,
    }
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", fields)}
    headers["I-Twilio-Idempotency-Token"] = "retried-once"
    replies = []
    for _ in range(2):  # Twilio's retry carries the cookie it had, with the question in it
        client.set_cookie("s", asked.value)
        response = client.post("/sms", data=fields, headers=headers)
        replies.append(twiml(response).findtext("Message"))
    assert replies == [say(live, "en", "sms.callback.placed")] * 2
    assert len(created(api)) == 1


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_usage_page_names_the_counts_of_the_call(live: Flask, lang: str) -> None:
    from hotline_bridge.console.usage import event_name

    bound = words(live, lang)
    for event in ("requested", "placed", "connected", "failed", "refused"):
        named = event_name(bound, f"callback:{event}")
        assert named == bound.t(f"console.usage.event.callback.{event}")
        assert not named.startswith("callback:")


def test_a_fault_while_answering_still_connects_to_the_24_7_line(
    live: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_bridge.channels import turn

    def gone() -> None:
        raise OSError("database gone")

    monkeypatch.setattr(turn, "get_db", gone)  # where every turn opens the database
    response = answered(live, "es")
    root = twiml(response)
    assert response.status_code == 200
    assert root.findtext("Dial") == "+18883737888"


def test_the_queue_is_bounded_keeps_one_call_a_conversation_and_runs_in_time_order() -> None:
    ran: list[str] = []
    queue = callback.Waiting(limit=2, start=False)
    assert queue.add(("a", "line"), 300.0, lambda: ran.append("a first"))
    assert queue.add(("a", "line"), 200.0, lambda: ran.append("a again"))  # replaces the first
    assert queue.add(("b", "line"), 100.0, lambda: ran.append("b"))
    assert not queue.add(("c", "line"), 50.0, lambda: ran.append("c"))  # full
    assert len(queue) == 2
    assert queue.run_due(99.0) == 0
    assert queue.run_due(1000.0) == 2
    assert ran == ["b", "a again"]
    assert queue.add(("d", "line"), 10.0, lambda: ran.append("d"))
    assert queue.cancel(("d", "line")) == 1
    assert queue.run_due(1000.0) == 0 and ran == ["b", "a again"]


def test_a_job_that_raises_does_not_stop_the_others() -> None:
    ran: list[str] = []
    queue = callback.Waiting(start=False)

    def broken() -> None:
        raise RuntimeError("boom")

    queue.add(("a", "line"), 1.0, broken)
    queue.add(("b", "line"), 2.0, lambda: ran.append("b"))
    assert queue.run_due(10.0) == 2
    assert ran == ["b"]


def test_a_clinic_turns_the_call_off_in_the_console(
    make_app: Any, api: Any, frozen_clock: time_machine.Traveller
) -> None:
    from tests.console.console_helpers import NORTH_NUMBER, Staffer, add_staff, seed

    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    seed(app)
    add_staff(app, "ada@admin.example", "--admin")
    person = Texter(app.test_client(), to=NORTH_NUMBER)
    person.send("hello")
    assert "Reply CALL" in person.send("1")
    ada = Staffer(app, "ada@admin.example", frozen_clock)
    assert ada.sign_in().status_code == 303
    fields = {
        "site": "north",
        "id": "north",
        "name_en": "North Health Line",
        "default_language": "en",
        "time_zone": "America/New_York",
        "numbers": NORTH_NUMBER,
        "callback_off": "yes",
    }
    saved = ada.post("/console/sites", fields, form_page="/console/sites?site=north")
    assert saved.status_code == 303
    other = Texter(app.test_client(), sender="+15558675311", to=NORTH_NUMBER)
    other.send("hello")
    assert "CALL" not in other.send("1")
    other.send("CALL")
    other.send("YES")
    assert created(api) == []
    with open_db(app) as db:
        audited = [row["after"] for row in db.query("select after from audit_log")]
    assert any('"callback_off": 1' in (after or "") for after in audited)
