"""What the app loads once at start-up and every request reads: flow, catalogs, keywords, fail-safe.

Loading checks everything (the flow's targets and message keys, both catalogs, the keyword file)
and raises a named error with the file at fault, so a broken deployment refuses to start instead
of failing in the middle of a call.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from hotline_bridge.directory import store as database
from hotline_bridge.directory.models import display_number
from hotline_bridge.engine.catalogs import LANGUAGES, Catalogs
from hotline_bridge.engine.flow import Flow, load
from hotline_bridge.engine.keywords import Keywords
from hotline_bridge.settings import resolve_path

KEYWORDS_FILE = "flows/keywords.toml"


@dataclass(frozen=True)
class FailSafe:
    """The static answer for when anything goes wrong, built at start-up from the catalogs and
    the checked hotline number, so giving it touches neither the database nor the disk."""

    texts: dict[str, str]
    hotline_phone: str

    def text(self, lang: str | None) -> str:
        """Return the fail-safe message in ``lang``, or in both languages if it is unknown."""
        if lang in self.texts:
            return self.texts[lang]
        return "\n".join(self.texts[code] for code in LANGUAGES)


@dataclass(frozen=True)
class Runtime:
    """Everything loaded and checked at start-up."""

    flow: Flow
    catalogs: Catalogs
    keywords: Keywords
    failsafe: FailSafe
    sensitive_words: tuple[str, ...]


def build_failsafe(catalogs: Catalogs, hotline_id: str) -> FailSafe:
    """Build the fail-safe wording for every language from the checked reference numbers."""
    rows = {row["id"]: row for row in database.read_national_lines()}
    line = rows[hotline_id]
    params = {"phone": display_number(line["voice"]), "emergency": rows["emergency"]["voice"]}
    texts = {lang: catalogs.text(lang, "failsafe.message", **params) for lang in LANGUAGES}
    return FailSafe(texts, line["voice"])


def load_runtime(app: Flask) -> Runtime:
    """Load and check the flow, catalogs and keywords named by the app's settings."""
    catalogs = Catalogs(resolve_path(app.config["LOCALES_DIR"]))
    flow: Flow = load(resolve_path(app.config["FLOW_FILE"]), known_keys=catalogs.has)
    return Runtime(
        flow=flow,
        catalogs=catalogs,
        keywords=Keywords.load(resolve_path(KEYWORDS_FILE)),
        failsafe=build_failsafe(catalogs, flow.hotline),
        sensitive_words=app.config["SENSITIVE_WORDS"],
    )


def runtime() -> Runtime:
    """Return the current app's runtime."""
    return current_app.extensions["hotline_bridge"]
