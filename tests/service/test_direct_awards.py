"""Direct awards on fakes: a coordinator's award to named people travels as AwardGranted records
(narrative as evidence) through the signer and the notifier; a repeated key issues nothing new;
a manual-only badge class is never awarded by the criteria engine."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from cairn.usecases.direct_awards import KeyReused, NoSuchBadge, award_directly
from cairn.usecases.intake import accept_events
from cairn.usecases.issuing import issue_and_announce
from cairn.usecases.notifying import notify_earner
from schemas.awards import AwardGranted, CredentialIssued
from schemas.badge_class import BadgeClassIn
from schemas.direct_awards import DirectAwardIn
from tests.service.flow import PUBLIC_URL, awards_from, shift, verified

PEOPLE = [
    {"email": "sam@example.org", "name": "Sam"},
    {"email": "ana@example.org", "name": "Ana"},
    {"email": "ben@example.org", "name": "Ben"},
]
NARRATIVE = "Ran the Saturday pantry all winter."
MANUAL = BadgeClassIn(
    id="volunteer-of-the-year",
    name="Volunteer of the year",
    description="Chosen by the coordinators.",
    criteria_narrative="Awarded by the coordinators each December.",
    manual_only=True,
)


def body(key: str = "voty-2026", people: list[dict] = PEOPLE, narrative: str = NARRATIVE) -> DirectAwardIn:
    return DirectAwardIn.model_validate(
        {"recipients": people, "narrative": narrative, "idempotency_key": key}
    )


@pytest.fixture
async def manual_badge(store, riverside):
    return await store.save_badge_class(riverside.org.id, MANUAL)


async def sign_and_mail(store, publisher, settings, mailer, clock) -> list[CredentialIssued]:
    """What the signer and the notifier do with every award published so far."""
    issued = []
    for award in publisher.of(AwardGranted):
        credential = await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)
        await notify_earner(store, credential, settings, mailer)
        issued.append(credential)
    return issued


async def test_three_people_get_three_credentials_with_the_narrative_and_three_emails(
    store, publisher, settings, mailer, clock, riverside, manual_badge
):
    answer = await award_directly(store, publisher, riverside.org, manual_badge.id, body(), clock)
    assert not answer.replayed and [a.email for a in answer.awards] == [p["email"] for p in PEOPLE]
    awards = publisher.of(AwardGranted)
    assert [a.award_id for a in awards] == [a.award_id for a in answer.awards]
    assert all(a.narrative == NARRATIVE and a.evidence == [] for a in awards)
    assert "example.org" not in "".join(a.model_dump_json() for a in awards), "no email on Kafka"

    await sign_and_mail(store, publisher, settings, mailer, clock)
    credentials = await store.credentials(riverside.org.id, badge_class_id=manual_badge.id)
    assert sorted(c.id for c in credentials) == sorted(a.credential_id for a in answer.awards)
    assert sorted(m["To"] for m in mailer.sent) == [
        "Ana <ana@example.org>",
        "Ben <ben@example.org>",
        "Sam <sam@example.org>",
    ]
    [evidence] = credentials[0].document["evidence"]
    assert evidence["narrative"] == NARRATIVE
    report = await verified(store, credentials[0].document, clock)
    assert report.valid, report


async def test_a_recipients_language_is_remembered_and_their_email_is_in_it(
    store, publisher, settings, mailer, clock, riverside, manual_badge
):
    people = [{**PEOPLE[0], "language": "es"}, PEOPLE[1]]
    await award_directly(store, publisher, riverside.org, manual_badge.id, body(people=people), clock)
    assert "es" not in {a.model_dump_json() for a in publisher.of(AwardGranted)}
    await sign_and_mail(store, publisher, settings, mailer, clock)
    languages = {m["To"].addresses[0].addr_spec: m["Content-Language"] for m in mailer.sent}
    assert languages == {PEOPLE[0]["email"]: "es", PEOPLE[1]["email"]: "en"}


async def test_posting_the_same_key_again_issues_nothing_new(
    store, publisher, settings, mailer, clock, riverside, manual_badge
):
    first = await award_directly(store, publisher, riverside.org, manual_badge.id, body(), clock)
    await sign_and_mail(store, publisher, settings, mailer, clock)
    clock.advance(timedelta(minutes=5))
    again = await award_directly(store, publisher, riverside.org, manual_badge.id, body(), clock)
    assert again.replayed and again.awards == first.awards
    replayed = publisher.of(AwardGranted)[3:]
    assert replayed == publisher.of(AwardGranted)[:3], "the same awards, same time and version"
    await sign_and_mail(store, publisher, settings, mailer, clock)
    assert len(await store.credentials(riverside.org.id)) == 3
    assert len(mailer.sent) == 3


async def test_a_key_reused_for_other_people_or_another_reason_is_refused(
    store, publisher, clock, riverside, manual_badge
):
    await award_directly(store, publisher, riverside.org, manual_badge.id, body(), clock)
    with pytest.raises(KeyReused):
        await award_directly(store, publisher, riverside.org, manual_badge.id, body(people=PEOPLE[:2]), clock)
    with pytest.raises(KeyReused):
        await award_directly(
            store, publisher, riverside.org, manual_badge.id, body(narrative="Other."), clock
        )
    with pytest.raises(KeyReused):
        await award_directly(store, publisher, riverside.org, riverside.badge_id, body(), clock)
    assert len(publisher.of(AwardGranted)) == 3
    with pytest.raises(NoSuchBadge):
        await award_directly(store, publisher, riverside.org, "nope", body("k2"), clock)


async def test_a_badge_with_criteria_can_be_awarded_directly_too(store, publisher, clock, riverside):
    answer = await award_directly(
        store, publisher, riverside.org, riverside.badge_id, body(people=PEOPLE[:1]), clock
    )
    [award] = publisher.of(AwardGranted)
    assert (award.badge_class_id, award.badge_class_version, award.award_id) == (
        "ten-hours",
        1,
        answer.awards[0].award_id,
    )


async def test_the_criteria_engine_never_awards_a_manual_only_badge(
    store, publisher, riverside, manual_badge
):
    await accept_events(store, publisher, riverside.org, [shift("s1", "sam@example.org", 0, 12)])
    assert [a.badge_class_id for a in await awards_from(publisher, store, riverside.org.id)] == ["ten-hours"]


def test_the_contract_refuses_what_cannot_be_awarded():
    with pytest.raises(ValidationError, match="same email"):
        body(people=[{"email": "sam@example.org"}, {"email": "SAM@example.org"}])
    with pytest.raises(ValidationError):
        body(key="has space")
    with pytest.raises(ValidationError, match="criteria is required"):
        BadgeClassIn.model_validate({**MANUAL.model_dump(), "manual_only": False})
    with pytest.raises(ValidationError, match="no criteria"):
        BadgeClassIn.model_validate({**MANUAL.model_dump(), "criteria": {"kind": "count", "at_least": 1}})
    assert (
        "manual_only"
        not in BadgeClassIn.model_validate(
            {**MANUAL.model_dump(), "manual_only": False, "criteria": {"kind": "count", "at_least": 1}}
        ).model_dump()
    ), "a class with criteria serialises as before"
