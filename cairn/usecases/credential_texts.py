"""Cairn's own sentences in a credential (the evidence, and the occurrence of a repeating
badge, which cairn.credentials.builder writes in English into the signed document) read in the
reader's language on pages and in emails. The signed document is never changed; a sentence that
is not one of the builder's shapes is shown as it is."""

import re
from datetime import datetime

from cairn.domain import languages


def NP_(singular: str, plural: str) -> tuple[str, str]:  # gettext's name: extract, translate later
    return singular, plural


# each measure the builder writes (its plural, as cairn.domain.criteria names it) with its forms
FORMS = {
    "hours": NP_("%(num)s hour", "%(num)s hours"),
    "minutes": NP_("%(num)s minute", "%(num)s minutes"),
    "activities": NP_("%(num)s activity", "%(num)s activities"),
    "consecutive weeks": NP_("%(num)s consecutive week", "%(num)s consecutive weeks"),
    "distinct sessions": NP_("%(num)s distinct session", "%(num)s distinct sessions"),
    "distinct days": NP_("%(num)s distinct day", "%(num)s distinct days"),
    "distinct sites": NP_("%(num)s distinct site", "%(num)s distinct sites"),
    "distinct programs": NP_("%(num)s distinct program", "%(num)s distinct programs"),
    "distinct series": NP_("%(num)s distinct series", "%(num)s distinct series"),
}
_SINGULAR = {"activity": "activities", "distinct series": "distinct series"}
_FIGURE = re.compile(r"^(\d+(?:\.\d+)?) ([a-z ]+?)(?: (\d+) minutes?)?$")
_EVIDENCE = re.compile(
    r"^(?:For (?P<year>\d{4}): |On reaching (?P<reached>.+?): )?"
    r"(?:Holds: (?P<held>.+)|(?P<figure>.+?) \((?P<required>\d+(?:\.\d+)?) needed\), "
    r"earned on (?P<date>\d{1,2} [A-Z][a-z]+ \d{4}))\.$"
)


def _amount(figure: str, measure: str, language: str) -> str | None:
    measure = _SINGULAR.get(measure, measure if measure in FORMS else measure + "s")
    if measure not in FORMS:
        return None
    value = float(figure)
    n = int(value) if value.is_integer() else 2  # a fraction takes the plural
    return languages.translate_plural(language, *FORMS[measure], n) % {
        "num": languages.number(value, language)
    }


def figure_text(text: str | None, language: str) -> str | None:
    """ "30 hours", "6 hours 40 minutes", "9 activities" in the language; a year or anything
    else as it is."""
    match = _FIGURE.match(text or "")
    if match is None or language == languages.DEFAULT:
        return text
    main = _amount(match[1], match[2], language)
    if main is None:
        return text
    return f"{main} {_amount(match[3], 'minutes', language)}" if match[3] else main


def evidence_text(text: str, language: str) -> str:
    """One evidence sentence ("For 2026: 12 hours (10 needed), earned on 3 March 2026.") in the
    language."""
    match = _EVIDENCE.match(text)
    if match is None or language == languages.DEFAULT:
        return text
    if match["held"]:
        sentence = languages.translate(language, "Holds: %(badges)s.") % {"badges": match["held"]}
    else:
        earned = datetime.strptime(match["date"], "%d %B %Y")
        sentence = languages.translate(language, "%(figure)s (%(required)s needed), earned on %(date)s.") % {
            "figure": figure_text(match["figure"], language),
            "required": languages.number(float(match["required"]), language),
            "date": languages.long_date(earned, language),
        }
    if match["year"]:
        return languages.translate(language, "For %(year)s: %(text)s") % {
            "year": match["year"],
            "text": sentence,
        }
    if match["reached"]:
        reached = figure_text(match["reached"], language)
        return languages.translate(language, "On reaching %(figure)s: %(text)s") % {
            "figure": reached,
            "text": sentence,
        }
    return sentence
