"""Cairn's English sentences in a signed credential, read in the reader's language on pages and
in emails (cairn.usecases.credential_texts): every shape the builder writes is recognised, and
anything else is left as it is."""

from datetime import UTC, datetime

import pytest

from cairn.credentials.builder import evidence_entries, occurrence_label
from cairn.usecases.credential_texts import evidence_text, figure_text
from schemas.awards import AwardGranted, Evidence
from schemas.badge_class import BadgeClass


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        (
            "10 hours (10 needed), earned on 2 November 2026.",
            "10 horas (se necesitaban 10), conseguido el 2 de noviembre de 2026.",
        ),
        (
            "For 2026: 12.5 hours (10 needed), earned on 3 March 2026.",
            "Por 2026: 12,5 horas (se necesitaban 10), conseguido el 3 de marzo de 2026.",
        ),
        (
            "On reaching 6 activities: 6 activities (3 needed), earned on 1 May 2026.",
            "Al llegar a 6 actividades: 6 actividades (se necesitaban 3), conseguido el 1 de mayo de 2026.",
        ),
        (
            "6 hours 40 minutes (6.5 needed), earned on 1 May 2026.",
            "6 horas 40 minutos (se necesitaban 6,5), conseguido el 1 de mayo de 2026.",
        ),
        (
            "1 distinct series (1 needed), earned on 1 May 2026.",
            "1 serie distinta (se necesitaban 1), conseguido el 1 de mayo de 2026.",
        ),
        ("Holds: Pantry, Food safety.", "Tiene: Pantry, Food safety."),
        ("Something an organisation wrote.", "Something an organisation wrote."),
    ],
)
def test_evidence_sentences_read_in_spanish(english, spanish):
    assert evidence_text(english, "es") == spanish
    assert evidence_text(english, "en") == english


def test_every_sentence_the_builder_writes_is_recognised():
    badge = BadgeClass(
        org_id="o",
        version=1,
        id="b",
        name="Every three",
        description="d",
        criteria_narrative="n",
        criteria={"kind": "count", "at_least": 3},
        repeat="each_multiple",
    )
    award = AwardGranted(
        award_id="a",
        org_id="o",
        recipient_key="a" * 64,
        badge_class_id="b",
        badge_class_version=1,
        occurrence=3,
        earned_at=datetime(2026, 5, 1, tzinfo=UTC),
        evidence=[Evidence(measure="activities", achieved=9, required=3)],
    )
    [entry] = evidence_entries(award, badge)
    assert evidence_text(entry["description"], "es") != entry["description"]
    assert figure_text(occurrence_label(award, badge), "es") == "9 actividades"
    assert figure_text("2026", "es") == "2026"
