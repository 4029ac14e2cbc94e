"""The public privacy page (``GET /privacy``, ``/privacy/<lang>`` or ``/privacy?lang=es``).

Carriers ask for a privacy policy's address before a line may send a message, and people asking
for help deserve to know what happens to what they send. The page says what the line keeps and
does not keep from the same values the code enforces (the settings, the keyword file, the voice
key, how long a deletion waits), read when the page is drawn, so it cannot drift from them.

A kiosk's home page links here with its own address in ``back``: the page then returns to the
kiosk by itself after the kiosk's idle time (the kiosk's script, as its neutral welcome page
does), so a lobby screen never stays on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list
from flask import Blueprint, Flask, current_app, render_template, request, url_for

from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE, Words
from hotline_bridge.runtime import Runtime, runtime

# Twilio says a record deleted through its API can take up to this many days to leave its
# internal systems; it is Twilio's figure, not ours, so it lives here beside the others.
TWILIO_REMOVAL_DAYS = 14


@dataclass(frozen=True)
class Facts:
    """What the privacy page states, each read from where the code enforces it."""

    session_minutes: int
    min_count: int
    deletes_every_record: bool
    settle_seconds: int
    voice_key: str
    delete_words: Mapping[str, tuple[str, ...]]
    stop_words: Mapping[str, tuple[str, ...]]
    help_words: Mapping[str, tuple[str, ...]]
    removal_days: int
    business_name: str | None
    contact_email: str | None


def facts(config: Mapping[str, Any], rt: Runtime) -> Facts:
    """Return the facts the page states, from ``config`` (the app's settings) and ``rt``."""
    # Imported here: the privacy page must not pull the voice channel or Twilio's deletion
    # machinery into every process that only wants the dataclass.
    from hotline_bridge.channels.voice.render import KEY_FORGET
    from hotline_bridge.webhooks.forget import SETTLE_SECONDS

    def words(meaning: str) -> dict[str, tuple[str, ...]]:
        return {lang: rt.keywords.words(meaning, lang) for lang in rt.catalogs.languages}

    return Facts(
        session_minutes=int(config["SESSION_MINUTES"]),
        min_count=int(config["CONSOLE_MIN_COUNT"]),
        deletes_every_record=bool(config["DELETE_TWILIO_RECORDS"]),
        settle_seconds=int(SETTLE_SECONDS),
        voice_key=KEY_FORGET,
        delete_words=words("delete"),
        stop_words=words("stop"),
        help_words=words("help"),
        removal_days=TWILIO_REMOVAL_DAYS,
        business_name=config.get("BUSINESS_NAME"),
        contact_email=config.get("CONTACT_EMAIL"),
    )


def _either(words: Words, found: Mapping[str, tuple[str, ...]]) -> str:
    """Return the keywords of the page's language (else English) as "A, B or C"."""
    chosen = found.get(words.lang) or found.get(DEFAULT_LANGUAGE) or ()
    try:
        return format_list(list(chosen), style="or", locale=words.lang)
    except (ValueError, LookupError):  # a catalog language Babel does not know
        return ", ".join(chosen)


def paragraphs(words: Words, found: Facts) -> list[dict[str, Any]]:
    """Return the page's sections, each a heading and its paragraphs, in ``words``' language."""
    t = words.t
    twilio = [t("privacy.twilio.body")]
    if found.deletes_every_record:
        twilio.append(t("privacy.twilio.deleted", seconds=found.settle_seconds))
    else:
        twilio.append(t("privacy.twilio.on_request"))
    who = []
    if found.business_name:
        who.append(t("privacy.who.name", name=found.business_name))
    if found.contact_email:
        who.append(t("privacy.who.email", email=found.contact_email))
    sections = [
        {
            "heading": t("privacy.not_kept.title"),
            "body": [
                t("privacy.not_kept.body"),
                t("privacy.not_kept.state", minutes=found.session_minutes),
                t("privacy.not_kept.shared"),
            ],
        },
        {
            "heading": t("privacy.kept.title"),
            "body": [t("privacy.kept.body", minimum=found.min_count)],
        },
        {"heading": t("privacy.twilio.title"), "body": twilio},
        {
            "heading": t("privacy.delete.title"),
            "body": [
                t("privacy.delete.sms", keywords=_either(words, found.delete_words)),
                t("privacy.delete.voice", key=found.voice_key),
                t("privacy.delete.limits", days=found.removal_days),
                t(
                    "privacy.delete.stop",
                    stop=_either(words, found.stop_words),
                    help=_either(words, found.help_words),
                ),
            ],
        },
    ]
    if who:
        sections.append({"heading": t("privacy.who.title"), "body": who})
    return sections


def _back(given: str | None) -> str | None:
    """Return the kiosk page to go back to, if ``given`` is one of this server's kiosk pages:
    nothing else, so the link cannot send a lobby screen to another site."""
    kiosk = url_for("kiosk.page")
    if not given or not given.startswith(kiosk + "/"):
        return None
    if "//" in given or "\\" in given or "?" in given or "#" in given:
        return None
    return given


def page_url(lang: str, back: str | None = None) -> str:
    """Return the privacy page's address in ``lang`` (with the kiosk page to return to)."""
    return url_for("privacy.page", lang=lang, back=back)


bp = Blueprint("privacy", __name__)


@bp.get("/privacy", defaults={"lang": None})
@bp.get("/privacy/<lang>")
def page(lang: str | None) -> str:
    """The privacy page in ``lang`` (or ``?lang=``; else the default language)."""
    rt = runtime()
    chosen = lang or request.args.get("lang") or DEFAULT_LANGUAGE
    if chosen not in rt.catalogs.languages:
        chosen = DEFAULT_LANGUAGE
    words = rt.catalogs.bind(chosen)
    back = _back(request.args.get("back"))
    kiosk_settings = current_app.extensions.get("hotline_bridge.kiosk")
    return render_template(
        "privacy.html",
        lang=chosen,
        t=words.t,
        program=words.t("program.name"),
        sections=paragraphs(words, facts(current_app.config, rt)),
        others=[
            {
                "lang": other,
                "label": rt.catalogs.bind(other).t("kiosk.language_name"),
                "url": page_url(other, back),
            }
            for other in rt.catalogs.languages
            if other != chosen
        ],
        back=back,
        wait=kiosk_settings.idle_seconds if kiosk_settings else 90,
        css_url=url_for("kiosk.static", filename="kiosk.css"),
        js_url=url_for("kiosk.static", filename="kiosk.js"),
    )


def init_app(app: Flask) -> None:
    """Register the privacy page, and give the kiosk's templates the link to it."""
    app.register_blueprint(bp)
    kiosk = app.extensions.get("hotline_bridge.kiosk")
    if kiosk is not None:
        kiosk.templates.globals["privacy_url"] = page_url
