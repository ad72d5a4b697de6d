"""What anyone may fetch without a key: credentials and their pages, baked images, VC-JWTs, the
organisations' DID documents and status lists, and the verify API."""

import hashlib
import json
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cairn.adapters.store import Store
from cairn.credentials import vc_jwt
from cairn.credentials.baking import bake_png, bake_svg
from cairn.credentials.did_web import org_did
from cairn.credentials.status_list import Purpose
from cairn.credentials.verification import Report
from cairn.domain.badge_images import BadgeArt, badge_png, draw_svg
from cairn.domain.colour import text_on
from cairn.domain.records import CredentialRecord, Org
from cairn.usecases.issuer_documents import did_document_for
from cairn.usecases.status_changes import status_list_document
from cairn.usecases.verifying import verify
from schemas.admin import CheckResult, VerificationResult
from schemas.awards import credential_id_from
from services.gateway.dependencies import FetcherDep, SettingsDep, StoreDep, json_body, templates
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)


async def stored_credential(store: Store, given_id: str) -> tuple[CredentialRecord, Org, str]:
    """The credential a path names by its `urn:uuid:…` id or bare uuid, its organisation, and
    its bare uuid (for links and file names)."""
    credential = await store.credential(credential_id_from(given_id))
    org = await store.org(credential.org_id) if credential else None
    if credential is None or org is None:
        raise HTTPException(404, "no such credential")
    return credential, org, credential.id.removeprefix("urn:uuid:")


async def drawn_art(store: Store, credential: CredentialRecord, org: Org) -> BadgeArt:
    """The drawn image of a credential: its own name (which says which occurrence of a repeating
    badge it is), the organisation's colour, and the class's glyph and shape."""
    badge = await store.badge_class(org.id, credential.badge_class_id)
    return BadgeArt(
        name=credential.document.get("name", "Badge"),
        colour=org.colour,
        glyph=badge.glyph if badge else None,
        shape=badge.shape if badge else None,
        key=credential.badge_class_id,
    )


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/credentials/{credential_uuid}.json")
async def credential_json(credential_uuid: str, store: StoreDep) -> JSONResponse:
    credential, _, uuid = await stored_credential(store, credential_uuid)
    return JSONResponse(credential.document, headers=_download(f"badge-{uuid}.json"))


@router.get("/credentials/{credential_uuid}.png", responses={200: {"content": {"image/png": {}}}})
async def credential_png(credential_uuid: str, store: StoreDep, download: bool = True) -> Response:
    """The badge image with the signed credential baked in (iTXt openbadgecredential)."""
    credential, org, uuid = await stored_credential(store, credential_uuid)
    art = await drawn_art(store, credential, org)
    png = badge_png(art.name, art.colour, glyph=art.glyph, shape=art.shape, key=art.key)
    headers = _download(f"badge-{uuid}.png") if download else {}
    return Response(bake_png(png, credential.document), media_type="image/png", headers=headers)


@router.get("/credentials/{credential_uuid}.svg", responses={200: {"content": {"image/svg+xml": {}}}})
async def credential_svg(credential_uuid: str, store: StoreDep, download: bool = True) -> Response:
    credential, org, uuid = await stored_credential(store, credential_uuid)
    svg = draw_svg(await drawn_art(store, credential, org))
    headers = _download(f"badge-{uuid}.svg") if download else {}
    return Response(bake_svg(svg, credential.document), media_type="image/svg+xml", headers=headers)


@router.get("/credentials/{credential_uuid}.jwt", responses={200: {"content": {"application/jwt": {}}}})
async def credential_jwt(
    credential_uuid: str, store: StoreDep, settings: SettingsDep, alg: vc_jwt.Algorithm = "RS256"
) -> Response:
    """The credential as a VC-JWT (RS256 or ES256), for verifiers that take JWTs only."""
    credential, org, uuid = await stored_credential(store, credential_uuid)
    key, thumbprint = await store.jwt_key(org.id, alg)
    kid = f"{org_did(settings.public_url, org.slug)}#{thumbprint}"
    return Response(
        vc_jwt.encode(credential.document, key, kid),
        media_type="application/jwt",
        headers=_download(f"badge-{uuid}.jwt"),
    )


@router.get("/credentials/{credential_uuid}", response_class=HTMLResponse)
async def credential_page(
    credential_uuid: str, request: Request, store: StoreDep, settings: SettingsDep, fetch: FetcherDep
) -> HTMLResponse:
    """The public page a shared link opens: the badge and a live verification result."""
    credential, org, uuid = await stored_credential(store, credential_uuid)
    report = await verify(credential.document, fetch)
    public_url = settings.public_url
    return templates.TemplateResponse(
        request,
        "credential.html",
        {
            "credential": credential.document,
            "report": report,
            "verdict": verdict(report),
            "page_url": f"{public_url}/credentials/{uuid}",
            "links": credential_links(uuid),
            "brand": brand_of(org),
        },
    )


@router.post(
    "/v1/verify",
    response_model=VerificationResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "description": "a credential with an embedded proof, or a VC-JWT as a JSON string",
                        "oneOf": [{"type": "object"}, {"type": "string"}],
                        "examples": ["eyJhbGciOiJFUzI1NiIsImtpZCI6IiMxIn0.eyJ2YyI6e319.c2lnbmF0dXJl"],
                    }
                }
            },
        }
    },
)
async def verify_api(request: Request, fetch: FetcherDep, require_status: bool = False) -> VerificationResult:
    """Verifies a credential: a JSON body with an embedded proof, or a VC-JWT as a JSON string.

    A status list that may not (CAIRN_VERIFY_ALLOW_HOSTS) or cannot be fetched leaves the status
    unchecked: outcome valid_status_not_checked, unless `require_status=true` makes it not valid."""
    presented = await json_body(request)
    if not isinstance(presented, dict | str):
        raise RequestValidationError(
            [
                {
                    "type": "dict_type",
                    "loc": ("body",),
                    "msg": "a credential must be a JSON object",
                    "input": None,
                }
            ]
        )
    report = await verify(presented, fetch, require_status=require_status)
    return VerificationResult(
        valid=report.valid,
        outcome=report.outcome,
        status_checked=report.status_checked,
        checks=[
            CheckResult(check=c.name, ok=c.ok, reason=c.reason, checked=c.checked) for c in report.checks
        ],
    )


@router.get("/orgs/{slug}/did.json", responses={200: {"content": {"application/did+json": {}}}})
async def did_json(slug: str, store: StoreDep, settings: SettingsDep) -> JSONResponse:
    document = await did_document_for(store, slug, settings.public_url)
    if document is None:
        raise HTTPException(404, "no such organisation")
    return JSONResponse(
        document, media_type="application/did+json", headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/orgs/{slug}/status/{purpose}", responses={200: {"content": {"application/vc+ld+json": {}}}})
async def status_list_json(
    slug: str, purpose: Purpose, request: Request, store: StoreDep, settings: SettingsDep
) -> JSONResponse:
    """The signed BitstringStatusListCredential; verifiers may cache it for a minute."""
    org = await store.org_by_slug(slug)
    if org is None:
        raise HTTPException(404, "no such organisation")
    document = await status_list_document(store, org, purpose, settings.public_url)
    etag = '"' + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "public, max-age=60", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return JSONResponse(None, status_code=304, headers=headers)
    return JSONResponse(document, media_type="application/vc+ld+json", headers=headers)


def verdict(report: Report) -> str:
    """One word for the page: valid, unchecked (valid, status not checked), revoked, suspended,
    expired, or invalid."""
    if report.valid:
        return "valid" if report.status_checked else "unchecked"
    for check in report.checks:
        if not check.ok and check.name == "status" and check.reason in ("revoked", "suspended"):
            return check.reason
        if not check.ok and check.name == "validity" and check.reason.startswith("expired"):
            return "expired"
    return "invalid"


def brand_of(org: Org | None) -> dict[str, str | None] | None:
    """The organisation's branding for a page: its colour with black or white text on it,
    whichever contrasts more (WCAG, as in the emails), its name and logo."""
    if org is None:
        return None
    return {"colour": org.colour, "ink": text_on(org.colour), "name": org.name, "logo": org.image_url}


def credential_links(credential_uuid: str) -> dict[str, str]:
    base = f"/credentials/{credential_uuid}"
    return {
        "page": base,
        "json": f"{base}.json",
        "png": f"{base}.png",
        "svg": f"{base}.svg",
        "image": f"{base}.svg?download=false",
        "jwt": f"{base}.jwt",
    }


def linkedin_url(credential: dict, org_name: str, page_url: str) -> str:
    """LinkedIn's add-to-profile link with the certification's fields filled in."""
    issued = credential.get("validFrom", "")
    fields = {
        "startTask": "CERTIFICATION_NAME",
        "name": credential.get("name", ""),
        "organizationName": org_name,
        "issueYear": issued[:4],
        "issueMonth": issued[5:7].lstrip("0"),
        "certUrl": page_url,
        "certId": credential.get("id", ""),
    }
    if valid_until := credential.get("validUntil"):
        fields |= {"expirationYear": valid_until[:4], "expirationMonth": valid_until[5:7].lstrip("0")}
    return "https://www.linkedin.com/profile/add?" + urlencode(fields)
