"""Danger heard on every channel, through the real doors: signed SMS and WhatsApp webhooks (first
and later messages), voice speech at the greeting and on a menu, the offer to connect, the
keywords 911/EMERGENCY/EMERGENCIA, both simulators, and the labelled sets sent as texts."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, cost
from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.checks import sensitive_hits
from hotline_bridge.cli import main
from hotline_bridge.counters import today
from hotline_bridge.engine.catalogs import Words
from hotline_bridge.engine.danger import FALSE_ALARM_TARGET, RECALL_TARGET
from tests.conftest import CLINIC_NUMBER, PROJECT, SENDER, Texter, signed_post, twiml

HOTLINE = "1-888-373-7888"
HOTLINE_DIGITS = "18883737888"
LANGUAGE_KEY = {"en": "1", "es": "2"}
EXAMPLES = PROJECT / "flows" / "danger-examples"

# A message that suggests danger, and one in the same words that does not, in each language.
DANGER = {"en": "they took my passport and I can't leave", "es": "me quitaron el pasaporte"}
ORDINARY = {"en": "my passport expired how do i renew it", "es": "mi jefe me dio el día libre"}
# What the person wrote must never be said back.
THEIR_WORDS = ("passport", "pasaporte", "leave", "quitaron")


def words(app: Flask, lang: str) -> Words:
    return app.extensions["hotline_bridge"].catalogs.bind(lang)


def said(app: Flask, lang: str, person: type[Texter], key: str) -> str:
    """Return ``key`` as ``person``'s channel words it (SMS has shorter wording of its own)."""
    channel = "whatsapp" if issubclass(person, WhatsApper) else "sms"
    return words(app, lang).pick(channel, key)


def calm(app: Flask, lang: str) -> str:
    return words(app, lang).t("notice.signal", phone=HOTLINE, emergency="911")


class WhatsApper(Texter):
    """A person on WhatsApp: the same webhook, with whatsapp: addresses."""

    def send(self, body: str) -> str:
        self.count += 1
        params = {
            "Body": body,
            "From": f"whatsapp:{self.sender}",
            "To": f"whatsapp:{self.to}",
            "MessageSid": f"SM{self.count:032d}",
            "NumMedia": "0",
        }
        response = signed_post(self.client, "/sms", params)
        assert response.status_code == 200
        return "\n".join(m.text or "" for m in twiml(response).findall("Message"))


def counted(app: Flask, event: str) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        rows = conn.execute(
            "select day, channel, language, n from counts where event = ?", [event]
        ).fetchall()
    return [tuple(row) for row in rows]


def assert_calm(app: Flask, reply: str, lang: str, sms: bool = True) -> None:
    assert calm(app, lang) in reply, reply
    if sms:  # WhatsApp writes a reply whole
        assert cost(reply).segments <= MAX_SEGMENTS, reply
    assert sensitive_hits(reply, app.extensions["hotline_bridge"].sensitive_words) == []
    for word in THEIR_WORDS:
        assert word not in reply.lower(), reply


# --- SMS and WhatsApp ----------------------------------------------------------------------------


@pytest.mark.parametrize("person", [Texter, WhatsApper])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_first_message_gets_the_calm_line_then_the_main_menu(
    app: Flask, client: FlaskClient, person: type[Texter], lang: str
) -> None:
    reply = person(client).send(DANGER[lang])
    assert_calm(app, reply, lang, sms=person is Texter)
    talk = said(app, lang, person, "option.talk")
    assert talk in reply
    assert reply.index(calm(app, lang)) < reply.index(talk)
    other = person(client, sender="+15550001111").send(ORDINARY[lang])
    assert calm(app, lang) not in other and talk in other


@pytest.mark.parametrize("person", [Texter, WhatsApper])
@pytest.mark.parametrize(("hello", "lang"), [("hi", "en"), ("hola", "es")])
def test_a_later_message_gets_the_calm_line_above_the_screen_they_were_on(
    app: Flask, client: FlaskClient, person: type[Texter], hello: str, lang: str
) -> None:
    texter = person(client)
    texter.send(hello)
    texter.send("2")  # the kinds of local help
    reply = texter.send(DANGER[lang])
    assert_calm(app, reply, lang, sms=person is Texter)
    talk, legal = (said(app, lang, person, key) for key in ("option.talk", "option.legal"))
    if person is WhatsApper or lang == "en":
        assert legal in reply  # still the screen they were on
    else:  # that screen and the calm line are more than an SMS budget: the main menu
        assert talk in reply and legal not in reply
    assert texter.send(ORDINARY[lang]).count(calm(app, lang)) == 0


def test_a_match_is_counted_only_per_day_channel_and_language(
    app: Flask, client: FlaskClient, captured_logs: pytest.LogCaptureFixture
) -> None:
    Texter(client).send(DANGER["es"])
    WhatsApper(client, sender="+15550002222").send(DANGER["en"])
    assert sorted(counted(app, "danger")) == [
        (today(), "sms", "es", 1),
        (today(), "whatsapp", "en", 1),
    ]
    # Nothing of the message is kept or logged: not in the database file, not in a log line.
    stored = Path(app.config["DATABASE"]).read_bytes()
    for word in ("pasaporte", "passport", SENDER):
        assert word.encode() not in stored
        assert all(word not in record.getMessage() for record in captured_logs.records)


@pytest.mark.parametrize(
    ("keyword", "lang"), [("911", "en"), ("emergency", "en"), ("EMERGENCIA", "es")]
)
def test_911_and_emergency_go_straight_to_the_emergency_screen(
    app: Flask, client: FlaskClient, keyword: str, lang: str
) -> None:
    first = Texter(client).send(keyword)
    assert words(app, lang).t("connect.emergency") in first, first
    assert_calm(app, first, lang)
    later = Texter(client, sender="+15550003333")
    later.send("hola" if lang == "es" else "hi")
    later.send("3")
    reply = later.send(keyword)
    assert words(app, lang).t("connect.emergency") in reply and calm(app, lang) in reply
    assert counted(app, "danger")


def test_911_keeps_the_language_of_the_conversation(app: Flask, client: FlaskClient) -> None:
    texter = Texter(client)
    texter.send("hola")
    reply = texter.send("911")
    assert words(app, "es").t("connect.emergency") in reply and calm(app, "es") in reply


def test_simulate_sms_answers_danger_with_the_calm_line(app: Flask) -> None:
    typed = "hola\n1\nme estan vigilando\n"
    result = app.test_cli_runner().invoke(main, ["simulate", "sms"], input=typed)
    assert result.exit_code == 0, result.output
    assert calm(app, "es") in result.output
    assert not counted(app, "danger")  # trying the line counts nothing


# --- Voice ---------------------------------------------------------------------------------------


def phone(app: Flask) -> Phone:
    caller = Phone(app, caller=SENDER, to=CLINIC_NUMBER)
    caller.dial_in()
    return caller


def assert_offer(app: Flask, caller: Phone, lang: str) -> None:
    text = caller.text
    assert "1 8 8 8 3 7 3 7 8 8 8" in text and "9 1 1" in text, text
    assert words(app, lang).t("voice.signal.offer", key="1") in text
    assert words(app, lang).t("voice.notice.unknown") not in text
    assert all(spoken.language == f"{lang}-US" for spoken in caller.said)
    menu = caller.twiml.find("Gather")  # type: ignore[union-attr]
    assert menu is not None and menu.get("action", "").startswith("/voice/signal")
    for word in ("leave", "salir", "scared", "miedo"):
        assert word not in text.lower()


def assert_dials_hotline(caller: Phone) -> None:
    dial = caller.dialing
    assert dial is not None, caller.text
    assert (dial.text or "").strip() == "+" + HOTLINE_DIGITS


@pytest.mark.parametrize(
    ("said", "lang"), [("I'm scared he won't let me leave", "en"), ("no me deja salir", "es")]
)
def test_danger_said_at_the_greeting_gets_the_calm_line_and_the_offer(
    app: Flask, said: str, lang: str
) -> None:
    caller = phone(app)
    caller.speak(said)
    assert_offer(app, caller, lang)
    caller.press("1")
    assert_dials_hotline(caller)


@pytest.mark.parametrize(
    ("said", "lang", "yes"),
    [("I'm scared he won't let me leave", "en", "yes"), ("no me deja salir", "es", "sí")],
)
def test_danger_said_on_a_menu_offers_to_connect_by_saying_yes(
    app: Flask, said: str, lang: str, yes: str
) -> None:
    caller = phone(app)
    caller.press(LANGUAGE_KEY[lang])
    caller.press("2")  # the kinds of local help
    caller.speak(said)
    assert_offer(app, caller, lang)
    assert counted(app, "danger") == [(today(), "voice", lang, 1)]
    caller.speak(yes)
    assert_dials_hotline(caller)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_after_the_offer_silence_or_no_goes_back_to_the_menu_they_were_on(
    app: Flask, lang: str
) -> None:
    caller = phone(app)
    caller.press(LANGUAGE_KEY[lang])
    caller.press("2")
    caller.speak(DANGER[lang])
    caller.wait()
    assert words(app, lang).t("menu.needs") in caller.text
    assert caller.dialing is None
    caller.speak(DANGER[lang])
    caller.speak("no")
    assert words(app, lang).t("menu.needs") in caller.text and caller.dialing is None
    caller.speak(DANGER[lang])
    caller.press("3")  # a key of the menu they were on still works
    assert words(app, lang).t("list.mental_health") in caller.text


def test_a_menu_label_said_is_still_a_choice(app: Flask) -> None:
    caller = phone(app)
    caller.press("1")
    caller.speak("medical care")
    assert "signal" not in caller.url and "/voice/signal" not in str(caller.twiml)


def test_emergency_said_goes_to_the_emergency_screen(app: Flask) -> None:
    caller = phone(app)
    caller.press("2")
    caller.speak("emergencia")
    assert words(app, "es").t("connect.emergency") in caller.text


# Letters spelled out are no clue to a language ("o" and "y" are Spanish words): the screen
# is in the language of the greeting's menu that heard them.
@pytest.mark.parametrize("spelled", ["S.O.S.", "S O S", "sos"])
@pytest.mark.parametrize(("lang", "speech"), [("en", "en-US"), ("es", "es-US")])
def test_sos_said_at_the_greeting_gets_the_emergency_screen_in_the_callers_language(
    app: Flask, spelled: str, lang: str, speech: str
) -> None:
    caller = phone(app)
    caller.speak(spelled, language=speech)
    assert words(app, lang).t("connect.emergency") in caller.text, caller.text


def test_simulate_voice_offers_to_connect(app: Flask) -> None:
    typed = ["2", "me estan siguiendo", "1", ""]
    result = app.test_cli_runner().invoke(main, ["simulate", "voice"], input="\n".join(typed))
    assert result.exit_code == 0, result.output
    assert words(app, "es").t("voice.signal.offer", key="1") in result.output
    assert "<Dial 1-888-373-7888>" in result.output


# --- The labelled sets, sent as first messages through the signed webhook ----------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# dev is tuned on; heldout14 and heldout15 were each written apart from everything, measured
# once and never learnt: what the line does with messages it has not seen.
@pytest.mark.parametrize("name", ["dev", "heldout14", "heldout15"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_labelled_set_through_the_sms_webhook(
    app: Flask, client: FlaskClient, name: str, lang: str
) -> None:
    rows = _rows(EXAMPLES / f"{name}-{lang}.csv")
    answered = {"danger": [0, 0], "ordinary": [0, 0]}
    for n, row in enumerate(rows):
        reply = Texter(client, sender=f"+1555{n:07d}").send(row["text"])
        answered[row["label"]][0] += 1
        answered[row["label"]][1] += calm(app, lang) in reply or calm(app, _other(lang)) in reply
    recall = answered["danger"][1] / answered["danger"][0]
    false_alarms = answered["ordinary"][1] / answered["ordinary"][0]
    assert recall >= RECALL_TARGET and false_alarms <= FALSE_ALARM_TARGET, (recall, false_alarms)


def _other(lang: str) -> str:
    return "es" if lang == "en" else "en"


def test_the_offer_to_connect_refuses_unsigned_requests(app: Flask) -> None:
    from tests.conftest import BASE_URL, sign

    client = app.test_client()
    path = "/voice/signal?n=main&l=en"
    params = {"CallSid": "CA" + "1" * 32, "From": SENDER, "Digits": "1"}
    assert client.post(path, data=params).status_code == 403
    bad = sign(BASE_URL + path, params, token="not-the-token")
    assert client.post(path, data=params, headers={"X-Twilio-Signature": bad}).status_code == 403
    assert signed_post(client, path, params).status_code == 200


def test_the_console_shows_the_danger_count_only_from_its_minimum(
    app: Flask, client: FlaskClient
) -> None:
    import datetime as dt

    import sqlite_utils

    from hotline_bridge.console.usage import shown_counts

    minimum = app.config["CONSOLE_MIN_COUNT"]
    day = dt.date.fromisoformat(today())
    db = sqlite_utils.Database(app.config["DATABASE"])

    def shown() -> list[str]:
        return [row["event"] for row in shown_counts(db, day, day, minimum)]

    for n in range(minimum):
        assert "danger" not in shown()
        Texter(client, sender=f"+1555444{n:04d}").send(DANGER["en"])
    assert "danger" in shown()
