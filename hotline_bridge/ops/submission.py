"""What carrier registration asks for, built from the line itself, and sending it to Twilio.

A toll-free number needs a toll-free verification; the Messaging Service's long codes need an
A2P 10DLC campaign. Both want the same things: what the line is for, sample messages, how
people opt in (with a picture), the HELP and STOP keywords and replies, and a privacy policy.
Here the samples are texted through the app in-process (``SmsSimulator``, signed like Twilio,
counted nowhere), so they are what the line really sends today; the opt-in is the site's
printed card, proven, at ``/optin/<site>.png``; the privacy policy is ``/privacy``. The
organisation's details come from the settings, and every missing or malformed one is named
before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from flask import Flask
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from hotline_bridge.channels import text
from hotline_bridge.channels.sms.simulator import SmsSimulator
from hotline_bridge.directory.models import Site
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE, Words
from hotline_bridge.engine.step import ZIP_CODE
from hotline_bridge.ops import registration
from hotline_bridge.ops.twilio import TwilioSetupError, refused
from hotline_bridge.runtime import Runtime

# The kinds of sample, in the order they are shown: the main menu (the reply to the card's
# keyword), a list, and the answers to HELP, STOP and START.
SAMPLE_KINDS = ("menu", "list", "help", "stop", "start")
# How the list sample is reached from the main menu: talk now, then the other 24/7 lines.
LIST_PATH = ("1", "1")
# What Twilio takes (its API reference): a campaign's 2 to 5 samples of 20 to 1024 characters,
# its description and message flow of 40 characters or more, and opt-in, opt-out and help
# replies of 20 to 320 characters.
SAMPLE_LENGTH = (20, 1024)
REPLY_LENGTH = (20, 320)
DESCRIPTION_MIN = 40
CAMPAIGN_SAMPLES = (("en", "menu"), ("en", "list"), ("en", "help"), ("es", "menu"), ("es", "list"))
# Twilio's categories and use case that fit a line people text for information and referral.
TOLLFREE_USE_CASES = ("CUSTOMER_CARE",)
CAMPAIGN_USE_CASE = "CUSTOMER_CARE"
# A person texts a keyword they read on a card: Twilio's opt-in type for that.
OPT_IN_TYPE = "VIA_TEXT"
DEFAULT_VOLUME = "1,000"
# Shown in the texts where the line's public address belongs, until PUBLIC_URL is set.
PUBLIC_URL_PLACEHOLDER = "https://(HOTLINE_BRIDGE_PUBLIC_URL)"
BUSINESS_TYPES = ("NON_PROFIT", "GOVERNMENT", "PRIVATE_PROFIT", "PUBLIC_PROFIT")
_EIN = re.compile(r"^\d{2}-?\d{7}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SID = {"MG": re.compile(r"^MG[0-9a-f]{32}$"), "BN": re.compile(r"^BN[0-9a-f]{32}$")}
_LINK = re.compile(r"https?://|www\.", re.I)
_PHONE = re.compile(r"\d[\d\s().-]{6,}\d")


class Refused(Exception):
    """The submission cannot be sent: each line names a setting or field and what is wrong."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Submission:
    """One registration to send: a toll-free verification for ``number``, or the Messaging
    Service's A2P 10DLC campaign; ``fields`` are the twilio library's arguments, in order."""

    kind: str
    subject: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Line:
    """What the submissions are built from: the line's words and the organisation's."""

    site: Site
    number: str
    keywords: Mapping[str, str]
    samples: Mapping[str, Mapping[str, str]]
    words: Mapping[str, tuple[str, ...]]
    public_url: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def privacy_url(self) -> str:
        return f"{self.public_url}/privacy"

    @property
    def image_url(self) -> str:
        return f"{self.public_url}/optin/{self.site.id}.png"


# --- The line's own words -------------------------------------------------------------------------


def samples(
    app: Flask, site: Site, number: str, keywords: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Text the line as a person would, in each language, and return what it answers: the main
    menu (to the card's keyword), a list, HELP, STOP and START. Where the line stays silent
    because Twilio's Advanced Opt-Out answers, the sample is the reply set there."""
    rt: Runtime = app.extensions["hotline_bridge"]
    found: dict[str, dict[str, str]] = {}
    for lang, keyword in keywords.items():
        words = rt.catalogs.bind(lang)
        talk = SmsSimulator(app, number)
        menu = talk.send(keyword)[1]
        listed = [talk.send(choice)[1] for choice in LIST_PATH][-1]
        said = {"menu": menu, "list": listed}
        for meaning in ("help", "stop", "start"):
            first = (rt.keywords.words(meaning, lang) or rt.keywords.words(meaning, "en"))[0]
            answer = SmsSimulator(app, number).send(first)[1]
            said[meaning] = answer or text.compliance(
                words, "sms", site, rt.failsafe.hotline_phone, meaning
            )
        found[lang] = said
    return found


def card_keywords(app: Flask, site: Site) -> tuple[str, dict[str, str]]:
    """Return the number the site's card prints and its keyword in each language, proven to
    open the site's menu; raise ``Refused`` when none is (the card could not be printed)."""
    from hotline_bridge.printing.proof import prove

    rt: Runtime = app.extensions["hotline_bridge"]
    number, found = "", {}
    for lang in rt.catalogs.languages:
        proven = prove(app, site, lang)
        if proven is None:
            raise Refused([f"site {site.id}: no number and keyword open its menu in {lang}"])
        number = number or proven.number
        found[lang] = proven.keyword
    return number, found


def line_for(app: Flask, site: Site) -> Line:
    """Return what ``site``'s submissions are built from, texting the line for its samples
    (the command's and the console's alike); raise ``Refused`` when no card opens its menu."""
    number, keywords = card_keywords(app, site)
    return Line(
        site=site,
        number=number,
        keywords=keywords,
        samples=samples(app, site, number, keywords),
        words=line_words(app.extensions["hotline_bridge"]),
        public_url=app.config["PUBLIC_URL"] or PUBLIC_URL_PLACEHOLDER,
        config=app.config,
    )


def line_words(rt: Runtime) -> dict[str, tuple[str, ...]]:
    """Return the keywords that opt in, opt out and ask for help, every language's."""

    def every(*meanings: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for meaning in meanings:
            for lang in rt.catalogs.languages:
                seen.update(dict.fromkeys(rt.keywords.words(meaning, lang)))
        return tuple(seen)

    return {"opt_in": every("greeting", "start"), "opt_out": every("stop"), "help": every("help")}


# --- The texts reviewers read ---------------------------------------------------------------------


def description(words: Words, line: Line) -> str:
    program = line.site.program_name(words.lang) or words.t("program.name")
    business = line.config.get("BUSINESS_NAME") or program
    return words.t("register.description", program=program, business=business)


def message_flow(words: Words, line: Line, number: str) -> str:
    """How people opt in: texting the card's keyword to ``number``."""
    return words.t(
        "register.message_flow",
        keywords=", ".join(line.keywords.values()),
        number=number,
        image=line.image_url,
        rates=words.t("print.rates", help=line.words["help"][0], stop=line.words["opt_out"][0]),
        privacy=line.privacy_url,
    )


def additional(words: Words, line: Line) -> str:
    """Every sample in every language, labelled, for the verification's extra information."""
    parts = []
    for lang, said in line.samples.items():
        language = words.catalogs.text(lang, "kiosk.language_name")
        for kind in SAMPLE_KINDS:
            label = words.t(f"register.sample.{kind}", language=language)
            parts.append(f"{label}:\n{said[kind]}")
    return "\n\n".join(parts)


def _embedded(samples: Sequence[str]) -> tuple[bool, bool]:
    return any(_LINK.search(s) for s in samples), any(_PHONE.search(s) for s in samples)


def tollfree_fields(
    words: Words, line: Line, number: str, number_sid: str, volume: str
) -> dict[str, Any]:
    """The toll-free verification's fields, as the twilio library names them."""
    c, en = line.config, line.samples[DEFAULT_LANGUAGE]
    return {
        "tollfree_phone_number_sid": number_sid,
        "business_name": c.get("BUSINESS_NAME"),
        "business_website": c.get("BUSINESS_WEBSITE"),
        "notification_email": c.get("CONTACT_EMAIL"),
        "use_case_categories": list(TOLLFREE_USE_CASES),
        "use_case_summary": description(words, line),
        "production_message_sample": en["menu"],
        "opt_in_image_urls": [line.image_url],
        "opt_in_type": OPT_IN_TYPE,
        "message_volume": volume,
        "opt_in_keywords": list(line.keywords.values()),
        "opt_in_confirmation_message": en["menu"],
        "help_message_sample": en["help"],
        "privacy_policy_url": line.privacy_url,
        "additional_information": message_flow(words, line, number)
        + "\n\n"
        + additional(words, line),
        "business_street_address": c.get("BUSINESS_STREET"),
        "business_city": c.get("BUSINESS_CITY"),
        "business_state_province_region": c.get("BUSINESS_STATE"),
        "business_postal_code": c.get("BUSINESS_POSTAL_CODE"),
        "business_country": c.get("BUSINESS_COUNTRY"),
        "business_contact_first_name": c.get("CONTACT_FIRST_NAME"),
        "business_contact_last_name": c.get("CONTACT_LAST_NAME"),
        "business_contact_email": c.get("CONTACT_EMAIL"),
        "business_contact_phone": c.get("CONTACT_PHONE"),
        "business_registration_number": c.get("BUSINESS_EIN"),
        "business_registration_authority": "EIN",
        "business_registration_country": c.get("BUSINESS_COUNTRY"),
        "business_type": c.get("BUSINESS_TYPE"),
    }


def campaign_fields(words: Words, line: Line, number: str) -> dict[str, Any]:
    """The A2P 10DLC campaign's fields, as the twilio library names them."""
    chosen = [line.samples[lang][kind] for lang, kind in CAMPAIGN_SAMPLES if lang in line.samples]
    links, phones = _embedded(chosen)
    en = line.samples[DEFAULT_LANGUAGE]
    return {
        "brand_registration_sid": line.config.get("TWILIO_BRAND_SID"),
        "description": description(words, line),
        "message_flow": message_flow(words, line, number),
        "message_samples": chosen,
        "us_app_to_person_usecase": CAMPAIGN_USE_CASE,
        "has_embedded_links": links,
        "has_embedded_phone": phones,
        "opt_in_message": en["menu"],
        "opt_out_message": en["stop"],
        "help_message": en["help"],
        "opt_in_keywords": list(line.words["opt_in"]),
        "opt_out_keywords": list(line.words["opt_out"]),
        "help_keywords": list(line.words["help"]),
        "subscriber_opt_in": True,
        "age_gated": False,
        "direct_lending": False,
        "privacy_policy_url": line.privacy_url,
    }


# --- Refusing what would be refused ---------------------------------------------------------------


def _setting(name: str) -> str:
    return f"HOTLINE_BRIDGE_{name}"


def organisation_problems(config: Mapping[str, Any], *, campaign: bool) -> list[str]:
    """Name every organisation detail a submission needs that is missing or malformed."""
    problems = []

    def need(name: str, ok: Callable[[str], bool], what: str) -> None:
        value = str(config.get(name) or "").strip()
        if not value:
            problems.append(f"{_setting(name)}: missing ({what})")
        elif not ok(value):
            problems.append(f"{_setting(name)}: {value!r} is not {what}")

    public = str(config.get("PUBLIC_URL") or "")
    if not public.startswith("https://"):
        problems.append(
            f"{_setting('PUBLIC_URL')}: missing or not https:// (the privacy page and the opt-in "
            "image must be public there)"
        )
    need("BUSINESS_NAME", bool, "the organisation's legal name")
    need("BUSINESS_EIN", lambda v: bool(_EIN.match(v)), "an EIN such as 12-3456789")
    need("BUSINESS_TYPE", lambda v: v in BUSINESS_TYPES, f"one of {', '.join(BUSINESS_TYPES)}")
    need("BUSINESS_WEBSITE", lambda v: v.startswith("https://") and "." in v, "an https:// site")
    need("BUSINESS_STREET", bool, "a street address")
    need("BUSINESS_CITY", bool, "a city")
    need("BUSINESS_COUNTRY", lambda v: bool(re.fullmatch(r"[A-Z]{2}", v)), "two capital letters")
    us = str(config.get("BUSINESS_COUNTRY") or "") == "US"
    need("BUSINESS_STATE", lambda v: not us or bool(re.fullmatch(r"[A-Z]{2}", v)), "a state (MA)")
    need("BUSINESS_POSTAL_CODE", lambda v: not us or ZIP_CODE.match(v) is not None, "a ZIP code")
    need("CONTACT_FIRST_NAME", bool, "a first name")
    need("CONTACT_LAST_NAME", bool, "a last name")
    need("CONTACT_EMAIL", lambda v: bool(_EMAIL.match(v)), "an email address")
    need("CONTACT_PHONE", _e164, "a phone number as +1 and ten digits")
    if campaign:
        need("TWILIO_MESSAGING_SERVICE_SID", _sid("MG"), "a Messaging Service SID (MG…)")
        need("TWILIO_BRAND_SID", _sid("BN"), "an A2P 10DLC brand SID (BN…)")
    return problems


def _sid(prefix: str) -> Callable[[str], bool]:
    return lambda value: bool(_SID[prefix].match(value))


def _e164(value: str) -> bool:
    try:
        return value.startswith("+") and phonenumbers.is_possible_number(phonenumbers.parse(value))
    except phonenumbers.NumberParseException:
        return False


def field_problems(submission: Submission) -> list[str]:
    """Name every field Twilio would refuse for its length."""
    f, problems = submission.fields, []

    def length(name: str, value: str, low: int, high: int | None = None) -> None:
        if len(value) < low or (high is not None and len(value) > high):
            limit = f"{low} to {high}" if high else f"at least {low}"
            problems.append(f"{name}: {len(value)} characters; Twilio takes {limit}")

    if submission.kind == "campaign":
        length("description", f["description"], DESCRIPTION_MIN)
        length("message_flow", f["message_flow"], DESCRIPTION_MIN)
        for n, sample in enumerate(f["message_samples"], 1):
            length(f"message_samples[{n}]", sample, *SAMPLE_LENGTH)
        for name in ("opt_in_message", "opt_out_message", "help_message"):
            length(name, f[name], *REPLY_LENGTH)
    else:
        length("use_case_summary", f["use_case_summary"], DESCRIPTION_MIN)
        length("production_message_sample", f["production_message_sample"], *SAMPLE_LENGTH)
    return problems


# --- Building and sending ---------------------------------------------------------------------


def build(
    words: Words, line: Line, numbers: Sequence[str], sids: Mapping[str, str], volume: str
) -> list[Submission]:
    """Return the submissions ``numbers`` need: one toll-free verification per toll-free number
    (``sids`` gives each number's SID), and one campaign if any is a long code."""
    found = []
    for number in numbers:
        if registration.kind_of(number) == "toll_free":
            sid = sids.get(number, "(looked up on sending)")
            fields = tollfree_fields(words, line, number, sid, volume)
            found.append(Submission("toll_free", number, fields))
    long_codes = [n for n in numbers if registration.kind_of(n) == "long_code"]
    if long_codes:
        service = str(line.config.get("TWILIO_MESSAGING_SERVICE_SID") or "(none)")
        shown = line.number if line.number in long_codes else long_codes[0]
        found.append(Submission("campaign", service, campaign_fields(words, line, shown)))
    return found


def already(client: Client, submission: Submission) -> str | None:
    """Return the status of a submission Twilio already holds for the same number or service
    (anything but a rejection), so it is not sent twice; None when there is none."""
    try:
        if submission.kind == "toll_free":
            listed = client.messaging.v1.tollfree_verifications.list(
                tollfree_phone_number_sid=submission.fields["tollfree_phone_number_sid"], limit=20
            )
            live = [v for v in listed if v.status != registration.TOLLFREE_REJECTED]
            return f"{live[0].sid} {live[0].status}" if live else None
        api = client.messaging.v1.services(submission.subject).us_app_to_person
        campaigns = [c for c in api.list(limit=20) if c.campaign_status != "FAILED"]
        return f"{campaigns[0].sid} {campaigns[0].campaign_status}" if campaigns else None
    except TwilioException as exc:
        raise refused("look for an earlier submission", exc) from None


def send(client: Client, submission: Submission) -> tuple[str, str]:
    """Send one submission; return the id and status Twilio gives it."""
    try:
        if submission.kind == "toll_free":
            made = client.messaging.v1.tollfree_verifications.create(**submission.fields)
            return str(made.sid), str(made.status)
        api = client.messaging.v1.services(submission.subject).us_app_to_person
        made = api.create(**submission.fields)
        return str(made.sid), str(made.campaign_status)
    except TwilioException as exc:
        raise refused(f"submit {submission.kind.replace('_', '-')}", exc) from None


def number_sid(client: Client, number: str) -> str:
    """Return the SID of one of the account's numbers; refuse a number it does not hold."""
    found = registration.find_number(client, number)
    if found is None:
        raise TwilioSetupError(f"{number}: not a number of this Twilio account")
    return str(found.sid)


__all__ = [
    "Line",
    "Refused",
    "Submission",
    "build",
    "card_keywords",
    "field_problems",
    "line_words",
    "organisation_problems",
    "samples",
    "send",
]
