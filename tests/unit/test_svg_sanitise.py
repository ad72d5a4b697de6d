import pytest

from cairn.domain.svg_sanitise import UnsafeSvg, sanitise_svg

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


@pytest.mark.parametrize(
    "attribute",
    [
        'fill="url(http://evil.example/p.svg#g)"',
        "stroke=\"url('https://evil.example/p.svg#g')\"",
        'mask="URL( //evil.example/m.svg#m )"',
        'filter="url(data:image/svg+xml;base64,PHN2Zy8+)"',
        'clip-path="url(evil.svg#c)"',
        'style="fill: url( https://evil.example/a )"',
        'style="fill: u\\72 l(https://evil.example/a)"',
        'style="fill: ur/**/l(https://evil.example/a)"',
        "style=\"background: image-set('https://evil.example/a.png' 1x)\"",
        'style="fill: url(#ok); stroke: url(https://evil.example/a)"',
    ],
)
def test_external_url_references_in_attributes_are_dropped(attribute):
    svg = GOOD.replace(b'fill="#2e6b4f"', attribute.encode())
    cleaned = sanitise_svg(svg)
    assert "evil" not in cleaned and "url(" not in cleaned.lower().replace("url(#", "")
    assert "base64" not in cleaned and "<circle" in cleaned and 'r="4"' in cleaned


def test_local_fragment_references_stay():
    svg = GOOD.replace(
        b"<circle ",
        b'<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>'
        b'<circle stroke="url(\'#g\')" style="opacity: 0.5; fill: url( #g )" ',
    ).replace(b'fill="#2e6b4f"', b'fill="url(#g)"')
    cleaned = sanitise_svg(svg)
    assert 'fill="url(#g)"' in cleaned and "stroke=\"url('#g')\"" in cleaned and "fill: url( #g )" in cleaned
