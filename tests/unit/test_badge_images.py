"""The drawn badge images: each class looks like itself (glyph, shape, colour, its name in legible
words), at 512x512 in PNG and SVG, the PNG and SVG agreeing, and both still bakeable."""

from io import BytesIO
from xml.etree import ElementTree

import pytest
from PIL import Image

from cairn.credentials.baking import bake_png, bake_svg, unbake
from cairn.domain.badge_glyphs import GLYPHS, SHAPES, default_glyph, default_shape
from cairn.domain.badge_images import BadgeArt, badge_png, badge_svg, draw_png, draw_svg, name_lines
from cairn.domain.colour import contrast_ratio, text_on
from schemas.badge_class import BadgeClassIn
from tests.conftest import ten_hours_badge

SVG = "{http://www.w3.org/2000/svg}"


def pixels(png: bytes) -> Image.Image:
    image = Image.open(BytesIO(png))
    assert image.size == (512, 512)
    return image.convert("RGBA")


def hex_of(pixel: tuple[int, ...]) -> str:
    return "#" + "".join(f"{channel:02x}" for channel in pixel[:3])


def test_png_and_svg_are_512_square_with_the_name_in_words_and_as_alt_text():
    art = BadgeArt("Pantry volunteer: 10 hours", "#2e6b4f", "apple", "shield")
    root = ElementTree.fromstring(draw_svg(art))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("512", "512", "0 0 512 512")
    assert root.get("role") == "img" and root.get("aria-label") == "Pantry volunteer: 10 hours badge"
    assert root.find(f"{SVG}title").text == "Pantry volunteer: 10 hours"
    lines = [t.text for t in root.iter(f"{SVG}text")]
    assert " ".join(lines) == "Pantry volunteer: 10 hours" and len(lines) > 1, "wrapped, every word kept"
    assert "10 hours" in lines, "a number stays with its unit"
    pixels(draw_png(art))


def test_the_fill_is_the_organisations_colour_and_the_ink_contrasts_with_it():
    for colour in ("#2e6b4f", "#f5c518", "#ffffff", "#1d4e89"):
        image = pixels(draw_png(BadgeArt("Reading buddy", colour, "book", "circle")))
        ink = text_on(colour)
        assert contrast_ratio(colour, ink) >= 4.5, "name and glyph legible (WCAG AA)"
        # a point on the shape away from glyph, ring and text is the organisation's colour
        assert hex_of(image.getpixel((60, 256))) == colour
        glyph_box = [image.getpixel((x, y)) for x in range(176, 336, 2) for y in range(64, 224, 2)]
        drawn = {hex_of(p) for p in glyph_box if p[3] == 255}
        assert ink in drawn, "the glyph is drawn in the ink colour"
        assert image.getpixel((2, 2))[3] == 0


def test_glyphs_and_shapes_make_different_images():
    images = {
        (g, s): draw_png(BadgeArt("Badge", "#2e6b4f", g, s)) for g in GLYPHS for s in ("circle", "hexagon")
    }
    assert len(set(images.values())) == len(images), "every glyph and shape pair looks different"
    outlines = {
        s: pixels(draw_png(BadgeArt("Badge", "#2e6b4f", "star", s))).getpixel((60, 60))[3] for s in SHAPES
    }
    assert outlines["square"] == 255 and outlines["circle"] == 0, (
        "the shape is the outline, not always a disc"
    )


def test_defaults_follow_the_badges_words_then_its_id_and_never_change():
    assert default_glyph("pantry-10-hours", "Pantry volunteer: 10 hours") == "apple"
    assert default_glyph("x", "Bike repair mentor") == "wrench"
    assert default_glyph("x", "Reading buddy") == "book"
    assert default_glyph("x", "200 hours") == "clock"
    unhinted = {default_glyph(f"class-{i}", "Gold") for i in range(40)}
    assert len(unhinted) >= 5 and unhinted <= set(GLYPHS), "ids spread over the glyphs"
    assert default_glyph("class-7", "Gold") == default_glyph("class-7", "Gold")
    assert len({default_shape(f"class-{i}") for i in range(40)}) == len(SHAPES)
    art = BadgeArt("Gold", key="class-7")
    assert draw_svg(art) == draw_svg(BadgeArt("Gold", key="class-7")), "deterministic"


def test_long_names_shrink_then_end_in_an_ellipsis_and_never_overflow():
    size, lines = name_lines("Welcome")
    assert size == 64 and lines == ["Welcome"]
    size, lines = name_lines("Community garden: spring season 2026 volunteer " + "and more words " * 10)
    assert size == 28 and len(lines) == 3 and lines[-1].endswith("…")
    size, lines = name_lines("Señora Núñez, año de ayuda")
    assert " ".join(lines) == "Señora Núñez, año de ayuda" and size >= 40, "accents kept, still large"


def test_accented_names_are_drawn_with_a_font_that_has_them():
    """The bundled font has Spanish letters: ñ and n draw differently (a font without ñ draws a box)."""
    from cairn.domain.badge_images import _font

    font = _font(40)
    assert font.getmask("ñ").getbbox() != font.getmask("n").getbbox()
    assert font.getmask("ñ").getbbox() != font.getmask("\uffff").getbbox()


def test_drawn_images_are_still_baked_and_unbaked():
    credential = {"id": "urn:uuid:1", "name": "Pantry volunteer: 10 hours"}
    assert unbake(bake_png(badge_png("Pantry volunteer: 10 hours", glyph="star"), credential)) == credential
    assert unbake(bake_svg(badge_svg("Pantry", shape="rosette"), credential).encode()) == credential


@pytest.mark.parametrize("field", ["glyph", "shape"])
def test_the_badge_class_contract_takes_a_known_glyph_and_shape_or_neither(field):
    assert field not in BadgeClassIn.model_validate(ten_hours_badge()).model_dump(mode="json"), (
        "unset stays out of the record, so records read as before"
    )
    value = {"glyph": "clock", "shape": "hexagon"}[field]
    assert (
        BadgeClassIn.model_validate(ten_hours_badge(**{field: value})).model_dump(mode="json")[field] == value
    )
    with pytest.raises(ValueError):
        BadgeClassIn.model_validate(ten_hours_badge(**{field: "dragon"}))
