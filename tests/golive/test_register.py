"""``hotline-bridge twilio register``: the submissions built from the line itself, checked field
by field, posted to Twilio's REST API (mocked with ``responses``), and refused by name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from hotline_bridge.channels.sms.simulator import SmsSimulator
from hotline_bridge.cli import main
from tests.golive.test_registration_check import TOLL_FREE, TOLL_FREE_SID, with_toll_free
from tests.ops.test_twilio_connect import (
    BRAND_SID,
    NUMBER,
    SERVICE_MG,
    FakeTwilio,
    campaign_payload,
    error,
    verification_payload,
)

ORGANISATION = {
    "PUBLIC_URL": "https://line.example.org",
    "BUSINESS_NAME": "Riverside Community Health Inc.",
    "BUSINESS_EIN": "12-3456789",
    "BUSINESS_TYPE": "NON_PROFIT",
    "BUSINESS_WEBSITE": "https://riverside.example.org",
    "BUSINESS_STREET": "1 Main Street",
    "BUSINESS_CITY": "Cambridge",
    "BUSINESS_STATE": "MA",
    "BUSINESS_POSTAL_CODE": "02139",
    "BUSINESS_COUNTRY": "US",
    "CONTACT_FIRST_NAME": "Ana",
    "CONTACT_LAST_NAME": "Reyes",
    "CONTACT_EMAIL": "line@riverside.example.org",
    "CONTACT_PHONE": "+16175550123",
    "TWILIO_BRAND_SID": BRAND_SID,
}
SITE = "demo-clinic"


@pytest.fixture
def organisation(account: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> FakeTwilio:
    for name, value in ORGANISATION.items():
        monkeypatch.setenv(f"HOTLINE_BRIDGE_{name}", value)
    with_toll_free(account)
    account.campaigns = []
    return account


def register(*args: str) -> Any:
    argv = ["twilio", "register", "--site", SITE, "--number", NUMBER, "--number", TOLL_FREE]
    return CliRunner().invoke(main, [*argv, *args])


def sent(account: FakeTwilio, kind: str) -> dict[str, list[str]]:
    chosen = [fields for made, fields in account.created if made == kind]
    assert len(chosen) == 1, account.created
    return chosen[0]


def what_the_line_says(*messages: str) -> str:
    """Text the demo line as a person would (a fresh conversation) and return the last reply."""
    from hotline_bridge.app import create_app

    app = create_app()
    talk = SmsSimulator(app, NUMBER)
    return [talk.send(m)[1] for m in messages][-1]


def test_dry_run_prints_complete_submissions_and_sends_nothing(organisation: FakeTwilio) -> None:
    result = register("--dry-run")
    assert result.exit_code == 0, result.output
    assert f"toll-free verification for {TOLL_FREE}:" in result.output
    assert f"A2P 10DLC campaign for {SERVICE_MG}:" in result.output
    assert "  privacy_policy_url: https://line.example.org/privacy" in result.output
    assert '  opt_in_image_urls: ["https://line.example.org/optin/demo-clinic.png"]' in (
        result.output
    )
    assert "(missing)" not in result.output
    assert "Dry run: nothing was sent." in result.output
    assert organisation.created == []


def test_register_posts_a_toll_free_verification_field_by_field(organisation: FakeTwilio) -> None:
    result = register()
    assert result.exit_code == 0, result.output
    assert f"submitted: toll-free verification for {TOLL_FREE}: HH" in result.output
    assert "PENDING_REVIEW" in result.output
    fields = sent(organisation, "tollfree")
    menu = what_the_line_says("WELLNESS")
    expected = {
        "TollfreePhoneNumberSid": [TOLL_FREE_SID],
        "BusinessName": ["Riverside Community Health Inc."],
        "BusinessWebsite": ["https://riverside.example.org"],
        "NotificationEmail": ["line@riverside.example.org"],
        "UseCaseCategories": ["CUSTOMER_CARE"],
        "ProductionMessageSample": [menu],
        "OptInImageUrls": ["https://line.example.org/optin/demo-clinic.png"],
        "OptInType": ["VIA_TEXT"],
        "MessageVolume": ["1,000"],
        "OptInKeywords": ["WELLNESS", "SALUD"],
        "OptInConfirmationMessage": [menu],
        "PrivacyPolicyUrl": ["https://line.example.org/privacy"],
        "BusinessStreetAddress": ["1 Main Street"],
        "BusinessCity": ["Cambridge"],
        "BusinessStateProvinceRegion": ["MA"],
        "BusinessPostalCode": ["02139"],
        "BusinessCountry": ["US"],
        "BusinessContactFirstName": ["Ana"],
        "BusinessContactLastName": ["Reyes"],
        "BusinessContactEmail": ["line@riverside.example.org"],
        "BusinessContactPhone": ["+16175550123"],
        "BusinessRegistrationNumber": ["12-3456789"],
        "BusinessRegistrationAuthority": ["EIN"],
        "BusinessRegistrationCountry": ["US"],
        "BusinessType": ["NON_PROFIT"],
    }
    for name, value in expected.items():
        assert fields.get(name) == value, name
    summary = fields["UseCaseSummary"][0]
    assert "run by Riverside Community Health Inc." in summary
    assert "sends nothing unasked" in summary
    # HELP is answered by Twilio's Advanced Opt-Out here, with the words connect asks for.
    assert fields["HelpMessageSample"][0].startswith("Riverside Health Line (example): free")
    extra = fields["AdditionalInformation"][0]
    assert f"texting a keyword (WELLNESS, SALUD) to {TOLL_FREE}" in extra
    # The line a printed card carries, in the catalog's words.
    assert "rates may apply. Reply HELP for help, STOP to cancel." in extra
    assert what_the_line_says("SALUD", "1", "1") in extra  # a Spanish list, as sent
    assert "Reply to STOP (Español):" in extra


def test_register_posts_the_campaign_field_by_field(organisation: FakeTwilio) -> None:
    result = register()
    assert result.exit_code == 0, result.output
    assert f"submitted: A2P 10DLC campaign for {SERVICE_MG}: QE" in result.output
    fields = sent(organisation, "campaign")
    samples = [
        what_the_line_says("WELLNESS"),
        what_the_line_says("WELLNESS", "1", "1"),
        fields["HelpMessage"][0],
        what_the_line_says("SALUD"),
        what_the_line_says("SALUD", "1", "1"),
    ]
    assert fields["MessageSamples"] == samples
    assert fields["BrandRegistrationSid"] == [BRAND_SID]
    assert fields["UsAppToPersonUsecase"] == ["CUSTOMER_CARE"]
    assert fields["HasEmbeddedLinks"] == ["false"]
    assert fields["HasEmbeddedPhone"] == ["true"]
    assert fields["OptInMessage"] == [samples[0]]
    assert "no more messages" in fields["OptOutMessage"][0]
    assert fields["OptInKeywords"][:2] == ["HI", "HELLO"]
    assert "WELLNESS" in fields["OptInKeywords"] and "START" in fields["OptInKeywords"]
    stop = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR", "ALTO"]
    assert fields["OptOutKeywords"] == [*stop, "CANCELAR"]
    assert fields["HelpKeywords"] == ["HELP", "INFO", "AYUDA", "INFORMACIÓN"]
    assert fields["SubscriberOptIn"] == ["true"]
    assert fields["AgeGated"] == ["false"]
    assert fields["DirectLending"] == ["false"]
    assert fields["PrivacyPolicyUrl"] == ["https://line.example.org/privacy"]
    assert f"to {NUMBER}" in fields["MessageFlow"][0]
    assert "wallet card or poster" in fields["MessageFlow"][0]


def test_nothing_is_sent_twice(organisation: FakeTwilio) -> None:
    organisation.verifications = [verification_payload("IN_REVIEW", TOLL_FREE_SID)]
    organisation.campaigns = [campaign_payload("IN_PROGRESS")]
    result = register()
    assert result.exit_code == 0, result.output
    assert result.output.count("already submitted, not sent again") == 2
    assert organisation.created == []


def test_a_rejected_verification_is_submitted_anew(organisation: FakeTwilio) -> None:
    organisation.verifications = [verification_payload("TWILIO_REJECTED", TOLL_FREE_SID)]
    assert register().exit_code == 0
    assert sent(organisation, "tollfree")


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("BUSINESS_EIN", "12345", "HOTLINE_BRIDGE_BUSINESS_EIN: '12345' is not an EIN"),
        ("BUSINESS_NAME", "", "HOTLINE_BRIDGE_BUSINESS_NAME: missing"),
        ("BUSINESS_TYPE", "CHARITY", "HOTLINE_BRIDGE_BUSINESS_TYPE: 'CHARITY' is not one of"),
        (
            "BUSINESS_WEBSITE",
            "http://x.example.org",
            "HOTLINE_BRIDGE_BUSINESS_WEBSITE: 'http://x.example.org' is not",
        ),
        ("BUSINESS_STATE", "Mass", "HOTLINE_BRIDGE_BUSINESS_STATE: 'Mass' is not a state"),
        ("BUSINESS_POSTAL_CODE", "2139", "HOTLINE_BRIDGE_BUSINESS_POSTAL_CODE: '2139' is not"),
        ("CONTACT_EMAIL", "nobody", "HOTLINE_BRIDGE_CONTACT_EMAIL: 'nobody' is not an email"),
        ("CONTACT_PHONE", "617-555", "HOTLINE_BRIDGE_CONTACT_PHONE: '617-555' is not a phone"),
        ("TWILIO_BRAND_SID", "", "HOTLINE_BRIDGE_TWILIO_BRAND_SID: missing"),
        ("TWILIO_BRAND_SID", "BN123", "HOTLINE_BRIDGE_TWILIO_BRAND_SID: 'BN123' is not"),
        (
            "PUBLIC_URL",
            "http://line.example.org",
            "HOTLINE_BRIDGE_PUBLIC_URL: missing or not https://",
        ),
    ],
)
def test_a_wrong_or_missing_detail_is_refused_by_name_before_anything_is_sent(
    organisation: FakeTwilio, monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(f"HOTLINE_BRIDGE_{name}", value)
    # Any call to Twilio at all would fail the command another way.
    organisation.failures["list_numbers"] = error(500, 20500, "should not be asked")
    result = register()
    assert result.exit_code == 1
    assert f"refused: {said}" in result.output
    assert "detail(s) to correct; nothing was sent" in result.output
    assert organisation.created == []


def test_every_missing_detail_is_named_at_once(
    organisation: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("BUSINESS_EIN", "CONTACT_EMAIL", "BUSINESS_CITY"):
        monkeypatch.delenv(f"HOTLINE_BRIDGE_{name}")
    result = register("--dry-run")
    assert result.exit_code == 1
    refused = [line for line in result.output.splitlines() if line.startswith("refused:")]
    assert [r.split(":")[1].strip() for r in refused] == [
        "HOTLINE_BRIDGE_BUSINESS_EIN",
        "HOTLINE_BRIDGE_BUSINESS_CITY",
        "HOTLINE_BRIDGE_CONTACT_EMAIL",
    ]
    # The dry run still shows what would be sent.
    assert "  business_registration_number: (missing)" in result.output


def test_twilio_refusing_the_submission_is_one_line(organisation: FakeTwilio) -> None:
    organisation.failures["create_verification"] = error(
        400, 30451, "Address invalid for toll-free verification"
    )
    result = register()
    assert result.exit_code == 1
    assert "submit toll-free: Twilio answered 400 (error 30451)" in result.output


def test_a_toll_free_number_outside_the_account_is_refused(organisation: FakeTwilio) -> None:
    organisation.more_numbers.clear()
    result = register()
    assert result.exit_code == 1
    assert f"{TOLL_FREE}: not a number of this Twilio account" in result.output
    assert organisation.created == []


def test_the_submission_is_printed_as_json_lists(organisation: FakeTwilio) -> None:
    output = register("--dry-run").output
    line = next(x for x in output.splitlines() if x.startswith("  help_keywords: "))
    assert json.loads(line.split(": ", 1)[1]) == ["HELP", "INFO", "AYUDA", "INFORMACIÓN"]
