"""The lobby kiosk over HTTP: pages, headers, weight, counts and the fail-safe page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import segno
from babel.messages.extract import extract_from_dir
from flask import Flask
from flask.testing import FlaskClient

from hotline_bridge import counters, create_app
from hotline_bridge.channels.kiosk import pages as kiosk_pages
from hotline_bridge.directory.hours import describe
from hotline_bridge.directory.models import display_number
from hotline_bridge.directory.store import connect, read_national_lines, write_services, write_sites
from hotline_bridge.engine.catalogs import LANGUAGES, Catalogs
from hotline_bridge.runtime import Runtime
from hotline_bridge.settings import PROJECT_ROOT, ConfigError

# The page budget from DESIGN.md: the home page with everything it loads.
PAGE_BUDGET_BYTES = 100 * 1024

LINES = {row["id"]: row for row in read_national_lines()}
HOTLINE = LINES["nhth"]
# A line with a voice number, a text number and keyword, and a TTY, none of them withheld.
TEXTABLE = LINES["ndvh"]
EMERGENCY = LINES["emergency"]["voice"]

# A made-up local listing (555-01xx numbers are reserved for fiction).
EXAMPLE = {
    "id": "example-legal",
    "category": "legal",
    "label_en": "Neighborhood legal clinic",
    "label_es": "Clínica legal del barrio",
    "name_en": "Example Immigrant Legal Aid",
    "name_es": "Ayuda Legal para Inmigrantes de Ejemplo",
    "description_en": "Free advice on papers and work.",
    "description_es": "Consejos gratis sobre papeles y trabajo.",
    "phone": "+15550100123",
    "address": "100 Example Street",
    "city": "Springfield",
    "state": "IL",
    "zip": "62701",
    "hours": "Mo-Fr 09:00-17:00",
    "fictional": 1,
    "sort_order": 1,
}

PAGE_KINDS = {
    "home": "",
    "menu": "/needs",
    "list": "/legal",
    "detail": "/service:example-legal~legal",
    "connect": "/talk",
    "info": "/tips",
}


def seed_kiosk(database: str | Path, extra_legal: int = 0) -> None:
    """Add the example listing (and ``extra_legal`` more) to the default site, and a
    Spanish-first site with its own exit page, confirmed by the clinic."""
    db = connect(database)
    rows = [EXAMPLE]
    for n in range(extra_legal):
        rows.append(
            {
                **EXAMPLE,
                "id": f"example-legal-{n}",
                "label_en": f"Legal desk {n}",
                "label_es": f"Oficina legal {n}",
                "sort_order": 2 + n,
            }
        )
    write_services(db, rows)
    db["service_sites"].insert_all(
        [{"service_id": row["id"], "site_id": "default"} for row in rows], replace=True
    )
    lobby = {
        "id": "lobby",
        "name_en": "Lobby Desk",
        "name_es": "Mostrador del Vestíbulo",
        "default_language": "es",
        "exit_url": "https://www.example.org/welcome",
        "exit_url_confirmed": 1,
    }
    write_sites(db, [lobby])
    db.conn.commit()
    db.close()


@pytest.fixture
def kiosk_app(make_app: Any) -> Flask:
    app = make_app()
    seed_kiosk(app.config["DATABASE"], extra_legal=5)
    return app


@pytest.fixture
def kiosk_client(kiosk_app: Flask) -> FlaskClient:
    return kiosk_app.test_client()


def rt(app: Flask) -> Runtime:
    return app.extensions["hotline_bridge"]


def words(app: Flask, lang: str) -> Any:
    return rt(app).catalogs.bind(lang)


class _Page(HTMLParser):
    """The parts of a kiosk page the tests look at: text, links, assets, headings."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.text: list[str] = []
        self.links: dict[str, str] = {}
        self.assets: list[str] = []
        self.h1: list[str] = []
        self._last_href = ""
        self._in_h1 = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "a":
            self._last_href = a["href"]
        if tag == "h1":
            self._in_h1 = True
        if tag in {"script", "style"}:
            self._skip += 1
        if tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        if tag == "link" and a.get("rel") in {"stylesheet", "icon"}:
            self.assets.append(a["href"])
        if tag == "img":
            self.assets.append(a["src"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip or not data.strip():
            return
        self.text.append(data.strip())
        if self._last_href:
            self.links[data.strip()] = self._last_href
            self._last_href = ""
        if self._in_h1:
            self.h1.append(data.strip())


def parse(client: FlaskClient, path: str) -> _Page:
    response = client.get(path)
    assert response.status_code == 200, path
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return page


@pytest.mark.parametrize("kind", sorted(PAGE_KINDS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_response_forbids_caching_referrers_framing_and_foreign_code(
    kiosk_client: FlaskClient, kind: str, lang: str
) -> None:
    response = kiosk_client.get(f"/kiosk/default/{lang}{PAGE_KINDS[kind]}")
    assert response.status_code == 200
    assert_protected(response)


@pytest.mark.parametrize(
    "path",
    ["/kiosk", "/kiosk/lobby", "/welcome", "/kiosk/static/kiosk.css", "/kiosk/static/kiosk.js"],
)
def test_assets_and_exit_page_are_protected_too(kiosk_client: FlaskClient, path: str) -> None:
    with kiosk_client.get(path) as response:
        assert response.status_code == 200
        assert_protected(response)


def assert_protected(response: Any) -> None:
    headers = response.headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    policy = dict(
        [*part.split(" ", 1), ""][:2] for part in headers["Content-Security-Policy"].split("; ")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert "Set-Cookie" not in headers


def test_no_cookie_even_when_a_session_cookie_is_sent(kiosk_client: FlaskClient) -> None:
    kiosk_client.set_cookie("s", "leftover", domain="localhost")
    for path in ["/kiosk", "/kiosk/default/es/legal", "/welcome", "/kiosk/default/en/nowhere"]:
        assert "Set-Cookie" not in kiosk_client.get(path).headers, path


def test_no_inline_script_or_style_in_any_page(kiosk_client: FlaskClient) -> None:
    for path in PAGE_KINDS.values():
        html = kiosk_client.get(f"/kiosk/default/en{path}").get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, path
        assert "<style" not in html and " style=" not in html, path
        assert re.search(r"<[^>]+\son[a-z]+=", html) is None, path


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_is_neutral_with_a_button_for_each_main_menu_choice(
    kiosk_app: Flask, kiosk_client: FlaskClient, lang: str
) -> None:
    page = parse(kiosk_client, f"/kiosk/default/{lang}")
    w = words(kiosk_app, lang)
    assert page.lang == lang
    assert page.h1 == [w.t("program.name")]
    flow = rt(kiosk_app).flow
    for option in flow.node(flow.start).options:
        assert w.t(option.label) in page.links
    assert w.t("kiosk.talk_now") in page.links
    assert w.t("kiosk.exit") in page.links
    text = " ".join(page.text).lower()
    for word in rt(kiosk_app).sensitive_words:
        assert re.search(rf"\b{re.escape(word.lower())}\b", text) is None, word


def test_site_name_language_and_exit_page_come_from_the_sites_table(
    kiosk_client: FlaskClient,
) -> None:
    page = parse(kiosk_client, "/kiosk/lobby")
    assert page.lang == "es"
    assert page.h1 == ["Mostrador del Vestíbulo"]
    assert page.links["Salir"] == "https://www.example.org/welcome"
    html = kiosk_client.get("/kiosk/lobby/en/legal").get_data(as_text=True)
    assert 'data-reset="/kiosk/lobby/es"' in html


def test_exit_page_of_a_site_cannot_be_a_script(
    kiosk_app: Flask, kiosk_client: FlaskClient
) -> None:
    db = connect(kiosk_app.config["DATABASE"])
    db["sites"].update("lobby", {"exit_url": "javascript:alert(1)"})
    db.conn.commit()
    db.close()
    assert parse(kiosk_client, "/kiosk/lobby").links["Salir"] == "/welcome/lobby/es"


def test_unknown_site_is_not_found_and_still_gives_the_hotline(kiosk_client: FlaskClient) -> None:
    page = kiosk_client.get("/kiosk/nowhere")
    assert page.status_code == 404
    assert "1-888-373-7888" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("exit_url", "confirmed", "shown"),
    [
        ("https://www.example.org/welcome", 0, "/welcome/lobby/es"),  # might be unreachable
        ("http://www.example.org/welcome", 1, "/welcome/lobby/es"),  # only https:// is confirmed
        ("//www.example.org/welcome", 1, "/welcome/lobby/es"),  # another server, by its path
        ("/\\www.example.org/welcome", 1, "/welcome/lobby/es"),
        ("/welcome/default/en", 0, "/welcome/default/en"),  # a page of this server
        ("http://localhost/welcome/lobby/en", 0, "http://localhost/welcome/lobby/en"),
        ("http://localhost.example.org/", 0, "/welcome/lobby/es"),
    ],
)
def test_exit_leads_to_this_server_or_a_confirmed_https_page(
    kiosk_app: Flask, kiosk_client: FlaskClient, exit_url: str, confirmed: int, shown: str
) -> None:
    db = connect(kiosk_app.config["DATABASE"])
    db["sites"].update("lobby", {"exit_url": exit_url, "exit_url_confirmed": confirmed})
    db.conn.commit()
    db.close()
    assert parse(kiosk_client, "/kiosk/lobby").links["Salir"] == shown


@pytest.mark.parametrize(
    "path", ["/kiosk/default/fr", "/kiosk/default/en/nowhere", "/kiosk/default/en/a/b/c"]
)
def test_addresses_the_kiosk_never_links_to_show_the_home_page(
    kiosk_app: Flask, kiosk_client: FlaskClient, path: str
) -> None:
    page = parse(kiosk_client, path)
    assert page.h1 == [words(kiosk_app, "en").t("program.name")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_list_shows_discreet_labels_and_pages_through(
    kiosk_app: Flask, kiosk_client: FlaskClient, lang: str
) -> None:
    w = words(kiosk_app, lang)
    first = parse(kiosk_client, f"/kiosk/default/{lang}/legal")
    label = EXAMPLE[f"label_{lang}"]
    assert first.links[label] == f"/kiosk/default/{lang}/service:example-legal~legal"
    assert EXAMPLE[f"name_{lang}"] not in " ".join(first.text)
    assert first.links[w.t("kiosk.more")] == f"/kiosk/default/{lang}/legal@1"
    second = parse(kiosk_client, f"/kiosk/default/{lang}/legal@1")
    assert second.links[w.t("kiosk.previous")] == f"/kiosk/default/{lang}/legal"
    assert w.t("kiosk.more") not in second.links
    assert any(text.startswith(("Legal desk", "Oficina legal")) for text in second.links)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_detail_shows_official_name_numbers_hours_address_and_example_mark(
    kiosk_app: Flask, kiosk_client: FlaskClient, lang: str
) -> None:
    w = words(kiosk_app, lang)
    page = parse(kiosk_client, f"/kiosk/default/{lang}/service:example-legal~legal")
    text = " ".join(page.text)
    assert page.h1 == [EXAMPLE[f"name_{lang}"]]
    hours = describe(EXAMPLE["hours"], lang)
    assert hours != EXAMPLE["hours"]  # written for the reader, not in the stored form
    address = "100 Example Street, Springfield, IL 62701"
    for value in [display_number(EXAMPLE["phone"]), hours, address]:
        assert value in text
    assert w.t("directory.fictional") in text
    assert page.links[w.t("kiosk.back")] == f"/kiosk/default/{lang}/legal"
    other = "es" if lang == "en" else "en"
    switch = page.links[words(kiosk_app, other).t("kiosk.language_name")]
    assert switch == f"/kiosk/default/{other}/service:example-legal~legal"


def test_real_lines_carry_no_example_mark(kiosk_client: FlaskClient) -> None:
    page = parse(kiosk_client, "/kiosk/default/en/service:ndvh")
    text = " ".join(page.text)
    assert "Example listing" not in text
    texting = f"{TEXTABLE['sms_keyword']} to {TEXTABLE['sms_number']}"
    for number in [display_number(TEXTABLE["voice"]), texting, display_number(TEXTABLE["tty"])]:
        assert number in text


def test_qr_codes_open_the_dialer_and_messages_with_the_services_numbers(
    kiosk_client: FlaskClient,
) -> None:
    html = kiosk_client.get("/kiosk/default/en/service:ndvh").get_data(as_text=True)
    svgs = re.findall(r"<svg.*?</svg>", html)
    options = {
        "scale": 1,
        "border": kiosk_pages.QR_BORDER,
        "omitsize": True,
        "svgclass": "qr",
        "lineclass": None,
        "dark": "#000",
        "light": "#fff",
    }
    call = segno.make(f"tel:{TEXTABLE['voice']}", micro=False).svg_inline(**options)
    sms_uri = f"sms:{TEXTABLE['sms_number']}?body={TEXTABLE['sms_keyword']}"
    text = segno.make(sms_uri, micro=False).svg_inline(**options)
    assert svgs == [call, text]
    assert f'aria-label="Code to call {display_number(TEXTABLE["voice"])}"' in html


def test_printed_slip_has_only_the_discreet_label_and_numbers(kiosk_client: FlaskClient) -> None:
    html = kiosk_client.get("/kiosk/default/es/service:ndvh").get_data(as_text=True)
    slip = re.search(r'<div class="slip"[^>]*>(.*?)</div>', html, re.S)
    assert slip is not None
    lines = re.findall(r"<p>(.*?)</p>", slip[1])
    assert lines == [
        "Línea de apoyo para relaciones de pareja",
        f"Llame al {display_number(TEXTABLE['voice'])}",
        f"Envíe {TEXTABLE['sms_keyword']} al {TEXTABLE['sms_number']}",
    ]


def test_emergency_page_names_911_without_a_code_to_keep(kiosk_client: FlaskClient) -> None:
    html = kiosk_client.get("/kiosk/default/en/emergency").get_data(as_text=True)
    assert LINES["emergency"]["voice"] in html
    assert "<svg" not in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_names_911_and_reaches_the_hotline_in_one_touch(
    kiosk_client: FlaskClient, kiosk_app: Flask, lang: str
) -> None:
    w = words(kiosk_app, lang)
    for path in PAGE_KINDS.values():
        page = parse(kiosk_client, f"/kiosk/default/{lang}{path}")
        assert w.t("kiosk.emergency", number=EMERGENCY) in page.text, path
        assert page.links[w.t("kiosk.talk_now")] == f"/kiosk/default/{lang}/talk", path


def test_tips_use_the_kiosks_own_wording(kiosk_app: Flask, kiosk_client: FlaskClient) -> None:
    page = parse(kiosk_client, "/kiosk/default/en/tips")
    assert words(kiosk_app, "en").t("kiosk.info.tips") in page.text
    assert page.h1 == ["Safety tips"]


def test_idle_reset_is_off_on_the_resting_home_page_and_on_elsewhere(
    kiosk_client: FlaskClient,
) -> None:
    resting = kiosk_client.get("/kiosk/default/en").get_data(as_text=True)
    assert 'data-idle="0"' in resting
    spanish_home = kiosk_client.get("/kiosk/default/es").get_data(as_text=True)
    assert 'data-idle="90" data-countdown="20"' in spanish_home
    assert 'data-reset="/kiosk/default/en"' in spanish_home


def test_home_page_with_everything_it_loads_is_under_budget(kiosk_client: FlaskClient) -> None:
    response = kiosk_client.get("/kiosk")
    page = _Page()
    page.feed(response.get_data(as_text=True))
    names = ["icon.svg", "kiosk.css", "kiosk.js"]
    assert sorted(page.assets) == [f"/kiosk/static/{name}" for name in names]
    total = len(response.get_data())
    for asset in page.assets:
        with kiosk_client.get(asset) as loaded:
            assert loaded.status_code == 200
            total += len(loaded.get_data())
    assert total < PAGE_BUDGET_BYTES


def test_page_views_are_counted_per_day_only(kiosk_app: Flask, kiosk_client: FlaskClient) -> None:
    kiosk_client.get("/kiosk/default/es/legal")
    kiosk_client.get("/kiosk/default/es/legal")
    kiosk_client.get("/welcome/default/es")
    db = connect(kiosk_app.config["DATABASE"])
    rows = [row for row in counters.totals(db) if row["channel"] == "kiosk"]
    db.close()
    assert {(r["language"], r["event"], r["n"]) for r in rows} == {
        ("es", "step:legal", 2),
        ("es", "exit", 1),
    }
    assert {r["day"] for r in rows} == {counters.today()}


def corrupt(database: str) -> None:
    for suffix in ("-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)
    Path(database).write_bytes(b"this is not a database" * 100)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_broken_database_shows_the_static_page_with_hotline_and_911(
    kiosk_app: Flask, kiosk_client: FlaskClient, lang: str, captured_logs: Any
) -> None:
    corrupt(kiosk_app.config["DATABASE"])
    response = kiosk_client.get(f"/kiosk/default/{lang}/service:nhth")
    assert response.status_code == 200
    assert_protected(response)
    page = _Page()
    page.feed(response.get_data(as_text=True))
    assert page.lang == lang
    text = " ".join(page.text)
    assert display_number(HOTLINE["voice"]) in text
    assert words(kiosk_app, lang).t("kiosk.emergency", number=EMERGENCY) in text
    assert "National Human Trafficking" not in text
    assert "service:nhth" not in captured_logs.text


def test_broken_database_without_a_language_shows_both(
    kiosk_app: Flask, kiosk_client: FlaskClient
) -> None:
    corrupt(kiosk_app.config["DATABASE"])
    text = " ".join(parse(kiosk_client, "/kiosk").text)
    for lang in LANGUAGES:
        assert words(kiosk_app, lang).t("kiosk.failsafe_call") in text


def test_deleted_database_shows_the_static_page(
    kiosk_app: Flask, kiosk_client: FlaskClient
) -> None:
    Path(kiosk_app.config["DATABASE"]).unlink()
    text = " ".join(parse(kiosk_client, "/kiosk/default/en/legal").text)
    assert display_number(HOTLINE["voice"]) in text


def test_node_type_the_kiosk_cannot_show_gets_the_static_page(
    kiosk_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(kiosk_pages.BUILDERS, "info")
    text = " ".join(parse(kiosk_client, "/kiosk/default/en/tips").text)
    assert display_number(HOTLINE["voice"]) in text


def test_missing_catalog_entry_shows_the_static_page(
    kiosk_app: Flask, kiosk_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogs = rt(kiosk_app).catalogs
    real = Catalogs.text

    def gap(self: Catalogs, lang: str, key: str, **params: object) -> str:
        if key == "kiosk.home":
            return real(self, lang, "no.such.key")
        return real(self, lang, key, **params)

    monkeypatch.setattr(type(catalogs), "text", gap)
    text = " ".join(parse(kiosk_client, "/kiosk/default/es/legal").text)
    assert display_number(HOTLINE["voice"]) in text


def test_short_countdown_is_refused_outside_tests(tmp_path: Path) -> None:
    config = {
        "DATABASE": str(tmp_path / "hotline.db"),
        "SECRET_KEY": "k",
        "TWILIO_AUTH_TOKEN": "t",
        "PUBLIC_URL": "https://line.example.org",
        "KIOSK_COUNTDOWN_SECONDS": 19,
    }
    with pytest.raises(ConfigError, match="KIOSK_COUNTDOWN_SECONDS"):
        create_app(config)
    assert create_app({**config, "KIOSK_COUNTDOWN_SECONDS": 20})


@pytest.mark.parametrize(("seconds", "waits"), [(None, "60"), (15, "15")])
def test_welcome_page_waits_the_configured_time_before_returning_to_the_kiosk(
    make_app: Any, seconds: int | None, waits: str
) -> None:
    app = make_app(**({"KIOSK_WELCOME_SECONDS": seconds} if seconds else {}))
    html = app.test_client().get("/welcome/lobby/es").get_data(as_text=True)
    assert f'data-wait="{waits}"' in html
    assert 'data-return="/kiosk/lobby"' in html


def test_a_welcome_page_that_never_returns_is_refused(make_app: Any) -> None:
    with pytest.raises(ConfigError, match="KIOSK_WELCOME_SECONDS"):
        make_app(KIOSK_WELCOME_SECONDS=0)


def test_every_word_in_the_templates_is_in_both_catalogs(kiosk_app: Flask) -> None:
    found = extract_from_dir(
        str(PROJECT_ROOT / "hotline_bridge" / "channels" / "kiosk" / "templates"),
        method_map=[("**.html", "jinja2")],
        keywords={"t": None},
    )
    keys = {message for _file, _line, message, _comments, _context in found}
    assert {"kiosk.exit", "kiosk.idle_stay", "kiosk.failsafe_title"} <= keys
    catalogs = rt(kiosk_app).catalogs
    assert sorted(key for key in keys if not catalogs.has(key)) == []
