"""The SMS line through the real webhook: signed requests, both languages, every menu path."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge.checks import sensitive_hits
from hotline_bridge.settings import DEFAULT_SENSITIVE_WORDS, _words
from tests.channels.sms import SmsWords, sms_words
from tests.conftest import (
    AUTH_TOKEN,
    BASE_URL,
    Texter,
    run_later,
    sign,
    signed_post,
    twiml,
)

HOTLINE = "1-888-373-7888"
SENSITIVE = _words(DEFAULT_SENSITIVE_WORDS)


def words(app: Flask, lang: str) -> SmsWords:
    return sms_words(app, lang)


# --- Signatures ------------------------------------------------------------------------------


def test_unsigned_request_is_refused(client: FlaskClient) -> None:
    response = client.post("/sms", data={"Body": "hello", "From": "+15550100000"})
    assert response.status_code == 403


def test_wrongly_signed_request_is_refused(client: FlaskClient) -> None:
    params = {"Body": "hello"}
    bad = sign(BASE_URL + "/sms", params, token="not-the-token")
    response = client.post("/sms", data=params, headers={"X-Twilio-Signature": bad})
    assert response.status_code == 403


def test_signature_covers_every_field(client: FlaskClient) -> None:
    signature = sign(BASE_URL + "/sms", {"Body": "hello"})
    response = client.post(
        "/sms", data={"Body": "tampered"}, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


def test_signature_is_checked_on_the_url_twilio_used_behind_a_proxy(make_app) -> None:  # type: ignore[no-untyped-def]
    client = make_app(PROXY_HOPS=1).test_client()
    params = {"Body": "hello"}
    public = "https://line.example.org/sms"
    headers = {
        "X-Twilio-Signature": sign(public, params),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "line.example.org",
        "X-Forwarded-For": "203.0.113.5",
    }
    assert client.post("/sms", data=params, headers=headers).status_code == 200
    headers["X-Twilio-Signature"] = sign(BASE_URL + "/sms", params)
    assert client.post("/sms", data=params, headers=headers).status_code == 403


def test_testing_mode_never_turns_signature_checks_off(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    assert app.config["TESTING"] and app.config["VALIDATE_SIGNATURES"]
    assert app.test_client().post("/sms", data={"Body": "hi"}).status_code == 403


def test_fallback_and_status_routes_check_signatures(client: FlaskClient) -> None:
    for path in ("/sms/fallback", "/sms/status"):
        assert client.post(path, data={"Body": "hi"}).status_code == 403


# --- The menus, in both languages -----------------------------------------------------------


def test_first_message_gets_discreet_main_menu_in_english(app: Flask, texter: Texter) -> None:
    reply = texter.send("hello there")
    w = words(app, "en")
    assert reply.startswith(w.t("program.name"))
    for key in ("option.talk", "option.local", "option.tips", "option.emergency"):
        assert w.t(key) in reply
    assert "ES" in reply  # the way to Spanish is on the first reply
    assert sensitive_hits(reply, SENSITIVE) == []


@pytest.mark.parametrize("greeting", ["HOLA", "hola", "Salud", "  buenos   días  ", "¡Hola!"])
def test_spanish_greeting_starts_in_spanish(app: Flask, texter: Texter, greeting: str) -> None:
    reply = texter.send(greeting)
    w = words(app, "es")
    assert reply.startswith(w.t("program.name"))
    assert w.t("option.talk") in reply
    assert sensitive_hits(reply, SENSITIVE) == []


def test_any_first_message_gets_the_main_menu_even_a_digit(app: Flask, texter: Texter) -> None:
    reply = texter.send("3")
    assert words(app, "en").t("menu.main") in reply


# (path of choices after the first message, catalog key or text expected in the reply)
PATHS = [
    (["1"], "connect.talk"),
    (["1", "1"], "list.lines"),
    (["2"], "menu.needs"),
    (["2", "1"], "list.legal"),
    (["2", "2"], "list.housing"),
    (["2", "3"], "list.mental_health"),
    (["2", "4"], "list.substance_use"),
    (["2", "5"], "list.medical"),
    (["2", "6"], "list.basic_needs"),
    (["2", "7"], "list.youth"),
    (["3"], "info.tips"),
    (["4"], "connect.emergency"),
    (["2", "0"], "menu.main"),
    (["2", "8"], "connect.talk"),
    (["3", "MENU"], "menu.main"),
]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("choices", "key"), PATHS)
def test_every_menu_path(
    app: Flask, client: FlaskClient, lang: str, choices: list[str], key: str
) -> None:
    texter = Texter(client)
    texter.send("hello" if lang == "en" else "hola")
    for choice in choices[:-1]:
        texter.send(choice)
    reply = texter.send(choices[-1])
    w = words(app, lang)
    assert w.t(key) in reply
    if key != "menu.main":
        footer = reply.splitlines()[-1]
        assert footer.startswith(f"8 {w.t('nav.talk')}") or key == "connect.talk"
        assert footer.endswith(f"0 {w.t('nav.home')}")
        # Back one level below the main menu's own choices, and never to the main menu.
        assert (f"9 {w.t('nav.back')}" in footer) == (
            len(choices) > 1 and choices[-1] not in {"0", "8", "MENU"}
        )


@pytest.mark.parametrize("lang", ["en", "es"])
def test_talk_now_gives_the_checked_hotline_in_one_step(client: FlaskClient, lang: str) -> None:
    texter = Texter(client)
    texter.send("hello" if lang == "en" else "hola")
    reply = texter.send("1")
    assert HOTLINE in reply
    # The short code is flagged for re-verification in the reference: withheld until confirmed.
    assert "233733" not in reply


def test_a_confirmed_short_code_is_offered_again(make_app) -> None:  # type: ignore[no-untyped-def]
    texter = Texter(make_app(CONFIRMED_LINES="nhth@2026-12-07").test_client())
    texter.send("hello")
    assert "233733" in texter.send("1")


def test_a_confirmation_older_than_the_check_does_not_count(make_app) -> None:  # type: ignore[no-untyped-def]
    texter = Texter(make_app(CONFIRMED_LINES="nhth@2026-12-06").test_client())
    texter.send("hello")
    assert "233733" not in texter.send("1")


@pytest.mark.parametrize(
    ("lang", "official", "discreet"),
    [
        ("en", "National Human Trafficking Hotline", "Confidential 24/7 help line"),
        ("es", "Línea Nacional contra la Trata de Personas", "Línea de ayuda confidencial 24/7"),
    ],
)
def test_lists_use_discreet_labels_and_detail_gives_official_name(
    client: FlaskClient, lang: str, official: str, discreet: str
) -> None:
    texter = Texter(client)
    texter.send("hello" if lang == "en" else "hola")
    texter.send("1")
    listing = texter.send("1")
    assert discreet in listing and official not in listing
    detail = texter.send("1")
    assert official in detail
    assert HOTLINE in detail and "711" in detail and "233733" not in detail


def test_list_of_a_category_without_local_services_still_offers_help(
    app: Flask, texter: Texter
) -> None:
    texter.send("hello")
    texter.send("2")
    reply = texter.send("1")  # legal: no national legal line, so the fallback lines show
    assert "Confidential 24/7 help line" in reply
    assert "Community services line" in reply


def test_every_menu_reaches_the_hotline_in_one_step(app: Flask, client: FlaskClient) -> None:
    flow = app.extensions["hotline_bridge"].flow
    for node in flow.nodes.values():
        if node.type != "menu" or node.id == flow.start:
            continue
        texter = Texter(client)
        texter.send("hello")
        texter.send("2")  # the needs menu
        assert HOTLINE in texter.send(flow.talk_key)


# --- Language switching, keywords and unknown input -------------------------------------------


@pytest.mark.parametrize("switch", ["ES", "es", "Español", "ESPANOL", " e s "])
def test_switch_to_spanish_keeps_the_place(app: Flask, texter: Texter, switch: str) -> None:
    texter.send("hello")
    texter.send("2")
    reply = texter.send(switch)
    assert words(app, "es").t("menu.needs") in reply
    assert words(app, "es").t("list.legal") in texter.send("1")


@pytest.mark.parametrize("switch", ["EN", "english", "Inglés"])
def test_switch_to_english_at_any_time(app: Flask, texter: Texter, switch: str) -> None:
    texter.send("hola")
    texter.send("3")
    reply = texter.send(switch)
    assert words(app, "en").t("info.tips") in reply


@pytest.mark.parametrize(
    ("home", "lang"), [("0", "en"), ("MENU", "en"), ("Menú", "es"), ("menu", "es")]
)
def test_home_from_anywhere(app: Flask, client: FlaskClient, home: str, lang: str) -> None:
    texter = Texter(client)
    texter.send("hello" if lang == "en" else "hola")
    texter.send("2")
    texter.send("1")
    reply = texter.send(home)
    assert words(app, lang).t("menu.main") in reply


@pytest.mark.parametrize("lang", ["en", "es"])
def test_unknown_input_gets_one_short_line_and_the_menu_again(
    app: Flask, client: FlaskClient, lang: str
) -> None:
    texter = Texter(client)
    texter.send("hello" if lang == "en" else "hola")
    texter.send("2")
    reply = texter.send("xq zzv")
    w = words(app, lang)
    assert reply.startswith(w.t("notice.unknown"))
    assert w.t("option.legal") in reply
    assert w.t("list.legal") in texter.send("1")  # still on the same menu


def test_lists_page_with_the_more_key(app: Flask, texter: Texter) -> None:
    from hotline_bridge.directory.store import open_db, write_services

    with open_db(app) as db:
        write_services(
            db,
            [
                {
                    "id": f"extra{i}",
                    "category": "talk_now",
                    "label_en": f"Extra line {i}",
                    "label_es": f"Línea extra {i}",
                    "name_en": f"Extra {i}",
                    "name_es": f"Extra {i}",
                    "phone": "+15550100100",
                    "national": 1,
                    "sort_order": 100 + i,
                }
                for i in range(3)
            ],
        )
    texter.send("hello")
    texter.send("1")
    first = texter.send("1")
    assert "7 More" in first and "Extra line 2" not in first
    second = texter.send("7")
    assert "Extra line 2" in second
    assert "Extra" in texter.send("3")


# --- HELP, STOP, START --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "lang"),
    [("HELP", "en"), ("help", "en"), ("INFO", "en"), ("AYUDA", "es"), ("Información", "es")],
)
def test_help_names_program_hotline_911_and_opt_out(
    app: Flask, texter: Texter, keyword: str, lang: str
) -> None:
    reply = texter.send(keyword)
    assert words(app, lang).t("program.name") in reply
    opt_out = "STOP" if lang == "en" else "PARAR"
    assert HOTLINE in reply and "911" in reply and opt_out in reply
    assert sensitive_hits(reply, SENSITIVE) == []


@pytest.mark.parametrize(
    "stop", ["STOP", "stop", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR", "ALTO"]
)
def test_stop_confirms_once_then_stays_silent_until_start(texter: Texter, stop: str) -> None:
    confirmation = texter.send(stop)
    again = "INICIAR" if stop in {"PARAR", "ALTO"} else "START"
    assert again in confirmation and HOTLINE in confirmation
    assert texter.send("hello") == ""
    assert texter.send("2") == ""
    assert HOTLINE in texter.send("HELP")  # HELP is always answered
    resumed = texter.send("START")
    assert "1 " in resumed and texter.send("2") != ""


@pytest.mark.parametrize("start", ["START", "UNSTOP", "INICIAR"])
def test_start_family_resumes(texter: Texter, start: str) -> None:
    texter.send("STOP")
    assert texter.send(start) != ""


def test_spanish_stop_is_confirmed_in_spanish(texter: Texter) -> None:
    assert "No recibirá más mensajes" in texter.send("PARAR")


@pytest.mark.parametrize("keyword", ["STOP", "START", "HELP"])
def test_silent_when_twilio_answers_opt_outs(make_app, keyword: str) -> None:  # type: ignore[no-untyped-def]
    texter = Texter(make_app(SMS_OPT_OUT_BY_TWILIO=True).test_client())
    assert texter.send(keyword) == ""


def test_twilio_advanced_opt_out_field_means_silence(make_app) -> None:  # type: ignore[no-untyped-def]
    client = make_app(SMS_OPT_OUT_BY_TWILIO=True).test_client()
    response = signed_post(client, "/sms", {"Body": "ayuda", "OptOutType": "HELP"})
    assert twiml(response).find("Message") is None


# --- Conversation lifetime ----------------------------------------------------------------


@pytest.mark.parametrize(("minutes_later", "expired"), [(14, False), (16, True)])
def test_conversation_expires_after_fifteen_minutes(
    app: Flask,
    texter: Texter,
    frozen_clock: time_machine.Traveller,
    minutes_later: int,
    expired: bool,
) -> None:
    texter.send("hola")
    texter.send("2")
    frozen_clock.shift(dt.timedelta(minutes=minutes_later))
    reply = texter.send("1")
    if expired:  # a new conversation: main menu, in the site's default language
        assert words(app, "en").t("menu.main") in reply
    else:
        assert words(app, "es").t("list.legal") in reply


def test_session_cookie_has_the_configured_lifetime(client: FlaskClient) -> None:
    response = signed_post(client, "/sms", {"Body": "hello"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Expires=" in cookie


# --- Bad input ------------------------------------------------------------------------------

BAD_BODIES = [
    "",
    "😀" * 1600,
    "\x00\x01\x02\x1b[31m\x7f",
    "<Response><Say>hi</Say></Response> & <script>alert(1)</script>",
    "' OR 1=1; DROP TABLE services; --",
    "%s %(x)s {0} {name}",
    "1" * 5000,
    "\u202e\u200b\ufeff",
]


@pytest.mark.parametrize("body", BAD_BODIES)
@pytest.mark.parametrize("midway", [False, True])
def test_bad_bodies_get_valid_twiml_with_a_way_to_help(
    app: Flask, client: FlaskClient, body: str, midway: bool
) -> None:
    texter = Texter(client)
    if midway:
        texter.send("hello")
        texter.send("2")
    reply = texter.send(body)
    assert "Talk" in reply or HOTLINE in reply  # a way to the 24/7 line is in the reply


def test_missing_fields_still_get_the_menu(client: FlaskClient) -> None:
    response = signed_post(client, "/sms", {})
    assert response.status_code == 200
    assert "Talk to someone now" in (twiml(response).findtext("Message") or "")


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"\xff\xfe\xfd not utf-8 \x80", "application/octet-stream"),
        (b'{"Body": "json"}', "application/json"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"", "text/plain"),
    ],
)
def test_unparseable_bodies_get_valid_twiml(
    client: FlaskClient, raw: bytes, content_type: str
) -> None:
    signature = sign(BASE_URL + "/sms", {})  # no form fields to sign
    response = client.post(
        "/sms", data=raw, headers={"X-Twilio-Signature": signature}, content_type=content_type
    )
    assert response.status_code == 200
    assert twiml(response).findtext("Message")


# --- Fail safe --------------------------------------------------------------------------------


def _corrupt(app: Flask) -> None:
    path = app.config["DATABASE"]
    with open(path, "wb") as handle:
        handle.write(b"this is not a database " * 512)


@pytest.mark.parametrize(
    ("greeting", "expected"),
    [
        ("hello", "Sorry, we hit a problem"),
        ("hola", "Tuvimos un problema"),
    ],
)
def test_corrupted_database_fails_safe_in_the_persons_language(
    app: Flask, client: FlaskClient, greeting: str, expected: str
) -> None:
    texter = Texter(client)
    texter.send(greeting)
    _corrupt(app)
    reply = texter.send("1")
    assert expected in reply and HOTLINE in reply and "911" in reply


def test_missing_database_fails_safe_in_both_languages(app: Flask, client: FlaskClient) -> None:
    import os

    os.remove(app.config["DATABASE"])
    response = signed_post(client, "/sms", {"Body": "hello"})
    assert response.status_code == 200
    text = twiml(response).findtext("Message") or ""
    assert "Sorry, we hit a problem" in text and "Tuvimos un problema" in text
    assert HOTLINE in text and not os.path.exists(app.config["DATABASE"])


def test_a_bug_in_the_reply_fails_safe(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_bridge.channels.sms import messaging

    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(messaging, "answer", broken)
    response = signed_post(client, "/sms", {"Body": "hello"})
    assert response.status_code == 200 and HOTLINE in response.get_data(as_text=True)


def test_fallback_route_answers_without_the_database(app: Flask, client: FlaskClient) -> None:
    import os

    os.remove(app.config["DATABASE"])
    response = signed_post(client, "/sms/fallback", {"Body": "hello"})
    assert response.status_code == 200
    text = twiml(response).findtext("Message") or ""
    assert HOTLINE in text and "911" in text


def test_fail_safe_wording_fits_the_budget_in_both_languages(app: Flask) -> None:
    from hotline_bridge.channels.sms.segments import cost

    assert cost(app.extensions["hotline_bridge"].failsafe.text(None)).segments <= 3


# --- Status callbacks and Twilio's copies ---------------------------------------------------


def test_status_callback_counts_only_aggregates(app: Flask, client: FlaskClient) -> None:
    from hotline_bridge.counters import totals
    from hotline_bridge.directory.store import open_db

    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "To": "+15558675309"}
    assert signed_post(client, "/sms/status", params).status_code == 200
    with open_db(app) as db:
        rows = totals(db)
    assert any(r["event"] == "status:delivered" for r in rows)
    assert "5558675309" not in repr(rows)


def test_twilio_copies_are_deleted_when_asked(make_app) -> None:  # type: ignore[no-untyped-def]
    import responses

    sid, account = "SM" + "a" * 32, "AC" + "b" * 32
    app = make_app(DELETE_TWILIO_RECORDS=True, TWILIO_ACCOUNT_SID=account)
    url = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/{sid}.json"
    with responses.RequestsMock() as mock:
        mock.add(responses.DELETE, url, status=204)
        response = signed_post(
            app.test_client(), "/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"}
        )
        response.close()
        assert len(mock.calls) == 0  # just delivered: Twilio asks to wait at least a minute
        assert run_later(app) == 1
        assert len(mock.calls) == 1


@pytest.mark.parametrize("deleting", [True, False])
def test_each_reply_reports_its_status_where_replies_are_deleted(
    make_app,  # type: ignore[no-untyped-def]
    deleting: bool,
) -> None:
    """A number with no Messaging Service reports a reply's status only to the reply's own
    callback: without it, DELETE_TWILIO_RECORDS would never hear of a reply to delete."""
    app = make_app(DELETE_TWILIO_RECORDS=deleting, TWILIO_ACCOUNT_SID="AC" + "b" * 32)
    client = app.test_client()
    for number, body in enumerate(("hello", "1", "0", "1")):  # the last answer is a kept one
        params = {"Body": body, "From": "+15558675309", "MessageSid": f"SM{number:032d}"}
        message = twiml(signed_post(client, "/sms", params)).find("Message")
        assert message is not None
        expected = BASE_URL + "/sms/status" if deleting else None
        assert message.get("action") == expected


def test_twilio_copies_are_kept_by_default(app: Flask, client: FlaskClient) -> None:
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        signed_post(client, "/sms/status", {"MessageSid": "SM1", "MessageStatus": "delivered"})
        assert len(mock.calls) == 0


def test_auth_token_is_what_signs(app: Flask) -> None:
    assert app.config["TWILIO_AUTH_TOKEN"] == AUTH_TOKEN


def test_services_with_the_same_label_are_told_apart(app: Flask, texter: Texter) -> None:
    from hotline_bridge.directory.store import open_db, write_services

    with open_db(app) as db:
        write_services(
            db,
            [
                {
                    "id": f"legal{i}",
                    "category": "legal",
                    "label_en": "Legal help",
                    "label_es": "Ayuda legal",
                    "name_en": f"Clinic {i}",
                    "name_es": f"Clínica {i}",
                    "city": city,
                    "phone": "+16175550101",
                    "national": 1,
                    "sort_order": 100 + i,
                }
                for i, city in enumerate(["Cambridge", "Boston", "Boston"])
            ],
        )
    texter.send("hello")
    texter.send("2")
    reply = texter.send("1")
    assert "1 Legal help, Cambridge" in reply
    assert "2 Legal help, Boston 2" in reply and "3 Legal help, Boston 3" in reply


@pytest.mark.parametrize(
    "url",
    [
        "https://line.example.org/sms",
        "https://line.example.org:443/sms",
        "http://localhost:5000/voice/menu?n=main&l=es",
        "http://localhost/sms",
    ],
)
@pytest.mark.parametrize("signed_as", ["same", "other port form", "wrong"])
def test_signature_check_agrees_with_the_twilio_library(url: str, signed_as: str) -> None:
    from urllib.parse import urlparse

    from twilio.request_validator import RequestValidator, add_port, remove_port

    from hotline_bridge.webhooks import Signatures, _valid

    validator = RequestValidator(AUTH_TOKEN)
    params = {"Body": "hola", "From": "+15550100000"}
    parsed = urlparse(url)
    signed_url = {
        "same": url,
        "wrong": url + "x",
        "other port form": remove_port(parsed) if parsed.port else add_port(parsed),
    }
    signature = validator.compute_signature(signed_url[signed_as], params)
    expected = validator.validate(url, params, signature)
    pairs = list(params.items())
    assert _valid(Signatures(AUTH_TOKEN), url, pairs, signature, "HMAC_SHA1") is expected
    assert expected is (signed_as != "wrong")


def test_a_sites_keyword_chooses_the_site_on_a_shared_number(app: Flask, texter: Texter) -> None:
    from hotline_bridge.directory.store import open_db, write_sites

    with open_db(app) as db:
        write_sites(
            db,
            [
                {
                    "id": "north",
                    "name_en": "North Clinic Line",
                    "name_es": "Línea Clínica Norte",
                    "default_language": "es",
                    "numbers": "[]",
                    "keywords": '["NORTE"]',
                },
                {
                    "id": "south",
                    "name_en": "South Clinic Line",
                    "name_es": "Línea Clínica Sur",
                    "default_language": "en",
                    "numbers": "[]",
                    "keywords": '["Bienestar Sur"]',
                },
            ],
        )
    assert texter.send("norte").startswith("Línea Clínica Norte")
    texter.send("3")
    assert texter.send("0").startswith("Línea Clínica Norte")  # the site stays with the talk
    assert texter.send("bienestar sur").startswith("Línea Clínica Sur")
    assert words(app, "en").t("menu.main") in texter.send("EN")


def test_without_a_keyword_the_number_texted_chooses_the_site(app: Flask, texter: Texter) -> None:
    from hotline_bridge.directory.store import open_db, write_sites

    with open_db(app) as db:
        write_sites(
            db,
            [
                {
                    "id": "north",
                    "name_en": "North Clinic Line",
                    "default_language": "en",
                    "numbers": "[]",
                    "keywords": '["NORTE"]',
                }
            ],
        )
    assert texter.send("hello").startswith(words(app, "en").t("program.name"))
