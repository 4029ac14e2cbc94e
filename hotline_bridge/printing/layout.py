"""Where things go on the sheet: the size of each kind, its grid, duplex order and cut marks.

Every measure is in inches, as print shops and label stock give them. A wallet sheet is the
usual business-card layout (ten 3.5 x 2 in cards, 0.75 in side and 0.5 in top margins); the
sticker sheet is the common six-up 4 x 3 1/3 in label layout, so both print on stock or on
plain paper cut along the marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hotline_bridge.printing.wording import Wording

LETTER = (8.5, 11.0)
TABLOID = (11.0, 17.0)

# How long a cut mark is, and how far it stays from the piece it marks (so a slightly
# misaligned cut never shows a mark on the card).
MARK_LENGTH = 0.25
MARK_GAP = 0.06

# The two ways to print both languages.
SIDE_BY_SIDE = "side-by-side"
PER_SIDE = "per-side"
ARRANGEMENTS = (SIDE_BY_SIDE, PER_SIDE)


@dataclass(frozen=True)
class Kind:
    """One kind of printed piece and how many fit a sheet."""

    name: str
    page: tuple[float, float]
    piece: tuple[float, float]
    columns: int = 1
    rows: int = 1
    origin: tuple[float, float] = (0.0, 0.0)
    gap: tuple[float, float] = (0.0, 0.0)
    two_sided: bool = False
    # How much larger than on US Letter the type is drawn (an 11 x 17 poster is read from
    # further away).
    scale: float = 1.0

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def cut_marks(self) -> bool:
        return self.per_sheet > 1


def poster(page: tuple[float, float]) -> Kind:
    """Return a poster of ``page`` size, drawn inside a half-inch margin."""
    scale = round(page[1] / LETTER[1], 3)
    return Kind("poster", page, (page[0] - 1, page[1] - 1), origin=(0.5, 0.5), scale=scale)


KINDS: dict[str, Kind] = {
    "wallet": Kind("wallet", LETTER, (3.5, 2.0), 2, 5, (0.75, 0.5), two_sided=True),
    "sticker": Kind("sticker", LETTER, (4.0, 10 / 3), 2, 3, (0.156, 0.5), (0.1875, 0.0)),
    "poster": poster(LETTER),
    "tabs": Kind("tabs", LETTER, (7.5, 10.0), origin=(0.5, 0.5)),
}

# Poster sizes by name: US Letter and 11 x 17 in.
POSTER_SIZES = {"letter": LETTER, "tabloid": TABLOID}

# How many tear-off tabs run along the bottom of a flyer.
TABS = 8


@dataclass(frozen=True)
class Mark:
    """One cut mark: a hairline from (x, y), ``length`` long, across or down."""

    x: float
    y: float
    length: float
    vertical: bool


@dataclass(frozen=True)
class Page:
    """One printed page: which face it shows, in which languages, and where the pieces go."""

    face: str
    wordings: Sequence[Wording]
    slots: Sequence[tuple[float, float]]
    marks: Sequence[Mark]


def slots(kind: Kind, *, back: bool = False) -> list[tuple[float, float]]:
    """Return the top-left corner of every piece; a back mirrors its front across the page, so
    a sheet printed two-sided (flipped on the long edge) puts each back behind its front."""
    (width, height), (left, top), (gap_x, gap_y) = kind.piece, kind.origin, kind.gap
    corners = []
    for row in range(kind.rows):
        for column in range(kind.columns):
            x = left + column * (width + gap_x)
            if back:
                x = kind.page[0] - x - width
            corners.append((round(x, 4), round(top + row * (height + gap_y), 4)))
    return corners


def marks(kind: Kind) -> list[Mark]:
    """Return the cut marks in the margins, in line with every edge of every piece."""
    if not kind.cut_marks:
        return []
    corners = slots(kind)
    xs = sorted({x for x, _ in corners} | {x + kind.piece[0] for x, _ in corners})
    ys = sorted({y for _, y in corners} | {y + kind.piece[1] for _, y in corners})
    top, bottom = ys[0], ys[-1]
    left, right = xs[0], xs[-1]
    across = min(MARK_LENGTH, left - 2 * MARK_GAP)
    down = min(MARK_LENGTH, top - 2 * MARK_GAP)
    found = []
    for x in xs:
        found.append(Mark(x, top - MARK_GAP - down, down, True))
        found.append(Mark(x, bottom + MARK_GAP, down, True))
    for y in ys:
        found.append(Mark(left - MARK_GAP - across, y, across, False))
        found.append(Mark(right + MARK_GAP, y, across, False))
    return found


def pages(kind: Kind, wordings: Sequence[Wording], arrangement: str) -> list[Page]:
    """Return the pages to print: a two-sided kind prints front then back (duplex order); both
    languages go side by side on every face, or one language per side or per page."""
    front, back = slots(kind), slots(kind, back=True)
    cuts = marks(kind)
    together = arrangement == SIDE_BY_SIDE or len(wordings) == 1
    if kind.two_sided and together:
        return [Page("front", wordings, front, cuts), Page("back", wordings, back, cuts)]
    if kind.two_sided:
        return [
            Page("whole", [wording], place, cuts)
            for wording, place in zip(wordings, (front, back), strict=False)
        ]
    if together:
        return [Page("front", wordings, front, cuts)]
    return [Page("front", [wording], front, cuts) for wording in wordings]
