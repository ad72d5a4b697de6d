"""JSON Canonicalization Scheme (RFC 8785), for eddsa-jcs-2022.

The rfc8785 package is the reference here, but it is pure Python and writes byte by byte;
this encoder lets the json module's C string escaper do the work (its escapes are the ones
RFC 8785 asks for) and hands only non-integer numbers to rfc8785, whose ECMAScript number
formatting is the tricky part. A property test checks the two agree.
"""

import json
from typing import Any

import rfc8785

_escape = json.encoder.encode_basestring  # type: ignore[attr-defined]
MAX_SAFE_INTEGER = 2**53 - 1


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _dump(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_escape(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int) and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        for n, key in enumerate(sorted(value, key=_utf16_order)):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if n:
                out.append(",")
            out.append(_escape(key))
            out.append(":")
            _dump(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _dump(item, out)
        out.append("]")
    else:  # floats, large integers, and whatever rfc8785 refuses with its own error
        out.append(rfc8785.dumps(value).decode())


def canonical_json(value: Any) -> str:
    out: list[str] = []
    _dump(value, out)
    text = "".join(out)
    text.encode("utf-8")  # a lone surrogate cannot be canonical JSON; fail as rfc8785 would
    return text
