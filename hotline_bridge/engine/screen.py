"""What a step of the flow shows, described for no channel in particular.

The engine returns a ``Screen``; each channel turns it into text, speech or HTML and does nothing
else. Wording is carried as catalog keys (with their parameters) so a channel can pick its own
variant of a key (see ``Words.pick``); directory data (services, distances) is carried as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline_bridge.engine.flow import Position

if TYPE_CHECKING:
    from hotline_bridge.directory.models import Service

# Every kind of screen the engine shows: the node types, with a ``zip`` node shown as one of
# three. Each channel renders each kind (tests/channels/test_kinds.py holds them to it), so a new
# node type is added here, in ``engine/flow.py``'s NODE_TYPES and in one renderer per channel.
ZIP_KINDS = ("zip_ask", "zip_kind", "nearby")
SCREEN_KINDS = frozenset({"menu", "list", "detail", "connect", "info", *ZIP_KINDS})

# What a choice does, so a channel can place it (numbered option, footer shortcut, button).
OPTION, ENTRY, MORE, PREVIOUS, BACK, HOME, TALK, ZIP = (
    "option",
    "entry",
    "more",
    "previous",
    "back",
    "home",
    "talk",
    "zip",
)
# The roles a channel shows among its shortcuts rather than its numbered choices.
SHORTCUTS = frozenset({BACK, HOME, TALK})


@dataclass(frozen=True)
class Notice:
    """One line shown above a screen: a catalog key and what fills it."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """A service shown on a list or among the nearest: everything a channel needs to show it."""

    key: str
    label: str
    service: Service
    target: Position
    miles: float | None = None
    open_now: bool | None = None


@dataclass(frozen=True)
class Choice:
    """Something a person can choose: its key (None where only a button can choose it), its
    wording (a catalog key), and where it leads or which channel action it asks for."""

    key: str | None
    label: str
    role: str = OPTION
    target: Position | None = None
    action: str | None = None


@dataclass(frozen=True)
class Screen:
    """What one position shows.

    ``kind`` is the node type, or for a ``zip`` node one of ``zip_ask`` (waiting for a ZIP code),
    ``zip_kind`` (which kind of help) and ``nearby`` (the nearest services). ``service`` is the
    service a ``detail`` or ``connect`` screen is about (None when it has gone). ``fallback`` says
    the entries are lines that help from anywhere, offered because nothing local was found.
    ``excerpt`` is the part of a ``detail`` screen's description it shows when the channel cannot
    show all of it at once (None: all of it); the rest is a ``MORE`` choice away, a page at a
    time (the position's page).
    """

    position: Position
    kind: str
    title: str | None = None
    entries: tuple[Entry, ...] = ()
    choices: tuple[Choice, ...] = ()
    notices: tuple[Notice, ...] = ()
    service: Service | None = None
    zip_code: str | None = None
    heading: str | None = None
    fallback: bool = False
    excerpt: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCREEN_KINDS:
            raise ValueError(f"unknown kind of screen {self.kind!r}")

    def choice(self, key: str) -> Choice | None:
        """Return the choice ``key`` chooses here, an entry's included."""
        for choice in self.all_choices():
            if choice.key == key:
                return choice
        return None

    def all_choices(self) -> tuple[Choice, ...]:
        """Return the entries as choices, then the other choices, in the order shown."""
        entries = tuple(Choice(e.key, e.label, ENTRY, e.target) for e in self.entries)
        return entries + self.choices

    def by_role(self, role: str) -> Choice | None:
        """Return the first choice of ``role`` (such as ``BACK``), or None."""
        return next((c for c in self.choices if c.role == role), None)
