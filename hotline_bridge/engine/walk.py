"""Every screen a person can reach, for checks that must hold on all of them.

The walk follows every choice of every screen from the start, and the ZIP codes it is given at
the ZIP step, so ``check`` and the tests see what the running line can really show with a site's
directory, pages and fallbacks included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from hotline_bridge.engine.flow import Flow, Position
from hotline_bridge.engine.screen import Notice, Screen
from hotline_bridge.engine.step import Capabilities, Directory, show

# A bound on the walk, far above any real flow and directory, so a broken one cannot run away.
MAX_SCREENS = 5000


def _place(position: Position) -> tuple[str, str | None, int]:
    # Where Back leads does not change what a screen shows, only one shortcut's target.
    return position.node, position.item, position.page


def reachable(
    flow: Flow,
    lang: str,
    directory: Directory,
    caps: Capabilities,
    zip_codes: Sequence[str] = (),
) -> Iterator[Screen]:
    """Yield each screen reachable from the start once, with ``zip_codes`` tried at the ZIP
    step for every kind of help it offers."""
    todo = [Position(flow.start), Position(flow.talk_node)]
    if flow.zip_node:
        todo.append(Position(flow.zip_node))
        for code in zip_codes:
            todo.append(Position(flow.zip_node, item=code))
            todo.extend(Position(flow.zip_node, item=f"{code}.{k}") for k in flow.zip_kinds())
    seen: set[tuple[str, str | None, int]] = set()
    while todo and len(seen) < MAX_SCREENS:
        position = todo.pop(0)
        if _place(position) in seen:
            continue
        seen.add(_place(position))
        screen = show(flow, position, lang, directory, caps)
        yield screen
        todo.extend(c.target for c in screen.all_choices() if c.target and not c.action)


def with_notice(screen: Screen, key: str) -> Screen:
    """Return ``screen`` as shown after a choice that was not understood there."""
    return replace(screen, notices=(Notice(key), *screen.notices))
