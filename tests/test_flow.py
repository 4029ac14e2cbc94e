"""The flow engine is pure, and a broken flow file fails at start-up naming the file and node."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hotline_bridge.engine import flow as engine
from hotline_bridge.engine.flow import HOME, MORE, TALK, FlowError, Position, advance, decode, load
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


def test_the_engine_imports_no_framework_and_does_no_io() -> None:
    tree = ast.parse(Path(engine.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert imported.isdisjoint({"flask", "twilio", "sqlite3", "sqlite_utils", "requests"})


def test_shipped_flow_is_valid(flow: engine.Flow) -> None:
    assert flow.start == "main" and flow.nodes[flow.talk_node].service == flow.hotline


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("1", "talk"),
        ("2", "needs"),
        ("3", "tips"),
        ("4", "emergency"),
        (HOME, "main"),
        ("0", "main"),
        (TALK, "talk"),
        ("8", "talk"),
    ],
)
def test_choices_from_the_main_menu(flow: engine.Flow, choice: str, expected: str) -> None:
    assert advance(flow, Position("main"), choice).position.node == expected


@pytest.mark.parametrize("choice", ["", "x", "12", "-1", "*"])
def test_unknown_choice_stays_put(flow: engine.Flow, choice: str) -> None:
    step = advance(flow, Position("needs"), choice)
    assert not step.understood and step.position == Position("needs")


def test_list_choice_opens_the_detail_of_that_item(flow: engine.Flow) -> None:
    items = ["a", "b", "c", "d", "e", "f"]
    step = advance(flow, Position("lines"), "2", items=items)
    assert step.position == Position("service", item="b")
    second_page = advance(flow, Position("lines"), MORE, items=items).position
    assert second_page == Position("lines", page=1)
    assert advance(flow, second_page, "1", items=items).position.item == "e"
    assert not advance(flow, second_page, "3", items=items).understood
    assert not advance(flow, second_page, MORE, items=items).understood


@pytest.mark.parametrize(
    "text", [None, "", "nowhere", "main:evil", "../etc", "lines@9999", "service:a b", "x" * 500]
)
def test_decode_never_trusts_its_input(flow: engine.Flow, text: str | None) -> None:
    position = decode(flow, text)
    assert position.node in flow.nodes


def test_positions_round_trip(flow: engine.Flow) -> None:
    for position in [Position("main"), Position("lines", page=2), Position("service", "nhth")]:
        assert decode(flow, position.encode()) == position


def test_channel_only_options(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'options = [ { key = "1", label = "option.talk", goto = "talk" } ]',
        'options = [ { key = "1", label = "option.talk", goto = "talk" },\n'
        '  { key = "2", label = "option.tips", action = "dial", channels = ["voice"] } ]',
    )
    flow = load(write(tmp_path, text))
    assert advance(flow, Position("main"), "2", channel="voice").action == "dial"
    assert not advance(flow, Position("main"), "2", channel="sms").understood


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
