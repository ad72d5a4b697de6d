"""The badge builder in the dashboard: a form that writes the API's criteria language (checked by
the same model), the criteria in plain words as it is filled in, a preview of who would receive
the badge now (the engine's dry run, nothing awarded), then Publish; editing a published class
makes a new version, shows what changed and the preview again; every version stays listed with
who holds it. Needs the `badges:write` scope, as POST /v1/badge-classes does.
"""

import base64
import binascii
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cairn.domain.badge_images import badge_svg
from cairn.domain.criteria.wording import describe_class
from cairn.domain.records import ApiKeyInfo
from cairn.domain.svg_sanitise import UnsafeSvg, sanitise_svg
from cairn.usecases import badge_builder
from services.gateway.badge_form import FILTERS, GLYPHS, IMAGE_SHAPES, ROWS, SHAPES, Built, build, values_of
from services.gateway.dependencies import PublisherDep
from services.gateway.routers.badge_classes import MAX_IMAGE_BYTES
from services.gateway.routers.dashboard import Desk, DeskDep

router = APIRouter(prefix="/dashboard/badges", include_in_schema=False)
SCOPE = "badges:write"


def _image(data: bytes) -> tuple[str, bytes]:
    """A PNG, or an SVG cleaned as the API's image upload cleans it; ValueError if neither."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError("the image is over 256 KB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", data
    try:
        return "image/svg+xml", sanitise_svg(data).encode()
    except (UnsafeSvg, UnicodeDecodeError) as e:
        raise ValueError(f"the image must be a PNG or an SVG: {e}") from e


async def _names(desk: Desk, key: ApiKeyInfo) -> dict[str, str]:
    return {b.id: b.name for b in await desk.store.badge_classes(key.org.id)}


async def _form_page(
    desk: Desk, key: ApiKeyInfo, built: Built, image: str = "", status_code: int = 200, **extra: Any
) -> HTMLResponse:
    names = await _names(desk, key)
    wording = describe_class(built.body, names) if built.body else None
    if built.body and not built.values["use_yaml"]:  # the rows, shown in the language they write
        built.values["criteria_yaml"] = badge_builder.criteria_yaml(built.body)
    drawn = badge_svg(
        built.values.get("name") or "Badge",
        key.org.colour,
        glyph=built.values.get("glyph") or None,
        shape=built.values.get("image_shape") or None,
        key=built.values.get("id") or "",
    )
    return desk.page(
        "dashboard_badge_form.html",
        key,
        status_code=status_code,
        v=built.values,
        errors=built.errors,
        wording=wording,
        rows=range(ROWS),
        shapes=SHAPES,
        filters=FILTERS,
        glyphs=GLYPHS,
        image_shapes=IMAGE_SHAPES,
        badge_names=names,
        image_data=image,
        image_src=_data_url(image)
        or "data:image/svg+xml;base64," + base64.b64encode(drawn.encode()).decode(),
        preview=extra.pop("preview", None),
        changes=extra.pop("changes", None),
        **extra,
    )


def _data_url(image: str) -> str:
    if not image:
        return ""
    raw = base64.b64decode(image)
    kind = "image/png" if raw.startswith(b"\x89PNG") else "image/svg+xml"
    return f"data:{kind};base64,{image}"


@router.get("/new", response_class=HTMLResponse)
async def new_badge(desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in(SCOPE)
    built = build({"r0_shape": "hours"}, [])
    built.errors = {}
    return await _form_page(desk, key, built)


@router.get("/{badge_id}", response_class=HTMLResponse)
async def badge_versions(badge_id: str, desk: DeskDep) -> HTMLResponse:
    """Every version of the class, newest first, in plain words, with who holds each."""
    key = await desk.signed_in()
    listed = await badge_builder.versions(desk.store, key.org, badge_id)
    if not listed:
        raise HTTPException(404, "no such badge class")
    names = await _names(desk, key)
    words = {v.badge.version: describe_class(v.badge, names) for v in listed}
    published = desk.request.query_params.get("published", "")
    notice = f"Published version {published}." if published.isdigit() else None
    return desk.page("dashboard_badge.html", key, versions=listed, words=words, notice=notice)


@router.get("/{badge_id}/edit", response_class=HTMLResponse)
async def edit_badge(badge_id: str, desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in(SCOPE)
    badge = await desk.store.badge_class(key.org.id, badge_id)
    if badge is None:
        raise HTTPException(404, "no such badge class")
    built = Built(values_of(badge), body=badge)
    return await _form_page(desk, key, built)


@router.post("/wording")
async def live_wording(request: Request, desk: DeskDep) -> JSONResponse:
    """For the page's script: the plain words and the errors of the form as it stands."""
    form = await request.form()
    key = await desk.checked_form(SCOPE, str(form.get("token", "")))
    names = await _names(desk, key)
    built = build(form, list(names))
    return JSONResponse(
        {"wording": describe_class(built.body, names) if built.body else None, "errors": built.errors}
    )


@router.post("/build", response_model=None)
async def build_badge(
    request: Request,
    desk: DeskDep,
    publisher: PublisherDep,
    token: Annotated[str, Form()],
    action: Annotated[str, Form()] = "preview",
    image_data: Annotated[str, Form()] = "",
    image: UploadFile | None = None,
) -> Response:
    """Preview (who would receive it now, what an edit changes), or Publish a new version."""
    key = await desk.checked_form(SCOPE, token)
    form = await request.form()
    names = await _names(desk, key)
    built = build(form, list(names))
    image_data = await _carried_image(image, image_data, built)
    editing = built.values["editing"]
    latest = await desk.store.badge_class(key.org.id, built.body.id) if built.body else None
    if built.body and latest and editing != built.body.id:
        built.errors["id"] = "a badge with this id exists: edit it from its page, or choose another id"
    if built.body is None or built.errors:
        return await _form_page(desk, key, built, image_data, status_code=422)
    body = built.body
    digest = hashlib.sha256(f"{body.model_dump_json()}|{image_data}".encode()).hexdigest()[:32]
    notice = None
    if action == "publish" and str(form.get("previewed", "")) != digest:
        notice = "The badge changed since its preview: check the preview again, then publish."
    elif action == "publish":
        badge = await badge_builder.publish(desk.store, publisher, key.org, body)
        if image_data:
            content_type, stored = _image(base64.b64decode(image_data))
            await desk.store.set_badge_image(key.org.id, badge.id, content_type, stored)
        return RedirectResponse(f"/dashboard/badges/{badge.id}?published={badge.version}", 303)
    preview = await badge_builder.preview(desk.store, key.org, body)
    changes = badge_builder.changes(latest, body, names | {body.id: body.name}) if latest else None
    if latest and image_data:
        changes = [*(changes or []), badge_builder.Change("image", "as before", "a new upload")]
    return await _form_page(
        desk,
        key,
        built,
        image_data,
        preview=preview,
        changes=changes,
        latest=latest,
        previewed=digest,
        notice=notice,
    )


async def _carried_image(upload: UploadFile | None, carried: str, built: Built) -> str:
    """The uploaded image as base64, carried in the form from the preview to Publish."""
    if upload is not None and upload.filename:
        try:
            _, stored = _image(await upload.read(MAX_IMAGE_BYTES + 1))
        except ValueError as e:
            built.errors["image"] = str(e)
            return ""
        return base64.b64encode(stored).decode()
    if carried:
        try:
            _image(base64.b64decode(carried, validate=True))
        except (ValueError, binascii.Error):
            built.errors["image"] = "the image carried from the preview is damaged: upload it again"
            return ""
    return carried
