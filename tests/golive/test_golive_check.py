"""The whole check before going live (``ops.golive.check``), which ``twilio check`` prints and
the console's Going live page shows: the webhooks and fallbacks compared with the line's
address, what Twilio keeps of people (call transcripts read from the API; Message Redaction
and Advanced Opt-Out confirmed by hand), each said in English and Spanish. Twilio's REST API is
mocked at the HTTP edge with ``responses``."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from hotline_bridge import create_app
from hotline_bridge.cli import main
from hotline_bridge.engine.catalogs import Catalogs
from hotline_bridge.ops import golive
from hotline_bridge.ops.findings import Finding
from hotline_bridge.ops.twilio import TwilioSetupError
from hotline_bridge.settings import PROJECT_ROOT
from tests.ops.test_twilio_connect import (
    ACCOUNT,
    BASE,
    DATE,
    INTELLIGENCE,
    NUMBER,
    NUMBER_SID,
    SERVICE_MG,
    FakeTwilio,
    error,
    run,
)

CATALOGS = Catalogs(PROJECT_ROOT / "locales")
OLD = "https://old-host.example.org"


@pytest.fixture
def app(account: FakeTwilio) -> Flask:
    """The demo line, its settings from the fake account's environment (PUBLIC_URL is BASE)."""
    return create_app({"TESTING": True, "COUNTS_FLUSH_SECONDS": 0})


@pytest.fixture
def wired(account: FakeTwilio) -> FakeTwilio:
    """The account once ``twilio connect`` has wired it."""
    result = run("connect")
    assert result.exit_code == 0, result.output
    return account


def checked(
    app: Flask, numbers: tuple[str, ...] = (NUMBER,), base: str | None = BASE
) -> golive.Report:
    with app.app_context():
        client = golive.client(app)
        assert client is not None
        return golive.check(app, client, numbers, base)


def both(finding: Finding) -> tuple[str, str]:
    return finding.said(CATALOGS, "en"), finding.said(CATALOGS, "es")


def one(found: list[Finding], key: str) -> Finding:
    chosen = [f for f in found if f.key == key]
    assert len(chosen) == 1, [f.key for f in found]
    return chosen[0]


def intelligence(**more: Any) -> dict[str, Any]:
    """A Conversational Intelligence service as Twilio's API answers it."""
    sid = "GA" + "8" * 32
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "unique_name": "call-notes",
        "friendly_name": "Call notes",
        "auto_redaction": False,
        "media_redaction": False,
        "auto_transcribe": True,
        "data_logging": False,
        "language_code": "en-US",
        "webhook_url": None,
        "webhook_http_method": None,
        "read_only_attached_operator_sids": [],
        "encryption_credential_sid": None,
        "version": 1,
        "date_created": DATE,
        "date_updated": DATE,
        "url": f"{INTELLIGENCE}/{sid}",
        **more,
    }


# --- Webhooks and fallbacks, compared with the line's address -----------------------------------


def test_a_wired_account_passes_with_its_steps_by_hand(app: Flask, wired: FakeTwilio) -> None:
    report = checked(app)
    assert not report.failed, [f.key for f in report.differences + report.problems]
    assert {f.key for f in report.of("manual")} >= {"redaction.messages", "optout.intro"}


def test_no_fallback_on_twilio(app: Flask, account: FakeTwilio) -> None:
    en, es = both(one(checked(app).differences, "wiring.fallback_missing"))
    assert en == (
        "The static fallback, which answers with the 24/7 line and 911 when this server is "
        "down, is not on Twilio (no Serverless service 'hotline-bridge-fallback' deployed); "
        "run 'hotline-bridge twilio connect'."
    )
    assert es.startswith("El respaldo fijo, que responde con la línea 24/7 y el 911")
    assert "no está en Twilio" in es and es.endswith("ejecute 'hotline-bridge twilio connect'.")


def test_a_fallback_out_of_date(app: Flask, wired: FakeTwilio) -> None:
    wired.hosted["/fallback/voice.xml"] = "<Response><Say>old</Say></Response>"
    en, es = both(one(checked(app).differences, "wiring.fallback_stale"))
    assert "differs from this line's (voice), so people would get old words" in en
    assert "no es el de esta línea (voice), así que las personas recibirían palabras viejas" in es


def test_a_number_pointed_elsewhere_names_each_field(app: Flask, wired: FakeTwilio) -> None:
    wired.number.update(voice_url=f"{OLD}/voice", sms_method="GET")
    report = checked(app)
    en, es = both(one(report.differences, "wiring.number"))
    fields = f"sms_method: GET -> POST; voice_url: {OLD}/voice -> {BASE}/voice"
    assert en == (
        f"{NUMBER}: {fields}. Twilio does not send this number's messages and calls to this "
        "line, or to its fallback, as it should; run 'hotline-bridge twilio connect'."
    )
    assert es.startswith(f"{NUMBER}: {fields}. Twilio no envía los mensajes y llamadas")
    # Why GET is wrong is said too, once.
    assert "Twilio no envía" not in one(report.problems, "number.get").said(CATALOGS, "es")


def test_the_messaging_service_pointed_elsewhere(app: Flask, wired: FakeTwilio) -> None:
    wired.messaging["status_callback"] = f"{OLD}/sms/status"
    en, es = both(one(checked(app).differences, "wiring.service"))
    assert en.startswith(
        f"Messaging Service {SERVICE_MG}: status_callback: {OLD}/sms/status -> {BASE}/sms/status."
    )
    assert "no llegan a esta línea como deben" in es


def test_a_number_outside_the_service_is_said_once(app: Flask, wired: FakeTwilio) -> None:
    wired.service_numbers.remove(NUMBER_SID)
    report = checked(app)
    found = [f for f in report.differences + report.findings if f.key == "number.not_in_service"]
    assert len(found) == 1 and found[0] in report.differences
    en, es = both(found[0])
    assert en.startswith(f"{NUMBER}: not in Messaging Service {SERVICE_MG}")
    assert es.startswith(f"{NUMBER}: no está en el Messaging Service {SERVICE_MG}")


def test_a_number_outside_the_account_is_said_once(app: Flask, wired: FakeTwilio) -> None:
    stranger = "+15555550100"
    report = checked(app, (stranger,))
    en, es = both(one(report.problems, "number.unknown"))
    assert en.startswith(f"{stranger}: not a number of this Twilio account")
    assert es.startswith(f"{stranger}: no es un número de esta cuenta de Twilio")


def test_advanced_opt_out_without_a_service(
    app: Flask, wired: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "TWILIO_MESSAGING_SERVICE_SID", None)
    en, es = both(one(checked(app).problems, "wiring.opt_out_no_service"))
    assert en.startswith("SMS_OPT_OUT_BY_TWILIO is on, but no TWILIO_MESSAGING_SERVICE_SID")
    assert "desactive HOTLINE_BRIDGE_SMS_OPT_OUT_BY_TWILIO" in es


@pytest.mark.parametrize("base", [None, "http://line.example.org"])
def test_without_an_https_address_the_wiring_is_not_compared(
    app: Flask, account: FakeTwilio, base: str | None
) -> None:
    report = checked(app, base=base)
    assert report.differences == []  # nothing compared, so nothing claimed right either
    en, es = both(one(report.problems, "wiring.no_base_url"))
    assert en.startswith("HOTLINE_BRIDGE_PUBLIC_URL is not an https address")
    assert es.startswith("HOTLINE_BRIDGE_PUBLIC_URL no es una dirección https")
    # Registration and what Twilio keeps are still read.
    assert one(report.findings, "campaign.verified")
    assert one(report.findings, "redaction.messages")


# --- What Twilio keeps of people ----------------------------------------------------------------


def test_message_redaction_is_a_step_by_hand_never_a_pass(app: Flask, wired: FakeTwilio) -> None:
    report = checked(app)
    finding = one(report.findings, "redaction.messages")
    assert finding.state == "manual" and finding not in report.of("passed")
    en, es = both(finding)
    assert en.startswith("Message Redaction: Twilio's API does not say whether it is on")
    assert "Message Body Redaction and Phone Number Redaction" in en
    assert es.startswith("Message Redaction: la API de Twilio no dice si está activada")
    assert "confírmelo a mano" in es


def test_advanced_opt_out_items_by_hand_in_both_languages(app: Flask, wired: FakeTwilio) -> None:
    manual = checked(app).of("manual")
    keywords = [f for f in manual if f.key == "optout.keywords" and f.values["lang"] == "es"]
    stop = next(f for f in keywords if f.values["meaning"] == "STOP")
    assert both(stop) == (
        "STOP (es): add keywords PARAR, ALTO, CANCELAR",
        "STOP (es): añada las palabras clave PARAR, ALTO, CANCELAR",
    )
    assert "no lo muestra" in both(one(manual, "optout.intro"))[1]


def test_no_transcription_service_is_said_right(app: Flask, wired: FakeTwilio) -> None:
    en, es = both(one(checked(app).of("passed"), "voice.no_transcripts"))
    assert (
        en == "No Conversational Intelligence service: Twilio transcribes no calls of this account."
    )
    assert es.startswith("No hay ningún servicio de Conversational Intelligence")


def test_transcripts_kept_unredacted_are_a_problem(app: Flask, wired: FakeTwilio) -> None:
    wired.intelligence = [intelligence()]
    report = checked(app)
    assert report.failed
    en, es = both(one(report.problems, "voice.unredacted"))
    assert en.startswith(
        "Conversational Intelligence service call-notes keeps its call transcripts without "
        "redacting personal details"
    )
    assert "active su PII redaction en la consola de Twilio o elimínelo" in es


def test_transcripts_shared_for_twilios_models_are_a_problem(app: Flask, wired: FakeTwilio) -> None:
    wired.intelligence = [intelligence(auto_redaction=True, data_logging=True)]
    report = checked(app)
    en, es = both(one(report.problems, "voice.data_logging"))
    assert "lets Twilio use its call transcripts to train its models" in en
    assert "desactive el data logging" in es
    assert [f.key for f in report.problems if f.key.startswith("voice.")] == ["voice.data_logging"]


def test_redacted_transcripts_pass(app: Flask, wired: FakeTwilio) -> None:
    wired.intelligence = [intelligence(auto_redaction=True)]
    report = checked(app)
    assert not report.failed
    assert "redacts personal details" in both(one(report.of("passed"), "voice.redacted"))[0]


def test_twilio_refusing_the_transcription_services_names_the_step(
    app: Flask, wired: FakeTwilio
) -> None:
    wired.failures["list_intelligence"] = error(403, 20003, "Permission denied")
    with pytest.raises(TwilioSetupError, match="list Conversational Intelligence services"):
        checked(app)


# --- The command --------------------------------------------------------------------------------


def test_the_command_uses_public_url_and_fails_on_unredacted_transcripts(
    wired: FakeTwilio,
) -> None:
    passed = CliRunner().invoke(main, ["twilio", "check"])  # no --base-url: PUBLIC_URL
    assert passed.exit_code == 0, passed.output
    assert f"1 number(s) wired to {BASE}" in passed.output
    assert "by hand: Message Redaction: Twilio's API does not say whether it is on" in passed.output
    assert "item(s) above to confirm by hand in the Twilio console" in passed.output
    wired.intelligence = [intelligence()]
    failed = CliRunner().invoke(main, ["twilio", "check"])
    assert failed.exit_code == 1
    assert "problem: Conversational Intelligence service call-notes keeps" in failed.output
    assert "0 difference(s), 1 problem(s)" in failed.output


def test_the_command_without_any_address_is_refused(
    wired: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_BRIDGE_PUBLIC_URL")
    monkeypatch.setenv("HOTLINE_BRIDGE_TRUST_HOST_HEADER", "1")
    result = CliRunner().invoke(main, ["twilio", "check"])
    assert result.exit_code == 2
    assert "set HOTLINE_BRIDGE_PUBLIC_URL" in result.output


def test_every_new_finding_is_said_in_both_languages() -> None:
    for key in NEW_KEYS:
        assert CATALOGS.has(f"golive.{key}"), key  # in every language
        # Said in Spanish, not left in English.
        assert CATALOGS.text("en", f"golive.{key}") != CATALOGS.text("es", f"golive.{key}"), key


NEW_KEYS = [
    "wiring.fallback_missing",
    "wiring.fallback_stale",
    "wiring.number",
    "wiring.service",
    "wiring.opt_out_no_service",
    "wiring.no_base_url",
    "optout.intro",
    "optout.keywords",
    "optout.reply",
    "redaction.messages",
    "voice.no_transcripts",
    "voice.redacted",
    "voice.unredacted",
    "voice.data_logging",
]
