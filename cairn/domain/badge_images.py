"""Default badge artwork, drawn here so that no badge is ever shown as a blank, and so that each
badge looks like itself: the badge's shape filled with the organisation's colour, its glyph, and
its name in words, in black or white (whichever contrasts more with the colour). 512x512, as an
SVG and as a PNG drawn from the same layout (Pillow, DejaVu Sans Condensed Bold, at twice the
size, then scaled down for smooth edges). The name is wrapped and sized to fit (at most three
lines), measured with the font the PNG uses, so the SVG wraps at the same words.
"""

from dataclasses import dataclass
from functools import lru_cache
from html import escape
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from cairn.domain.badge_glyphs import GLYPH_PARTS, Part, default_glyph, default_shape, scaled, shape_outline
from cairn.domain.colour import text_on

DEFAULT_COLOUR = "#2e6b4f"
SIZE = 512
_GLYPH_BOX = (176.0, 64.0, 160.0)  # left, top, side: the glyph's 100x100 box on the badge
_TEXT_WIDTH, _TEXT_HEIGHT, _TEXT_CENTRE = 330, 150, 326
_LARGEST, _SMALLEST, _MAX_LINES = 64, 28, 3
_LEADING = 1.15

_FONT_FILE = Path(__file__).parent / "fonts" / "DejaVuSansCondensed-Bold.ttf"  # licence beside it
_FONT_FAMILY = "'DejaVu Sans Condensed', 'DejaVu Sans', 'Arial Narrow', Arial, sans-serif"


@dataclass(frozen=True)
class BadgeArt:
    """What a drawn badge shows; glyph and shape None: chosen from the badge's words and key."""

    name: str
    colour: str = DEFAULT_COLOUR
    glyph: str | None = None
    shape: str | None = None
    key: str = ""  # the badge class id: picks the defaults, so one class always looks the same

    @property
    def chosen_glyph(self) -> str:
        return self.glyph if self.glyph in GLYPH_PARTS else default_glyph(self.key or self.name, self.name)

    @property
    def chosen_shape(self) -> str:
        return self.shape or default_shape(self.key or self.name)

    @property
    def ink(self) -> str:
        return text_on(self.colour)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_FONT_FILE), size)


def name_lines(name: str) -> tuple[int, list[str]]:
    """The font size and the lines of the name: the largest size at which it fits in three lines;
    a name too long even at the smallest size ends in an ellipsis."""
    words = _keep_numbers_with_units(name.split()) or ["Badge"]
    for size in range(_LARGEST, _SMALLEST - 1, -2):
        lines = _wrap(words, _font(size), _TEXT_WIDTH)
        fits_height = len(lines) * size * _LEADING <= _TEXT_HEIGHT
        if (
            len(lines) <= _MAX_LINES
            and fits_height
            and all(_font(size).getlength(line) <= _TEXT_WIDTH for line in lines)
        ):
            return size, lines
    font = _font(_SMALLEST)
    lines = _wrap(words, font, _TEXT_WIDTH)[:_MAX_LINES]
    last = lines[-1]
    while last and font.getlength(last + "…") > _TEXT_WIDTH:
        last = last[:-1]
    return _SMALLEST, [*lines[:-1], last.rstrip() + "…"]


def _keep_numbers_with_units(words: list[str]) -> list[str]:
    """ "10 hours" stays on one line: a number is wrapped together with the word after it."""
    out: list[str] = []
    for word in words:
        if out and out[-1].isdigit():
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    return out


def _wrap(words: list[str], font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _baselines(size: int, count: int) -> list[float]:
    """Where each line's middle sits: the block of lines centred on the text area."""
    step = size * _LEADING
    first = _TEXT_CENTRE - step * (count - 1) / 2
    return [first + i * step for i in range(count)]


def _glyph_point(x: float, y: float) -> tuple[float, float]:
    left, top, side = _GLYPH_BOX
    return left + x * side / 100, top + y * side / 100


def _svg_part(part: Part, fill: str, ink: str) -> str:
    colour = fill if part.cut else ink
    scale = _GLYPH_BOX[2] / 100
    points = [_glyph_point(x, y) for x, y in part.points]
    if part.kind == "poly":
        joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        return f'<polygon points="{joined}" fill="{colour}"/>'
    if part.kind == "disc":
        (x, y), r = points[0], part.radius * scale
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"/>'
    if part.kind == "ring":
        (x, y), r = points[0], part.radius * scale
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="none" stroke="{colour}" '
            f'stroke-width="{part.width * scale:.1f}"/>'
        )
    joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline points="{joined}" fill="none" stroke="{colour}" stroke-width="{part.width * scale:.1f}" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
    )


def _points(points: tuple[tuple[float, float], ...]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def draw_svg(art: BadgeArt) -> str:
    outline = shape_outline(art.chosen_shape)
    fill, ink = escape(art.colour), art.ink
    size, lines = name_lines(art.name)
    text = "".join(
        f'<text x="256" y="{y:.1f}" dominant-baseline="central" text-anchor="middle" '
        f'font-family="{_FONT_FAMILY}" font-size="{size}" font-weight="bold" '
        f'fill="{ink}">{escape(line)}</text>'
        for line, y in zip(lines, _baselines(size, len(lines)), strict=True)
    )
    parts = "".join(_svg_part(part, fill, ink) for part in GLYPH_PARTS[art.chosen_glyph])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        f'role="img" aria-label="{escape(art.name)} badge">'
        f"<title>{escape(art.name)}</title>"
        f'<polygon points="{_points(outline)}" fill="{fill}"/>'
        f'<polygon points="{_points(scaled(outline, 0.9))}" fill="none" stroke="{ink}" stroke-width="6"/>'
        f"{parts}{text}</svg>"
    )


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _draw_part(draw: ImageDraw.ImageDraw, part: Part, colour: tuple[int, int, int], k: float) -> None:
    scale = _GLYPH_BOX[2] / 100 * k
    points = [(x * k, y * k) for x, y in (_glyph_point(px, py) for px, py in part.points)]
    if part.kind == "poly":
        draw.polygon(points, fill=colour)
    elif part.kind in ("disc", "ring"):
        (x, y), r = points[0], part.radius * scale
        box = (x - r, y - r, x + r, y + r)
        if part.kind == "disc":
            draw.ellipse(box, fill=colour)
        else:
            half = part.width * scale / 2
            draw.ellipse((box[0] - half, box[1] - half, box[2] + half, box[3] + half), fill=colour)
            draw.ellipse((box[0] + half, box[1] + half, box[2] - half, box[3] - half), fill=None)
    else:
        width = part.width * scale
        draw.line(points, fill=colour, width=round(width), joint="curve")
        for x, y in (points[0], points[-1]):  # round caps
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=colour)


def draw_png(art: BadgeArt) -> bytes:
    """The same badge as a 512x512 RGBA PNG (drawn at 1024 and scaled down: antialiased)."""
    k = 2
    fill, ink = _rgb(art.colour), _rgb(art.ink)
    image = Image.new("RGBA", (SIZE * k, SIZE * k), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    outline = shape_outline(art.chosen_shape)
    draw.polygon([(x * k, y * k) for x, y in outline], fill=fill)
    draw.polygon([(x * k, y * k) for x, y in scaled(outline, 0.9)], outline=ink, width=6 * k)
    for part in GLYPH_PARTS[art.chosen_glyph]:
        if part.kind == "ring":  # a ring is a disc with its middle cut out again
            _draw_part(draw, part, ink, k)
            (cx, cy), r = _glyph_point(*part.points[0]), part.radius * _GLYPH_BOX[2] / 100
            inner = r - part.width * _GLYPH_BOX[2] / 200
            draw.ellipse(((cx - inner) * k, (cy - inner) * k, (cx + inner) * k, (cy + inner) * k), fill=fill)
        else:
            _draw_part(draw, part, fill if part.cut else ink, k)
    size, lines = name_lines(art.name)
    font = _font(size * k)
    for line, y in zip(lines, _baselines(size, len(lines)), strict=True):
        draw.text((256 * k, y * k), line, font=font, fill=ink, anchor="mm")
    out = BytesIO()
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def badge_svg(
    name: str,
    colour: str = DEFAULT_COLOUR,
    *,
    glyph: str | None = None,
    shape: str | None = None,
    key: str = "",
) -> str:
    return draw_svg(BadgeArt(name, colour, glyph, shape, key))


@lru_cache(maxsize=256)
def badge_png(
    name: str = "Badge",
    colour: str = DEFAULT_COLOUR,
    *,
    glyph: str | None = None,
    shape: str | None = None,
    key: str = "",
) -> bytes:
    """Cached: a credential's image is asked for each time its page or file is fetched."""
    return draw_png(BadgeArt(name, colour, glyph, shape, key))
