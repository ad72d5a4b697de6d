"""The glyphs and shapes a drawn badge is made of, drawn for Cairn (no third-party artwork, so no
licence to ship): each glyph is a few primitives in a 100x100 box, each shape an outline in the
512x512 badge. Both the SVG and the PNG are drawn from these, so they always agree.

A badge class may name its glyph and shape; otherwise `default_glyph` and `default_shape` pick
them from the badge's words and id, the same every time.
"""

import hashlib
import math
from dataclasses import dataclass
from typing import get_args

from schemas.badge_class import Glyph, Shape

Point = tuple[float, float]
GLYPHS: tuple[str, ...] = get_args(Glyph)
SHAPES: tuple[str, ...] = get_args(Shape)


@dataclass(frozen=True)
class Part:
    """One primitive: a filled polygon, a filled disc, a ring or a thick line; `cut` parts are
    painted in the badge's fill colour, cutting into what was drawn before."""

    kind: str  # poly | disc | ring | line
    points: tuple[Point, ...] = ()
    radius: float = 0
    width: float = 0
    cut: bool = False


def _poly(*points: Point, cut: bool = False) -> Part:
    return Part("poly", points, cut=cut)


def _disc(x: float, y: float, r: float, cut: bool = False) -> Part:
    return Part("disc", ((x, y),), radius=r, cut=cut)


def _ring(x: float, y: float, r: float, width: float) -> Part:
    return Part("ring", ((x, y),), radius=r, width=width)


def _line(*points: Point, width: float, cut: bool = False) -> Part:
    return Part("line", points, width=width, cut=cut)


def _star(cx: float, cy: float, outer: float, inner: float, points: int = 5) -> tuple[Point, ...]:
    return tuple(
        (
            cx + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / points),
            cy - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / points),
        )
        for i in range(points * 2)
    )


def _heart(cx: float, cy: float, scale: float) -> tuple[Point, ...]:
    """The classic parametric heart, 48 points."""
    out = []
    for i in range(48):
        t = 2 * math.pi * i / 48
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        out.append((round(cx + x * scale, 2), round(cy - y * scale, 2)))
    return tuple(out)


GLYPH_PARTS: dict[str, tuple[Part, ...]] = {
    "star": (_poly(*_star(50, 53, 46, 19)),),
    "heart": (_poly(*_heart(50, 50, 2.7)),),
    "hands": (  # a heart held in an open hand
        _poly(*_heart(52, 30, 1.5)),
        _poly((6, 62), (26, 58), (46, 64), (60, 64), (64, 70), (50, 72), (66, 74), (86, 58), (96, 62)),
        _poly((96, 62), (72, 86), (44, 92), (6, 90)),
        _poly((6, 62), (96, 62), (6, 90)),
    ),
    "clock": (
        _ring(50, 50, 40, 9),
        _line((50, 50), (50, 24), width=8),
        _line((50, 50), (68, 62), width=8),
        _disc(50, 50, 6),
    ),
    "apple": (
        _disc(36, 58, 26),
        _disc(64, 58, 26),
        _disc(50, 70, 24),
        _poly((36, 80), (64, 80), (58, 94), (42, 94)),
        _line((50, 36), (54, 14), width=6),
        _poly((56, 26), (70, 12), (86, 12), (72, 26)),
    ),
    "wrench": (
        _line((20, 82), (60, 42), width=16),
        _disc(20, 82, 8),
        _disc(66, 34, 26),
        _poly((62, 8), (80, 8), (92, 20), (92, 38), (72, 40), (60, 28), cut=True),
    ),
    "book": (
        _poly((8, 24), (46, 30), (46, 86), (8, 80)),
        _poly((54, 30), (92, 24), (92, 80), (54, 86)),
        _line((14, 40), (40, 44), width=4, cut=True),
        _line((14, 52), (40, 56), width=4, cut=True),
        _line((60, 44), (86, 40), width=4, cut=True),
        _line((60, 56), (86, 52), width=4, cut=True),
    ),
    "leaf": (
        _poly(
            *[(50 + 34 * math.sin(t / 10 * math.pi), 8 + 84 * t / 10) for t in range(11)],
            *[(50 - 34 * math.sin(t / 10 * math.pi), 8 + 84 * t / 10) for t in range(10, -1, -1)],
        ),
        _line((50, 16), (50, 96), width=5, cut=True),
        _line((50, 44), (70, 32), width=4, cut=True),
        _line((50, 64), (30, 52), width=4, cut=True),
    ),
    "people": (
        _disc(32, 30, 14),
        _disc(68, 30, 14),
        _poly(
            *[(32 + 24 * math.cos(a / 12 * math.pi), 82 - 30 * math.sin(a / 12 * math.pi)) for a in range(13)]
        ),
        _poly(
            *[(68 + 24 * math.cos(a / 12 * math.pi), 82 - 30 * math.sin(a / 12 * math.pi)) for a in range(13)]
        ),
    ),
    "house": (
        _poly((50, 8), (94, 48), (82, 48), (82, 92), (18, 92), (18, 48), (6, 48)),
        _poly((42, 62), (58, 62), (58, 92), (42, 92), cut=True),
    ),
}

# words in a badge's name, description or tags that suggest a glyph, checked in this order
_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("apple", ("food", "pantry", "kitchen", "meal", "garden", "harvest", "apple", "cook")),
    ("clock", ("hour", "time", "shift", "year", "week", "streak", "long")),
    ("wrench", ("repair", "fix", "maker", "tool", "bike", "build", "workshop", "wrench")),
    ("book", ("read", "book", "tutor", "teach", "learn", "library", "school", "homework", "course")),
    ("leaf", ("green", "park", "tree", "clean", "litter", "nature", "environment", "leaf")),
    ("house", ("home", "house", "shelter", "housing", "build")),
    ("people", ("team", "mentor", "lead", "welcome", "host", "people", "community", "buddy")),
    ("heart", ("care", "health", "kind", "heart", "support", "friend")),
    ("hands", ("help", "hand", "volunteer", "serve", "give")),
)


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")


def default_glyph(key: str, words: str = "") -> str:
    """The glyph a badge's words suggest (hours → clock, pantry → apple …), else one picked by
    its id, so two badges without hints still tend to look different."""
    lowered = words.lower()
    for glyph, hints in _HINTS:
        if any(hint in lowered for hint in hints):
            return glyph
    return GLYPHS[_digest("glyph:" + key) % len(GLYPHS)]


def default_shape(key: str) -> str:
    return SHAPES[_digest("shape:" + key) % len(SHAPES)]


def _bezier(a: Point, control: Point, b: Point, t: float) -> Point:
    """A point on a quadratic Bézier curve."""
    return (
        (1 - t) ** 2 * a[0] + 2 * (1 - t) * t * control[0] + t**2 * b[0],
        (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * control[1] + t**2 * b[1],
    )


def shape_outline(shape: str, centre: float = 256, radius: float = 244) -> tuple[Point, ...]:
    """The shape as a polygon around `centre` (a circle is a 96-gon: smooth at any badge size)."""
    c, r = centre, radius
    if shape == "shield":
        left, right, shoulder = c - r * 0.86, c + r * 0.86, c + r * 0.05
        side = [
            _bezier((right, shoulder), (right - r * 0.06, c + r * 0.62), (c, c + r), t / 16)
            for t in range(17)
        ]
        return (
            (left, c - r * 0.84),
            (c, c - r),
            (right, c - r * 0.84),
            *side,
            *[(2 * c - x, y) for x, y in reversed(side[:-1])],
        )
    if shape == "hexagon":
        return tuple(
            (c + r * math.cos(math.pi / 6 + i * math.pi / 3), c + r * math.sin(math.pi / 6 + i * math.pi / 3))
            for i in range(6)
        )
    if shape == "rosette":
        return tuple(
            (
                c + (r - 12 * (1 - math.cos(i / 96 * 2 * math.pi * 16)) / 2) * math.sin(i / 96 * 2 * math.pi),
                c - (r - 12 * (1 - math.cos(i / 96 * 2 * math.pi * 16)) / 2) * math.cos(i / 96 * 2 * math.pi),
            )
            for i in range(96)
        )
    if shape == "square":
        corner, half, out = r * 0.22, r * 0.9, []
        for cx, cy, start in ((1, 1, 0), (-1, 1, 90), (-1, -1, 180), (1, -1, 270)):
            for step in range(9):
                a = math.radians(start + step * 90 / 8)
                out.append(
                    (
                        c + cx * (half - corner) + corner * math.cos(a),
                        c + cy * (half - corner) + corner * math.sin(a),
                    )
                )
        return tuple(out)
    return tuple(
        (c + r * math.cos(i / 96 * 2 * math.pi), c + r * math.sin(i / 96 * 2 * math.pi)) for i in range(96)
    )


def scaled(points: tuple[Point, ...], factor: float, centre: float = 256) -> tuple[Point, ...]:
    return tuple((centre + (x - centre) * factor, centre + (y - centre) * factor) for x, y in points)
