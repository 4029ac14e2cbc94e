"""Segment counting agrees with Twilio's message segment calculator at every boundary.

The table's cases come from the calculator's rules (``SegmentedMessage`` and ``Segment`` in
twilio/message-segment-calculator): a message is cut into grapheme clusters, none of which is
split between segments, nor is an escaped GSM-7 character; a segment holds 1,120 bits, less a
6-octet header once the message is split; GSM-7 takes 7 bits a septet (an escaped character two
septets), UCS-2 16 bits a UTF-16 unit; CR LF counts as two characters. Each count was also
checked against the calculator itself.
"""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline_bridge.channels.sms.segments import GSM7, GSM7_EXTENDED, cost, graphemes

ACC, A, E = "í", "a", "€"  # UCS-2, GSM-7, GSM-7 escaped
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # ZWJ: 11 units
FLAG = "\U0001f1fa\U0001f1f8"  # two regional indicators: 4 units
THUMB = "\U0001f44d\U0001f3fd"  # a skin tone: 4 units
KEYCAP = "1\ufe0f\u20e3"  # 3 units, all in the Basic Multilingual Plane
HEART = "\u2764\ufe0f"  # a variation selector: 2 units
RAINBOW = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 6 units
SMILE = "\U0001f600"  # 2 units
ACUTE = "e\u0301"  # a combining accent: 2 units

CASES = [
    ("", "GSM-7", 1),
    ("Hello", "GSM-7", 1),
    (A * 160, "GSM-7", 1),
    (A * 161, "GSM-7", 2),
    (A * 306, "GSM-7", 2),
    (A * 307, "GSM-7", 3),
    (A * 459, "GSM-7", 3),
    (A * 460, "GSM-7", 4),
    ("ñé Ñ ü¿¡", "GSM-7", 1),  # in the GSM alphabet
    # An escaped character counts two septets and is never split.
    (E * 80, "GSM-7", 1),
    (A * 159 + E, "GSM-7", 2),
    (A * 152 + E + A * 151, "GSM-7", 2),
    (A * 152 + E + A * 152, "GSM-7", 3),
    (A * 153 + E + A * 151, "GSM-7", 2),
    (E * 152, "GSM-7", 2),
    (E * 153, "GSM-7", 3),
    (A * 158 + "\r\n", "GSM-7", 1),
    (A * 159 + "\r\n", "GSM-7", 2),
    ("Línea", "UCS-2", 1),  # í is not in the GSM alphabet
    ("ç", "UCS-2", 1),  # nor ç (only Ç)
    (A * 159 + "ç", "UCS-2", 3),
    (ACC * 70, "UCS-2", 1),
    (ACC * 71, "UCS-2", 2),
    (ACC * 134, "UCS-2", 2),
    (ACC * 135, "UCS-2", 3),
    (ACC * 201, "UCS-2", 3),
    (ACC * 202, "UCS-2", 4),
    (SMILE * 35, "UCS-2", 1),
    (SMILE * 36, "UCS-2", 2),
    (SMILE * 66, "UCS-2", 2),
    (SMILE * 67, "UCS-2", 3),
    # The first segment holds 70 units while it is the only one, 67 once there are two.
    (ACC * 68 + SMILE, "UCS-2", 1),
    (ACC * 69 + SMILE, "UCS-2", 2),
    (ACC * 66 + SMILE + ACC * 65, "UCS-2", 2),
    (ACC * 66 + SMILE + ACC * 66, "UCS-2", 3),
    # A multi-part emoji is never split: the segment before it ends short.
    (ACC * 59 + FAMILY, "UCS-2", 1),
    (ACC * 60 + FAMILY, "UCS-2", 2),
    (ACC * 56 + FAMILY + ACC * 67, "UCS-2", 2),
    (ACC * 60 + FAMILY + ACC * 56, "UCS-2", 2),
    (ACC * 60 + FAMILY + ACC * 57, "UCS-2", 3),
    (ACC * 65 + FLAG + ACC * 63, "UCS-2", 2),
    (ACC * 65 + FLAG + ACC * 64, "UCS-2", 3),
    (ACC * 66 + FLAG + FLAG, "UCS-2", 2),
    (ACC * 65 + THUMB + ACC * 64, "UCS-2", 3),
    (ACC * 63 + THUMB + ACC * 67, "UCS-2", 2),
    (ACC * 66 + KEYCAP + ACC * 64, "UCS-2", 2),
    (ACC * 66 + KEYCAP + ACC * 65, "UCS-2", 3),
    (ACC * 67 + KEYCAP, "UCS-2", 1),
    (ACC * 66 + HEART + ACC * 66, "UCS-2", 3),
    (ACC * 62 + RAINBOW + ACC * 61, "UCS-2", 2),
    (ACC * 62 + RAINBOW + ACC * 62, "UCS-2", 3),
    (ACC * 66 + ACUTE + ACC * 66, "UCS-2", 3),
    # CR LF is one grapheme cluster, but the calculator counts (and splits) it as two.
    (ACC * 66 + "\r\n" + ACC * 66, "UCS-2", 2),
    (ACC * 67 + "\r\n" + ACC * 66, "UCS-2", 3),
]


@pytest.mark.parametrize(("text", "encoding", "segments"), CASES)
def test_segments_agree_with_the_calculator(text: str, encoding: str, segments: int) -> None:
    size = cost(text)
    assert (size.encoding, size.segments) == (encoding, segments)


@pytest.mark.parametrize("emoji", [FAMILY, FLAG, THUMB, KEYCAP, HEART, RAINBOW, ACUTE])
def test_a_multi_part_character_is_one_grapheme(emoji: str) -> None:
    assert graphemes(f"a{emoji}b") == ["a", emoji, "b"]


def _calculator(text: str) -> tuple[str, int, int]:
    """Count ``text`` in bits, one grapheme cluster at a time, as the calculator does: the
    plain rule ``cost`` must agree with."""
    clusters = [c for g in regex.findall(r"\X", text) for c in ([*g] if g == "\r\n" else [g])]
    gsm = all(len(c) == 1 and c in GSM7 for c in clusters)
    bits = [
        (14 if c in GSM7_EXTENDED else 7)
        if gsm
        else 16 * (len(c.encode("utf-16-le", "surrogatepass")) // 2)
        for c in clusters
    ]
    segments: list[list[int]] = [[]]
    header = False
    for size in bits:
        if 1120 - (48 if header else 0) - sum(segments[-1]) < size:
            moved: list[int] = []
            while not header and 1120 - 48 - sum(segments[-1]) < 0:
                moved.insert(0, segments[-1].pop())
            header = True
            segments.append(moved)
        segments[-1].append(size)
    units = sum(bits) // (7 if gsm else 16)
    return ("GSM-7" if gsm else "UCS-2"), units, len(segments)


_PARTS = st.sampled_from(
    [
        A,
        " ",
        "\n",
        "\r\n",
        E,
        "[",
        "ñ",
        ACC,
        "\ud800",
        SMILE,
        FAMILY,
        FLAG,
        THUMB,
        KEYCAP,
        HEART,
        ACUTE,
    ]
)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(
    st.lists(st.tuples(_PARTS, st.integers(1, 160)), max_size=5).map(
        lambda runs: "".join(part * n for part, n in runs)
    )
    | st.text(max_size=300)
)
def test_segment_counting_agrees_with_the_calculators_rule(text: str) -> None:
    size = cost(text)
    assert (size.encoding, size.units, size.segments) == _calculator(text)
