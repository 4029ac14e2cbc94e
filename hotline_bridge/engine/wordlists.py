"""Reading free text with word lists kept in ``flows/``: which language a message is written in
(whether it suggests danger is ``engine.danger``'s work).

The lists are plain words, reviewable by clinic staff, matched after the same normalisation as
keywords (case, accents and punctuation ignored). Nothing a person wrote is kept: a message is
read once and only the answer (a language code) goes on.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Letters and marks that only Spanish, of the languages offered, writes.
_SPANISH_MARKS = frozenset("áéíóúñü¿¡")
# How much one such letter weighs against one known word.
_MARK_WEIGHT = 2


class WordListError(Exception):
    """A word list file is malformed."""


def words_of(text: str) -> list[str]:
    """Return the words of ``text``, lower-cased, accents and punctuation removed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("'", "").replace("\u2019", "")
    return re.findall(r"[a-z0-9]+", plain)


def _read(path: Path) -> Mapping[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WordListError(f"{path}: {exc}") from None


def _lists(path: Path, data: Mapping[str, object]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for lang, words in data.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise WordListError(f"{path}: [{lang}] must be a list of words")
        lists[lang] = words
    return lists


@dataclass(frozen=True)
class LanguageGuesser:
    """Tells the language of a message from the words it uses."""

    words: Mapping[str, frozenset[str]]

    @classmethod
    def load(cls, path: str | Path) -> LanguageGuesser:
        """Read the word lists at ``path`` (a ``[words]`` table of lists by language)."""
        path = Path(path)
        table = _read(path).get("words", {})
        if not isinstance(table, dict):
            raise WordListError(f"{path}: [words] must be a table")
        lists = _lists(path, table)
        # A word both languages write tells neither apart.
        counts: dict[str, int] = {}
        for words in lists.values():
            for word in set(words):
                counts[word] = counts.get(word, 0) + 1
        lists = {lang: [w for w in ws if counts[w] == 1] for lang, ws in lists.items()}
        return cls(
            {
                lang: frozenset(" ".join(w).strip() for w in map(words_of, ws))
                for lang, ws in lists.items()
            }
        )

    def guess(self, text: str, languages: Iterable[str], *, clearly: bool = False) -> str | None:
        """Return the language among ``languages`` whose words ``text`` uses most, or None when
        it gives no clue or two languages tie. ``clearly`` asks for more: two clues or more,
        and none for any other language (to switch a conversation already under way)."""
        found = _without_spelled_letters(words_of(text))
        scores = {lang: sum(w in self.words.get(lang, ()) for w in found) for lang in languages}
        if "es" in scores:
            scores["es"] += _MARK_WEIGHT * sum(ch in _SPANISH_MARKS for ch in text.lower())
        best = max(scores.values(), default=0)
        winners = [lang for lang, score in scores.items() if score == best]
        if best == 0 or len(winners) > 1:
            return None
        if clearly and (best < 2 or sum(scores.values()) != best):
            return None
        return winners[0]


def _without_spelled_letters(words: list[str]) -> list[str]:
    """Return ``words`` without runs of two or more one-letter words: letters spelled out
    ("S.O.S.", "S O S") say nothing of the language, though "o" and "y" are Spanish words."""
    kept: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1:
            run.append(word)
            continue
        if len(run) == 1:
            kept.extend(run)
        run = []
        if word:
            kept.append(word)
    return kept
