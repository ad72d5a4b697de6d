"""Default badge artwork, drawn here so that no badge is ever shown as a blank: an SVG medal
with the badge's name, and the same medal as a PNG (for platforms that want raster images)."""

import struct
import zlib
from functools import cache
from html import escape

from cairn.credentials.baking import PNG_SIGNATURE, png_chunk

DEFAULT_COLOUR = "#2e6b4f"
_LIGHT = (244, 241, 232)


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def badge_svg(name: str, colour: str = DEFAULT_COLOUR) -> str:
    words = name.split()
    initials = "".join(w[0] for w in words[:3]).upper() or "?"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256" '
        f'role="img" aria-label="{escape(name)} badge">'
        f"<title>{escape(name)}</title>"
        f'<circle cx="128" cy="128" r="120" fill="{escape(colour)}"/>'
        f'<circle cx="128" cy="128" r="100" fill="none" stroke="rgb{_LIGHT}" stroke-width="6"/>'
        '<path d="M78 176h100l-20-40H98zm25-46h50l-12-30h-26zm15-36h20l-10-20z" fill="rgb(244,241,232)"/>'
        f'<text x="128" y="212" font-family="sans-serif" font-size="22" text-anchor="middle" '
        f'fill="rgb(244,241,232)">{escape(initials)}</text>'
        "</svg>"
    )


@cache
def badge_png(colour: str = DEFAULT_COLOUR, size: int = 256) -> bytes:
    """A medal: a filled disc with a light ring, antialiasing left out for simplicity."""
    fill, centre = _rgb(colour), (size - 1) / 2
    outer, ring_out, ring_in = size * 0.47, size * 0.41, size * 0.38
    rows = []
    for y in range(size):
        row = bytearray(b"\0")  # filter type: none
        for x in range(size):
            d = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            if d > outer:
                row += b"\0\0\0\0"
            elif ring_in <= d <= ring_out:
                row += bytes((*_LIGHT, 255))
            else:
                row += bytes((*fill, 255))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + png_chunk(b"IEND", b"")
    )
