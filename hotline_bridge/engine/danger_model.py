"""A second listener for danger: a model learnt from the labelled messages.

The rules of ``flows/danger.toml`` hear the words they list; people say the same things in more
ways than any list holds. This model is learnt from every labelled message under
``flows/danger-examples/`` (the tuning sets, both languages) by ``tools/train_danger_model.py``:
a logistic regression over the message's letter groups (two to five letters within a word, so a
misspelling or a new ending still shares most of them) and its words and word pairs, each
weighted by how rare it is (TF-IDF). The weights are data, in ``flows/danger-model.json.gz``;
this module only reads them and scores a message, in pure Python, the way scikit-learn's
``TfidfVectorizer`` (``char_wb`` and ``word`` analyzers, sublinear counts, each part scaled to
unit length) and ``LogisticRegression`` do, so the score here is the score the training tool
measured. A message the rules miss is still heard when its score reaches the threshold that was
chosen with the model (``threshold`` in the file).
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
import unicodedata
from collections import Counter
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


def word_grams(text: str) -> list[str]:
    """The words of two letters or more, then each pair of neighbours, as scikit-learn's
    ``word`` analyzer makes them with ``ngram_range=(1, 2)``."""
    tokens = _TOKEN.findall(text)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


@dataclass(frozen=True)
class Part:
    """One part of the model's reading: each known feature's rarity weight and coefficient."""

    weights: Mapping[str, tuple[float, float]]

    def score(self, features: list[str]) -> float:
        """The part's contribution: sublinear counts times rarity, at unit length, dotted with
        the coefficients (features the model never saw count for nothing, as in training)."""
        counts = Counter(f for f in features if f in self.weights)
        if not counts:
            return 0.0
        values = {f: (1.0 + math.log(n)) * self.weights[f][0] for f, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        return sum(v * self.weights[f][1] for f, v in values.items()) / norm


@dataclass(frozen=True)
class DangerModel:
    """The learnt weights and the threshold a message's probability must reach."""

    letters: Part
    words: Part
    intercept: float
    threshold: float
    trained_on: tuple[str, ...]
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
        )

    def probability(self, text: str) -> float:
        """Return how likely the model finds it that ``text`` says its writer is in danger."""
        folded = fold(text)
        z = (
            self.letters.score(letter_groups(folded))
            + self.words.score(word_grams(folded))
            + self.intercept
        )
        return 1.0 / (1.0 + math.exp(-z))

    def hears(self, text: str) -> bool:
        """Return whether ``text``'s probability reaches the threshold."""
        return self.probability(text) >= self.threshold
