"""Free text that may reach an email header, a page or a signed credential.

A CR or LF in a name becomes a forged header line (`Bcc:`); NUL and other controls corrupt
documents; bidirectional overrides make "evil" render as "live". So every free-text field of
every contract is one of these types, and each entry point (API, batch, CSV, dashboard, CLI,
YAML import) refuses such text the same way, with the character and its position.
"""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, HttpUrl

# Bidirectional embeddings, overrides and isolates: they reorder the text shown around them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _forbidden(char: str, allow_newline: bool) -> bool:
    if char == "\n":
        return not allow_newline
    if char in BIDI_CONTROLS:
        return True
    return unicodedata.category(char) == "Cc"  # C0, DEL and C1 controls (NUL, CR, TAB, NEL...)


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" + (f" ({unicodedata.name(char)})" if unicodedata.name(char, "") else "")


def refuse_controls(text: str, allow_newline: bool = False) -> str:
    for position, char in enumerate(text):
        if _forbidden(char, allow_newline):
            kinds = "line breaks, control characters or bidirectional overrides"
            if allow_newline:
                kinds = "carriage returns, control characters or bidirectional overrides"
            raise ValueError(f"must not contain {kinds}: {_describe(char)} at position {position}")
    return text


def _single_line(text: str) -> str:
    return refuse_controls(text)


def _paragraphs(text: str) -> str:
    return refuse_controls(text, allow_newline=True)


# The same rules as JSON Schema patterns, so the published schemas say what is refused.
_CONTROLS = "\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
PLAIN_PATTERN = f"^[^{_CONTROLS}\\u000a]*$"
PARAGRAPH_PATTERN = f"^[^{_CONTROLS}]*$"

PlainText = Annotated[str, AfterValidator(_single_line), Field(json_schema_extra={"pattern": PLAIN_PATTERN})]
"""One line of text: no control character (CR, LF, NUL, C0, C1) and no bidi override."""

ParagraphText = Annotated[
    str, AfterValidator(_paragraphs), Field(json_schema_extra={"pattern": PARAGRAPH_PATTERN})
]
"""Text of several lines (descriptions, narratives): LF allowed; CR, other controls and bidi
overrides refused."""


def _plain_url(value: object) -> object:
    """Checked before HttpUrl, which would percent-encode a quote or space into something valid."""
    if isinstance(value, str):
        for position, char in enumerate(value):
            if char in "\"'<>`\\ " or _forbidden(char, allow_newline=False) or char.isspace():
                raise ValueError(f"a URL must not contain {_describe(char)} (at position {position})")
    return value


WebUrl = Annotated[HttpUrl, BeforeValidator(_plain_url)]
"""An http(s) URL as written: no quotes, spaces, angle brackets or control characters
(`javascript:` and other schemes are refused by HttpUrl)."""


LANGUAGE_TAG_PATTERN = (
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?(-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$"
)


def _canonical_tag(tag: str) -> str:
    """BCP 47's conventional case: "es", "pt-BR", "zh-Hant-TW", "es-419"."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


LanguageTag = Annotated[
    str,
    Field(
        pattern=LANGUAGE_TAG_PATTERN,
        max_length=35,
        examples=["es", "pt-BR"],
        description="A BCP 47 language tag: the language this person reads",
    ),
    AfterValidator(_canonical_tag),
]
