"""How many SMS segments a reply costs, and in which encoding it travels, as Twilio counts them.

A message that fits the GSM 03.38 alphabet travels as GSM-7 (160 septets in one segment, 153 per
segment when split, an escaped character taking two); anything else, including most accented
Spanish (á, í, ó, ú), travels as UCS-2 (70 UTF-16 units in one, 67 per segment, so an emoji
outside the Basic Multilingual Plane counts two).

The rules are those of Twilio's message segment calculator: a message is cut into grapheme
clusters (what a reader sees as one character: a flag, a skin-toned or ZWJ emoji, a keycap, a
letter with combining accents), none of which is ever split between two segments, nor is an
escaped GSM-7 character; so a segment may end a few units short. A CR LF pair counts as two
characters, as the calculator counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters reached through the escape code: each costs two septets.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
# Every character a GSM-7 message may hold.
GSM7 = GSM7_BASIC | GSM7_EXTENDED

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# The service's budget: no reply above this many segments.
MAX_SEGMENTS = 3
# ... and the median reply of each language at most this many.
MEDIAN_SEGMENTS = 2
# The first reply of a conversation (the main menu, which says who is writing) at most this.
FIRST_SEGMENTS = 2

# Below U+0300 (where the combining accents begin) no character joins its neighbour in a
# grapheme cluster but CR LF, which is counted as two anyway: such text is counted by length.
_FIRST_JOINING = "\u0300"
# A character that may join a grapheme cluster with its neighbour (an accent, a joiner, a
# variation selector, a skin tone, half a flag, a Hangul jamo...): text with none of them in
# the Basic Multilingual Plane (most replies: "…" and "¿" join nothing) is counted by length.
_JOINING = regex.compile(r"[^\p{GCB=Other}\p{GCB=Control}\p{GCB=CR}\p{GCB=LF}]")
# An extended grapheme cluster, by the Unicode rules in force (the `regex` module follows each
# new Unicode version: flags, emoji ZWJ sequences, skin tones, keycaps, combining marks).
_GRAPHEME = regex.compile(r"\X")


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
        if not doubled:
            return _plain("GSM-7", len(text), GSM7_SINGLE, GSM7_MULTI)
        sizes = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
        return SmsCost("GSM-7", len(text) + doubled, _segments(sizes, GSM7_SINGLE, GSM7_MULTI))
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if not text or max(text) < _FIRST_JOINING or (units == len(text) and not _JOINING.search(text)):
        return _plain("UCS-2", units, UCS2_SINGLE, UCS2_MULTI)
    sizes = [size for cluster in graphemes(text) for size in _utf16_sizes(cluster)]
    return SmsCost("UCS-2", units, _segments(sizes, UCS2_SINGLE, UCS2_MULTI))


def graphemes(text: str) -> list[str]:
    """Return ``text`` cut into the characters a reader sees (extended grapheme clusters)."""
    return list(_GRAPHEME.findall(text))


def _utf16_sizes(cluster: str) -> list[int]:
    """Return the UTF-16 size of what cannot be split of ``cluster``: the cluster whole, but
    CR LF as two characters (the calculator splits that pair)."""
    if cluster == "\r\n":
        return [1, 1]
    return [len(cluster.encode("utf-16-le", "surrogatepass")) // 2]


def _plain(encoding: str, units: int, single: int, multi: int) -> SmsCost:
    """Return the cost of text of ``units`` characters of one unit each."""
    return SmsCost(encoding, units, 1 if units <= single else -(-units // multi))


def _segments(sizes: list[int], single: int, multi: int) -> int:
    """Count segments as Twilio's calculator cuts a message of indivisible parts of ``sizes``
    units: the first segment holds up to ``single`` units while it is the only one; once a
    part overflows it, it keeps only what fits beside the concatenation header (``multi``) and
    the rest moves on; each later segment takes parts while they fit in ``multi``."""
    if sum(sizes) <= single:
        return 1
    segments, first, used = 1, True, 0
    held: list[int] = []  # the first segment's parts, some of which may move on
    for size in sizes:
        if used + size > (single if first else multi):
            segments += 1
            moved: list[int] = []
            while first and used > multi:  # the header takes room from the first segment
                moved.insert(0, held.pop())
                used -= moved[0]
            first, used = False, sum(moved)
        if first:
            held.append(size)
        used += size
    return segments
