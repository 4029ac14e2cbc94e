"""The flow engine: menus as data, and a pure step function every channel shares.

A flow file in ``flows/`` (TOML) describes nodes. Each node has a type, a message (a catalog key)
and options. The engine turns (flow, position, choice) into the next position. It does no I/O
after loading and knows nothing of Flask, Twilio or any channel: channels turn what a person sent
into a choice and render the node at the position they get back.

Node types:
  ``menu``     a message and numbered options that lead to other nodes
  ``list``     the services of some categories, numbered, paged; choosing one opens ``detail``
  ``detail``   one service (the position's ``item``), with its official name and numbers
  ``connect``  a line to reach now (``service``), e.g. the 24/7 hotline
  ``info``     a message and nothing to choose but the shortcuts
  ``zip``      asks for a five-digit ZIP code to find the nearest services

A ``zip`` node's ``item`` carries the ZIP code and, once chosen, the list node whose categories
to search (``02139`` or ``02139.legal``); its options are those kinds, its results are paged like
a list and choosing one opens ``detail``. ``enter_zip`` takes a ZIP code sent from anywhere.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

NODE_TYPES = frozenset({"menu", "list", "detail", "connect", "info", "zip"})
CHANNELS = frozenset({"sms", "voice", "kiosk"})

# Choices a channel may pass besides an option key.
HOME, TALK, MORE = "home", "talk", "more"

# A five-digit US ZIP code, as a person sends or keys it.
ZIP_CODE = re.compile(r"^\d{5}$")

# An item of a paged list: a service, a nearby result, a key.
T = TypeVar("T")

_POSITION = re.compile(
    r"^(?P<node>[a-z0-9_]+)(?::(?P<item>[A-Za-z0-9_.\-]+))?(?:@(?P<page>\d{1,3}))?$"
)


class FlowError(Exception):
    """A flow file is malformed; the message names the file and the node."""


@dataclass(frozen=True)
class Option:
    """One numbered choice of a node: where it leads, or a channel action such as ``dial``."""

    key: str
    label: str
    goto: str | None = None
    action: str | None = None
    channels: frozenset[str] = CHANNELS


@dataclass(frozen=True)
class Node:
    """One step of the flow."""

    id: str
    type: str
    message: str | None = None
    messages: Mapping[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    service: str | None = None
    categories: tuple[str, ...] = ()
    detail: str | None = None
    fallback: tuple[str, ...] = ()
    page_size: int | None = None

    def message_for(self, channel: str) -> str | None:
        """Return the catalog key this node shows on ``channel`` (its own variant, if any)."""
        return self.messages.get(channel, self.message)

    def options_for(self, channel: str) -> tuple[Option, ...]:
        """Return the options offered on ``channel``."""
        return tuple(option for option in self.options if channel in option.channels)

    def message_keys(self) -> Iterator[str]:
        """Yield every catalog key this node uses."""
        if self.message:
            yield self.message
        yield from self.messages.values()
        for option in self.options:
            yield option.label


@dataclass(frozen=True)
class Flow:
    """A validated flow: nodes by id and the flow-wide shortcuts."""

    path: Path
    start: str
    hotline: str
    emergency: str
    home_key: str
    talk_key: str
    more_key: str
    page_size: int
    talk_node: str
    zip_node: str | None
    nodes: Mapping[str, Node]

    def node(self, node_id: str) -> Node:
        """Return the node ``node_id``."""
        return self.nodes[node_id]

    def message_keys(self) -> set[str]:
        """Return every catalog key the flow uses."""
        return {key for node in self.nodes.values() for key in node.message_keys()}


@dataclass(frozen=True)
class Position:
    """Where a person is: a node, the service open on a detail step, and the page of a list."""

    node: str
    item: str | None = None
    page: int = 0

    def encode(self) -> str:
        """Return the compact form carried in a cookie, a voice URL or a kiosk link."""
        text = self.node
        if self.item:
            text += f":{self.item}"
        if self.page:
            text += f"@{self.page}"
        return text


@dataclass(frozen=True)
class Step:
    """The result of a choice: the new position, whether the choice was understood, and any
    channel action (``dial``) the chosen option asks for."""

    position: Position
    understood: bool = True
    action: str | None = None


def decode(flow: Flow, text: str | None) -> Position:
    """Parse an encoded position; anything unknown or malformed is the start of the flow."""
    match = _POSITION.match(text or "")
    if not match or match["node"] not in flow.nodes:
        return Position(flow.start)
    node = flow.nodes[match["node"]]
    item = match["item"] if node.type in {"detail", "zip"} else None
    page = int(match["page"] or 0) if node.type in {"list", "zip"} else 0
    return Position(node.id, item, page)


def page_of(flow: Flow, items: Sequence[T], page: int, size: int | None = None) -> Sequence[T]:
    """Return the slice of ``items`` shown on ``page`` of a list (``size`` a page, default the
    flow's)."""
    size = size or flow.page_size
    start = page * size
    return items[start : start + size]


def has_more(flow: Flow, items: Sequence[object], page: int, size: int | None = None) -> bool:
    """Return whether a list has items past ``page``."""
    return len(items) > (page + 1) * (size or flow.page_size)


def zip_item(flow: Flow, position: Position) -> tuple[str | None, str | None]:
    """Return the ZIP code and the chosen kind (a list node id) a ``zip`` position carries."""
    if flow.nodes[position.node].type != "zip" or not position.item:
        return None, None
    code, _, kind = position.item.partition(".")
    if not ZIP_CODE.match(code):
        return None, None
    return code, (kind if flow.nodes.get(kind, Node("", "")).type == "list" else None)


def enter_zip(flow: Flow, position: Position, zip_code: str) -> Step:
    """Return the step after a ZIP code sent at ``position``: the nearest services of the list
    the person is on (or had chosen), or the question of which kind when none is chosen."""
    if flow.zip_node is None or not ZIP_CODE.match(zip_code):
        return Step(position, understood=False)
    node = flow.nodes[position.node]
    kind = node.id if node.type == "list" else zip_item(flow, position)[1]
    item = f"{zip_code}.{kind}" if kind else zip_code
    return Step(Position(flow.zip_node, item=item))


def advance(
    flow: Flow,
    position: Position,
    choice: str,
    *,
    channel: str = "sms",
    items: Sequence[str] = (),
) -> Step:
    """Return the step after ``choice`` at ``position``.

    ``choice`` is an option key, ``HOME``, ``TALK`` or ``MORE``. ``items`` are the service ids a
    list node shows, in order, as the channel read them from the directory.
    """
    if choice in (HOME, flow.home_key):
        return Step(Position(flow.start))
    if choice in (TALK, flow.talk_key):
        return Step(Position(flow.talk_node))
    node = flow.nodes[position.node]
    if node.type == "list":
        return _advance_list(flow, node, position, choice, items)
    if node.type == "zip":
        return _advance_zip(flow, node, position, choice, channel, items)
    for option in node.options_for(channel):
        if option.key == choice:
            if option.goto:
                return Step(Position(option.goto))
            return Step(position, action=option.action)
    return Step(position, understood=False)


def _advance_list(
    flow: Flow, node: Node, position: Position, choice: str, items: Sequence[str]
) -> Step:
    if choice in (MORE, flow.more_key) and has_more(flow, items, position.page):
        return Step(Position(node.id, page=position.page + 1))
    shown = page_of(flow, items, position.page)
    if choice.isdigit() and 1 <= int(choice) <= len(shown):
        return Step(Position(node.detail or node.id, item=shown[int(choice) - 1]))
    return Step(position, understood=False)


def _advance_zip(
    flow: Flow, node: Node, position: Position, choice: str, channel: str, items: Sequence[str]
) -> Step:
    code, kind = zip_item(flow, position)
    if code is None:
        return Step(position, understood=False)  # waiting for a ZIP code (see enter_zip)
    if kind is None:
        for option in node.options_for(channel):
            if option.key == choice and option.goto:
                return Step(Position(node.id, item=f"{code}.{option.goto}"))
        return Step(position, understood=False)
    size = node.page_size
    if choice in (MORE, flow.more_key) and has_more(flow, items, position.page, size):
        return Step(Position(node.id, item=position.item, page=position.page + 1))
    shown = page_of(flow, items, position.page, size)
    if choice.isdigit() and 1 <= int(choice) <= len(shown):
        return Step(Position(node.detail or node.id, item=shown[int(choice) - 1]))
    return Step(position, understood=False)


# --- Loading and validation -------------------------------------------------------------------


def load(path: str | Path, known_keys: Callable[[str], bool] | None = None) -> Flow:
    """Load and validate the flow at ``path``.

    ``known_keys`` tells whether a catalog key exists in every language; when given, a missing
    key is an error. Raises ``FlowError`` naming the file and node.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FlowError(f"{path}: cannot read flow: {exc}") from None
    flow = _build(path, data)
    _validate(flow, known_keys)
    return flow


def _fail(path: Path, node: str | None, reason: str) -> FlowError:
    where = f"{path}: node {node!r}" if node else str(path)
    return FlowError(f"{where}: {reason}")


def _build(path: Path, data: Mapping[str, Any]) -> Flow:
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise _fail(path, None, "no [nodes] defined")
    shortcuts = data.get("shortcuts", {})
    try:
        nodes = {node_id: _build_node(node_id, raw) for node_id, raw in raw_nodes.items()}
        return Flow(
            path=path,
            start=str(data.get("start", "main")),
            hotline=str(data["hotline"]),
            emergency=str(data["emergency"]),
            home_key=str(shortcuts.get("home", "0")),
            talk_key=str(shortcuts.get("talk", "8")),
            more_key=str(shortcuts.get("more", "7")),
            page_size=int(data.get("page_size", 4)),
            talk_node=str(shortcuts.get("talk_node", "talk")),
            zip_node=shortcuts.get("zip_node"),
            nodes=nodes,
        )
    except KeyError as exc:
        raise _fail(path, None, f"missing setting {exc}") from None
    except (TypeError, ValueError) as exc:
        raise _fail(path, None, str(exc)) from None


def _build_node(node_id: str, raw: Mapping[str, Any]) -> Node:
    if not isinstance(raw, dict):
        raise ValueError(f"node {node_id!r} is not a table")
    options = tuple(
        Option(
            key=str(opt["key"]),
            label=str(opt["label"]),
            goto=opt.get("goto"),
            action=opt.get("action"),
            channels=frozenset(opt.get("channels", CHANNELS)),
        )
        for opt in raw.get("options", ())
    )
    return Node(
        id=node_id,
        type=str(raw.get("type", "")),
        message=raw.get("message"),
        messages=dict(raw.get("messages", {})),
        options=options,
        service=raw.get("service"),
        categories=tuple(raw.get("categories", ())),
        detail=raw.get("detail"),
        fallback=tuple(raw.get("fallback", ())),
        page_size=int(raw["page_size"]) if "page_size" in raw else None,
    )


def _validate(flow: Flow, known_keys: Callable[[str], bool] | None) -> None:
    path = flow.path
    if flow.start not in flow.nodes:
        raise _fail(path, None, f"start node {flow.start!r} does not exist")
    for node in flow.nodes.values():
        _validate_node(flow, node)
        if known_keys is not None:
            for key in node.message_keys():
                if not known_keys(key):
                    raise _fail(path, node.id, f"message {key!r} is missing from a catalog")
    talk = flow.nodes.get(flow.talk_node)
    if talk is None or talk.type != "connect" or talk.service != flow.hotline:
        raise _fail(path, flow.talk_node, "the talk shortcut must connect to the 24/7 hotline")
    if flow.zip_node is not None and flow.nodes.get(flow.zip_node, Node("", "")).type != "zip":
        raise _fail(path, flow.zip_node, "zip_node must be a node of type 'zip'")
    if not flow.home_key:
        for node in flow.nodes.values():
            if node.id != flow.start and flow.start not in {o.goto for o in node.options}:
                raise _fail(path, node.id, "has no way home (no home shortcut, no option to start)")
    unreachable = sorted(set(flow.nodes) - _reachable(flow))
    if unreachable:
        raise _fail(path, unreachable[0], "cannot be reached from the start node")
    _validate_keys(flow)


def _validate_node(flow: Flow, node: Node) -> None:
    path = flow.path
    if node.type not in NODE_TYPES:
        raise _fail(path, node.id, f"unknown type {node.type!r}")
    if node.type != "detail" and not node.message_for("sms"):
        raise _fail(path, node.id, "has no message")
    for option in node.options:
        if option.goto is None and option.action is None:
            raise _fail(path, node.id, f"option {option.key} has neither goto nor action")
        if option.goto is not None and option.goto not in flow.nodes:
            raise _fail(path, node.id, f"option {option.key} leads to unknown node {option.goto!r}")
        unknown = option.channels - CHANNELS
        if unknown:
            raise _fail(path, node.id, f"option {option.key} names unknown channel {unknown}")
    if node.type == "list":
        target = flow.nodes.get(node.detail or "")
        if target is None or target.type != "detail":
            raise _fail(path, node.id, f"list needs a 'detail' node, got {node.detail!r}")
        if not node.categories:
            raise _fail(path, node.id, "list names no categories")
    if node.type == "zip":
        _validate_zip(flow, node)
    if node.type == "connect" and not node.service:
        raise _fail(path, node.id, "connect node names no service")


def _validate_zip(flow: Flow, node: Node) -> None:
    target = flow.nodes.get(node.detail or "")
    if target is None or target.type != "detail":
        raise _fail(flow.path, node.id, f"zip needs a 'detail' node, got {node.detail!r}")
    for option in node.options:
        if option.goto is None or flow.nodes[option.goto].type != "list":
            raise _fail(flow.path, node.id, f"option {option.key} must lead to a list node")


def _validate_keys(flow: Flow) -> None:
    reserved = {flow.home_key, flow.talk_key} - {""}
    for node in flow.nodes.values():
        keys = [option.key for option in node.options]
        clash = reserved.intersection(keys) | {k for k in keys if keys.count(k) > 1}
        if node.type == "list":
            clash |= {flow.more_key} & set(keys)
        if clash:
            raise _fail(flow.path, node.id, f"option keys {sorted(clash)} clash")


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start, flow.talk_node]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        node = flow.nodes[node_id]
        todo.extend(option.goto for option in node.options if option.goto)
        if node.detail:
            todo.append(node.detail)
    if flow.zip_node:
        seen.add(flow.zip_node)  # reached from anywhere by sending a ZIP code
    return seen


# --- Babel extraction -----------------------------------------------------------------------


def _keys_with_lines(text: str, keys: Iterable[str]) -> Iterator[tuple[int, str]]:
    lines = text.splitlines()
    for key in sorted(set(keys)):
        quoted = f'"{key}"'
        lineno = next((n for n, line in enumerate(lines, 1) if quoted in line), 1)
        yield lineno, key


def babel_extract(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for flow files: yields every catalog key a flow uses, with its line."""
    text = fileobj.read().decode("utf-8")
    data = tomllib.loads(text)
    keys: set[str] = set()
    for node_id, raw in data.get("nodes", {}).items():
        keys.update(_build_node(node_id, raw).message_keys())
    for lineno, key in _keys_with_lines(text, keys):
        yield lineno, "gettext", key, []
