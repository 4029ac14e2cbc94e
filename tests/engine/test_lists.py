"""Lists people can tell apart, names an onlooker must not see, and long descriptions given a
page at a time, through the real doors (signed webhooks, the kiosk, `import` and `check`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from hotline_bridge.channels.sms import render as sms_render
from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, cost
from hotline_bridge.checks import check_directory
from hotline_bridge.directory.discreet import load_words, sensitive_hits
from hotline_bridge.directory.models import Service, Site, as_service
from hotline_bridge.directory.store import DEFAULT_SITE
from hotline_bridge.engine.flow import Position
from hotline_bridge.engine.step import show
from hotline_bridge.runtime import NAMES_FILE
from hotline_bridge.settings import resolve_path
from tests.conftest import Texter, checked
from tests.directory.test_import import GOOD, run, service, write_csv

UNLABELLED = {**GOOD, "label_en": "", "label_es": ""}
# A description far longer than one text message can carry, with words to cut between.
LONG_EN = " ".join(f"Step {n}: bring your papers and ask at the front desk." for n in range(1, 16))
LONG_ES = " ".join(
    f"Paso {n}: traiga sus papeles y pregunte en la recepción." for n in range(1, 16)
)


def within_budget(reply: str) -> str:
    assert cost(reply).segments <= MAX_SEGMENTS, reply
    return reply


def imported(app: Flask, tmp_path: Path, *rows: dict[str, str]) -> str:
    """Import ``rows`` as a services CSV; return what the import wrote to stderr."""
    result = run(app, "import", str(write_csv(tmp_path / "s.csv", list(rows))))
    assert result.exit_code == 0, result.output
    return result.stderr


def legal_list(app: Flask, lang: str = "en") -> list[str]:
    person = Texter(app.test_client())
    person.send("hola" if lang == "es" else "hi")
    person.send("2")
    return within_budget(person.send("1")).splitlines()


def test_missing_labels_stay_missing_and_lists_show_the_names(app: Flask, tmp_path: Path) -> None:
    other = {**UNLABELLED, "id": "city-law", "name_en": "City Law Center", "name_es": ""}
    imported(app, tmp_path, UNLABELLED, other)
    stored = service(app, "town-legal")
    assert stored is not None
    assert (stored["label_en"], stored["label_es"]) == (None, None)
    # Listed as they read, the clinic's order aside.
    assert legal_list(app)[1:3] == ["1 City Law Center", "2 Town Legal Aid"]
    # In Spanish, the Spanish name; a service with none shows its English one.
    assert {"1 City Law Center", "2 Asistencia Legal del Pueblo"} <= set(legal_list(app, "es"))


def test_a_label_given_is_kept_and_shown(app: Flask, tmp_path: Path) -> None:
    imported(app, tmp_path, {**GOOD, "label_en": "Paperwork help", "label_es": ""})
    assert "1 Paperwork help" in legal_list(app)
    assert "1 Paperwork help" in legal_list(app, "es")  # the clinic's label, not the name


def test_names_that_read_the_same_are_told_apart(app: Flask, tmp_path: Path) -> None:
    twin = {**UNLABELLED, "id": "town-legal-2", "city": "Somerville", "zip": "02143"}
    imported(app, tmp_path, UNLABELLED, twin)
    assert {"1 Town Legal Aid, Cambridge", "2 Town Legal Aid, Somerville"} <= set(legal_list(app))


SENSITIVE = {
    **UNLABELLED,
    "id": "dv-legal",
    "name_en": "Domestic Violence Legal Project",
    "name_es": "Proyecto Legal contra la Violencia Doméstica",
}


def test_a_sensitive_name_is_never_listed_but_shown_once_chosen(app: Flask, tmp_path: Path) -> None:
    warnings = imported(app, tmp_path, SENSITIVE)
    assert "s.csv:2: name_en: warning: the name holds 'domestic violence'" in warnings
    assert "s.csv:2: name_es: warning: the name holds 'violencia doméstica'" in warnings
    for lang, shown, named in (
        ("en", "1 Legal help", "Domestic Violence Legal Project"),
        ("es", "1 Ayuda legal", "Proyecto Legal contra la Violencia Doméstica"),
    ):
        person = Texter(app.test_client())
        person.send("hola" if lang == "es" else "hi")
        person.send("2")
        listed = within_budget(person.send("1"))
        assert shown in listed.splitlines()
        assert "iolenc" not in listed
        # The person chose it: its details name it, so it can be found.
        assert within_budget(person.send("1")).startswith(named)


def test_a_sensitive_name_is_not_on_the_kiosk_list_nor_spoken(app: Flask, tmp_path: Path) -> None:
    imported(app, tmp_path, SENSITIVE)
    page = app.test_client().get("/kiosk/default/en/legal").get_data(as_text=True)
    assert "Legal help" in page and "Domestic Violence" not in page
    detail = app.test_client().get("/kiosk/default/en/service:dv-legal~legal")
    assert "Domestic Violence Legal Project" in detail.get_data(as_text=True)


def test_check_lists_a_sensitive_name_without_a_label(app: Flask, tmp_path: Path) -> None:
    imported(app, tmp_path, SENSITIVE, {**GOOD, "id": "labelled", "name_en": "Abuse Law Clinic"})
    lines = checked(app, check_directory).lines
    named = [line for line in lines if "discreet label" in line]
    assert any(line.startswith("WARN service dv-legal:") and " en;" in line for line in named)
    assert any("'Ayuda legal'" in line for line in named)
    assert not any("labelled" in line for line in named)  # its label stands in


def test_the_word_list_holds_both_languages() -> None:
    words = load_words(resolve_path(NAMES_FILE))
    for name in ("Refugio para Víctimas", "Centro contra la trata de personas", "Rape Crisis"):
        assert sensitive_hits(name, words), name
    assert not sensitive_hits("Town Legal Aid", words)


# --- The rest of a long description, on request ------------------------------------------


@pytest.mark.parametrize(
    ("lang", "greeting", "rest", "long"),
    [("en", "hi", "7 Read the rest", LONG_EN), ("es", "hola", "7 Leer todo", LONG_ES)],
)
def test_a_long_description_is_given_a_page_at_a_time(
    app: Flask, tmp_path: Path, lang: str, greeting: str, rest: str, long: str
) -> None:
    long_one = {**GOOD, "description_en": LONG_EN, "description_es": LONG_ES, "fictional": "no"}
    imported(app, tmp_path, long_one)
    person = Texter(app.test_client())
    person.send(greeting)
    person.send("2")
    person.send("1")
    first = within_budget(person.send("1"))
    assert rest in first.splitlines()
    assert "1-617-555-0123" in first and "1 Main Street" in first  # the details stay whole
    pages = [first]
    while rest in pages[-1].splitlines():
        pages.append(within_budget(person.send("7")))
        assert len(pages) < 20
    assert len(pages) > 2
    told = " ".join(_description_part(page, long) for page in pages)
    assert told.replace("...", "").split() == long.split()
    # Past the last page: said so, the page again; back leads to the details' start.
    assert pages[-1].split("\n", 1)[1] in within_budget(person.send("7"))
    assert within_budget(person.send("9")) == first


def _description_part(page: str, long: str) -> str:
    words = set(long.split())
    return " ".join(line for line in page.splitlines() if line.split() and line.split()[0] in words)


def test_voice_and_kiosk_give_the_whole_description(app: Flask, tmp_path: Path) -> None:
    imported(app, tmp_path, {**GOOD, "description_en": LONG_EN})
    page = app.test_client().get("/kiosk/default/en/service:town-legal~legal")
    assert LONG_EN in page.get_data(as_text=True)
    assert "Read the rest" not in page.get_data(as_text=True)


def test_import_refuses_details_that_cannot_fit(app: Flask, tmp_path: Path) -> None:
    name = "Legal Aid " + " and ".join(f"Partner {n}" for n in range(40))
    result = run(app, "import", str(write_csv(tmp_path / "s.csv", [{**GOOD, "name_en": name}])))
    assert result.exit_code == 1
    assert "s.csv:2: name_en: the details cannot fit one text message reply" in result.stderr
    # A long description alone is no problem: the rest is given on request.
    imported(app, tmp_path, {**GOOD, "description_en": LONG_EN * 3})


@pytest.mark.parametrize("letter", ["N", "Ñ", "€", "😀"])
def test_the_import_budget_check_never_lets_through_what_cannot_be_sent(
    app: Flask, letter: str
) -> None:
    rt = app.extensions["hotline_bridge"]
    site = Site(DEFAULT_SITE)
    check = sms_render.detail_fits(rt.catalogs, rt.flow, site)
    caps = sms_render.capabilities(rt.catalogs, rt.flow, site)
    reported = False
    for length in range(1, 220, 9):
        for numbers in ({"sms": "", "tty": ""}, {"sms": "233733", "tty": "+16175550188"}):
            row = {**GOOD, **numbers, "name_en": letter * length, "name_es": "", "label_en": ""}
            row = {**row, "phone": "+16175550123", "fictional": 1, "label_es": ""}
            refused = check(row)
            reported = reported or bool(refused)
            service = as_service(row)
            for lang in ("en", "es"):
                screen = show(
                    rt.flow, Position("service", item=service.id), lang, _One(service), caps
                )
                sent = sms_render.reply(rt.catalogs.bind(lang), rt.flow, site, screen)
                if lang not in refused:
                    assert cost(sent).segments <= MAX_SEGMENTS, (length, lang, sent)
    assert reported  # and a name long enough is reported


class _One:
    """A directory of one service."""

    def __init__(self, service: Service) -> None:
        self.one = service

    def service(self, service_id: str) -> Service | None:
        return self.one


# --- A service that answers in English only ------------------------------------------------------


@pytest.mark.parametrize(
    ("languages", "lang", "told"),
    [
        ("en", "es", True),
        ("en", "en", False),
        ("en, es", "es", False),
        ("en, 200+ by interpreter", "es", False),
        ("", "es", False),  # unknown: nothing is said
        ("es, en, pt", "es", False),
    ],
)
def test_a_reader_is_told_a_service_answers_in_english_only(
    languages: str, lang: str, told: bool
) -> None:
    assert Service("s", "legal", languages=languages).english_only_for(lang) is told


STRONGHEARTS = "Línea de apoyo para comunidades nativas"  # answers in English only


def test_spanish_details_of_an_english_only_line_say_so_in_every_channel(app: Flask) -> None:
    from hotline_bridge.channels.voice.simulator import Phone

    es = app.extensions["hotline_bridge"].catalogs.bind("es")
    said = es.t("directory.english_only")
    page = app.test_client().get("/kiosk/default/es/service:stronghearts~lines")
    assert said in page.get_data(as_text=True)
    assert said not in app.test_client().get("/kiosk/default/es/service:nhth~lines").get_data(
        as_text=True
    )
    person = Texter(app.test_client())
    person.send("hola")
    person.send("8")
    listed = within_budget(person.send("1"))
    while STRONGHEARTS not in listed:
        listed = within_budget(person.send("7"))
    key = next(line.split()[0] for line in listed.splitlines() if STRONGHEARTS in line)
    assert said in within_budget(person.send(key))
    english = Texter(app.test_client())
    english.send("hi")
    english.send("8")
    assert app.extensions["hotline_bridge"].catalogs.bind("en").t("directory.english_only") not in (
        english.send("1")
    )
    phone = Phone(app, dry_run=True)
    phone.dial_in()
    for key in ("2", "1"):  # Spanish, then talk now
        phone.press(key)
    phone.dial_outcome("no-answer")
    phone.press("1")  # the other lines
    while STRONGHEARTS not in phone.text:
        phone.press("7")
    after = phone.text.split(STRONGHEARTS)[1]  # "...nativas: oprima 1."
    phone.press(re.findall(r"oprima (\d)", after)[0])
    assert said in phone.text
