"""Volunteer pages in the reader's language (issue 13), on the real gateway app with fakes behind
it: a page that knows the person speaks theirs (else their organisation's), a language picked on
the page is remembered for them, a page that knows nobody follows Accept-Language (and an earlier
pick), and every page says its language. The dashboard stays English."""

import pytest
from fastapi.testclient import TestClient

from cairn.settings import Settings
from cairn.usecases.intake import accept_events
from cairn.usecases.issuing import issue_and_announce
from cairn.usecases.notifying import notify_earner
from services.gateway.app import create_app
from services.gateway.dependencies import Limits, get_limits, get_publisher, get_settings, get_store
from services.gateway.rate_limits import RateLimiter
from tests.service.flow import PUBLIC_URL, awards_from
from tests.service.test_languages import shift


@pytest.fixture
def client(store, publisher, settings) -> TestClient:
    app = create_app(Settings(public_url=PUBLIC_URL))
    limits = Limits(*(RateLimiter(per_minute=600, burst=100) for _ in range(3)))
    app.dependency_overrides.update(
        {
            get_store: lambda: store,
            get_publisher: lambda: publisher,
            get_settings: lambda: settings,
            get_limits: lambda: limits,
        }
    )
    return TestClient(app)  # not entered: no lifespan, only the fakes


async def claim_link(store, publisher, settings, mailer, clock, org, language):
    await accept_events(store, publisher, org, [shift("s1", 0, 10, language=language)])
    [award] = await awards_from(publisher, store, org.id)
    issued = await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)
    await notify_earner(store, issued, settings, mailer)
    return f"/claim/{store.claim_token_for(issued.credential_id)}", issued.recipient_key


async def test_the_claim_page_speaks_the_recipients_language_and_remembers_a_switch(
    client, store, publisher, settings, mailer, clock, riverside
):
    path, key = await claim_link(store, publisher, settings, mailer, clock, riverside.org, "es")
    page = client.get(path, headers={"Accept-Language": "en"})
    assert page.headers["Content-Language"] == "es"
    assert '<html lang="es">' in page.text and "Has conseguido una insignia" in page.text
    assert "de noviembre de 2026" in page.text, "the date as Spanish writes it"
    assert "Descargar la insignia (.json)" in page.text and "Pantry volunteer: 10 hours" in page.text

    switched = client.get(path + "?lang=en")
    assert switched.headers["Content-Language"] == "en" and "You earned a badge" in switched.text
    assert (await store.recipient(riverside.org.id, key)).language == "en", "remembered for their emails"
    client.cookies.clear()
    assert client.get(path).headers["Content-Language"] == "en"


async def test_a_page_that_knows_nobody_follows_accept_language_then_a_pick(client):
    assert client.get("/my-badges").headers["Content-Language"] == "en"
    spanish = client.get("/my-badges", headers={"Accept-Language": "fr;q=0.9, es-ES;q=0.8, en;q=0.1"})
    assert spanish.headers["Content-Language"] == "es" and "Ver todas tus insignias" in spanish.text
    assert 'lang="es"' in spanish.text and 'hreflang="en"' in spanish.text, "a switch to each language"

    picked = client.get("/?lang=es")
    assert picked.headers["Content-Language"] == "es" and picked.cookies.get("cairn_lang") == "es"
    assert client.get("/my-badges").headers["Content-Language"] == "es", "the pick outlasts the page"


def test_error_pages_speak_the_browsers_language(client):
    missing = client.get("/nowhere", headers={"Accept": "text/html", "Accept-Language": "es"})
    assert missing.status_code == 404 and missing.headers["Content-Language"] == "es"
    assert "No se ha encontrado" in missing.text and "Mis insignias" in missing.text
    expired = client.get("/claim/unknown-token", headers={"Accept-Language": "es"})
    assert "Este enlace para recoger la insignia no es válido" in expired.text


async def test_the_unsubscribe_page_speaks_the_organisations_language(client, store, riverside):
    import dataclasses

    store.orgs[riverside.org.id] = dataclasses.replace(riverside.org, language="es")
    page = client.get("/unsubscribe/riverside/k/c")
    assert page.headers["Content-Language"] == "es"
    assert "¿Dejar de recibir correos de insignias de Riverside Food Bank?" in page.text


def test_the_dashboard_stays_english(client):
    page = client.get("/dashboard/sign-in", headers={"Accept-Language": "es"})
    assert page.headers["Content-Language"] == "en" and "cairn_lang" not in page.cookies


async def test_the_sign_in_email_follows_the_persons_language_then_the_page(
    client, store, publisher, settings, mailer, clock, riverside
):
    """The fake store keeps no sign-in links: the two lookups the sending needs are given here."""
    from services.gateway.dependencies import get_mailer

    await claim_link(store, publisher, settings, mailer, clock, riverside.org, None)
    credentials = await store.credentials(riverside.org.id)

    async def earner_records(email):
        return [(store.orgs[riverside.org.id], credentials, [])]

    async def create_sign_in_token(email, ttl):
        return "a-sign-in-token"

    store.earner_records, store.create_sign_in_token = earner_records, create_sign_in_token
    client.app.dependency_overrides[get_mailer] = lambda: mailer
    sent = len(mailer.sent)
    answer = client.post("/my-badges", data={"email": "ana@example.org"}, headers={"Accept-Language": "es"})
    assert answer.headers["Content-Language"] == "es" and "Mira tu correo" in answer.text
    sign_in = mailer.sent[sent]
    assert (sign_in["Content-Language"], sign_in["Subject"]) == ("es", "Tu enlace para ver tus insignias")

    await store.set_recipient_languages(riverside.org.id, {credentials[0].recipient_key: "en"})
    client.post("/my-badges", data={"email": "ana@example.org"}, headers={"Accept-Language": "es"})
    assert mailer.sent[-1]["Content-Language"] == "en", "their remembered language before the browser's"
    client.post("/my-badges?lang=es", data={"email": "ana@example.org"})
    assert mailer.sent[-1]["Content-Language"] == "es", "a language picked on the page comes first"
