"""Languages on fakes (issue 13): the recipient's language (given in an event, kept in the store,
never on Kafka) or else the organisation's chooses the claim email's words, subject and
Content-Language; repeat badges say which occurrence; the credential's texts stay the
organisation's, tagged with its language, and still verify."""

import dataclasses
import json

from pydantic import TypeAdapter

from cairn.usecases.email_message import SignInEmail, render_sign_in_email
from cairn.usecases.intake import accept_events
from cairn.usecases.issuing import issue_and_announce
from cairn.usecases.notifying import notify_earner
from cairn.usecases.resends import request_resend
from schemas.activity import ActivityIn, OrgActivity
from schemas.awards import ClaimEmailResendRequested
from schemas.badge_class import BadgeClassIn
from tests.service.flow import PUBLIC_URL, T0, awards_from, verified

_event = TypeAdapter(ActivityIn)


def shift(event_id: str, day: int, hours: float, language: str | None = None, email: str = "ana@example.org"):
    volunteer = {"email": email, "name": "Ana"} | ({"language": language} if language else {})
    body = {"id": event_id, "type": "volunteer_shift", "volunteer": volunteer, "hours": hours}
    body["started_at"] = T0.replace(day=T0.day + day).isoformat()
    return _event.validate_python(body)


async def emails_for(store, publisher, settings, mailer, clock, org_id):
    for award in await awards_from(publisher, store, org_id):
        issued = await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)
        await notify_earner(store, issued, settings, mailer)
    return mailer.sent


async def test_a_volunteer_who_reads_spanish_gets_the_claim_email_in_spanish(
    store, publisher, settings, mailer, clock, riverside
):
    await accept_events(store, publisher, riverside.org, [shift("s1", 0, 10, language="es-MX")])
    [message] = await emails_for(store, publisher, settings, mailer, clock, riverside.org.id)

    assert message["Content-Language"] == "es"
    assert message["Subject"] == "Has conseguido una insignia: Pantry volunteer: 10 hours"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert '<html lang="es">' in html and "Recoge tu insignia" in html and "Hola, Ana:" in html
    assert "Recoge tu insignia aquí:" in text and "Claim your badge" not in text
    assert "Gave ten hours at the pantry." in html, "the badge's own words stay the organisation's"

    contact = await store.recipient(
        riverside.org.id, publisher.of(OrgActivity)[0].activity.root.recipient_key
    )
    assert contact.language == "es-MX", "remembered per recipient, as given"
    on_kafka = json.dumps([r.model_dump(mode="json") for r in publisher.of(OrgActivity)])
    assert "es-MX" not in on_kafka and "ana@example.org" not in on_kafka


async def test_the_language_is_remembered_when_later_events_leave_it_out(
    store, publisher, settings, mailer, clock, riverside
):
    await accept_events(store, publisher, riverside.org, [shift("s1", 0, 4, language="es")])
    await accept_events(store, publisher, riverside.org, [shift("s2", 1, 6)])
    [message] = await emails_for(store, publisher, settings, mailer, clock, riverside.org.id)
    assert message["Content-Language"] == "es"


async def test_without_a_language_of_their_own_the_organisations_is_used(
    store, publisher, settings, mailer, clock, riverside
):
    store.orgs[riverside.org.id] = dataclasses.replace(riverside.org, language="es")
    org = store.orgs[riverside.org.id]
    await accept_events(
        store, publisher, org, [shift("s1", 0, 10), shift("b1", 0, 10, "en", "bo@example.org")]
    )
    messages = await emails_for(store, publisher, settings, mailer, clock, org.id)
    by_person = {m["To"].addresses[0].username: m for m in messages}
    assert by_person["ana"]["Content-Language"] == "es"
    assert by_person["bo"]["Content-Language"] == "en", "a person's own language wins over the default"
    assert by_person["bo"]["Subject"] == "You earned a badge: Pantry volunteer: 10 hours"


async def test_a_language_without_a_catalogue_falls_back_to_the_organisations(
    store, publisher, settings, mailer, clock, riverside
):
    await accept_events(store, publisher, riverside.org, [shift("s1", 0, 10, language="tlh")])
    [message] = await emails_for(store, publisher, settings, mailer, clock, riverside.org.id)
    assert message["Content-Language"] == "en"
    assert '<html lang="en">' in message.get_body(("html",)).get_content()


async def test_the_renewal_email_is_in_the_recipients_language_too(
    store, publisher, settings, mailer, clock, riverside
):
    await accept_events(store, publisher, riverside.org, [shift("s1", 0, 10, language="es")])
    await emails_for(store, publisher, settings, mailer, clock, riverside.org.id)
    credential = (await store.credentials(riverside.org.id))[0]
    await request_resend(store, publisher, credential)
    await notify_earner(store, publisher.of(ClaimEmailResendRequested)[-1], settings, mailer)
    renewal = mailer.sent[-1]
    assert renewal["Subject"] == "Tu nuevo enlace: Pantry volunteer: 10 hours"
    assert "Los enlaces anteriores ya no funcionan." in renewal.get_body(("plain",)).get_content()


async def test_a_repeat_badges_subjects_say_which_occurrence(
    store, publisher, settings, mailer, clock, riverside
):
    await store.save_badge_class(
        riverside.org.id,
        BadgeClassIn(
            id="every-three",
            name="Every three shifts",
            description="Three more shifts.",
            criteria_narrative="Each three shifts.",
            criteria={"kind": "count", "at_least": 3},
            repeat="each_multiple",
        ),
    )
    await accept_events(store, publisher, riverside.org, [shift(f"s{i}", i, 1) for i in range(9)])
    await accept_events(
        store, publisher, riverside.org, [shift(f"e{i}", i, 1, "es", "eva@example.org") for i in range(3)]
    )
    subjects = sorted(
        m["Subject"] for m in await emails_for(store, publisher, settings, mailer, clock, riverside.org.id)
    )
    assert subjects == [
        "Has conseguido una insignia: Every three shifts — 3 actividades",
        "You earned a badge: Every three shifts — 3 activities",
        "You earned a badge: Every three shifts — 6 activities",
        "You earned a badge: Every three shifts — 9 activities",
    ]


async def test_the_achievement_is_tagged_with_the_organisations_language_and_verifies(
    store, publisher, clock, riverside, award
):
    store.orgs[riverside.org.id] = dataclasses.replace(riverside.org, language="es")
    await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)
    [credential] = await store.credentials(riverside.org.id)
    achievement = credential.document["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "es"
    assert achievement["name"] == "Pantry volunteer: 10 hours", "the organisation's own words"
    assert (await verified(store, credential.document, clock)).valid


def test_the_sign_in_email_says_its_language():
    message = render_sign_in_email(
        SignInEmail("ana@example.org", "https://x/" + "a" * 80, 30, "es"), "c@x.org"
    )
    assert message["Content-Language"] == "es"
    assert message["Subject"] == "Tu enlace para ver tus insignias"
    html = message.get_body(("html",)).get_content()
    assert '<html lang="es">' in html and "Funciona durante 30 minutos." in html
    assert "word-break: break-all" in html, "a long link wraps on a phone"
