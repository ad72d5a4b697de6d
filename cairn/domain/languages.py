"""Which language a volunteer reads, and the words and formats of it.

A person's own language (given in an event, or chosen on a page) comes first, then their
organisation's; a page that knows no person follows the browser's Accept-Language. Only the
languages with a catalogue in cairn/locale/ are spoken; any other tag falls back along that
order, then to English. `make messages` extracts, updates and compiles the catalogues.
"""

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).parents[1] / "locale"
DOMAIN = "messages"
DEFAULT = "en"


@cache
def shipped() -> tuple[str, ...]:
    """English (the msgids themselves) and every language with a compiled catalogue."""
    found = sorted(p.parents[1].name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (DEFAULT, *(tag for tag in found if tag != DEFAULT))


def supported(tag: str | None) -> str | None:
    """The shipped language for a BCP 47 tag: itself, or its primary language ("es-MX" -> "es")."""
    if not tag:
        return None
    lowered = {t.lower(): t for t in shipped()}
    tag = tag.strip().replace("_", "-").lower()
    return lowered.get(tag) or lowered.get(tag.split("-")[0])


def choose(*candidates: str | None) -> str:
    """The first candidate that is shipped (a person's, then the organisation's...), else English."""
    for candidate in candidates:
        if found := supported(candidate):
            return found
    return DEFAULT


def accepted(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first ("*" and q=0 left out)."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def from_accept_language(header: str | None, *fallbacks: str | None) -> str:
    return choose(*accepted(header), *fallbacks)


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a shipped language (English: the msgids as they are)."""
    if language == DEFAULT or language not in shipped():
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


def translate(language: str, message: str) -> str:
    return translations(language).gettext(message)


def translate_plural(language: str, singular: str, plural: str, n: int) -> str:
    return translations(language).ngettext(singular, plural, n)


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


def long_date(value: date | datetime, language: str) -> str:
    """ "3 March 2026" / "3 de marzo de 2026": a date as the language writes it."""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, format="long", locale=_locale(language))


def date_time(value: datetime, language: str) -> str:
    return format_datetime(value, format="medium", locale=_locale(language))


def number(value: float, language: str) -> str:
    """ "1,234.5" / "1234,5": a figure as the language writes it."""
    return format_decimal(value, locale=_locale(language))


def names(languages: Iterable[str]) -> list[tuple[str, str]]:
    """Each language with its own name ("es" -> "español"), for a language switcher."""
    return [(tag, _locale(tag).get_display_name(_locale(tag)) or tag) for tag in languages]
