"""Adding a badge to a wallet app: a VC-API exchange with DIDAuth.

The claim page links to /claim/{token}/wallet, which opens an exchange and sends the phone to
the Learner Credential Wallet with it. The wallet POSTs {} to /exchanges/{id} for a challenge,
then a presentation proving its DID; it gets back the credential issued to that DID.
"""

import json
from datetime import timedelta
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from cairn.credentials.contexts import VC_V2
from cairn.credentials.did_auth import DidAuthError, authenticated_holder, presentation_request
from cairn.usecases.issuing import sign_for_holder
from services.gateway.dependencies import MissCounter, SettingsDep, StoreDep, json_body, templates
from services.gateway.routers.earner import withdrawn_page
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)
LCW_REQUEST = "https://lcw.app/request.html?request="
EXCHANGE_MINUTES = 15


@router.get("/claim/{token}/wallet")
async def open_wallet_exchange(
    token: str, request: Request, store: StoreDep, settings: SettingsDep, count_miss: MissCounter
) -> Response:
    claim = await store.claim(token)
    if claim.credential is None or claim.expired:
        if claim.credential is None:
            count_miss()
        return templates.TemplateResponse(request, "claim_missing.html", status_code=404)
    if claim.credential.status != "active":
        return await withdrawn_page(request, store, claim.credential)
    exchange = await store.create_exchange(claim.credential.id, timedelta(minutes=EXCHANGE_MINUTES))
    public_url = settings.public_url
    offer = {
        "credentialRequestOrigin": public_url,
        "protocols": {"vcapi": f"{public_url}/exchanges/{exchange.id}"},
    }
    return RedirectResponse(LCW_REQUEST + quote(json.dumps(offer, separators=(",", ":"))), status_code=303)


@router.post("/exchanges/{exchange_id}", response_class=JSONResponse)
async def exchange_step(
    exchange_id: str, request: Request, store: StoreDep, settings: SettingsDep, count_miss: MissCounter
) -> JSONResponse:
    """{} → the DIDAuth request; {"verifiablePresentation": …} → the credential, issued to its holder."""
    exchange = await store.exchange(exchange_id)
    if exchange is None:
        count_miss()
        raise HTTPException(404, "no such exchange, or it expired")
    public_url = settings.public_url
    domain = urlsplit(public_url).netloc
    body = await json_body(request)
    if not isinstance(body, dict) or "verifiablePresentation" not in body:
        return JSONResponse(
            presentation_request(exchange.challenge, domain, f"{public_url}/exchanges/{exchange_id}")
        )
    try:
        holder = authenticated_holder(body["verifiablePresentation"], exchange.challenge, domain)
    except DidAuthError as e:
        raise HTTPException(400, str(e)) from e
    if not await store.complete_exchange(exchange_id, holder):
        raise HTTPException(409, "this exchange was used already; open the wallet link again")
    credential = await store.credential(exchange.credential_id)
    if credential is None:
        raise HTTPException(404, "the credential is gone")
    if credential.status != "active":
        raise HTTPException(409, f"the credential is {credential.status}")
    signed = await sign_for_holder(store, credential, holder, public_url)
    return JSONResponse(
        {
            "verifiablePresentation": {
                "@context": [VC_V2],
                "type": ["VerifiablePresentation"],
                "verifiableCredential": [signed],
            }
        }
    )
