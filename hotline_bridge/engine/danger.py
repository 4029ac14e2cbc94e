"""Hearing danger in a message: concepts (documents held, kept in, threatened, ...) whose words
are kept in ``flows/danger.toml``, where clinic staff can read and review them.

A message is read once. Its words are lower-cased, accents and punctuation dropped, long runs of
one letter shortened ("pleeease"), text-speak and common misspellings written out ("u", "pls",
"xq"), then reduced to their stems by the Snowball stemmer of each language (so "watching",
"watches" and "watched" are one word, as are "vigila", "vigilan" and "vigilando"). A concept
fires when one of its rules holds: a word of every group the rule names, in any order, within a
few words of each other. A negation just before a word ("he does not hit me", "no tengo miedo")
keeps it from counting, unless the rule asks for the negation itself ("they don't pay me"); a
concept's ordinary senses ("leave a review", "afraid of needles") keep it silent in their own
clause (and within a few words of it), not in the rest of the message.

Only the answer (which concepts, which language) goes on; nothing of the message is kept.
"""

from __future__ import annotations

import csv
import functools
import re
import threading
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import snowballstemmer

from hotline_bridge.engine.danger_model import DangerModel
from hotline_bridge.engine.wordlists import words_of

# The learnt model beside the danger file (``tools/train_danger_model.py`` writes it).
MODEL_FILE = "danger-model.json.gz"
# Four words: what a message needs before the model is asked (fewer are a keyword, a
# menu choice or a greeting, which the rules and keywords answer).
_WORD = re.compile(r"\w+")
MODEL_MIN_WORDS = 4
# How near an ordinary sense keeps a rule's word silent across a clause's end.
NEAR = 3
CLAUSE_VETO = 0.3


def _long_enough(text: str) -> bool:
    return len(_WORD.findall(text[:200])) >= MODEL_MIN_WORDS


# The group name a rule uses for the language's negation words.
NOT = "not"
# Words a phrase's words may have between them ("give it back", "give me my passport back").
PHRASE_GAP = 2
# The mark of a word kept as written (no word of a message can hold it).
EXACT = "="
# A run of three or more of one letter, shortened to one ("sooo", "ayudaaa").
_RUN = re.compile(r"([a-z])\1{2,}")


class DangerError(Exception):
    """The danger file is malformed."""


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """Groups that must all be found, within the window: each is a set of phrases (stems)."""

    names: tuple[str, ...]
    groups: tuple[tuple[Phrase, ...], ...]
    # The message must say nothing else than the groups' words ("help me please").
    whole: bool = False

    @property
    def negated(self) -> bool:
        """Whether the rule holds a negation of its own ("not allowed", "no me pagan")."""
        return NOT in self.names

    @functools.cached_property
    def firsts(self) -> tuple[Mapping[str, tuple[Phrase, ...]], ...]:
        """Each group's phrases by their first word: a message is looked at only for the
        phrases that can start at one of its words."""
        return tuple(_by_first(group) for group in self.groups)

    @functools.cached_property
    def first_words(self) -> tuple[frozenset[str], ...]:
        """Each group's first words: a rule one of whose groups cannot start anywhere in a
        message is passed over at once (most rules, for most messages)."""
        return tuple(frozenset(index) for index in self.firsts)

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """Every word of the rule's groups (a rule starting with "=" allows no other)."""
        return frozenset(word for group in self.groups for phrase in group for word in phrase)


@dataclass(frozen=True)
class Concept:
    """One thing a person may say that suggests danger, with its rules in each language."""

    id: str
    about: str
    rules: Mapping[str, tuple[Rule, ...]]
    unless: Mapping[str, tuple[Phrase, ...]]
    # Whether the model's veto may leave what its rules hear to the menu. A concept whose rules
    # name both who and what ("my boyfriend stomped on it") is not vetoed: a medical or practical
    # question around it reads as ordinary to the model, and is not.
    vetoed: bool = True

    @functools.cached_property
    def unless_firsts(self) -> Mapping[str, Mapping[str, tuple[Phrase, ...]]]:
        """The ordinary senses of each language, by their first word."""
        return {code: _by_first(phrases) for code, phrases in self.unless.items()}


def _by_first(phrases: Iterable[Phrase]) -> Mapping[str, tuple[Phrase, ...]]:
    index: dict[str, list[Phrase]] = {}
    for phrase in phrases:
        index.setdefault(phrase[0], []).append(phrase)
    return {word: tuple(found) for word, found in index.items()}


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity
class Language:
    """How one language is read: its stemmer, spellings, negations and how far they reach."""

    code: str
    stemmer: str
    spelling: Mapping[str, tuple[str, ...]]
    negations: tuple[Phrase, ...]
    reach: int
    # Words a negation never reaches: "can't leave, they watch me" still says "they".
    unnegated: frozenset[str]
    fuzzy_min: int
    # Words kept as written, neither stemmed nor heard as a misspelling: forms whose stem
    # another word shares with another sense ("queme", I burned, is not "quemo", he burned;
    # "sal", salt, is not "salir"; "traffic" is not "trafficked").
    exact: frozenset[str] = frozenset()
    # Greetings, as plain words (neither stemmed nor spelt out): one before what a person
    # says ("hola, necesito ayuda") changes nothing of what they say.
    greetings: tuple[Phrase, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @functools.cached_property
    def _stemmer(self) -> snowballstemmer.Stemmer:
        return snowballstemmer.stemmer(self.stemmer)

    def stem(self, word: str) -> str:
        """Return the stem of one plain word (cached: most words recur); a word kept exact
        comes back marked, so that no stem can equal it."""
        if word in self.exact:
            return word + EXACT
        return _stem(self, word)

    def tokens(self, text: str) -> list[str]:
        """Return the stems of ``text``'s words, spellings written out."""
        return [stem for _, stem in self.words(text)]

    def words(self, text: str) -> list[tuple[str, str]]:
        """Return ``text``'s words, spellings written out, each with its stem."""
        found: list[tuple[str, str]] = []
        for word in words_of(text):
            for written in self.spelling.get(_RUN.sub(r"\1", word), (_RUN.sub(r"\1", word),)):
                found.append((written, self.stem(written)))
        return found


@functools.lru_cache(maxsize=50_000)
def _stem(lang: Language, word: str) -> str:
    # A Snowball stemmer keeps state while it works: one thread at a time.
    with lang._lock:
        return str(lang._stemmer.stemWord(word))


@dataclass(frozen=True)
class Match:
    """What a message was heard to say: the concepts found in each language's words."""

    concepts: Mapping[str, tuple[str, ...]]

    def __bool__(self) -> bool:
        return any(self.concepts.values())

    @property
    def found(self) -> tuple[str, ...]:
        """Every concept found, in any language."""
        return tuple(sorted({c for found in self.concepts.values() for c in found}))


@dataclass(frozen=True, eq=False, repr=False)  # compared (and cached) by identity
class Danger:
    """The concepts of ``flows/danger.toml``, compiled once."""

    languages: Mapping[str, Language]
    concepts: tuple[Concept, ...]
    window: int
    vocabulary: Mapping[str, frozenset[str]]
    # Every word of the file, ordinary senses too: a word the file knows is never heard as a
    # misspelling of another ("stolen" is not "stole", "contract" not "contact").
    known: Mapping[str, frozenset[str]]
    # The words of the rules as written, with their stems, and every word of the file as
    # written: a slip can change a word's stem beyond one letter ("documants" is stemmed
    # "docum", "documents" "document"), so a long word not heard by its stem is tried as
    # written.
    written: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    written_known: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # The model learnt from the labelled messages (``danger_model``), heard beside the rules.
    model: DangerModel | None = None

    @classmethod
    def load(cls, path: str | Path) -> Danger:
        """Read and check the danger file at ``path``; raise ``DangerError`` on any problem.

        Compiling the words takes most of an app's start, and the result cannot change while
        neither file does: each worker compiles them once for every app it creates."""
        path = Path(path).resolve()
        learnt = path.with_name(MODEL_FILE)
        return _load(path, _identity(path), learnt, _identity(learnt))

    @functools.cached_property
    def greetings(self) -> tuple[Phrase, ...]:
        """The greetings of every language, longest first ("hola buenas" before "hola")."""
        found = {g for lang in self.languages.values() for g in lang.greetings}
        return tuple(sorted(found, key=lambda g: (-len(g), g)))

    def without_greeting(self, text: str) -> str:
        """Return ``text`` from the first word after its opening greetings ("hola buenas
        noches, necesito ayuda" is "necesito ayuda"); the whole of it when it is only a
        greeting or has none."""
        tokens = [
            (match.end(), _RUN.sub(r"\1", word))
            for match in _WORD.finditer(text[:200])
            for word in words_of(match.group())
        ]
        at = 0
        while at < len(tokens):
            step = next(
                (
                    len(greeting)
                    for greeting in self.greetings
                    if tuple(word for _, word in tokens[at : at + len(greeting)]) == greeting
                ),
                0,
            )
            if not step:
                break
            at += step
        if at == 0 or at == len(tokens):
            return text
        return text[tokens[at - 1][0] :].lstrip(" ,.!;:-\n")

    def hear(self, text: str) -> Match:
        """Return the concepts ``text`` says, by the language whose words say them (after its
        opening greetings)."""
        text = self.without_greeting(text)
        parts = clauses(text)
        stems: dict[str, list[str]] = {code: [] for code in self.languages}
        for code, lang in self.languages.items():
            for part in parts:
                words = lang.words(part)
                stems[code] += [self._known(code, written, stem) for written, stem in words]
        clause_of = {code: _clause_of(parts, lang) for code, lang in self.languages.items()}
        negated = {code: _negated(stems[code], lang) for code, lang in self.languages.items()}
        finds = {code: _Finder(stems[code], clause_of[code]) for code in self.languages}
        # Only the rules one of whose groups can start at a word of the message are tried.
        live: dict[str, dict[str, list[Rule]]] = {code: {} for code in self.languages}
        for code, find in finds.items():
            ids = set().union(*(self._rules_by_word[code].get(word, ()) for word in find.words))
            for concept_id, rule in (self._rule_of[i] for i in ids):
                live[code].setdefault(concept_id, []).append(rule)
        found: dict[str, list[str]] = {code: [] for code in self.languages}
        for concept in self.concepts:
            if not any(concept.id in live[code] for code in concept.rules):
                continue  # no rule of it can hold: its ordinary senses need no look
            # An ordinary sense in either language's words ("sex education") silences the
            # concept in both: a message mixes languages, and some words are both. It silences
            # only its own clause: "what papers do I need for the visit? my brother-in-law
            # keeps all my documents" asks an ordinary question, then says the real problem.
            quiet = frozenset().union(
                *(finds[code].quiet(index) for code, index in concept.unless_firsts.items())
            )
            for code in concept.rules:
                if any(
                    self._holds(rule, finds[code], negated[code], quiet)
                    for rule in live[code].get(concept.id, ())
                ):
                    found[code].append(concept.id)
        return Match({code: tuple(ids) for code, ids in found.items()})

    def found_in(self, text: str) -> bool:
        """Return whether ``text`` suggests danger. A message of fewer than four words (a
        keyword, a choice, a greeting) is heard by the rules alone. A longer one is heard when
        the model's probability reaches its threshold, or when the rules hear it and the
        model does not find it far below danger (its veto): a word of a rule said in its
        ordinary sense ("is the emergency room open") is left to the menu. A concept whose
        rules name who and what (``model_veto = false``) is heard whatever the model reads. An
        opening greeting is not read: "hola, necesito ayuda" is heard as "necesito ayuda" is."""
        text = self.without_greeting(text)
        match = self.hear(text)
        heard = bool(match)
        if self.model is None or not _long_enough(text):
            return heard
        if self._unvetoed.intersection(match.found):
            return True
        probability = self.model.probability(text)
        if not heard:
            return probability >= self.model.threshold
        if probability >= self.model.veto:
            return True
        # The veto reads the whole message, and an ordinary question before a disclosure
        # ("can the visit be by video? I can't go out, he won't let me") brings the whole
        # below it: a clause the rules hear alone is read alone.
        parts = clauses(text)
        return len(parts) > 1 and any(self._clause_heard(part) for part in parts)

    def _clause_heard(self, part: str) -> bool:
        """Whether the rules hear one clause of four words or more, and the model read on
        that clause alone does not veto it (a shorter clause is too little to read)."""
        if self.model is None or not _long_enough(part) or not self.hear(part):
            return False
        return self.model.probability(part) >= CLAUSE_VETO

    def language_of(self, text: str, languages: Iterable[str]) -> str | None:
        """Return the one language among ``languages`` whose words suggest danger in ``text``,
        or None when none or several do."""
        match = self.hear(text)
        found = [lang for lang in languages if match.concepts.get(lang)]
        return found[0] if len(found) == 1 else None

    def _holds(
        self, rule: Rule, find: _Finder, negated: Sequence[bool], quiet: frozenset[int]
    ) -> bool:
        """Whether a word of every group of ``rule`` occurs, all within the window, none in a
        clause that says the concept's ordinary sense (``quiet``)."""
        if rule.whole and (len(find.stems) < 2 or not find.words <= rule.words):
            return False  # one word alone is a keyword
        if any(first.isdisjoint(find.words) for first in rule.first_words):
            return False
        spans = []
        for index in rule.firsts:
            found = [
                span
                for span in find.spans_of(index)
                if (rule.negated or not negated[span[0]]) and not find.within(span, quiet)
            ]
            if not found:
                return False
            spans.append(found)
        if len(spans) == 1:
            return True
        starts = sorted({start for found in spans for start, _ in found})
        for first in starts:
            inside = [
                [(s, e) for s, e in found if first <= s and e < first + self.window]
                for found in spans
            ]
            if all(inside) and _apart(inside, set()):
                return True
        return False

    @functools.cached_property
    def _unvetoed(self) -> frozenset[str]:
        """The concepts the model's veto leaves alone (``model_veto = false``)."""
        return frozenset(concept.id for concept in self.concepts if not concept.vetoed)

    @functools.cached_property
    def _rule_of(self) -> Mapping[int, tuple[str, Rule]]:
        """Each rule (by identity) with the concept it belongs to."""
        return {
            id(rule): (concept.id, rule)
            for concept in self.concepts
            for rules in concept.rules.values()
            for rule in rules
        }

    @functools.cached_property
    def _rules_by_word(self) -> Mapping[str, Mapping[str, frozenset[int]]]:
        """Each language's rules (by identity) under the first words of their rarest group:
        a rule none of whose such words a message holds cannot hold. A word that starts many
        groups of the file ("my", "me", "he", "la") is taken to be common in messages too, so
        a group is as wide as its first words are common: "he + has + gun" is tried only for
        messages with "gun", not for every message with "he"."""
        table: dict[str, dict[str, set[int]]] = {code: {} for code in self.languages}
        common: dict[str, Counter[str]] = {code: Counter() for code in self.languages}
        for concept in self.concepts:
            for code, rules in concept.rules.items():
                for rule in rules:
                    for first in rule.first_words:
                        common[code].update(first)
        for concept in self.concepts:
            for code, rules in concept.rules.items():
                for rule in rules:
                    width = common[code]
                    rarest = min(rule.first_words, key=lambda f: sum(width[w] for w in f))
                    for word in rarest:
                        table[code].setdefault(word, set()).add(id(rule))
        return {
            code: {word: frozenset(ids) for word, ids in by.items()} for code, by in table.items()
        }

    def _known(self, code: str, written: str, stem: str) -> str:
        """Return ``stem``, or the stem of the one word of the file it misspells (a letter
        missing, added, changed or two swapped), for words long enough that a slip is not
        another word: by its stem first, then as ``written``."""
        heard = _fuzzy(self, code, stem)
        if heard == stem and stem not in self.known[code] and not stem.endswith(EXACT):
            return _fuzzy_written(self, code, written) or stem
        return heard

    @functools.cached_property
    def _written_deletions(self) -> Mapping[str, Mapping[str, frozenset[str]]]:
        table: dict[str, dict[str, set[str]]] = {}
        for code, words in self.written.items():
            by = table.setdefault(code, {})
            for word in words:
                for variant in _one_less(word):
                    by.setdefault(variant, set()).add(word)
        return {code: {k: frozenset(v) for k, v in by.items()} for code, by in table.items()}

    @functools.cached_property
    def _deletions(self) -> Mapping[str, Mapping[str, frozenset[str]]]:
        table: dict[str, dict[str, set[str]]] = {}
        for code, words in self.vocabulary.items():
            by = table.setdefault(code, {})
            for word in words:
                for variant in _one_less(word):
                    by.setdefault(variant, set()).add(word)
        return {code: {k: frozenset(v) for k, v in by.items()} for code, by in table.items()}


@functools.lru_cache(maxsize=50_000)
def _fuzzy(danger: Danger, code: str, stem: str) -> str:
    lang, vocabulary = danger.languages[code], danger.vocabulary[code]
    if (
        stem in danger.known[code]
        or stem.endswith(EXACT)
        or lang.fuzzy_min <= 0
        or len(stem) < lang.fuzzy_min
    ):
        return stem
    deletions = danger._deletions[code]
    near = set(deletions.get(stem, ()))  # a letter added
    for variant in _one_less(stem):
        if variant in vocabulary:  # a letter missing... from the word written
            near.add(variant)
        near |= deletions.get(variant, frozenset())  # a letter changed or two swapped
    near = {word for word in near if word[0] == stem[0]}
    return near.pop() if len(near) == 1 else stem


@functools.lru_cache(maxsize=50_000)
def _fuzzy_written(danger: Danger, code: str, written: str) -> str | None:
    """Return the stem of the one word of the rules that ``written`` misspells, if any."""
    lang, words = danger.languages[code], danger.written.get(code, {})
    # Two letters longer than a stem must be: a shorter word is tried by its stem only
    # ("condado", county, is one letter from "candado", padlock).
    if written in danger.written_known.get(code, ()) or len(written) < lang.fuzzy_min + 2:
        return None
    deletions = danger._written_deletions.get(code, {})
    near = set(deletions.get(written, ()))
    for variant in _one_less(written):
        if variant in words:
            near.add(variant)
        near |= deletions.get(variant, frozenset())
    stems = {words[word] for word in near if word[0] == written[0]}
    return stems.pop() if len(stems) == 1 else None


def _one_less(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _apart(groups: Sequence[Sequence[tuple[int, int]]], taken: set[int]) -> bool:
    """Whether one span of each group can be chosen with no word in two of them: one word
    ("salir") is not both halves of a rule."""
    if not groups:
        return True
    for start, end in groups[0]:
        words = set(range(start, end + 1))
        if not words & taken and _apart(groups[1:], taken | words):
            return True
    return False


class _Finder:
    """Where each phrase occurs in one message's stems, each phrase looked for once."""

    def __init__(self, stems: Sequence[str], clause: Sequence[int] = ()) -> None:
        self.stems = stems
        self.words = frozenset(stems)
        # The clause each word is in (all in one when not given).
        self.clause = clause or [0] * len(stems)
        self._found: dict[Phrase, list[tuple[int, int]]] = {}

    def __call__(self, phrase: Phrase) -> list[tuple[int, int]]:
        if phrase[0] not in self.words:  # most phrases: their first word is not there
            return []
        found = self._found.get(phrase)
        if found is None:
            # A phrase one of whose words is missing is not looked for word by word.
            present = all(word in self.words for word in phrase[1:])
            found = self._found[phrase] = _spans(self.stems, phrase) if present else []
        return found

    def spans_of(self, index: Mapping[str, tuple[Phrase, ...]]) -> list[tuple[int, int]]:
        """Where any phrase of ``index`` (phrases by first word) occurs."""
        return [
            span for word in self.words for phrase in index.get(word, ()) for span in self(phrase)
        ]

    def quiet(self, index: Mapping[str, tuple[Phrase, ...]]) -> frozenset[int]:
        """The words an ordinary sense of ``index`` (phrases by first word) keeps silent:
        those of each clause it is said in, and those within ``NEAR`` words of it across a
        clause's end ("how do I get in? the door is locked"). An ordinary sense is a set
        expression, word for word, no other word between ("is that an emergency" must not
        be heard in "is he going to hurt me, it is an emergency")."""
        quiet: set[int] = set()
        for word in self.words:
            for phrase in index.get(word, ()):
                if not all(other in self.words for other in phrase[1:]):
                    continue
                for start, end in _spans(self.stems, phrase, gap=0):
                    said = {self.clause[at] for at in range(start, end + 1)}
                    low, high = max(0, start - NEAR), min(len(self.stems), end + 1 + NEAR)
                    quiet.update(range(low, high))
                    quiet.update(at for at, c in enumerate(self.clause) if c in said)
        return frozenset(quiet)

    def within(self, span: tuple[int, int], quiet: frozenset[int]) -> bool:
        """Whether a word of ``span`` is one of ``quiet``."""
        return bool(quiet) and any(at in quiet for at in range(span[0], span[1] + 1))


# Where one clause of a message ends and the next begins: sentence punctuation, and the words
# that join a second thought to a first ("but", "pero", "es que"; not "because", which gives
# the reason, often the ordinary sense itself: "he reads my texts to me because I can't read").
# A person often asks an ordinary question, then says the real problem after one of them.
_CLAUSE_END = re.compile(r"[.?!;¿¡\n]+")
_CLAUSE_JOIN = re.compile(r"\b(?=(?:but|pero|es que|es q)\b)", re.IGNORECASE)


def clauses(text: str) -> list[str]:
    """Return the clauses of ``text`` (the whole of it when it has one)."""
    parts = [
        piece
        for sentence in _CLAUSE_END.split(text)
        for piece in _CLAUSE_JOIN.split(sentence)
        if piece.strip()
    ]
    return parts or [text]


def _clause_of(parts: Sequence[str], lang: Language) -> list[int]:
    """Return the clause of each word of ``parts`` as ``lang`` reads them."""
    return [at for at, part in enumerate(parts) for _ in lang.words(part)]


def _spans(stems: Sequence[str], phrase: Phrase, gap: int = PHRASE_GAP) -> list[tuple[int, int]]:
    """Return where ``phrase`` occurs in ``stems`` (first and last position), its words in
    order with at most ``gap`` others between two of them."""
    found = []
    for start, stem in enumerate(stems):
        if stem != phrase[0]:
            continue
        at, ok = start, True
        for word in phrase[1:]:
            ahead = stems[at + 1 : at + 2 + gap]
            if word not in ahead:
                ok = False
                break
            at += 1 + ahead.index(word)
        if ok:
            found.append((start, at))
    return found


def _negated(stems: Sequence[str], lang: Language) -> list[bool]:
    """Return, for each word, whether a negation stands within ``reach`` words before it."""
    flags = [False] * len(stems)
    for phrase in lang.negations:
        for _, end in _spans(stems, phrase):
            for at in range(end + 1, min(end + 1 + lang.reach, len(stems))):
                flags[at] = stems[at] not in lang.unnegated
    return flags


# --- Reading the file ------------------------------------------------------------------------


def _identity(path: Path) -> tuple[int, int] | None:
    """Return what tells one version of the file at ``path`` from another (None: no file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _load(
    path: Path,
    version: tuple[int, int] | None,
    learnt: Path,
    learnt_version: tuple[int, int] | None,
) -> Danger:
    """Compile the danger file at ``path`` and its learnt model (the versions key the cache)."""
    danger, problems = _compile(path)
    if problems or danger is None:
        raise DangerError(f"{path}: " + "; ".join(problems))
    if learnt_version is not None:
        try:
            return replace(danger, model=DangerModel.load(learnt))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DangerError(f"{learnt}: cannot be read ({exc})") from None
    return danger


def problems_in(path: str | Path) -> list[str]:
    """Return what is wrong with the danger file at ``path`` (empty when it is sound)."""
    return _compile(Path(path))[1]


def _compile(path: Path) -> tuple[Danger | None, list[str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return None, [str(exc)]
    problems: list[str] = []
    languages = _languages(data, problems)
    groups = {
        code: _groups(data, lang, problems, f"words.{code}") for code, lang in languages.items()
    }
    concepts = []
    table = data.get("concepts")
    if not isinstance(table, dict) or not table:
        problems.append("[concepts] must be a table of concepts")
        table = {}
    used: set[tuple[str, str]] = set()
    for concept_id, entry in table.items():
        concept = _concept(concept_id, entry, languages, groups, problems, used)
        if concept is not None:
            concepts.append(concept)
    for code, by_name in groups.items():
        for name in by_name:
            if (code, name) not in used:
                problems.append(f"words.{code}.{name}: no rule uses it")
    window = data.get("window", 8)
    if not isinstance(window, int) or window < 1:
        problems.append("window must be a whole number of words, 1 or more")
        window = 8
    vocabulary = {
        code: frozenset(
            word
            for concept in concepts
            for rule in concept.rules.get(code, ())
            for group in rule.groups
            for phrase in group
            for word in phrase
        )
        for code in languages
    }
    known = {
        code: words
        | {word for c in concepts for phrase in c.unless.get(code, ()) for word in phrase}
        for code, words in vocabulary.items()
    }
    written, written_known = _written(data, languages, vocabulary)
    danger = Danger(languages, tuple(concepts), window, vocabulary, known, written, written_known)
    return danger, problems


def _written(
    data: Mapping[str, object],
    languages: Mapping[str, Language],
    vocabulary: Mapping[str, frozenset[str]],
) -> tuple[dict[str, dict[str, str]], dict[str, frozenset[str]]]:
    """Every word of the file as written (spellings written out), by language: those of the
    rules' lists with their stems, and all of them (ordinary senses too)."""
    words, concepts = data.get("words", {}), data.get("concepts", {})
    written: dict[str, dict[str, str]] = {}
    everything: dict[str, frozenset[str]] = {}
    for code, lang in languages.items():
        lists = words.get(code, {}) if isinstance(words, dict) else {}
        texts = [t for v in (lists.values() if isinstance(lists, dict) else ()) for t in _strs(v)]
        ordinary = [
            t
            for entry in (concepts.values() if isinstance(concepts, dict) else ())
            if isinstance(entry, dict) and isinstance(entry.get("ordinary"), dict)
            for t in _strs(entry["ordinary"].get(code))
        ]
        pairs = {w: s for t in texts for w, s in lang.words(t) if s in vocabulary[code]}
        written[code] = {w: s for w, s in pairs.items() if not s.endswith(EXACT)}
        everything[code] = frozenset(pairs) | {w for t in ordinary for w, _ in lang.words(t)}
    return written, everything


def _strs(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _languages(data: Mapping[str, object], problems: list[str]) -> dict[str, Language]:
    table = data.get("languages")
    if not isinstance(table, dict) or not table:
        problems.append("[languages] must name each language's stemmer")
        return {}
    languages = {}
    known = set(snowballstemmer.algorithms())
    for code, entry in table.items():
        where = f"languages.{code}"
        if not isinstance(entry, dict) or entry.get("stemmer") not in known:
            problems.append(f"{where}: stemmer must be one of {sorted(known)}")
            continue
        spelling: dict[str, tuple[str, ...]] = {}
        written = entry.get("spelling", {})
        if not isinstance(written, dict):
            problems.append(f"{where}.spelling must be a table")
            written = {}
        for word, meant in written.items():
            plain, words = words_of(str(word)), words_of(meant) if isinstance(meant, str) else []
            if len(plain) != 1 or not words:
                problems.append(f"{where}.spelling: {word!r} = {meant!r} is not a word = words")
                continue
            spelling[plain[0]] = tuple(words)
        lang = Language(
            code,
            entry["stemmer"],
            spelling,
            (),
            int(entry.get("reach", 2)),
            frozenset(),
            int(entry.get("fuzzy", 6)),
        )
        negations = _phrases(lang, entry.get("negations"), problems, f"{where}.negations")
        unnegated = _phrases(lang, entry.get("unnegated"), problems, f"{where}.unnegated")
        greetings = []
        for greeting in entry.get("greetings", []):
            said = words_of(greeting) if isinstance(greeting, str) else []
            words = [_RUN.sub(r"\1", word) for word in said]
            if not words:
                problems.append(f"{where}.greetings: {greeting!r} is not a greeting")
                continue
            greetings.append(tuple(words))
        exact = entry.get("exact", [])
        if not isinstance(exact, list) or not all(
            isinstance(w, str) and words_of(w) == [w] for w in exact
        ):
            problems.append(
                f"{where}.exact: must be a list of plain words (lower case, no accents)"
            )
            exact = []
        languages[code] = replace(
            lang,
            exact=frozenset(exact),
            greetings=tuple(greetings),
            negations=negations,
            unnegated=frozenset(word for phrase in unnegated for word in phrase),
        )
    return languages


def _phrases(lang: Language, words: object, problems: list[str], where: str) -> tuple[Phrase, ...]:
    """Compile a list of words and phrases to stems; report an empty list, a non-word, or a
    word that stems to nothing."""
    if not isinstance(words, list) or not words:
        problems.append(f"{where}: must be a list of words, not empty")
        return ()
    found = []
    for word in words:
        if not isinstance(word, str):
            problems.append(f"{where}: {word!r} is not a word")
            continue
        phrase = tuple(s for s in lang.tokens(word) if s)
        if not phrase:
            problems.append(f"{where}: {word!r} stems to nothing")
            continue
        found.append(phrase)
    return tuple(dict.fromkeys(found))


def _groups(
    data: Mapping[str, object], lang: Language, problems: list[str], where: str
) -> dict[str, tuple[Phrase, ...]]:
    table = data.get("words", {})
    by_lang = table.get(lang.code, {}) if isinstance(table, dict) else {}
    if not isinstance(by_lang, dict):
        problems.append(f"{where} must be a table of word lists")
        return {}
    return {
        name: _phrases(lang, words, problems, f"{where}.{name}") for name, words in by_lang.items()
    }


def _concept(
    concept_id: str,
    entry: object,
    languages: Mapping[str, Language],
    groups: Mapping[str, Mapping[str, tuple[Phrase, ...]]],
    problems: list[str],
    used: set[tuple[str, str]],
) -> Concept | None:
    where = f"concepts.{concept_id}"
    if not isinstance(entry, dict):
        problems.append(f"{where} must be a table")
        return None
    rules: dict[str, tuple[Rule, ...]] = {}
    unless: dict[str, tuple[Phrase, ...]] = {}
    for code, lang in languages.items():
        written = entry.get(code)
        if not isinstance(written, list) or not written:
            problems.append(f"{where}.{code}: must be a list of rules, not empty")
            continue
        compiled = []
        for text in written:
            whole = str(text).strip().startswith("=")
            names = tuple(n.strip() for n in str(text).strip(" =").split("+") if n.strip())
            known = {**groups[code], NOT: lang.negations}
            missing = [n for n in names if n not in known]
            if not names or missing:
                problems.append(f"{where}.{code}: {text!r} names unknown words {missing}")
                continue
            used.update((code, n) for n in names)
            compiled.append(Rule(names, tuple(known[n] for n in names), whole))
        rules[code] = tuple(compiled)
        ordinary = entry.get("ordinary", {})
        if isinstance(ordinary, dict) and code in ordinary:
            unless[code] = _phrases(lang, ordinary[code], problems, f"{where}.ordinary.{code}")
    vetoed = entry.get("model_veto", True)
    if not isinstance(vetoed, bool):
        problems.append(f"{where}.model_veto: must be true or false")
        vetoed = True
    return Concept(concept_id, str(entry.get("about", "")), rules, unless, vetoed)


# --- Measuring it ------------------------------------------------------------------------------

# What the labelled sets must show (the tuning sets; a held-out set is reported as it is).
RECALL_TARGET = 0.95
FALSE_ALARM_TARGET = 0.05
# Held-out sets folded into tuning once they were measured: their misses and false alarms were
# used to change the words, so they no longer measure unseen messages and must meet the targets.
FOLDED_IN = frozenset(
    {
        "heldout2",
        "heldout3",
        "heldout4",
        "heldout5",
        "heldout7",
        "heldout8",
        "heldout9",
        "heldout10",
        "heldout11",
        "heldout12",
        "heldout13",
        "heldout16",
        "heldout17",
        "heldout18",
        "heldout19",
        "heldout20",
        "heldout21",
        "heldout22",
    }
)


# Sets of everyday talk close to danger ("my dog hides when it thunders", "im gonna kill him if
# he spoils the finale"), written to find the rules' ordinary senses. The rules were tuned on
# them; the model does not learn them: in cross-validation, learning such talk moved the model
# along its curve (fewer false alarms, as much recall lost) and hardly lowered its false alarms
# on talk like it. They are reported as they are, and held where they stand.
EVERYDAY_PREFIX = "everyday"


@dataclass(frozen=True)
class Rates:
    """How the concepts did on one labelled set: danger messages heard, ordinary ones alarmed."""

    name: str
    lang: str
    danger: int
    heard: int
    ordinary: int
    alarmed: int

    @property
    def recall(self) -> float:
        return self.heard / self.danger if self.danger else 1.0

    @property
    def false_alarms(self) -> float:
        return self.alarmed / self.ordinary if self.ordinary else 0.0

    @property
    def tuning(self) -> bool:
        """Whether the words were tuned on this set (``dev``, ``dev2``, ``dev3``, and the
        held-out sets folded in), so it must meet the targets."""
        return self.name.startswith("dev") or self.name in FOLDED_IN

    @property
    def everyday(self) -> bool:
        """Whether this is a set of everyday talk the rules were tuned on and the model is not
        (``EVERYDAY_PREFIX``): reported, not held at the targets."""
        return self.name.startswith(EVERYDAY_PREFIX)

    @property
    def kind(self) -> str:
        """What the set is to the line, as ``check --signals`` says it after its rates."""
        if self.tuning:
            return ""
        return " (everyday talk, rules only)" if self.everyday else " (held out)"

    @property
    def ok(self) -> bool:
        return self.recall >= RECALL_TARGET and self.false_alarms <= FALSE_ALARM_TARGET

    def line(self) -> str:
        return (
            f"signals {self.name} {self.lang}: recall {self.recall:.1%} "
            f"({self.heard}/{self.danger}), false alarms {self.false_alarms:.1%} "
            f"({self.alarmed}/{self.ordinary})"
        )


def measure(danger: Danger, path: str | Path) -> Rates:
    """Return the rates of ``danger`` on the labelled set at ``path`` (a CSV file named
    ``<set>-<lang>.csv`` with columns label, concept, text; label ``danger`` or ``ordinary``)."""
    path = Path(path)
    name, _, lang = path.stem.rpartition("-")
    counts = {"danger": [0, 0], "ordinary": [0, 0]}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = row.get("label", "")
            if label in counts:
                counts[label][0] += 1
                counts[label][1] += danger.found_in(row.get("text", ""))
    (danger_n, heard), (ordinary_n, alarmed) = counts["danger"], counts["ordinary"]
    return Rates(name, lang, danger_n, heard, ordinary_n, alarmed)


def measure_all(danger: Danger, folder: str | Path) -> list[Rates]:
    """Return the rates on every labelled set in ``folder``, tuning sets first."""
    rates = [measure(danger, path) for path in sorted(Path(folder).glob("*-*.csv"))]
    return sorted(rates, key=lambda r: (not r.tuning, r.name, r.lang))
