"""What the app loads once at start-up and every request reads: flow, catalogs, keywords, fail-safe.

Loading checks everything (the flow's targets and message keys, both catalogs, the keyword file)
and raises a named error with the file at fault, so a broken deployment refuses to start instead
of failing in the middle of a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils
from flask import Flask, current_app

from hotline_bridge.channels.sms import render as sms_render
from hotline_bridge.directory import national
from hotline_bridge.directory.discreet import DiscreetNames, load_words
from hotline_bridge.directory.models import Site, display_number
from hotline_bridge.directory.store import DEFAULT_SITE
from hotline_bridge.directory.validation import CATEGORIES, Context, context_for
from hotline_bridge.engine.catalogs import Catalogs
from hotline_bridge.engine.danger import Danger
from hotline_bridge.engine.flow import Flow, load
from hotline_bridge.engine.keywords import Keywords
from hotline_bridge.engine.wordlists import LanguageGuesser
from hotline_bridge.settings import resolve_path

KEYWORDS_FILE = "flows/keywords.toml"
# Words that tell the language of a first message, and what suggests danger.
LANGUAGES_FILE = "flows/languages.toml"
DANGER_FILE = "flows/danger.toml"
# Words that make a service's own name unsafe to list (see ``directory.discreet``).
NAMES_FILE = "flows/sensitive-names.toml"


@dataclass(frozen=True)
class FailSafe:
    """The static answer for when anything goes wrong, built at start-up from the catalogs and
    the checked hotline number, so giving it touches neither the database nor the disk."""

    texts: dict[str, str]
    hotline_phone: str
    emergency_phone: str

    def text(self, lang: str | None) -> str:
        """Return the fail-safe message in ``lang``, or in every language if it is unknown."""
        if lang in self.texts:
            return self.texts[lang]
        return "\n".join(self.texts.values())


@dataclass(frozen=True)
class Runtime:
    """Everything loaded and checked at start-up."""

    flow: Flow
    catalogs: Catalogs
    keywords: Keywords
    failsafe: FailSafe
    sensitive_words: tuple[str, ...]
    guesser: LanguageGuesser
    danger: Danger
    discreet: DiscreetNames


def build_failsafe(
    catalogs: Catalogs, flow: Flow, overrides: Sequence[national.Override] = ()
) -> FailSafe:
    """Build the fail-safe wording for every language from the checked reference numbers of the
    flow's 24/7 line and emergency line, with the deployment's reviewed overrides applied (read
    once, here, for every channel)."""
    lines = national.by_id()
    hotline = national.overridden(lines[flow.hotline], overrides)[0].row["voice"]
    emergency = national.overridden(lines[flow.emergency], overrides)[0].row["voice"]
    params = {"phone": display_number(hotline), "emergency": emergency}
    texts = {lang: catalogs.text(lang, "failsafe.message", **params) for lang in catalogs.languages}
    return FailSafe(texts, hotline, emergency)


def build_discreet(catalogs: Catalogs) -> DiscreetNames:
    """Read the sensitive names list, with each category's discreet wording in every language."""
    wording = {
        (category, lang): catalogs.text(lang, f"directory.label.{category}")
        for category in CATEGORIES
        for lang in catalogs.languages
    }
    return DiscreetNames(load_words(resolve_path(NAMES_FILE)), wording)


def load_runtime(app: Flask) -> Runtime:
    """Load and check the flow, catalogs and keywords named by the app's settings."""
    catalogs = Catalogs(resolve_path(app.config["LOCALES_DIR"]))
    flow: Flow = load(resolve_path(app.config["FLOW_FILE"]), known_keys=catalogs.has)
    return Runtime(
        flow=flow,
        catalogs=catalogs,
        keywords=Keywords.load(
            resolve_path(KEYWORDS_FILE),
            {lang: profile.keywords for lang, profile in catalogs.profiles.items()},
        ),
        failsafe=build_failsafe(catalogs, flow, app.config["NATIONAL_OVERRIDES"]),
        sensitive_words=app.config["SENSITIVE_WORDS"],
        guesser=LanguageGuesser.load(resolve_path(LANGUAGES_FILE)),
        danger=Danger.load(resolve_path(DANGER_FILE)),
        discreet=build_discreet(catalogs),
    )


def runtime() -> Runtime:
    """Return the current app's runtime."""
    return current_app.extensions["hotline_bridge"]


def import_context(db: sqlite_utils.Database) -> Context:
    """Return the context every import checks rows in (the command's and the console's): the
    sites and national lines of ``db``, the words no label or name may show, each category's
    discreet wording, the SMS budget a service's details and a site's program name must fit,
    and the line's own keywords, which no site keyword may be."""
    rt = runtime()

    def default_label(category: str, lang: str) -> str:
        return rt.discreet.wording[(category, lang)]

    return context_for(
        db,
        rt.sensitive_words,
        default_label,
        rt.catalogs.languages,
        sensitive_names=rt.discreet.words,
        detail_fits=sms_render.detail_fits(rt.catalogs, rt.flow, Site(DEFAULT_SITE)),
        program_fits=sms_render.program_fits(rt.catalogs, rt.flow, rt.failsafe.hotline_phone),
        line_keywords=rt.keywords,
    )
