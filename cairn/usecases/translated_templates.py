"""Jinja environments that speak the reader's language: `_()` and `{% trans %}` look the text up
in the catalogue of the template's `lang` variable (one environment serves every language at
once), and `long_date` / `number` format for it, and `evidence` reads Cairn's evidence sentences in it."""

from datetime import date, datetime
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from cairn.domain import languages
from cairn.usecases.credential_texts import evidence_text


def language_of(context: Context) -> str:
    return str(context.get("lang") or languages.DEFAULT)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return languages.translate(language_of(context), message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return languages.translate_plural(language_of(context), singular, plural, n)


def N_(message: str) -> str:
    """Marks text for `make messages` that templates translate later with `_(value)`."""
    return message


# what progress figures measure (cairn.domain.criteria), shown as `_(figure.measure)`
MEASURES = (
    N_("hours"),
    N_("activities"),
    N_("consecutive weeks"),
    N_("badges held"),
    N_("distinct sessions"),
    N_("distinct days"),
    N_("distinct sites"),
    N_("distinct programs"),
    N_("distinct series"),
)


@pass_context
def _long_date(context: Context, value: str | date | datetime | None) -> str:
    """A date (or an ISO 8601 text, as credentials hold them) as the reader's language writes it."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return languages.long_date(value, language_of(context))


@pass_context
def _number(context: Context, value: Any) -> str:
    return "" if value is None else languages.number(value, language_of(context))


@pass_context
def _evidence(context: Context, text: str) -> str:
    return evidence_text(text, language_of(context))


def install_translations(env: Environment) -> Environment:
    """Adds jinja2's i18n extension with the catalogues of cairn/locale/ (new-style gettext:
    `{{ _("Hello %(name)s", name=n) }}`, autoescaped) and the `long_date` and `number` filters."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["long_date"] = _long_date
    env.filters["number"] = _number
    env.filters["evidence"] = _evidence
    return env
