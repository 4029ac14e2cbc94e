"""The danger concepts of flows/danger.toml: what they hear, what they leave alone, how the file is
checked, and their rates on the labelled sets of flows/danger-examples/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hotline_bridge.engine.danger import (
    FALSE_ALARM_TARGET,
    RECALL_TARGET,
    Danger,
    DangerError,
    measure,
    problems_in,
)
from tests.conftest import PROJECT

DANGER_FILE = PROJECT / "flows" / "danger.toml"
EXAMPLES = PROJECT / "flows" / "danger-examples"


@pytest.fixture(scope="module")
def danger() -> Danger:
    return Danger.load(DANGER_FILE)


# The issue's own examples, and others in the words people use: other verb forms, pronouns,
# word orders, no accents, typos and text-speak.
HEARD = [
    ("my boss has my papers", "documents_held"),
    ("he won't give me my passport back", "documents_held"),
    ("he wont give my pasport back", "documents_held"),
    ("I'm not allowed to go out", "kept_in"),
    ("they don't pay me", "unpaid_or_debt"),
    ("he is watching me", "watched"),
    ("I need to get out of here", "wants_out"),
    ("someone is following me", "followed"),
    ("this guy wont stop following me", "followed"),
    ("me están vigilando", "watched"),
    ("me estan bijilando", "watched"),
    ("quiero irme pero tengo miedo", "wants_out"),
    ("me quitaron mis documentos", "documents_held"),
    ("mis documentos me los quitaron", "documents_held"),
    ("ayuda por favor", "emergency"),
    ("ayuda x favor", "emergency"),
    ("I'm scared he won't let me leave", "kept_in"),
    ("no me deja salir", "kept_in"),
    ("nome dejan salir", "kept_in"),
    ("esto en pelijro", "afraid_for_life"),
    ("he said hell call ICE if i leave", "threatened"),
    ("dice q me va a deportar", "threatened"),
    ("they make me have sex with men", "forced_sex"),
    ("me obligan a trabajar", "forced_work"),
    ("he hits me", "hurt"),
    ("me golpea", "hurt"),
    ("911 pls", "emergency"),
    # Whole families of words, and indirect ways of saying it.
    ("she shoved me down the stairs", "hurt"),
    ("he strangled me", "hurt"),
    ("me quemó con la plancha", "hurt"),
    ("me aventó agua hirviendo", "hurt"),
    ("someone is always with me", "watched"),
    ("nunca me dejan sola", "watched"),
    ("we cant go to church", "kept_in"),
    ("no podemos ir a la tienda", "kept_in"),
    ("something bad will happen to my family", "threatened"),
    ("la migra me va a llevar", "threatened"),
    ("they charge us for everything", "unpaid_or_debt"),
    ("le debo a la señora y siempre quedo debiendo", "unpaid_or_debt"),
    ("my host family keeps my j1 papers", "documents_held"),
    ("ya no tengo la mica, la tiene el patrón", "documents_held"),
    ("they treat us like slaves", "kept_in"),
    ("i have to ask permission to eat", "kept_in"),
    ("tengo que pedir permiso para ir al baño", "kept_in"),
]


@pytest.mark.parametrize(("text", "concept"), HEARD)
def test_a_concept_is_heard_in_the_words_people_use(
    danger: Danger, text: str, concept: str
) -> None:
    assert concept in danger.hear(text).found, danger.hear(text)


# Ordinary senses of the same words, and negations, that must not alarm.
ORDINARY = [
    "I want to leave a review",
    "my passport expired",
    "my passport expired how do i renew it",
    "mi jefe me dio el día libre",
    "afraid of needles",
    "im afraid of needles can someone be with me",
    "he does not hit me",
    "nobody is following me, just asking about hours",
    "no tengo miedo, solo quiero una cita",
    "i need a follow up appointment",
    "my tooth is killing me",
    "help me find a dentist",
    "emergency dentist open sunday",
    "dentista de emergencia abierto el domingo",
    "do you have sex education in spanish",
    "I was locked out of my patient portal",
    "i owe the clinic a copay",
    "el seguro no me paga la medicina",
    # Words kept exact: another sense shares their stem.
    "i got a traffic ticket",
    "me quemé el dedo con la estufa",
    "me pegué en la rodilla",
    "puedo comer sal con la presión alta",
    "estoy bajando de peso",
    # A word the file knows is never heard as a misspelling of another.
    "is my visit in person or by video",
    "no puedo salir al sol sin bloqueador",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_senses_and_negations_do_not_alarm(danger: Danger, text: str) -> None:
    assert not danger.hear(text), danger.hear(text)


def test_the_language_of_the_words_that_suggest_danger(danger: Danger) -> None:
    assert danger.language_of("no me deja salir", ["en", "es"]) == "es"
    assert danger.language_of("he checks my phone", ["en", "es"]) == "en"
    assert danger.language_of("hello there", ["en", "es"]) is None


def test_it_is_fast_enough_for_every_webhook(danger: Danger) -> None:
    message = "hola buenas, una pregunta: mi jefe se quedo con mi pasaporte y no me deja salir"
    danger.hear(message)  # stems cached, as on a running server
    start = time.perf_counter()
    for _ in range(200):
        danger.hear(message)
    per_message = (time.perf_counter() - start) / 200
    assert per_message < 0.02, per_message  # well inside the webhook's budget


# --- The file is checked --------------------------------------------------------------------


def test_the_danger_file_has_no_problems() -> None:
    assert problems_in(DANGER_FILE) == []


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DANGER_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "danger.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            '"others + hold + papers", "papers + papers_back"',
            '"others + holds + papers", "papers + papers_back"',
            "concepts.documents_held.en: 'others + holds + papers' names unknown words ['holds']",
        ),
        ('pay_back = ["pay back", "pay off"]', "pay_back = []", "words.en.pay_back: must be"),
        ('bruises = ["bruises",', 'bruises = ["¿?", "bruises",', "'¿?' stems to nothing"),
        (
            'es = ["forced_to + work", "make + work + no_rest", "work + long_hours + no_rest"]',
            "es = []",
            "concepts.forced_work.es: must be a list",
        ),
        ('exact = ["traffic",', 'exact = ["Traffic jam",', "languages.en.exact: must be a list"),
        ('stemmer = "spanish"', 'stemmer = "klingon"', "languages.es: stemmer must be one of"),
    ],
)
def test_check_names_each_problem_of_the_file(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    path = _broken(tmp_path, old, new)
    found = problems_in(path)
    assert any(problem in line for line in found), found
    with pytest.raises(DangerError):
        Danger.load(path)


# --- Measured on the labelled sets -------------------------------------------------------------


# The sets the words were tuned on: dev, and dev2 (the first held-out sets, folded in once they
# had been measured).
@pytest.mark.parametrize(
    ("name", "lang", "least"),
    [("dev", "en", 150), ("dev", "es", 150), ("dev2", "en", 80), ("dev2", "es", 80)],
)
def test_the_tuning_sets_meet_the_targets(danger: Danger, name: str, lang: str, least: int) -> None:
    rates = measure(danger, EXAMPLES / f"{name}-{lang}.csv")
    assert rates.tuning
    assert rates.danger >= least and rates.ordinary >= least
    assert rates.recall >= RECALL_TARGET, rates.line()
    assert rates.false_alarms <= FALSE_ALARM_TARGET, rates.line()


# Measured once on a second, independent held-out set (heldout2-*.csv), written after the words
# were tuned and opened only after they were committed: below the recall target in both
# languages and above the false-alarm target in Spanish (see README, "Hearing danger"). These hold
# the line where it was measured; a change that loses ground here fails.
HELD_OUT = {"en": (0.863, 0.029), "es": (0.880, 0.055)}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_held_out_sets_stay_where_they_were_measured(danger: Danger, lang: str) -> None:
    recall, false_alarms = HELD_OUT[lang]
    rates = measure(danger, EXAMPLES / f"heldout2-{lang}.csv")
    assert not rates.tuning
    assert rates.danger >= 130 and rates.ordinary >= 130
    assert rates.recall >= recall - 0.001, rates.line()
    assert rates.false_alarms <= false_alarms + 0.001, rates.line()
