"""The volunteer's pages: claiming a badge, a fresh link when one expired, "my badges" by a
link sent to their email, and unsubscribing. Secrets in URLs are rate-limited per address."""

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import EmailStr

from cairn.adapters.smtp import Mailer
from cairn.adapters.store import Store
from cairn.domain import languages
from cairn.domain.records import CredentialRecord, Org
from cairn.settings import Settings
from cairn.usecases.email_message import SignInEmail, render_sign_in_email
from cairn.usecases.status_changes import announce_claimed
from services.gateway.claim_resends import request_resend
from services.gateway.dependencies import (
    ClientAddress,
    LimitsDep,
    MailerDep,
    MissCounter,
    PublisherDep,
    SettingsDep,
    StoreDep,
    rate_limit,
    templates,
)
from services.gateway.page_language import LANG_COOKIE, chosen_language, know_person, page_language
from services.gateway.routers.public import brand_of, credential_links, linkedin_url

router = APIRouter()
log = logging.getLogger(__name__)
SIGN_IN_MINUTES = 30


async def speak_to(request: Request, store: Store, org: Org | None, recipient_key: str) -> None:
    """The page speaks the person's language, else their organisation's; a language picked on
    the page (`?lang=`) is remembered as theirs, for their next emails and pages."""
    contact = await store.recipient(org.id, recipient_key) if org else None
    picked = chosen_language(request)
    if org and contact and picked and picked != contact.language:
        await store.set_recipient_languages(org.id, {recipient_key: picked})
    know_person(request, contact.language if contact else None, org.language if org else None)


async def withdrawn_page(request: Request, store: Store, credential: CredentialRecord) -> HTMLResponse:
    """A revoked or suspended badge, as its holder sees it from any claim link: the status and
    the organisation's reason, and nothing to download, share or renew."""
    org = await store.org(credential.org_id)
    await speak_to(request, store, org, credential.recipient_key)
    return templates.TemplateResponse(
        request,
        "claim.html",
        {
            "credential": credential.document,
            "links": credential_links(credential.id.removeprefix("urn:uuid:")),
            "status": credential.status,
            "status_reason": credential.status_reason,
            "org_name": org.name if org else "The organisation",
            "brand": brand_of(org),
        },
    )


@router.get("/claim/{token}", response_class=HTMLResponse)
async def claim_page(
    token: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    publisher: PublisherDep,
    count_miss: MissCounter,
) -> HTMLResponse:
    claim = await store.claim(token)
    if claim.credential is None:
        count_miss()
        return templates.TemplateResponse(request, "claim_missing.html", status_code=404)
    if claim.credential.status != "active":
        return await withdrawn_page(request, store, claim.credential)
    credential = claim.credential
    if claim.first:
        try:
            await announce_claimed(publisher, credential)
        except Exception as error:  # Kafka away: the volunteer's page still opens; webhooks miss it
            log.warning("claim of %s not announced to webhooks: %s", credential.id, error)
    org = await store.org(credential.org_id)
    await speak_to(request, store, org, credential.recipient_key)
    if claim.expired:
        return templates.TemplateResponse(request, "claim_expired.html", {"token": token}, status_code=410)
    uuid = credential.id.removeprefix("urn:uuid:")
    page_url = f"{settings.public_url}/credentials/{uuid}"
    return templates.TemplateResponse(
        request,
        "claim.html",
        {
            "credential": credential.document,
            "status": credential.status,
            "links": credential_links(uuid),
            "page_url": page_url,
            "linkedin_url": linkedin_url(credential.document, org.name if org else "", page_url),
            "wallet_url": f"/claim/{token}/wallet",
            "brand": brand_of(org),
        },
    )


@router.post("/claim/{token}/renew", response_class=HTMLResponse)
async def renew_claim(
    token: str,
    request: Request,
    store: StoreDep,
    publisher: PublisherDep,
    limits: LimitsDep,
    count_miss: MissCounter,
) -> HTMLResponse:
    """An expired link asks for a fresh one, sent to the address the badge was sent to (never
    to one typed here). A revoked or suspended badge gets no new link, only its status."""
    rate_limit(limits.earner_emails, f"renew:{token}")
    claim = await store.claim(token)
    if claim.credential is None:
        count_miss()
        return templates.TemplateResponse(request, "claim_missing.html", status_code=404)
    if claim.credential.status != "active":
        return await withdrawn_page(request, store, claim.credential)
    await request_resend(store, publisher, claim.credential)
    await speak_to(request, store, await store.org(claim.credential.org_id), claim.credential.recipient_key)
    return templates.TemplateResponse(request, "claim_renewed.html")


@router.get("/my-badges", response_class=HTMLResponse)
async def my_badges_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "my_badges_request.html")


@router.post("/my-badges", response_class=HTMLResponse)
async def my_badges_request(
    request: Request,
    email: Annotated[EmailStr, Form()],
    background: BackgroundTasks,
    store: StoreDep,
    mailer: MailerDep,
    settings: SettingsDep,
    limits: LimitsDep,
    address: ClientAddress,
) -> HTMLResponse:
    """Emails a sign-in link. The answer is the same, and as quick, whether or not Cairn knows
    the address: the lookup and the email happen after the response, so neither its words nor
    its timing tell who volunteers where."""
    rate_limit(limits.earner_emails, address)
    rate_limit(limits.earner_emails, f"email:{email.lower()}")
    picked = chosen_language(request) or languages.supported(request.cookies.get(LANG_COOKIE))
    background.add_task(_send_sign_in_link, store, mailer, settings, email, (picked, page_language(request)))
    return templates.TemplateResponse(request, "my_badges_sent.html", {"email": email})


async def _remembered_languages(store: Store, email: str) -> list[str | None]:
    """The languages this person's organisations remember for them."""
    found: list[str | None] = []
    for org, credentials, _progress in await store.earner_records(email):
        if credentials:
            contact = await store.recipient(org.id, credentials[0].recipient_key)
            found.append(contact.language if contact else None)
    return found


async def _send_sign_in_link(
    store: Store, mailer: Mailer, settings: Settings, email: str, page: tuple[str | None, str]
) -> None:
    """`page`: the language picked on the page, if any, and the page's own: a pick comes first,
    then the person's remembered language, then the page's (the browser's): the organisations
    are several here, so none of their defaults is theirs."""
    try:
        if not await store.earner_records(email):
            return
        picked, page_lang = page
        language = languages.choose(picked, *await _remembered_languages(store, email), page_lang)
        token = await store.create_sign_in_token(email, timedelta(minutes=SIGN_IN_MINUTES))
        link = f"{settings.public_url}/my-badges/{token}"
        mail = SignInEmail(email, link, SIGN_IN_MINUTES, language)
        await mailer.send(render_sign_in_email(mail, settings.mail_from))
    except Exception:  # after the response: nobody to tell but the log
        log.exception("could not send a my-badges sign-in link")


@router.get("/my-badges/{token}", response_class=HTMLResponse)
async def my_badges(token: str, request: Request, store: StoreDep, count_miss: MissCounter) -> HTMLResponse:
    email = await store.sign_in(token)
    if email is None:
        count_miss()
        return templates.TemplateResponse(request, "my_badges_expired.html", status_code=410)
    records = []
    found = await store.earner_records(email)
    for org, credentials, _progress in found[:1]:
        if credentials:
            await speak_to(request, store, org, credentials[0].recipient_key)
    for org, credentials, progress in found:
        earned = [
            {
                "document": c.document,
                "status": c.status,
                "status_reason": c.status_reason,
                "links": credential_links(c.id.removeprefix("urn:uuid:")),
            }
            for c in credentials
        ]
        next_up = [p for p in progress if not p.awarded]
        records.append({"org": org, "earned": earned, "next_up": next_up})
    return templates.TemplateResponse(request, "my_badges.html", {"email": email, "records": records})


@router.get("/unsubscribe/{slug}/{recipient_key}/{code}", response_class=HTMLResponse)
async def unsubscribe_page(
    slug: str, recipient_key: str, code: str, request: Request, store: StoreDep
) -> HTMLResponse:
    org = await store.org_by_slug(slug)
    know_person(request, None, org.language if org else None)
    return templates.TemplateResponse(request, "unsubscribe.html", {"org": org, "done": False})


@router.post("/unsubscribe/{slug}/{recipient_key}/{code}", response_class=HTMLResponse)
async def unsubscribe(
    slug: str, recipient_key: str, code: str, request: Request, store: StoreDep
) -> HTMLResponse:
    """The page's button, and mail clients' one-click unsubscribe (RFC 8058), both POST here."""
    org = await store.org_by_slug(slug)
    done = org is not None and await store.unsubscribe(org.id, recipient_key, code)
    if done and org:
        await speak_to(request, store, org, recipient_key)
    return templates.TemplateResponse(
        request, "unsubscribe.html", {"org": org, "done": done}, status_code=200 if done else 404
    )
