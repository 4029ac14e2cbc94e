"""The learnt model heard beside the danger rules: its reading, its file and where it listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline_bridge.engine.danger import FOLDED_IN, MODEL_FILE, Danger, Rates
from hotline_bridge.engine.danger_model import (
    DangerModel,
    fold,
    letter_groups,
    letter_spans,
    word_grams,
)

PROJECT = Path(__file__).resolve().parents[2]
FLOWS = PROJECT / "flows"
EXAMPLES = FLOWS / "danger-examples"


@pytest.fixture(scope="module")
def model() -> DangerModel:
    return DangerModel.load(FLOWS / MODEL_FILE)


def test_a_message_is_read_without_case_accents_or_punctuation() -> None:
    assert fold("¡Me QUITÓ el pasaporte!") == "  me quito el pasaporte  "


def test_letter_groups_are_made_within_each_word_as_scikit_learn_makes_them() -> None:
    # char_wb pads each word with a space; a word shorter than a group counts once.
    assert letter_groups(" ab ", 2, 3) == [" a", "ab", "b ", " ab", "ab "]
    assert letter_groups(" a ", 2, 5) == [" a", "a ", " a "]


def test_words_and_neighbouring_pairs_are_read_as_scikit_learn_reads_them() -> None:
    assert word_grams(" he took my id ") == [
        "he",
        "took",
        "my",
        "id",
        "he took",
        "took my",
        "my id",
    ]


def test_word_triples_and_letter_runs_across_words_are_read_as_scikit_learn_reads_them() -> None:
    assert word_grams(" me lee los textos ", 3)[-2:] == ["me lee los", "lee los textos"]
    # char: runs of the whole message, across its spaces; a message shorter than a run is none.
    assert letter_spans(" me  lee ", 6, 7) == [" me le", "me lee", "e lee ", " me lee", "me lee "]
    assert letter_spans(" si ", 6, 7) == []


def test_the_model_reads_the_parts_it_was_learnt_with(model: DangerModel) -> None:
    assert model.spans is not None and model.span_sizes == (6, 7) and model.word_sizes == 3


def test_the_model_learnt_from_exactly_the_tuning_sets_there_are(model: DangerModel) -> None:
    """A labelled set added or folded in without training again fails here: run
    tools/train_danger_model.py."""
    tuning = sorted(
        path.stem
        for path in EXAMPLES.glob("*-*.csv")
        if Rates(path.stem.rpartition("-")[0], "", 0, 0, 0, 0).tuning
    )
    assert sorted(model.trained_on) == tuning
    sets = {stem.rpartition("-")[0] for stem in model.trained_on}
    assert all(name.startswith("dev") or name in FOLDED_IN for name in sets)


def test_the_model_hears_what_the_rules_do_not_and_leaves_the_ordinary(
    model: DangerModel,
) -> None:
    assert model.hears("i do everything they say because of what happened to the last girl")
    assert not model.hears("can i get a flu shot at the clinic on saturday")
    assert not model.hears("necesito una cita para mi hijo el lunes")


def test_a_rule_word_in_its_ordinary_sense_is_left_to_the_menu(model: DangerModel) -> None:
    """The rules hear a word; the model reads the whole message, and far below danger it
    keeps the word's ordinary sense from alarming (a short message is the rules' alone)."""
    danger = Danger.load(FLOWS / "danger.toml")
    ordinary = "my boss is making me work saturday so i need to reschedule"
    assert danger.hear(ordinary) and model.probability(ordinary) < model.veto
    assert not danger.found_in(ordinary)
    assert 0 < model.veto < model.threshold
    for plea in ("he hits me", "me pega", "help me please", "ayuda por favor"):
        assert danger.found_in(plea), plea


def test_a_short_message_is_left_to_the_rules_and_keywords() -> None:
    danger = Danger.load(FLOWS / "danger.toml")
    assert danger.model is not None
    for short in ("hablar con alguien", "safety tips", "xq zzv", "hola"):
        assert not danger.found_in(short), short


def test_without_its_file_the_rules_alone_are_heard(tmp_path: Path) -> None:
    copy = tmp_path / "danger.toml"
    copy.write_text((FLOWS / "danger.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert Danger.load(copy).model is None


def test_a_damaged_model_file_is_refused_by_name(tmp_path: Path) -> None:
    from hotline_bridge.engine.danger import DangerError

    copy = tmp_path / "danger.toml"
    copy.write_text((FLOWS / "danger.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / MODEL_FILE).write_bytes(b"not gzip")
    with pytest.raises(DangerError, match=MODEL_FILE):
        Danger.load(copy)
