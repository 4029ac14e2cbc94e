"""The kiosk's ZIP code lookup over HTTP: keypad, kind of help, nearest first, more, detail,
unknown codes, nothing near, both languages, and that no ZIP code is kept anywhere.

The test client sends neither client hints nor the kiosk script's ``?view=``: it is a browser of
unknown size, which gets services near a ZIP code two to a page, as the smallest page tested
(360x560) has room for. A test that means a screen of known size says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge import counters
from hotline_bridge.channels.kiosk import room
from hotline_bridge.directory.models import display_number
from hotline_bridge.directory.store import connect
from hotline_bridge.engine.catalogs import LANGUAGES
from tests.channels.kiosk.test_kiosk import (
    PAGE_BUDGET_BYTES,
    _Page,
    assert_protected,
    corrupt,
    parse,
    rt,
    words,
)
from tests.channels.voice.test_voice import call, press
from tests.conftest import Texter
from tests.directory.test_import import EXAMPLES, run, write_csv
from tests.directory.test_nearby import due_north_miles, place

# ZIP codes no service row holds, so finding one anywhere afterwards means it was kept.
PERSON_ZIP = "02140"
CENTRE_ZIP = "02139"  # the services below stand due north of its centre
UNKNOWN_ZIP = "00000"
FAR_ZIP = "99501"  # Anchorage: nothing of the demo directory is near

# Legal help at hand-computed distances (degrees of latitude north of 02139's centre), and one
# service of another kind nearer than all of them, which a legal search must not show.
NEAR = [
    ("k-one", 0.01, "legal", "24/7", "+16175550131"),
    ("k-two", 0.02, "immigration", "", "+16175550132"),
    ("k-three", 0.03, "legal", "", "+16175550133"),
    ("k-four", 0.04, "legal", "", "+16175550134"),
    ("k-five", 0.05, "immigration", "", "+16175550135"),
    ("k-housing", 0.005, "housing", "", "+16175550136"),
]
LABELS = {
    "en": {sid: f"Desk {sid[2:]}" for sid, *_ in NEAR},
    "es": {sid: f"Oficina {sid[2:]}" for sid, *_ in NEAR},
}
LEGAL = [sid for sid, _deg, category, *_ in NEAR if category in {"legal", "immigration"}]
# Services near a ZIP code on a page of a browser that gives no size (the test client's), and
# on a phone that does (the flow's own size, as SMS and voice have it).
UNSIZED = room.VERY_SHORT_PHONE_RESULTS
FLOW_SIZE = 3
PHONE_HINTS = {"Sec-CH-Viewport-Width": "390", "Sec-CH-Viewport-Height": "844"}


def zip_directory(app: Flask, tmp_path: Path) -> Flask:
    """Import the services above into ``app``'s directory, for the default site."""
    rows = [
        place(
            sid,
            degrees,
            category=category,
            hours=hours,
            phone=phone,
            label_en=LABELS["en"][sid],
            label_es=LABELS["es"][sid],
        )
        for sid, degrees, category, hours, phone in NEAR
    ]
    # Added beside whatever the app already lists (a file alone would retire the rest).
    near = write_csv(tmp_path / "near.csv", rows)
    result = run(app, "import", "--add-only", str(near))
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def zip_app(make_app: Any, tmp_path: Path) -> Flask:
    return zip_directory(make_app(), tmp_path)


@pytest.fixture
def client(zip_app: Flask) -> FlaskClient:
    return zip_app.test_client()


def html_of(client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def results(html: str) -> list[dict[str, str]]:
    """Return the result buttons of a ZIP results page, in order, as their parts."""
    found = []
    for href, inner in re.findall(r'<a class="button result" href="([^"]+)">(.*?)</a>', html, re.S):
        parts = dict(re.findall(r'<span class="result-(label|facts|phone)">(.*?)</span>\n', inner))
        found.append({"href": href.replace("&amp;", "&"), **parts})
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_needs_page_leads_to_a_keypad_with_large_labelled_keys(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    needs = parse(client, f"/kiosk/default/{lang}/needs")
    assert needs.links[w.t("zip.option")] == f"/kiosk/default/{lang}/nearby"
    response = client.get(f"/kiosk/default/{lang}/nearby")
    assert_protected(response)
    html = response.get_data(as_text=True)
    page = _Page()
    page.feed(html)
    assert page.lang == lang
    assert page.h1 == [w.t("kiosk.zip_title")]
    form = re.search(r'<form class="zip-form" id="zip-form" method="get" action="([^"]+)"', html)
    assert form is not None and form[1] == f"/kiosk/default/{lang}/nearby"
    assert '<label class="zip-label" for="zip-input">' + w.t("kiosk.zip_label") in html
    assert re.search(r'<input class="zip-input" id="zip-input" name="zip" [^>]*autofocus>', html)
    keys = re.findall(r'<button type="button" class="button key[^"]*" data-key="([^"]+)">', html)
    assert sorted(keys) == sorted([*"0123456789", "delete"])
    assert f'<button type="submit" class="button key search">{w.t("kiosk.zip_search")}<' in html
    assert f'aria-label="{w.t("kiosk.zip_keypad")}"' in html
    assert 'name="back"' not in html  # no kind chosen yet
    assert page.links[w.t("kiosk.back")] == f"/kiosk/default/{lang}/needs"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_list_page_opens_the_keypad_for_its_own_kind(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    legal = parse(client, f"/kiosk/default/{lang}/legal")
    keypad_url = f"/kiosk/default/{lang}/nearby:.legal"
    assert legal.links[w.t("kiosk.zip_list")] == keypad_url
    html = html_of(client, keypad_url)
    assert f'method="get" action="{keypad_url}"' in html  # the kind rides in the address
    page = _Page()
    page.feed(html)
    assert w.t("list.legal").rstrip(" :") in page.text
    assert page.links[w.t("kiosk.back")] == f"/kiosk/default/{lang}/legal"
    # The 24/7 lines are not a kind of local help to look up by ZIP code.
    assert w.t("kiosk.zip_list") not in parse(client, f"/kiosk/default/{lang}/lines").links


@pytest.mark.parametrize("lang", LANGUAGES)
def test_zip_with_the_kind_chosen_shows_the_nearest_first(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    response = client.get(f"/kiosk/default/{lang}/nearby:.legal?zip={CENTRE_ZIP}")
    assert response.status_code == 303
    assert_protected(response)
    where = f"/kiosk/default/{lang}/nearby:{CENTRE_ZIP}.legal"
    assert response.headers["Location"] == where
    html = html_of(client, where)
    page = _Page()
    page.feed(html)
    assert page.h1 == [w.t("list.legal").rstrip(" :")]
    assert w.t("kiosk.zip_nearest", zip=CENTRE_ZIP) in page.text
    shown = results(html)
    degrees = {sid: deg for sid, deg, *_ in NEAR}
    phones = {sid: phone for sid, _d, _c, _h, phone in NEAR}
    # A browser of unknown size: two, which fit above the dock of the smallest page tested.
    assert [r["label"] for r in shown] == [LABELS[lang][sid] for sid in LEGAL[:UNSIZED]]
    for result, sid in zip(shown, LEGAL[:UNSIZED], strict=True):
        miles = f"{due_north_miles(degrees[sid]):.1f}"
        assert result["facts"].startswith(f"<span>{w.t('kiosk.zip_miles', miles=miles)}</span>")
        assert result["phone"] == display_number(phones[sid])
        assert result["href"] == f"/kiosk/default/{lang}/service:{sid}~nearby:{CENTRE_ZIP}.legal"
    assert w.t("kiosk.zip_open") in shown[0]["facts"]  # open 24/7
    assert w.t("kiosk.zip_open") not in shown[1]["facts"]  # no hours known
    assert w.t("directory.fictional") in page.text
    assert page.links[w.t("kiosk.more")] == f"{where}@1"
    assert w.t("kiosk.previous") not in page.links
    assert page.links[w.t("kiosk.zip_again")] == f"/kiosk/default/{lang}/nearby:.legal"
    assert page.links[w.t("kiosk.back")] == f"/kiosk/default/{lang}/nearby:{CENTRE_ZIP}"
    assert LABELS[lang]["k-housing"] not in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_zip_without_a_kind_asks_for_one_with_big_buttons(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    response = client.get(f"/kiosk/default/{lang}/nearby?zip={CENTRE_ZIP}")
    assert response.status_code == 303
    where = f"/kiosk/default/{lang}/nearby:{CENTRE_ZIP}"
    assert response.headers["Location"] == where
    html = html_of(client, where)
    page = _Page()
    page.feed(html)
    assert page.h1 == [w.t("zip.kind")]
    assert w.t("kiosk.zip_near", zip=CENTRE_ZIP) in page.text
    node = rt(zip_app).flow.node("nearby")
    for option in node.options:
        assert page.links[w.t(option.label)] == f"{where}.{option.goto}"
    assert html.count('class="button choice"') == len(node.options)
    assert page.links[w.t("kiosk.back")] == f"/kiosk/default/{lang}/nearby"
    housing = results(html_of(client, page.links[w.t("option.housing")]))
    assert [r["label"] for r in housing] == [LABELS[lang]["k-housing"]]


def test_a_browser_of_unknown_size_gets_two_services_a_page() -> None:
    """Three end under the dock of a 360x640 phone's page under its bars (360x560); a browser
    that gives no size may be that phone."""
    assert UNSIZED == 2
    assert room.results_page_size(None, FLOW_SIZE) == UNSIZED
    assert room.results_page_size(room.Viewport(360, 560), FLOW_SIZE) == UNSIZED
    # Never more than the flow's own size, whatever the screen.
    assert room.results_page_size(None, 1) == 1


def test_the_flow_pages_services_near_a_zip_code_three_at_a_time(zip_app: Flask) -> None:
    flow = rt(zip_app).flow
    assert flow.node(flow.zip_node).page_size == FLOW_SIZE


@pytest.mark.parametrize("lang", LANGUAGES)
def test_more_shows_the_next_two_then_previous(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    where = f"/kiosk/default/{lang}/nearby:{CENTRE_ZIP}.legal"
    second = html_of(client, f"{where}@1")
    page = _Page()
    page.feed(second)
    labels = [LABELS[lang][sid] for sid in LEGAL]
    assert [r["label"] for r in results(second)] == labels[UNSIZED : 2 * UNSIZED]
    assert results(second)[0]["href"].endswith(f"~nearby:{CENTRE_ZIP}.legal@1")
    assert page.links[w.t("kiosk.previous")] == where
    assert page.links[w.t("kiosk.more")] == f"{where}@2"
    third = html_of(client, f"{where}@2")
    page = _Page()
    page.feed(third)
    assert [r["label"] for r in results(third)] == labels[2 * UNSIZED :]
    assert page.links[w.t("kiosk.previous")] == f"{where}@1"
    assert w.t("kiosk.more") not in page.links


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("how", ["hints", "address"])
def test_a_phone_that_gives_its_size_gets_three_then_the_next_two(
    zip_app: Flask, client: FlaskClient, lang: str, how: str
) -> None:
    """A 390x844 phone, by client hints or by the size the script writes into the address,
    has room for the flow's three; More then shows the other two, with no More after them."""
    w = words(zip_app, lang)
    where = f"/kiosk/default/{lang}/nearby:{CENTRE_ZIP}.legal"
    hints, view = (PHONE_HINTS, "") if how == "hints" else (None, "?view=390x844")
    first = html_of(client, f"{where}{view}", hints)
    labels = [LABELS[lang][sid] for sid in LEGAL]
    assert [r["label"] for r in results(first)] == labels[:FLOW_SIZE]
    page = _Page()
    page.feed(first)
    assert page.links[w.t("kiosk.more")] == f"{where}@1"
    second = html_of(client, f"{where}@1{view}", hints)
    assert [r["label"] for r in results(second)] == labels[FLOW_SIZE:]
    page = _Page()
    page.feed(second)
    assert page.links[w.t("kiosk.previous")] == where
    assert w.t("kiosk.more") not in page.links


def test_texts_and_calls_page_at_the_flows_size_beside_a_kiosk_of_unknown_size(
    zip_app: Flask, client: FlaskClient
) -> None:
    """The kiosk's page sizes are the kiosk's: after it shows two to a browser of unknown size,
    a text and a call near the same ZIP code still get the flow's three, then More."""
    kiosk = results(html_of(client, f"/kiosk/default/en/nearby:{CENTRE_ZIP}.legal"))
    assert len(kiosk) == UNSIZED
    texter = Texter(zip_app.test_client())
    for body in ("hi", "2", "1"):  # Help near you, then legal help
        texter.send(body)
    lines = texter.send(CENTRE_ZIP).splitlines()
    assert [line.split(",")[0] for line in lines[1:5]] == [
        "1 Desk one",
        "2 Desk two",
        "3 Desk three",
        "7 More",
    ]
    # The same on the voice line: the legal list, its ZIP code key, then the code.
    phone = press(call(zip_app, "en"), "2", "1", "5", CENTRE_ZIP)
    read = [said.text for said in phone.said if said.text.startswith("Desk ")]
    assert [text.split(",")[0] for text in read] == ["Desk one", "Desk two", "Desk three"]
    assert words(zip_app, "en").t("voice.more", key="7") in phone.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_result_opens_its_detail_and_back_returns_to_the_results(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    where = f"/kiosk/default/{lang}/nearby:{CENTRE_ZIP}.legal@1"
    first = results(html_of(client, where))[0]
    detail = parse(client, first["href"])
    assert detail.h1 == [place("x", 0)[f"name_{lang}"]]
    assert "1-617-555-0133" in detail.text  # the third nearest, first on the second page
    assert detail.links[w.t("kiosk.back")] == where
    other = "es" if lang == "en" else "en"
    switched = first["href"].replace(f"/{lang}/", f"/{other}/")
    assert detail.links[words(zip_app, other).t("kiosk.language_name")] == switched


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_language_switch_keeps_the_place_on_every_zip_page(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    other = "es" if lang == "en" else "en"
    switch = words(zip_app, other).t("kiosk.language_name")
    for where in [
        "nearby",
        "nearby:.legal",
        f"nearby:{CENTRE_ZIP}",
        f"nearby:{CENTRE_ZIP}.legal@1",
    ]:
        page = parse(client, f"/kiosk/default/{lang}/{where}")
        assert page.lang == lang
        assert page.links[switch] == f"/kiosk/default/{other}/{where}"
    # An unknown ZIP code is not kept: the switch leads to the keypad for the same kind.
    page = parse(client, f"/kiosk/default/{lang}/nearby:{UNKNOWN_ZIP}.legal")
    assert page.links[switch] == f"/kiosk/default/{other}/nearby:.legal"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_unknown_zip_gets_a_clear_message_and_the_keypad_again(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    keypad_url = f"/kiosk/default/{lang}/nearby:.legal"
    response = client.get(f"{keypad_url}?zip={UNKNOWN_ZIP}")
    assert response.status_code == 200  # the keypad again, at the same address
    html = response.get_data(as_text=True)
    page = _Page()
    page.feed(html)
    assert w.t("kiosk.zip.unknown") in page.text
    assert page.h1 == [w.t("kiosk.zip_title")]
    assert 'id="zip-form"' in html
    assert f'method="get" action="{keypad_url}"' in html  # the kind is kept
    assert page.links[w.t("kiosk.back")] == f"/kiosk/default/{lang}/legal"
    assert results(html) == []
    # Without a kind chosen, the same message comes before asking for one.
    again = parse(client, f"/kiosk/default/{lang}/nearby:{UNKNOWN_ZIP}")
    assert w.t("kiosk.zip.unknown") in again.text and w.t("zip.kind") not in again.text


@pytest.mark.parametrize("typed", ["0213", "021399", "abcde", "", "\u0660\u0662\u0661\u0663\u0669"])
def test_anything_but_five_digits_asks_for_five_digits(
    zip_app: Flask, client: FlaskClient, typed: str
) -> None:
    w = words(zip_app, "es")
    response = client.get(f"/kiosk/default/es/nearby:.housing?zip={typed}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert w.t("kiosk.zip.digits") in html
    assert 'action="/kiosk/default/es/nearby:.housing"' in html
    assert not re.search(r'role="status"[^>]* hidden', html)  # the notice shows


@pytest.mark.parametrize("lang", LANGUAGES)
def test_nothing_near_offers_the_fallback_lines(
    zip_app: Flask, client: FlaskClient, lang: str
) -> None:
    w = words(zip_app, lang)
    html = html_of(client, f"/kiosk/default/{lang}/nearby:{FAR_ZIP}.youth")
    page = _Page()
    page.feed(html)
    assert w.t("zip.none") in page.text
    fallback = rt(zip_app).flow.node("youth").fallback
    shown = results(html)
    assert [r["href"] for r in shown] == [
        f"/kiosk/default/{lang}/service:{sid}~nearby:{FAR_ZIP}.youth" for sid in fallback
    ]
    assert shown[0]["phone"] == "1-800-786-2929"  # the runaway line, from the national list
    assert "facts" not in shown[0]
    assert w.t("kiosk.more") not in page.links


def test_zip_pages_are_protected_and_carry_no_inline_code_or_cookie(
    client: FlaskClient,
) -> None:
    client.set_cookie("s", "leftover", domain="localhost")
    for path in [
        "/kiosk/default/en/nearby",
        f"/kiosk/default/en/nearby?zip={CENTRE_ZIP}",
        f"/kiosk/default/es/nearby:{CENTRE_ZIP}",
        f"/kiosk/default/es/nearby:{CENTRE_ZIP}.legal@1",
        f"/kiosk/default/en/nearby:{FAR_ZIP}.youth",
    ]:
        response = client.get(path)
        assert_protected(response)
        html = response.get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, path
        assert "<style" not in html and " style=" not in html, path
        assert re.search(r"<[^>]+\son[a-z]+=", html) is None, path


def test_keypad_and_results_pages_stay_under_the_weight_budget(client: FlaskClient) -> None:
    for path in ["/kiosk/default/es/nearby", f"/kiosk/default/es/nearby:{CENTRE_ZIP}.legal"]:
        response = client.get(path)
        page = _Page()
        page.feed(response.get_data(as_text=True))
        total = len(response.get_data())
        assert len(page.assets) == 3
        for asset in page.assets:
            with client.get(asset) as loaded:
                total += len(loaded.get_data())
        assert total < PAGE_BUDGET_BYTES, path


def test_a_broken_database_shows_the_static_page_not_an_error(
    zip_app: Flask, client: FlaskClient, captured_logs: Any
) -> None:
    corrupt(zip_app.config["DATABASE"])
    response = client.get(f"/kiosk/default/es/nearby:{PERSON_ZIP}.legal")
    assert response.status_code == 200
    assert words(zip_app, "es").t("kiosk.failsafe_call") in response.get_data(as_text=True)
    assert PERSON_ZIP not in captured_logs.text


@pytest.mark.clock
def test_no_zip_code_is_kept_in_the_database_files_or_logs(
    make_app: Any, tmp_path: Path, captured_logs: Any
) -> None:
    app = make_app()
    for name in ("sites.csv", "services.csv"):
        assert run(app, "import", str(EXAMPLES / "demo" / name)).exit_code == 0
    client = app.test_client()
    for lang in LANGUAGES:
        answer = client.get(f"/kiosk/default/{lang}/nearby:.legal?zip={PERSON_ZIP}")
        where = answer.headers["Location"]
        assert PERSON_ZIP in where  # the code rides in the address, and only there
        found = results(html_of(client, where))
        assert found, "the demo directory has legal help near the person's ZIP code"
        html_of(client, found[0]["href"])
        asked = client.get(f"/kiosk/default/{lang}/nearby?zip={PERSON_ZIP}", follow_redirects=True)
        assert words(app, lang).t("zip.kind") in asked.get_data(as_text=True)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".csv":
            assert PERSON_ZIP.encode() not in path.read_bytes(), path
    assert all(PERSON_ZIP not in record.getMessage() for record in captured_logs.records)
    db = connect(app.config["DATABASE"])
    rows = [row for row in counters.totals(db) if row["channel"] == "kiosk"]
    db.close()
    # Only per-day counts of steps, with no digit of any code in them.
    assert {r["event"] for r in rows} == {"step:nearby", "step:service"}
    assert {r["day"] for r in rows} == {counters.today()}
