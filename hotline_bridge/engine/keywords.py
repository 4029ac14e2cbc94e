"""Turning what a person texted into a keyword and the language it suggests.

The keyword lists live in ``flows/keywords.toml`` so staff can change them without touching code;
the words that switch to a language live with its catalog (``locales/<lang>/language.toml``).
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# What a keyword can mean, in the order they are tried.
MEANINGS = (
    "stop",
    "start",
    "help",
    "delete",
    "emergency",
    "language",
    "home",
    "back",
    "more",
    "greeting",
)


class KeywordError(Exception):
    """The keyword file is malformed."""


def normalize(text: str) -> str:
    """Return ``text`` upper-cased with accents, spaces and punctuation removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(
        ch for ch in decomposed.upper() if ch.isalnum() and not unicodedata.combining(ch)
    )


def _as_written(text: str) -> str:
    """Return ``text`` upper-cased with spaces and punctuation removed, accents kept: "menú"
    is the Spanish MENÚ, though without its accent it is the English MENU too."""
    composed = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in composed.upper() if ch.isalnum())


@dataclass(frozen=True)
class Keyword:
    """A recognised keyword: what it means and which language it was written in."""

    meaning: str
    lang: str


class Keywords:
    """The keyword table, normalised once for fast lookups."""

    def __init__(
        self,
        table: dict[str, Keyword],
        written: dict[tuple[str, str], tuple[str, ...]] | None = None,
        accented: dict[str, Keyword] | None = None,
    ) -> None:
        self._table = table
        self._written = written or {}
        # Keywords as written, accents kept, for the language a word's accent tells.
        self._accented = accented or {}

    @classmethod
    def load(
        cls, path: str | Path, switches: Mapping[str, Sequence[str]] | None = None
    ) -> Keywords:
        """Read and check the keyword file at ``path``; ``switches`` are each language's words
        that switch to it (kept with its catalog), added to the file's ``[language]``."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise KeywordError(f"{path}: {exc}") from None
        data["language"] = {**data.get("language", {}), **(switches or {})}
        table: dict[str, Keyword] = {}
        accented: dict[str, Keyword] = {}
        written: dict[tuple[str, str], tuple[str, ...]] = {}
        for meaning in MEANINGS:
            for lang, words in data.get(meaning, {}).items():
                written[meaning, lang] = tuple(words)
                for word in words:
                    key = normalize(word)
                    known = table.get(key)
                    if known is not None and known.meaning != meaning:
                        raise KeywordError(
                            f"{path}: {word!r} is both [{known.meaning}] and [{meaning}]"
                        )
                    table.setdefault(key, Keyword(meaning, lang))
                    accented.setdefault(_as_written(word), Keyword(meaning, lang))
        for required in ("stop", "start", "help"):
            if not any(k.meaning == required for k in table.values()):
                raise KeywordError(f"{path}: no [{required}] keywords")
        return cls(table, written, accented)

    def words(self, meaning: str, lang: str) -> tuple[str, ...]:
        """Return the keywords of ``meaning`` in ``lang`` as the file writes them."""
        return self._written.get((meaning, lang), ())

    def match(self, text: str) -> Keyword | None:
        """Return the keyword ``text`` is, or None."""
        return self._accented.get(_as_written(text)) or self._table.get(normalize(text))
