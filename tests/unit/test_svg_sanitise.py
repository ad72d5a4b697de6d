import pytest

from cairn.svg_sanitise import UnsafeSvg, sanitise_svg

GOOD = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<circle cx="5" cy="5" r="4" fill="#2e6b4f"/></svg>'
)


def test_drawing_survives():
    cleaned = sanitise_svg(GOOD)
    assert "<circle" in cleaned and 'fill="#2e6b4f"' in cleaned


@pytest.mark.parametrize(
    ("attack", "gone"),
    [
        (b"<script>alert(1)</script>", "script"),
        (b'<circle r="1" onload="alert(1)"/>', "onload"),
        (b'<a href="javascript:alert(1)"><circle r="1"/></a>', "javascript"),
        (b'<image href="https://tracker.example/pixel.png"/>', "tracker"),
        (
            b'<use xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="https://evil.example/x.svg#a"/>',
            "evil",
        ),
        (
            b'<foreignObject><body xmlns="http://www.w3.org/1999/xhtml">hi</body></foreignObject>',
            "foreignObject",
        ),
        (b'<rect style="fill: url(https://evil.example/a)"/>', "evil"),
    ],
)
def test_active_and_external_content_is_removed(attack, gone):
    svg = GOOD.replace(b"</svg>", attack + b"</svg>")
    cleaned = sanitise_svg(svg)
    assert gone not in cleaned and "<circle" in cleaned


def test_entities_and_non_svg_are_refused():
    with pytest.raises(UnsafeSvg, match="DOCTYPE"):
        sanitise_svg(b'<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>')
    with pytest.raises(UnsafeSvg, match="root element"):
        sanitise_svg(b"<html><script/></html>")
