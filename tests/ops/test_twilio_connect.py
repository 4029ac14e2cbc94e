"""``hotline-bridge twilio connect`` and ``check`` against Twilio's REST API, mocked at the HTTP
edge with ``responses`` in the request and response shapes Twilio documents, errors included."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from hotline_bridge.cli import main
from hotline_bridge.ops import twilio as wiring_ops
from hotline_bridge.settings import PROJECT_ROOT

ACCOUNT = "AC" + "a" * 32
TOKEN = "test-auth-token-0123456789abcdef"
SERVICE_MG = "MG" + "b" * 32
NUMBER = "+15555550199"  # the demo clinic's number
NUMBER_SID = "PN" + "c" * 32
SHORT_CODE = "55123"
SHORT_CODE_SID = "SC" + "9" * 32
BASE = "https://line.example.org"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
SERVERLESS = "https://serverless.twilio.com/v1/Services"
UPLOAD = "https://serverless-upload.twilio.com/v1/Services"
MESSAGING = f"https://messaging.twilio.com/v1/Services/{SERVICE_MG}"
# Carrier registration: toll-free verifications, A2P 10DLC brands and WhatsApp senders.
TOLLFREE = "https://messaging.twilio.com/v1/Tollfree/Verifications"
BRANDS = "https://messaging.twilio.com/v1/a2p/BrandRegistrations"
SENDERS = "https://messaging.twilio.com/v2/Channels/Senders"
# Conversational Intelligence services, which transcribe call recordings.
INTELLIGENCE = "https://intelligence.twilio.com/v2/Services"
BRAND_SID = "BN" + "7" * 32
CAMPAIGN_SID = "QE" + "6" * 32
DOMAIN = "hotline-bridge-fallback-4821-prod.twil.io"
DATE = "2026-12-01T20:00:00Z"
RFC2822 = "Tue, 01 Dec 2026 20:00:00 +0000"


def error(status: int, code: int, message: str) -> tuple[int, dict[str, str], str]:
    """Twilio's documented error body."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def ok(body: dict[str, Any], status: int = 200) -> tuple[int, dict[str, str], str]:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def meta(url: str, key: str) -> dict[str, Any]:
    """The ``meta`` block of a list answer in Twilio's v1 APIs."""
    return {
        "first_page_url": f"{url}?PageSize=50&Page=0",
        "key": key,
        "next_page_url": None,
        "page": 0,
        "page_size": 50,
        "previous_page_url": None,
        "url": f"{url}?PageSize=50&Page=0",
    }


def form(request: Any) -> dict[str, list[str]]:
    return parse_qs(request.body or "", keep_blank_values=True)


class FakeTwilio:
    """One Twilio account, kept as state, answering like Twilio's REST API."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock  # its ``calls``: every request made to the account
        self.number: dict[str, Any] = {
            "account_sid": ACCOUNT,
            "address_requirements": "none",
            "api_version": "2010-04-01",
            "beta": False,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": RFC2822,
            "date_updated": RFC2822,
            "friendly_name": "(555) 555-0199",
            "phone_number": NUMBER,
            "sid": NUMBER_SID,
            "sms_application_sid": "",
            "sms_fallback_method": "POST",
            "sms_fallback_url": "",
            "sms_method": "POST",
            "sms_url": "https://demo.twilio.com/welcome/sms/reply",
            "status_callback": "",
            "status_callback_method": "POST",
            "voice_application_sid": None,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST",
            "voice_fallback_url": None,
            "voice_method": "POST",
            "voice_url": "https://demo.twilio.com/welcome/voice/",
            "status": "in-use",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json",
        }
        self.messaging: dict[str, Any] = {
            "account_sid": ACCOUNT,
            "sid": SERVICE_MG,
            "friendly_name": "Community Health Line",
            "inbound_request_url": None,
            "inbound_method": "POST",
            "fallback_url": None,
            "fallback_method": "POST",
            "status_callback": None,
            "sticky_sender": True,
            "smart_encoding": False,
            "use_inbound_webhook_on_number": False,
            "usecase": "undeclared",
            "date_created": DATE,
            "date_updated": DATE,
            "url": MESSAGING,
            "links": {"phone_numbers": f"{MESSAGING}/PhoneNumbers"},
        }
        self.short_code: dict[str, Any] = {
            "account_sid": ACCOUNT,
            "api_version": "2010-04-01",
            "date_created": RFC2822,
            "date_updated": RFC2822,
            "friendly_name": "55123",
            "short_code": SHORT_CODE,
            "sid": SHORT_CODE_SID,
            "sms_fallback_method": "POST",
            "sms_fallback_url": None,
            "sms_method": "POST",
            "sms_url": None,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/SMS/ShortCodes/{SHORT_CODE_SID}.json",
        }
        self.service_numbers: list[str] = []
        self.service: dict[str, Any] | None = None
        self.assets: list[dict[str, Any]] = []
        self.versions: dict[str, dict[str, Any]] = {}
        self.builds: dict[str, dict[str, Any]] = {}
        self.environment: dict[str, Any] | None = None
        self.hosted: dict[str, str] = {}  # path -> content deployed
        self.build_states = ["completed"]
        self.failures: dict[str, tuple[int, dict[str, str], str]] = {}
        # More numbers of the account than the demo clinic's (a toll-free one, say).
        self.more_numbers: dict[str, dict[str, Any]] = {}
        # Registration as an account that went live has it: the service's campaign verified
        # under an approved brand, no toll-free number, no WhatsApp sender.
        self.verifications: list[dict[str, Any]] = []
        self.campaigns: list[dict[str, Any]] = [campaign_payload("VERIFIED")]
        self.brand: dict[str, Any] = brand_payload("APPROVED")
        self.senders: list[dict[str, Any]] = []
        # No Conversational Intelligence service: the account transcribes no calls.
        self.intelligence: list[dict[str, Any]] = []
        self.created: list[tuple[str, dict[str, list[str]]]] = []
        self._routes(mock)

    # --- routing

    def _routes(self, mock: responses.RequestsMock) -> None:
        routes = [
            ("GET", rf"{API}/IncomingPhoneNumbers\.json", self.list_numbers),
            ("POST", rf"{API}/IncomingPhoneNumbers/{NUMBER_SID}\.json", self.update_number),
            ("GET", rf"{API}/SMS/ShortCodes\.json", self.list_short_codes),
            ("POST", rf"{API}/SMS/ShortCodes/{SHORT_CODE_SID}\.json", self.update_short_code),
            ("GET", rf"{SERVERLESS}/hotline-bridge-fallback", self.fetch_service),
            ("POST", rf"{SERVERLESS}", self.create_service),
            ("GET", rf"{SERVERLESS}/ZS\w+/Environments", self.list_environments),
            ("POST", rf"{SERVERLESS}/ZS\w+/Environments", self.create_environment),
            ("POST", rf"{SERVERLESS}/ZS\w+/Environments/ZE\w+/Deployments", self.deploy),
            ("GET", rf"{SERVERLESS}/ZS\w+/Assets", self.list_assets),
            ("POST", rf"{SERVERLESS}/ZS\w+/Assets", self.create_asset),
            ("POST", rf"{UPLOAD}/ZS\w+/Assets/ZH\w+/Versions", self.upload),
            ("POST", rf"{SERVERLESS}/ZS\w+/Builds", self.create_build),
            ("GET", rf"{SERVERLESS}/ZS\w+/Builds/ZB\w+/Status", self.build_status),
            ("GET", rf"{MESSAGING}", self.fetch_messaging),
            ("POST", rf"{MESSAGING}", self.update_messaging),
            ("GET", rf"{MESSAGING}/PhoneNumbers", self.list_service_numbers),
            ("POST", rf"{MESSAGING}/PhoneNumbers", self.add_service_number),
            ("GET", rf"https://{re.escape(DOMAIN)}/.*", self.hosted_asset),
            ("GET", TOLLFREE, self.list_verifications),
            ("POST", TOLLFREE, self.create_verification),
            ("GET", rf"{MESSAGING}/Compliance/Usa2p", self.list_campaigns),
            ("POST", rf"{MESSAGING}/Compliance/Usa2p", self.create_campaign),
            ("GET", rf"{BRANDS}/BN\w+", self.fetch_brand),
            ("GET", SENDERS, self.list_senders),
            ("GET", INTELLIGENCE, self.list_intelligence),
        ]
        for method, pattern, handler in routes:
            mock.add_callback(
                method, re.compile(pattern + r"(\?.*)?$"), callback=self._guard(handler)
            )

    def _guard(self, handler: Any) -> Any:
        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            if "twil.io" not in request.url and not self._authenticated(request):
                return error(401, 20003, "Authenticate")
            name = handler.__name__
            return self.failures.pop(name) if name in self.failures else handler(request)

        return answer

    def _authenticated(self, request: Any) -> bool:
        import base64

        expected = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    # --- phone numbers

    def list_numbers(self, request: Any) -> Any:
        wanted = parse_qs(urlparse(request.url).query).get("PhoneNumber", [""])[0]
        found = [self.number] if wanted == NUMBER else []
        found += [self.more_numbers[wanted]] if wanted in self.more_numbers else []
        uri = f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json"
        return ok(
            {
                "end": max(len(found) - 1, 0),
                "first_page_uri": f"{uri}?PhoneNumber={wanted}&PageSize=2&Page=0",
                "incoming_phone_numbers": found,
                "next_page_uri": None,
                "page": 0,
                "page_size": 2,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PhoneNumber={wanted}&PageSize=2&Page=0",
            }
        )

    def update_number(self, request: Any) -> Any:
        fields = form(request)
        for name, values in fields.items():
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
            self.number[snake] = values[0]
        return ok(self.number)

    def list_short_codes(self, request: Any) -> Any:
        wanted = parse_qs(urlparse(request.url).query).get("ShortCode", [""])[0]
        found = [self.short_code] if wanted == SHORT_CODE else []
        uri = f"/2010-04-01/Accounts/{ACCOUNT}/SMS/ShortCodes.json"
        page = f"{uri}?ShortCode={wanted}&PageSize=2&Page=0"
        return ok(
            {
                "end": 0,
                "first_page_uri": page,
                "next_page_uri": None,
                "page": 0,
                "page_size": 2,
                "previous_page_uri": None,
                "short_codes": found,
                "start": 0,
                "uri": page,
            }
        )

    def update_short_code(self, request: Any) -> Any:
        for name, values in form(request).items():
            self.short_code[re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()] = values[0]
        return ok(self.short_code)

    # --- Serverless

    def fetch_service(self, request: Any) -> Any:
        if self.service is None:
            return error(
                404, 20404, f"The requested resource {urlparse(request.url).path} was not found"
            )
        return ok(self.service)

    def create_service(self, request: Any) -> Any:
        fields = form(request)
        sid = "ZS" + "d" * 32
        self.service = {
            "sid": sid,
            "account_sid": ACCOUNT,
            "friendly_name": fields["FriendlyName"][0],
            "unique_name": fields["UniqueName"][0],
            "include_credentials": fields["IncludeCredentials"][0] == "true",
            "ui_editable": fields["UiEditable"][0] == "true",
            "domain_base": "hotline-bridge-fallback-4821",
            "date_created": DATE,
            "date_updated": DATE,
            "url": f"{SERVERLESS}/{sid}",
            "links": {"environments": f"{SERVERLESS}/{sid}/Environments"},
        }
        return ok(self.service, 201)

    def _service_url(self) -> str:
        assert self.service is not None
        return f"{SERVERLESS}/{self.service['sid']}"

    def list_environments(self, request: Any) -> Any:
        items = [self.environment] if self.environment else []
        url = f"{self._service_url()}/Environments"
        return ok({"environments": items, "meta": meta(url, "environments")})

    def create_environment(self, request: Any) -> Any:
        fields = form(request)
        sid = "ZE" + "e" * 32
        self.environment = {
            "sid": sid,
            "account_sid": ACCOUNT,
            "service_sid": self.service and self.service["sid"],
            "build_sid": None,
            "unique_name": fields["UniqueName"][0],
            "domain_suffix": fields["DomainSuffix"][0],
            "domain_name": DOMAIN,
            "date_created": DATE,
            "date_updated": DATE,
            "url": f"{self._service_url()}/Environments/{sid}",
            "links": {},
        }
        return ok(self.environment, 201)

    def deploy(self, request: Any) -> Any:
        build = self.builds[form(request)["BuildSid"][0]]
        assert self.environment is not None
        self.environment["build_sid"] = build["sid"]
        for version in build["asset_versions"]:
            self.hosted[version["path"]] = version["content"]
        return ok(
            {
                "sid": "ZD" + "f" * 32,
                "account_sid": ACCOUNT,
                "service_sid": self.service and self.service["sid"],
                "environment_sid": self.environment["sid"],
                "build_sid": build["sid"],
                "date_created": DATE,
                "date_updated": DATE,
                "url": f"{self._service_url()}/Environments/{self.environment['sid']}/Deployments",
            },
            201,
        )

    def list_assets(self, request: Any) -> Any:
        url = f"{self._service_url()}/Assets"
        return ok({"assets": self.assets, "meta": meta(url, "assets")})

    def create_asset(self, request: Any) -> Any:
        sid = f"ZH{len(self.assets):032d}"
        asset = {
            "sid": sid,
            "account_sid": ACCOUNT,
            "service_sid": self.service and self.service["sid"],
            "friendly_name": form(request)["FriendlyName"][0],
            "date_created": DATE,
            "date_updated": DATE,
            "url": f"{self._service_url()}/Assets/{sid}",
            "links": {"asset_versions": f"{self._service_url()}/Assets/{sid}/Versions"},
        }
        self.assets.append(asset)
        return ok(asset, 201)

    def upload(self, request: Any) -> Any:
        from email.parser import BytesParser
        from email.policy import HTTP

        body = request.body if isinstance(request.body, bytes) else request.body.read()
        head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
        parts = {
            part.get_param("name", header="content-disposition"): part
            for part in BytesParser(policy=HTTP).parsebytes(head + body).iter_parts()
        }
        content = parts["Content"].get_payload(decode=True).decode()
        sid = f"ZN{len(self.versions):032d}"
        self.versions[sid] = {
            "sid": sid,
            "account_sid": ACCOUNT,
            "service_sid": self.service and self.service["sid"],
            "asset_sid": request.url.split("/Assets/")[1].split("/")[0],
            "path": parts["Path"].get_payload(),
            "visibility": parts["Visibility"].get_payload(),
            "date_created": DATE,
            "url": f"{self._service_url()}/Assets/x/Versions/{sid}",
            "content": content,
            "content_type": parts["Content"].get_content_type(),
        }
        return ok(
            {k: v for k, v in self.versions[sid].items() if k not in {"content", "content_type"}},
            201,
        )

    def create_build(self, request: Any) -> Any:
        sid = f"ZB{len(self.builds):032d}"
        versions = [self.versions[v] for v in form(request)["AssetVersions"]]
        self.builds[sid] = {"sid": sid, "asset_versions": versions}
        return ok(
            {
                "sid": sid,
                "account_sid": ACCOUNT,
                "service_sid": self.service and self.service["sid"],
                "status": "building",
                "asset_versions": [{"sid": v["sid"], "path": v["path"]} for v in versions],
                "function_versions": None,
                "dependencies": None,
                "runtime": "node18",
                "date_created": DATE,
                "date_updated": DATE,
                "url": f"{self._service_url()}/Builds/{sid}",
                "links": {"build_status": f"{self._service_url()}/Builds/{sid}/Status"},
            },
            201,
        )

    def build_status(self, request: Any) -> Any:
        sid = request.url.split("/Builds/")[1].split("/")[0]
        state = self.build_states.pop(0) if len(self.build_states) > 1 else self.build_states[0]
        return ok(
            {
                "sid": sid,
                "account_sid": ACCOUNT,
                "service_sid": self.service and self.service["sid"],
                "status": state,
                "url": f"{self._service_url()}/Builds/{sid}/Status",
            }
        )

    def hosted_asset(self, request: Any) -> Any:
        """A protected asset answers only a request signed with the account's auth token."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(TOKEN).validate(request.url, {}, signature):
            return 403, {}, "Unauthorized"
        path = urlparse(request.url).path
        if path not in self.hosted:
            return 404, {}, "Not found"
        return 200, {"Content-Type": "application/xml"}, self.hosted[path]

    # --- Messaging Service

    def fetch_messaging(self, request: Any) -> Any:
        return ok(self.messaging)

    def update_messaging(self, request: Any) -> Any:
        fields = form(request)
        self.messaging["status_callback"] = fields["StatusCallback"][0]
        self.messaging["use_inbound_webhook_on_number"] = (
            fields["UseInboundWebhookOnNumber"][0] == "true"
        )
        return ok(self.messaging)

    def list_service_numbers(self, request: Any) -> Any:
        items = [
            {
                "sid": NUMBER_SID,
                "account_sid": ACCOUNT,
                "service_sid": SERVICE_MG,
                "date_created": DATE,
                "date_updated": DATE,
                "phone_number": NUMBER,
                "country_code": "US",
                "capabilities": ["SMS", "MMS", "Voice"],
                "url": f"{MESSAGING}/PhoneNumbers/{NUMBER_SID}",
            }
            for _ in self.service_numbers
        ]
        return ok(
            {"meta": meta(f"{MESSAGING}/PhoneNumbers", "phone_numbers"), "phone_numbers": items}
        )

    def add_service_number(self, request: Any) -> Any:
        sid = form(request)["PhoneNumberSid"][0]
        if sid in self.service_numbers:
            return error(
                409, 21710, "Phone Number or Short Code is already in the Messaging Service."
            )
        self.service_numbers.append(sid)
        return ok({"sid": sid, "phone_number": NUMBER, "service_sid": SERVICE_MG}, 201)

    # --- Carrier registration

    def list_verifications(self, request: Any) -> Any:
        wanted = parse_qs(urlparse(request.url).query).get("TollfreePhoneNumberSid", [None])[0]
        items = [v for v in self.verifications if v["tollfree_phone_number_sid"] == wanted]
        return ok({"meta": meta(TOLLFREE, "verifications"), "verifications": items})

    def create_verification(self, request: Any) -> Any:
        fields = form(request)
        self.created.append(("tollfree", fields))
        made = verification_payload("PENDING_REVIEW", fields["TollfreePhoneNumberSid"][0])
        self.verifications.insert(0, made)
        return ok(made, 201)

    def list_campaigns(self, request: Any) -> Any:
        url = f"{MESSAGING}/Compliance/Usa2p"
        return ok({"meta": meta(url, "compliance"), "compliance": self.campaigns})

    def create_campaign(self, request: Any) -> Any:
        fields = form(request)
        self.created.append(("campaign", fields))
        made = campaign_payload("IN_PROGRESS", brand=fields["BrandRegistrationSid"][0])
        self.campaigns.insert(0, made)
        return ok(made, 201)

    def fetch_brand(self, request: Any) -> Any:
        return ok(self.brand)

    def list_senders(self, request: Any) -> Any:
        return ok({"meta": meta(SENDERS, "senders"), "senders": self.senders})

    def list_intelligence(self, request: Any) -> Any:
        return ok({"meta": meta(INTELLIGENCE, "services"), "services": self.intelligence})


def verification_payload(status: str, number_sid: str, **more: Any) -> dict[str, Any]:
    """A toll-free verification as Twilio's API answers it."""
    sid = "HH" + "5" * 32
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "status": status,
        "tollfree_phone_number_sid": number_sid,
        "rejection_reason": None,
        "rejection_reasons": None,
        "error_code": None,
        "edit_allowed": None,
        "edit_expiration": None,
        "date_created": DATE,
        "date_updated": DATE,
        "url": f"{TOLLFREE}/{sid}",
        **more,
    }


def campaign_payload(status: str, brand: str = BRAND_SID, **more: Any) -> dict[str, Any]:
    """An A2P 10DLC campaign (a UsAppToPerson resource) as Twilio's API answers it."""
    return {
        "sid": CAMPAIGN_SID,
        "account_sid": ACCOUNT,
        "brand_registration_sid": brand,
        "messaging_service_sid": SERVICE_MG,
        "campaign_status": status,
        "errors": [],
        "date_created": DATE,
        "date_updated": DATE,
        "url": f"{MESSAGING}/Compliance/Usa2p/{CAMPAIGN_SID}",
        **more,
    }


def brand_payload(status: str, **more: Any) -> dict[str, Any]:
    """An A2P 10DLC brand registration as Twilio's API answers it."""
    return {
        "sid": BRAND_SID,
        "account_sid": ACCOUNT,
        "status": status,
        "errors": [],
        "failure_reason": None,
        "date_created": DATE,
        "date_updated": DATE,
        "url": f"{BRANDS}/{BRAND_SID}",
        **more,
    }


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    """The demo clinic's directory, and a Twilio account whose number is not wired yet."""
    settings = {
        "DATABASE": str(tmp_path / "line.db"),
        "SECRET_KEY": "connect-secret",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_MG,
        "SMS_OPT_OUT_BY_TWILIO": "1",
        "PUBLIC_URL": BASE,
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"HOTLINE_BRIDGE_{name}", value)
    result = CliRunner().invoke(main, ["import", str(PROJECT_ROOT / "examples/demo/sites.csv")])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(wiring_ops, "BUILD_POLL_SECONDS", 0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeTwilio(mock)


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["twilio", *args, "--base-url", BASE])


def fallback_twiml(channel: str) -> str:
    return CliRunner().invoke(main, ["fallback-twiml", "--channel", channel]).output


def test_dry_run_prints_every_change_and_changes_nothing(account: FakeTwilio) -> None:
    before = dict(account.number)
    result = run("connect", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would change: fallback: deploy" in result.output
    assert (
        f"would change: {NUMBER}: sms_url: https://demo.twilio.com/welcome/sms/reply -> {BASE}/sms"
        in result.output
    )
    assert f"voice_url: https://demo.twilio.com/welcome/voice/ -> {BASE}/voice" in result.output
    assert f"status_callback: (empty) -> {BASE}/voice/status" in result.output
    assert f"messaging service {SERVICE_MG}: add {NUMBER}" in result.output
    assert account.number == before and account.service is None and not account.service_numbers


def test_connect_wires_the_number_and_hosts_the_fallback_on_twilio(account: FakeTwilio) -> None:
    result = run("connect")
    assert result.exit_code == 0, result.output
    number = account.number
    assert (number["sms_url"], number["sms_method"]) == (f"{BASE}/sms", "POST")
    assert (number["voice_url"], number["voice_method"]) == (f"{BASE}/voice", "POST")
    assert number["status_callback"] == f"{BASE}/voice/status"
    assert number["sms_fallback_url"] == f"https://{DOMAIN}/fallback/sms.xml"
    assert number["voice_fallback_url"] == f"https://{DOMAIN}/fallback/voice.xml"
    assert number["sms_fallback_method"] == number["voice_fallback_method"] == "GET"
    # The fallback is the static bilingual answer, protected, and deployed.
    assert account.service and account.service["include_credentials"] is False
    assert {v["visibility"] for v in account.versions.values()} == {"protected"}
    assert account.hosted["/fallback/sms.xml"].strip() == fallback_twiml("sms").strip()
    assert account.hosted["/fallback/voice.xml"].strip() == fallback_twiml("voice").strip()
    assert (
        "911" in account.hosted["/fallback/sms.xml"]
        and "Tuvimos" in account.hosted["/fallback/sms.xml"]
    )
    # Served from Twilio's domain, the fallback must not point back at our (down) server.
    for document in account.hosted.values():
        assert "action=" not in document and "<Redirect" not in document
    assert account.messaging["status_callback"] == f"{BASE}/sms/status"
    assert account.messaging["use_inbound_webhook_on_number"] is True
    assert account.service_numbers == [NUMBER_SID]


def test_check_passes_after_connect_and_connect_again_changes_nothing(account: FakeTwilio) -> None:
    assert run("connect").exit_code == 0
    checked = run("check")
    assert checked.exit_code == 0, checked.output
    assert "Twilio check passed for what Twilio's API shows: 1 number(s)" in checked.output
    again = run("connect")
    assert again.exit_code == 0 and "Nothing to change" in again.output
    assert len(account.builds) == 1  # an unchanged fallback is not deployed again


def test_check_fails_on_each_difference(account: FakeTwilio) -> None:
    assert run("connect").exit_code == 0
    account.number["voice_url"] = "https://old-host.example.org/voice"
    account.hosted["/fallback/sms.xml"] = "<Response><Message>old</Message></Response>"
    account.messaging["use_inbound_webhook_on_number"] = False
    result = run("check")
    assert result.exit_code == 1
    assert (
        f"difference: {NUMBER}: voice_url: https://old-host.example.org/voice -> {BASE}/voice"
        in result.output
    )
    assert "static fallback deployed on Twilio differs from this line's (sms)" in result.output
    assert "use_inbound_webhook_on_number: False -> True" in result.output
    assert "3 difference(s)" in result.output


def test_check_on_an_account_never_connected_fails(account: FakeTwilio) -> None:
    result = run("check")
    assert result.exit_code == 1
    assert "no Serverless service 'hotline-bridge-fallback' deployed" in result.output


def test_advanced_opt_out_says_what_to_add_in_both_languages(account: FakeTwilio) -> None:
    result = run("check")
    lines = result.output
    assert "Twilio's API does not expose it" in lines
    assert "STOP (es): add keywords PARAR, ALTO, CANCELAR" in lines
    assert "START (es): add keywords INICIAR, COMENZAR" in lines
    assert "HELP (es): add keywords AYUDA, INFORMACIÓN" in lines
    assert "STOP (en): add keywords" not in lines  # Twilio answers those by itself
    for lang, program in (("en", "Riverside Health Line"), ("es", "Línea de Salud Riverside")):
        reply = re.search(rf"HELP \({lang}\): reply '([^']+)'", lines)
        # The clinic's own program, which its number leads to, not the default site's.
        assert reply and "888-373-7888" in reply[1] and program in reply[1], lines


def test_twilio_opt_out_without_a_messaging_service_is_a_problem(
    account: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_BRIDGE_TWILIO_MESSAGING_SERVICE_SID")
    assert run("connect").exit_code == 1
    result = run("check")
    assert result.exit_code == 1
    assert (
        "problem: SMS_OPT_OUT_BY_TWILIO is on, but no TWILIO_MESSAGING_SERVICE_SID" in result.output
    )


def test_a_number_not_in_the_account_is_a_problem(account: FakeTwilio) -> None:
    result = CliRunner().invoke(
        main, ["twilio", "check", "--base-url", BASE, "--number", "+15555550100"]
    )
    assert result.exit_code == 1
    assert "problem: +15555550100: not a number of this Twilio account" in result.output


@pytest.mark.parametrize(
    ("handler", "failure", "expected"),
    [
        (
            "list_numbers",
            error(401, 20003, "Authenticate"),
            "find phone number: Twilio answered 401 (error 20003): Authenticate",
        ),
        (
            "fetch_service",
            error(403, 20403, "Forbidden. You don't have access to this resource."),
            "fetch fallback service: Twilio answered 403 (error 20403)",
        ),
        (
            "create_service",
            error(400, 20001, "UniqueName must be unique"),
            "create fallback service: Twilio answered 400 (error 20001)",
        ),
        (
            "upload",
            error(400, 20001, "Content is too large"),
            "upload fallback asset: Twilio answered 400 (error 20001): Content is too large",
        ),
        (
            "update_number",
            error(429, 20429, "Too Many Requests"),
            "update phone number: Twilio answered 429 (error 20429)",
        ),
        (
            "fetch_messaging",
            error(404, 20404, "The requested resource was not found"),
            "fetch messaging service: Twilio answered 404 (error 20404)",
        ),
    ],
)
def test_twilio_errors_stop_with_one_line_naming_them(
    account: FakeTwilio, handler: str, failure: Any, expected: str
) -> None:
    account.failures[handler] = failure
    result = run("connect")
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_a_failed_build_is_reported_and_nothing_is_pointed_at_it(account: FakeTwilio) -> None:
    account.build_states = ["building", "failed"]
    result = run("connect")
    assert result.exit_code == 1 and "failed on Twilio" in result.output
    assert account.number["sms_fallback_url"] == "" and account.environment is None


def test_wrong_credentials_are_refused_by_twilio(
    account: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_BRIDGE_TWILIO_AUTH_TOKEN", "wrong-token")
    result = run("check")
    assert result.exit_code == 1
    assert "Twilio answered 401 (error 20003)" in result.output and "Authenticate" in result.output


def test_the_base_url_must_be_https(account: FakeTwilio) -> None:
    result = CliRunner().invoke(main, ["twilio", "check", "--base-url", "http://line.example.org"])
    assert result.exit_code == 2 and "https://" in result.output


def test_a_short_code_gets_the_messaging_webhook_and_fallback(account: FakeTwilio) -> None:
    args = ["--base-url", BASE, "--number", NUMBER, "--number", SHORT_CODE]
    result = CliRunner().invoke(main, ["twilio", "connect", *args])
    assert result.exit_code == 0, result.output
    code = account.short_code
    assert (code["sms_url"], code["sms_method"]) == (f"{BASE}/sms", "POST")
    assert code["sms_fallback_url"] == f"https://{DOMAIN}/fallback/sms.xml"
    assert code["sms_fallback_method"] == "GET"
    assert CliRunner().invoke(main, ["twilio", "check", *args]).exit_code == 0
