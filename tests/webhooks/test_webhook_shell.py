"""The parts every text message goes through before and after the engine: the form, the
signature, the conversation cookie and the answers kept for repeated choices."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from typing import Any

import pytest
import time_machine
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import BadSignature, SignatureExpired
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from hotline_bridge.channels.sms import messaging, replies
from hotline_bridge.channels.sms.sessions import ConversationSigner
from hotline_bridge.directory.store import get_db
from hotline_bridge.engine.conversation import State
from hotline_bridge.engine.keywords import Keywords
from hotline_bridge.webhooks import Signatures, WebhookRequest, parse_urlencoded
from tests.conftest import AUTH_TOKEN, BASE_URL, SECRET_KEY, Texter

# Bytes a form body may hold: what Twilio sends and what it never would.
_FORM_BYTES = st.one_of(
    st.binary(max_size=200),
    st.text(alphabet="ab=&+%2Fé€😀 \x00", max_size=60).map(str.encode),
    st.text(alphabet="%0123456789abcdefCEFz=&+", max_size=60).map(str.encode),  # escapes
    st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=6).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode()
    ),
)


def _environ(body: bytes) -> dict[str, object]:
    return EnvironBuilder(
        method="POST",
        input_stream=io.BytesIO(body),
        content_length=len(body),
        content_type="application/x-www-form-urlencoded",
    ).get_environ()


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_FORM_BYTES)
def test_forms_read_exactly_as_werkzeug_reads_them(body: bytes) -> None:
    ours, theirs = WebhookRequest(_environ(body)), Request(_environ(body))
    assert ours.fields == theirs.form.to_dict()
    assert _grouped(ours.pairs) == dict(theirs.form.lists())  # every value, in order
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert ours.get_data() == body  # the raw body stays readable
    again = WebhookRequest(_environ(body))  # the form first, then the webhook's reading
    assert list(again.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert _grouped(again.pairs) == _grouped(ours.pairs) and again.fields == ours.fields


def test_a_body_that_is_not_utf8_is_an_empty_form_as_in_werkzeug() -> None:
    with pytest.raises(ValueError):
        parse_urlencoded(b"Body=\xff")
    assert not WebhookRequest(_environ(b"Body=\xff")).form


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["Body", "To", "A", "é"]), st.text(max_size=10))),
    st.sampled_from([BASE_URL + "/sms", BASE_URL + ":443/sms?x=%7B1%7D", "http://h/é"]),
    st.sampled_from([None, "HMAC_SHA1", "hmac_sha256"]),
)
def test_signatures_are_the_twilio_librarys(
    pairs: list[tuple[str, str]], url: str, algorithm: str | None
) -> None:
    """Every value of a repeated field counts, as the twilio library computes it on a
    werkzeug form, under either algorithm; a signature made that way matches, one value
    changed does not."""
    body = "&".join(f"{k}={v}" for k, v in pairs).encode()
    form = Request(_environ(body)).form
    ours = WebhookRequest(_environ(body))
    theirs = RequestValidator(AUTH_TOKEN).compute_signature(url, form, algorithm)
    signatures = Signatures(AUTH_TOKEN)
    assert signatures.compute(url, ours.pairs, algorithm) == theirs
    assert signatures.matches(theirs, url, ours.pairs, algorithm)
    assert not signatures.matches(theirs, url + "x", ours.pairs, algorithm)
    assert not signatures.matches(theirs[:-2] + "é=", url, ours.pairs, algorithm)


def test_an_algorithm_the_twilio_library_refuses_is_refused() -> None:
    with pytest.raises(ValueError):
        RequestValidator(AUTH_TOKEN).compute_signature(BASE_URL, {}, "HMAC_MD5")
    with pytest.raises(ValueError):
        Signatures(AUTH_TOKEN).compute(BASE_URL, [], "HMAC_MD5")


# --- The conversation cookie -------------------------------------------------------------


def test_the_conversation_cookie_reads_back_only_as_signed() -> None:
    signer, now = ConversationSigner(SECRET_KEY), 1_800_000_000
    value = signer.dumps({"l": "es", "p": "main", "x": 0}, now=now)
    assert signer.loads(value, max_age=900, now=now + 899) == {"l": "es", "p": "main", "x": 0}
    with pytest.raises(SignatureExpired):
        signer.loads(value, max_age=900, now=now + 901)
    with pytest.raises(BadSignature):
        ConversationSigner("another key").loads(value, now=now)
    payload, stamp, signature = value.split(".")
    for forged in (
        f"{payload}.{int(stamp, 16) + 600:x}.{signature}",  # made younger
        f"{payload[:-2]}x.{stamp}.{signature}",
        f"{payload}.{stamp}.{signature[:-1]}",
        "", "..", "é.é.é", value + "é",
    ):  # fmt: skip
        with pytest.raises(BadSignature):
            signer.loads(forged, now=now)


def test_a_forged_cookie_starts_a_new_conversation(app: Flask, texter: Texter) -> None:
    texter.send("hola")
    cookie = texter.client.get_cookie("s")
    assert cookie is not None
    texter.client.set_cookie("s", cookie.value[:-3] + "abc", domain="localhost")
    main_menu = app.extensions["hotline_bridge"].catalogs.bind("en").t("menu.main")
    assert main_menu in texter.send("hello")


_COOKIE_SETTINGS = st.fixed_dictionaries(
    {
        "path": st.sampled_from(["/", "/line"]),
        "domain": st.sampled_from([None, "line.example.org", ".Example.org:8443"]),
        "secure": st.booleans(),
        "httponly": st.booleans(),
        "samesite": st.sampled_from([None, "Lax", "strict", "None"]),
        "partitioned": st.booleans(),
    }
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    _COOKIE_SETTINGS,
    st.dictionaries(st.sampled_from("lpxs"), st.text(max_size=12) | st.integers()),
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    ),
)
def test_the_cookie_header_is_the_one_werkzeug_writes(
    attributes: dict[str, Any], state: dict[str, Any], expires: dt.datetime
) -> None:
    from werkzeug.http import dump_cookie

    from hotline_bridge.channels.sms.sessions import CookieTemplate

    value = ConversationSigner(SECRET_KEY).dumps(state)
    template = CookieTemplate("s", **attributes)
    for _ in range(2):  # the second time from the date kept for this second
        assert template.cookie(value, expires) == dump_cookie(
            "s", value, expires=expires, **attributes
        )


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the app is only read
)
@given(
    st.one_of(
        st.text(alphabet='s=aZ09._-"; ,\\é\x00', max_size=40),
        st.text(alphabet="aZ09._-", max_size=30).map(lambda v: "s=" + v),
        st.text(alphabet="aZ09._-", max_size=30).map(lambda v: f"s={v}; t=1"),
    )
)
def test_the_conversation_cookie_is_found_as_werkzeug_finds_it(app: Flask, header: str) -> None:
    from hotline_bridge.channels.sms.sessions import conversation_cookie

    cookie = conversation_cookie(app)
    request = Request(EnvironBuilder(headers={"Cookie": header}).get_environ())
    assert cookie.value(request) == request.cookies.get("s")


def test_no_request_outside_the_console_may_write_a_flask_session(app: Flask) -> None:
    from flask import session

    with app.test_request_context("/kiosk"), pytest.raises(RuntimeError, match="console"):
        session["l"] = "en"


def test_a_reply_sets_the_cookie_once_and_varies_on_it(app: Flask) -> None:
    from tests.conftest import CLINIC_NUMBER, SENDER, signed_post

    fields = {"Body": "hola", "From": SENDER, "To": CLINIC_NUMBER, "MessageSid": "SM" + "7" * 32}
    response = signed_post(app.test_client(), "/sms", fields)
    assert response.headers["Set-Cookie"].startswith("s=")
    assert len(response.headers.getlist("Set-Cookie")) == 1
    assert response.headers.getlist("Vary") == ["Cookie"]


# --- Answers kept for repeated choices ---------------------------------------------------


@pytest.fixture
def keywords(app: Flask) -> Keywords:
    return app.extensions["hotline_bridge"].keywords  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "body", ["1", "0", "12", "MENU", "menú", "ES", "hola", "HELP", "  2 "], ids=repr
)
def test_a_choice_or_keyword_is_kept(keywords: Keywords, body: str) -> None:
    assert replies.key(keywords, "sms", "+1555", State("en", "main"), body, 0) is not None


@pytest.mark.parametrize(
    "body",
    ["123", "60614", "6061", "my boss has my passport", "Maria", "1 2", "٣", "x" * 40],
    ids=repr,
)
def test_free_text_and_zip_codes_are_never_kept(keywords: Keywords, body: str) -> None:
    assert replies.key(keywords, "sms", "+1555", State("en", "main"), body, 0) is None


def test_a_place_holding_a_zip_code_is_never_kept(keywords: Keywords) -> None:
    near = State("en", "near:60614@0~main")
    assert replies.key(keywords, "sms", "+1555", near, "1", 0) is None


# A line the legal list offers when no local legal help is near (the demo has none).
LISTED = "community211"


def _retire(app: Flask, service_id: str) -> None:
    with sqlite3.connect(app.config["DATABASE"]) as conn:
        conn.execute("update services set status = 'retired' where id = ?", (service_id,))


@pytest.fixture
def quiet_app(make_app: Any) -> Flask:
    """An app whose counts wait in memory, so that nothing but the test writes the database."""
    return make_app(COUNTS_FLUSH_SECONDS=3600)


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The messages the engine was asked to answer (a kept answer does not ask it)."""
    asked: list[str] = []
    real = messaging.answer

    def spy(conversation: Any, state: State, body: str) -> Any:
        asked.append(body)
        return real(conversation, state, body)

    monkeypatch.setattr(messaging, "answer", spy)
    return asked


def _legal_list(app: Flask, sender: str) -> str:
    texter = Texter(app.test_client(), sender=sender)
    texter.send("hello")
    texter.send("2")  # find help
    return texter.send("1")  # legal or immigration help


def test_a_repeated_choice_is_answered_from_what_was_kept(
    quiet_app: Flask, answered: list[str]
) -> None:
    before = _legal_list(quiet_app, "+15558670001")
    assert answered == ["hello", "2", "1"]
    assert _legal_list(quiet_app, "+15558670002") == before
    assert answered == ["hello", "2", "1"]  # the engine was not asked again


def test_a_kept_answer_is_dropped_when_the_directory_changes(
    quiet_app: Flask, answered: list[str]
) -> None:
    before = _legal_list(quiet_app, "+15558670001")
    _retire(quiet_app, LISTED)  # written by another connection (an import)
    after = _legal_list(quiet_app, "+15558670003")
    assert after != before and len(answered) == 6


def test_a_change_reaches_kept_answers_within_the_check_interval(quiet_app: Flask) -> None:
    """With CHANGE_CHECK_MS set, a thread looks at the database's version at most that often:
    a commit by another connection empties its answers at the first look after it."""
    kept = replies.Replies(check_seconds=0.05)
    with quiet_app.app_context():
        db = get_db()
        store = kept.kept(db, now=100.0)
        store.keep(("k",), replies.Reply(State("en", "main"), "en", "menu", "<Response/>"))
        _retire(quiet_app, LISTED)  # another connection commits
        assert ("k",) in kept.kept(db, now=100.03)  # not looked at yet: still kept
        assert ("k",) not in kept.kept(db, now=100.08)  # looked at: the change empties it
        kept.kept(db, now=100.09).keep(("k",), store[("k",)])
        db.execute("update services set status = 'active' where id = ?", [LISTED])  # own write
        db.conn.commit()
        assert ("k",) not in kept.kept(db, now=100.1)  # emptied at once, not at the next look


def test_a_replaced_database_is_reopened_within_the_check_interval(tmp_path: Any) -> None:
    from hotline_bridge.directory.store import Connections

    path = tmp_path / "line.db"
    sqlite3.connect(path).close()
    connections = Connections(path, check_seconds=0.05)
    first = connections.get(now=10.0)
    path.rename(tmp_path / "old.db")
    sqlite3.connect(path).close()  # a restore puts a new file in its place
    assert connections.get(now=10.03) is first  # not looked at yet
    assert connections.get(now=10.08) is not first  # looked at: reopened on the new file
    path.unlink()
    with pytest.raises(FileNotFoundError):  # gone: the request fails safe
        connections.get(now=10.2)


def test_a_kept_answer_is_dropped_when_this_worker_writes(quiet_app: Flask) -> None:
    app = quiet_app
    before = _legal_list(app, "+15558670001")
    with app.test_request_context():  # the same thread's connection, as a console edit uses
        get_db().execute("update services set status = 'retired' where id = ?", [LISTED])
        get_db().conn.commit()
    assert _legal_list(app, "+15558670002") != before


def test_answers_are_judged_each_minute(
    app: Flask, frozen_clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dt.datetime] = []
    real = replies.key

    def spy(*args: object) -> object:
        seen.append(args[-1])  # type: ignore[arg-type]
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(replies, "key", spy)
    _legal_list(app, "+15558670001")
    frozen_clock.shift(dt.timedelta(minutes=1))
    _legal_list(app, "+15558670002")
    assert len({minute for minute in seen}) == 2
    assert all(m.second == 0 and m.microsecond == 0 for m in seen)


def test_nothing_a_person_wrote_is_kept(app: Flask) -> None:
    texter = Texter(app.test_client(), sender="+15558670001")
    for body in ("hello", "my boss keeps my passport", "60614", "2", "1"):
        texter.send(body)
    kept = app.extensions["hotline_bridge.replies"]._local.kept
    written = {part for at in kept for part in at if isinstance(part, str)}
    assert not written & {"my boss keeps my passport", "60614", "+15558670001"}
