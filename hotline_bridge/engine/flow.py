"""The flow: menus as data, loaded and validated once; the step function is in ``step``.

A flow file in ``flows/`` (TOML) describes nodes. Each node has a type, a message (a catalog key)
and options. It knows no channel: what a channel can do (take a ZIP code anywhere, dial a call)
is declared by the channel, and the engine offers the options that fit (see ``step``).

Node types:
  ``menu``     a message and numbered options that lead to other nodes
  ``list``     the services of some categories, numbered, paged; choosing one opens ``detail``
  ``detail``   one service (the position's ``item``), with its official name and numbers; a
               description too long for a channel goes on over pages (the position's ``page``)
  ``connect``  a line to reach now (``service``), e.g. the 24/7 hotline
  ``info``     a message and nothing to choose but the shortcuts
  ``zip``      asks for a five-digit ZIP code to find the nearest services
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

NODE_TYPES = frozenset({"menu", "list", "detail", "connect", "info", "zip"})

_ONE = r"[a-z0-9_]+(?::[A-Za-z0-9_.\-]+)?(?:@\d{1,3})?"
_POSITION = re.compile(
    r"^(?P<node>[a-z0-9_]+)(?::(?P<item>[A-Za-z0-9_.\-]+))?(?:@(?P<page>\d{1,3}))?"
    rf"(?:~(?P<back>{_ONE}))?$"
)


class FlowError(Exception):
    """A flow file is malformed; the message names the file and the node."""


@dataclass(frozen=True)
class Option:
    """One numbered choice of a node: where it leads, or a channel action."""

    key: str
    label: str
    goto: str | None = None
    action: str | None = None


@dataclass(frozen=True)
class Node:
    """One step of the flow."""

    id: str
    type: str
    message: str | None = None
    options: tuple[Option, ...] = ()
    service: str | None = None
    categories: tuple[str, ...] = ()
    detail: str | None = None
    fallback: tuple[str, ...] = ()
    page_size: int | None = None
    # A list of at most this many entries is shown whole, on one page: a screen with room for
    # them all once it needs no paging buttons (set by the kiosk for the screen showing it).
    whole_page: int | None = None

    def message_keys(self) -> Iterator[str]:
        """Yield every catalog key this node uses."""
        if self.message:
            yield self.message
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
    back_key: str
    zip_key: str
    call_key: str
    details_key: str
    rest_key: str
    page_size: int
    talk_node: str
    zip_node: str | None
    nodes: Mapping[str, Node]
    parents: Mapping[str, str] = field(default_factory=dict)

    def node(self, node_id: str) -> Node:
        """Return the node ``node_id``."""
        return self.nodes[node_id]

    def message_keys(self) -> set[str]:
        """Return every catalog key the flow uses."""
        return {key for node in self.nodes.values() for key in node.message_keys()}

    @cached_property
    def _zip_kinds(self) -> tuple[str, ...]:
        if self.zip_node is None:
            return ()
        return tuple(o.goto for o in self.nodes[self.zip_node].options if o.goto)

    def zip_kinds(self) -> tuple[str, ...]:
        """Return the list nodes the ZIP step can search, in its order."""
        return self._zip_kinds


@dataclass(frozen=True)
class Position:
    """Where a person is: a node, the service open on a detail step, the page of a list, and
    where Back leads when it is not the node's place in the flow (the list a detail was opened
    from)."""

    node: str
    item: str | None = None
    page: int = 0
    back: Position | None = None

    def encode(self) -> str:
        """Return the compact form carried in a cookie, a voice URL or a kiosk link."""
        text = self.node
        if self.item:
            text += f":{self.item}"
        if self.page:
            text += f"@{self.page}"
        if self.back is not None:
            text += f"~{self.back.encode()}"
        return text


def decode(flow: Flow, text: str | None) -> Position:
    """Parse an encoded position; anything unknown or malformed is the start of the flow."""
    match = _POSITION.match(text or "")
    if not match or match["node"] not in flow.nodes:
        return Position(flow.start)
    node = flow.nodes[match["node"]]
    item = match["item"] if node.type in {"detail", "zip"} else None
    page = int(match["page"] or 0) if node.type in {"list", "zip", "detail"} else 0
    back = decode(flow, match["back"]) if match["back"] else None
    if back is not None and back.node == flow.start and match["back"] != flow.start:
        back = None  # a malformed back is no back
    return Position(node.id, item, page, back)


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
            back_key=str(shortcuts.get("back", "9")),
            zip_key=str(shortcuts.get("zip", "5")),
            call_key=str(shortcuts.get("call", "1")),
            details_key=str(shortcuts.get("details", "2")),
            rest_key=str(shortcuts.get("rest", "7")),
            page_size=int(data.get("page_size", 4)),
            talk_node=str(shortcuts.get("talk_node", "talk")),
            zip_node=shortcuts.get("zip_node"),
            nodes=nodes,
            parents=_parents(nodes, str(data.get("start", "main"))),
        )
    except KeyError as exc:
        raise _fail(path, None, f"missing setting {exc}") from None
    except (TypeError, ValueError) as exc:
        raise _fail(path, None, str(exc)) from None


# What a node and an option may say; anything else is a mistake worth naming (such as a
# per-channel setting, which a flow no longer has).
_NODE_KEYS = frozenset(
    {"type", "message", "options", "service", "categories", "detail", "fallback", "page_size"}
)
_OPTION_KEYS = frozenset({"key", "label", "goto", "action"})


def _build_node(node_id: str, raw: Mapping[str, Any]) -> Node:
    if not isinstance(raw, dict):
        raise ValueError(f"node {node_id!r} is not a table")
    unknown = set(raw) - _NODE_KEYS
    unknown |= {k for opt in raw.get("options", ()) for k in opt} - _OPTION_KEYS
    if unknown:
        raise ValueError(f"node {node_id!r}: unknown settings {sorted(unknown)}")
    options = tuple(
        Option(
            key=str(opt["key"]),
            label=str(opt["label"]),
            goto=opt.get("goto"),
            action=opt.get("action"),
        )
        for opt in raw.get("options", ())
    )
    return Node(
        id=node_id,
        type=str(raw.get("type", "")),
        message=raw.get("message"),
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
    if node.type != "detail" and not node.message:
        raise _fail(path, node.id, "has no message")
    for option in node.options:
        if option.goto is None and option.action is None:
            raise _fail(path, node.id, f"option {option.key} has neither goto nor action")
        if option.goto is not None and option.goto not in flow.nodes:
            raise _fail(path, node.id, f"option {option.key} leads to unknown node {option.goto!r}")
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
    reserved = {flow.home_key, flow.talk_key, flow.back_key} - {""}
    for node in flow.nodes.values():
        keys = [option.key for option in node.options]
        clash = reserved.intersection(keys) | {k for k in keys if keys.count(k) > 1}
        if node.type == "list":
            clash |= {flow.more_key, flow.zip_key} & set(keys)
        if node.type == "detail":
            clash |= {flow.rest_key} & (set(keys) | {flow.call_key, flow.details_key} | reserved)
        if clash:
            raise _fail(flow.path, node.id, f"option keys {sorted(clash)} clash")


def _parents(nodes: Mapping[str, Node], start: str) -> dict[str, str]:
    """Return the node one level up from each node: the first, in a walk from the start, with an
    option that leads to it (or whose details it shows)."""
    parents: dict[str, str] = {}
    order, seen = [start], {start}
    while order:
        node = nodes.get(order.pop(0))
        if node is None:
            continue
        targets = [o.goto for o in node.options if o.goto]
        for target in targets:
            if target not in seen and target in nodes:
                seen.add(target)
                parents[target] = node.id
                order.append(target)
    for node in nodes.values():
        # The ZIP step is reached from the menu that offers the kinds of help it searches.
        if node.type == "zip" and node.id not in parents:
            kinds = {o.goto for o in node.options}
            menus = [
                n.id
                for n in nodes.values()
                if n.type == "menu" and kinds & {o.goto for o in n.options}
            ]
            if menus:
                parents[node.id] = menus[0]
    return parents


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
