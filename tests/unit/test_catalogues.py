"""The gettext catalogues (issue 13): every volunteer-facing text extracted from the code and
templates is in each language's .po, translated (no empty, no fuzzy, the same placeholders), and
the committed .mo is the compiled .po, so a clean clone speaks every language."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pydantic import TypeAdapter, ValidationError

from cairn.domain import languages
from schemas.text import LanguageTag

ROOT = Path(__file__).parents[2]
LOCALES = ROOT / "cairn" / "locale"
TRANSLATED = sorted(p.parents[1].name for p in LOCALES.glob("*/LC_MESSAGES/messages.po"))


def catalogue(language: str):
    with open(LOCALES / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=language)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set:
    """What `make messages` would extract now."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    keywords = ["-k", "N_", "-k", "translate:2", "-k", "translate_plural:2,3", "-k", "NP_:1,2"]
    subprocess.run(
        [pybabel, "-q", "extract", "-F", "babel.cfg", *keywords, "-o", pot, "."], cwd=ROOT, check=True
    )
    with open(pot, "rb") as f:
        return {m.id for m in read_po(f) if m.id}


def test_english_and_spanish_are_shipped():
    assert languages.shipped() == ("en", "es")
    assert TRANSLATED == ["es"]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language, extracted):
    messages = [m for m in catalogue(language) if m.id]
    assert len(messages) >= 100
    assert {m.id for m in messages} == extracted, "run: make messages"
    untranslated = [
        m.id for m in messages if not m.string or not all(m.string if m.pluralizable else [m.string])
    ]
    assert untranslated == []
    assert [m.id for m in messages if m.fuzzy] == []
    assert [(m.id, errors) for m, errors in catalogue(language).check()] == [], "placeholders must match"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_is_the_compiled_po(language):
    compiled = languages.translations(language)
    for message in catalogue(language):
        if not message.id:
            continue
        if message.pluralizable:
            singular, plural = message.id
            assert compiled.ngettext(singular, plural, 1) == message.string[0], "run: make messages"
        else:
            assert compiled.gettext(message.id) == message.string, "run: make messages"


def test_the_language_follows_the_person_then_the_organisation_then_english():
    assert languages.choose("es-MX", "en") == "es"
    assert languages.choose(None, "tlh", "es") == "es", "no catalogue: the next candidate"
    assert languages.choose(None, None) == "en"
    assert languages.supported("ES_es") == "es"


def test_accept_language_is_read_by_quality():
    assert languages.accepted("fr-CA, es;q=0.8, en;q=0.9, *;q=0.5, de;q=0") == ["fr-CA", "en", "es"]
    assert languages.from_accept_language("fr-CA, es;q=0.8, en;q=0.7") == "es"
    assert languages.from_accept_language("q=;;,", "es") == "es"
    assert languages.from_accept_language(None) == "en"


def test_dates_and_numbers_are_written_as_the_language_writes_them():
    from datetime import date

    assert languages.long_date(date(2026, 3, 3), "es") == "3 de marzo de 2026"
    assert languages.long_date(date(2026, 3, 3), "en") == "March 3, 2026"
    assert (languages.number(1234.5, "es"), languages.number(1234.5, "en")) == ("1.234,5", "1,234.5")


def test_language_tags_are_bcp47_and_canonically_cased():
    tag = TypeAdapter(LanguageTag)
    assert [tag.validate_python(t) for t in ("ES", "pt-br", "zh-hant-tw", "es-419")] == [
        "es",
        "pt-BR",
        "zh-Hant-TW",
        "es-419",
    ]
    for bad in ("", "e", "español", "es_ES", "es-", "es\nBcc: x", "x" * 40):
        with pytest.raises(ValidationError):
            tag.validate_python(bad)
