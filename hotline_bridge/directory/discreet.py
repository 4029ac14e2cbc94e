"""What a list may show of a service where someone else may see the screen.

A list shows a service by its own name unless the clinic gave it a discreet label. A name that
holds a word from ``flows/sensitive-names.toml`` and has no label is never what an onlooker
sees: the service is listed by its category's discreet wording instead (the catalog key
``directory.label.<category>``). The details of a service, shown only once the person chose
it from a list, keep its real name: the person asked for it, and needs it to find the place.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from hotline_bridge.directory.models import FALLBACK_LANGUAGE, Service, Texts


def fold(text: str) -> str:
    """Return ``text`` lower-cased without accents, so "Policía" and "policia" compare equal."""
    if text.isascii():  # no accents to take off (most names)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sensitive_hits(text: str, words: Sequence[str]) -> list[str]:
    """Return the sensitive ``words`` that start a word of ``text``, ignoring case and accents
    (so plurals and other forms count too: "víctimas", "abused")."""
    folded = fold(text)
    anyone, each = _word_patterns(tuple(words))
    if anyone is None or not anyone.search(folded):
        return []  # almost every name: one search, not one per word
    return [word for word, pattern in each if pattern.search(folded)]


@functools.lru_cache(maxsize=16)
def _word_patterns(
    words: tuple[str, ...],
) -> tuple[re.Pattern[str] | None, tuple[tuple[str, re.Pattern[str]], ...]]:
    """Compile, once per word list, a search for any of ``words`` and one for each."""
    folded = [re.escape(fold(word)) for word in words]
    each = tuple((word, re.compile(rf"(?<!\w){w}")) for word, w in zip(words, folded, strict=True))
    # One look-behind before the alternatives, not one in each: the search then tries the
    # words only where a word starts (25 times faster on a name with none of them).
    anyone = re.compile(rf"(?<!\w)(?:{'|'.join(folded)})") if folded else None
    return anyone, each


class NamesFileError(Exception):
    """The sensitive names file is malformed."""


def load_words(path: str | Path) -> tuple[str, ...]:
    """Read the sensitive words of every language at ``path`` (lists by language code)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NamesFileError(f"{path}: {exc}") from None
    words: list[str] = []
    for lang, listed in data.items():
        if not isinstance(listed, list) or not all(isinstance(w, str) for w in listed):
            raise NamesFileError(f"{path}: {lang} must be a list of words")
        words.extend(w.strip() for w in listed if w.strip())
    return tuple(dict.fromkeys(words))


@dataclass(frozen=True)
class DiscreetNames:
    """The sensitive words, and each category's discreet wording by (category, language)."""

    words: tuple[str, ...]
    wording: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def hits(self, name: str) -> list[str]:
        """Return the sensitive words ``name`` holds."""
        return list(_hits(name, self.words))

    def unlabelled(self, service: Service, languages: Iterable[str]) -> list[tuple[str, str]]:
        """Return (language, word) for each language in which a list would show ``service``'s
        own name and that name holds a sensitive word."""
        found = []
        for lang in languages:
            if _labelled(service, lang):
                continue
            hits = _hits(service.name(lang), self.words)
            if hits:
                found.append((lang, hits[0]))
        return found

    def apply(self, service: Service) -> Service:
        """Return ``service`` with its category's discreet wording as the label of each language
        in which its own, sensitive, name would otherwise be listed."""
        langs = sorted({lang for _category, lang in self.wording})
        labels: dict[str, str] = {
            lang: self.wording[(service.category, lang)]
            for lang, _word in self.unlabelled(service, langs)
            if (service.category, lang) in self.wording
        }
        if not labels:
            return service
        # A language whose own name is safe goes on showing it, not another language's label.
        for lang in langs:
            if lang not in labels and not _labelled(service, lang):
                labels[lang] = service.name(lang)
        texts = dict(service.texts)
        for lang, label in labels.items():
            texts[lang] = replace(texts.get(lang) or Texts(), label=label)
        return replace(service, texts=texts)


def _labelled(service: Service, lang: str) -> bool:
    """Return whether a list shows a label the clinic gave rather than the name."""
    own, fallback = service.texts.get(lang), service.texts.get(FALLBACK_LANGUAGE)
    return bool((own and own.label) or (fallback and fallback.label))


# Lists are read on every webhook and name the same few services again and again.
@functools.lru_cache(maxsize=8192)
def _hits(name: str, words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sensitive_hits(name, words))
