"""How many SMS segments a reply costs, and in which encoding it travels.

A message that fits the GSM 03.38 alphabet travels as GSM-7 (160 characters in one segment, 153
per segment when split); anything else, including most accented Spanish (á, í, ó, ú), travels as
UCS-2 (70 in one, 67 per segment, counted in UTF-16 units, so an emoji counts twice).
"""

from __future__ import annotations

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
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        sizes = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
        return SmsCost("GSM-7", sum(sizes), _segments(sizes, GSM7_SINGLE, GSM7_MULTI))
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SmsCost("UCS-2", sum(sizes), _segments(sizes, UCS2_SINGLE, UCS2_MULTI))


def _segments(sizes: list[int], single: int, multi: int) -> int:
    """Count segments as the network splits a message: an escaped GSM-7 character or a UTF-16
    surrogate pair is never split between two segments, so a segment may end a unit short."""
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments
