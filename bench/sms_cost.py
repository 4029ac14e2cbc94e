"""The SMS cost budget: segments of every reply the flow can produce, in both languages."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from hotline_bridge.channels.sms import walk
from hotline_bridge.channels.sms.segments import cost

from .budgets import Budget, not_measured

# DESIGN.md: no reply above 3 segments; the median reply of each language at most 2.
MAX_SEGMENTS = 3
MEDIAN_SEGMENTS = 2
# The languages whose median is budgeted.
LANGUAGES = ("en", "es")
MAX_NAME = "sms_segments_max"
# Random conversations walked with the demo directory, and the seed that chooses them.
WALKED = 400
WALK_SEED = 24


@dataclass(frozen=True)
class Costed:
    """One reply with its size."""

    label: str
    lang: str
    encoding: str
    segments: int


def _fields(reply: Any) -> tuple[str, str, str]:
    """Return (label, lang, text) from a reply record or a plain tuple."""
    if hasattr(reply, "text"):
        return reply.label, reply.lang, reply.text
    label, lang, text = reply[:3]
    return label, lang, text


def costed(replies: Iterable[Any]) -> list[Costed]:
    """Return every reply with its encoding and segment count."""
    result = []
    for reply in replies:
        label, lang, text = _fields(reply)
        size = cost(text)
        result.append(Costed(label, lang, size.encoding, size.segments))
    return result


def inventory(app: Flask) -> list[Costed] | None:
    """Return every SMS reply the app can send, costed; None if the inventory is not available."""
    try:
        from hotline_bridge.checks import sms_inventory
    except ImportError:
        return None
    return costed(sms_inventory(app))


def summary(replies: list[Costed]) -> list[str]:
    """Return human lines: how many replies per language and encoding, and the longest."""
    lines = []
    for lang in sorted({r.lang for r in replies}):
        mine = [r for r in replies if r.lang == lang]
        ucs2 = sum(r.encoding == "UCS-2" for r in mine)
        lines.append(f"  {lang}: {len(mine)} replies, {ucs2} in UCS-2, {len(mine) - ucs2} in GSM-7")
    worst = max(replies, key=lambda r: r.segments)
    lines.append(f"  longest: {worst.label} ({worst.lang}), {worst.segments} segments")
    return lines


def budgets(replies: list[Costed] | None) -> list[str]:
    """Return the budget lines for the replies' segments."""
    names = [MAX_NAME, *(f"sms_segments_median_{lang}" for lang in LANGUAGES)]
    if not replies:
        return [not_measured(name) for name in names]
    worst = max(r.segments for r in replies)
    lines = [Budget(MAX_NAME, str(worst), f"<= {MAX_SEGMENTS}", worst <= MAX_SEGMENTS).line()]
    for lang, name in zip(LANGUAGES, names[1:], strict=True):
        counts = [r.segments for r in replies if r.lang == lang]
        if not counts:
            lines.append(not_measured(name))
            continue
        median = statistics.median(counts)
        lines.append(
            Budget(name, f"{median:g}", f"<= {MEDIAN_SEGMENTS}", median <= MEDIAN_SEGMENTS).line()
        )
    return lines


def walk_budgets(sent: list[walk.Sent] | None) -> list[str]:
    """Return the budget lines of the replies of random conversations: each language's median,
    the longest reply, and the longest first reply (the main menu)."""
    names = [
        *(f"sms_walk_median_{lang}" for lang in LANGUAGES),
        "sms_walk_max",
        "sms_walk_first_max",
    ]
    if not sent:
        return [not_measured(name) for name in names]
    tallies = {one.lang: one for one in walk.tally(sent)}
    lines = []
    for lang in LANGUAGES:
        one = tallies.get(lang)
        if one is None:
            lines.append(not_measured(f"sms_walk_median_{lang}"))
            continue
        ok = one.median <= MEDIAN_SEGMENTS
        lines.append(
            Budget(f"sms_walk_median_{lang}", f"{one.median:g}", f"<= {MEDIAN_SEGMENTS}", ok).line()
        )
    worst = max(one.worst for one in tallies.values())
    first = max(one.first_worst for one in tallies.values())
    lines.append(
        Budget("sms_walk_max", str(worst), f"<= {MAX_SEGMENTS}", worst <= MAX_SEGMENTS).line()
    )
    lines.append(
        Budget(
            "sms_walk_first_max",
            str(first),
            f"<= {walk.FIRST_SEGMENTS}",
            first <= walk.FIRST_SEGMENTS,
        ).line()
    )
    return lines
