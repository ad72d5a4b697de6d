"""Uploaded SVG badge images, reduced to drawing: no scripts, no event handlers, no external
references, no entities. An allow-list, so anything unknown is dropped (pure)."""

import re
from xml.etree import ElementTree

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line", "polyline",
    "polygon", "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "use",
    "symbol", "pattern", "filter", "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feMerge",
    "feMergeNode", "feFlood", "feComposite",
}  # fmt: skip
ATTRIBUTES = {
    "id", "class", "d", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height",
    "viewBox", "preserveAspectRatio", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width",
    "stroke-linecap", "stroke-linejoin", "stroke-opacity", "stroke-dasharray", "opacity", "transform",
    "points", "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "font-family",
    "font-size", "font-weight", "text-anchor", "dominant-baseline", "clip-path", "mask", "filter",
    "stdDeviation", "dx", "dy", "in", "in2", "result", "mode", "values", "type", "flood-color",
    "flood-opacity", "operator", "role", "aria-label", "version", "href", "patternUnits",
    "clipPathUnits", "maskUnits", "style",
}  # fmt: skip
_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)
_URL = re.compile(r"url\s*\(\s*['\"]?\s*(?P<target>[^)'\"\s]*)", re.IGNORECASE)
_ACTIVE = re.compile(r"expression|javascript:|@import|image-set|\b(?:src|image)\s*\(", re.IGNORECASE)


class UnsafeSvg(ValueError):
    pass


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def sanitise_svg(data: bytes) -> str:
    text = data.decode("utf-8", errors="strict")
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        raise UnsafeSvg("DOCTYPE and ENTITY declarations are not allowed")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as e:
        raise UnsafeSvg(f"not well-formed XML: {e}") from e
    if _local(root.tag) != (SVG_NS, "svg"):
        raise UnsafeSvg("the root element must be <svg> in the SVG namespace")
    _clean(root)
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", XLINK_NS)
    return ElementTree.tostring(root, encoding="unicode")


def _clean(element: ElementTree.Element) -> None:
    for child in list(element):
        namespace, local = _local(child.tag) if isinstance(child.tag, str) else ("", "")
        if namespace != SVG_NS or local not in ELEMENTS:
            element.remove(child)
        else:
            _clean(child)
    for name, value in list(element.attrib.items()):
        namespace, local = _local(name)
        allowed = local in ATTRIBUTES and namespace in ("", XLINK_NS if local == "href" else "")
        if local == "href" and not value.startswith("#"):
            allowed = False  # no external or javascript: references
        if _refers_outside(value):
            allowed = False
        if not allowed or local.lower().startswith("on"):
            del element.attrib[name]


def _refers_outside(value: str) -> bool:
    """Whether an attribute value (a presentation attribute like fill="url(...)" or a style)
    could load or run anything: only url(#fragment) references to the image itself may stay.
    CSS escapes are refused outright, since they can spell "url(" or a scheme in disguise."""
    value = _CSS_COMMENT.sub("", value)
    if "\\" in value or _ACTIVE.search(value):
        return True
    return any(not m["target"].startswith("#") for m in _URL.finditer(value))
