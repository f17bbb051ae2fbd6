"""Where the words of a map go (Gradio-free): each label near its dot, over no other label and no
dot, inside the map; the temperature of each ring on its line, where no dot sits.

A greedy placer: the dots in priority order, each label tried at places around its dot, nearest
first, and the first free place kept. Further places (a line height and more away) get a leader
line to their dot, so that a crowded corner still names its words. A label's box is estimated
from the font size, on the wide side, so that boxes apart here are apart on screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The width of a lowercase glyph, in font sizes, on the wide side: DejaVu Sans (a Linux laptop's
# sans-serif, the widest common one) draws most letters 0.55-0.63 wide, « m » and « w » 0.82-0.97,
# « i », « l », « j », « t », « f », « r » 0.28-0.41; bold is ~10 % wider.
GLYPH_WIDTH = 0.62
WIDE_GLYPHS, WIDE_GLYPH_WIDTH = frozenset("mwMW"), 1.0
NARROW_GLYPHS, NARROW_GLYPH_WIDTH = frozenset("iljtfrI"), 0.42
BOLD_WIDTH = 1.12
# A line is 1.2 sizes high; the baseline sits 0.93 of a size under its top (DejaVu Sans's ascent
# is 0.93, its descent 0.24: the glyphs stay inside the box).
LINE_HEIGHT = 1.2
BASELINE = 0.93
# The places tried around a dot, nearest first: on each side, then a step further out, up to
# FURTHEST_STEP steps of STEP line heights (with a leader line beyond the first); then anywhere.
SIDES = ("right", "left", "above", "below", "above right", "below right", "above left", "below left")
STEP = 0.5
FURTHEST_STEP = 8
# A ring's temperature sits on its line: at its top if free, else the nearest free place around
# it (degrees clockwise from the right, every 10°).
RING_LABEL_ANGLES = sorted(range(-180, 180, 10), key=lambda angle: abs(angle + 90))
RING_LABEL_OFFSET = 0.6  # just inside or outside the line: the label's centre that many line heights away


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom
        )

    def inside(self, size: float) -> bool:
        return self.left >= 0 and self.top >= 0 and self.right <= size and self.bottom <= size


@dataclass(frozen=True)
class Dot:
    text: str
    x: float
    y: float
    radius: float
    bold: bool = False

    @property
    def box(self) -> Box:
        return Box(self.x - self.radius, self.y - self.radius, self.x + self.radius, self.y + self.radius)


@dataclass(frozen=True)
class Label:
    text: str
    x: float  # where the SVG text starts (anchor "start"), ends ("end") or is centred ("middle")
    y: float  # its baseline
    anchor: str
    box: Box
    leader: tuple[float, float, float, float] | None = None  # a line from the dot to a label placed further out


def glyph_width(character: str) -> float:
    if character in WIDE_GLYPHS:
        return WIDE_GLYPH_WIDTH
    return NARROW_GLYPH_WIDTH if character in NARROW_GLYPHS else GLYPH_WIDTH


def text_width(text: str, font: float, bold: bool = False) -> float:
    return sum(map(glyph_width, text)) * font * (BOLD_WIDTH if bold else 1.0)


def label_at(dot: Dot, font: float, side: str, step: int = 0) -> Label:
    """The label of `dot` on one of SIDES, `step` line heights further out than next to it."""
    width, height = text_width(dot.text, font, dot.bold), font * LINE_HEIGHT
    gap = dot.radius + 3 + step * STEP * height
    x, y = dot.x, dot.y
    vertical, _, horizontal = side.partition(" ")
    if side in ("right", "left"):
        top = y - height / 2
        left = x + gap if side == "right" else x - gap - width
    elif not horizontal:  # straight above or below, centred
        top = y - gap - height if vertical == "above" else y + gap
        left = x - width / 2
    else:  # a corner of the box next to the dot, the text starting (or ending) there
        diagonal = gap * math.sqrt(0.5)
        top = y - diagonal - height if vertical == "above" else y + diagonal
        left = x + diagonal if horizontal == "right" else x - diagonal - width
    anchor = {"right": "start", "left": "end"}.get(horizontal or side, "middle")
    return label_in(dot, font, Box(left, top, left + width, top + height), anchor, leader=step > 0)


def label_in(dot: Dot, font: float, box: Box, anchor: str = "middle", leader: bool = True) -> Label:
    """The label of `dot` in `box`, with a leader line from the dot to the box's nearest point."""
    text_x = {"start": box.left, "end": box.right}.get(anchor, (box.left + box.right) / 2)
    line = None
    if leader:
        end_x, end_y = min(max(dot.x, box.left), box.right), min(max(dot.y, box.top), box.bottom)
        length = math.hypot(end_x - dot.x, end_y - dot.y)
        start = (dot.radius + 1) / length if length else 0.0
        line = (dot.x + (end_x - dot.x) * start, dot.y + (end_y - dot.y) * start, end_x, end_y)
    return Label(dot.text, text_x, box.top + font * BASELINE, anchor, box, line)


def place_labels(
    dots: list[Dot], size: float, font: float, obstacles: list[Box], anywhere: bool = False
) -> dict[int, Label]:
    """Labels for `dots` (in priority order, by their number there), each at the nearest place
    where it overlaps no other label, no obstacle (the map's dots, its ring labels) and stays
    inside the map: around its dot, or (`anywhere`) in any free place of the map, with a leader
    line. A dot with no such place gets none (its word shows on tap)."""
    taken = list(obstacles)
    placed: dict[int, Label] = {}
    for number, dot in enumerate(dots):
        places = candidates(dot, size, font, anywhere)
        label = next((label for label in places if free(label.box, size, taken)), None)
        if label is not None:
            placed[number] = label
            taken.append(label.box)
    return placed


def candidates(dot: Dot, size: float, font: float, anywhere: bool):
    """The places of a dot's label, nearest first: around it, a step further out each time;
    then (`anywhere`) any place of the map, the nearest first."""
    for step in range(FURTHEST_STEP + 1):
        for side in SIDES:
            yield label_at(dot, font, side, step)
    if not anywhere:
        return
    width, height = text_width(dot.text, font, dot.bold), font * LINE_HEIGHT
    grid = STEP * height
    boxes = [
        Box(column * grid, row * grid, column * grid + width, row * grid + height)
        for row in range(int((size - height) / grid) + 1)
        for column in range(int((size - width) / grid) + 1)
    ]
    boxes.sort(key=lambda box: math.hypot((box.left + box.right) / 2 - dot.x, (box.top + box.bottom) / 2 - dot.y))
    for box in boxes:
        yield label_in(dot, font, box)


def free(box: Box, size: float, taken: list[Box]) -> bool:
    return box.inside(size) and not any(box.overlaps(other) for other in taken)


def place_ring_labels(
    rings: list[tuple[str, float]], centre: float, size: float, font: float, dots: list[Box]
) -> list[Label | None]:
    """The label of each ring (text, radius) on its line, or just inside or outside it where the
    line is crowded, over no dot nor another ring's label, inside the map; None for a ring with
    no such place."""
    taken = list(dots)
    placed: list[Label | None] = []
    height = font * LINE_HEIGHT
    for text, radius in rings:
        width = text_width(text, font)
        label = None
        for offset in (0.0, -RING_LABEL_OFFSET * height, RING_LABEL_OFFSET * height):
            for angle in RING_LABEL_ANGLES:
                x = centre + (radius + offset) * math.cos(math.radians(angle))
                y = centre + (radius + offset) * math.sin(math.radians(angle))
                box = Box(x - width / 2, y - height / 2, x + width / 2, y + height / 2)
                if free(box, size, taken):
                    label = Label(text, x, box.top + font * BASELINE, "middle", box)
                    break
            if label is not None:
                taken.append(label.box)
                break
        placed.append(label)
    return placed
