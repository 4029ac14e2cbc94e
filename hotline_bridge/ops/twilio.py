"""Wiring the line's Twilio numbers to this server, and checking that they stay wired.

Everything goes through Twilio's REST API with the twilio library, except the one call it does
not offer (uploading an asset version, which Twilio serves from its own upload host). The plan is
computed first as a list of changes, so ``--dry-run`` prints exactly what ``connect`` would do
and ``check`` reports the same list as differences.

The static fallback lives on Twilio Serverless as *protected* assets: Twilio itself fetches them
(signed) when our server does not answer, and nobody else can read them.
"""

from __future__ import annotations

import functools
import json
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from hotline_bridge.ops import metrics
from hotline_bridge.ops.findings import Finding, bad, by_hand

# The Serverless service that holds the fallback, found again by this unique name.
SERVICE_NAME = "hotline-bridge-fallback"
ENVIRONMENT_NAME = "production"
ENVIRONMENT_SUFFIX = "prod"
# Where each channel's fallback TwiML is served, and the asset that holds it.
FALLBACK_PATHS = {"sms": "/fallback/sms.xml", "voice": "/fallback/voice.xml"}
ASSET_NAMES = {"sms": "sms-fallback", "voice": "voice-fallback"}
UPLOAD_URL = "https://serverless-upload.twilio.com/v1/Services/{service}/Assets/{asset}/Versions"
# Shown in a dry run before the fallback's own address exists.
FALLBACK_PLACEHOLDER = "https://<fallback service domain>"
# A build takes a few seconds; give up after a minute rather than hang.
BUILD_POLLS = 30
BUILD_POLL_SECONDS = 2.0
HTTP_TIMEOUT_SECONDS = 15

# Keywords Twilio answers by itself on long codes and toll-free numbers (Twilio's support
# article on opt-out keywords); any other keyword of ours must be added with Advanced Opt-Out.
TWILIO_DEFAULT_KEYWORDS = {
    "stop": {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"},
    "start": {"START", "UNSTOP", "YES"},
    "help": {"HELP", "INFO"},
}


class TwilioSetupError(Exception):
    """Twilio refused a request or answered unexpectedly; the message says which and why."""


@dataclass(frozen=True)
class Change:
    """One difference between the live configuration and what it should be, and its fix:
    ``what`` is the change as ``connect`` prints it, ``finding`` the difference as ``check``
    and the console's Going live page say it, in their reader's language."""

    what: str
    apply: Callable[[], object]
    finding: Finding
    # The fallback's deployment comes first: the numbers' fallback URLs point at it.
    fallback: bool = False


@dataclass
class Plan:
    """What ``connect`` would change, what it cannot fix, and what must be confirmed by hand."""

    changes: list[Change] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    manual: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Wiring:
    """Everything the plan compares against: our addresses and the fallback documents."""

    base_url: str
    numbers: tuple[str, ...]
    documents: Mapping[str, str]
    messaging_service: str | None
    opt_out_by_twilio: bool


def refused(operation: str, exc: TwilioException) -> TwilioSetupError:
    """Count a refusal and turn it into one line naming the operation and Twilio's error."""
    metrics.twilio_error(operation)
    if isinstance(exc, TwilioRestException):
        status, code, message = exc.status, exc.code, exc.msg
    else:  # a list page refused: the library passes Twilio's answer along unparsed
        answer = exc.args[1] if len(exc.args) > 1 else None
        body = _error_body(getattr(answer, "text", ""))
        status = getattr(answer, "status_code", "?")
        code, message = body.get("code"), body.get("message", str(exc.args[0]))
    return TwilioSetupError(f"{operation}: Twilio answered {status} (error {code}): {message}")


def _error_body(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _call(operation: str, request: Callable[[], Any]) -> Any:
    try:
        return request()
    except TwilioException as exc:
        raise refused(operation, exc) from None


# --- The fallback on Twilio Serverless ---------------------------------------------------------


def signed_get(client: Client, url: str) -> str | None:
    """Fetch a protected asset as Twilio does (signed with the auth token); None if it fails."""
    signature = RequestValidator(client.password).compute_signature(url, {})
    try:
        response = requests.get(
            url, headers={"X-Twilio-Signature": signature}, timeout=HTTP_TIMEOUT_SECONDS
        )
    except requests.RequestException:
        return None
    return response.text if response.status_code == 200 else None


def _find_service(client: Client) -> Any | None:
    try:
        return client.serverless.v1.services(SERVICE_NAME).fetch()
    except TwilioException as exc:
        if isinstance(exc, TwilioRestException) and exc.status == 404:
            return None  # never deployed on this account
        raise refused("fetch fallback service", exc) from None


def _find_environment(client: Client, service_sid: str) -> Any | None:
    environments = _call(
        "list fallback environments",
        lambda: client.serverless.v1.services(service_sid).environments.list(),
    )
    return next((e for e in environments if e.unique_name == ENVIRONMENT_NAME), None)


def fallback_urls(domain: str) -> dict[str, str]:
    """Return each channel's fallback address on the Serverless domain ``domain``."""
    return {kind: f"https://{domain}{path}" for kind, path in FALLBACK_PATHS.items()}


def live_fallback(client: Client) -> dict[str, str] | None:
    """Return the deployed fallback's addresses, or None when none is deployed."""
    service = _find_service(client)
    environment = service and _find_environment(client, service.sid)
    if not service or not environment or not environment.build_sid:
        return None
    return fallback_urls(environment.domain_name)


def plan_fallback(client: Client, documents: Mapping[str, str], plan: Plan) -> dict[str, str]:
    """Add the fallback's deployment to ``plan`` unless the deployed documents are current;
    return the addresses the numbers should use."""
    urls = live_fallback(client)
    stale = [
        kind
        for kind, url in (urls or {}).items()
        if (signed_get(client, url) or "").strip() != documents[kind].strip()
    ]
    if urls and not stale:
        return urls
    if urls:
        reason = f"deployed fallback differs ({', '.join(stale)})"
        finding = bad("wiring.fallback_stale", channels=", ".join(stale))
    else:
        reason = f"no Serverless service {SERVICE_NAME!r} deployed"
        finding = bad("wiring.fallback_missing", name=SERVICE_NAME)
    plan.changes.append(
        Change(
            f"fallback: deploy the static bilingual TwiML to Twilio Serverless as protected "
            f"assets {', '.join(FALLBACK_PATHS.values())} ({reason})",
            lambda: deploy_fallback(client, documents),
            finding,
            fallback=True,
        )
    )
    return urls or fallback_urls(FALLBACK_PLACEHOLDER.removeprefix("https://"))


def deploy_fallback(client: Client, documents: Mapping[str, str]) -> dict[str, str]:
    """Create or update the Serverless service, upload the documents as protected asset
    versions, build them, deploy the build and return the fallback addresses."""
    service = _find_service(client) or _call(
        "create fallback service",
        lambda: client.serverless.v1.services.create(
            unique_name=SERVICE_NAME,
            friendly_name="hotline-bridge fallback",
            include_credentials=False,
            ui_editable=False,
        ),
    )
    versions = [
        _upload(client, service.sid, _asset(client, service.sid, kind), kind, documents[kind])
        for kind in FALLBACK_PATHS
    ]
    api = client.serverless.v1.services(service.sid)
    build = _call("create fallback build", lambda: api.builds.create(asset_versions=versions))
    _wait_for(client, service.sid, build.sid)
    environment = _find_environment(client, service.sid) or _call(
        "create fallback environment",
        lambda: api.environments.create(
            unique_name=ENVIRONMENT_NAME, domain_suffix=ENVIRONMENT_SUFFIX
        ),
    )
    _call(
        "deploy fallback build",
        lambda: api.environments(environment.sid).deployments.create(build_sid=build.sid),
    )
    return fallback_urls(environment.domain_name)


def _asset(client: Client, service_sid: str, kind: str) -> str:
    api = client.serverless.v1.services(service_sid).assets
    assets = _call("list fallback assets", lambda: api.list())
    found = next((a for a in assets if a.friendly_name == ASSET_NAMES[kind]), None)
    if found is None:
        found = _call("create fallback asset", lambda: api.create(friendly_name=ASSET_NAMES[kind]))
    return str(found.sid)


def _upload(client: Client, service_sid: str, asset_sid: str, kind: str, content: str) -> str:
    """Upload one asset version; the twilio library has no call for Twilio's upload host."""
    url = UPLOAD_URL.format(service=service_sid, asset=asset_sid)
    try:
        response = requests.post(
            url,
            auth=(client.username, client.password),
            data={"Path": FALLBACK_PATHS[kind], "Visibility": "protected"},
            files={"Content": (Path(FALLBACK_PATHS[kind]).name, content, "application/xml")},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        metrics.twilio_error("upload fallback asset")
        raise TwilioSetupError(f"upload fallback asset: {type(exc).__name__}") from None
    if response.status_code != 201:
        metrics.twilio_error("upload fallback asset")
        body = _error_body(response.text)
        raise TwilioSetupError(
            f"upload fallback asset: Twilio answered {response.status_code} "
            f"(error {body.get('code')}): {body.get('message')}"
        )
    return str(_error_body(response.text).get("sid", ""))


def _wait_for(
    client: Client, service_sid: str, build_sid: str, sleep: Callable[[float], None] = time.sleep
) -> None:
    builds = client.serverless.v1.services(service_sid).builds
    for _ in range(BUILD_POLLS):
        status = _call("fetch build status", lambda: builds(build_sid).build_status().fetch())
        if status.status == "completed":
            return
        if status.status == "failed":
            metrics.twilio_error("fallback build")
            raise TwilioSetupError(f"fallback build {build_sid} failed on Twilio")
        sleep(BUILD_POLL_SECONDS)
    raise TwilioSetupError(f"fallback build {build_sid} not finished after {BUILD_POLLS} checks")


# --- The numbers and the Messaging Service -----------------------------------------------------


def phone_number_settings(base_url: str, fallback: Mapping[str, str]) -> dict[str, str]:
    """Return what a phone number's webhooks should be. The fallbacks are fetched with GET:
    they are static assets, and Twilio signs a GET as it signs a POST."""
    return {
        "sms_url": f"{base_url}/sms",
        "sms_method": "POST",
        "sms_fallback_url": fallback["sms"],
        "sms_fallback_method": "GET",
        "voice_url": f"{base_url}/voice",
        "voice_method": "POST",
        "voice_fallback_url": fallback["voice"],
        "voice_fallback_method": "GET",
        "status_callback": f"{base_url}/voice/status",
        "status_callback_method": "POST",
        # An application set on the number would override every URL above.
        "sms_application_sid": "",
        "voice_application_sid": "",
    }


def short_code_settings(base_url: str, fallback: Mapping[str, str]) -> dict[str, str]:
    """Return what a short code's webhooks should be (short codes carry only messages)."""
    wanted = phone_number_settings(base_url, fallback)
    return {key: wanted[key] for key in ("sms_url", "sms_method", "sms_fallback_url")} | {
        "sms_fallback_method": "GET"
    }


def differences(live: Any, wanted: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Return each field of ``live`` that is not as ``wanted``, as (live, wanted)."""
    found = {}
    for name, value in wanted.items():
        current = getattr(live, name, None) or ""
        if str(current) != value:
            found[name] = (str(current), value)
    return found


def _fields(diff: Mapping[str, tuple[str, str]]) -> str:
    return "; ".join(
        f"{name}: {old or '(empty)'} -> {new or '(empty)'}" for name, (old, new) in diff.items()
    )


def _describe(label: str, diff: Mapping[str, tuple[str, str]]) -> str:
    return f"{label}: {_fields(diff)}"


def plan_number(
    client: Client, number: str, wiring: Wiring, fallback: Mapping[str, str], plan: Plan
) -> Any | None:
    """Add the changes one number needs to ``plan``; return its live resource, if found."""
    if number.startswith("+"):
        found = _call(
            "find phone number",
            lambda: client.incoming_phone_numbers.list(phone_number=number, limit=2),
        )
        wanted = phone_number_settings(wiring.base_url, fallback)
        update = "update phone number"
    else:
        found = _call(
            "find short code", lambda: client.short_codes.list(short_code=number, limit=2)
        )
        wanted = short_code_settings(wiring.base_url, fallback)
        update = "update short code"
    if not found:
        plan.problems.append(bad("number.unknown", number=number))
        return None
    resource = found[0]
    diff = differences(resource, wanted)
    if diff:
        changes = {name: new for name, (_old, new) in diff.items()}
        plan.changes.append(
            Change(
                _describe(number, diff),
                lambda: _call(update, lambda: resource.update(**changes)),
                bad("wiring.number", number=number, fields=_fields(diff)),
            )
        )
    return resource


def plan_messaging_service(
    client: Client, wiring: Wiring, numbers: Iterable[Any], plan: Plan
) -> None:
    """Add the Messaging Service's changes: our numbers in it, their own webhooks used for
    incoming messages, and its status callback pointing here."""
    sid = wiring.messaging_service
    if not sid:
        if wiring.opt_out_by_twilio:
            plan.problems.append(bad("wiring.opt_out_no_service"))
        return
    api = client.messaging.v1.services(sid)
    service = _call("fetch messaging service", lambda: api.fetch())
    wanted = {"status_callback": f"{wiring.base_url}/sms/status"}
    diff = differences(service, wanted)
    if service.use_inbound_webhook_on_number is not True:
        diff["use_inbound_webhook_on_number"] = (str(service.use_inbound_webhook_on_number), "True")
    if diff:
        update = {
            "status_callback": wanted["status_callback"],
            "use_inbound_webhook_on_number": True,
        }
        plan.changes.append(
            Change(
                _describe(f"messaging service {sid}", diff),
                lambda: _call("update messaging service", lambda: api.update(**update)),
                bad("wiring.service", service=sid, fields=_fields(diff)),
            )
        )
    members = {
        p.phone_number for p in _call("list service numbers", lambda: api.phone_numbers.list())
    }
    for number in numbers:
        phone = str(getattr(number, "phone_number", "") or "")
        if phone.startswith("+") and phone not in members:
            plan.changes.append(
                Change(
                    f"messaging service {sid}: add {phone}",
                    functools.partial(_add_to_service, api, str(number.sid)),
                    bad("number.not_in_service", number=phone, service=sid),
                )
            )


def _add_to_service(api: Any, number_sid: str) -> object:
    return _call(
        "add number to messaging service",
        lambda: api.phone_numbers.create(phone_number_sid=number_sid),
    )


def opt_out_checklist(
    keywords_file: Path, replies: Mapping[str, Mapping[str, str]]
) -> list[Finding]:
    """Say what Advanced Opt-Out must hold beyond Twilio's defaults: the keywords of ours that
    Twilio does not answer by itself, and the reply to set for each, in each language. Twilio's
    API does not expose Advanced Opt-Out, so these are confirmed in the console, by hand."""
    table = tomllib.loads(keywords_file.read_text(encoding="utf-8"))
    found = [by_hand("optout.intro")]
    for meaning in ("stop", "start", "help"):
        for lang, words in table.get(meaning, {}).items():
            said = {"meaning": meaning.upper(), "lang": lang}
            missing = [w for w in words if w.upper() not in TWILIO_DEFAULT_KEYWORDS[meaning]]
            if missing:
                found.append(by_hand("optout.keywords", **said, keywords=", ".join(missing)))
            reply = replies.get(meaning, {}).get(lang)
            if reply:
                found.append(by_hand("optout.reply", **said, reply=reply))
    return found


Replies = Mapping[str, Mapping[str, str]]


def make_plan(
    client: Client,
    wiring: Wiring,
    keywords_file: Path,
    replies: Replies,
    fallback: Mapping[str, str] | None = None,
) -> Plan:
    """Compare everything live with ``wiring``; ``fallback`` skips planning the fallback
    (it was just deployed at those addresses)."""
    plan = Plan()
    urls = fallback or plan_fallback(client, wiring.documents, plan)
    numbers = [plan_number(client, n, wiring, urls, plan) for n in wiring.numbers]
    plan_messaging_service(client, wiring, [n for n in numbers if n is not None], plan)
    if wiring.opt_out_by_twilio or wiring.messaging_service:
        plan.manual = opt_out_checklist(keywords_file, replies)
    return plan


def connect(
    client: Client,
    wiring: Wiring,
    keywords_file: Path,
    replies: Replies,
    echo: Callable[[str], None],
    dry_run: bool,
) -> Plan:
    """Print every change, then (unless ``dry_run``) make them: the fallback first, then the
    numbers and the Messaging Service pointed at it. Return the plan made."""
    plan = make_plan(client, wiring, keywords_file, replies)
    for change in plan.changes:
        echo(f"{'would change' if dry_run else 'change'}: {change.what}")
    if dry_run or not plan.changes:
        return plan
    urls: dict[str, str] | None = None
    for change in plan.changes:
        if change.fallback:
            urls = cast(dict[str, str], change.apply())
            echo(f"done: fallback deployed at {', '.join(urls.values())}")
    # Planned again: a fallback deployed just now has the addresses the numbers must use.
    final = make_plan(client, wiring, keywords_file, replies, fallback=urls)
    for change in final.changes:
        change.apply()
        echo(f"done: {change.what}")
    return plan
