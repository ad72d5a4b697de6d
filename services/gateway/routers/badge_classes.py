"""Badge classes: defining them (each new version goes to Kafka for the aggregator), listing
them, and their images (uploaded, or drawn in the organisation's colour)."""

from fastapi import APIRouter, HTTPException, UploadFile
from fastapi.responses import Response

from cairn.domain.badge_images import badge_svg
from cairn.domain.svg_sanitise import UnsafeSvg, sanitise_svg
from schemas.admin import BadgeClassStored
from schemas.badge_class import BadgeClass, BadgeClassIn
from services.gateway.dependencies import BadgeWriter, PublisherDep, Reader, StoreDep
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(route_class=ParsedOnceRoute)
MAX_IMAGE_BYTES = 256 * 1024


@router.post("/v1/badge-classes", status_code=201, response_model=BadgeClassStored)
async def post_badge_class(
    body: BadgeClassIn, org: BadgeWriter, store: StoreDep, publisher: PublisherDep
) -> BadgeClassStored:
    badge = await store.save_badge_class(org.id, body, org.timezone)
    await publisher.publish(badge)
    return BadgeClassStored(id=badge.id, version=badge.version)


@router.get("/v1/badge-classes", response_model=list[BadgeClass])
async def list_badge_classes(org: Reader, store: StoreDep) -> list[BadgeClass]:
    return await store.badge_classes(org.id)


@router.put("/v1/badge-classes/{badge_id}/image", status_code=204)
async def upload_badge_image(badge_id: str, file: UploadFile, org: BadgeWriter, store: StoreDep) -> Response:
    """A PNG or SVG of at most 256 KB; SVGs are cleaned of scripts and external references."""
    if await store.badge_class(org.id, badge_id) is None:
        raise HTTPException(404, "no such badge class")
    data = await file.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise HTTPException(413, "the image is over 256 KB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type, stored = "image/png", data
    else:
        try:
            content_type, stored = "image/svg+xml", sanitise_svg(data).encode()
        except (UnsafeSvg, UnicodeDecodeError) as e:
            raise HTTPException(422, f"the image must be a PNG or an SVG: {e}") from e
    await store.set_badge_image(org.id, badge_id, content_type, stored)
    return Response(status_code=204)


@router.get("/orgs/{slug}/badges/{badge_id}/image", responses={200: {"content": {"image/svg+xml": {}}}})
async def badge_image(slug: str, badge_id: str, store: StoreDep) -> Response:
    """The uploaded image, or one drawn in the organisation's colour."""
    org = await store.org_by_slug(slug)
    badge = await store.badge_class(org.id, badge_id) if org else None
    if org is None or badge is None:
        raise HTTPException(404, "no such badge")
    uploaded = await store.badge_image(org.id, badge_id)
    headers = {
        "Cache-Control": "public, max-age=300",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    if uploaded is not None:
        return Response(uploaded.data, media_type=uploaded.content_type, headers=headers)
    svg = badge_svg(badge.name, org.colour, glyph=badge.glyph, shape=badge.shape, key=badge.id)
    return Response(svg, media_type="image/svg+xml", headers=headers)
