"""The flow engine is pure, and a broken flow file fails at start-up naming the file and node."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hotline_bridge.directory.models import Service, Texts
from hotline_bridge.directory.nearby import Nearby
from hotline_bridge.engine import flow as engine
from hotline_bridge.engine.flow import FlowError, Position, decode, load
from hotline_bridge.engine.screen import BACK, HOME, MORE, TALK, Screen
from hotline_bridge.engine.step import (
    CHOOSE_HOME,
    CHOOSE_MORE,
    CHOOSE_TALK,
    CONTINUED,
    Capabilities,
    Turn,
    as_zip,
    respond,
)
from hotline_bridge.engine.walk import reachable
from hotline_bridge.settings import PROJECT_ROOT

FLOW_FILE = PROJECT_ROOT / "flows" / "main.toml"

MINIMAL = """
start = "main"
hotline = "nhth"
emergency = "emergency"
[nodes.main]
type = "menu"
message = "menu.main"
options = [ { key = "1", label = "option.talk", goto = "talk" } ]
[nodes.talk]
type = "connect"
service = "nhth"
message = "connect.talk"
"""


@pytest.fixture
def flow() -> engine.Flow:
    return load(FLOW_FILE)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }


PACKAGE = PROJECT_ROOT / "hotline_bridge"


@pytest.mark.parametrize("path", sorted((PACKAGE / "engine").glob("*.py")), ids=lambda p: p.name)
def test_the_engine_imports_no_framework_no_channel_and_does_no_io(path: Path) -> None:
    imported = {name.split(".")[0] for name in _imports(path)}
    assert imported.isdisjoint({"flask", "twilio", "sqlite3", "sqlite_utils", "requests"})
    assert not any(name.startswith("hotline_bridge.channels") for name in _imports(path))


def test_the_engine_loads_alone_in_a_fresh_interpreter() -> None:
    """Importing every engine module loads no web framework, Twilio, database or directory:
    the package root loads nothing eagerly and the engine owns what it needs."""
    modules = sorted(p.stem for p in (PACKAGE / "engine").glob("*.py") if p.stem != "__init__")
    program = (
        "import sys\n"
        + "".join(f"import hotline_bridge.engine.{name}\n" for name in modules)
        + "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split())
    tops = {name.split(".")[0] for name in loaded}
    assert tops.isdisjoint({"flask", "twilio", "werkzeug", "sqlite_utils", "sqlite3", "jinja2"})
    assert (
        not {name for name in loaded if name.startswith("hotline_bridge.")}
        - {f"hotline_bridge.engine.{name}" for name in modules}
        - {"hotline_bridge.engine"}
    )


def test_what_a_person_sends_is_recognised_as_a_zip_code_in_the_engine_only() -> None:
    # An import reads a row's own ZIP code (directory/values.py); nothing else may tell one.
    allowed = {PACKAGE / "engine" / "step.py", PACKAGE / "directory" / "values.py"}
    for path in PACKAGE.rglob("*.py"):
        if path not in allowed:
            assert r"\d{5}" not in path.read_text(encoding="utf-8"), path


CHANNELS = sorted(
    p for p in (PACKAGE / "channels").iterdir() if p.is_dir() and p.name != "__pycache__"
)


CHANNEL_NAMES = {p.name for p in CHANNELS}
# What reads services from the directory; only the engine, through the directory it is given,
# may call these.
QUERIES = {"services_in", "get_service", "get_services", "nearest", "nearby"}


def _imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda p: p.name)
def test_no_channel_imports_another_channel_or_a_directory_query(channel: Path) -> None:
    for path in channel.rglob("*.py"):
        for name in _imports(path) | _imported_names(path):
            parts = name.split(".")
            if name.startswith("hotline_bridge.channels.") and parts[2] in CHANNEL_NAMES:
                assert parts[2] == channel.name, (path, name)
            if name.startswith("hotline_bridge.directory"):
                assert not QUERIES & set(name.split(".")), (path, name)


# The renderers of the channels, which write the screen the turn's step got from the engine.
RENDERERS = ("voice/render.py", "kiosk/pages.py", "text.py")


@pytest.mark.parametrize("module", RENDERERS)
def test_no_renderer_asks_the_engine_for_a_screen(module: str) -> None:
    path = PACKAGE / "channels" / module
    asked = {f"hotline_bridge.engine.step.{name}" for name in ("show", "respond", "enter_zip")}
    assert not asked & _imported_names(path), path


def test_shipped_flow_is_valid(flow: engine.Flow) -> None:
    assert flow.start == "main" and flow.nodes[flow.talk_node].service == flow.hotline


def line(
    sid: str, label_en: str, label_es: str, name_en: str, name_es: str, **more: Any
) -> Service:
    """A 24/7 line with its words in English and Spanish."""
    texts = {"en": Texts(label_en, name_en), "es": Texts(label_es, name_es)}
    return Service(sid, "talk_now", texts, **more)


class Shelf:
    """A directory held in memory, as the engine reads one."""

    def __init__(self, count: int = 6, zips: frozenset[str] = frozenset({"02139"})) -> None:
        self.items = [
            line(f"s{n}", f"Line {n}", f"Línea {n}", f"Name {n}", f"Nombre {n}")
            for n in range(count)
        ]
        self.zips = zips
        self.reads = 0

    def services(self, categories: Sequence[str]) -> Sequence[Service]:
        self.reads += 1
        return [s for s in self.items if s.category in categories]

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.items if s.id == service_id), None)

    def lines(self, service_ids: Sequence[str]) -> Sequence[Service]:
        return [line(i, i, i, i, i) for i in service_ids]

    def known_zip(self, zip_code: str) -> bool:
        return zip_code in self.zips

    def nearest(
        self, zip_code: str, categories: Sequence[str], lang: str, limit: int
    ) -> Sequence[Nearby] | None:
        return [] if zip_code in self.zips else None


SMS = Capabilities(keyed=True, zip_anywhere=True)
KIOSK = Capabilities(keyed=False)
VOICE = Capabilities(keyed=True, dials=True, details_on_request=True)


def go(flow: engine.Flow, at: Position, choice: str, caps: Capabilities = SMS) -> Turn:
    return respond(flow, at, choice, "en", Shelf(), caps)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("1", "talk"),
        ("2", "needs"),
        ("3", "tips"),
        ("4", "emergency"),
        (CHOOSE_HOME, "main"),
        ("0", "main"),
        (CHOOSE_TALK, "talk"),
        ("8", "talk"),
        ("²", "needs"),  # a compatibility digit is the digit it means
        ("\uff12", "needs"),  # a full-width digit
        ("2.", "needs"),  # a number as people punctuate it
        ("2)", "needs"),
        ("(2)", "needs"),
        ("8!", "talk"),
        ("2\ufe0f\u20e3", "needs"),  # the keycap emoji 2️⃣
    ],
)
def test_choices_from_the_main_menu(flow: engine.Flow, choice: str, expected: str) -> None:
    assert go(flow, Position("main"), choice).screen.position.node == expected


@pytest.mark.parametrize("choice", ["", "x", "12", "-1", "*", "①①", "٣", "1.2", "2 2"])
def test_unknown_choice_repeats_the_screen_with_a_notice(flow: engine.Flow, choice: str) -> None:
    turn = go(flow, Position("needs"), choice)
    assert not turn.understood and turn.screen.position == Position("needs")
    assert turn.screen.notices[0].key == "notice.unknown"
    assert turn.screen.choice("1") is not None  # the whole screen again


def test_list_choice_opens_the_detail_of_that_item_and_back_returns(flow: engine.Flow) -> None:
    shelf = Shelf()
    detail = respond(flow, Position("lines"), "2", "en", shelf, SMS).screen
    assert detail.position == Position("service", item="s1", back=Position("lines"))
    second = respond(flow, Position("lines"), CHOOSE_MORE, "en", shelf, SMS).screen
    assert second.position == Position("lines", page=1)
    assert respond(flow, second.position, "1", "en", shelf, SMS).screen.service.id == "s4"  # type: ignore[union-attr]
    last = respond(flow, second.position, CHOOSE_MORE, "en", shelf, SMS)
    assert not last.understood and last.screen.notices[0].key == "notice.no_more"
    back = respond(flow, detail.position, "9", "en", shelf, SMS).screen
    assert back.position == Position("lines")
    assert shelf.reads == 7  # once for each list screen shown or answered at


def test_every_screen_offers_talk_and_home_and_back_below_the_first_level(
    flow: engine.Flow,
) -> None:
    for caps in (SMS, KIOSK, VOICE):
        for screen in reachable(flow, "en", Shelf(), caps, ("02139", "00000")):
            roles = {c.role for c in screen.choices}
            node = screen.position.node
            assert node == flow.talk_node or TALK in roles, screen.position
            assert node == flow.start or HOME in roles, screen.position
            parent = flow.parents.get(node)
            if screen.position.back or (parent and parent != flow.start):
                assert BACK in roles, screen.position
            back = screen.by_role(BACK)
            assert back is None or back.target != Position(flow.start)  # never the same as home


def test_a_zip_code_is_recognised_anywhere_on_sms_only_where_asked_elsewhere(
    flow: engine.Flow,
) -> None:
    assert go(flow, Position("legal"), "02139").screen.position == Position(
        "nearby", item="02139.legal"
    )
    assert not go(flow, Position("legal"), "02139", VOICE).understood
    asked = go(flow, Position("legal"), "5", VOICE).screen
    assert asked.kind == "zip_ask" and asked.position == Position("nearby", item=".legal")
    found = go(flow, asked.position, "02139", VOICE).screen
    assert found.position == Position("nearby", item="02139.legal")
    assert go(flow, Position("legal"), "0213").screen.notices[0].key == "zip.digits"
    assert go(flow, Position("legal"), "99999").screen.notices[0].key == "zip.unknown"


def test_nothing_near_offers_the_fallback_lines_as_choices(flow: engine.Flow) -> None:
    screen = go(flow, Position("legal"), "02139").screen
    assert screen.fallback and screen.notices[0].key == "zip.none"
    assert screen.choice("1") is not None
    assert screen.choice("1").target.node == "service"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", [None, "", "nowhere", "main:evil", "../etc", "lines@9999", "service:a b", "x" * 500]
)
def test_decode_never_trusts_its_input(flow: engine.Flow, text: str | None) -> None:
    position = decode(flow, text)
    assert position.node in flow.nodes


def test_positions_round_trip(flow: engine.Flow) -> None:
    for position in [
        Position("main"),
        Position("lines", page=2),
        Position("service", "nhth"),
        Position("service", "nhth", back=Position("lines", page=1)),
        Position("nearby", "02139.legal", page=1),
    ]:
        assert decode(flow, position.encode()) == position


def test_a_flow_names_no_channel(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'options = [ { key = "1", label = "option.talk", goto = "talk" } ]',
        'options = [ { key = "1", label = "option.talk", goto = "talk", channels = ["voice"] } ]',
    )
    with pytest.raises(FlowError, match="unknown settings"):
        load(write(tmp_path, text))


def test_channel_actions_come_from_what_the_channel_can_do(flow: engine.Flow) -> None:
    detail = Position("service", item="s0")
    shelf = Shelf()
    shelf.items[0] = line("s0", "L", "L", "N", "N", phone="+18005550100")
    assert respond(flow, detail, "1", "en", shelf, VOICE).action == "dial"
    assert respond(flow, detail, "2", "en", shelf, VOICE).action == "details"
    assert not respond(flow, detail, "1", "en", shelf, SMS).understood


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('goto = "talk"', 'goto = "nowhere"'), "unknown node 'nowhere'"),
        (
            lambda t: t + '[nodes.orphan]\ntype = "info"\nmessage = "info.tips"\n',
            "cannot be reached",
        ),
        (lambda t: t.replace('type = "menu"', 'type = "carousel"'), "unknown type"),
        (lambda t: t.replace('service = "nhth"', 'service = "samhsa"'), "24/7 hotline"),
        (
            lambda t: t.replace('message = "menu.main"', 'message = "menu.nope"'),
            "missing from a catalog",
        ),
        (lambda t: t.replace('start = "main"', 'start = "gone"'), "start node"),
        (lambda t: t.replace('key = "1"', 'key = "0"'), "clash"),
        (lambda t: "[[[", "cannot read flow"),
        (lambda t: t + '[nodes.silent]\ntype = "info"\n', "has no message"),
    ],
)
def test_broken_flows_fail_naming_file_and_node(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    from hotline_bridge.engine.catalogs import Catalogs

    catalogs = Catalogs(PROJECT_ROOT / "locales")
    path = write(tmp_path, change(MINIMAL))
    with pytest.raises(FlowError) as error:
        load(path, known_keys=catalogs.has)
    assert str(path) in str(error.value) and message in str(error.value)


def test_menu_without_a_way_home_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'emergency = "emergency"', 'emergency = "emergency"\n[shortcuts]\nhome = ""'
    )
    with pytest.raises(FlowError, match="no way home"):
        load(write(tmp_path, text))


def test_app_refuses_to_start_with_a_broken_flow(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, MINIMAL.replace('goto = "talk"', 'goto = "nowhere"'))
    with pytest.raises(FlowError, match="nowhere"):
        make_app(FLOW_FILE=str(path))


def test_babel_extractor_finds_every_flow_key(flow: engine.Flow) -> None:
    with FLOW_FILE.open("rb") as handle:
        found = {message for _line, _func, message, _c in engine.babel_extract(handle, [], [], {})}
    assert found == flow.message_keys()


@pytest.mark.parametrize(
    ("sent", "code"),
    [("02139", "02139"), ("02139.", "02139"), ("02139-1234", "02139"), (" 02139! ", "02139")],
)
def test_a_zip_code_is_read_as_people_send_it(sent: str, code: str) -> None:
    assert as_zip(sent) == code


@pytest.mark.parametrize("sent", ["0213", "021399", "02139-12", "02139 1234", "zip"])
def test_what_is_not_a_zip_code_is_not_read_as_one(sent: str) -> None:
    assert as_zip(sent) is None


def test_a_description_is_never_cut_inside_a_word_beside_the_details(flow: engine.Flow) -> None:
    """Where not even its first word fits beside the details, the description waits for the
    next page instead of showing part of a word ("Grati…")."""
    long = "Gratuitamente, confidencial, en su idioma, a toda hora."

    def fits(screen: Screen, lang: str) -> bool:
        # Room for 12 characters of description beside the details, 30 on a page of its own.
        if screen.kind != "detail":
            return True
        room = 30 if screen.position.page else 12
        return len(screen.excerpt if screen.excerpt is not None else long) <= room

    shelf = Shelf()
    shelf.items[1] = replace(
        shelf.items[1], texts={"en": Texts("Line 1", "Name 1", long), "es": Texts("L", "N", long)}
    )
    caps = replace(SMS, fits=fits)
    detail = respond(flow, Position("lines"), "2", "en", shelf, caps).screen
    assert detail.excerpt == ""
    told, page = [], detail
    while page.by_role(MORE) is not None:
        page = respond(flow, page.position, flow.rest_key, "en", shelf, caps).screen
        told.append(page.excerpt or "")
    assert " ".join(told).replace(CONTINUED, "").split() == long.split()
