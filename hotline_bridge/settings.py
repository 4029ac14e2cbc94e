"""Every setting, declared once with its default and help text, and the one place they are parsed.

Operators set them as environment variables prefixed ``HOTLINE_BRIDGE_``
(``HOTLINE_BRIDGE_DATABASE``); tests and embedders pass a mapping to ``create_app``. The README's
settings table and a test read ``SETTINGS``, so nothing here can go undocumented.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hotline_bridge.directory.national import parse_confirmations, parse_overrides

ENV_PREFIX = "HOTLINE_BRIDGE"

# The repository root: flows/ and locales/ live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Words that must never appear on a first-contact surface (first reply, main menu, voice greeting,
# kiosk home page), because someone may be reading over the person's shoulder.
DEFAULT_SENSITIVE_WORDS = (
    "trafficking, trafficked, trata, abuse, abuso, violence, violencia, escape, police, policía, "
    "victim, víctima, exploitation, explotación"
)

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """A setting is missing or malformed; raised at start-up, never in the middle of a call."""


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _int(value: Any) -> int:
    # Every whole-number setting is a count or a length of time: none can be below 0.
    if isinstance(value, bool) or int(value) < 0:
        raise ValueError(f"expected a whole number of 0 or more, got {value!r}")
    return int(value)


def _per_site(value: Any) -> dict[str, int]:
    """A whole number for every site ("10"), then some sites' own ("10, clinic-b=0"); the
    default is under the key ""."""
    if isinstance(value, Mapping):
        return {str(site): _int(count) for site, count in value.items()}
    counts: dict[str, int] = {}
    for part in str(value).split(","):
        site, named, count = part.strip().rpartition("=")
        if part.strip():
            counts[site.strip() if named else ""] = _int(count.strip())
    if "" not in counts:
        raise ValueError(f"expected a number for every site first, such as 10, got {value!r}")
    return counts


def _str(value: Any) -> str:
    return str(value)


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _public_url(value: Any) -> str | None:
    text = str(value or "").strip().rstrip("/")
    if not text:
        return None
    parsed = urlsplit(text)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(f"expected an address such as https://line.example.org, got {value!r}")
    if parsed.query or parsed.fragment:
        raise ValueError(f"expected a base address without ? or #, got {value!r}")
    return text


def _words(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


@dataclass(frozen=True)
class Setting:
    """One setting: its name without the prefix, default, parser and the help operators read."""

    name: str
    default: Any
    help: str
    parse: Callable[[Any], Any] = _str
    # Shown masked by ``hotline-bridge settings``: a value anyone could read off a terminal.
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE",
        "instance/hotline-bridge.db",
        "SQLite file holding the directory and the per-day counts. Created and seeded with the "
        "national lines on first start. A relative path is taken from the project folder.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Key that signs the SMS conversation cookie. Required outside local mode.",
        _optional_str,
        secret=True,
    ),
    Setting(
        "TWILIO_ACCOUNT_SID",
        None,
        "Twilio account SID, used by 'hotline-bridge twilio connect' and 'twilio check' and to "
        "delete Twilio's copies of messages and calls.",
        _optional_str,
    ),
    Setting(
        "TWILIO_AUTH_TOKEN",
        None,
        "Twilio auth token: checks X-Twilio-Signature on every webhook. Required outside local "
        "mode.",
        _optional_str,
        secret=True,
    ),
    Setting(
        "VALIDATE_SIGNATURES",
        True,
        "Answer 403 to webhooks without a valid X-Twilio-Signature. Can be turned off only in "
        "local mode.",
        _bool,
    ),
    Setting(
        "PROXY_HOPS",
        0,
        "How many trusted reverse proxies stand in front of the app (their X-Forwarded-* headers "
        "rebuild the URL Twilio signed).",
        _int,
    ),
    Setting(
        "PUBLIC_URL",
        None,
        "The public base address Twilio posts to, such as https://line.example.org (with any "
        "path prefix the proxy removes). Signatures are checked against it, and X-Forwarded-Host "
        "and X-Forwarded-Prefix are ignored. Required outside local mode (see TRUST_HOST_HEADER).",
        _public_url,
    ),
    Setting(
        "TRUST_HOST_HEADER",
        False,
        "Start without PUBLIC_URL outside local mode, checking signatures against the address "
        "each request names (Host, and the PROXY_HOPS proxies' X-Forwarded headers). A "
        "signature made for another address can then be accepted; the server warns at every "
        "start. Set PUBLIC_URL instead.",
        _bool,
    ),
    Setting(
        "COUNTS_FLUSH_SECONDS",
        2,
        "Seconds between a worker's background writes of its batched usage counts, so counting "
        "never delays a reply. 0 writes each count at once without waiting for a locked "
        "database (for tests); counts a worker had not yet written are lost if it is killed.",
        _int,
    ),
    Setting(
        "CHANGE_CHECK_MS",
        50,
        "Milliseconds a worker thread trusts its last look at the database file before looking "
        "again: whether it was deleted or replaced (a restore) and whether another process "
        "changed it, which drops the answers kept for repeated menu choices. Changes reach "
        "replies within this time; 0 looks at every request (for tests).",
        _int,
    ),
    Setting(
        "LOCAL",
        False,
        "Local trial mode (make run): generated secrets, signature checks may be off. Never in "
        "production.",
        _bool,
    ),
    Setting(
        "SESSION_MINUTES",
        15,
        "Minutes an SMS conversation keeps its place and language; after that the person starts "
        "at the main menu.",
        _int,
    ),
    Setting(
        "SMS_OPT_OUT_BY_TWILIO",
        False,
        "Stay silent on STOP, START and HELP because Twilio's Advanced Opt-Out answers them "
        "instead (the messages are configured in the Twilio console).",
        _bool,
    ),
    Setting(
        "DELETE_TWILIO_RECORDS",
        False,
        "After a message or call ends, ask Twilio to delete its own copy (needs the account SID "
        "and auth token).",
        _bool,
    ),
    Setting(
        "CALLBACKS_PER_HOUR",
        10,
        "Calls a site's SMS line places at most in any hour (all workers together) when people "
        "reply CALL to be rung from the line's number and connected to the 24/7 line; 0 offers "
        "no such call. "
        "Sites may have their own after the default: 10, clinic-b=0.",
        _per_site,
    ),
    Setting(
        "TWILIO_MESSAGING_SERVICE_SID",
        None,
        "SID (MG...) of the Twilio Messaging Service holding the line's numbers, whose status "
        "callback and Advanced Opt-Out 'hotline-bridge twilio connect' sets up and checks.",
        _optional_str,
    ),
    Setting(
        "METRICS_TOKEN",
        None,
        "Bearer token that lets a Prometheus server read /metrics; without it /metrics answers "
        "only requests from a loopback address, and none at all behind a proxy (PROXY_HOPS).",
        _optional_str,
        secret=True,
    ),
    Setting(
        "VOICE_EN",
        None,
        "Voice that reads English on the voice line, instead of the one in "
        "locales/en/language.toml (Polly.Joanna-Neural): a Twilio Polly or Google voice that "
        "speaks VOICE_LANGUAGE_EN.",
        _optional_str,
    ),
    Setting(
        "VOICE_LANGUAGE_EN",
        None,
        "Language of English speech on the voice line, for reading and for recognising speech, "
        "instead of the one in locales/en/language.toml (en-US).",
        _optional_str,
    ),
    Setting(
        "VOICE_ES",
        None,
        "Voice that reads Spanish on the voice line, instead of the one in "
        "locales/es/language.toml (Polly.Lupe-Neural): a Twilio Polly or Google voice that "
        "speaks VOICE_LANGUAGE_ES, such as Polly.Mia-Neural for es-MX.",
        _optional_str,
    ),
    Setting(
        "VOICE_LANGUAGE_ES",
        None,
        "Language of Spanish speech on the voice line (es-US or es-MX), for reading and for "
        "recognising speech, instead of the one in locales/es/language.toml (es-US).",
        _optional_str,
    ),
    Setting(
        "VOICE_DIAL_TIMEOUT",
        25,
        "Seconds a line rings when a caller is connected, before they hear the number and other "
        "choices.",
        _int,
    ),
    Setting(
        "VOICE_GATHER_TIMEOUT",
        6,
        "Seconds of silence after a voice menu before it is repeated (once, then the caller is "
        "offered the 24/7 line).",
        _int,
    ),
    Setting(
        "CONFIRMED_LINES",
        "",
        "National lines this deployment has confirmed at their source since they were flagged "
        "for re-verification, as id@YYYY-MM-DD separated by commas (e.g. nhth@2026-12-08). A "
        "flagged number is never sent or printed until its row is confirmed.",
        parse_confirmations,
    ),
    Setting(
        "NATIONAL_OVERRIDES",
        "",
        "A reviewed CSV file (id, field, value, source, date) of changes to the shipped national "
        "lines, each with the https:// page it was checked at and the day; 'hotline-bridge "
        "check' shows every one. The only way a deployment changes a national line. A relative "
        "path is taken from the project folder.",
        lambda value: parse_overrides(resolve_path(str(value)) if value else value),
    ),
    Setting(
        "CONFIRM_EVERY_DAYS",
        180,
        "Days after which 'hotline-bridge check' lists a local service as not confirmed (a "
        "service is confirmed each time an import or 'hotline-bridge services' writes it).",
        _int,
    ),
    Setting(
        "SENSITIVE_WORDS",
        DEFAULT_SENSITIVE_WORDS,
        "Comma-separated words that must never appear on a first-contact surface; "
        "'hotline-bridge check' fails if one does.",
        _words,
    ),
    Setting(
        "FLOW_FILE",
        "flows/main.toml",
        "The menu flow definition. A relative path is taken from the project folder.",
    ),
    Setting(
        "LOCALES_DIR",
        "locales",
        "Folder of the gettext catalogs (<lang>/LC_MESSAGES/messages.po and .mo).",
    ),
    Setting(
        "KIOSK_IDLE_SECONDS",
        90,
        "Seconds without a touch before the kiosk offers to start over (a countdown with an "
        "\"I'm still here\" button), then returns home in the site's default language.",
        _int,
    ),
    Setting(
        "KIOSK_COUNTDOWN_SECONDS",
        20,
        "Seconds the kiosk's start-over countdown stays on screen; at least 20, so a person has "
        "time to answer it.",
        _int,
    ),
    Setting(
        "KIOSK_WELCOME_SECONDS",
        60,
        "Seconds the neutral page a quick exit shows stays up without a touch before the kiosk "
        "returns to its home page by itself (leaving nothing in the browser's history).",
        _int,
    ),
    Setting(
        "CONSOLE_IDLE_MINUTES",
        15,
        "Minutes a clinic console session may stay unused before staff must sign in again.",
        _int,
    ),
    Setting(
        "CONSOLE_MIN_COUNT",
        5,
        "The console never shows or downloads a usage count below this for a day and step, so "
        "no count can single out one person.",
        _int,
    ),
)


def resolve_path(value: str | Path) -> Path:
    """Return ``value`` as an absolute path, relative ones taken from the project folder."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def load(app_config: Mapping[str, Any]) -> dict[str, Any]:
    """Parse and check every setting found in ``app_config``; return the clean values.

    Raises ``ConfigError`` naming the setting when a value is malformed or a required secret is
    missing outside local mode.
    """
    clean: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = app_config.get(setting.name, setting.default)
        try:
            clean[setting.name] = raw if raw is None else setting.parse(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{ENV_PREFIX}_{setting.name}: {exc}") from None
    _check_secrets(clean, testing=bool(app_config.get("TESTING")))
    _check_address(clean, relaxed=bool(app_config.get("TESTING") or app_config.get(OFFLINE)))
    return clean


def _check_secrets(clean: dict[str, Any], *, testing: bool) -> None:
    relaxed = clean["LOCAL"] or testing
    if not clean["VALIDATE_SIGNATURES"] and not clean["LOCAL"]:
        raise ConfigError(
            f"{ENV_PREFIX}_VALIDATE_SIGNATURES can be turned off only with {ENV_PREFIX}_LOCAL=1"
        )
    for name in MADE_IN_LOCAL_MODE:
        if clean[name]:
            continue
        if not relaxed:
            raise ConfigError(f"{ENV_PREFIX}_{name} must be set outside local mode")
        clean[name] = secrets.token_hex(32)
    if clean["LOCAL"] and not clean["VALIDATE_SIGNATURES"]:
        log.warning(
            "LOCAL MODE: Twilio signature checks are OFF. Never expose this server to the internet."
        )


# Set by commands that answer no webhook (``cli/offline.py``): they need no ``PUBLIC_URL``.
OFFLINE = "HOTLINE_BRIDGE_OFFLINE"


def _check_address(clean: dict[str, Any], *, relaxed: bool) -> None:
    """Refuse to serve Twilio without the address it posts to (``PUBLIC_URL``): the address a
    request names can be spoofed, and a signature made for another one would be accepted."""
    if clean["PUBLIC_URL"] or clean["LOCAL"] or relaxed:
        return
    if not clean["TRUST_HOST_HEADER"]:
        raise ConfigError(
            f"{ENV_PREFIX}_PUBLIC_URL must be set outside local mode (the address Twilio posts "
            f"to, which signatures are checked against)"
        )
    log.warning(
        "%s_TRUST_HOST_HEADER is on: Twilio signatures are checked against the address each "
        "request names, and one made for another address may be accepted. Set %s_PUBLIC_URL.",
        ENV_PREFIX,
        ENV_PREFIX,
    )


# How a secret is shown by ``hotline-bridge settings``: whether it is set, never any of it.
MASK = "******** (set)"


def effective(app_config: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return each setting's value in effect in ``app_config`` (secrets masked), where it came
    from, and a problem when the value cannot be parsed, for ``hotline-bridge settings``."""
    rows = []
    local = _parsed_or_none(app_config, "LOCAL")
    for s in SETTINGS:
        given = s.name in app_config
        raw = app_config.get(s.name, s.default)
        try:
            value = raw if raw is None else s.parse(raw)
            problem = ""
        except (TypeError, ValueError) as exc:
            value, problem = raw, str(exc)
        shown = "(none)" if value in (None, "") else _shown(value)
        if local and not value and s.name in MADE_IN_LOCAL_MODE:
            shown = "(made anew at each start: local mode)"
        rows.append(
            {
                "variable": f"{ENV_PREFIX}_{s.name}",
                "value": MASK if s.secret and value else shown,
                "source": "environment" if given else "default",
                "problem": problem,
            }
        )
    return rows


# The secrets local mode makes up at each start when they are not set.
MADE_IN_LOCAL_MODE = ("SECRET_KEY", "TWILIO_AUTH_TOKEN")


def _parsed_or_none(app_config: Mapping[str, Any], name: str) -> Any:
    try:
        return value_of(app_config, name)
    except (TypeError, ValueError):
        return None


def value_of(app_config: Mapping[str, Any], name: str) -> Any:
    """Return one setting's value in ``app_config`` (else its default), parsed as the app
    parses it; raise ``ValueError`` or ``TypeError`` when it cannot be."""
    declared = next(s for s in SETTINGS if s.name == name)
    raw = app_config.get(name, declared.default)
    return raw if raw is None else declared.parse(raw)


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}@{day}" for key, day in value.items())
    return str(value)


def describe() -> list[dict[str, str]]:
    """Return each setting as its environment variable, default and help, for docs and --help."""
    return [
        {
            "variable": f"{ENV_PREFIX}_{s.name}",
            "default": "(none)" if s.default is None else json.dumps(s.default).strip('"'),
            "help": s.help,
        }
        for s in SETTINGS
    ]


# Going live: who runs the line, as carriers and Twilio ask before a number may send a message
# ('hotline-bridge twilio register'). Each is checked, by name, only when a registration is
# built, so a line that is not registering yet starts without them.
SETTINGS += (
    Setting(
        "BUSINESS_NAME",
        None,
        "Legal name of the organisation that runs the line, exactly as on its EIN (or other "
        "registration); named on the privacy page and in carrier registration.",
        _optional_str,
    ),
    Setting(
        "BUSINESS_EIN",
        None,
        "The organisation's US Employer Identification Number (NN-NNNNNNN), which toll-free "
        "verification and A2P 10DLC registration require.",
        _optional_str,
    ),
    Setting(
        "BUSINESS_TYPE",
        "NON_PROFIT",
        "The organisation's kind for toll-free verification: NON_PROFIT, GOVERNMENT, "
        "PRIVATE_PROFIT or PUBLIC_PROFIT.",
    ),
    Setting(
        "BUSINESS_WEBSITE",
        None,
        "The organisation's own https:// website, as carriers look it up.",
        _optional_str,
    ),
    Setting(
        "BUSINESS_STREET",
        None,
        "Street address of the organisation (the one on its registration).",
        _optional_str,
    ),
    Setting("BUSINESS_CITY", None, "City of the organisation's address.", _optional_str),
    Setting(
        "BUSINESS_STATE",
        None,
        "State of the organisation's address, as two letters (MA).",
        _optional_str,
    ),
    Setting(
        "BUSINESS_POSTAL_CODE",
        None,
        "ZIP code of the organisation's address (five digits).",
        _optional_str,
    ),
    Setting(
        "BUSINESS_COUNTRY",
        "US",
        "Country of the organisation's address and registration, as two letters.",
    ),
    Setting(
        "CONTACT_FIRST_NAME",
        None,
        "First name of the person carriers and Twilio contact about the registration.",
        _optional_str,
    ),
    Setting(
        "CONTACT_LAST_NAME",
        None,
        "Last name of the person carriers and Twilio contact about the registration.",
        _optional_str,
    ),
    Setting(
        "CONTACT_EMAIL",
        None,
        "Email address for the registration's results and for privacy questions (shown on the "
        "privacy page).",
        _optional_str,
    ),
    Setting(
        "CONTACT_PHONE",
        None,
        "Phone number of the registration's contact person, as +1 and ten digits.",
        _optional_str,
    ),
    Setting(
        "TWILIO_BRAND_SID",
        None,
        "SID (BN...) of the organisation's A2P 10DLC brand registration in Twilio, which a "
        "10DLC campaign for the Messaging Service's long codes is filed under.",
        _optional_str,
    ),
)
