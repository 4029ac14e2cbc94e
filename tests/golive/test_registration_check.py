"""Carrier registration as ``twilio check`` reads it from Twilio's REST API (mocked at the HTTP
edge with ``responses``): every state of a toll-free verification, an A2P 10DLC campaign and
brand and a WhatsApp sender, each rejection reason, and the settings that break privacy."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.rest import Client

from hotline_bridge.engine.catalogs import Catalogs
from hotline_bridge.ops import registration
from hotline_bridge.ops.twilio import TwilioSetupError
from hotline_bridge.settings import PROJECT_ROOT
from tests.ops.test_twilio_connect import (
    ACCOUNT,
    BRAND_SID,
    CAMPAIGN_SID,
    NUMBER,
    NUMBER_SID,
    SERVICE_MG,
    TOKEN,
    FakeTwilio,
    brand_payload,
    campaign_payload,
    error,
    run,
    verification_payload,
)

TOLL_FREE = "+18885550123"
TOLL_FREE_SID = "PN" + "4" * 32
VERIFICATION_SID = "HH" + "5" * 32
CATALOGS = Catalogs(PROJECT_ROOT / "locales")


def with_toll_free(account: FakeTwilio) -> None:
    account.more_numbers[TOLL_FREE] = {
        **account.number,
        "phone_number": TOLL_FREE,
        "sid": TOLL_FREE_SID,
    }


def lines(numbers: tuple[str, ...] = (NUMBER,), brand: str | None = None) -> list[str]:
    """The findings for ``numbers``, as the command line says them, problems marked "!"."""
    found = registration.check(Client(ACCOUNT, TOKEN), numbers, SERVICE_MG, brand)
    return [("! " if f.problem else "  ") + f.said(CATALOGS, "en") for f in found]


def only(found: list[str], part: str) -> str:
    chosen = [line for line in found if part in line]
    assert len(chosen) == 1, found
    return chosen[0]


def test_a_live_long_code_has_its_campaign_and_brand(account: FakeTwilio) -> None:
    account.messaging["use_inbound_webhook_on_number"] = True
    account.service_numbers.append(NUMBER_SID)
    assert lines() == [
        f"  Messaging Service {SERVICE_MG}: A2P 10DLC campaign {CAMPAIGN_SID} verified.",
        f"  A2P 10DLC brand {BRAND_SID} approved.",
    ]


# --- Toll-free verification ---------------------------------------------------------------------


def test_a_toll_free_number_without_verification(account: FakeTwilio) -> None:
    with_toll_free(account)
    assert only(lines((TOLL_FREE,)), TOLL_FREE) == (
        f"! {TOLL_FREE}: no toll-free verification, so its messages to US phones are blocked; "
        "run 'hotline-bridge twilio register'."
    )


@pytest.mark.parametrize("status", ["PENDING_REVIEW", "IN_REVIEW"])
def test_a_toll_free_verification_under_review(account: FakeTwilio, status: str) -> None:
    with_toll_free(account)
    account.verifications = [verification_payload(status, TOLL_FREE_SID)]
    line = only(lines((TOLL_FREE,)), TOLL_FREE)
    assert line.startswith(f"! {TOLL_FREE}: toll-free verification {VERIFICATION_SID} is {status};")
    assert "wait for Twilio's email" in line


def test_an_approved_toll_free_verification(account: FakeTwilio) -> None:
    with_toll_free(account)
    account.verifications = [verification_payload("TWILIO_APPROVED", TOLL_FREE_SID)]
    assert f"  {TOLL_FREE}: toll-free verification {VERIFICATION_SID} approved." in lines(
        (TOLL_FREE,)
    )


def test_a_rejection_that_may_be_edited_names_each_reason_and_the_last_day(
    account: FakeTwilio,
) -> None:
    with_toll_free(account)
    account.verifications = [
        verification_payload(
            "TWILIO_REJECTED",
            TOLL_FREE_SID,
            rejection_reasons=[
                {"code": 30445, "reason": "Website not accessible"},
                {"code": 30451, "reason": "Address invalid"},
            ],
            edit_allowed=True,
            edit_expiration="2026-12-21T00:00:00Z",
        )
    ]
    assert only(lines((TOLL_FREE,)), TOLL_FREE) == (
        f"! {TOLL_FREE}: toll-free verification {VERIFICATION_SID} rejected: "
        "30445 (Website not accessible); 30451 (Address invalid). Correct what it names and "
        "resubmit it in the Twilio console before 2026-12-21."
    )


def test_a_rejection_for_good_says_to_submit_anew(account: FakeTwilio) -> None:
    with_toll_free(account)
    account.verifications = [
        verification_payload(
            "TWILIO_REJECTED",
            TOLL_FREE_SID,
            rejection_reason="Disallowed content",
            error_code=30464,
            edit_allowed=False,
        )
    ]
    line = only(lines((TOLL_FREE,)), TOLL_FREE)
    assert "rejected for good: 30464 Disallowed content." in line
    assert "then run 'hotline-bridge twilio register'" in line


def test_an_approved_verification_counts_even_after_a_newer_rejection(
    account: FakeTwilio,
) -> None:
    with_toll_free(account)
    account.verifications = [
        verification_payload("TWILIO_REJECTED", TOLL_FREE_SID, edit_allowed=False),
        verification_payload("TWILIO_APPROVED", TOLL_FREE_SID),
    ]
    assert only(lines((TOLL_FREE,)), TOLL_FREE).endswith("approved.")


# --- A2P 10DLC campaign and brand ---------------------------------------------------------------


def connected(account: FakeTwilio) -> None:
    account.messaging["use_inbound_webhook_on_number"] = True
    account.service_numbers.append(NUMBER_SID)


def test_no_campaign_blocks_the_long_codes(account: FakeTwilio) -> None:
    connected(account)
    account.campaigns = []
    found = lines(brand=BRAND_SID)
    assert only(found, "campaign") == (
        f"! Messaging Service {SERVICE_MG}: no A2P 10DLC campaign, so its long codes' messages "
        "are blocked (error 30034); run 'hotline-bridge twilio register'."
    )
    # The brand of the setting is still looked at.
    assert only(found, "brand").endswith("approved.")


@pytest.mark.parametrize("status", ["IN_PROGRESS", "PENDING"])
def test_a_campaign_under_review(account: FakeTwilio, status: str) -> None:
    connected(account)
    account.campaigns = [campaign_payload(status)]
    assert only(lines(), "campaign").startswith(
        f"! Messaging Service {SERVICE_MG}: A2P 10DLC campaign {CAMPAIGN_SID} is {status};"
    )


def test_a_failed_campaign_names_each_error_and_its_fields(account: FakeTwilio) -> None:
    connected(account)
    account.campaigns = [
        campaign_payload(
            "FAILED",
            errors=[
                {
                    "error_code": 30896,
                    "description": "Opt-in information is missing",
                    "fields": ["MESSAGE_FLOW"],
                },
                {"error_code": 30886, "description": "Privacy policy missing", "fields": []},
            ],
        )
    ]
    assert only(lines(), "campaign") == (
        f"! Messaging Service {SERVICE_MG}: A2P 10DLC campaign {CAMPAIGN_SID} failed: "
        "30896 (Opt-in information is missing) [MESSAGE_FLOW]; 30886 (Privacy policy missing)."
        " Correct what it names, delete it in the Twilio console, then run "
        "'hotline-bridge twilio register'."
    )


@pytest.mark.parametrize("status", ["PENDING", "IN_REVIEW"])
def test_a_brand_under_review(account: FakeTwilio, status: str) -> None:
    connected(account)
    account.brand = brand_payload(status)
    assert only(lines(), "brand").startswith(f"! A2P 10DLC brand {BRAND_SID} is {status};")


@pytest.mark.parametrize("status", ["FAILED", "SUSPENDED"])
def test_a_failed_brand_names_its_errors(account: FakeTwilio, status: str) -> None:
    connected(account)
    account.brand = brand_payload(
        status,
        errors=[
            {
                "code": 30794,
                "description": "The EIN does not match the name",
                "fields": ["ein"],
            }
        ],
    )
    assert only(lines(), "brand") == (
        f"! A2P 10DLC brand {BRAND_SID} is {status}: 30794 (The EIN does not match the name) "
        "[ein]. Correct the organisation's details in the Twilio console (Trust Hub) and "
        "resubmit the brand."
    )


def test_no_brand_at_all(account: FakeTwilio) -> None:
    connected(account)
    account.campaigns = []
    assert only(lines(), "brand").startswith("! No A2P 10DLC brand:")


def test_a_long_code_outside_the_service(account: FakeTwilio) -> None:
    account.messaging["use_inbound_webhook_on_number"] = True
    assert only(lines(), "not in Messaging Service").startswith(f"! {NUMBER}: not in")


def test_a_long_code_without_a_service(account: FakeTwilio) -> None:
    found = registration.check(Client(ACCOUNT, TOKEN), (NUMBER,), None, None)
    assert [f.key for f in found] == ["number.no_service"]
    assert found[0].problem


# --- Settings that break privacy or the fail-safe -----------------------------------------------


def test_fallback_to_long_code_and_the_services_own_webhook(account: FakeTwilio) -> None:
    account.service_numbers.append(NUMBER_SID)
    account.messaging.update(
        fallback_to_long_code=True,
        use_inbound_webhook_on_number=False,
        inbound_request_url="https://line.example.org/sms",
        inbound_method="GET",
    )
    found = lines()
    assert only(found, "'fallback to long code' is on").startswith("! ")
    assert only(found, "the service's own webhook").startswith("! ")
    assert only(found, "inbound_method is GET").startswith("! ")


def test_a_number_webhook_called_with_get(account: FakeTwilio) -> None:
    connected(account)
    account.number.update(sms_method="GET", sms_url="https://line.example.org/sms")
    assert only(lines(), "sms_method is GET").startswith(f"! {NUMBER}: sms_method is GET")


def test_a_short_code_is_said_not_a_problem(account: FakeTwilio) -> None:
    found = registration.check(Client(ACCOUNT, TOKEN), ("55123",), SERVICE_MG, None)
    assert [(f.key, f.problem) for f in found][:1] == [("number.short_code", False)]


# --- WhatsApp -----------------------------------------------------------------------------------


def sender(status: str, **more: Any) -> dict[str, Any]:
    return {
        "sid": "XE" + "3" * 32,
        "status": status,
        "sender_id": f"whatsapp:{NUMBER}",
        "profile": {"name": "Community Health Line"},
        "offline_reasons": None,
        "pending_display_name": None,
        "pending_display_name_status": None,
        **more,
    }


@pytest.mark.parametrize(
    ("state", "said", "problem"),
    [
        (sender("ONLINE"), "WhatsApp sender online, shown as Community Health Line.", False),
        (sender("PENDING_VERIFICATION"), "is PENDING_VERIFICATION; wait for Meta's review.", True),
        (sender("TWILIO_REVIEW"), "is TWILIO_REVIEW; wait for Meta's review.", True),
        (
            sender("OFFLINE", offline_reasons=[{"code": 63100, "message": "Quality too low"}]),
            "offline: 63100 (Quality too low).",
            True,
        ),
    ],
)
def test_each_whatsapp_state(
    account: FakeTwilio, state: dict[str, Any], said: str, problem: bool
) -> None:
    connected(account)
    account.senders = [state, {**state, "sender_id": "whatsapp:+15550000000"}]
    found = registration.check(Client(ACCOUNT, TOKEN), (NUMBER,), SERVICE_MG, None)
    whatsapp = [f for f in found if f.key.startswith("whatsapp.")]
    assert len(whatsapp) == 1  # only the line's own sender
    assert said in whatsapp[0].said(CATALOGS, "en")
    assert whatsapp[0].problem is problem


def test_a_declined_display_name_caps_conversations(account: FakeTwilio) -> None:
    connected(account)
    account.senders = [
        sender("ONLINE", pending_display_name="Help Line", pending_display_name_status="DECLINED")
    ]
    assert only(lines(), "declined") == (
        f"! whatsapp:{NUMBER}: Meta declined the display name Help Line, so it may start at most "
        "250 conversations a day; submit the organisation's own name in the Twilio console."
    )


# --- Refusals and the command -------------------------------------------------------------------


def test_twilio_refusing_is_one_error_naming_the_step(account: FakeTwilio) -> None:
    connected(account)
    account.failures["list_campaigns"] = error(403, 20003, "Permission denied")
    with pytest.raises(TwilioSetupError, match="list A2P 10DLC campaigns: Twilio answered 403"):
        lines()


def test_check_reports_registration_and_fails_on_a_problem(account: FakeTwilio) -> None:
    assert run("connect").exit_code == 0
    passed = run("check")
    assert passed.exit_code == 0, passed.output
    assert f"ok: Messaging Service {SERVICE_MG}: A2P 10DLC campaign" in passed.output
    account.campaigns = [campaign_payload("IN_PROGRESS")]
    failed = run("check")
    assert failed.exit_code == 1
    assert f"problem: Messaging Service {SERVICE_MG}: A2P 10DLC campaign {CAMPAIGN_SID} is " in (
        failed.output
    )
    assert "0 difference(s), 1 problem(s)" in failed.output


def test_every_finding_is_said_in_spanish_too() -> None:
    for key in CATALOGS_KEYS:
        assert CATALOGS.has(f"golive.{key}"), key


CATALOGS_KEYS = [
    "number.short_code",
    "number.unknown",
    "number.get",
    "number.no_service",
    "number.not_in_service",
    "tollfree.approved",
    "tollfree.missing",
    "tollfree.pending",
    "tollfree.rejected",
    "tollfree.rejected_final",
    "campaign.missing",
    "campaign.verified",
    "campaign.pending",
    "campaign.failed",
    "brand.missing",
    "brand.approved",
    "brand.pending",
    "brand.failed",
    "service.fallback_to_long_code",
    "service.service_webhook",
    "service.get",
    "whatsapp.online",
    "whatsapp.pending",
    "whatsapp.offline",
    "whatsapp.name_declined",
]
