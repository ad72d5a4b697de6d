"""Baked badges (Open Badges 3.0 §Baking): the signed credential carried inside the image.

PNG: an iTXt chunk with keyword "openbadgecredential" holding the credential's JSON.
SVG: an <openbadges:credential> element holding it in CDATA. Both pure: bytes in, bytes out.
"""

import json
import struct
import zlib
from typing import Any
from xml.etree import ElementTree

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"


class BakingError(ValueError):
    pass


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG file")
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(png):
        if offset + 8 > len(png):
            raise BakingError("truncated PNG chunk header")
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        data = png[offset + 8 : offset + 8 + length]
        if len(data) != length:
            raise BakingError("truncated PNG chunk")
        chunks.append((kind, data))
        offset += 12 + length
    return chunks


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _is_credential_chunk(kind: bytes, data: bytes) -> bool:
    return kind == b"iTXt" and data.split(b"\0", 1)[0] == PNG_KEYWORD


def _text_of(credential: dict[str, Any] | str) -> str:
    if isinstance(credential, str):
        return credential  # a VC-JWT is baked as its compact form
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def bake_png(png: bytes, credential: dict[str, Any] | str) -> bytes:
    """The image with the credential in it (replacing any credential baked in before)."""
    text = _text_of(credential).encode()
    itxt = PNG_KEYWORD + b"\0" + b"\0\0" + b"\0" + b"\0" + text  # uncompressed, no language
    out = [PNG_SIGNATURE]
    for kind, data in _chunks(png):
        if _is_credential_chunk(kind, data):
            continue
        if kind == b"IEND":
            out.append(png_chunk(b"iTXt", itxt))
        out.append(png_chunk(kind, data))
    return b"".join(out)


def unbake_png(png: bytes) -> dict[str, Any] | str:
    for kind, data in _chunks(png):
        if _is_credential_chunk(kind, data):
            _, rest = data.split(b"\0", 1)
            compressed, _method = rest[0], rest[1]
            _language, _translated, text = rest[2:].split(b"\0", 2)
            if compressed:
                text = zlib.decompress(text)
            return _credential_from(text.decode())
    raise BakingError("the PNG carries no openbadgecredential chunk")


def bake_svg(svg: str, credential: dict[str, Any] | str) -> str:
    text = _text_of(credential).replace("]]>", "]]]]><![CDATA[>")
    element = (
        f'<openbadges:credential xmlns:openbadges="{OB_NAMESPACE}"><![CDATA[{text}]]></openbadges:credential>'
    )
    open_end = svg.index(">", svg.index("<svg")) + 1
    return svg[:open_end] + element + svg[open_end:]


def unbake_svg(svg: str | bytes) -> dict[str, Any] | str:
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as e:
        raise BakingError(f"not an SVG document: {e}") from e
    element = root.find(f".//{{{OB_NAMESPACE}}}credential")
    if element is None or not (element.text or "").strip():
        raise BakingError("the SVG carries no openbadges:credential element")
    return _credential_from(element.text or "")


def _credential_from(text: str) -> dict[str, Any] | str:
    """A JSON credential, or a VC-JWT left as its compact string."""
    if text.strip().startswith("eyJ"):
        return text.strip()
    try:
        credential = json.loads(text)
    except json.JSONDecodeError as e:
        raise BakingError(f"the baked credential is not JSON: {e}") from e
    if not isinstance(credential, dict):
        raise BakingError("the baked credential is not a JSON object")
    return credential


def unbake(data: bytes) -> dict[str, Any] | str:
    """A credential from a PNG, an SVG, plain JSON or a VC-JWT, whichever `data` is."""
    if data.startswith(PNG_SIGNATURE):
        return unbake_png(data)
    stripped = data.lstrip()
    if stripped.startswith(b"<"):
        return unbake_svg(data)
    return _credential_from(data.decode("utf-8", errors="replace"))
