"""A second listener for danger: a model learnt from the labelled messages.

The rules of ``flows/danger.toml`` hear the words they list; people say the same things in more
ways than any list holds. This model is learnt from every labelled message under
``flows/danger-examples/`` (the tuning sets, both languages) by ``tools/train_danger_model.py``:
a logistic regression over the message's letter groups (two to five letters within a word, so a
misspelling or a new ending still shares most of them), its runs of six and seven letters
across words (so the end of one word and the start of the next are read together, as in
"e lee l" or "e quita"), and its words, word pairs and word triples, each weighted by how rare
it is (TF-IDF). The weights are data, in ``flows/danger-model.json.gz``; this module only
reads them and scores a message, in pure Python, the way scikit-learn's ``TfidfVectorizer``
(``char_wb``, ``char`` and ``word`` analyzers, sublinear counts, each part scaled to unit
length) and ``LogisticRegression`` do, so the score here is the score the training tool
measured. A message the rules miss is still heard when its score reaches the threshold that
was chosen with the model (``threshold`` in the file).
"""

from __future__ import annotations

import gzip
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# What the letter groups and words are read from: lower case, without accents, letters and
# digits only, one space between words.
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s\s+")
# scikit-learn's default token: two or more word characters.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def fold(text: str) -> str:
    """Return ``text`` as the model reads it (the training tool folds with this same function)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " " + _NOT_WORD.sub(" ", plain) + " "


def letter_groups(text: str, low: int = 2, high: int = 5) -> list[str]:
    """Every group of ``low`` to ``high`` letters within each word padded by a space, as
    scikit-learn's ``char_wb`` analyzer makes them (a short word counts once)."""
    groups: list[str] = []
    for word in _SPACES.sub(" ", text).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            offset = 0
            groups.append(padded[offset : offset + n])
            while offset + n < size:
                offset += 1
                groups.append(padded[offset : offset + n])
            if offset == 0:
                break
    return groups


def letter_spans(text: str, low: int = 6, high: int = 7) -> list[str]:
    """Every run of ``low`` to ``high`` characters of the whole message, spaces included, as
    scikit-learn's ``char`` analyzer makes them: runs cross the words ("e lee l")."""
    line = _SPACES.sub(" ", text)
    return [
        line[offset : offset + n]
        for n in range(low, min(high, len(line)) + 1)
        for offset in range(len(line) - n + 1)
    ]


def word_grams(text: str, high: int = 2) -> list[str]:
    """The words of two letters or more, then each run of up to ``high`` neighbours, as
    scikit-learn's ``word`` analyzer makes them with ``ngram_range=(1, high)``."""
    tokens = _TOKEN.findall(text)
    grams = list(tokens)
    for n in range(2, high + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


@dataclass(frozen=True)
class Part:
    """One part of the model's reading: each known feature's rarity weight and coefficient."""

    weights: Mapping[str, tuple[float, float]]

    def score(self, features: list[str]) -> float:
        """The part's contribution: sublinear counts times rarity, at unit length, dotted with
        the coefficients (features the model never saw count for nothing, as in training).
        Written as one pass over plain dicts: it runs on every message of every webhook."""
        weights = self.weights
        counts: dict[str, int] = {}
        for feature in features:
            if feature in weights:
                counts[feature] = counts.get(feature, 0) + 1
        if not counts:
            return 0.0
        dot = norm = 0.0
        for feature, n in counts.items():
            rarity, coefficient = weights[feature]
            value = rarity if n == 1 else (1.0 + math.log(n)) * rarity
            dot += value * coefficient
            norm += value * value
        return dot / math.sqrt(norm)


@dataclass(frozen=True)
class DangerModel:
    """The learnt weights and the threshold a message's probability must reach."""

    letters: Part
    words: Part
    intercept: float
    threshold: float
    trained_on: tuple[str, ...]
    # Runs of letters across words, and how many neighbouring words a word gram holds; a file
    # without them was learnt from letter groups, words and word pairs alone.
    spans: Part | None = None
    span_sizes: tuple[int, int] = (6, 7)
    word_sizes: int = 2
    # Below this probability a message of four words or more that the rules hear is taken as
    # the ordinary sense of their words ("is the emergency room open", "my daughter keeps
    # checking her phone at night"): the rules hear a word, the model reads the whole message.
    veto: float = 0.0

    @classmethod
    def load(cls, path: str | Path) -> DangerModel:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
        return cls(
            letters=Part({k: (v[0], v[1]) for k, v in data["letters"].items()}),
            words=Part({k: (v[0], v[1]) for k, v in data["words"].items()}),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            trained_on=tuple(data["trained_on"]),
            veto=float(data.get("veto", 0.0)),
            spans=Part({k: (v[0], v[1]) for k, v in data["spans"].items()})
            if "spans" in data
            else None,
            span_sizes=(
                int(data.get("span_sizes", [6, 7])[0]),
                int(data.get("span_sizes", [6, 7])[1]),
            ),
            word_sizes=int(data.get("word_sizes", 2)),
        )

    def probability(self, text: str) -> float:
        """Return how likely the model finds it that ``text`` says its writer is in danger."""
        folded = fold(text)
        z = (
            self.letters.score(letter_groups(folded))
            + self.words.score(word_grams(folded, self.word_sizes))
            + self.intercept
        )
        if self.spans is not None:
            z += self.spans.score(letter_spans(folded, *self.span_sizes))
        return 1.0 / (1.0 + math.exp(-z))

    def hears(self, text: str) -> bool:
        """Return whether ``text``'s probability reaches the threshold."""
        return self.probability(text) >= self.threshold
