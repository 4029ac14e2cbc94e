"""How many SMS segments a reply costs, and in which encoding it travels.

A message that fits the GSM 03.38 alphabet travels as GSM-7 (160 characters in one segment, 153
per segment when split); anything else, including most accented Spanish (á, í, ó, ú), travels as
UCS-2 (70 in one, 67 per segment, counted in UTF-16 units, so an emoji counts twice).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters reached through the escape code: each costs two septets.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# The service's budget: no reply above this many segments.
MAX_SEGMENTS = 3
# ... and the median reply of each language at most this many.
MEDIAN_SEGMENTS = 2


@dataclass(frozen=True)
class SmsCost:
    """The encoding and size of one SMS body."""

    encoding: str
    units: int
    segments: int


def cost(text: str) -> SmsCost:
    """Return the encoding, length in encoding units and segment count of ``text``."""
    # Set and string methods run in C: this is counted for every reply a list page might send.
    if GSM7.issuperset(text):
        doubled = sum(text.count(ch) for ch in GSM7_EXTENDED if ch in text)
        return _cost("GSM-7", text, doubled, GSM7_EXTENDED, GSM7_SINGLE, GSM7_MULTI)
    doubled = len(text.encode("utf-16-le", "surrogatepass")) // 2 - len(text)
    return _cost("UCS-2", text, doubled, _ASTRAL, UCS2_SINGLE, UCS2_MULTI)


# Every character a GSM-7 message may hold.
GSM7 = GSM7_BASIC | GSM7_EXTENDED


class _Astral:
    """Characters outside the Basic Multilingual Plane: two UTF-16 units each."""

    def __contains__(self, ch: object) -> bool:
        return isinstance(ch, str) and ord(ch) > 0xFFFF


_ASTRAL = _Astral()


def _cost(
    encoding: str, text: str, doubled: int, wide: Container[str], single: int, multi: int
) -> SmsCost:
    """Return the cost of ``text``, whose ``doubled`` characters (those in ``wide``) take two
    units each."""
    units = len(text) + doubled
    if units <= single:
        return SmsCost(encoding, units, 1)
    if not doubled:
        return SmsCost(encoding, units, -(-units // multi))
    return SmsCost(encoding, units, _segments([2 if ch in wide else 1 for ch in text], multi))


def _segments(sizes: list[int], multi: int) -> int:
    """Count segments as the network splits a message: an escaped GSM-7 character or a UTF-16
    surrogate pair is never split between two segments, so a segment may end a unit short."""
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments
