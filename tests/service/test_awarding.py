"""Awarding on fakes: the criteria engine over each recipient's history, as published by intake,
gives the AwardGranted records the signer acts on."""

from cairn.domain.identity import recipient_key
from cairn.usecases.intake import accept_events
from schemas.awards import award_id_for
from tests.service.flow import T0, awards_from, shift, void


async def test_ten_hours_earn_one_award_for_the_right_person(store, publisher, riverside):
    org = riverside.org
    events = [
        shift("s1", "sam@example.org", 0, 4),
        shift("s2", "ana@example.org", 0, 9),
        shift("s3", "sam@example.org", 7, 4),
        shift("s4", "sam@example.org", 14, 2),
    ]
    await accept_events(store, publisher, org, events)

    [award] = await awards_from(publisher, store, org.id)
    sam = recipient_key(await store.org_secret(org.id), "sam@example.org")
    assert (award.org_id, award.badge_class_id, award.recipient_key, award.occurrence) == (
        org.id,
        "ten-hours",
        sam,
        1,
    )
    assert award.award_id == award_id_for(org.id, "ten-hours", sam, 1)
    assert award.earned_at == T0.replace(day=16, hour=11), "the end of the shift that met the criteria"
    [evidence] = award.evidence
    assert (evidence.measure, evidence.achieved, evidence.required) == ("hours", 10, 10), "s1 + s3 + s4"


async def test_a_voided_shift_takes_its_hours_back(store, publisher, riverside):
    org = riverside.org
    events = [shift("s1", "sam@example.org", 0, 6), shift("s2", "sam@example.org", 1, 6)]
    await accept_events(store, publisher, org, [*events, void("v1", "s2", "sam@example.org")])
    assert await awards_from(publisher, store, org.id) == []
