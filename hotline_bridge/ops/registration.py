"""Whether the line's numbers may reach people: carrier registration, read from Twilio's API.

In the US a number cannot text people until its sender is registered: a toll-free number needs
a toll-free verification, a ten-digit long code an A2P 10DLC campaign (under an approved brand)
on the Messaging Service that holds it, and a WhatsApp sender Meta's approval. This module reads
each state through the twilio library and says, one finding at a time, what it is and what to
do; it also flags the settings that break privacy or the fail-safe (a GET webhook puts the
person's number and words in an address that logs keep; "fallback to long code" sends from a
number the person never texted; the service's own webhook skips the number's fallback).

A finding is a catalog key and its values: the command line says it in English, the console in
its reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import phonenumbers
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from hotline_bridge.ops.findings import Finding, bad, by_hand, ok
from hotline_bridge.ops.twilio import TwilioSetupError, refused

# A toll-free verification's and a campaign's states, as Twilio names them.
TOLLFREE_APPROVED = "TWILIO_APPROVED"
TOLLFREE_REJECTED = "TWILIO_REJECTED"
CAMPAIGN_VERIFIED = "VERIFIED"
CAMPAIGN_FAILED = "FAILED"
BRAND_APPROVED = "APPROVED"
BRAND_FAILED = {"FAILED", "SUSPENDED", "DELETION_FAILED"}
WHATSAPP_ONLINE = "ONLINE"
WHATSAPP_OFFLINE = "OFFLINE"
NAME_DECLINED = "DECLINED"
WHATSAPP = "whatsapp"


def kind_of(number: str) -> str:
    """Return "short_code", "toll_free" or "long_code" for one of the line's numbers."""
    if not number.startswith("+"):
        return "short_code"
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return "long_code"
    toll_free = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE
    return "toll_free" if toll_free else "long_code"


def reasons(items: Any) -> str:
    """Return Twilio's list of errors or rejection reasons as one line: "30445 (…); 30451 (…)".
    Twilio names the parts differently from one resource to another (code or error_code;
    reason, description or message), so each is looked for under every name."""
    said = []
    for item in items or ():
        if not isinstance(item, Mapping):
            said.append(str(item))
            continue
        code = item.get("code") or item.get("error_code") or ""
        text = item.get("reason") or item.get("description") or item.get("message") or ""
        fields = item.get("fields") or ()
        where = f" [{', '.join(map(str, fields))}]" if fields else ""
        said.append(f"{code} ({text}){where}".strip() if code else f"{text}{where}")
    return "; ".join(s for s in said if s) or "?"


def _call(operation: str, request: Callable[[], Any]) -> Any:
    try:
        return request()
    except TwilioException as exc:
        raise refused(operation, exc) from None


# --- Numbers ------------------------------------------------------------------------------------


def find_number(client: Client, number: str) -> Any | None:
    """Return the account's incoming phone number ``number``, or None."""
    found = _call(
        "find phone number",
        lambda: client.incoming_phone_numbers.list(phone_number=number, limit=2),
    )
    return found[0] if found else None


def webhook_methods(number: str, resource: Any) -> list[Finding]:
    """Say which of a number's webhooks Twilio would call with GET."""
    found = []
    for name, url in (("sms_method", "sms_url"), ("voice_method", "voice_url")):
        if getattr(resource, url, None) and str(getattr(resource, name, "POST")).upper() != "POST":
            found.append(bad("number.get", number=number, field=name))
    return found


def tollfree(client: Client, number: str, resource: Any) -> list[Finding]:
    """Say where ``number``'s toll-free verification stands."""
    api = client.messaging.v1.tollfree_verifications
    listed = _call(
        "list toll-free verifications",
        lambda: api.list(tollfree_phone_number_sid=resource.sid, limit=20),
    )
    if not listed:
        return [bad("tollfree.missing", number=number)]
    # Twilio lists the newest first; an approved one anywhere is what counts.
    approved = [v for v in listed if v.status == TOLLFREE_APPROVED]
    if approved:
        return [ok("tollfree.approved", number=number, sid=approved[0].sid)]
    latest = listed[0]
    if latest.status != TOLLFREE_REJECTED:
        return [bad("tollfree.pending", number=number, sid=latest.sid, status=latest.status)]
    why = reasons(latest.rejection_reasons) if latest.rejection_reasons else None
    why = why or " ".join(str(p) for p in (latest.error_code, latest.rejection_reason) if p)
    if latest.edit_allowed:
        until = latest.edit_expiration.date().isoformat() if latest.edit_expiration else "?"
        return [bad("tollfree.rejected", number=number, sid=latest.sid, reasons=why, until=until)]
    return [bad("tollfree.rejected_final", number=number, sid=latest.sid, reasons=why)]


def whatsapp(client: Client, numbers: Iterable[str]) -> list[Finding]:
    """Say where each WhatsApp sender of the line's numbers stands, and its display name."""
    ours = {f"{WHATSAPP}:{n}" for n in numbers if n.startswith("+")}
    senders = _call(
        "list WhatsApp senders",
        lambda: client.messaging.v2.channels_senders.list(channel=WHATSAPP, limit=50),
    )
    found = []
    for sender in senders:
        if sender.sender_id not in ours:
            continue
        found.extend(_sender(sender))
    return found


def _sender(sender: Any) -> list[Finding]:
    name = str((sender.profile or {}).get("name") or "?")
    status = str(sender.status or "?")
    found = []
    if status == WHATSAPP_ONLINE:
        found.append(ok("whatsapp.online", sender=sender.sender_id, name=name))
    elif status == WHATSAPP_OFFLINE:
        why = reasons(sender.offline_reasons)
        found.append(bad("whatsapp.offline", sender=sender.sender_id, reasons=why))
    else:
        found.append(bad("whatsapp.pending", sender=sender.sender_id, status=status))
    if getattr(sender, "pending_display_name_status", None) == NAME_DECLINED:
        declined = sender.pending_display_name or name
        found.append(bad("whatsapp.name_declined", sender=sender.sender_id, name=declined))
    return found


# --- The Messaging Service, its campaign and brand ----------------------------------------------


def service_settings(service: Any) -> list[Finding]:
    """Say which of a Messaging Service's settings break privacy or the fail-safe."""
    sid = service.sid
    found = []
    if service.fallback_to_long_code:
        found.append(bad("service.fallback_to_long_code", service=sid))
    if service.use_inbound_webhook_on_number is not True:
        found.append(bad("service.service_webhook", service=sid))
    for name, url in (
        ("inbound_method", "inbound_request_url"),
        ("fallback_method", "fallback_url"),
    ):
        if getattr(service, url, None) and str(getattr(service, name, "POST")).upper() != "POST":
            found.append(bad("service.get", service=sid, field=name))
    return found


def campaign(client: Client, service_sid: str) -> tuple[list[Finding], str | None]:
    """Say where the service's A2P 10DLC campaign stands; return its brand's SID too."""
    api = client.messaging.v1.services(service_sid).us_app_to_person
    listed = _call("list A2P 10DLC campaigns", lambda: api.list(limit=20))
    if not listed:
        return [bad("campaign.missing", service=service_sid)], None
    chosen = next((c for c in listed if c.campaign_status == CAMPAIGN_VERIFIED), listed[0])
    status = str(chosen.campaign_status or "?")
    values = {"service": service_sid, "sid": chosen.sid}
    if status == CAMPAIGN_VERIFIED:
        return [ok("campaign.verified", **values)], chosen.brand_registration_sid
    if status == CAMPAIGN_FAILED:
        failed = bad("campaign.failed", **values, reasons=reasons(chosen.errors))
        return [failed], chosen.brand_registration_sid
    return [bad("campaign.pending", **values, status=status)], chosen.brand_registration_sid


def brand(client: Client, brand_sid: str | None) -> list[Finding]:
    """Say where the A2P 10DLC brand stands."""
    if not brand_sid:
        return [bad("brand.missing")]
    found = _call(
        "fetch A2P 10DLC brand",
        lambda: client.messaging.v1.brand_registrations(brand_sid).fetch(),
    )
    status = str(found.status or "?")
    if status == BRAND_APPROVED:
        return [ok("brand.approved", sid=brand_sid)]
    if status in BRAND_FAILED:
        why = reasons(found.errors) if found.errors else str(found.failure_reason or "?")
        return [bad("brand.failed", sid=brand_sid, status=status, reasons=why)]
    return [bad("brand.pending", sid=brand_sid, status=status)]


def messaging_service(
    client: Client, service_sid: str | None, long_codes: Sequence[str], brand_sid: str | None
) -> list[Finding]:
    """Say what the Messaging Service needs for its long codes to reach people."""
    if not service_sid:
        return [bad("number.no_service", number=n) for n in long_codes]
    api = client.messaging.v1.services(service_sid)
    service = _call("fetch messaging service", lambda: api.fetch())
    found = service_settings(service)
    members = {
        p.phone_number for p in _call("list service numbers", lambda: api.phone_numbers.list())
    }
    found += [
        bad("number.not_in_service", number=n, service=service_sid)
        for n in long_codes
        if n not in members
    ]
    if long_codes:
        said, campaign_brand = campaign(client, service_sid)
        found += said
        found += brand(client, campaign_brand or brand_sid)
    return found


# --- What Twilio keeps -------------------------------------------------------------------------


def transcripts(client: Client) -> list[Finding]:
    """Say whether Twilio may keep what people say on calls: each Conversational Intelligence
    service (which transcribes call recordings) must redact personal details and must not let
    Twilio train its models on them. The line records no calls, so none is needed at all."""
    services = _call(
        "list Conversational Intelligence services",
        lambda: client.intelligence.v2.services.list(limit=50),
    )
    if not services:
        return [ok("voice.no_transcripts")]
    found = []
    for service in services:
        name = service.unique_name or service.sid
        if not service.auto_redaction:
            found.append(bad("voice.unredacted", service=name))
        if service.data_logging:
            found.append(bad("voice.data_logging", service=name))
        if service.auto_redaction and not service.data_logging:
            found.append(ok("voice.redacted", service=name))
    return found


def redaction() -> list[Finding]:
    """Message Redaction is an account setting that Twilio's REST API does not expose (no
    resource or field reads it; only a message sent with ContentRetention or AddressRetention
    overrides it), so it is a step to confirm by hand, never a pass."""
    return [by_hand("redaction.messages")]


# --- Everything ---------------------------------------------------------------------------------


def check(
    client: Client, numbers: Sequence[str], service_sid: str | None, brand_sid: str | None
) -> list[Finding]:
    """Return every finding for the line's ``numbers``; raise ``TwilioSetupError`` when Twilio
    refuses a request (wrong credentials, an unknown SID)."""
    found: list[Finding] = []
    long_codes = []
    for number in numbers:
        kind = kind_of(number)
        if kind == "short_code":
            found.append(ok("number.short_code", number=number))
            continue
        resource = find_number(client, number)
        if resource is None:
            found.append(bad("number.unknown", number=number))
            continue
        found += webhook_methods(number, resource)
        if kind == "toll_free":
            found += tollfree(client, number, resource)
        else:
            long_codes.append(number)
    found += messaging_service(client, service_sid, long_codes, brand_sid)
    found += whatsapp(client, numbers)
    return found


__all__ = ["Finding", "TwilioSetupError", "check", "kind_of", "reasons"]
