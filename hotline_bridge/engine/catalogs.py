"""Wording in English and Spanish: the gettext catalogs under ``locales/``.

Every word a person reads or hears is a catalog entry keyed by a stable message id
(``menu.main``). Both languages, English included, translate every key, so staff change wording by
editing ``locales/<lang>/LC_MESSAGES/messages.po`` and a check can prove nothing is missing.
Catalogs are loaded once at start-up; a request never touches the disk for wording.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from babel.support import Translations

# The languages every deployment has; another is a folder of its own under locales/.
LANGUAGES = ("en", "es")
# Beside each messages.po folder: what the line needs to know about a language besides its
# wording (its switch keywords, and the voice and speech language that read it on a call).
PROFILE_FILE = "language.toml"
# A python-format placeholder such as %(number)s.
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"

# Where the Babel cycle looks for keys: Python code (calls to ``t``), flow files and templates.
BABEL_CONFIG = "babel.cfg"
TEMPLATE_FILE = "messages.pot"
# The calls whose string argument is a message key: ``words.t(key)``, ``catalogs.text(lang, key)``
# and the usual gettext names (templates use ``_``).
EXTRACT_KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None,
    "text": (2,),
    "pick": (2,),
    # The engine names wording by key in what it returns: a notice's key, a choice's label.
    "Notice": None,
    "Choice": (2,),
    "gettext": None,
    "_": None,
}


class CatalogError(Exception):
    """A compiled catalog is missing or a key has no translation."""


@dataclass(frozen=True)
class Profile:
    """What a language needs besides its wording, from ``locales/<lang>/language.toml``."""

    # The words that switch a text conversation to this language ("ES", "ESPAÑOL").
    keywords: tuple[str, ...]
    # The Twilio voice that reads it, and the language Twilio reads and hears it in; None for a
    # language no Twilio voice speaks.
    voice: str | None
    speech: str | None
    # For a language without a voice: the language whose voice and words its callers hear
    # instead; the greeting tells them, in that language, that theirs is offered by text.
    voice_fallback: str | None = None


def load_profile(locales_dir: Path, lang: str) -> Profile:
    """Read ``lang``'s profile; raise ``CatalogError`` when it is missing or incomplete: a
    language names a voice and its speech language, or the language calls fall back on."""
    path = locales_dir / lang / PROFILE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        voice, speech, fallback = (data.get(k) for k in ("voice", "speech", "voice_fallback"))
        profile = Profile(
            tuple(data["keywords"]),
            str(voice) if voice else None,
            str(speech) if speech else None,
            str(fallback) if fallback else None,
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise CatalogError(f"{path}: {type(exc).__name__}: {exc}") from None
    if not profile.keywords or not all(isinstance(k, str) and k for k in profile.keywords):
        raise CatalogError(f"{path}: keywords must be a list of words")
    if (profile.voice is None) != (profile.speech is None):
        raise CatalogError(f"{path}: voice and speech go together")
    if profile.voice is None and profile.voice_fallback in (None, lang):
        raise CatalogError(f"{path}: give a voice and speech, or the voice_fallback of calls")
    return profile


def _read_compiled(mo: Path) -> Translations:
    """Read a compiled catalog; raise ``CatalogError`` when it is damaged (gettext's parser
    fails in several ways: a bad magic number, a cut-off file, text in no known encoding)."""
    try:
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    except Exception as exc:  # any way the file cannot be read is the same refusal
        raise CatalogError(
            f"{mo}: the compiled catalog is damaged ({type(exc).__name__}); run 'make catalogs'"
        ) from None


class Catalogs:
    """The compiled catalogs of every language, and their profiles, loaded once."""

    def __init__(self, locales_dir: str | Path) -> None:
        self.locales_dir = Path(locales_dir)
        self._translations: dict[str, Translations] = {}
        self.profiles: dict[str, Profile] = {}
        for lang in present_languages(self.locales_dir):
            self.profiles[lang] = load_profile(self.locales_dir, lang)
            mo = self.locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if not mo.is_file():
                raise CatalogError(f"{mo}: compiled catalog missing (run 'make catalogs')")
            self._translations[lang] = _read_compiled(mo)
        self.languages: tuple[str, ...] = tuple(self._translations)
        # The answers of ``has``: the catalogs never change once loaded, and a channel asks
        # for its own variant of every key it writes.
        self._has: dict[str, bool] = {}

    def has(self, key: str) -> bool:
        """Return whether ``key`` is translated in every language."""
        known = self._has.get(key)
        if known is None:
            known = all(t.gettext(key) != key for t in self._translations.values())
            self._has[key] = known
        return known

    def text(self, lang: str, key: str, /, **params: object) -> str:
        """Return the wording of ``key`` in ``lang``, filled with ``params``.

        Raises ``CatalogError`` when the key is missing, so a gap never reaches a person as a raw
        key: the caller's fail-safe answers instead.
        """
        translated = self._translations[lang].gettext(key)
        if translated == key:
            raise CatalogError(f"{lang}: no translation for {key!r}")
        return translated % params if params else translated

    def bind(self, lang: str) -> Words:
        """Return a lookup bound to one language."""
        return Words(self, lang if lang in self._translations else DEFAULT_LANGUAGE)


def present_languages(locales_dir: Path) -> tuple[str, ...]:
    """Return the languages with a catalog under ``locales_dir``: the default first, then the
    others by code. English and Spanish must be there; another language is a folder of its own."""
    found = {p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    found |= set(LANGUAGES)
    return (DEFAULT_LANGUAGE, *sorted(found - {DEFAULT_LANGUAGE}))


@dataclass(frozen=True)
class Words:
    """Catalog lookups in one language; ``t`` is the name the Babel extractor looks for."""

    catalogs: Catalogs
    lang: str

    def t(self, key: str, /, **params: object) -> str:
        """Return the wording of ``key`` in this language."""
        return self.catalogs.text(self.lang, key, **params)

    def pick(self, channel: str, key: str, /, **params: object) -> str:
        """Return ``channel``'s own wording of ``key`` (the key ``<channel>.<key>``) where the
        catalogs have one, else the wording every channel shares."""
        variant = f"{channel}.{key}"
        return self.t(variant if self.catalogs.has(variant) else key, **params)


@dataclass(frozen=True)
class CatalogProblem:
    """One entry of a .po file that is missing, empty or fuzzy."""

    lang: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.lang}: {self.key}: {self.reason}"


def po_path(locales_dir: Path, lang: str) -> Path:
    """Return the path of ``lang``'s editable catalog."""
    return locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def audit(locales_dir: str | Path, required: AbstractSet[str]) -> Iterator[CatalogProblem]:
    """Yield every required key that is missing, empty or fuzzy in any language's .po file, and
    every entry that has an unfilled or extra placeholder compared with English."""
    locales_dir = Path(locales_dir)
    entries: dict[str, dict[str, object]] = {}
    languages = present_languages(locales_dir)
    for lang in languages:
        with po_path(locales_dir, lang).open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        entries[lang] = {str(m.id): m for m in catalog if m.id}
    for lang in languages:
        for key in sorted(required | set(entries[lang])):
            message = entries[lang].get(key)
            if message is None:
                yield CatalogProblem(lang, key, "missing")
            elif not message.string:  # type: ignore[attr-defined]
                yield CatalogProblem(lang, key, "empty")
            elif message.fuzzy:  # type: ignore[attr-defined]
                yield CatalogProblem(lang, key, "fuzzy")
            elif _placeholders(message) != _placeholders(entries["en"].get(key)):
                yield CatalogProblem(lang, key, "placeholders differ from English")


def _placeholders(message: object) -> set[str]:
    text = str(getattr(message, "string", "") or "")
    return set(_PLACEHOLDER.findall(text))


def run_babel(project_root: Path, command: str) -> None:
    """Run one step of the standard Babel cycle (extract, update or compile) on the project."""
    keywords = [
        arg
        for name, spec in EXTRACT_KEYWORDS.items()
        for arg in ("-k", f"{name}:{spec[0]}" if spec else name)
    ]
    argv = {
        "extract": [
            "extract",
            "-F",
            BABEL_CONFIG,
            *keywords,
            "--sort-by-file",
            "--no-wrap",
            "-o",
            f"locales/{TEMPLATE_FILE}",
            ".",
        ],
        "update": [
            "update",
            "-i",
            f"locales/{TEMPLATE_FILE}",
            "-d",
            "locales",
            "--no-fuzzy-matching",
            "--no-wrap",
        ],
        "compile": ["compile", "-d", "locales", "--statistics"],
    }[command]
    previous = Path.cwd()
    os.chdir(project_root)  # so the template names files relative to the project
    try:
        CommandLineInterface().run(["pybabel", "-q", *argv])
    finally:
        os.chdir(previous)
